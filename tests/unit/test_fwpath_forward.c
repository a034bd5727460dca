/* probes/fwpath.c on the forward path: both directions (out: a VPN
 * client's first packet to the uplink; back: its replies), both families,
 * Docker, ufw, native nft, conditional rules, RETURN and goto, and the
 * linear cost on a diamond of 64 chains. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/fwpath.h"
#include "probes/iptsave.h"
#include "probes/nftjson.h"
#include "probes/readfile.h"

#define FIXTURES "tests/fixtures/firewall/"

static char *read_fixture(const char *name, size_t *len)
{
	char path[256], *buf;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	assert_int_equal(readfile_read(path, 1 << 22, &buf, len), 0);
	return buf;
}

static void parse_text(const char *text, int family, struct fwrules_ruleset *rs)
{
	char err[256] = "";

	assert_int_equal(iptsave_parse(text, strlen(text), family, rs, err, sizeof(err)), 0);
}

/* The fate of the packets of one direction in FORWARD. */
static struct fwpath_decision decide(const struct fwrules_ruleset *rs, enum fwpath_direction dir,
                                     const char *wg, const char *uplink, const char *vpn)
{
	const struct fwrules_chain *fwd = fwrules_find_chain(&rs->filter, "FORWARD");
	struct fwpath_packet pk;
	struct fwpath_decision d;

	assert_non_null(fwd);
	fwpath_packet_for(dir, rs->family, wg, uplink, vpn, &pk);
	assert_int_equal(fwpath_decide(&rs->filter, fwd, &pk, &d), 0);
	return d;
}

static void assert_decided_by(const struct fwpath_decision *d, enum fwpath_result result,
                              const char *chain, int rule_number)
{
	assert_int_equal(d->result, result);
	assert_string_equal(d->chain->name, chain);
	assert_int_equal(d->rule ? (int)d->rule_index + 1 : 0, rule_number);
}

/* Docker's DROP policy with the guide's PostUp only: out is accepted, the
 * replies are not. */
static void test_docker_both_directions(void **state)
{
	struct fwrules_ruleset rs;
	struct fwpath_decision d;
	size_t len;
	char *buf = read_fixture("docker-wg.txt", &len), err[256] = "";

	(void)state;
	assert_int_equal(iptsave_parse(buf, len, 4, &rs, err, sizeof(err)), 0);
	assert_string_equal(rs.backend, "nf_tables");
	d = decide(&rs, FWPATH_OUT, "wg0", "enP7s7", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "FORWARD", 7);
	assert_true(d.after_docker);
	d = decide(&rs, FWPATH_BACK, "wg0", "enP7s7", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_POLICY_DROPS, "FORWARD", 0);
	fwrules_ruleset_free(&rs);
	free(buf);
}

/* ufw with DEFAULT_FORWARD_POLICY="DROP": replies pass by its conntrack
 * rule; the way out only with a route rule. */
static void test_ufw(void **state)
{
	static const char base[] = "*filter\n"
	                           ":FORWARD DROP [0:0]\n"
	                           ":ufw-before-logging-forward - [0:0]\n"
	                           ":ufw-before-forward - [0:0]\n"
	                           ":ufw-user-forward - [0:0]\n"
	                           ":ufw-after-forward - [0:0]\n"
	                           ":ufw-reject-forward - [0:0]\n"
	                           "-A FORWARD -j ufw-before-logging-forward\n"
	                           "-A FORWARD -j ufw-before-forward\n"
	                           "-A FORWARD -j ufw-after-forward\n"
	                           "-A FORWARD -j ufw-reject-forward\n"
	                           "-A ufw-before-forward -m conntrack --ctstate "
	                           "RELATED,ESTABLISHED -j ACCEPT\n"
	                           "-A ufw-before-forward -p icmp -m icmp --icmp-type 3 -j ACCEPT\n"
	                           "-A ufw-before-forward -j ufw-user-forward\n"
	                           "%s"
	                           "COMMIT\n";
	char text[2048];
	struct fwrules_ruleset rs;
	struct fwpath_decision d;

	(void)state;
	snprintf(text, sizeof(text), base, "");
	parse_text(text, 4, &rs);
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_POLICY_DROPS, "FORWARD", 0);
	d = decide(&rs, FWPATH_BACK, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "ufw-before-forward", 1);
	fwrules_ruleset_free(&rs);

	/* ufw route allow in on wg0 out on eth0 */
	snprintf(text, sizeof(text), base, "-A ufw-user-forward -i wg0 -o eth0 -j ACCEPT\n");
	parse_text(text, 4, &rs);
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "ufw-user-forward", 1);
	/* The rule names eth0: traffic leaving by another uplink is not it. */
	d = decide(&rs, FWPATH_OUT, "wg0", "eth1", "10.100.0.0/24");
	assert_int_equal(d.result, FWPATH_POLICY_DROPS);
	fwrules_ruleset_free(&rs);
}

/* A rule for some packets only (DNS, an address range partly outside the
 * VPN) never decides; a DROP rule before the ACCEPT does. */
static void test_conditional_and_earlier_drop(void **state)
{
	struct fwrules_ruleset rs;
	struct fwpath_decision d;

	(void)state;
	parse_text("*filter\n:FORWARD DROP [0:0]\n"
	           "-A FORWARD -i wg0 -p udp -m udp --dport 53 -j ACCEPT\n"
	           "-A FORWARD -i wg0 -s 10.100.0.0/25 -j ACCEPT\n"
	           "-A FORWARD -o wg0 -m conntrack --ctstate NEW -j ACCEPT\n"
	           "-A FORWARD -o wg0 -m conntrack ! --ctstate NEW -j DROP\n"
	           "COMMIT\n",
	           4, &rs);
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_POLICY_DROPS, "FORWARD", 0);
	/* Replies are ESTABLISHED: not NEW, so the negated match drops them. */
	d = decide(&rs, FWPATH_BACK, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_RULE_DROPS, "FORWARD", 4);
	fwrules_ruleset_free(&rs);

	parse_text("*filter\n:FORWARD ACCEPT [0:0]\n"
	           "-A FORWARD -i wg+ -j DROP\n"
	           "-A FORWARD -i wg0 -j ACCEPT\n"
	           "COMMIT\n",
	           4, &rs);
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_RULE_DROPS, "FORWARD", 1);
	d = decide(&rs, FWPATH_BACK, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_POLICY_ACCEPTS, "FORWARD", 0);
	fwrules_ruleset_free(&rs);
}

/* The far end of VPN traffic is any host on the internet: a rule for a LAN
 * range is not about it, a negated one is about all of it (Docker's
 * DOCKER-USER hardening drops the replies). */
static void test_internet_side(void **state)
{
	struct fwrules_ruleset rs;
	struct fwpath_decision d;

	(void)state;
	parse_text("*filter\n:FORWARD DROP [0:0]\n:DOCKER-USER - [0:0]\n"
	           "-A FORWARD -j DOCKER-USER\n"
	           "-A FORWARD -i wg0 -d 192.168.1.0/24 -j DROP\n"
	           "-A FORWARD -i wg0 -d 8.8.8.0/24 -j DROP\n"
	           "-A FORWARD -i wg0 -j ACCEPT\n"
	           "-A FORWARD -o wg0 -j ACCEPT\n"
	           "-A DOCKER-USER -i eth0 ! -s 192.168.0.0/16 -j DROP\n"
	           "-A DOCKER-USER -j RETURN\n"
	           "COMMIT\n",
	           4, &rs);
	/* Out: the LAN-only DROP is not about the internet, the 8.8.8.0/24
	 * one about some of it: the ACCEPT decides. */
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "FORWARD", 4);
	d = decide(&rs, FWPATH_BACK, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_RULE_DROPS, "DOCKER-USER", 1);
	fwrules_ruleset_free(&rs);
}

/* RETURN ends a chain for the packets it matches; -g returns to the caller
 * of the chain that went there. */
static void test_return_and_goto(void **state)
{
	struct fwrules_ruleset rs;
	struct fwpath_decision d;

	(void)state;
	parse_text("*filter\n:FORWARD DROP [0:0]\n:SUB - [0:0]\n"
	           "-A FORWARD -j SUB\n"
	           "-A FORWARD -i wg0 -j ACCEPT\n"
	           "-A SUB -i wg0 -j RETURN\n"
	           "-A SUB -j DROP\n"
	           "COMMIT\n",
	           4, &rs);
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "FORWARD", 2);
	d = decide(&rs, FWPATH_BACK, "wg0", "eth0", "");
	assert_decided_by(&d, FWPATH_RULE_DROPS, "SUB", 2);
	fwrules_ruleset_free(&rs);

	parse_text("*filter\n:FORWARD DROP [0:0]\n:G - [0:0]\n"
	           "-A FORWARD -g G\n"
	           "-A FORWARD -j ACCEPT\n"
	           "-A G -o wg0 -j ACCEPT\n"
	           "COMMIT\n",
	           4, &rs);
	d = decide(&rs, FWPATH_BACK, "wg0", "eth0", "");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "G", 1);
	/* Out falls off G: FORWARD ends there, its rule 2 is not reached. */
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "");
	assert_decided_by(&d, FWPATH_POLICY_DROPS, "FORWARD", 0);
	fwrules_ruleset_free(&rs);
}

/* 64 user chains, each jumping four times to the next: 4^64 paths, one
 * walk per chain. */
static char *diamond(const char *table, const char *base, const char *last_rule)
{
	size_t cap = 64 * 200 + 1024, n = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	n += (size_t)snprintf(buf + n, cap - n, "*%s\n:%s DROP [0:0]\n", table, base);
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(buf + n, cap - n, ":C%d - [0:0]\n", i);
	n += (size_t)snprintf(buf + n, cap - n, "-A %s -j C0\n", base);
	for (int i = 0; i < 63; i++)
		for (int j = 0; j < 4; j++)
			n += (size_t)snprintf(buf + n, cap - n, "-A C%d -j C%d\n", i, i + 1);
	n += (size_t)snprintf(buf + n, cap - n, "-A C63 %s\nCOMMIT\n", last_rule);
	return buf;
}

static void test_diamond_is_linear(void **state)
{
	char *text = diamond("filter", "FORWARD", "-s 10.100.0.0/24 -i wg0 -j ACCEPT");
	struct fwrules_ruleset rs;
	struct fwpath_decision d;
	struct fwpath_masq m;

	(void)state;
	parse_text(text, 4, &rs);
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "C63", 1);
	assert_true(d.steps < 300);
	d = decide(&rs, FWPATH_BACK, "wg0", "eth0", "10.100.0.0/24");
	assert_decided_by(&d, FWPATH_POLICY_DROPS, "FORWARD", 0);
	/* Every chain's four jumps: each looked at once, each chain walked once. */
	assert_true(d.steps <= 64 * 4 + 1);
	fwrules_ruleset_free(&rs);
	free(text);

	text = diamond("nat", "POSTROUTING", "-s 10.100.0.0/24 -o eth0 -j MASQUERADE");
	parse_text(text, 4, &rs);
	assert_int_equal(fwpath_find_masquerade(&rs.nat, fwrules_find_chain(&rs.nat, "POSTROUTING"),
	                                        "10.100.0.0/24", "eth0", &m),
	                 0);
	assert_true(m.found);
	assert_string_equal(m.chain->name, "C63");
	fwrules_ruleset_free(&rs);
	free(text);
}

/* A loop (refused by the kernel, so only a broken dump has one) and
 * nesting past the limit: "too complex", never a guess. */
static void test_too_complex(void **state)
{
	size_t cap = 400 * 40 + 256, n = 0;
	char *buf = malloc(cap);
	struct fwrules_ruleset rs;
	struct fwpath_decision d;

	(void)state;
	parse_text("*filter\n:FORWARD ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n"
	           "-A FORWARD -j A\n-A A -j B\n-A B -j A\nCOMMIT\n",
	           4, &rs);
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "");
	assert_int_equal(d.result, FWPATH_TOO_COMPLEX);
	fwrules_ruleset_free(&rs);

	assert_non_null(buf);
	n += (size_t)snprintf(buf + n, cap - n, "*filter\n:FORWARD ACCEPT [0:0]\n");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(buf + n, cap - n, ":D%d - [0:0]\n", i);
	n += (size_t)snprintf(buf + n, cap - n, "-A FORWARD -j D0\n");
	for (int i = 0; i < 299; i++)
		n += (size_t)snprintf(buf + n, cap - n, "-A D%d -j D%d\n", i, i + 1);
	snprintf(buf + n, cap - n, "COMMIT\n");
	parse_text(buf, 4, &rs);
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "");
	assert_int_equal(d.result, FWPATH_TOO_COMPLEX);
	fwrules_ruleset_free(&rs);
	free(buf);
}

static void test_ipv6(void **state)
{
	struct fwrules_ruleset rs;
	struct fwpath_decision d;

	(void)state;
	parse_text("# Generated by ip6tables-save v1.8.9 (nf_tables) on Tue Dec  1 18:00:00 2026\n"
	           "*filter\n:FORWARD DROP [0:0]\n"
	           "-A FORWARD -s 10.100.0.0/24 -i wg0 -j ACCEPT\n"
	           "-A FORWARD -s fd00:100::/64 -i wg0 -j ACCEPT\n"
	           "-A FORWARD -d fd00:100::/64 -m state --state ESTABLISHED -j ACCEPT\n"
	           "COMMIT\n",
	           6, &rs);
	assert_int_equal(rs.family, 6);
	assert_string_equal(rs.backend, "nf_tables");
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "fd00:100::/64");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "FORWARD", 2);
	d = decide(&rs, FWPATH_BACK, "wg0", "eth0", "fd00:100::/64");
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "FORWARD", 3);
	/* A client network only partly inside the rule's: some packets. */
	d = decide(&rs, FWPATH_OUT, "wg0", "eth0", "fd00::/8");
	assert_int_equal(d.result, FWPATH_POLICY_DROPS);
	fwrules_ruleset_free(&rs);
}

/* Native nft: every base chain by priority, evaluated beside the iptables
 * view. */
static void test_native_nft(void **state)
{
	struct fwrules_tables nft;
	struct fwpath_layer layers[8];
	struct fwpath_decision d;
	struct fwpath_packet pk;
	struct fwpath_masq m = {.found = false};
	size_t len, n;
	char *buf = read_fixture("nft-native.json", &len), err[256] = "";

	(void)state;
	assert_int_equal(nftjson_parse(buf, len, &nft, err, sizeof(err)), 0);
	n = fwpath_layers(NULL, &nft, true, 4, layers, 8);
	assert_int_equal(n, 2);
	assert_string_equal(layers[0].chain->name, "gate");
	assert_string_equal(layers[1].chain->name, "post"); /* postrouting, priority 300 */
	fwpath_packet_for(FWPATH_OUT, 4, "wg0", "eth0", "10.100.0.0/24", &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "vpn", 2);
	assert_int_equal(fwpath_decide(layers[1].table, layers[1].chain, &pk, &d), 0);
	assert_int_equal(d.result, FWPATH_POLICY_ACCEPTS);
	fwpath_packet_for(FWPATH_BACK, 4, "wg0", "eth0", "10.100.0.0/24", &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "gate", 3);
	/* "oifname wg0 meta l4proto tcp drop": for some packets only. */
	assert_int_equal(fwpath_decide(layers[1].table, layers[1].chain, &pk, &d), 0);
	assert_int_equal(d.result, FWPATH_POLICY_ACCEPTS);
	/* A client from outside the VPN network is dropped in chain vpn. */
	fwpath_packet_for(FWPATH_OUT, 4, "wg0", "eth0", "192.168.9.0/24", &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	assert_decided_by(&d, FWPATH_RULE_DROPS, "vpn", 1);

	n = fwpath_layers(NULL, &nft, true, 6, layers, 8);
	assert_int_equal(n, 1); /* table ip late is not IPv6's */
	fwpath_packet_for(FWPATH_OUT, 6, "wg0", "eth0", "fd00:100::/64", &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	assert_decided_by(&d, FWPATH_RULE_ACCEPTS, "gate", 2);

	for (size_t i = 0; i < nft.count; i++)
		if (strcmp(nft.items[i].name, "hostfw") == 0)
			assert_int_equal(
			    fwpath_find_masquerade(&nft.items[i],
			                           fwrules_find_chain(&nft.items[i], "outnat"),
			                           "10.100.0.0/24", "eth0", &m),
			    0);
	assert_true(m.found);
	assert_string_equal(m.rule->text, "ip saddr 10.100.0.0/24 oifname \"eth0\" masquerade");
	fwrules_tables_free(&nft);
	free(buf);
}

/* iptables-nft's own tables appear in nft's ruleset too: not twice. */
static void test_xt_tables_not_twice(void **state)
{
	struct fwrules_tables nft;
	struct fwrules_ruleset rs;
	struct fwpath_layer layers[8];
	size_t len, n;
	char *buf = read_fixture("nft-iptables-nft.json", &len), err[256] = "";
	char *ipt = read_fixture("docker-wg.txt", &len);

	(void)state;
	assert_int_equal(nftjson_parse(buf, strlen(buf), &nft, err, sizeof(err)), 0);
	assert_int_equal(iptsave_parse(ipt, len, 4, &rs, err, sizeof(err)), 0);
	/* nf_tables backend: the ip filter table is iptables' own view. */
	n = fwpath_layers(&rs, &nft, true, 4, layers, 8);
	assert_int_equal(n, 1);
	assert_false(layers[0].native);
	assert_true(
	    fwpath_is_xt_chain(&nft.items[0], fwrules_find_chain(&nft.items[0], "FORWARD")));
	/* A legacy view: the nft table of that name is someone else's. */
	n = fwpath_layers(&rs, &nft, false, 4, layers, 8);
	assert_int_equal(n, 2);
	assert_true(layers[1].native);
	assert_string_equal(layers[1].chain->name, "FORWARD");
	fwrules_tables_free(&nft);
	fwrules_ruleset_free(&rs);
	free(buf);
	free(ipt);

	/* Debian's nftables.conf: "table ip nat { chain postrouting ... }" is
	 * native, whatever the table's name. */
	buf = "{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"nat\"}}, "
	      "{\"chain\": {\"family\": \"ip\", \"table\": \"nat\", \"name\": "
	      "\"postrouting\", \"type\": \"nat\", \"hook\": \"postrouting\", \"prio\": 100, "
	      "\"policy\": \"accept\"}}]}";
	assert_int_equal(nftjson_parse(buf, strlen(buf), &nft, err, sizeof(err)), 0);
	assert_true(fwpath_is_xt_table(&nft.items[0]));
	assert_false(fwpath_is_xt_chain(&nft.items[0], &nft.items[0].chains[0]));
	fwrules_tables_free(&nft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_both_directions),
	    cmocka_unit_test(test_ufw),
	    cmocka_unit_test(test_conditional_and_earlier_drop),
	    cmocka_unit_test(test_internet_side),
	    cmocka_unit_test(test_return_and_goto),
	    cmocka_unit_test(test_diamond_is_linear),
	    cmocka_unit_test(test_too_complex),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_native_nft),
	    cmocka_unit_test(test_xt_tables_not_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
