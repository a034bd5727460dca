/* The firewall on the VPN's path: the live iptables ruleset (iptables-save,
 * nft or legacy backend), what the wg-quick PostUp lines expect of it, and
 * the uplink NIC that the MASQUERADE rule names (rtnetlink).
 *
 * Two layers: the parsed ruleset (heap, parser output, used only while the
 * probe runs) and `struct firewall`, the fixed-size facts the probe leaves
 * in the snapshot for the verdict and the renderers. */
#ifndef SPARKMON_FIREWALL_H
#define SPARKMON_FIREWALL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define FIREWALL_CHAIN_MAX  32 /* xtables allows 28 characters */
#define FIREWALL_ADDR_MAX   48 /* "a.b.c.d/n", or an IPv6 network as written */
#define FIREWALL_TARGET_MAX 32
#define FIREWALL_TEXT_MAX   256
#define FIREWALL_IFACES_MAX 4
#define FIREWALL_EXPECT_MAX 16
#define FIREWALL_CHAINS_MAX 4096
#define FIREWALL_RULES_MAX  100000

/* ---- the parsed ruleset --------------------------------------------------- */

struct firewall_rule {
	int line;   /* in the iptables-save output */
	char *text; /* "-A FORWARD -i wg0 -j ACCEPT", without the counters */
	bool has_counters;
	uint64_t packets, bytes;
	char in[IF_NAMESIZE], out[IF_NAMESIZE]; /* "" when absent; "eth+" is a prefix */
	bool in_neg, out_neg;
	char src[FIREWALL_ADDR_MAX], dst[FIREWALL_ADDR_MAX];
	bool src_neg, dst_neg;
	char target[FIREWALL_TARGET_MAX]; /* -j or -g; "" when the rule only counts */
	bool is_goto;
	/* Matches beyond interfaces and addresses (-p, -f, -m other than
	 * comment): the rule applies to some packets only. */
	bool conditional;
	char comment[128]; /* from -m comment --comment, unquoted */
};

struct firewall_chain {
	char name[FIREWALL_CHAIN_MAX];
	char policy[16]; /* "ACCEPT", "DROP"; "" for user-defined chains */
	struct firewall_rule *rules;
	size_t n_rules, cap;
};

struct firewall_table {
	bool present;
	struct firewall_chain *chains;
	size_t n_chains, cap;
};

struct firewall_ruleset {
	char backend[16];           /* "nf_tables", "legacy", "" when the header says nothing */
	bool legacy_tables_present; /* the nft dump warned of legacy tables */
	struct firewall_table filter, nat;
	size_t n_rules; /* in filter and nat */
};

/* ---- expectations from wg-quick PostUp ------------------------------------ */

struct firewall_expectation {
	char command[FIREWALL_TEXT_MAX]; /* one command, %i replaced */
	char origin[FIREWALL_TEXT_MAX];  /* "/etc/wireguard/wg0.conf PostUp" or "standard setup" */
	bool understood;
	char reason[128]; /* why not, when not understood */
	int family;       /* 4 (iptables) or 6 (ip6tables) */
	char table[16], chain[FIREWALL_CHAIN_MAX], target[FIREWALL_TARGET_MAX];
	char in[IF_NAMESIZE], out[IF_NAMESIZE];
	bool in_neg, out_neg;
	char src[FIREWALL_ADDR_MAX], dst[FIREWALL_ADDR_MAX];
	bool src_neg, dst_neg;
	bool checked; /* compared with the live ruleset (IPv4 filter/nat only) */
	bool present;
};

/* ---- the facts left in the snapshot --------------------------------------- */

enum firewall_forward_result {
	FIREWALL_FORWARD_RULE_ACCEPTS,   /* an ACCEPT rule is reached */
	FIREWALL_FORWARD_POLICY_ACCEPTS, /* nothing decides; the policy is ACCEPT */
	FIREWALL_FORWARD_RULE_DROPS,     /* a DROP/REJECT rule is reached first */
	FIREWALL_FORWARD_POLICY_DROPS,   /* nothing accepts; the policy drops */
};

struct firewall_forward {
	char iface[IF_NAMESIZE];
	enum firewall_forward_result result;
	char chain[FIREWALL_CHAIN_MAX]; /* of the deciding rule; FORWARD for the policy */
	int rule_number;                /* 1-based within that chain; 0 for the policy */
	char rule[FIREWALL_TEXT_MAX];   /* the deciding rule as iptables-save prints it */
	bool after_docker;              /* Docker's chains are jumped to before it */
};

struct firewall {
	char iptables_save[256]; /* the program that was run */
	char backend[16];
	bool legacy_tables_present;
	bool filter_present, nat_present;
	char forward_policy[16]; /* "ACCEPT" when there is no filter table */
	bool docker;             /* a DOCKER or DOCKER-USER chain exists */
	unsigned filter_rules, nat_rules;

	char wgquick_path[256];             /* the first wg-quick file used, "" for none */
	char wgquick_error[160];            /* why a wg-quick file could not be used */
	char vpn_subnet[FIREWALL_ADDR_MAX]; /* IPv4 network of the VPN, "" if unknown */

	size_t n_forward; /* one per WireGuard interface */
	struct firewall_forward forward[FIREWALL_IFACES_MAX];

	size_t n_expect;
	struct firewall_expectation expect[FIREWALL_EXPECT_MAX];
	unsigned not_understood, missing; /* among the expectations */

	/* The MASQUERADE/SNAT rule in nat POSTROUTING that covers the VPN. */
	bool masq_found;
	char masq_rule[FIREWALL_TEXT_MAX];
	char masq_chain[FIREWALL_CHAIN_MAX];
	int masq_rule_number;
	char masq_out[IF_NAMESIZE]; /* its -o, "" when it has none */
	bool masq_out_neg;
	bool masq_out_exists; /* a link of that name (or prefix) exists */

	/* The IPv4 default route of the main table. */
	bool default_route;
	char default_if[IF_NAMESIZE];
	char default_via[48];

	/* The wg-quick lines that name the MASQUERADE NIC, for the hint. */
	char postup_line[FIREWALL_TEXT_MAX * 2];
	char postdown_line[FIREWALL_TEXT_MAX * 2];
};

/* ---- firewall.c ------------------------------------------------------------ */

/* Parses iptables-save output; keeps the filter and nat tables. Output that
 * ends inside a table (no COMMIT) is truncated and refused: a partial ruleset
 * would give wrong answers. Returns 0, or -EINVAL/-EBADMSG/-E2BIG/-ENOMEM
 * with "line N: reason" in err. *ret is written only on success. */
int firewall_parse(const char *buf, size_t len, struct firewall_ruleset *ret, char *err,
                   size_t errlen);

void firewall_ruleset_free(struct firewall_ruleset *rs);

/* Looks a chain up in a parsed table; NULL when absent. */
const struct firewall_chain *firewall_find_chain(const struct firewall_table *table,
                                                 const char *name);

/* Parses one PostUp command ("iptables -t nat -A POSTROUTING -o eth0 -j
 * MASQUERADE"), with %i replaced by iface. Anything outside the understood
 * grammar (iptables/ip6tables, -A/-I with -t -i -o -s -d -j, '!') leaves
 * understood false and a reason: never guessed. */
void firewall_parse_command(const char *command, const char *iface,
                            struct firewall_expectation *ret);

/* Whether a parsed IPv4 expectation is a rule of the live ruleset. */
bool firewall_expectation_present(const struct firewall_ruleset *rs,
                                  const struct firewall_expectation *e);

/* Follows FORWARD (and the chains it jumps to) for a packet that comes in
 * on in_if and leaves on out_if ("" = any) from the VPN subnet ("" =
 * unknown), and says what decides its fate. */
void firewall_forward_decide(const struct firewall_ruleset *rs, const char *in_if,
                             const char *out_if, const char *vpn_subnet,
                             struct firewall_forward *ret);

/* Finds the MASQUERADE/SNAT rule in nat POSTROUTING (and the chains it
 * jumps to) that covers traffic from vpn_subnet, preferring one whose -o is
 * prefer_out. Fills the masq_* fields of *fw; returns whether one exists. */
bool firewall_find_masquerade(const struct firewall_ruleset *rs, const char *vpn_subnet,
                              const char *prefer_out, struct firewall *fw);

/* Whether an iptables interface pattern ("eth0", "eth+") matches a name. */
bool firewall_iface_matches(const char *pattern, const char *name);

/* The probe: runs iptables-save, reads the wg-quick files, asks rtnetlink
 * for the default route and the links. */
int firewall_read(const struct config *cfg, struct firewall *ret, char *err, size_t errlen);

#endif
