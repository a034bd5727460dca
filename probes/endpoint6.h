/* The IPv6 way in: the uplink's global IPv6 addresses (a client with IPv6
 * can reach one of them directly, without a port forward, where the
 * router's IPv6 firewall lets the WireGuard port in) and the AAAA records
 * of the clients' DNS name, compared by the verdict. Part of the endpoint
 * probe's area. */
#ifndef SPARKMON_ENDPOINT6_H
#define SPARKMON_ENDPOINT6_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define ENDPOINT6_IPS_MAX   4
#define ENDPOINT6_ERROR_MAX 160

struct endpoint6 {
	/* The IPv6 default route's interface, else the IPv4 one's; "" when
	 * there is neither. */
	char ifname[IF_NAMESIZE];
	size_t n_addresses; /* global unicast addresses on it */
	char addresses[ENDPOINT6_IPS_MAX][INET6_ADDRSTRLEN];
	/* [endpoint] hostname's AAAA records. */
	size_t n_hostname_ips;
	char hostname_ips[ENDPOINT6_IPS_MAX][INET6_ADDRSTRLEN];
	char hostname_error[ENDPOINT6_ERROR_MAX]; /* "" when resolved or not asked */
};

/* Whether an address (16 bytes) is global unicast (2000::/3): not
 * link-local, unique local (fc00::/7), loopback or multicast. */
bool endpoint6_is_global(const uint8_t *address);

/* Fills *ret: the uplink's global addresses (rtnetlink), and the AAAA
 * records of [endpoint] hostname (without its ":port") when it is set.
 * Failures are recorded, never returned. */
void endpoint6_read(const struct config *cfg, struct endpoint6 *ret);

#endif
