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
#include "probes/fwpath.h"
#include "probes/iptsave.h"
#include "probes/postup.h"
#include "probes/readfile.h"

#define FIXTURES "tests/fixtures/firewall/"

/* The out direction (VPN client -> uplink) through FORWARD, as the probe
 * asks it (firewall_decide), with the facts the tests look at. */
struct forward {
	enum fwpath_result result;
	char chain[FWRULES_CHAIN_MAX];
	int rule_number;
	char rule[FIREWALL_TEXT_MAX];
	bool after_docker;
};

static void forward_decide(const struct fwrules_ruleset *rs, const char *in, const char *out,
                           const char *vpn, struct forward *ret)
{
	struct firewall *fw = calloc(1, sizeof(*fw));
	struct fwpath_layer layers[4];
	size_t n = fwpath_layers(rs, NULL, false, 4, layers, 4);
	const struct firewall_decision *d;

	assert_non_null(fw);
	assert_int_equal(firewall_decide(fw, layers, n, in, 4, FWPATH_OUT, out, vpn), 0);
	assert_int_equal(fw->n_decisions, n ? n : 1);
	d = &fw->decisions[0];
	ret->result = d->result;
	snprintf(ret->chain, sizeof(ret->chain), "%s", d->chain);
	ret->rule_number = d->rule_number;
	snprintf(ret->rule, sizeof(ret->rule), "%s", d->rule);
	ret->after_docker = d->after_docker;
	free(fw);
}

struct masq {
	bool masq_found;
	int masq_rule_number;
	char masq_out[IF_NAMESIZE];
	char masq_rule[256];
};

static bool find_masquerade(const struct fwrules_ruleset *rs, const char *vpn, const char *prefer,
                            struct masq *ret)
{
	const struct fwrules_chain *post = fwrules_find_chain(&rs->nat, "POSTROUTING");
	struct fwpath_masq m;

	ret->masq_found = false;
	if (!rs->nat.present || !post)
		return false;
	assert_int_equal(fwpath_find_masquerade(&rs->nat, post, vpn, prefer, &m), 0);
	if (!m.found)
		return false;
	ret->masq_found = true;
	ret->masq_rule_number = (int)m.rule_index + 1;
	snprintf(ret->masq_out, sizeof(ret->masq_out), "%s", m.rule->out);
	snprintf(ret->masq_rule, sizeof(ret->masq_rule), "%s", m.rule->text);
	return true;
}

static int iptsave_parse_v4(const char *buf, size_t len, struct fwrules_ruleset *rs, char *err,
                            size_t errlen)
{
	return iptsave_parse(buf, len, 4, rs, err, errlen);
}

static int parse_fixture(const char *name, struct fwrules_ruleset *rs, char *err, size_t errlen)
{
	char path[256];
	char *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	assert_int_equal(readfile_read(path, 1 << 20, &buf, &len), 0);
	r = iptsave_parse(buf, len, 4, rs, err, errlen);
	free(buf);
	return r;
}

static void test_standard(void **state)
{
	struct fwrules_ruleset rs;
	const struct fwrules_chain *c;
	struct forward f;
	struct masq fw = {.masq_found = false};
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fixture("standard.txt", &rs, err, sizeof(err)), 0);
	assert_string_equal(rs.backend, "nf_tables");
	assert_true(rs.filter.present);
	assert_true(rs.nat.present);
	assert_int_equal(rs.n_rules, 2);
	c = fwrules_find_chain(&rs.filter, "FORWARD");
	assert_non_null(c);
	assert_string_equal(c->policy, "ACCEPT");
	assert_int_equal(c->n_rules, 1);
	assert_string_equal(c->rules[0].in, "wg-dgx-spark");
	assert_string_equal(c->rules[0].target, "ACCEPT");
	assert_string_equal(c->rules[0].text, "-A FORWARD -i wg-dgx-spark -j ACCEPT");
	assert_int_equal(c->rules[0].line, 6);
	assert_false(c->rules[0].conditional);

	forward_decide(&rs, "wg-dgx-spark", "enP7s7", "10.100.0.0/24", &f);
	assert_int_equal(f.result, FWPATH_RULE_ACCEPTS);
	assert_int_equal(f.rule_number, 1);
	assert_false(f.after_docker);
	/* Another interface falls through to the ACCEPT policy. */
	forward_decide(&rs, "wg1", "enP7s7", "", &f);
	assert_int_equal(f.result, FWPATH_POLICY_ACCEPTS);

	assert_true(find_masquerade(&rs, "10.100.0.0/24", "enP7s7", &fw));
	assert_string_equal(fw.masq_out, "enP7s7");
	assert_int_equal(fw.masq_rule_number, 1);
	fwrules_ruleset_free(&rs);
}

static void test_docker_counters_comments(void **state)
{
	struct fwrules_ruleset rs;
	const struct fwrules_chain *c;
	struct forward f;
	struct masq fw = {.masq_found = false};
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fixture("docker-counters.txt", &rs, err, sizeof(err)), 0);
	assert_string_equal(rs.backend, "legacy");
	c = fwrules_find_chain(&rs.filter, "FORWARD");
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
	/* conntrack --ctstate: a state match, not a condition on the packet. */
	assert_false(c->rules[2].conditional);
	assert_int_equal(c->rules[2].ct_states, FWRULES_CT_RELATED | FWRULES_CT_ESTABLISHED);
	assert_false(c->rules[2].ct_neg);
	assert_string_equal(fwrules_find_chain(&rs.filter, "DOCKER")->policy, "");
	/* The mangle table is read past, not kept. */
	assert_int_equal(rs.n_rules, 13 + 4);

	forward_decide(&rs, "wg0", "enP7s7", "10.100.0.0/24", &f);
	assert_int_equal(f.result, FWPATH_RULE_ACCEPTS);
	assert_string_equal(f.chain, "FORWARD");
	assert_int_equal(f.rule_number, 8);
	assert_true(f.after_docker);
	/* From outside the VPN subnet the spoofing rule drops first. */
	forward_decide(&rs, "wg0", "enP7s7", "192.168.7.0/24", &f);
	assert_int_equal(f.result, FWPATH_RULE_DROPS);
	assert_int_equal(f.rule_number, 7);
	/* Nothing accepts another interface: the DROP policy decides. */
	forward_decide(&rs, "wg9", "enP7s7", "10.100.0.0/24", &f);
	assert_int_equal(f.result, FWPATH_POLICY_DROPS);

	/* Docker's MASQUERADE is for 172.17.0.0/16: the SNAT one covers the VPN. */
	assert_true(find_masquerade(&rs, "10.100.0.0/24", "", &fw));
	assert_int_equal(fw.masq_rule_number, 2);
	assert_string_equal(fw.masq_out, "enP7s7");
	assert_string_equal(
	    fw.masq_rule,
	    "-A POSTROUTING -s 10.100.0.0/24 -o enP7s7 -j SNAT --to-source 192.168.1.20");
	fwrules_ruleset_free(&rs);
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
		struct fwrules_ruleset rs = {.n_rules = 4242};
		char err[256] = "";

		assert_int_equal(parse_fixture(cases[i].file, &rs, err, sizeof(err)), cases[i].r);
		assert_string_equal(err, cases[i].message);
		assert_int_equal(rs.n_rules, 4242); /* untouched on error */
	}
}

static void test_empty_and_legacy_warning(void **state)
{
	struct fwrules_ruleset rs;
	struct forward f;
	struct masq fw = {.masq_found = true};
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fixture("empty-nft.txt", &rs, err, sizeof(err)), 0);
	assert_true(rs.legacy_tables_present);
	assert_false(rs.filter.present);
	/* No filter table: nothing filters. No nat table: nothing masquerades. */
	forward_decide(&rs, "wg0", "", "", &f);
	assert_int_equal(f.result, FWPATH_POLICY_ACCEPTS);
	assert_false(find_masquerade(&rs, "", "", &fw));
	assert_false(fw.masq_found);
	fwrules_ruleset_free(&rs);
	assert_int_equal(iptsave_parse_v4("", 0, &rs, err, sizeof(err)), 0);
	fwrules_ruleset_free(&rs);
}

static void test_5000_rules(void **state)
{
	size_t cap = 5000 * 96 + 4096, len = 0;
	char *buf = malloc(cap), err[256] = "";
	struct fwrules_ruleset rs;
	struct forward f;

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
	assert_int_equal(iptsave_parse_v4(buf, len, &rs, err, sizeof(err)), 0);
	assert_int_equal(rs.n_rules, 5000);
	forward_decide(&rs, "wg0", "eth0", "10.100.0.0/24", &f);
	assert_int_equal(f.result, FWPATH_RULE_ACCEPTS);
	assert_int_equal(f.rule_number, 5000);
	fwrules_ruleset_free(&rs);
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
	struct fwrules_ruleset rs;
	struct forward f;
	char err[256] = "";

	(void)state;
	/* -g: the end of EMPTY ends FORWARD too; the ACCEPT is never reached. */
	assert_int_equal(iptsave_parse_v4(text, strlen(text), &rs, err, sizeof(err)), 0);
	forward_decide(&rs, "wg0", "", "", &f);
	assert_int_equal(f.result, FWPATH_POLICY_DROPS);
	fwrules_ruleset_free(&rs);
}

/* --ctstate lists: known states only; anything else narrows the rule,
 * never read as a state. */
static void test_states(void **state)
{
	static const char text[] =
	    "*filter\n:FORWARD DROP [0:0]\n"
	    "-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT\n"
	    "-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT\n"
	    "-A FORWARD -m conntrack ! --ctstate NEW --ctdir ORIGINAL -j DROP\n"
	    "COMMIT\n";
	struct fwrules_ruleset rs;
	const struct fwrules_chain *c;
	unsigned states = 4242;
	char err[256] = "";

	(void)state;
	assert_int_equal(iptsave_parse_states("NEW,ESTABLISHED", &states), 0);
	assert_int_equal(states, FWRULES_CT_NEW | FWRULES_CT_ESTABLISHED);
	states = 4242;
	assert_int_equal(iptsave_parse_states("NEW,BOGUS", &states), -EINVAL);
	assert_int_equal(iptsave_parse_states("", &states), -EINVAL);
	assert_int_equal(states, 4242); /* untouched on error */
	assert_int_equal(iptsave_parse_v4(text, sizeof(text) - 1, &rs, err, sizeof(err)), 0);
	c = fwrules_find_chain(&rs.filter, "FORWARD");
	assert_int_equal(c->rules[0].ct_states, FWRULES_CT_ESTABLISHED | FWRULES_CT_RELATED);
	assert_false(c->rules[0].conditional);
	assert_int_equal(c->rules[1].ct_states, 0);
	assert_true(c->rules[1].conditional);
	assert_int_equal(c->rules[2].ct_states, FWRULES_CT_NEW);
	assert_true(c->rules[2].ct_neg);
	assert_true(c->rules[2].conditional); /* --ctdir */
	fwrules_ruleset_free(&rs);
}

static void test_iface_patterns(void **state)
{
	(void)state;
	assert_true(fwrules_iface_matches("wg+", "wg0"));
	assert_true(fwrules_iface_matches("+", "anything"));
	assert_true(fwrules_iface_matches("eth0", "eth0"));
	assert_false(fwrules_iface_matches("eth0", "eth01"));
	assert_false(fwrules_iface_matches("wg+", "eth0"));
}

static void test_commands(void **state)
{
	struct postup_expectation e;

	(void)state;
	postup_parse_command("iptables -A FORWARD -i %i -j ACCEPT", "wg-dgx-spark", &e);
	assert_true(e.understood);
	assert_true(e.checked);
	assert_string_equal(e.command, "iptables -A FORWARD -i wg-dgx-spark -j ACCEPT");
	assert_string_equal(e.table, "filter");
	assert_string_equal(e.chain, "FORWARD");
	assert_string_equal(e.in, "wg-dgx-spark");
	assert_string_equal(e.target, "ACCEPT");

	postup_parse_command("/usr/sbin/iptables -w -t nat -I POSTROUTING 1 ! -s 10.0.0.0/8 "
	                     "-o 'enP7s7' -j MASQUERADE",
	                     "wg0", &e);
	assert_true(e.understood);
	assert_string_equal(e.table, "nat");
	assert_string_equal(e.chain, "POSTROUTING");
	assert_string_equal(e.src, "10.0.0.0/8");
	assert_true(e.src_neg);
	assert_string_equal(e.out, "enP7s7");
	assert_string_equal(e.target, "MASQUERADE");
	/* Published from the parsed fields, not as written. */
	assert_string_equal(
	    e.command, "iptables -t nat -A POSTROUTING -o enP7s7 ! -s 10.0.0.0/8 -j MASQUERADE");

	postup_parse_command("ip6tables -A FORWARD -i wg0 -j ACCEPT", "wg0", &e);
	assert_true(e.understood);
	assert_int_equal(e.family, 6);
	assert_true(e.checked); /* against ip6tables-save's ruleset */

	/* Never guessed. */
	postup_parse_command("iptables -A FORWARD -i wg0 -p udp --dport 53 -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.reason, "option -p is not understood");
	postup_parse_command("iptables -D FORWARD -i wg0 -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	postup_parse_command("sysctl -w net.ipv4.ip_forward=1", "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.reason, "not an iptables command");
	postup_parse_command("iptables -A FORWARD -i wg0", "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.reason, "no -j target");
	postup_parse_command("iptables -t mangle -A FORWARD -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	postup_parse_command("iptables -A FORWARD -s vpn.example.net -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	postup_parse_command("iptables -A FORWARD -i 'wg0 -j ACCEPT", "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.reason, "unbalanced quotes");
	assert_string_equal(e.command, "iptables (arguments not shown)");
}

/* A PostUp command's words are never published: they can be a key. */
static void test_command_not_shown(void **state)
{
	static const char psk[] = "pQk4n7cRzX1yJv0Wq2eH5tL8mA3sD6fG9hK1jB4nC7o=";
	struct postup_expectation e;
	char line[256];

	(void)state;
	snprintf(line, sizeof(line),
	         "wg set %%i peer 7Xc3Jv0Wq2eH5tL8mA3sD6fG9hK1jB4nC7opQk4n7cQ= "
	         "preshared-key <(echo %s)",
	         psk);
	postup_parse_command(line, "wg0", &e);
	assert_false(e.understood);
	assert_string_equal(e.command, "wg (arguments not shown)");
	assert_null(strstr(e.reason, psk));
	snprintf(line, sizeof(line), "/usr/bin/wg set %%i preshared-key <(echo %s)", psk);
	postup_parse_command(line, "wg0", &e);
	assert_string_equal(e.command, "wg (arguments not shown)");
	snprintf(line, sizeof(line), "PSK=%s wg set %%i", psk);
	postup_parse_command(line, "wg0", &e);
	assert_string_equal(e.command, "command (arguments not shown)");
	postup_parse_command("nft add rule inet filter forward iifname wg0 accept", "wg0", &e);
	assert_string_equal(e.command, "nft (arguments not shown)");
	snprintf(line, sizeof(line), "iptables -A FORWARD -m comment --comment %s -j ACCEPT", psk);
	postup_parse_command(line, "wg0", &e);
	assert_string_equal(e.command, "iptables (arguments not shown)");
	assert_null(strstr(e.reason, psk));
}

static void test_expectation_present(void **state)
{
	struct fwrules_ruleset rs;
	struct postup_expectation e;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_fixture("docker-counters.txt", &rs, err, sizeof(err)), 0);
	postup_parse_command("iptables -t nat -A POSTROUTING -s 10.100.0.0/24 -o enP7s7 -j SNAT",
	                     "wg0", &e);
	/* The live rule has --to-source: target options do not change what it matches. */
	assert_true(e.understood);
	assert_true(postup_expectation_present(&rs, &e));
	postup_parse_command("iptables -A FORWARD -i wg0 -j ACCEPT", "wg0", &e);
	assert_true(postup_expectation_present(&rs, &e)); /* a comment does not matter */
	postup_parse_command("iptables -A FORWARD -i wg1 -j ACCEPT", "wg0", &e);
	assert_false(postup_expectation_present(&rs, &e));
	postup_parse_command("iptables -t nat -A POSTROUTING ! -o docker0 -s 172.17.0.0/16 -j "
	                     "MASQUERADE",
	                     "wg0", &e);
	assert_true(postup_expectation_present(&rs, &e));
	fwrules_ruleset_free(&rs);
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
	struct fwrules_ruleset rs;
	const struct fwrules_chain *c;
	struct forward f;
	char err[256] = "";

	(void)state;
	assert_int_equal(iptsave_parse_v4(text, sizeof(text) - 1, &rs, err, sizeof(err)), 0);
	c = fwrules_find_chain(&rs.filter, "FORWARD");
	assert_non_null(c);
	assert_int_equal(c->n_rules, 1);
	assert_string_equal(c->rules[0].comment, "caf\xc3\xa9 ???");
	forward_decide(&rs, "wg0", "eth0", "", &f);
	assert_int_equal(f.result, FWPATH_RULE_ACCEPTS);
	assert_string_equal(f.rule,
	                    "-A FORWARD -i wg0 -m comment --comment \"caf\xc3\xa9 ???\" -j ACCEPT");
	fwrules_ruleset_free(&rs);
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
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_iface_patterns),
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_command_not_shown),
	    cmocka_unit_test(test_expectation_present),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
