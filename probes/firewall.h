/* The firewall on the VPN's path: the probe. It runs iptables-save (and
 * ip6tables-save when the VPN carries IPv6) and `nft -j list ruleset`,
 * reads the wg-quick files and asks rtnetlink for the default route and the
 * links; the parsers (iptsave, nftjson, postup) and the path evaluator
 * (fwpath) do the rest. What it leaves in the snapshot is `struct
 * firewall`: fixed-size facts for the verdict and the renderers.
 *
 * Which base chains are evaluated: the iptables view's (iptables-save)
 * always; every nft base chain besides, except, unless iptables-save
 * reports the legacy backend, those iptables-nft owns: the built-in chains
 * (FORWARD, POSTROUTING, ...) of the ip/ip6 tables filter, nat, mangle,
 * raw and security. Those are the iptables view itself: read from
 * iptables-save they keep iptables' rule text and rule numbers, which the
 * hints and the PostUp comparison need. A chain of another name in such a
 * table ("table ip nat { chain postrouting }") is native and evaluated;
 * with the legacy backend every nft chain is. */
#ifndef SPARKMON_FIREWALL_H
#define SPARKMON_FIREWALL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/fwpath.h"
#include "probes/fwrules.h"
#include "probes/postup.h"

struct config;

#define FIREWALL_TEXT_MAX      256
#define FIREWALL_IFACES_MAX    8 /* as many as [wireguard] interfaces allows */
#define FIREWALL_EXPECT_MAX    16
#define FIREWALL_DECISIONS_MAX 96
#define FIREWALL_INPUT_MAX     32

/* What decides the fate of one kind of VPN packet (interface, family,
 * direction) in one base chain. Every base chain must accept. */
struct firewall_decision {
	char iface[IF_NAMESIZE];
	int family; /* 4 or 6 */
	enum fwpath_direction direction;
	enum fwpath_result result;
	bool nothing_filters; /* no base chain at all: the kernel forwards */
	bool native;          /* a chain of a native nft table, not iptables' */
	char table_family[8]; /* "ip", "ip6", "inet" */
	char table[FWRULES_TABLE_MAX];
	char base_chain[FWRULES_CHAIN_MAX]; /* "FORWARD", or the nft base chain */
	char policy[16];                    /* of the base chain */
	char chain[FWRULES_CHAIN_MAX];      /* of the deciding rule; base_chain for the policy */
	int rule_number;                    /* 1-based within chain; 0 for the policy */
	char rule[FIREWALL_TEXT_MAX];       /* the deciding rule as its tool prints it */
	bool after_docker;                  /* Docker's chains are jumped to before it */
};

struct firewall {
	char iptables_save[256]; /* the programs that were run */
	char ip6tables_save[256];
	char nft[256];
	bool nft_read;       /* the nft ruleset was read */
	char nft_error[200]; /* why not ("not installed: ..."), "" when read or not configured */
	unsigned nft_tables, nft_native_tables; /* tables seen; those evaluated besides iptables' */
	char backend[16];
	bool legacy_tables_present;
	bool filter_present, nat_present;
	char forward_policy[16]; /* "ACCEPT" when there is no filter table */
	bool docker;             /* a DOCKER or DOCKER-USER chain exists */
	unsigned filter_rules, nat_rules;

	bool ipv6;            /* the VPN carries IPv6 (Address or AllowedIPs) */
	bool ipv6_read;       /* ip6tables-save's ruleset was read */
	char ipv6_error[200]; /* why not */
	char forward6_policy[16];

	char wgquick_path[256];             /* the first wg-quick file used, "" for none */
	char wgquick_error[160];            /* why a wg-quick file could not be used */
	char vpn_subnet[FWRULES_ADDR_MAX];  /* IPv4 network of the VPN, "" if unknown */
	char vpn_subnet6[FWRULES_ADDR_MAX]; /* IPv6 network of the VPN, "" if unknown */

	size_t n_ifaces; /* the WireGuard interfaces looked at */
	char ifaces[FIREWALL_IFACES_MAX][IF_NAMESIZE];

	size_t n_decisions;
	struct firewall_decision decisions[FIREWALL_DECISIONS_MAX];
	bool decisions_cut; /* more base chains than FIREWALL_DECISIONS_MAX */

	size_t n_expect;
	struct postup_expectation expect[FIREWALL_EXPECT_MAX];
	unsigned not_understood, missing; /* among the expectations */

	/* The MASQUERADE/SNAT rule on postrouting that covers the VPN. */
	bool masq_found;
	bool masq_native;                       /* in a native nft table */
	char masq_table[FWRULES_TABLE_MAX + 8]; /* "nat", or "inet mytable" */
	char masq_rule[FIREWALL_TEXT_MAX];
	char masq_chain[FWRULES_CHAIN_MAX];
	int masq_rule_number;
	char masq_out[IF_NAMESIZE]; /* its -o, "" when it has none */
	bool masq_out_neg;
	bool masq_out_exists; /* a link of that name (or prefix) exists */

	/* The default routes of the main table. */
	bool default_route;
	char default_if[IF_NAMESIZE];
	char default_via[48];
	char default6_if[IF_NAMESIZE];

	/* INPUT: the first packet of a TCP connection from each WireGuard
	 * interface (IPv4, from the VPN network) to the SSH port. */
	uint16_t input_port; /* 0: not evaluated ([ssh] enabled = no) */
	bool ufw;            /* ufw's chains are loaded (ufw-user-input) */
	size_t n_input;
	struct firewall_decision input[FIREWALL_INPUT_MAX];
	bool input_cut;

	/* The wg-quick lines that name the MASQUERADE NIC, for the hint. */
	char postup_line[FIREWALL_TEXT_MAX * 2];
	char postdown_line[FIREWALL_TEXT_MAX * 2];
};

/* ---- firewall.c ------------------------------------------------------------ */

/* Fills the decisions of one interface, family and direction: one per
 * base chain of the layers (or one "nothing filters" when there is none).
 * Pure; used by the probe and the tests. Returns 0 or -ENOMEM. */
int firewall_decide(struct firewall *fw, const struct fwpath_layer *layers, size_t n_layers,
                    const char *iface, int family, enum fwpath_direction dir, const char *uplink,
                    const char *vpn_net);

/* The same for the packets to this host (fw->input): one decision per
 * base chain of the input layers for a new TCP connection from iface to
 * port. Pure. Returns 0 or -ENOMEM. */
int firewall_decide_input(struct firewall *fw, const struct fwpath_layer *layers, size_t n_layers,
                          const char *iface, const char *vpn_net, uint16_t port);

/* The probe: runs iptables-save, nft, ip6tables-save, reads the wg-quick
 * files, asks rtnetlink for the default route and the links. */
int firewall_read(const struct config *cfg, struct firewall *ret, char *err, size_t errlen);

#endif
