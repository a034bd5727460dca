/* rtnetlink: network links, addresses and the default route, as plain
 * structs. The parsers work on one message (a kernel reply, or a buffer a
 * test built); the dump functions do the I/O with netlink_talk().
 *
 * Used by the WireGuard probe (which links are WireGuard, their state and
 * addresses) and the firewall probe (link names, the uplink of the default
 * route, the VPN interface's IPv4 network). */
#ifndef SPARKMON_RTNL_H
#define SPARKMON_RTNL_H

#include <libmnl/libmnl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/netlink.h"

/* More links or addresses than this in one namespace is not a home server. */
#define RTNL_LINKS_MAX 65536
#define RTNL_ADDRS_MAX 65536
/* A dump the kernel marks interrupted (NLM_F_DUMP_INTR) is redone this often. */
#define RTNL_DUMP_TRIES 5
#define RTNL_KIND_MAX   16

/* IFLA_OPERSTATE values (RFC 2863, linux/if.h; that header clashes with
 * <net/if.h>, so the kernel's ABI numbers are repeated here). */
enum {
	RTNL_OPER_UNKNOWN = 0,
	RTNL_OPER_NOTPRESENT = 1,
	RTNL_OPER_DOWN = 2,
	RTNL_OPER_LOWERLAYERDOWN = 3,
	RTNL_OPER_TESTING = 4,
	RTNL_OPER_DORMANT = 5,
	RTNL_OPER_UP = 6,
};

/* One RTM_NEWLINK. */
struct rtnl_link {
	int ifindex;
	char name[IF_NAMESIZE];   /* IFLA_IFNAME, never empty */
	char kind[RTNL_KIND_MAX]; /* IFLA_LINKINFO/IFLA_INFO_KIND, "" when none */
	unsigned flags;           /* ifi_flags (IFF_*) */
	bool up;                  /* IFF_UP: administratively up */
	uint8_t operstate;        /* IFLA_OPERSTATE, RTNL_OPER_UNKNOWN when absent */
};

/* One RTM_NEWADDR of an IPv4 or IPv6 address. */
struct rtnl_addr {
	int ifindex;
	int family;          /* AF_INET or AF_INET6 */
	uint8_t address[16]; /* 4 or 16 bytes, network order */
	uint8_t prefixlen;
};

/* One RTM_NEWROUTE of an IPv4 or IPv6 route. */
struct rtnl_route {
	int family; /* AF_INET or AF_INET6 */
	uint8_t dst_len;
	uint8_t type;        /* RTN_UNICAST, ... */
	uint32_t table;      /* RTA_TABLE, else rtm_table */
	uint32_t priority;   /* RTA_PRIORITY (the metric), 0 when absent */
	int oif;             /* RTA_OIF, else the first RTA_MULTIPATH hop's; 0 if none */
	bool has_gateway;    /* RTA_GATEWAY present */
	uint8_t gateway[16]; /* 4 or 16 bytes, network order */
};

/* What a dump returned. Messages the parser found malformed (-EBADMSG) are
 * skipped and counted, so that each caller decides whether they fail it. */
struct rtnl_links {
	struct rtnl_link *items;
	size_t count, cap;
	size_t malformed;
};

struct rtnl_addrs {
	struct rtnl_addr *items;
	size_t count, cap;
	size_t malformed;
};

/* ---- rtnl.c -------------------------------------------------------------- */

/* Parsers of one message. Each returns 0 and fills *ret, or, leaving *ret
 * untouched: -ENOMSG when the message is of another type; -EAFNOSUPPORT
 * (addresses, routes) for a family other than AF_INET/AF_INET6; -ENODATA
 * when a required attribute is absent (a link's IFLA_IFNAME, or an empty
 * one; an address's IFA_LOCAL and IFA_ADDRESS); -EBADMSG when the message
 * is malformed: a short header, an attribute running past the message, or
 * a known attribute of the wrong type or length (a name that is not
 * NUL-terminated or is longer than IF_NAMESIZE, an operstate that is not
 * one byte, an address of the wrong size). Unknown attributes are ignored.
 * They trust nlmsg_len: the message's datagram has passed
 * netlink_check_datagram(), as netlink_talk() makes sure. */
int rtnl_parse_link(const struct nlmsghdr *nlh, struct rtnl_link *ret);
int rtnl_parse_addr(const struct nlmsghdr *nlh, struct rtnl_addr *ret);
int rtnl_parse_route(const struct nlmsghdr *nlh, struct rtnl_route *ret);

/* Collects the attributes in len bytes at start into tb[0..max] (of two of
 * a type, the last wins; types past max are ignored). Returns -EBADMSG when
 * an attribute is shorter than its header or runs past the end, or bytes
 * that cannot hold one are left over. The last attribute may lack its
 * padding. Shared with the other netlink families' parsers. */
int rtnl_collect_attrs(const void *start, size_t len, const struct nlattr **tb, uint16_t max);

/* Whether a route is one a default route is chosen from: to everywhere
 * (dst_len 0), unicast, in the main table, through an interface. */
bool rtnl_route_is_default(const struct rtnl_route *route);

/* "up", "down", "unknown", "dormant", ...; "unknown" for values past the
 * known ones. */
const char *rtnl_operstate_name(uint8_t operstate);

/* The link of that name, or NULL. */
const struct rtnl_link *rtnl_links_find(const struct rtnl_links *links, const char *name);

/* Dumps every link (RTM_GETLINK) into *ret, which the caller has zeroed;
 * on failure *ret holds no memory. timeout_ms 0 is netlink's default.
 * Returns 0, -ENOMEM past RTNL_LINKS_MAX or out of memory, -EINTR when
 * every try was interrupted, or netlink_talk()'s error. */
int rtnl_dump_links(struct rtnl_links *ret, unsigned timeout_ms);

/* Dumps the addresses of a family (AF_UNSPEC: IPv4 and IPv6) on one
 * interface (ifindex 0: on all) into *ret, as rtnl_dump_links() does. */
int rtnl_dump_addrs(int family, int ifindex, struct rtnl_addrs *ret, unsigned timeout_ms);

/* The default route of a family (AF_INET or AF_INET6): of the routes for
 * which rtnl_route_is_default() holds, the one with the lowest priority,
 * the first dumped among equals; malformed routes are skipped. Returns 0,
 * -ENOENT when there is none, or the dump's error. */
int rtnl_dump_default_route(int family, struct rtnl_route *ret, unsigned timeout_ms);

/* The same dumps over another transport with netlink_talk()'s contract
 * (tests and fuzzing replay recorded replies through it). */
int rtnl_dump_links_with(netlink_talk_fn talk, struct rtnl_links *ret, unsigned timeout_ms);
int rtnl_dump_addrs_with(netlink_talk_fn talk, int family, int ifindex, struct rtnl_addrs *ret,
                         unsigned timeout_ms);
int rtnl_dump_default_route_with(netlink_talk_fn talk, int family, struct rtnl_route *ret,
                                 unsigned timeout_ms);

/* Free what the dumps allocated and zero the struct; NULL is fine. */
void rtnl_links_free(struct rtnl_links *links);
void rtnl_addrs_free(struct rtnl_addrs *addrs);

#endif
