/* The path evaluator: what the rules of a parsed ruleset do to a VPN
 * packet, in either direction (out: from the WireGuard interface to the
 * uplink; back: the replies, from the uplink to the WireGuard interface)
 * and either family. Pure: it reads parsed tables and returns facts (which
 * rule, which chain, which base chain); the words are made elsewhere.
 *
 * Its cost is linear in the size of the ruleset: the fate of a packet in a
 * chain is computed once per evaluation (memoized per chain), whatever
 * number of paths leads there, and a hard step budget ends an evaluation
 * that would run longer with FWPATH_TOO_COMPLEX. */
#ifndef SPARKMON_FWPATH_H
#define SPARKMON_FWPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/fwrules.h"

/* Rules looked at in one evaluation, at most: far above any real ruleset
 * (FWRULES_RULES_MAX), far below what could stall a poll. */
#define FWPATH_STEPS_MAX 2000000
/* Jumps nested deeper than this end the evaluation (the kernel allows 16
 * for nft; xtables has no fixed limit). */
#define FWPATH_DEPTH_MAX 256

/* The address of a packet's far end when it is any host on the internet
 * (struct fwpath_packet src or dst). */
#define FWPATH_INTERNET "internet"

enum fwpath_direction {
	FWPATH_OUT,  /* wg -> uplink: the first packet of a connection (NEW) */
	FWPATH_BACK, /* uplink -> wg: its replies (ESTABLISHED) */
};

enum fwpath_result {
	FWPATH_RULE_ACCEPTS,   /* an ACCEPT rule that applies to every such packet */
	FWPATH_POLICY_ACCEPTS, /* nothing decides; the base chain's policy accepts */
	FWPATH_RULE_DROPS,     /* a DROP/REJECT rule is reached first */
	FWPATH_POLICY_DROPS,   /* nothing accepts; the policy drops */
	FWPATH_TOO_COMPLEX,    /* past the step budget or the depth limit, or a loop */
};

/* The packets in question. Empty strings are "not known": rules that
 * match on it apply to some packets only. */
struct fwpath_packet {
	int family;            /* 4 or 6 */
	const char *in, *out;  /* interface names */
	const char *src, *dst; /* networks ("10.100.0.0/24"); "" = any address */
	unsigned ct_state;     /* FWRULES_CT_NEW or FWRULES_CT_ESTABLISHED */
	uint8_t proto;         /* IPPROTO_TCP, ...; 0 = not known */
	uint16_t dport;        /* 0 = not known */
	unsigned dst_types;    /* FWRULES_ADDRTYPE_* of the destination; 0 = not known */
};

/* Fills *ret with the packet of a direction: out (in = wg, out = uplink,
 * from the VPN network, NEW) or back (in = uplink, out = wg, to the VPN
 * network, ESTABLISHED). */
void fwpath_packet_for(enum fwpath_direction dir, int family, const char *wg, const char *uplink,
                       const char *vpn_net, struct fwpath_packet *ret);

/* Fills *ret with the first packet (NEW) of a connection from the VPN
 * network through interface wg to a port of this host (the input hook). */
void fwpath_packet_input(int family, const char *wg, const char *vpn_net, uint8_t proto,
                         uint16_t dport, struct fwpath_packet *ret);

struct fwpath_decision {
	enum fwpath_result result;
	const struct fwrules_chain *chain; /* of the deciding rule; the base chain for a policy */
	const struct fwrules_rule *rule;   /* NULL for a policy */
	size_t rule_index;                 /* 0-based within chain */
	bool after_docker;                 /* a jump to one of Docker's chains came first */
	size_t steps;                      /* rules looked at */
};

/* Decides the packet's fate in one base chain of table t (following its
 * jumps and gotos). Returns 0, or -ENOMEM. */
int fwpath_decide(const struct fwrules_table *t, const struct fwrules_chain *base,
                  const struct fwpath_packet *pk, struct fwpath_decision *ret);

/* A base chain to evaluate: of the iptables view or of a native nft table. */
struct fwpath_layer {
	const struct fwrules_table *table;
	const struct fwrules_chain *chain;
	bool native; /* an nft table of its own, not iptables' */
};

/* The base chains that filter forwarded packets of a family (hook forward,
 * and filter chains on postrouting), by priority: the iptables view's
 * FORWARD (ipt, may be NULL) and the native nft tables' chains (nft, may be
 * NULL). With skip_xt_tables, the base chains iptables-nft owns
 * (fwpath_is_xt_chain) are left out: the iptables view already holds
 * them. Returns how many were written (at most
 * max). */
size_t fwpath_layers(const struct fwrules_ruleset *ipt, const struct fwrules_tables *nft,
                     bool skip_xt_tables, int family, struct fwpath_layer *out, size_t max);

/* The same for the packets to this host: iptables' INPUT and the native
 * nft tables' filter chains on the input hook, by priority. */
size_t fwpath_input_layers(const struct fwrules_ruleset *ipt, const struct fwrules_tables *nft,
                           bool skip_xt_tables, int family, struct fwpath_layer *out, size_t max);

/* Whether an nft table has the family and name of one iptables-nft makes
 * for its xtables view (ip/ip6 filter, nat, mangle, raw, security). */
bool fwpath_is_xt_table(const struct fwrules_table *t);

/* Whether a base chain is iptables-nft's: in such a table, and named as
 * xtables names its built-in chains (FORWARD, POSTROUTING, ...). A chain of
 * another name there ("table ip nat { chain postrouting ... }", as Debian's
 * nftables.conf writes it) is native nftables. */
bool fwpath_is_xt_chain(const struct fwrules_table *t, const struct fwrules_chain *c);

/* The MASQUERADE/SNAT rule in a nat postrouting chain that covers traffic
 * from vpn_net ("" = unknown), preferring one whose -o is prefer_out. */
struct fwpath_masq {
	bool found;
	const struct fwrules_table *table;
	const struct fwrules_chain *chain;
	const struct fwrules_rule *rule;
	size_t rule_index;
	bool preferred;
};

/* Searches base (a nat postrouting chain of t) and what it jumps to.
 * Returns 0 or -ENOMEM; *ret is filled either way found or not. */
int fwpath_find_masquerade(const struct fwrules_table *t, const struct fwrules_chain *base,
                           const char *vpn_net, const char *prefer_out, struct fwpath_masq *ret);

/* Whether a chain's name is one of Docker's (DOCKER, DOCKER-USER, ...). */
bool fwpath_is_docker_chain(const char *name);

#endif
