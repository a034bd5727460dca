/* Network addresses as the configuration writes them: listen endpoints
 * ("127.0.0.1:19586", "[::1]:19586") and client networks ("10.0.0.0/24",
 * "::1/128", a bare address meaning that one host). */
#ifndef SPARKMON_NETADDR_H
#define SPARKMON_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct netaddr_net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

struct netaddr_endpoint {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* Parses one network. Host bits beyond the prefix are cleared. Returns 0 or
 * -EINVAL; *ret is written only on success. */
int netaddr_parse_net(const char *text, struct netaddr_net *ret);

/* Parses one "address:port" ("[v6]:port" for IPv6). */
int netaddr_parse_endpoint(const char *text, struct netaddr_endpoint *ret);

/* Parses a list separated by commas and/or blanks into ret[0..max). Returns
 * the count, -EINVAL (bad item) or -E2BIG (more than max). An empty list is
 * 0 items. With ret NULL it only validates. */
int netaddr_parse_nets(const char *list, struct netaddr_net *ret, size_t max);
int netaddr_parse_endpoints(const char *list, struct netaddr_endpoint *ret, size_t max);

/* True when the socket address lies in the network; IPv4-mapped IPv6
 * addresses match IPv4 networks. */
bool netaddr_net_contains(const struct netaddr_net *net, const struct sockaddr *sa);

/* Builds a network from a raw address (4 or 16 bytes) and prefix. */
void netaddr_net_from(struct netaddr_net *ret, int family, const void *addr, unsigned prefix);

/* "10.0.0.0/24"; "[::1]:19586". */
void netaddr_format_net(const struct netaddr_net *net, char *buf, size_t size);
void netaddr_format_endpoint(const struct sockaddr *sa, char *buf, size_t size);

#endif
