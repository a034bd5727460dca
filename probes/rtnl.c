#include "probes/rtnl.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/array.h"
#include "probes/netlink.h"

/* ---- attributes ----------------------------------------------------------- */

/* A truncated attribute is an error, not the silent end of the list that
 * mnl_attr_for_each() makes of it. */
int rtnl_collect_attrs(const void *start, size_t len, const struct nlattr **tb, uint16_t max)
{
	size_t off = 0;

	while (off < len) {
		const struct nlattr *attr = (const struct nlattr *)((const char *)start + off);
		uint16_t type;

		if (len - off < sizeof(*attr) || attr->nla_len < sizeof(*attr) ||
		    attr->nla_len > len - off)
			return -EBADMSG;
		type = mnl_attr_get_type(attr);
		if (type <= max)
			tb[type] = attr;
		off += MNL_ALIGN(attr->nla_len);
	}
	return 0;
}

/* Whether the message holds a family header of hdrlen bytes. */
static bool header_fits(const struct nlmsghdr *nlh, size_t hdrlen)
{
	return nlh->nlmsg_len >= MNL_NLMSG_HDRLEN &&
	       mnl_nlmsg_get_payload_len(nlh) >= MNL_ALIGN(hdrlen);
}

/* The attributes of a message after its family header of hdrlen bytes;
 * -EBADMSG when the header does not fit. */
static int collect_message(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
                           uint16_t max)
{
	if (!header_fits(nlh, hdrlen))
		return -EBADMSG;
	return rtnl_collect_attrs(mnl_nlmsg_get_payload_offset(nlh, hdrlen),
	                          mnl_nlmsg_get_payload_len(nlh) - MNL_ALIGN(hdrlen), tb, max);
}

/* A 32-bit attribute, exactly four bytes. */
static int get_u32(const struct nlattr *attr, uint32_t *ret)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*ret = mnl_attr_get_u32(attr);
	return 0;
}

/* An address attribute of exactly the family's size. */
static int check_address(const struct nlattr *attr, size_t size)
{
	return !attr || mnl_attr_validate2(attr, MNL_TYPE_BINARY, size) == 0 ? 0 : -EBADMSG;
}

static size_t family_address_size(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* ---- links ---------------------------------------------------------------- */

/* IFLA_IFNAME: NUL-terminated, at most IF_NAMESIZE bytes with its NUL (the
 * kernel's IFNAMSIZ). An empty name counts as none. */
static int parse_name(const struct nlattr *attr, char name[IF_NAMESIZE])
{
	size_t len;

	if (!attr)
		return -ENODATA;
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 ||
	    mnl_attr_get_payload_len(attr) > IF_NAMESIZE)
		return -EBADMSG;
	len = strlen(mnl_attr_get_str(attr));
	if (len == 0)
		return -ENODATA;
	memcpy(name, mnl_attr_get_str(attr), len + 1);
	return 0;
}

/* IFLA_LINKINFO's IFLA_INFO_KIND ("wireguard", "veth", ...). The kernel
 * writes it NUL-terminated; without the NUL, the attribute's bytes are the
 * kind. A kind too long to keep is left "": no kind is known by a prefix. */
static int parse_kind(const struct nlattr *linkinfo, char kind[RTNL_KIND_MAX])
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1] = {NULL};
	size_t len;

	if (mnl_attr_validate(linkinfo, MNL_TYPE_NESTED) < 0 ||
	    rtnl_collect_attrs(mnl_attr_get_payload(linkinfo), mnl_attr_get_payload_len(linkinfo),
	                       tb, IFLA_INFO_MAX) < 0)
		return -EBADMSG;
	if (!tb[IFLA_INFO_KIND])
		return 0;
	if (mnl_attr_validate(tb[IFLA_INFO_KIND], MNL_TYPE_STRING) < 0)
		return -EBADMSG;
	len = strnlen(mnl_attr_get_payload(tb[IFLA_INFO_KIND]),
	              mnl_attr_get_payload_len(tb[IFLA_INFO_KIND]));
	if (len < RTNL_KIND_MAX) {
		memcpy(kind, mnl_attr_get_payload(tb[IFLA_INFO_KIND]), len);
		kind[len] = '\0';
	}
	return 0;
}

int rtnl_parse_link(const struct nlmsghdr *nlh, struct rtnl_link *ret)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {NULL};
	struct rtnl_link link = {.ifindex = 0};
	const struct ifinfomsg *ifi;
	int r;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return -ENOMSG;
	r = collect_message(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if (r < 0)
		return r;
	ifi = mnl_nlmsg_get_payload(nlh);
	link.ifindex = ifi->ifi_index;
	link.flags = ifi->ifi_flags;
	link.up = (ifi->ifi_flags & IFF_UP) != 0;
	if (tb[IFLA_OPERSTATE]) {
		if (mnl_attr_validate(tb[IFLA_OPERSTATE], MNL_TYPE_U8) < 0)
			return -EBADMSG;
		link.operstate = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
	}
	if (tb[IFLA_LINKINFO]) {
		r = parse_kind(tb[IFLA_LINKINFO], link.kind);
		if (r < 0)
			return r;
	}
	r = parse_name(tb[IFLA_IFNAME], link.name);
	if (r < 0)
		return r;
	*ret = link;
	return 0;
}

const char *rtnl_operstate_name(uint8_t operstate)
{
	static const char *const names[] = {
	    [RTNL_OPER_UNKNOWN] = "unknown", [RTNL_OPER_NOTPRESENT] = "notpresent",
	    [RTNL_OPER_DOWN] = "down",       [RTNL_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
	    [RTNL_OPER_TESTING] = "testing", [RTNL_OPER_DORMANT] = "dormant",
	    [RTNL_OPER_UP] = "up",
	};

	return operstate < sizeof(names) / sizeof(names[0]) && names[operstate] ? names[operstate]
	                                                                        : "unknown";
}

const struct rtnl_link *rtnl_links_find(const struct rtnl_links *links, const char *name)
{
	for (size_t i = 0; i < links->count; i++)
		if (strcmp(links->items[i].name, name) == 0)
			return &links->items[i];
	return NULL;
}

/* ---- addresses ------------------------------------------------------------ */

int rtnl_parse_addr(const struct nlmsghdr *nlh, struct rtnl_addr *ret)
{
	const struct nlattr *tb[IFA_MAX + 1] = {NULL};
	struct rtnl_addr addr = {.ifindex = 0};
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	size_t size;
	int r;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return -ENOMSG;
	if (!header_fits(nlh, sizeof(*ifa)))
		return -EBADMSG;
	ifa = mnl_nlmsg_get_payload(nlh);
	/* Other families (MCTP, ...) have addresses of other shapes. */
	size = family_address_size(ifa->ifa_family);
	if (!size)
		return -EAFNOSUPPORT;
	r = collect_message(nlh, sizeof(*ifa), tb, IFA_MAX);
	if (r < 0)
		return r;
	if (ifa->ifa_prefixlen > size * 8 || check_address(tb[IFA_LOCAL], size) < 0 ||
	    check_address(tb[IFA_ADDRESS], size) < 0)
		return -EBADMSG;
	/* On point-to-point links IFA_ADDRESS is the far end; IFA_LOCAL is ours. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a)
		return -ENODATA;
	addr.ifindex = (int)ifa->ifa_index;
	addr.family = ifa->ifa_family;
	addr.prefixlen = ifa->ifa_prefixlen;
	memcpy(addr.address, mnl_attr_get_payload(a), size);
	*ret = addr;
	return 0;
}

/* ---- routes --------------------------------------------------------------- */

/* RTA_MULTIPATH (ECMP): a list of struct rtnexthop; the first next hop's
 * interface stands for the route. */
static int first_hop_ifindex(const struct nlattr *attr, int *ret)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(attr);
	size_t len = mnl_attr_get_payload_len(attr);

	if (len < sizeof(*nh) || nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > len)
		return -EBADMSG;
	*ret = nh->rtnh_ifindex;
	return 0;
}

int rtnl_parse_route(const struct nlmsghdr *nlh, struct rtnl_route *ret)
{
	const struct nlattr *tb[RTA_MAX + 1] = {NULL};
	struct rtnl_route route = {.family = 0};
	const struct rtmsg *rtm;
	uint32_t oif = 0;
	size_t size;
	int r;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return -ENOMSG;
	if (!header_fits(nlh, sizeof(*rtm)))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(nlh);
	size = family_address_size(rtm->rtm_family);
	if (!size)
		return -EAFNOSUPPORT;
	r = collect_message(nlh, sizeof(*rtm), tb, RTA_MAX);
	if (r < 0)
		return r;
	if (rtm->rtm_dst_len > size * 8)
		return -EBADMSG;
	route.family = rtm->rtm_family;
	route.dst_len = rtm->rtm_dst_len;
	route.type = rtm->rtm_type;
	/* Table ids above 255 are only in RTA_TABLE. */
	route.table = rtm->rtm_table;
	if ((tb[RTA_TABLE] && get_u32(tb[RTA_TABLE], &route.table) < 0) ||
	    (tb[RTA_PRIORITY] && get_u32(tb[RTA_PRIORITY], &route.priority) < 0) ||
	    (tb[RTA_OIF] && get_u32(tb[RTA_OIF], &oif) < 0) ||
	    check_address(tb[RTA_GATEWAY], size) < 0)
		return -EBADMSG;
	route.oif = (int)oif;
	if (tb[RTA_MULTIPATH]) {
		int hop;

		if (first_hop_ifindex(tb[RTA_MULTIPATH], &hop) < 0)
			return -EBADMSG;
		if (!tb[RTA_OIF])
			route.oif = hop;
	}
	if (tb[RTA_GATEWAY]) {
		route.has_gateway = true;
		memcpy(route.gateway, mnl_attr_get_payload(tb[RTA_GATEWAY]), size);
	}
	*ret = route;
	return 0;
}

bool rtnl_route_is_default(const struct rtnl_route *route)
{
	return route->dst_len == 0 && route->type == RTN_UNICAST && route->table == RT_TABLE_MAIN &&
	       route->oif != 0;
}

/* ---- dumps ---------------------------------------------------------------- */

/* Runs one dump request of a message type whose family header (struct
 * ifinfomsg, ifaddrmsg, rtmsg: each begins with its family byte) is hdrlen
 * bytes, calling reset before each try: a dump the kernel marks interrupted
 * is redone from the start, up to RTNL_DUMP_TRIES times. */
static int dump(netlink_talk_fn talk, uint16_t type, int family, size_t hdrlen, mnl_cb_t cb,
                void *data, void (*reset)(void *data), unsigned timeout_ms)
{
	union {
		struct nlmsghdr nlh;
		char buf[MNL_NLMSG_HDRLEN + 64];
	} req;
	int r = -EINTR;

	for (int try = 0; try < RTNL_DUMP_TRIES && r == -EINTR; try++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(req.buf);
		uint8_t *fam;

		nlh->nlmsg_type = type;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		fam = mnl_nlmsg_put_extra_header(nlh, hdrlen);
		*fam = (uint8_t)family;
		reset(data);
		r = talk(NETLINK_ROUTE, nlh, cb, data, timeout_ms);
	}
	return r;
}

static void reset_links(void *data)
{
	struct rtnl_links *links = data;

	links->count = 0;
	links->malformed = 0;
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
	struct rtnl_links *links = data;
	struct rtnl_link link;
	int r = rtnl_parse_link(nlh, &link);

	if (r == -EBADMSG)
		links->malformed++;
	if (r < 0)
		return MNL_CB_OK;
	if (links->count >= RTNL_LINKS_MAX ||
	    array_grow((void **)&links->items, &links->cap, links->count, sizeof(link), 16) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	links->items[links->count++] = link;
	return MNL_CB_OK;
}

int rtnl_dump_links(struct rtnl_links *ret, unsigned timeout_ms)
{
	return rtnl_dump_links_with(netlink_talk, ret, timeout_ms);
}

int rtnl_dump_links_with(netlink_talk_fn talk, struct rtnl_links *ret, unsigned timeout_ms)
{
	struct rtnl_links links = {.items = NULL};
	int r;

	r = dump(talk, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), on_link, &links,
	         reset_links, timeout_ms);
	if (r < 0) {
		rtnl_links_free(&links);
		return r;
	}
	*ret = links;
	return 0;
}

struct addr_dump {
	struct rtnl_addrs addrs;
	int family, ifindex;
};

static void reset_addrs(void *data)
{
	struct addr_dump *st = data;

	st->addrs.count = 0;
	st->addrs.malformed = 0;
}

static int on_addr(const struct nlmsghdr *nlh, void *data)
{
	struct addr_dump *st = data;
	struct rtnl_addr addr;
	int r = rtnl_parse_addr(nlh, &addr);

	if (r == -EBADMSG)
		st->addrs.malformed++;
	if (r < 0 || (st->family != AF_UNSPEC && addr.family != st->family) ||
	    (st->ifindex && addr.ifindex != st->ifindex))
		return MNL_CB_OK;
	if (st->addrs.count >= RTNL_ADDRS_MAX ||
	    array_grow((void **)&st->addrs.items, &st->addrs.cap, st->addrs.count, sizeof(addr),
	               16) < 0) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	st->addrs.items[st->addrs.count++] = addr;
	return MNL_CB_OK;
}

int rtnl_dump_addrs(int family, int ifindex, struct rtnl_addrs *ret, unsigned timeout_ms)
{
	return rtnl_dump_addrs_with(netlink_talk, family, ifindex, ret, timeout_ms);
}

int rtnl_dump_addrs_with(netlink_talk_fn talk, int family, int ifindex, struct rtnl_addrs *ret,
                         unsigned timeout_ms)
{
	struct addr_dump st = {.family = family, .ifindex = ifindex};
	int r;

	r = dump(talk, RTM_GETADDR, family, sizeof(struct ifaddrmsg), on_addr, &st, reset_addrs,
	         timeout_ms);
	if (r < 0) {
		rtnl_addrs_free(&st.addrs);
		return r;
	}
	*ret = st.addrs;
	return 0;
}

struct default_dump {
	int family;
	bool found;
	struct rtnl_route best;
};

static void reset_default(void *data)
{
	struct default_dump *st = data;

	st->found = false;
}

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	struct default_dump *st = data;
	struct rtnl_route route;

	if (rtnl_parse_route(nlh, &route) < 0 || route.family != st->family ||
	    !rtnl_route_is_default(&route))
		return MNL_CB_OK;
	/* The lowest metric wins; of equals, the first. */
	if (!st->found || route.priority < st->best.priority) {
		st->best = route;
		st->found = true;
	}
	return MNL_CB_OK;
}

int rtnl_dump_default_route(int family, struct rtnl_route *ret, unsigned timeout_ms)
{
	return rtnl_dump_default_route_with(netlink_talk, family, ret, timeout_ms);
}

int rtnl_dump_default_route_with(netlink_talk_fn talk, int family, struct rtnl_route *ret,
                                 unsigned timeout_ms)
{
	struct default_dump st = {.family = family};
	int r;

	if (!family_address_size(family))
		return -EAFNOSUPPORT;
	r = dump(talk, RTM_GETROUTE, family, sizeof(struct rtmsg), on_route, &st, reset_default,
	         timeout_ms);
	if (r < 0)
		return r;
	if (!st.found)
		return -ENOENT;
	*ret = st.best;
	return 0;
}

void rtnl_links_free(struct rtnl_links *links)
{
	if (!links)
		return;
	free(links->items);
	memset(links, 0, sizeof(*links));
}

void rtnl_addrs_free(struct rtnl_addrs *addrs)
{
	if (!addrs)
		return;
	free(addrs->items);
	memset(addrs, 0, sizeof(*addrs));
}
