/* The router checks: router.port_forward (the router forwards the
 * WireGuard port to this host) and router.cgnat (inbound connections can
 * reach the router at all). Both are absent when no router answered. */
#ifndef SPARKMON_ROUTERCHECK_H
#define SPARKMON_ROUTERCHECK_H

#include <stdbool.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"

/* What kind of IPv4 address a router's external address is. */
enum routercheck_kind {
	ROUTERCHECK_PUBLIC,
	ROUTERCHECK_PRIVATE,     /* RFC 1918: 10/8, 172.16/12, 192.168/16 */
	ROUTERCHECK_SHARED,      /* RFC 6598: 100.64/10, carrier-grade NAT */
	ROUTERCHECK_LOOPBACK,    /* 127/8 */
	ROUTERCHECK_LINK_LOCAL,  /* 169.254/16 */
	ROUTERCHECK_UNSPECIFIED, /* 0/8 */
	ROUTERCHECK_INVALID,     /* not an IPv4 address */
};

enum routercheck_kind routercheck_kind(const char *ip);

/* "public", "private", "shared", ... as JSON carries it. */
const char *routercheck_kind_name(enum routercheck_kind kind);

/* Each fills *out and returns true, or returns false when the check is
 * absent (no router answered; port_forward also when only NAT-PMP did,
 * which cannot list mappings). */
bool routercheck_port_forward(const struct config *cfg, const struct snapshot *snap,
                              struct check *out);
bool routercheck_cgnat(const struct config *cfg, const struct snapshot *snap, struct check *out);

/* endpoint.public_ip6, the IPv6 way in: the uplink's global IPv6 address
 * (where clients with IPv6 can connect without a port forward), compared
 * with the AAAA records of [endpoint] hostname. Absent when there is
 * neither an address nor a record. */
bool routercheck_public_ip6(const struct config *cfg, const struct snapshot *snap,
                            struct check *out);

/* For the metrics and JSON: 1 when the router maps the port to this host,
 * 0 when it does not (or maps it elsewhere), -1 when unknown. */
int routercheck_mapping_ok(const struct router *r);

/* 1 when inbound connections cannot reach the router (its external
 * address is not public, or is not the public IP the endpoint probe saw),
 * 0 when they can, -1 when unknown. */
int routercheck_cgnat_state(const struct snapshot *snap);

#endif
