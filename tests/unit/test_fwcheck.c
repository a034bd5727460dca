#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/fwcheck.h"
#include "probes/iptsave.h"
#include "probes/readfile.h"

#define FIXTURES "tests/fixtures/firewall/"

/* A snapshot whose firewall facts come from a parsed iptables-save text,
 * as the probe makes them, for one interface. */
static struct snapshot *snapshot_of(const char *text, const char *iface, int family)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct firewall *fw = &snap->firewall;
	struct fwrules_ruleset rs;
	struct fwpath_layer layers[4];
	char err[256] = "";
	size_t n;

	assert_non_null(snap);
	assert_int_equal(iptsave_parse(text, strlen(text), family, &rs, err, sizeof(err)), 0);
	strcpy(fw->iptables_save, "/usr/sbin/iptables-nft-save");
	strcpy(fw->ip6tables_save, "/usr/sbin/ip6tables-nft-save");
	strcpy(fw->nft, "/usr/sbin/nft");
	snprintf(fw->ifaces[0], sizeof(fw->ifaces[0]), "%s", iface);
	fw->n_ifaces = 1;
	fw->ipv6 = fw->ipv6_read = family == 6;
	fw->docker = fwrules_find_chain(&rs.filter, "DOCKER") != NULL;
	n = fwpath_layers(&rs, NULL, true, family, layers, 4);
	for (int dir = FWPATH_OUT; dir <= FWPATH_BACK; dir++)
		assert_int_equal(firewall_decide(fw, layers, n, iface, family,
		                                 (enum fwpath_direction)dir, "eth0",
		                                 family == 6 ? "fd00::/64" : "10.100.0.0/24"),
		                 0);
	fwrules_ruleset_free(&rs);
	return snap;
}

static void test_docker_replies(void **state)
{
	struct check c = {.n_fix = 0};
	struct snapshot *snap;
	size_t len;
	char *buf;

	(void)state;
	assert_int_equal(readfile_read(FIXTURES "docker-wg.txt", 1 << 20, &buf, &len), 0);
	snap = snapshot_of(buf, "wg0", 4);
	assert_true(fwcheck_forward(NULL, snap, &c));
	assert_int_equal(c.status, CHECK_CRITICAL);
	assert_non_null(strstr(c.summary, "FORWARD policy is DROP and no rule accepts replies to "
	                                  "wg0 (Docker's chains are there"));
	assert_non_null(strstr(c.summary, "wg0 out: FORWARD rule 7 '-A FORWARD -i wg0 -j ACCEPT'"));
	assert_int_equal(c.n_fix, 1);
	assert_string_equal(c.fix[0], "/usr/sbin/iptables-nft -I FORWARD 1 -o wg0 -j ACCEPT");
	assert_non_null(strstr(c.hint, "PostUp = iptables -A FORWARD -o %i -j ACCEPT / PostDown = "
	                               "iptables -D FORWARD -o %i -j ACCEPT"));
	/* No IPv6 in the VPN: no IPv6 check at all. */
	assert_false(fwcheck_forward6(NULL, snap, &c));
	free(snap);
	free(buf);
}

/* Outside text in a fix is one shell word: an interface named like a
 * command substitution stays a name. */
static void test_names_quoted(void **state)
{
	struct check c = {.n_fix = 0};
	struct snapshot *snap;

	(void)state;
	snap = snapshot_of("*filter\n:FORWARD DROP [0:0]\nCOMMIT\n", "wg$(id)", 4);
	assert_true(fwcheck_forward(NULL, snap, &c));
	assert_int_equal(c.status, CHECK_CRITICAL);
	assert_int_equal(c.n_fix, 2);
	assert_string_equal(c.fix[0], "/usr/sbin/iptables-nft -I FORWARD 1 -i 'wg$(id)' -j ACCEPT");
	assert_string_equal(c.fix[1], "/usr/sbin/iptables-nft -I FORWARD 1 -o 'wg$(id)' -j ACCEPT");
	free(snap);
}

static void test_ipv6_check(void **state)
{
	struct check c = {.n_fix = 0};
	struct snapshot *snap;

	(void)state;
	snap = snapshot_of("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i wg0 -j ACCEPT\n"
	                   "-A FORWARD -o wg0 -j ACCEPT\nCOMMIT\n",
	                   "wg0", 6);
	assert_true(fwcheck_forward6(NULL, snap, &c));
	assert_int_equal(c.status, CHECK_OK);
	assert_int_equal(c.n_fix, 0);
	assert_non_null(strstr(c.summary, "IPv6 forwarding accepted both ways"));
	free(snap);
	snap = snapshot_of("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i wg0 -j ACCEPT\nCOMMIT\n",
	                   "wg0", 6);
	assert_true(fwcheck_forward6(NULL, snap, &c));
	assert_int_equal(c.status, CHECK_CRITICAL);
	assert_string_equal(c.fix[0], "/usr/sbin/ip6tables-nft -I FORWARD 1 -o wg0 -j ACCEPT");
	assert_non_null(strstr(c.hint, "ip6tables -A FORWARD -o %i -j ACCEPT"));
	/* Not read: UNKNOWN, never OK. */
	snap->firewall.ipv6_read = false;
	assert_true(fwcheck_forward6(NULL, snap, &c));
	assert_int_equal(c.status, CHECK_UNKNOWN);
	free(snap);
}

/* The MASQUERADE rule to delete is given back word by word, quoted. */
static void test_uplink_fix_quotes_rule(void **state)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct firewall *fw = &snap->firewall;
	struct check c = {.n_fix = 0};

	(void)state;
	assert_non_null(snap);
	strcpy(fw->iptables_save, "/usr/sbin/iptables-legacy-save");
	fw->masq_found = true;
	strcpy(fw->masq_table, "nat");
	strcpy(fw->masq_chain, "POSTROUTING");
	fw->masq_rule_number = 1;
	strcpy(fw->masq_rule,
	       "-A POSTROUTING -o enp1s0 -m comment --comment \"it's \\\"$(id)\\\"\" "
	       "-j MASQUERADE");
	strcpy(fw->masq_out, "enp1s0");
	fw->default_route = true;
	strcpy(fw->default_if, "enP7s7");
	assert_true(fwcheck_uplink(NULL, snap, &c));
	assert_int_equal(c.status, CHECK_CRITICAL);
	assert_int_equal(c.n_fix, 2);
	assert_string_equal(c.fix[0],
	                    "/usr/sbin/iptables-legacy -t nat -D POSTROUTING -o enp1s0 -m "
	                    "comment --comment 'it'\\''s \"$(id)\"' -j MASQUERADE");
	assert_string_equal(
	    c.fix[1], "/usr/sbin/iptables-legacy -t nat -A POSTROUTING -o enP7s7 -j MASQUERADE");
	free(snap);
}

/* The MASQUERADE that is missing goes first, for the VPN's network only. */
static void test_masquerade_fix(void **state)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct firewall *fw = &snap->firewall;
	struct check c = {.n_fix = 0};

	(void)state;
	assert_non_null(snap);
	strcpy(fw->iptables_save, "/usr/sbin/iptables-nft-save");
	strcpy(fw->vpn_subnet, "10.100.0.0/24");
	strcpy(fw->default_if, "enP7s7");
	assert_true(fwcheck_masquerade(NULL, snap, &c));
	assert_int_equal(c.status, CHECK_CRITICAL);
	assert_int_equal(c.n_fix, 1);
	assert_string_equal(c.fix[0], "/usr/sbin/iptables-nft -t nat -I POSTROUTING 1 -s "
	                              "10.100.0.0/24 -o enP7s7 -j MASQUERADE");
	assert_non_null(strstr(c.hint, "PostUp = iptables -t nat -I POSTROUTING -s 10.100.0.0/24 "
	                               "-o enP7s7 -j MASQUERADE / PostDown = iptables -t nat -D "
	                               "POSTROUTING -s 10.100.0.0/24 -o enP7s7 -j MASQUERADE"));
	free(snap);
}

static void test_tool(void **state)
{
	char buf[64];

	(void)state;
	fwcheck_tool("/usr/sbin/iptables-nft-save", "iptables", buf, sizeof(buf));
	assert_string_equal(buf, "/usr/sbin/iptables-nft");
	fwcheck_tool("/opt/fake/dump-rules", "iptables", buf, sizeof(buf));
	assert_string_equal(buf, "iptables");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_replies), cmocka_unit_test(test_names_quoted),
	    cmocka_unit_test(test_ipv6_check),     cmocka_unit_test(test_uplink_fix_quotes_rule),
	    cmocka_unit_test(test_masquerade_fix), cmocka_unit_test(test_tool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
