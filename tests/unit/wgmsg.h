/* Builds WireGuard generic netlink replies with libmnl, as the kernel
 * lays them out (wireguard/netlink.c), for the WireGuard unit tests. */
#ifndef SPARKMON_TEST_WGMSG_H
#define SPARKMON_TEST_WGMSG_H

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#define WGMSG_FAMILY 0x1f

static inline struct nlmsghdr *wgmsg_begin(char *buf, uint16_t extra_flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = WGMSG_FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI | extra_flags;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = WG_CMD_GET_DEVICE;
	genl->version = WG_GENL_VERSION;
	return nlh;
}

static inline void wgmsg_key(uint8_t key[32], uint8_t seed)
{
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(seed + i * 7);
}

static inline void wgmsg_device(struct nlmsghdr *nlh, const char *name, const uint8_t priv[32],
                                const uint8_t pub[32], uint16_t port)
{
	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, 7);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, name);
	if (priv)
		mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY, 32, priv);
	mnl_attr_put(nlh, WGDEVICE_A_PUBLIC_KEY, 32, pub);
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, port);
	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 0);
}

static inline void wgmsg_allowed_ip4(struct nlmsghdr *nlh, const char *addr, uint8_t cidr)
{
	struct nlattr *ip = mnl_attr_nest_start(nlh, 0);
	struct in_addr a;

	inet_pton(AF_INET, addr, &a);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, sizeof(a), &a);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, cidr);
	mnl_attr_nest_end(nlh, ip);
}

static inline void wgmsg_allowed_ip6(struct nlmsghdr *nlh, const char *addr, uint8_t cidr)
{
	struct nlattr *ip = mnl_attr_nest_start(nlh, 0);
	struct in6_addr a;

	inet_pton(AF_INET6, addr, &a);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET6);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, sizeof(a), &a);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, cidr);
	mnl_attr_nest_end(nlh, ip);
}

/* A full peer: key, optional preshared key, IPv4 endpoint, handshake,
 * counters, keepalive, version; allowed IPs "10.0.<n>.<i>/32" for i in
 * [first, first + count). The peer nest is left open for the caller to
 * add more, and returned. */
static inline struct nlattr *wgmsg_peer_open(struct nlmsghdr *nlh, const uint8_t pub[32],
                                             const uint8_t psk[32])
{
	struct nlattr *peer = mnl_attr_nest_start(nlh, 0);

	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, pub);
	if (psk)
		mnl_attr_put(nlh, WGPEER_A_PRESHARED_KEY, 32, psk);
	return peer;
}

static inline void wgmsg_peer_stats(struct nlmsghdr *nlh, int64_t handshake, uint64_t rx,
                                    uint64_t tx)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(51820)};
	int64_t ts[2] = {handshake, 123456789};

	inet_pton(AF_INET, "203.0.113.7", &sin.sin_addr);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
	mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), ts);
	mnl_attr_put_u64(nlh, WGPEER_A_RX_BYTES, rx);
	mnl_attr_put_u64(nlh, WGPEER_A_TX_BYTES, tx);
	mnl_attr_put_u32(nlh, WGPEER_A_PROTOCOL_VERSION, 1);
}

static inline void wgmsg_ips(struct nlmsghdr *nlh, int net, int first, int count)
{
	struct nlattr *ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	char addr[32];

	for (int i = first; i < first + count; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", net, i);
		wgmsg_allowed_ip4(nlh, addr, 32);
	}
	mnl_attr_nest_end(nlh, ips);
}

#endif
