#include "monitor/routercheck.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* The ways in when the router itself cannot be reached from outside. */
#define ROUTERCHECK_CGNAT_HINT                                                                     \
	"ask the ISP for a public IPv4 address; or let clients use the server's IPv6 address "     \
	"(when the line has IPv6); or use a relay: a small server with a public address that "     \
	"the server and the clients both connect to"

static bool in(uint32_t a, uint32_t net, unsigned prefix)
{
	return (a & ~(0xffffffffu >> prefix)) == net;
}

enum routercheck_kind routercheck_kind(const char *ip)
{
	struct in_addr addr;
	uint32_t a;

	if (inet_pton(AF_INET, ip, &addr) != 1)
		return ROUTERCHECK_INVALID;
	a = ntohl(addr.s_addr);
	if (in(a, 0x0a000000u, 8) || in(a, 0xac100000u, 12) || in(a, 0xc0a80000u, 16))
		return ROUTERCHECK_PRIVATE;
	if (in(a, 0x64400000u, 10))
		return ROUTERCHECK_SHARED;
	if (in(a, 0x7f000000u, 8))
		return ROUTERCHECK_LOOPBACK;
	if (in(a, 0xa9fe0000u, 16))
		return ROUTERCHECK_LINK_LOCAL;
	if (in(a, 0, 8))
		return ROUTERCHECK_UNSPECIFIED;
	return ROUTERCHECK_PUBLIC;
}

const char *routercheck_kind_name(enum routercheck_kind kind)
{
	static const char *const names[] = {
	    [ROUTERCHECK_PUBLIC] = "public",         [ROUTERCHECK_PRIVATE] = "private",
	    [ROUTERCHECK_SHARED] = "shared",         [ROUTERCHECK_LOOPBACK] = "loopback",
	    [ROUTERCHECK_LINK_LOCAL] = "link-local", [ROUTERCHECK_UNSPECIFIED] = "unspecified",
	    [ROUTERCHECK_INVALID] = "invalid",
	};

	return (unsigned)kind <= ROUTERCHECK_INVALID ? names[kind] : "invalid";
}

/* "in the shared range 100.64.0.0/10 (carrier-grade NAT)", ... */
static const char *kind_words(enum routercheck_kind kind)
{
	switch (kind) {
	case ROUTERCHECK_PRIVATE:
		return "private (RFC 1918): another router or the ISP's NAT is in front of this "
		       "one";
	case ROUTERCHECK_SHARED:
		return "in the shared range 100.64.0.0/10: the ISP puts the line behind "
		       "carrier-grade NAT";
	case ROUTERCHECK_LOOPBACK:
		return "a loopback address";
	case ROUTERCHECK_LINK_LOCAL:
		return "link-local: the router has no address from the ISP";
	case ROUTERCHECK_UNSPECIFIED:
		return "unspecified";
	case ROUTERCHECK_INVALID:
		return "not an IPv4 address";
	case ROUTERCHECK_PUBLIC:
		break;
	}
	return "public";
}

static bool endpoint_ip(const struct snapshot *snap, const char **ret)
{
	const struct endpoint *ep = &snap->endpoint;

	if (snap->probes[PROBE_ENDPOINT].status != PROBE_OK || !ep->have_ip || !ep->public_ip[0])
		return false;
	*ret = ep->public_ip;
	return true;
}

int routercheck_cgnat_state(const struct snapshot *snap)
{
	const struct router *r = &snap->router;
	const char *seen;

	if (snap->probes[PROBE_ROUTER].status != PROBE_OK)
		return -1;
	if (!r->external_ip[0])
		return endpoint_ip(snap, &seen) ? 1 : -1;
	if (routercheck_kind(r->external_ip) != ROUTERCHECK_PUBLIC)
		return 1;
	if (endpoint_ip(snap, &seen) && strcmp(seen, r->external_ip) != 0)
		return 1;
	return 0;
}

int routercheck_mapping_ok(const struct router *r)
{
	if (r->upnp != ROUTER_ANSWERED || r->mapping == ROUTER_MAPPING_UNKNOWN)
		return -1;
	return r->mapping == ROUTER_MAPPING_FOUND && r->mapping_enabled &&
	       r->mapping_port == r->port && strcmp(r->mapping_client, r->address) == 0;
}

bool routercheck_cgnat(const struct config *cfg, const struct snapshot *snap, struct check *out)
{
	const struct router *r = &snap->router;
	enum routercheck_kind kind = routercheck_kind(r->external_ip);
	const char *seen;

	(void)cfg;
	if (!r->external_ip[0] && endpoint_ip(snap, &seen)) {
		/* The WAN works (this host reaches the internet), yet the router
		 * names no address: miniupnpd, for one, hides a private or
		 * shared one, as port forwarding cannot work with it. */
		verdict_set_check(
		    out, CHECK_CRITICAL, ROUTERCHECK_CGNAT_HINT,
		    "the router gives no external address while this host reaches "
		    "the internet from %s: routers hide a WAN address that is private "
		    "or shared (carrier-grade NAT, or a second router in front); "
		    "inbound connections cannot reach this router",
		    seen);
		return true;
	}
	if (!r->external_ip[0]) {
		verdict_set_check(
		    out, CHECK_UNKNOWN,
		    "look at the router's status page: is its internet connection up?",
		    "the router answered but gave no external address");
		return true;
	}
	if (kind != ROUTERCHECK_PUBLIC)
		verdict_set_check(out, CHECK_CRITICAL, ROUTERCHECK_CGNAT_HINT,
		                  "the router's external address %s is %s; inbound connections "
		                  "cannot reach this router",
		                  r->external_ip, kind_words(kind));
	else if (endpoint_ip(snap, &seen) && strcmp(seen, r->external_ip) != 0)
		verdict_set_check(
		    out, CHECK_CRITICAL, ROUTERCHECK_CGNAT_HINT,
		    "the router's external address %s is not the public IP %s the "
		    "internet sees: another NAT is in front of it; inbound connections "
		    "cannot reach this router",
		    r->external_ip, seen);
	else
		verdict_set_check(out, CHECK_OK, "", "the router's external address %s is public%s",
		                  r->external_ip,
		                  endpoint_ip(snap, &seen) ? " and the one the internet sees" : "");
	return true;
}

/* The forward's fix, in words: where to set it and what to. */
static void forward_hint(const struct router *r, char *buf, size_t size)
{
	snprintf(buf, size,
	         "in the router's web page, forward UDP %u to %s port %u (upnpc -l lists what the "
	         "router shows over UPnP)",
	         r->port, r->address, r->port);
}

bool routercheck_port_forward(const struct config *cfg, const struct snapshot *snap,
                              struct check *out)
{
	const struct router *r = &snap->router;
	char hint[CHECK_TEXT_MAX];

	(void)cfg;
	forward_hint(r, hint, sizeof(hint));
	if (r->upnp == ROUTER_REFUSED) {
		verdict_set_check(out, CHECK_UNKNOWN, hint, "%s", r->upnp_error);
		return true;
	}
	if (r->upnp != ROUTER_ANSWERED)
		return false; /* NAT-PMP cannot list mappings */
	switch (r->mapping) {
	case ROUTER_MAPPING_UNKNOWN:
		verdict_set_check(out, CHECK_UNKNOWN, hint,
		                  "the router answered UPnP, but not about UDP %u: %s", r->port,
		                  r->mapping_error);
		return true;
	case ROUTER_MAPPING_NONE:
		verdict_set_check(
		    out, CHECK_WARNING,
		    "a port forward made in the router's web page is often not listed "
		    "over UPnP: if clients connect, it is there; otherwise: ",
		    "the router lists %u port mapping%s over UPnP, none for UDP %u",
		    r->mappings_listed, r->mappings_listed == 1 ? "" : "s", r->port);
		snprintf(out->hint + strlen(out->hint), sizeof(out->hint) - strlen(out->hint), "%s",
		         hint);
		return true;
	case ROUTER_MAPPING_FOUND:
		break;
	}
	if (routercheck_mapping_ok(r) == 1)
		verdict_set_check(out, CHECK_OK, "",
		                  "the router forwards UDP %u to this host (%s:%u)", r->port,
		                  r->address, r->port);
	else if (!r->mapping_enabled)
		verdict_set_check(out, CHECK_CRITICAL, hint,
		                  "the router's forward of UDP %u to %s:%u is turned off", r->port,
		                  r->mapping_client, r->mapping_port);
	else
		verdict_set_check(out, CHECK_CRITICAL, hint,
		                  "the router forwards UDP %u to %s:%u, not to this host (%s:%u)",
		                  r->port, r->mapping_client, r->mapping_port, r->address, r->port);
	return true;
}

/* ---- the IPv6 way in ------------------------------------------------------ */

static void join_list(const char (*list)[INET6_ADDRSTRLEN], size_t n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", list[i]);
}

/* The AAAA record that is one of this host's addresses, or NULL. */
static const char *matching_record(const struct endpoint6 *e)
{
	for (size_t i = 0; i < e->n_hostname_ips; i++)
		for (size_t j = 0; j < e->n_addresses; j++)
			if (strcmp(e->hostname_ips[i], e->addresses[j]) == 0)
				return e->hostname_ips[i];
	return NULL;
}

bool routercheck_public_ip6(const struct config *cfg, const struct snapshot *snap,
                            struct check *out)
{
	const struct endpoint *ep = &snap->endpoint;
	const struct endpoint6 *e = &ep->v6;
	unsigned port = cfg->wireguard_listen_port ? cfg->wireguard_listen_port : 51820;
	char records[CHECK_TEXT_MAX / 4], mine[CHECK_TEXT_MAX / 4], hint[CHECK_TEXT_MAX];
	const char *match = matching_record(e);

	join_list(e->hostname_ips, e->n_hostname_ips, records, sizeof(records));
	join_list(e->addresses, e->n_addresses, mine, sizeof(mine));
	if (e->hostname_error[0]) {
		snprintf(hint, sizeof(hint), "check the DNS record: getent ahostsv6 %s",
		         ep->hostname);
		verdict_set_check(out, CHECK_WARNING, hint, "the AAAA lookup of %s failed: %s",
		                  ep->hostname, e->hostname_error);
		return true;
	}
	if (e->n_addresses == 0 && e->n_hostname_ips == 0)
		return false;
	if (e->n_addresses == 0) {
		verdict_set_check(out, CHECK_WARNING,
		                  "remove the AAAA record, or give this host a global IPv6 address "
		                  "(is IPv6 on at the router?)",
		                  "%s has the AAAA record %s, but this host has no global IPv6 "
		                  "address: clients that try IPv6 first cannot connect over it",
		                  ep->hostname, records);
		return true;
	}
	if (e->n_hostname_ips && !match) {
		snprintf(hint, sizeof(hint), "update the AAAA record of %s to %s", ep->hostname,
		         e->addresses[0]);
		verdict_set_check(out, CHECK_CRITICAL, hint,
		                  "%s resolves to %s over IPv6, not to this host's %s: clients "
		                  "using IPv6 cannot connect",
		                  ep->hostname, records, mine);
		return true;
	}
	if (match)
		verdict_set_check(out, CHECK_OK, "",
		                  "%s resolves to this host's IPv6 address %s: clients with IPv6 "
		                  "connect to it directly (no port forward; the router's IPv6 "
		                  "firewall must let UDP %u in)",
		                  ep->hostname, match, port);
	else
		verdict_set_check(
		    out, CHECK_OK, "",
		    "this host's global IPv6 address is %s (%s): clients with IPv6 can "
		    "use Endpoint = [%s]:%u (no port forward; the router's IPv6 "
		    "firewall must let UDP %u in)",
		    mine, e->ifname, e->addresses[0], port, port);
	return true;
}
