#include "monitor/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NETADDR_ITEM_MAX 64

void netaddr_net_from(struct netaddr_net *ret, int family, const void *addr, unsigned prefix)
{
	size_t len = family == AF_INET ? 4 : 16;

	memset(ret, 0, sizeof(*ret));
	ret->family = family;
	ret->prefix = prefix > len * 8 ? (unsigned)len * 8 : prefix;
	memcpy(ret->addr, addr, len);
	for (size_t i = 0; i < len; i++) {
		unsigned bits = ret->prefix > i * 8 ? ret->prefix - (unsigned)i * 8 : 0;

		if (bits < 8)
			ret->addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

int netaddr_parse_net(const char *text, struct netaddr_net *ret)
{
	char buf[NETADDR_ITEM_MAX];
	uint8_t addr[16];
	char *slash, *end;
	unsigned long prefix;
	int family;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		family = AF_INET6;
	else
		return -EINVAL;
	prefix = family == AF_INET ? 32 : 128;
	if (slash) {
		unsigned long max = prefix;

		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno || *end || prefix > max)
			return -EINVAL;
	}
	netaddr_net_from(ret, family, addr, (unsigned)prefix);
	return 0;
}

int netaddr_parse_endpoint(const char *text, struct netaddr_endpoint *ret)
{
	char host[NETADDR_ITEM_MAX];
	struct netaddr_endpoint ep;
	const char *colon;
	unsigned long port;
	char *end;
	size_t hlen;

	memset(&ep, 0, sizeof(ep));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - text - 1);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, text + 1, hlen);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, hlen);
	}
	host[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -EINVAL;
	if (text[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)&ep.sa;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		ep.len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep.sa;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		ep.len = sizeof(*in6);
	}
	*ret = ep;
	return 0;
}

/* Walks the items of a list separated by commas and blanks. */
static const char *next_item(const char *p, char *item, size_t size, int *err)
{
	size_t len;

	while (*p == ',' || *p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return NULL;
	len = strcspn(p, ", \t");
	if (len >= size) {
		*err = -EINVAL;
		return NULL;
	}
	memcpy(item, p, len);
	item[len] = '\0';
	return p + len;
}

int netaddr_parse_nets(const char *list, struct netaddr_net *ret, size_t max)
{
	char item[NETADDR_ITEM_MAX];
	int err = 0, n = 0;
	struct netaddr_net net;

	for (const char *p = list; (p = next_item(p, item, sizeof(item), &err));) {
		if (netaddr_parse_net(item, &net) < 0)
			return -EINVAL;
		if ((size_t)n >= max)
			return -E2BIG;
		if (ret)
			ret[n] = net;
		n++;
	}
	return err ? err : n;
}

int netaddr_parse_endpoints(const char *list, struct netaddr_endpoint *ret, size_t max)
{
	char item[NETADDR_ITEM_MAX];
	int err = 0, n = 0;
	struct netaddr_endpoint ep;

	for (const char *p = list; (p = next_item(p, item, sizeof(item), &err));) {
		if (netaddr_parse_endpoint(item, &ep) < 0)
			return -EINVAL;
		if ((size_t)n >= max)
			return -E2BIG;
		if (ret)
			ret[n] = ep;
		n++;
	}
	return err ? err : n;
}

static bool prefix_matches(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ net[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool netaddr_net_contains(const struct netaddr_net *net, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return net->family == AF_INET &&
		       prefix_matches((const uint8_t *)&in->sin_addr, net->addr, net->prefix);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *a = in6->sin6_addr.s6_addr;

		if (net->family == AF_INET6)
			return prefix_matches(a, net->addr, net->prefix);
		return memcmp(a, v4mapped, 12) == 0 &&
		       prefix_matches(a + 12, net->addr, net->prefix);
	}
	return false;
}

void netaddr_format_net(const struct netaddr_net *net, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(net->family, net->addr, addr, sizeof(addr));
	snprintf(buf, size, "%s/%u", addr, net->prefix);
}

void netaddr_format_endpoint(const struct sockaddr *sa, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		snprintf(buf, size, "%s:%u", addr, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, size, "[%s]:%u", addr, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, size, "?");
	}
}
