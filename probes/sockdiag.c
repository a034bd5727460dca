#include "probes/sockdiag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/rtnl.h"

/* TCP_LISTEN in the kernel's enum of TCP states (include/net/tcp_states.h). */
#define SOCKDIAG_TCP_LISTEN 10

int sockdiag_parse(const struct nlmsghdr *nlh, struct sockdiag_listener *ret)
{
	const struct nlattr *tb[INET_DIAG_MAX + 1] = {NULL};
	struct sockdiag_listener l = {.v6only = -1};
	const struct inet_diag_msg *msg;
	size_t hdr = MNL_ALIGN(sizeof(*msg));

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return -ENOMSG;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN || mnl_nlmsg_get_payload_len(nlh) < hdr)
		return -EBADMSG;
	msg = mnl_nlmsg_get_payload(nlh);
	if (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (rtnl_collect_attrs(mnl_nlmsg_get_payload_offset(nlh, sizeof(*msg)),
	                       mnl_nlmsg_get_payload_len(nlh) - hdr, tb, INET_DIAG_MAX) < 0)
		return -EBADMSG;
	if (tb[INET_DIAG_SKV6ONLY]) {
		if (mnl_attr_validate(tb[INET_DIAG_SKV6ONLY], MNL_TYPE_U8) < 0)
			return -EBADMSG;
		l.v6only = mnl_attr_get_u8(tb[INET_DIAG_SKV6ONLY]) ? 1 : 0;
	}
	l.family = msg->idiag_family;
	memcpy(l.address, msg->id.idiag_src, l.family == AF_INET ? 4 : 16);
	l.port = ntohs(msg->id.idiag_sport);
	l.ifindex = msg->id.idiag_if;
	*ret = l;
	return 0;
}

struct listen_dump {
	uint16_t port;
	struct sockdiag_listener *items;
	size_t max, count;
};

static int on_socket(const struct nlmsghdr *nlh, void *data)
{
	struct listen_dump *st = data;
	struct sockdiag_listener l;
	int r = sockdiag_parse(nlh, &l);

	if (r == -ENOMSG || r == -EAFNOSUPPORT)
		return MNL_CB_OK;
	if (r < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (st->port && l.port != st->port)
		return MNL_CB_OK;
	if (st->count < st->max)
		st->items[st->count] = l;
	st->count++;
	return MNL_CB_OK;
}

static int dump_family(netlink_talk_fn talk, int family, struct listen_dump *st,
                       unsigned timeout_ms)
{
	union {
		struct nlmsghdr nlh;
		char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2))];
	} req;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req.buf);
	struct inet_diag_req_v2 *r;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = (uint8_t)family;
	r->sdiag_protocol = IPPROTO_TCP;
	r->idiag_states = 1u << SOCKDIAG_TCP_LISTEN;
	return talk(NETLINK_SOCK_DIAG, nlh, on_socket, st, timeout_ms);
}

int sockdiag_dump_listeners(uint16_t port, struct sockdiag_listener *ret, size_t max,
                            size_t *ret_count, unsigned timeout_ms)
{
	return sockdiag_dump_listeners_with(netlink_talk, port, ret, max, ret_count, timeout_ms);
}

int sockdiag_dump_listeners_with(netlink_talk_fn talk, uint16_t port, struct sockdiag_listener *ret,
                                 size_t max, size_t *ret_count, unsigned timeout_ms)
{
	struct listen_dump st = {.port = port, .items = ret, .max = max};
	int r = dump_family(talk, AF_INET, &st, timeout_ms);

	/* A kernel without IPv6 answers the second dump with an error. */
	if (r == 0) {
		r = dump_family(talk, AF_INET6, &st, timeout_ms);
		if (r == -EAFNOSUPPORT || r == -ENOENT)
			r = 0;
	}
	if (r < 0)
		return r;
	*ret_count = st.count;
	return 0;
}
