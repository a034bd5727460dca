/* probes/fwpath.c on the input hook: the first packet of a TCP connection
 * from the VPN to the SSH port, through iptables' INPUT (as a real ufw
 * leaves it, with and without its allow rule) and a native nft input chain
 * (as `nft -j list ruleset` prints it); protocol, port and address-type
 * matches; and the forward path and MASQUERADE search unchanged by them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <cmocka.h>

#include "probes/fwpath.h"
#include "probes/iptsave.h"
#include "probes/nftjson.h"
#include "probes/readfile.h"

#define FIXTURES "tests/fixtures/firewall/"
#define WG       "wg-dgx-spark"
#define VPN      "10.100.0.0/24"

static char *slurp(const char *name, size_t *len)
{
	char path[256], *buf = NULL;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	assert_int_equal(readfile_read(path, 1 << 20, &buf, len), 0);
	return buf;
}

static void parse_ipt(const char *text, struct fwrules_ruleset *rs)
{
	char err[256] = "";

	if (iptsave_parse(text, strlen(text), 4, rs, err, sizeof(err)) < 0)
		fail_msg("iptsave_parse: %s", err);
}

/* The one decision of the iptables view's INPUT for iface and port. */
static struct fwpath_decision input_of(const struct fwrules_ruleset *rs, const char *iface,
                                       uint16_t port)
{
	struct fwpath_layer layers[4];
	struct fwpath_packet pk;
	struct fwpath_decision d;
	size_t n = fwpath_input_layers(rs, NULL, true, 4, layers, 4);

	assert_int_equal(n, 1);
	assert_string_equal(layers[0].chain->name, "INPUT");
	fwpath_packet_input(4, iface, VPN, IPPROTO_TCP, port, &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	return d;
}

static struct fwpath_decision input_text(const char *rules, const char *iface, uint16_t port)
{
	struct fwrules_ruleset rs;
	struct fwpath_decision d;
	char text[2048];

	snprintf(text, sizeof(text),
	         "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n"
	         ":OUTPUT ACCEPT [0:0]\n%sCOMMIT\n",
	         rules);
	parse_ipt(text, &rs);
	d = input_of(&rs, iface, port);
	d.chain = NULL; /* freed below */
	d.rule = NULL;
	fwrules_ruleset_free(&rs);
	return d;
}

static void test_ufw_allow(void **state)
{
	struct fwrules_ruleset rs;
	struct fwpath_decision d;
	size_t len;
	char *text = slurp("ufw-input-allow.txt", &len);

	(void)state;
	parse_ipt(text, &rs);
	d = input_of(&rs, WG, 22);
	assert_int_equal(d.result, FWPATH_RULE_ACCEPTS);
	assert_string_equal(d.chain->name, "ufw-user-input");
	assert_string_equal(d.rule->text,
	                    "-A ufw-user-input -i " WG " -p tcp -m tcp --dport 22 -j ACCEPT");
	/* Another interface, another port: ufw's default policy. */
	assert_int_equal(input_of(&rs, "eth0", 22).result, FWPATH_POLICY_DROPS);
	assert_int_equal(input_of(&rs, WG, 2222).result, FWPATH_POLICY_DROPS);
	fwrules_ruleset_free(&rs);
	free(text);
}

/* ufw's default "deny incoming": its chains pass the packet on (the
 * not-local check returns for a local destination) to INPUT's policy. */
static void test_ufw_deny(void **state)
{
	struct fwrules_ruleset rs;
	struct fwpath_decision d;
	size_t len;
	char *text = slurp("ufw-input-deny.txt", &len);

	(void)state;
	parse_ipt(text, &rs);
	d = input_of(&rs, WG, 22);
	assert_int_equal(d.result, FWPATH_POLICY_DROPS);
	assert_string_equal(d.chain->name, "INPUT");
	/* SMB's ports go to ufw-skip-to-policy-input, which drops. */
	d = input_of(&rs, WG, 445);
	assert_int_equal(d.result, FWPATH_RULE_DROPS);
	assert_string_equal(d.chain->name, "ufw-skip-to-policy-input");
	fwrules_ruleset_free(&rs);
	free(text);
}

/* `ufw allow OpenSSH` (the openssh-server application profile, any
 * interface) and `ufw limit 22/tcp` (its rate-limit rules come first and
 * decide nothing for all packets; the ACCEPT chain after them does), as
 * real ufw leaves them. */
static void test_ufw_app_and_limit(void **state)
{
	static const char *const names[] = {"ufw-input-app.txt", "ufw-input-limit.txt"};
	static const char *const chains[] = {"ufw-user-input", "ufw-user-limit-accept"};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct fwrules_ruleset rs;
		struct fwpath_decision d;
		size_t len;
		char *text = slurp(names[i], &len);

		parse_ipt(text, &rs);
		d = input_of(&rs, WG, 22);
		assert_int_equal(d.result, FWPATH_RULE_ACCEPTS);
		assert_string_equal(d.chain->name, chains[i]);
		assert_int_equal(input_of(&rs, "eth0", 22).result, FWPATH_RULE_ACCEPTS);
		assert_int_equal(input_of(&rs, WG, 2222).result, FWPATH_POLICY_DROPS);
		fwrules_ruleset_free(&rs);
		free(text);
	}
}

static void test_iptables_ports(void **state)
{
	(void)state;
	assert_int_equal(input_text("", WG, 22).result, FWPATH_POLICY_DROPS);
	assert_int_equal(
	    input_text("-A INPUT -i " WG " -p tcp -m tcp --dport 22 -j ACCEPT\n", WG, 22).result,
	    FWPATH_RULE_ACCEPTS);
	assert_int_equal(
	    input_text("-A INPUT -p tcp -m tcp --dport 20:25 -j ACCEPT\n", WG, 22).result,
	    FWPATH_RULE_ACCEPTS);
	assert_int_equal(
	    input_text("-A INPUT -p tcp -m tcp --dport 20:25 -j ACCEPT\n", WG, 26).result,
	    FWPATH_POLICY_DROPS);
	assert_int_equal(
	    input_text("-A INPUT -p tcp -m tcp ! --dport 22 -j ACCEPT\n", WG, 22).result,
	    FWPATH_POLICY_DROPS);
	assert_int_equal(
	    input_text("-A INPUT -p tcp -m tcp ! --dport 22 -j ACCEPT\n", WG, 80).result,
	    FWPATH_RULE_ACCEPTS);
	assert_int_equal(input_text("-A INPUT -p udp -m udp --dport 22 -j ACCEPT\n", WG, 22).result,
	                 FWPATH_POLICY_DROPS);
	assert_int_equal(input_text("-A INPUT ! -p udp -j ACCEPT\n", WG, 22).result,
	                 FWPATH_RULE_ACCEPTS);
	/* Not understood (multiport, a source port): no guess either way. */
	assert_int_equal(
	    input_text("-A INPUT -p tcp -m multiport --dports 22,80 -j ACCEPT\n", WG, 22).result,
	    FWPATH_POLICY_DROPS);
	assert_int_equal(
	    input_text("-A INPUT -p tcp -m tcp --sport 1024:65535 --dport 22 -j DROP\n", WG, 22)
	        .result,
	    FWPATH_POLICY_DROPS);
	assert_int_equal(input_text("-A INPUT -i " WG " -j DROP\n"
	                            "-A INPUT -i " WG " -p tcp -m tcp --dport 22 -j ACCEPT\n",
	                            WG, 22)
	                     .result,
	                 FWPATH_RULE_DROPS);
	assert_int_equal(
	    input_text("-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT\n", WG, 22).result,
	    FWPATH_RULE_ACCEPTS);
	assert_int_equal(
	    input_text("-A INPUT -m addrtype --dst-type BROADCAST -j ACCEPT\n", WG, 22).result,
	    FWPATH_POLICY_DROPS);
	assert_int_equal(
	    input_text("-A INPUT -m addrtype ! --dst-type LOCAL -j DROP\n", WG, 22).result,
	    FWPATH_POLICY_DROPS);
}

/* What the parser keeps of protocols and ports. */
static void test_parsed_fields(void **state)
{
	struct fwrules_ruleset rs;
	const struct fwrules_chain *c;

	(void)state;
	parse_ipt("*filter\n:INPUT ACCEPT [0:0]\n"
	          "-A INPUT -p tcp -m tcp --dport 20:25 -j ACCEPT\n"
	          "-A INPUT ! -p udp -j DROP\n"
	          "-A INPUT -p 6 -m tcp --dport 70000 -j DROP\n"
	          "-A INPUT -p all -j ACCEPT\n"
	          "COMMIT\n",
	          &rs);
	c = fwrules_find_chain(&rs.filter, "INPUT");
	assert_int_equal(c->hook, FWRULES_HOOK_INPUT);
	assert_int_equal(c->rules[0].proto, IPPROTO_TCP);
	assert_int_equal(c->rules[0].dport_min, 20);
	assert_int_equal(c->rules[0].dport_max, 25);
	assert_false(c->rules[0].conditional);
	assert_int_equal(c->rules[1].proto, IPPROTO_UDP);
	assert_true(c->rules[1].proto_neg);
	/* A port out of range narrows the rule to packets not known here. */
	assert_int_equal(c->rules[2].proto, IPPROTO_TCP);
	assert_true(c->rules[2].conditional);
	assert_int_equal(c->rules[3].proto, 0);
	assert_false(fwrules_rule_narrowed(&c->rules[3]));
	fwrules_ruleset_free(&rs);
}

static void test_nft_input(void **state)
{
	struct fwrules_tables ts = {.items = NULL};
	struct fwpath_layer layers[4];
	struct fwpath_packet pk;
	struct fwpath_decision d;
	char err[256] = "", *text;
	size_t len, n;

	(void)state;
	text = slurp("nft-input.json", &len);
	if (nftjson_parse(text, len, &ts, err, sizeof(err)) < 0)
		fail_msg("nftjson_parse: %s", err);
	n = fwpath_input_layers(NULL, &ts, true, 4, layers, 4);
	assert_int_equal(n, 1);
	assert_string_equal(layers[0].chain->name, "input");
	fwpath_packet_input(4, WG, VPN, IPPROTO_TCP, 22, &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	assert_int_equal(d.result, FWPATH_RULE_ACCEPTS);
	assert_int_equal(d.rule_index, 3);
	assert_non_null(strstr(d.rule->text, "tcp dport 20-25"));
	/* tcp dport 80, from any interface. */
	fwpath_packet_input(4, "eth0", VPN, IPPROTO_TCP, 80, &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	assert_int_equal(d.result, FWPATH_RULE_ACCEPTS);
	assert_int_equal(d.rule_index, 2);
	/* udp dport 22 is not TCP; a set of ports is not understood. */
	fwpath_packet_input(4, "eth0", VPN, IPPROTO_TCP, 22, &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	assert_int_equal(d.result, FWPATH_POLICY_DROPS);
	fwpath_packet_input(4, WG, VPN, IPPROTO_TCP, 2222, &pk);
	assert_int_equal(fwpath_decide(layers[0].table, layers[0].chain, &pk, &d), 0);
	assert_int_equal(d.result, FWPATH_POLICY_DROPS);
	/* No forward chain: the input chain is not one. */
	assert_int_equal(fwpath_layers(NULL, &ts, true, 4, layers, 4), 0);
	fwrules_tables_free(&ts);
	free(text);
}

/* A protocol is known now, not "conditional": the forward path, whose
 * packets have no known protocol, still takes a TCP-only ACCEPT as
 * deciding nothing, and a TCP-only RETURN in POSTROUTING does not end the
 * search for the MASQUERADE rule. */
static void test_forward_unchanged(void **state)
{
	struct fwrules_ruleset rs;
	struct fwpath_packet pk;
	struct fwpath_decision d;
	struct fwpath_masq m;

	(void)state;
	parse_ipt("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	          "-A FORWARD -i " WG " -p tcp -j ACCEPT\n"
	          "COMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\n"
	          "-A POSTROUTING -p tcp -j RETURN\n"
	          "-A POSTROUTING -s " VPN " -o eth0 -j MASQUERADE\n"
	          "COMMIT\n",
	          &rs);
	fwpath_packet_for(FWPATH_OUT, 4, WG, "eth0", VPN, &pk);
	assert_int_equal(
	    fwpath_decide(&rs.filter, fwrules_find_chain(&rs.filter, "FORWARD"), &pk, &d), 0);
	assert_int_equal(d.result, FWPATH_POLICY_DROPS);
	assert_int_equal(fwpath_find_masquerade(&rs.nat, fwrules_find_chain(&rs.nat, "POSTROUTING"),
	                                        VPN, "eth0", &m),
	                 0);
	assert_true(m.found);
	assert_int_equal(m.rule_index, 1);
	fwrules_ruleset_free(&rs);
}

static void test_ports_parse(void **state)
{
	uint16_t lo = 7, hi = 7;

	(void)state;
	assert_int_equal(fwrules_ports_parse("22", &lo, &hi), 0);
	assert_int_equal(lo, 22);
	assert_int_equal(hi, 22);
	assert_int_equal(fwrules_ports_parse("1000-2000", &lo, &hi), 0);
	assert_int_equal(hi, 2000);
	assert_int_equal(fwrules_ports_parse("65535:65535", &lo, &hi), 0);
	assert_int_equal(fwrules_ports_parse("0", &lo, &hi), -EINVAL);
	assert_int_equal(fwrules_ports_parse("65536", &lo, &hi), -EINVAL);
	assert_int_equal(fwrules_ports_parse("25:20", &lo, &hi), -EINVAL);
	assert_int_equal(fwrules_ports_parse("ssh", &lo, &hi), -EINVAL);
	assert_int_equal(fwrules_ports_parse("22:", &lo, &hi), -EINVAL);
	assert_int_equal(fwrules_ports_parse("", &lo, &hi), -EINVAL);
	assert_int_equal(lo, 65535);
	assert_int_equal(fwrules_proto_parse("TCP"), IPPROTO_TCP);
	assert_int_equal(fwrules_proto_parse("17"), IPPROTO_UDP);
	assert_int_equal(fwrules_proto_parse("all"), 0);
	assert_int_equal(fwrules_proto_parse("300"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ufw_allow),         cmocka_unit_test(test_ufw_deny),
	    cmocka_unit_test(test_ufw_app_and_limit), cmocka_unit_test(test_iptables_ports),
	    cmocka_unit_test(test_parsed_fields),     cmocka_unit_test(test_nft_input),
	    cmocka_unit_test(test_forward_unchanged), cmocka_unit_test(test_ports_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
