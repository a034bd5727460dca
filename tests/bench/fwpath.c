/* The path evaluator's cost on a "diamond" ruleset: CHAINS user chains,
 * each jumping JUMPS times to the next (JUMPS^CHAINS paths), the forward
 * decision in both directions and the MASQUERADE search, timed.
 * Usage: fwpath [CHAINS [JUMPS]] (default 64 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probes/fwpath.h"
#include "probes/iptsave.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *diamond(int chains, int jumps)
{
	size_t cap = (size_t)chains * (size_t)jumps * 48 + 4096, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		exit(1);
	n += (size_t)snprintf(buf + n, cap - n, "*filter\n:FORWARD DROP [0:0]\n");
	for (int i = 0; i < chains; i++)
		n += (size_t)snprintf(buf + n, cap - n, ":C%d - [0:0]\n", i);
	n += (size_t)snprintf(buf + n, cap - n, "-A FORWARD -j C0\n");
	for (int i = 0; i + 1 < chains; i++)
		for (int j = 0; j < jumps; j++)
			n += (size_t)snprintf(buf + n, cap - n, "-A C%d -j C%d\n", i, i + 1);
	n += (size_t)snprintf(buf + n, cap - n,
	                      "-A C%d -i wg0 -j ACCEPT\nCOMMIT\n*nat\n"
	                      ":POSTROUTING ACCEPT [0:0]\n",
	                      chains - 1);
	for (int i = 0; i < chains; i++)
		n += (size_t)snprintf(buf + n, cap - n, ":C%d - [0:0]\n", i);
	n += (size_t)snprintf(buf + n, cap - n, "-A POSTROUTING -j C0\n");
	for (int i = 0; i + 1 < chains; i++)
		for (int j = 0; j < jumps; j++)
			n += (size_t)snprintf(buf + n, cap - n, "-A C%d -j C%d\n", i, i + 1);
	snprintf(buf + n, cap - n, "-A C%d -o eth0 -j MASQUERADE\nCOMMIT\n", chains - 1);
	return buf;
}

int main(int argc, char **argv)
{
	int chains = argc > 1 ? atoi(argv[1]) : 64, jumps = argc > 2 ? atoi(argv[2]) : 4;
	char *text, err[256] = "";
	struct fwrules_ruleset rs;
	struct fwpath_decision out, back;
	struct fwpath_packet pk;
	struct fwpath_masq m;
	double t0, t1, t2;

	if (chains < 1 || chains > 4000 || jumps < 1 || jumps > 16)
		return 2;
	text = diamond(chains, jumps);
	if (iptsave_parse(text, strlen(text), 4, &rs, err, sizeof(err)) < 0) {
		fprintf(stderr, "parse: %s\n", err);
		return 1;
	}
	t0 = now_ms();
	fwpath_packet_for(FWPATH_OUT, 4, "wg0", "eth0", "10.100.0.0/24", &pk);
	fwpath_decide(&rs.filter, fwrules_find_chain(&rs.filter, "FORWARD"), &pk, &out);
	fwpath_packet_for(FWPATH_BACK, 4, "wg0", "eth0", "10.100.0.0/24", &pk);
	fwpath_decide(&rs.filter, fwrules_find_chain(&rs.filter, "FORWARD"), &pk, &back);
	t1 = now_ms();
	fwpath_find_masquerade(&rs.nat, fwrules_find_chain(&rs.nat, "POSTROUTING"), "10.100.0.0/24",
	                       "eth0", &m);
	t2 = now_ms();
	printf("%d chains x %d jumps: forward out %s (%zu steps), back %s (%zu steps) in %.3f ms; "
	       "masquerade %s in %.3f ms\n",
	       chains, jumps, out.result == FWPATH_RULE_ACCEPTS ? "accepted" : "NOT accepted",
	       out.steps, back.result == FWPATH_POLICY_DROPS ? "policy drop" : "OTHER", back.steps,
	       t1 - t0, m.found ? "found" : "NOT found", t2 - t1);
	fwrules_ruleset_free(&rs);
	free(text);
	return out.result == FWPATH_RULE_ACCEPTS && m.found ? 0 : 1;
}
