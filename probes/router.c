#include "probes/router.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/config.h"
#include "probes/netlink.h"
#include "probes/routerask.h"
#include "probes/routerhttp.h"
#include "probes/routerpmp.h"
#include "probes/routerupnp.h"
#include "probes/rtnl.h"
#include "probes/wireguard.h"

const char *router_answer_name(enum router_answer a)
{
	switch (a) {
	case ROUTER_NO_ANSWER:
		return "no answer";
	case ROUTER_ANSWERED:
		return "answered";
	case ROUTER_REFUSED:
		return "refused";
	}
	return "unknown";
}

const char *router_mapping_name(enum router_mapping m)
{
	switch (m) {
	case ROUTER_MAPPING_UNKNOWN:
		break;
	case ROUTER_MAPPING_NONE:
		return "none";
	case ROUTER_MAPPING_FOUND:
		return "found";
	}
	return "unknown";
}

/* The IPv4 default route's interface, its gateway, and the interface's
 * first IPv4 address with its prefix. */
static int read_uplink(struct router *r, char *err, size_t errlen)
{
	struct rtnl_addrs addrs = {.items = NULL};
	struct rtnl_route route;
	int e;

	e = rtnl_dump_default_route(AF_INET, &route, NETLINK_DEFAULT_TIMEOUT_MS);
	if (e < 0 || !route.has_gateway || !if_indextoname((unsigned)route.oif, r->ifname)) {
		snprintf(err, errlen, "no IPv4 default route through a gateway: no router to ask");
		return e < 0 ? e : -ENETUNREACH;
	}
	inet_ntop(AF_INET, route.gateway, r->gateway, sizeof(r->gateway));
	e = rtnl_dump_addrs(AF_INET, route.oif, &addrs, NETLINK_DEFAULT_TIMEOUT_MS);
	if (e == 0 && addrs.count > 0) {
		inet_ntop(AF_INET, addrs.items[0].address, r->address, sizeof(r->address));
		r->prefix = addrs.items[0].prefixlen;
	}
	rtnl_addrs_free(&addrs);
	if (e < 0 || !r->address[0]) {
		snprintf(err, errlen, "%s has no IPv4 address to ask the router from", r->ifname);
		return e < 0 ? e : -EADDRNOTAVAIL;
	}
	return 0;
}

/* A WireGuard link: the kernel's kind, or a userspace device's TUN link
 * beside its UAPI socket (a TUN of that name without one is not). */
static bool is_wireguard(const struct config *cfg, const struct rtnl_link *l)
{
	char abs[64], path[CONFIG_PATH_MAX + 64];
	struct stat st;

	if (strcmp(l->kind, "wireguard") == 0)
		return true;
	snprintf(abs, sizeof(abs), "/var/run/wireguard/%s.sock", l->name);
	return config_path(cfg, abs, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	       S_ISSOCK(st.st_mode);
}

/* Whether a watched WireGuard interface exists in this network namespace
 * (a userspace one's socket is seen from every namespace, its link only
 * in its own). */
static bool wireguard_here(const struct config *cfg)
{
	struct rtnl_links links = {.items = NULL};
	struct wireguard_names names;
	bool found = false;

	if (rtnl_dump_links(&links, NETLINK_DEFAULT_TIMEOUT_MS) < 0)
		return false;
	wireguard_discover(cfg, &links, &names);
	for (size_t i = 0; i < names.count && !found; i++) {
		const struct rtnl_link *l = rtnl_links_find(&links, names.names[i]);

		found = l && is_wireguard(cfg, l);
	}
	rtnl_links_free(&links);
	return found;
}

/* The checks judge one external address: UPnP's, which comes with the
 * mapping, else NAT-PMP's. */
static void pick_external(struct router *r)
{
	const char *ip = r->upnp == ROUTER_ANSWERED ? r->upnp_ip : "";

	if (!ip[0] && r->natpmp == ROUTER_ANSWERED)
		ip = r->natpmp_ip;
	snprintf(r->external_ip, sizeof(r->external_ip), "%s", ip);
}

bool router_valid(const struct router *r)
{
#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)
	return (unsigned)r->natpmp <= ROUTER_REFUSED && (unsigned)r->upnp <= ROUTER_REFUSED &&
	       (unsigned)r->mapping <= ROUTER_MAPPING_FOUND && r->prefix <= 32 &&
	       r->mappings_listed <= ROUTER_MAPPINGS_MAX && TERMINATED(r->ifname) &&
	       TERMINATED(r->address) && TERMINATED(r->gateway) && TERMINATED(r->natpmp_ip) &&
	       TERMINATED(r->natpmp_error) && TERMINATED(r->upnp_location) &&
	       TERMINATED(r->upnp_service) && TERMINATED(r->upnp_ip) && TERMINATED(r->upnp_error) &&
	       TERMINATED(r->mapping_client) && TERMINATED(r->mapping_description) &&
	       TERMINATED(r->mapping_error) && TERMINATED(r->external_ip);
#undef TERMINATED
}

int router_converse(uint16_t port, unsigned timeout_ms, struct router *ret, char *err,
                    size_t errlen)
{
	struct router r;
	struct in_addr gw;
	long long start;
	int fd, e;

	memset(&r, 0, sizeof(r));
	r.port = port;
	if ((e = read_uplink(&r, err, errlen)) < 0)
		return e;
	inet_pton(AF_INET, r.gateway, &gw);
	/* The search first: its answers queue on the socket while NAT-PMP is
	 * asked, so that a router answering neither costs one timeout. */
	start = routerhttp_now_ms();
	fd = routerupnp_search(&r);
	routerpmp_ask(gw, start + (long long)timeout_ms, &r);
	routerupnp_ask(fd, start + (long long)timeout_ms,
	               routerhttp_now_ms() + (long long)timeout_ms, &r);
	if (fd >= 0)
		close(fd);
	pick_external(&r);
	if (r.natpmp != ROUTER_ANSWERED && r.upnp != ROUTER_ANSWERED) {
		if (r.natpmp == ROUTER_REFUSED || r.upnp == ROUTER_REFUSED) {
			snprintf(err, errlen, "%s%s%s", r.natpmp_error,
			         r.natpmp_error[0] && r.upnp_error[0] ? "; " : "", r.upnp_error);
			return -EPROTO;
		}
		snprintf(err, errlen,
		         "no router answered NAT-PMP or UPnP on %s (gateway %s) within %u ms",
		         r.ifname, r.gateway, timeout_ms);
		return -EHOSTUNREACH;
	}
	*ret = r;
	return 0;
}

int router_read(const struct config *cfg, uint16_t port, struct router *ret, char *err,
                size_t errlen)
{
	int e;

	if (cfg->router_enabled == CONFIG_SWITCH_NO) {
		snprintf(err, errlen, "turned off ([router] enabled = no)");
		return -ENOENT;
	}
	/* auto: the forward matters where WireGuard listens; elsewhere the
	 * router (and the LAN, with SSDP) is left alone. */
	if (cfg->router_enabled == CONFIG_SWITCH_AUTO && !wireguard_here(cfg)) {
		snprintf(err, errlen,
		         "no WireGuard interface here: the router is not asked ([router] enabled = "
		         "yes asks it anyway)");
		return -ENOENT;
	}
	e = routerask_run(port, (unsigned)cfg->router_timeout_ms, ret, err, errlen);
	/* No router, or no route to one: absent with auto. */
	if (cfg->router_enabled == CONFIG_SWITCH_AUTO &&
	    (e == -EHOSTUNREACH || e == -ENETUNREACH || e == -ENOENT || e == -EADDRNOTAVAIL))
		return -ENOENT;
	return e;
}
