/* The wg-quick PostUp grammar: which iptables rules a PostUp command adds,
 * and whether a parsed ruleset holds them. */
#ifndef SPARKMON_POSTUP_H
#define SPARKMON_POSTUP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "probes/fwrules.h"

#define POSTUP_TEXT_MAX 256

struct postup_expectation {
	char command[POSTUP_TEXT_MAX]; /* one command, %i replaced */
	char origin[POSTUP_TEXT_MAX];  /* "/etc/wireguard/wg0.conf PostUp" or "standard setup" */
	bool understood;
	char reason[128]; /* why not, when not understood */
	int family;       /* 4 (iptables) or 6 (ip6tables) */
	char table[16], chain[FWRULES_CHAIN_MAX], target[FWRULES_TARGET_MAX];
	char in[IF_NAMESIZE], out[IF_NAMESIZE];
	bool in_neg, out_neg;
	char src[FWRULES_ADDR_MAX], dst[FWRULES_ADDR_MAX];
	bool src_neg, dst_neg;
	bool checked; /* compared with the live ruleset of its family */
	bool present;
};

/* Parses one PostUp command ("iptables -t nat -A POSTROUTING -o eth0 -j
 * MASQUERADE"), with %i replaced by iface. Anything outside the understood
 * grammar (iptables/ip6tables, -A/-I with -t -i -o -s -d -j, '!') leaves
 * understood false and a reason: never guessed. */
void postup_parse_command(const char *command, const char *iface, struct postup_expectation *ret);

/* Whether a parsed expectation is a rule of the live ruleset (of the same
 * family). */
bool postup_expectation_present(const struct fwrules_ruleset *rs,
                                const struct postup_expectation *e);

/* Whether every command of a PostUp/PostDown value is an iptables one:
 * only such a value is shown again in a hint, never one that also runs
 * other programs (their arguments can be secrets). */
bool postup_only_iptables(const char *line);

/* Copies command into buf with every %i replaced by iface, as wg-quick
 * does before running it; cut at size. */
void postup_substitute_iface(const char *command, const char *iface, char *buf, size_t size);

#endif
