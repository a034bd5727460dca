/* The ruleset model shared by the firewall parsers (iptables-save text,
 * `nft -j list ruleset` JSON) and the path evaluator: tables of chains of
 * rules, each rule reduced to what decides a VPN packet's fate (interfaces,
 * addresses, connection state, a verdict or a jump), plus the text helpers
 * the parsers share (tokenizer, networks, interface patterns). */
#ifndef SPARKMON_FWRULES_H
#define SPARKMON_FWRULES_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FWRULES_CHAIN_MAX  64 /* xtables allows 28 characters; longer nft names are refused */
#define FWRULES_ADDR_MAX   48 /* "a.b.c.d/n", or an IPv6 network as written */
#define FWRULES_TARGET_MAX 32
#define FWRULES_TABLE_MAX  32
#define FWRULES_TOKEN_MAX  1024
#define FWRULES_CHAINS_MAX 4096
#define FWRULES_RULES_MAX  100000

/* Connection-tracking states a rule matches (-m conntrack --ctstate,
 * -m state --state, nft `ct state`), as a bit set. */
#define FWRULES_CT_NEW         (1u << 0)
#define FWRULES_CT_ESTABLISHED (1u << 1)
#define FWRULES_CT_RELATED     (1u << 2)
#define FWRULES_CT_INVALID     (1u << 3)
#define FWRULES_CT_UNTRACKED   (1u << 4)

/* Address types a rule matches of the destination (-m addrtype
 * --dst-type), as a bit set. */
#define FWRULES_ADDRTYPE_LOCAL     (1u << 0)
#define FWRULES_ADDRTYPE_UNICAST   (1u << 1)
#define FWRULES_ADDRTYPE_BROADCAST (1u << 2)
#define FWRULES_ADDRTYPE_MULTICAST (1u << 3)

struct fwrules_rule {
	int line;   /* in the iptables-save output; 0 for nft */
	char *text; /* "-A FORWARD -i wg0 -j ACCEPT", without the counters */
	bool has_counters;
	uint64_t packets, bytes;
	char in[IF_NAMESIZE], out[IF_NAMESIZE]; /* "" when absent; "eth+" is a prefix */
	bool in_neg, out_neg;
	char src[FWRULES_ADDR_MAX], dst[FWRULES_ADDR_MAX];
	bool src_neg, dst_neg;
	/* 0 = any family; 4 or 6 when the rule matches one only (nft `ip
	 * saddr` in an inet table, `meta nfproto ipv6`). */
	int family;
	/* States matched (0 = no state match); ct_neg for "! --ctstate". */
	unsigned ct_states;
	bool ct_neg;
	/* -p / nft's l4proto (IPPROTO_TCP, ...), 0 = any; proto_neg for "! -p". */
	uint8_t proto;
	bool proto_neg;
	/* --dport, nft's tcp/udp/th dport: a range, both 0 = any port. */
	uint16_t dport_min, dport_max;
	bool dport_neg;
	/* -m addrtype --dst-type: FWRULES_ADDRTYPE_* (0 = no such match). */
	unsigned dst_types;
	bool dst_types_neg;
	/* "ACCEPT", "DROP", "REJECT", "RETURN", "MASQUERADE", "SNAT", a
	 * chain's name; "" when the rule only counts or logs. */
	char target[FWRULES_TARGET_MAX];
	bool is_goto;
	/* Matches beyond interfaces, addresses, family and state (-p, -f,
	 * -m other than comment/conntrack/state, nft matches not understood):
	 * the rule applies to some packets only. */
	bool conditional;
	char comment[128]; /* from -m comment --comment or nft's comment, unquoted */
};

enum fwrules_hook {
	FWRULES_HOOK_NONE, /* a regular chain, reached only by jumps */
	FWRULES_HOOK_FORWARD,
	FWRULES_HOOK_POSTROUTING,
	FWRULES_HOOK_OTHER,
	FWRULES_HOOK_INPUT, /* iptables' INPUT, nft's input hook: packets to this host */
};

struct fwrules_chain {
	char name[FWRULES_CHAIN_MAX];
	char policy[16]; /* "ACCEPT", "DROP"; "" for user-defined chains */
	enum fwrules_hook hook;
	bool nat; /* an nft base chain of type nat */
	int priority;
	struct fwrules_rule *rules;
	size_t n_rules, cap;
};

struct fwrules_table {
	bool present;
	char family[8]; /* nft: "ip", "ip6", "inet", ...; iptables: "ip" or "ip6" */
	char name[FWRULES_TABLE_MAX];
	struct fwrules_chain *chains;
	size_t n_chains, cap;
};

/* What iptables-save (or ip6tables-save) printed. */
struct fwrules_ruleset {
	int family;                 /* 4 or 6 */
	char backend[16];           /* "nf_tables", "legacy", "" when the header says nothing */
	bool legacy_tables_present; /* the nft dump warned of legacy tables */
	struct fwrules_table filter, nat;
	size_t n_rules; /* in filter and nat */
};

/* Every table of an nft ruleset. */
struct fwrules_tables {
	struct fwrules_table *items;
	size_t count, cap;
};

/* ---- fwrules.c --------------------------------------------------------------- */

void fwrules_table_free(struct fwrules_table *t);
void fwrules_ruleset_free(struct fwrules_ruleset *rs);
void fwrules_tables_free(struct fwrules_tables *ts);

/* Looks a chain up in a table; NULL when absent. */
const struct fwrules_chain *fwrules_find_chain(const struct fwrules_table *table, const char *name);
struct fwrules_chain *fwrules_find_chain_mut(struct fwrules_table *table, const char *name);

/* Adds an empty chain named `name` (which must fit). Returns it, or NULL
 * when out of memory or past FWRULES_CHAINS_MAX (errno says which). */
struct fwrules_chain *fwrules_add_chain(struct fwrules_table *t, const char *name);

/* Appends a copy of *r (which then owns r->text) to c. Returns 0 or -ENOMEM. */
int fwrules_add_rule(struct fwrules_chain *c, const struct fwrules_rule *r);

/* An IP protocol by name ("tcp", "udp", "icmp", "6") or number; 0 when
 * not known ("all" is 0 too: any protocol). */
int fwrules_proto_parse(const char *name);

/* A port ("22") or range ("20:25", nft's "20-25") into *min, *max.
 * Returns 0 or -EINVAL. */
int fwrules_ports_parse(const char *text, uint16_t *min, uint16_t *max);

/* Whether a rule matches on more than interfaces, addresses, family and
 * state: a protocol, a port, or a match not understood. */
bool fwrules_rule_narrowed(const struct fwrules_rule *r);

/* Whether an iptables interface pattern ("eth0", "eth+") matches a name. */
bool fwrules_iface_matches(const char *pattern, const char *name);

/* Next blank-separated token. iptables-save quotes arguments with blanks in
 * double quotes and escapes '"' and '\' inside with a backslash; with shell
 * set, single quotes also quote (PostUp commands are shell text). Returns 1
 * with a token, 0 at the end, -EINVAL for an unterminated quote or an
 * overlong token. */
int fwrules_next_token(const char **pos, char *out, size_t size, bool shell);

/* A network of either family: "10.0.0.0/24", "10.0.0.5" (= /32),
 * "10.0.0.0/255.255.255.0", "fd00::/64", "fd00::1" (= /128). */
struct fwrules_net {
	int family; /* 4 or 6 */
	uint8_t addr[16];
	unsigned prefix;
};

int fwrules_net_parse(const char *text, struct fwrules_net *ret);
void fwrules_net_format(const struct fwrules_net *n, char *buf, size_t size);
/* Whether inner lies inside outer (same family, longer or equal prefix). */
bool fwrules_net_contains(const struct fwrules_net *outer, const struct fwrules_net *inner);
/* Two address texts name the same network ("10.0.0.5" = "10.0.0.5/32"). */
bool fwrules_same_net(const char *a, const char *b);

/* Copies src into dst if it fits; false (dst untouched) if not. */
bool fwrules_copy_field(char *dst, size_t size, const char *src);

/* "line N: message" (or the message alone for line 0) into err, made valid
 * UTF-8: messages quote the ruleset. Returns r. */
int fwrules_fail(char *err, size_t errlen, int line, int r, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
