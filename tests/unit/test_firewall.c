#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/firewall.h"
#include "probes/readfile.h"

#define FIXTURES "tests/fixtures/firewall/"

static int parse_fixture(const char *name, struct firewall_ruleset *rs, char *err, size_t errlen)
{
	char path[256];
	char *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	assert_int_equal(readfile_read(path, 1 << 20, &buf, &len), 0);
	r = firewall_parse(buf, len, rs, err, errlen);
	free(buf);
	return r;
}

static void test_standard(void **state)
{
	struct firewall_ruleset rs;
	const struct firewall_chain *c;
	struct firewall_forward f;
	struct firewall fw = {.masq_found = false};
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fixture("standard.txt", &rs, err, sizeof(err)), 0);
	assert_string_equal(rs.backend, "nf_tables");
	assert_true(rs.filter.present);
	assert_true(rs.nat.present);
	assert_int_equal(rs.n_rules, 2);
	c = firewall_find_chain(&rs.filter, "FORWARD");
	assert_non_null(c);
	assert_string_equal(c->policy, "ACCEPT");
	assert_int_equal(c->n_rules, 1);
	assert_string_equal(c->rules[0].in, "wg-dgx-spark");
	assert_string_equal(c->rules[0].target, "ACCEPT");
	assert_string_equal(c->rules[0].text, "-A FORWARD -i wg-dgx-spark -j ACCEPT");
	assert_int_equal(c->rules[0].line, 6);
	assert_false(c->rules[0].conditional);

	firewall_forward_decide(&rs, "wg-dgx-spark", "enP7s7", "10.100.0.0/24", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_RULE_ACCEPTS);
	assert_int_equal(f.rule_number, 1);
	assert_false(f.after_docker);
	/* Another interface falls through to the ACCEPT policy. */
	firewall_forward_decide(&rs, "wg1", "enP7s7", "", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_POLICY_ACCEPTS);

	assert_true(firewall_find_masquerade(&rs, "10.100.0.0/24", "enP7s7", &fw));
	assert_string_equal(fw.masq_out, "enP7s7");
	assert_int_equal(fw.masq_rule_number, 1);
	firewall_ruleset_free(&rs);
}

static void test_docker_counters_comments(void **state)
{
	struct firewall_ruleset rs;
	const struct firewall_chain *c;
	struct firewall_forward f;
	struct firewall fw = {.masq_found = false};
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fixture("docker-counters.txt", &rs, err, sizeof(err)), 0);
	assert_string_equal(rs.backend, "legacy");
	c = firewall_find_chain(&rs.filter, "FORWARD");
	assert_non_null(c);
	assert_string_equal(c->policy, "DROP");
	assert_int_equal(c->n_rules, 8);
	assert_true(c->rules[0].has_counters);
	assert_int_equal(c->rules[0].packets, 120);
	assert_int_equal(c->rules[0].bytes, 7200);
	/* "! -o docker0" */
	assert_string_equal(c->rules[4].out, "docker0");
	assert_true(c->rules[4].out_neg);
	assert_false(c->rules[4].in_neg);
	/* Quoted comments with escaped quotes and backslashes. */
	assert_string_equal(c->rules[6].comment, "spoofed \"VPN\" source");
	assert_true(c->rules[6].src_neg);
	assert_false(c->rules[6].conditional);
	assert_string_equal(c->rules[7].comment, "wg-quick: allow \\ forward");
	assert_true(c->rules[2].conditional); /* conntrack */
	assert_string_equal(firewall_find_chain(&rs.filter, "DOCKER")->policy, "");
	/* The mangle table is read past, not kept. */
	assert_int_equal(rs.n_rules, 13 + 4);

	firewall_forward_decide(&rs, "wg0", "enP7s7", "10.100.0.0/24", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_RULE_ACCEPTS);
	assert_string_equal(f.chain, "FORWARD");
	assert_int_equal(f.rule_number, 8);
	assert_true(f.after_docker);
	/* From outside the VPN subnet the spoofing rule drops first. */
	firewall_forward_decide(&rs, "wg0", "enP7s7", "192.168.7.0/24", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_RULE_DROPS);
	assert_int_equal(f.rule_number, 7);
	/* Nothing accepts another interface: the DROP policy decides. */
	firewall_forward_decide(&rs, "wg9", "enP7s7", "10.100.0.0/24", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_POLICY_DROPS);

	/* Docker's MASQUERADE is for 172.17.0.0/16: the SNAT one covers the VPN. */
	assert_true(firewall_find_masquerade(&rs, "10.100.0.0/24", "", &fw));
	assert_int_equal(fw.masq_rule_number, 2);
	assert_string_equal(fw.masq_out, "enP7s7");
	assert_string_equal(
	    fw.masq_rule,
	    "-A POSTROUTING -s 10.100.0.0/24 -o enP7s7 -j SNAT --to-source 192.168.1.20");
	firewall_ruleset_free(&rs);
}

static void test_truncated_and_malformed(void **state)
{
	static const struct {
		const char *file;
		int r;
		const char *message;
	} cases[] = {
	    {"truncated.txt", -EBADMSG, "output ends inside table *nat (no COMMIT): truncated"},
	    {"truncated-line.txt", -EBADMSG,
	     "line 4: output ends in the middle of a line: truncated"},
	    {"bad-quote.txt", -EINVAL, "line 3: unterminated quote or overlong argument"},
	    {"undeclared.txt", -EINVAL, "line 3: rule for undeclared chain NOSUCH"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct firewall_ruleset rs = {.n_rules = 4242};
		char err[256] = "";

		assert_int_equal(parse_fixture(cases[i].file, &rs, err, sizeof(err)), cases[i].r);
		assert_string_equal(err, cases[i].message);
		assert_int_equal(rs.n_rules, 4242); /* untouched on error */
	}
}

static void test_empty_and_legacy_warning(void **state)
{
	struct firewall_ruleset rs;
	struct firewall_forward f;
	struct firewall fw = {.masq_found = true};
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fixture("empty-nft.txt", &rs, err, sizeof(err)), 0);
	assert_true(rs.legacy_tables_present);
	assert_false(rs.filter.present);
	/* No filter table: nothing filters. No nat table: nothing masquerades. */
	firewall_forward_decide(&rs, "wg0", "", "", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_POLICY_ACCEPTS);
	assert_false(firewall_find_masquerade(&rs, "", "", &fw));
	assert_false(fw.masq_found);
	firewall_ruleset_free(&rs);
	assert_int_equal(firewall_parse("", 0, &rs, err, sizeof(err)), 0);
	firewall_ruleset_free(&rs);
}

static void test_5000_rules(void **state)
{
	size_t cap = 5000 * 96 + 4096, len = 0;
	char *buf = malloc(cap), err[256] = "";
	struct firewall_ruleset rs;
	struct firewall_forward f;

	(void)state;
	assert_non_null(buf);
	len += (size_t)snprintf(buf + len, cap - len,
	                        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n"
	                        ":OUTPUT ACCEPT [0:0]\n");
	for (int i = 0; i < 4999; i++)
		len +=
		    (size_t)snprintf(buf + len, cap - len,
		                     "-A FORWARD -s 192.168.%d.%d/32 -p tcp -m tcp --dport %d -j "
		                     "DROP\n",
		                     i / 250, i % 250, 1000 + i);
	len += (size_t)snprintf(buf + len, cap - len, "-A FORWARD -i wg0 -j ACCEPT\nCOMMIT\n");
	assert_int_equal(firewall_parse(buf, len, &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n_rules, 5000);
	firewall_forward_decide(&rs, "wg0", "eth0", "10.100.0.0/24", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_RULE_ACCEPTS);
	assert_int_equal(f.rule_number, 5000);
	firewall_ruleset_free(&rs);
	free(buf);
}

static void test_goto_and_return(void **state)
{
	const char *text = "*filter\n"
	                   ":FORWARD DROP [0:0]\n"
	                   ":WG - [0:0]\n"
	                   ":EMPTY - [0:0]\n"
	                   "-A FORWARD -g EMPTY\n"
	                   "-A FORWARD -i wg0 -j ACCEPT\n"
	                   "COMMIT\n";
	struct firewall_ruleset rs;
	struct firewall_forward f;
	char err[256] = "";

	(void)state;
	/* -g: the end of EMPTY ends FORWARD too; the ACCEPT is never reached. */
	assert_int_equal(firewall_parse(text, strlen(text), &rs, err, sizeof(err)), 0);
	firewall_forward_decide(&rs, "wg0", "", "", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_POLICY_DROPS);
	firewall_ruleset_free(&rs);
}

static void test_iface_patterns(void **state)
{
	(void)state;
	assert_true(firewall_iface_matches("wg+", "wg0"));
	assert_true(firewall_iface_matches("+", "anything"));
	assert_true(firewall_iface_matches("eth0", "eth0"));
	assert_false(firewall_iface_matches("eth0", "eth01"));
	assert_false(firewall_iface_matches("wg+", "eth0"));
}

static void test_commands(void **state)
{
	struct firewall_expectation e;

	(void)state;
	firewall_parse_command("iptables -A FORWARD -i %i -j ACCEPT", "wg-dgx-spark", &e);
	assert_true(e.understood);
	assert_true(e.checked);
	assert_string_equal(e.command, "iptables -A FORWARD -i wg-dgx-spark -j ACCEPT");
	assert_string_equal(e.table, "filter");
	assert_string_equal(e.chain, "FORWARD");
	assert_string_equal(e.in, "wg-dgx-spark");
	assert_string_equal(e.target, "ACCEPT");

	firewall_parse_command("/usr/sbin/iptables -w -t nat -I POSTROUTING 1 ! -s 10.0.0.0/8 "
	                       "-o 'enP7s7' -j MASQUERADE",
	                       "wg0", &e);
	assert_true(e.understood);
	assert_string_equal(e.table, "nat");
	assert_string_equal(e.chain, "POSTROUTING");
	assert_string_equal(e.src, "10.0.0.0/8");
	assert_true(e.src_neg);
	assert_string_equal(e.out, "enP7s7");
	assert_string_equal(e.target, "MASQUERADE");

	firewall_parse_command("ip6tables -A FORWARD -i wg0 -j ACCEPT", "wg0", &e);
	assert_true(e.understood);
	assert_int_equal(e.family, 6);
	assert_false(e.checked);

	/* Never guessed. */
	firewall_parse_command("iptables -A FORWARD -i wg0 -p udp --dport 53 -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.reason, "option -p is not understood");
	firewall_parse_command("iptables -D FORWARD -i wg0 -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	firewall_parse_command("sysctl -w net.ipv4.ip_forward=1", "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.reason, "not an iptables command");
	firewall_parse_command("iptables -A FORWARD -i wg0", "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.reason, "no -j target");
	firewall_parse_command("iptables -t mangle -A FORWARD -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	firewall_parse_command("iptables -A FORWARD -s vpn.example.net -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	firewall_parse_command("iptables -A FORWARD -i 'wg0 -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.reason, "unbalanced quotes");
}

static void test_expectation_present(void **state)
{
	struct firewall_ruleset rs;
	struct firewall_expectation e;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fixture("docker-counters.txt", &rs, err, sizeof(err)), 0);
	firewall_parse_command("iptables -t nat -A POSTROUTING -s 10.100.0.0/24 -o enP7s7 -j SNAT",
	                       "wg0", &e);
	/* The live rule has --to-source: target options do not change what it matches. */
	assert_true(e.understood);
	assert_true(firewall_expectation_present(&rs, &e));
	firewall_parse_command("iptables -A FORWARD -i wg0 -j ACCEPT", "wg0", &e);
	assert_true(firewall_expectation_present(&rs, &e)); /* a comment does not matter */
	firewall_parse_command("iptables -A FORWARD -i wg1 -j ACCEPT", "wg0", &e);
	assert_false(firewall_expectation_present(&rs, &e));
	firewall_parse_command("iptables -t nat -A POSTROUTING ! -o docker0 -s 172.17.0.0/16 -j "
	                       "MASQUERADE",
	                       "wg0", &e);
	assert_true(firewall_expectation_present(&rs, &e));
	firewall_ruleset_free(&rs);
}

/* A comment and a rule with bytes that are not UTF-8: what is kept for the
 * outputs has a '?' for each, and valid characters stay. */
static void test_not_utf8(void **state)
{
	static const char text[] =
	    "*filter\n"
	    ":INPUT ACCEPT [0:0]\n"
	    ":FORWARD DROP [0:0]\n"
	    ":OUTPUT ACCEPT [0:0]\n"
	    "-A FORWARD -i wg0 -m comment --comment \"caf\xc3\xa9 \xff\xc0\xaf\" "
	    "-j ACCEPT\n"
	    "COMMIT\n";
	struct firewall_ruleset rs;
	const struct firewall_chain *c;
	struct firewall_forward f;
	char err[256] = "";

	(void)state;
	assert_int_equal(firewall_parse(text, sizeof(text) - 1, &rs, err, sizeof(err)), 0);
	c = firewall_find_chain(&rs.filter, "FORWARD");
	assert_non_null(c);
	assert_int_equal(c->n_rules, 1);
	assert_string_equal(c->rules[0].comment, "caf\xc3\xa9 ???");
	firewall_forward_decide(&rs, "wg0", "eth0", "", &f);
	assert_int_equal(f.result, FIREWALL_FORWARD_RULE_ACCEPTS);
	assert_string_equal(f.rule,
	                    "-A FORWARD -i wg0 -m comment --comment \"caf\xc3\xa9 ???\" -j ACCEPT");
	firewall_ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_standard),
	    cmocka_unit_test(test_docker_counters_comments),
	    cmocka_unit_test(test_not_utf8),
	    cmocka_unit_test(test_truncated_and_malformed),
	    cmocka_unit_test(test_empty_and_legacy_warning),
	    cmocka_unit_test(test_5000_rules),
	    cmocka_unit_test(test_goto_and_return),
	    cmocka_unit_test(test_iface_patterns),
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_expectation_present),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
