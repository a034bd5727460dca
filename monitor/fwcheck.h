/* The firewall checks: firewall.forward (IPv4) and firewall.forward6 (IPv6),
 * each over both directions (out: VPN client -> uplink; back: the replies,
 * uplink -> VPN client), firewall.masquerade and firewall.uplink. The
 * words and the shell commands of every firewall hint are made here, from
 * the probe's facts, with all outside text shell-quoted. */
#ifndef SPARKMON_FWCHECK_H
#define SPARKMON_FWCHECK_H

#include <stdbool.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"

/* Each fills *out and returns true, or returns false when the check does
 * not apply (firewall.forward6 without IPv6 in the VPN). */
bool fwcheck_forward(const struct config *cfg, const struct snapshot *snap, struct check *out);
bool fwcheck_forward6(const struct config *cfg, const struct snapshot *snap, struct check *out);
bool fwcheck_masquerade(const struct config *cfg, const struct snapshot *snap, struct check *out);
bool fwcheck_uplink(const struct config *cfg, const struct snapshot *snap, struct check *out);

/* The program that changes the rules iptables_save reads: its path without
 * the "-save" suffix ("/usr/sbin/iptables-nft-save" ->
 * "/usr/sbin/iptables-nft"), else fallback. */
void fwcheck_tool(const char *save_program, const char *fallback, char *buf, size_t size);

/* "out" or "back". */
const char *fwcheck_direction_name(enum fwpath_direction dir);

/* What decides one decision, in words: "FORWARD rule 3 '-A FORWARD -i wg0
 * -j ACCEPT'", "FORWARD policy DROP", "nft inet filter forward policy drop". */
void fwcheck_describe(const struct firewall_decision *d, char *buf, size_t size);

#endif
