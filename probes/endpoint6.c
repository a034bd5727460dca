#include "probes/endpoint6.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "monitor/config.h"
#include "probes/netlink.h"
#include "probes/rtnl.h"

bool endpoint6_is_global(const uint8_t *address)
{
	return (address[0] & 0xe0) == 0x20;
}

static void add_unique(char (*list)[INET6_ADDRSTRLEN], size_t *n, const char *ip)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(list[i], ip) == 0)
			return;
	if (*n < ENDPOINT6_IPS_MAX)
		snprintf(list[(*n)++], INET6_ADDRSTRLEN, "%s", ip);
}

static void read_addresses(struct endpoint6 *e)
{
	struct rtnl_addrs addrs = {.items = NULL};
	struct rtnl_route route;

	if (rtnl_dump_default_route(AF_INET6, &route, NETLINK_DEFAULT_TIMEOUT_MS) < 0 &&
	    rtnl_dump_default_route(AF_INET, &route, NETLINK_DEFAULT_TIMEOUT_MS) < 0)
		return;
	if (!if_indextoname((unsigned)route.oif, e->ifname)) {
		e->ifname[0] = '\0';
		return;
	}
	if (rtnl_dump_addrs(AF_INET6, route.oif, &addrs, NETLINK_DEFAULT_TIMEOUT_MS) < 0)
		return;
	for (size_t i = 0; i < addrs.count; i++) {
		char ip[INET6_ADDRSTRLEN];

		if (addrs.items[i].family != AF_INET6 ||
		    !endpoint6_is_global(addrs.items[i].address))
			continue;
		inet_ntop(AF_INET6, addrs.items[i].address, ip, sizeof(ip));
		add_unique(e->addresses, &e->n_addresses, ip);
	}
	rtnl_addrs_free(&addrs);
}

/* Like the endpoint probe's A lookup: getaddrinfo blocks up to the
 * resolver's own timeouts, on the probe's own thread. */
static void resolve(const char *name, struct endpoint6 *e)
{
	struct addrinfo hints = {.ai_family = AF_INET6, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	int r = getaddrinfo(name, NULL, &hints, &res);

	if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_ADDRFAMILY)
		return; /* no AAAA record: nothing to compare */
	if (r != 0) {
		snprintf(e->hostname_error, sizeof(e->hostname_error), "%s",
		         r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char ip[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, ip,
		          sizeof(ip));
		add_unique(e->hostname_ips, &e->n_hostname_ips, ip);
	}
	freeaddrinfo(res);
}

void endpoint6_read(const struct config *cfg, struct endpoint6 *ret)
{
	char name[CONFIG_TEXT_MAX], *colon;

	memset(ret, 0, sizeof(*ret));
	read_addresses(ret);
	snprintf(name, sizeof(name), "%s", cfg->endpoint_hostname);
	colon = strrchr(name, ':');
	if (colon)
		*colon = '\0';
	if (name[0])
		resolve(name, ret);
}
