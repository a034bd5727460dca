/* probes/fwpath.c: the fate of a VPN packet in FORWARD, in both directions,
 * on small rulesets that each hold one trap: a rule for some packets only
 * (a DNS-only ACCEPT or DROP), RETURN from a chain jumped to and from the
 * base chain, and replies let through by connection state alone. */
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
#include "probes/fwrules.h"
#include "probes/iptsave.h"

struct outcome {
	enum fwpath_result result;
	char chain[FWRULES_CHAIN_MAX];
	long rule; /* 0-based index of the deciding rule in chain; -1 for a policy */
};

/* The fate in FORWARD of the packets of one direction: from wg0 (the VPN,
 * 10.100.0.0/24) to eth0, or the replies back. */
static struct outcome decide(const char *rules, enum fwpath_direction dir)
{
	char text[2048], err[256] = "";
	struct fwrules_ruleset rs;
	struct fwpath_packet pk;
	struct fwpath_decision d;
	struct outcome o = {.rule = -1};
	const struct fwrules_chain *forward;

	snprintf(text, sizeof(text), "*filter\n%sCOMMIT\n", rules);
	if (iptsave_parse(text, strlen(text), 4, &rs, err, sizeof(err)) != 0)
		fail_msg("ruleset refused: %s", err);
	forward = fwrules_find_chain(&rs.filter, "FORWARD");
	assert_non_null(forward);
	fwpath_packet_for(dir, 4, "wg0", "eth0", "10.100.0.0/24", &pk);
	assert_int_equal(fwpath_decide(&rs.filter, forward, &pk, &d), 0);
	o.result = d.result;
	snprintf(o.chain, sizeof(o.chain), "%s", d.chain ? d.chain->name : "");
	if (d.rule)
		o.rule = (long)d.rule_index;
	fwrules_ruleset_free(&rs);
	return o;
}

static void expect(const char *rules, enum fwpath_direction dir, enum fwpath_result result,
                   const char *chain, long rule)
{
	struct outcome o = decide(rules, dir);

	if (o.result != result || strcmp(o.chain, chain) != 0 || o.rule != rule)
		fail_msg("%s: result %d in %s at rule %ld, expected %d in %s at rule %ld\n%s",
		         dir == FWPATH_OUT ? "out" : "back", o.result, o.chain, o.rule, result,
		         chain, rule, rules);
}

/* A rule that matches only some of the packets (one port, one protocol)
 * decides nothing for the path: a DNS-only ACCEPT is no ACCEPT. */
static void test_rule_for_some_packets(void **state)
{
	(void)state;
	expect(":FORWARD DROP [0:0]\n"
	       "-A FORWARD -i wg0 -p udp -m udp --dport 53 -j ACCEPT\n",
	       FWPATH_OUT, FWPATH_POLICY_DROPS, "FORWARD", -1);
	expect(":FORWARD DROP [0:0]\n"
	       "-A FORWARD -i wg0 -p tcp -m tcp --dport 22 -j ACCEPT\n"
	       "-A FORWARD -i wg0 -j ACCEPT\n",
	       FWPATH_OUT, FWPATH_RULE_ACCEPTS, "FORWARD", 1);
	/* Nor is a DNS-only DROP a DROP. */
	expect(":FORWARD ACCEPT [0:0]\n"
	       "-A FORWARD -i wg0 -p udp -m udp --dport 53 -j DROP\n",
	       FWPATH_OUT, FWPATH_POLICY_ACCEPTS, "FORWARD", -1);
	expect(":FORWARD ACCEPT [0:0]\n"
	       "-A FORWARD -i wg0 -p udp -m udp --dport 53 -j DROP\n"
	       "-A FORWARD -i wg0 -j REJECT --reject-with icmp-port-unreachable\n",
	       FWPATH_OUT, FWPATH_RULE_DROPS, "FORWARD", 1);
}

/* RETURN ends the chain jumped to: the rules after it there do not
 * decide; the walk goes on in the calling chain. */
static void test_return_from_chain(void **state)
{
	(void)state;
	expect(":FORWARD DROP [0:0]\n"
	       ":VPN - [0:0]\n"
	       "-A FORWARD -j VPN\n"
	       "-A VPN -i wg0 -j RETURN\n"
	       "-A VPN -j ACCEPT\n",
	       FWPATH_OUT, FWPATH_POLICY_DROPS, "FORWARD", -1);
	expect(":FORWARD DROP [0:0]\n"
	       ":VPN - [0:0]\n"
	       "-A FORWARD -j VPN\n"
	       "-A FORWARD -i wg0 -j ACCEPT\n"
	       "-A VPN -i wg0 -j RETURN\n"
	       "-A VPN -j DROP\n",
	       FWPATH_OUT, FWPATH_RULE_ACCEPTS, "FORWARD", 1);
	/* A RETURN for other packets (another interface) changes nothing. */
	expect(":FORWARD DROP [0:0]\n"
	       ":VPN - [0:0]\n"
	       "-A FORWARD -j VPN\n"
	       "-A VPN -i eth1 -j RETURN\n"
	       "-A VPN -j ACCEPT\n",
	       FWPATH_OUT, FWPATH_RULE_ACCEPTS, "VPN", 1);
}

/* RETURN in the base chain itself: its policy decides. */
static void test_return_in_base_chain(void **state)
{
	(void)state;
	expect(":FORWARD DROP [0:0]\n"
	       "-A FORWARD -i wg0 -j RETURN\n"
	       "-A FORWARD -j ACCEPT\n",
	       FWPATH_OUT, FWPATH_POLICY_DROPS, "FORWARD", -1);
	expect(":FORWARD ACCEPT [0:0]\n"
	       "-A FORWARD -i wg0 -j RETURN\n"
	       "-A FORWARD -j DROP\n",
	       FWPATH_OUT, FWPATH_POLICY_ACCEPTS, "FORWARD", -1);
}

/* The replies come back in by the uplink, ESTABLISHED: the usual
 * "-o wg0 --ctstate RELATED,ESTABLISHED" rule is theirs, not the first
 * packet's; without it the replies meet the policy. */
static void test_both_directions(void **state)
{
	static const char with_state[] =
	    ":FORWARD DROP [0:0]\n"
	    "-A FORWARD -o wg0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	    "-A FORWARD -i wg0 -j ACCEPT\n";
	static const char out_only[] = ":FORWARD DROP [0:0]\n"
	                               "-A FORWARD -i wg0 -j ACCEPT\n";
	static const char new_only[] = ":FORWARD DROP [0:0]\n"
	                               "-A FORWARD -m conntrack --ctstate NEW -j ACCEPT\n";

	(void)state;
	expect(with_state, FWPATH_OUT, FWPATH_RULE_ACCEPTS, "FORWARD", 1);
	expect(with_state, FWPATH_BACK, FWPATH_RULE_ACCEPTS, "FORWARD", 0);
	expect(out_only, FWPATH_OUT, FWPATH_RULE_ACCEPTS, "FORWARD", 0);
	expect(out_only, FWPATH_BACK, FWPATH_POLICY_DROPS, "FORWARD", -1);
	expect(new_only, FWPATH_OUT, FWPATH_RULE_ACCEPTS, "FORWARD", 0);
	expect(new_only, FWPATH_BACK, FWPATH_POLICY_DROPS, "FORWARD", -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_for_some_packets),
	    cmocka_unit_test(test_return_from_chain),
	    cmocka_unit_test(test_return_in_base_chain),
	    cmocka_unit_test(test_both_directions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
