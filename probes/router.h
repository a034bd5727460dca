/* The router in front of the server, asked the way home routers answer:
 * NAT-PMP (its external address) and UPnP IGD (its external address and
 * whether it forwards the WireGuard port to this host). Read only: no
 * mapping is ever added or deleted; NAT-PMP's only question that changes
 * nothing is the external address, UPnP's are GetExternalIPAddress,
 * GetSpecificPortMappingEntry and GetGenericPortMappingEntry.
 *
 * Everything is asked on the uplink (the default route's interface) only:
 * NAT-PMP goes to the default gateway, SSDP is sent out of the uplink, and
 * a UPnP device's URLs must lie in the uplink's network. */
#ifndef SPARKMON_ROUTER_H
#define SPARKMON_ROUTER_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/routermsg.h"

struct config;

#define ROUTER_ERROR_MAX    200
#define ROUTER_TEXT_MAX     64
#define ROUTER_MAPPINGS_MAX 64 /* generic entries counted at most */

/* How one protocol went. */
enum router_answer {
	ROUTER_NO_ANSWER, /* nothing answered in time (or nothing listens) */
	ROUTER_ANSWERED,
	ROUTER_REFUSED, /* an answer sparkmon refused or could not use: see the error */
};

/* The router's forward of UDP <port>, as UPnP lists it. */
enum router_mapping {
	ROUTER_MAPPING_UNKNOWN, /* not asked (no UPnP) or the question failed */
	ROUTER_MAPPING_NONE,    /* NoSuchEntryInArray */
	ROUTER_MAPPING_FOUND,
};

struct router {
	/* The uplink. */
	char ifname[IF_NAMESIZE];
	char address[INET_ADDRSTRLEN]; /* this host's IPv4 address on it */
	uint8_t prefix;
	char gateway[INET_ADDRSTRLEN];
	uint16_t port; /* the WireGuard listen port asked about */

	enum router_answer natpmp;
	char natpmp_ip[INET_ADDRSTRLEN];
	char natpmp_error[ROUTER_ERROR_MAX];

	enum router_answer upnp;
	char upnp_location[ROUTERMSG_URL_MAX]; /* the description's URL */
	char upnp_service[ROUTERMSG_SERVICE_MAX];
	char upnp_ip[INET_ADDRSTRLEN]; /* "" when the router has none (not connected) */
	char upnp_error[ROUTER_ERROR_MAX];

	enum router_mapping mapping;
	char mapping_client[INET_ADDRSTRLEN]; /* NewInternalClient */
	uint16_t mapping_port;                /* NewInternalPort */
	bool mapping_enabled;                 /* NewEnabled */
	char mapping_description[ROUTER_TEXT_MAX];
	char mapping_error[ROUTER_ERROR_MAX]; /* why it is unknown though UPnP answered */
	uint32_t mappings_listed;             /* generic entries, at most ROUTER_MAPPINGS_MAX */

	/* What the checks judge: UPnP's external address, else NAT-PMP's. */
	char external_ip[INET_ADDRSTRLEN];
};

/* Asks the router, in a child process (probes/routerask.h): the answers
 * of devices on the LAN are parsed with no capability and no memory of
 * the daemon's. Returns 0 when at least one protocol answered; -EPROTO
 * with the reasons in err when every answer was refused; -ENOENT with an
 * informational line in err when enabled = no, when enabled = auto and no
 * watched WireGuard interface exists in this network namespace, and, with
 * enabled = auto, when none answered or there is no IPv4 default route;
 * with enabled = yes those are -EHOSTUNREACH and the route lookup's
 * error; -ETIMEDOUT when the child overran its deadline. port: the
 * WireGuard port. */
int router_read(const struct config *cfg, uint16_t port, struct router *ret, char *err,
                size_t errlen);

/* The conversation itself, in the calling process: the uplink (the IPv4
 * default route), NAT-PMP and UPnP, each wait at most timeout_ms. Returns
 * 0, -EPROTO (every answer refused), -EHOSTUNREACH (none answered), or
 * the uplink's error (-ENETUNREACH without a default route through a
 * gateway, -EADDRNOTAVAIL without an address on it); err says which. */
int router_converse(uint16_t port, unsigned timeout_ms, struct router *ret, char *err,
                    size_t errlen);

/* Whether the facts are in range and every text is NUL-terminated (what
 * crosses a process boundary is checked before use). */
bool router_valid(const struct router *r);

/* "no answer", "answered", "refused"; "unknown", "none", "found". */
const char *router_answer_name(enum router_answer a);
const char *router_mapping_name(enum router_mapping m);

#endif
