/* probes/rtnl.c: the parsers on messages built with libmnl as the kernel
 * lays them out (net/core/rtnetlink.c, net/ipv4/devinet.c, fib_semantics.c),
 * and the dumps against this machine's kernel. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cmocka.h>

#include "probes/netlink.h"
#include "probes/rtnl.h"
#include "tests/unit/recorded.h"

/* A message buffer aligned for struct nlmsghdr. */
union msgbuf {
	struct nlmsghdr nlh;
	char buf[4096];
};

static struct nlmsghdr *link_begin(union msgbuf *m, int ifindex, unsigned flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_MULTI;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	return nlh;
}

static void put_linkinfo(struct nlmsghdr *nlh, const char *kind)
{
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	struct nlattr *data;

	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
}

static struct nlmsghdr *addr_begin(union msgbuf *m, int family, uint8_t prefixlen, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_MULTI;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_index = (uint32_t)ifindex;
	return nlh;
}

static void put_ip(struct nlmsghdr *nlh, uint16_t type, int family, const char *text)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(family, text, a), 1);
	mnl_attr_put(nlh, type, family == AF_INET ? 4 : 16, a);
}

/* As the kernel: table ids above 255 only in RTA_TABLE. */
static struct nlmsghdr *route_begin(union msgbuf *m, uint8_t dst_len, uint32_t table)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_COMPAT;
	rtm->rtm_protocol = RTPROT_DHCP;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	return nlh;
}

/* The parser fails with want and leaves its output as it was. */
static void expect_link_error(const struct nlmsghdr *nlh, int want)
{
	struct rtnl_link link, before;

	memset(&link, 0xa5, sizeof(link));
	before = link;
	assert_int_equal(rtnl_parse_link(nlh, &link), want);
	assert_memory_equal(&link, &before, sizeof(link));
}

static void expect_addr_error(const struct nlmsghdr *nlh, int want)
{
	struct rtnl_addr addr, before;

	memset(&addr, 0xa5, sizeof(addr));
	before = addr;
	assert_int_equal(rtnl_parse_addr(nlh, &addr), want);
	assert_memory_equal(&addr, &before, sizeof(addr));
}

static void expect_route_error(const struct nlmsghdr *nlh, int want)
{
	struct rtnl_route route, before;

	memset(&route, 0xa5, sizeof(route));
	before = route;
	assert_int_equal(rtnl_parse_route(nlh, &route), want);
	assert_memory_equal(&route, &before, sizeof(route));
}

/* ---- links ---------------------------------------------------------------- */

static void test_link_wireguard(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 7, IFF_UP | IFF_POINTOPOINT | IFF_NOARP);
	struct rtnl_link link;

	(void)state;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg-dgx-spark");
	mnl_attr_put_u32(nlh, IFLA_MTU, 1420);
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, RTNL_OPER_UNKNOWN);
	put_linkinfo(nlh, "wireguard");
	assert_int_equal(rtnl_parse_link(nlh, &link), 0);
	assert_int_equal(link.ifindex, 7);
	assert_string_equal(link.name, "wg-dgx-spark");
	assert_string_equal(link.kind, "wireguard");
	assert_true(link.up);
	assert_int_equal(link.flags, IFF_UP | IFF_POINTOPOINT | IFF_NOARP);
	assert_int_equal(link.operstate, RTNL_OPER_UNKNOWN);
	assert_string_equal(rtnl_operstate_name(link.operstate), "unknown");
}

static void test_link_without_linkinfo(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 2, IFF_BROADCAST);
	struct rtnl_link link;

	(void)state;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "enP7s7");
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, RTNL_OPER_DOWN);
	assert_int_equal(rtnl_parse_link(nlh, &link), 0);
	assert_int_equal(link.ifindex, 2);
	assert_string_equal(link.name, "enP7s7");
	assert_string_equal(link.kind, "");
	assert_false(link.up);
	assert_int_equal(link.operstate, RTNL_OPER_DOWN);
	assert_string_equal(rtnl_operstate_name(link.operstate), "down");
}

/* Without IFLA_OPERSTATE the state is unknown; a 15-character name fits. */
static void test_link_longest_name(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 3, IFF_UP);
	struct rtnl_link link;

	(void)state;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "abcdefghijklmno");
	put_linkinfo(nlh, "veth");
	assert_int_equal(rtnl_parse_link(nlh, &link), 0);
	assert_string_equal(link.name, "abcdefghijklmno");
	assert_string_equal(link.kind, "veth");
	assert_int_equal(link.operstate, RTNL_OPER_UNKNOWN);
}

/* The attribute's length says more bytes than the message has. */
static void test_link_truncated_name(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 3, IFF_UP);

	(void)state;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0-longer");
	nlh->nlmsg_len -= 8;
	expect_link_error(nlh, -EBADMSG);

	/* Cut inside the attribute's header. */
	nlh = link_begin(&m, 3, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0");
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(struct ifinfomsg) + 2;
	expect_link_error(nlh, -EBADMSG);
}

static void test_link_overlong_name(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 3, IFF_UP);

	(void)state;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "abcdefghijklmnop"); /* 16 + NUL */
	expect_link_error(nlh, -EBADMSG);
}

static void test_link_name_not_nul_terminated(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 3, IFF_UP);

	(void)state;
	mnl_attr_put(nlh, IFLA_IFNAME, 3, "wg0");
	expect_link_error(nlh, -EBADMSG);
}

/* IFLA_INFO_KIND is a plain string: without its NUL its bytes are the kind;
 * empty, it is malformed; too long to keep, it is unknown. */
static void test_link_kind_strings(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	struct nlattr *info;
	struct rtnl_link link;

	(void)state;
	nlh = link_begin(&m, 4, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg1");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put(nlh, IFLA_INFO_KIND, 9, "wireguard");
	mnl_attr_nest_end(nlh, info);
	assert_int_equal(rtnl_parse_link(nlh, &link), 0);
	assert_string_equal(link.kind, "wireguard");

	nlh = link_begin(&m, 4, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg1");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put(nlh, IFLA_INFO_KIND, 10, "wireguardX");
	mnl_attr_nest_end(nlh, info);
	assert_int_equal(rtnl_parse_link(nlh, &link), 0);
	assert_string_equal(link.kind, "wireguardX");

	nlh = link_begin(&m, 4, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "x1");
	put_linkinfo(nlh, "a-kind-of-twenty-chars");
	assert_int_equal(rtnl_parse_link(nlh, &link), 0);
	assert_string_equal(link.kind, "");

	nlh = link_begin(&m, 4, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg1");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put(nlh, IFLA_INFO_KIND, 0, "");
	mnl_attr_nest_end(nlh, info);
	expect_link_error(nlh, -EBADMSG);
}

static void test_link_operstate_wrong_length(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 3, IFF_UP);

	(void)state;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0");
	mnl_attr_put_u32(nlh, IFLA_OPERSTATE, RTNL_OPER_UP);
	expect_link_error(nlh, -EBADMSG);

	nlh = link_begin(&m, 3, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0");
	mnl_attr_put(nlh, IFLA_OPERSTATE, 0, "");
	expect_link_error(nlh, -EBADMSG);
}

/* A link without a name (or with an empty one) is not kept; a short
 * header is malformed; another message type is not a link. */
static void test_link_required(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = link_begin(&m, 3, IFF_UP);
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	expect_link_error(nlh, -ENODATA);

	nlh = link_begin(&m, 3, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "");
	expect_link_error(nlh, -ENODATA);

	nlh = link_begin(&m, 3, IFF_UP);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(struct ifinfomsg) - 4;
	expect_link_error(nlh, -EBADMSG);

	nlh = link_begin(&m, 3, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0");
	nlh->nlmsg_type = RTM_DELLINK;
	expect_link_error(nlh, -ENOMSG);

	/* A malformed IFLA_LINKINFO nest. */
	nlh = link_begin(&m, 3, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0");
	mnl_attr_put(nlh, IFLA_LINKINFO, 2, "ab");
	expect_link_error(nlh, -EBADMSG);
}

static void test_link_unknown_attributes(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 9, IFF_UP);
	struct nlattr *nest;
	struct rtnl_link link;

	(void)state;
	mnl_attr_put_u32(nlh, IFLA_MAX + 7, 0xdeadbeef);
	mnl_attr_put(nlh, IFLA_MAX + 1, 3, "xyz");
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth9");
	mnl_attr_put_u64(nlh, 0x3fff, 42);
	nest = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	mnl_attr_put_u32(nlh, 1, 2);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, RTNL_OPER_UP);
	assert_int_equal(rtnl_parse_link(nlh, &link), 0);
	assert_int_equal(link.ifindex, 9);
	assert_string_equal(link.name, "eth9");
	assert_string_equal(link.kind, "");
	assert_string_equal(rtnl_operstate_name(link.operstate), "up");
	assert_string_equal(rtnl_operstate_name(200), "unknown");
}

/* ---- addresses ------------------------------------------------------------ */

static void test_addr_ipv4(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = addr_begin(&m, AF_INET, 8, 1);
	struct rtnl_addr addr;
	uint8_t want[4] = {127, 0, 0, 1};

	(void)state;
	put_ip(nlh, IFA_ADDRESS, AF_INET, "127.0.0.1");
	put_ip(nlh, IFA_LOCAL, AF_INET, "127.0.0.1");
	mnl_attr_put_strz(nlh, IFA_LABEL, "lo");
	mnl_attr_put_u32(nlh, IFA_FLAGS, 0x80);
	mnl_attr_put_u32(nlh, IFA_MAX + 3, 1); /* unknown */
	assert_int_equal(rtnl_parse_addr(nlh, &addr), 0);
	assert_int_equal(addr.ifindex, 1);
	assert_int_equal(addr.family, AF_INET);
	assert_int_equal(addr.prefixlen, 8);
	assert_memory_equal(addr.address, want, 4);
}

/* On a point-to-point link IFA_ADDRESS is the far end: IFA_LOCAL is ours. */
static void test_addr_ipv4_peer(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = addr_begin(&m, AF_INET, 24, 5);
	struct rtnl_addr addr;
	uint8_t want[4] = {10, 100, 0, 1};

	(void)state;
	put_ip(nlh, IFA_ADDRESS, AF_INET, "10.100.0.2");
	put_ip(nlh, IFA_LOCAL, AF_INET, "10.100.0.1");
	assert_int_equal(rtnl_parse_addr(nlh, &addr), 0);
	assert_memory_equal(addr.address, want, 4);
	assert_int_equal(addr.prefixlen, 24);
}

static void test_addr_ipv6(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = addr_begin(&m, AF_INET6, 64, 5);
	struct rtnl_addr addr;
	uint8_t want[16];

	(void)state;
	inet_pton(AF_INET6, "fd00:100::1", want);
	put_ip(nlh, IFA_ADDRESS, AF_INET6, "fd00:100::1");
	assert_int_equal(rtnl_parse_addr(nlh, &addr), 0);
	assert_int_equal(addr.ifindex, 5);
	assert_int_equal(addr.family, AF_INET6);
	assert_int_equal(addr.prefixlen, 64);
	assert_memory_equal(addr.address, want, 16);
}

static void test_addr_errors(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh;

	(void)state;
	/* An IPv6-sized address in an IPv4 message. */
	nlh = addr_begin(&m, AF_INET, 24, 5);
	put_ip(nlh, IFA_LOCAL, AF_INET6, "fd00::1");
	expect_addr_error(nlh, -EBADMSG);
	/* A bad IFA_ADDRESS beside a good IFA_LOCAL is still malformed. */
	nlh = addr_begin(&m, AF_INET, 24, 5);
	put_ip(nlh, IFA_LOCAL, AF_INET, "10.0.0.1");
	mnl_attr_put(nlh, IFA_ADDRESS, 3, "abc");
	expect_addr_error(nlh, -EBADMSG);
	nlh = addr_begin(&m, AF_INET, 33, 5);
	put_ip(nlh, IFA_LOCAL, AF_INET, "10.0.0.1");
	expect_addr_error(nlh, -EBADMSG);
	nlh = addr_begin(&m, AF_INET6, 129, 5);
	put_ip(nlh, IFA_ADDRESS, AF_INET6, "fd00::1");
	expect_addr_error(nlh, -EBADMSG);
	nlh = addr_begin(&m, AF_INET, 24, 5);
	mnl_attr_put_strz(nlh, IFA_LABEL, "wg0");
	expect_addr_error(nlh, -ENODATA);
	/* MCTP and the like: addresses of another shape. */
	nlh = addr_begin(&m, 45, 0, 5);
	mnl_attr_put_u8(nlh, IFA_LOCAL, 8);
	expect_addr_error(nlh, -EAFNOSUPPORT);
	nlh = addr_begin(&m, AF_INET, 24, 5);
	put_ip(nlh, IFA_LOCAL, AF_INET, "10.0.0.1");
	nlh->nlmsg_len -= 4;
	expect_addr_error(nlh, -EBADMSG);
	nlh = addr_begin(&m, AF_INET, 24, 5);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	expect_addr_error(nlh, -EBADMSG);
	nlh = addr_begin(&m, AF_INET, 24, 5);
	put_ip(nlh, IFA_LOCAL, AF_INET, "10.0.0.1");
	nlh->nlmsg_type = RTM_NEWLINK;
	expect_addr_error(nlh, -ENOMSG);
}

/* ---- routes --------------------------------------------------------------- */

static void test_route_default(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	struct rtnl_route route;
	uint8_t gw[4] = {192, 168, 1, 1};

	(void)state;
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 100);
	put_ip(nlh, RTA_GATEWAY, AF_INET, "192.168.1.1");
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mnl_attr_put_u32(nlh, RTA_MAX + 4, 9); /* unknown */
	assert_int_equal(rtnl_parse_route(nlh, &route), 0);
	assert_int_equal(route.family, AF_INET);
	assert_int_equal(route.dst_len, 0);
	assert_int_equal(route.type, RTN_UNICAST);
	assert_int_equal(route.table, RT_TABLE_MAIN);
	assert_int_equal(route.priority, 100);
	assert_int_equal(route.oif, 2);
	assert_true(route.has_gateway);
	assert_memory_equal(route.gateway, gw, 4);
	assert_true(rtnl_route_is_default(&route));
}

/* A default route in another table (policy routing, a VPN's own table)
 * is not the default route; neither are routes to a network, nor local
 * or unreachable ones, nor one without an interface. */
static void test_route_not_default(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	struct rtnl_route route;

	(void)state;
	nlh = route_begin(&m, 0, 51);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	assert_int_equal(rtnl_parse_route(nlh, &route), 0);
	assert_int_equal(route.table, 51);
	assert_false(rtnl_route_is_default(&route));

	/* Table ids above 255: rtm_table says RT_TABLE_COMPAT, RTA_TABLE the id. */
	nlh = route_begin(&m, 0, 51820);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	assert_int_equal(rtnl_parse_route(nlh, &route), 0);
	assert_int_equal(route.table, 51820);
	assert_false(rtnl_route_is_default(&route));

	nlh = route_begin(&m, 24, RT_TABLE_MAIN);
	put_ip(nlh, RTA_DST, AF_INET, "10.100.0.0");
	mnl_attr_put_u32(nlh, RTA_OIF, 7);
	assert_int_equal(rtnl_parse_route(nlh, &route), 0);
	assert_false(route.has_gateway);
	assert_false(rtnl_route_is_default(&route));

	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_type = RTN_UNREACHABLE;
	assert_int_equal(rtnl_parse_route(nlh, &route), 0);
	assert_false(rtnl_route_is_default(&route));

	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	put_ip(nlh, RTA_GATEWAY, AF_INET, "192.168.1.1");
	assert_int_equal(rtnl_parse_route(nlh, &route), 0);
	assert_int_equal(route.oif, 0);
	assert_false(rtnl_route_is_default(&route));
}

/* ECMP: without RTA_OIF, the first next hop's interface. */
static void test_route_multipath(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	struct rtnl_route route;
	struct rtnexthop hops[2] = {{.rtnh_len = sizeof(struct rtnexthop), .rtnh_ifindex = 3},
	                            {.rtnh_len = sizeof(struct rtnexthop), .rtnh_ifindex = 4}};

	(void)state;
	mnl_attr_put(nlh, RTA_MULTIPATH, sizeof(hops), hops);
	assert_int_equal(rtnl_parse_route(nlh, &route), 0);
	assert_int_equal(route.oif, 3);
	assert_true(rtnl_route_is_default(&route));

	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	mnl_attr_put(nlh, RTA_MULTIPATH, 4, hops);
	expect_route_error(nlh, -EBADMSG);
}

static void test_route_errors(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	put_ip(nlh, RTA_GATEWAY, AF_INET6, "fe80::1");
	expect_route_error(nlh, -EBADMSG);
	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	mnl_attr_put_u16(nlh, RTA_OIF, 2);
	expect_route_error(nlh, -EBADMSG);
	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	mnl_attr_put_u8(nlh, RTA_PRIORITY, 2);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	expect_route_error(nlh, -EBADMSG);
	/* route_begin's RTA_TABLE is followed by a malformed one, which wins. */
	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	mnl_attr_put_u64(nlh, RTA_TABLE, RT_TABLE_MAIN);
	expect_route_error(nlh, -EBADMSG);
	nlh = route_begin(&m, 33, RT_TABLE_MAIN);
	expect_route_error(nlh, -EBADMSG);
	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_family = AF_BRIDGE;
	expect_route_error(nlh, -EAFNOSUPPORT);
	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	nlh->nlmsg_type = RTM_DELROUTE;
	expect_route_error(nlh, -ENOMSG);
	nlh = route_begin(&m, 0, RT_TABLE_MAIN);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 8;
	expect_route_error(nlh, -EBADMSG);
}

/* ---- this machine's kernel ------------------------------------------------ */

/* Every namespace has lo, up, with 127.0.0.1/8; the kernel's own messages
 * all parse. */
static void test_live_loopback(void **state)
{
	struct rtnl_links links = {.items = NULL};
	struct rtnl_addrs addrs = {.items = NULL}, all = {.items = NULL};
	const struct rtnl_link *lo;
	struct rtnl_route route;
	uint8_t want[4] = {127, 0, 0, 1};
	bool found = false;
	int r;

	(void)state;
	assert_int_equal(rtnl_dump_links(&links, 0), 0);
	assert_int_equal(links.malformed, 0);
	lo = rtnl_links_find(&links, "lo");
	assert_non_null(lo);
	assert_true(lo->ifindex > 0);
	assert_true(lo->up);
	assert_string_equal(lo->kind, "");
	assert_null(rtnl_links_find(&links, "no-such-link0"));

	assert_int_equal(rtnl_dump_addrs(AF_INET, lo->ifindex, &addrs, 0), 0);
	assert_int_equal(addrs.malformed, 0);
	for (size_t i = 0; i < addrs.count; i++) {
		assert_int_equal(addrs.items[i].ifindex, lo->ifindex);
		assert_int_equal(addrs.items[i].family, AF_INET);
		if (addrs.items[i].prefixlen == 8 && memcmp(addrs.items[i].address, want, 4) == 0)
			found = true;
	}
	assert_true(found);

	assert_int_equal(rtnl_dump_addrs(AF_UNSPEC, 0, &all, 0), 0);
	assert_int_equal(all.malformed, 0);
	assert_true(all.count >= addrs.count);

	/* A test machine may have no default route; the dump must work. */
	r = rtnl_dump_default_route(AF_INET, &route, 0);
	assert_true(r == 0 || r == -ENOENT);
	if (r == 0) {
		assert_true(rtnl_route_is_default(&route));
		assert_int_equal(route.family, AF_INET);
	}
	assert_int_equal(rtnl_dump_default_route(AF_PACKET, &route, 0), -EAFNOSUPPORT);

	rtnl_links_free(&links);
	rtnl_addrs_free(&addrs);
	rtnl_addrs_free(&all);
	rtnl_links_free(NULL);
	rtnl_addrs_free(NULL);
}

struct route_count {
	int parsed, malformed;
};

static int count_route(const struct nlmsghdr *nlh, void *data)
{
	struct route_count *c = data;
	struct rtnl_route route;
	int r = rtnl_parse_route(nlh, &route);

	c->parsed += r == 0;
	c->malformed += r == -EBADMSG;
	return MNL_CB_OK;
}

/* Every route of the kernel's IPv4 and IPv6 tables (local ones included)
 * parses. */
static void test_live_routes_parse(void **state)
{
	static const int families[] = {AF_INET, AF_INET6};

	(void)state;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		union msgbuf m;
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(m.buf);
		struct rtmsg *rtm;
		struct route_count c = {0, 0};

		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = (uint8_t)families[i];
		assert_int_equal(netlink_talk(NETLINK_ROUTE, nlh, count_route, &c, 0), 0);
		assert_int_equal(c.malformed, 0);
		if (families[i] == AF_INET)
			assert_true(c.parsed >= 1); /* local 127.0.0.1 */
	}
}

/* A link dump replayed from a buffer: with true lengths it gives its link;
 * with a length above INT_MAX (libmnl 1.0.4's signed check lets it
 * through) or past the datagram, the dump fails and holds no memory. */
static void test_dump_length_beyond_datagram(void **state)
{
	const uint32_t lies[] = {0x80000000u + 32, 0xfffffff8u, 4000};
	union msgbuf m;
	struct nlmsghdr *nlh = link_begin(&m, 3, 0);
	struct rtnl_links links = {.items = NULL};
	uint32_t len;

	(void)state;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0");
	recorded = m.buf;
	recorded_len = recorded_end(nlh);
	assert_int_equal(rtnl_dump_links_with(recorded_talk, &links, 0), 0);
	assert_int_equal(links.count, 1);
	assert_string_equal(links.items[0].name, "wg0");
	rtnl_links_free(&links);
	len = nlh->nlmsg_len;
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		nlh->nlmsg_len = lies[i];
		assert_int_equal(rtnl_dump_links_with(recorded_talk, &links, 0), -EBADMSG);
		assert_null(links.items);
	}
	nlh->nlmsg_len = len;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_link_wireguard),
	    cmocka_unit_test(test_link_without_linkinfo),
	    cmocka_unit_test(test_link_longest_name),
	    cmocka_unit_test(test_link_truncated_name),
	    cmocka_unit_test(test_link_overlong_name),
	    cmocka_unit_test(test_link_name_not_nul_terminated),
	    cmocka_unit_test(test_link_kind_strings),
	    cmocka_unit_test(test_link_operstate_wrong_length),
	    cmocka_unit_test(test_link_required),
	    cmocka_unit_test(test_link_unknown_attributes),
	    cmocka_unit_test(test_addr_ipv4),
	    cmocka_unit_test(test_addr_ipv4_peer),
	    cmocka_unit_test(test_addr_ipv6),
	    cmocka_unit_test(test_addr_errors),
	    cmocka_unit_test(test_route_default),
	    cmocka_unit_test(test_route_not_default),
	    cmocka_unit_test(test_route_multipath),
	    cmocka_unit_test(test_route_errors),
	    cmocka_unit_test(test_live_loopback),
	    cmocka_unit_test(test_live_routes_parse),
	    cmocka_unit_test(test_dump_length_beyond_datagram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
