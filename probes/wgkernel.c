#include "probes/wgkernel.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/netlink.h"

/* struct __kernel_timespec: two 64-bit fields on every architecture. */
#define WGKERNEL_TIMESPEC_LEN 16

typedef int (*attr_fn)(const struct nlattr *attr, void *data);

/* Walks the attributes in [buf, buf + len). Unlike mnl_attr_parse(), which
 * stops quietly at an attribute that claims more bytes than are left, a
 * truncated or too-short attribute here is an error. Up to 3 trailing
 * bytes are alignment padding. */
static int walk_attrs(const void *buf, size_t len, attr_fn fn, void *data)
{
	const struct nlattr *attr = buf;
	int left = (int)len;

	while (mnl_attr_ok(attr, left)) {
		const struct nlattr *next = mnl_attr_next(attr);
		int r = fn(attr, data);

		if (r < 0)
			return r;
		left -= (int)((const char *)next - (const char *)attr);
		attr = next;
	}
	return left >= (int)sizeof(struct nlattr) ? -EBADMSG : 0;
}

static int walk_nested(const struct nlattr *nest, attr_fn fn, void *data)
{
	if (mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	return walk_attrs(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), fn, data);
}

static int valid(const struct nlattr *attr, enum mnl_attr_data_type type)
{
	return mnl_attr_validate(attr, type) < 0 ? -EBADMSG : 0;
}

static int valid_len(const struct nlattr *attr, size_t len)
{
	return mnl_attr_validate2(attr, MNL_TYPE_BINARY, len) < 0 ? -EBADMSG : 0;
}

/* ---- family ------------------------------------------------------------- */

static int family_attr(const struct nlattr *attr, void *data)
{
	uint16_t *id = data;

	if (mnl_attr_get_type(attr) != CTRL_ATTR_FAMILY_ID)
		return 0;
	if (valid(attr, MNL_TYPE_U16) < 0)
		return -EBADMSG;
	*id = mnl_attr_get_u16(attr);
	return 0;
}

int wgkernel_parse_family(const struct nlmsghdr *nlh, uint16_t *ret_id)
{
	uint16_t id = 0;
	int r;

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + GENL_HDRLEN)
		return -EBADMSG;
	r = walk_attrs(mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN),
	               nlh->nlmsg_len - MNL_NLMSG_HDRLEN - GENL_HDRLEN, family_attr, &id);
	if (r < 0 || id == 0)
		return -EBADMSG;
	*ret_id = id;
	return 0;
}

struct family_state {
	uint16_t id;
	int error;
};

static int on_family(const struct nlmsghdr *nlh, void *data)
{
	struct family_state *st = data;

	st->error = wgkernel_parse_family(nlh, &st->id);
	if (st->error < 0) {
		errno = -st->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int wgkernel_family(uint16_t *ret_id, unsigned timeout_ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct family_state st = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;
	int r;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	r = netlink_talk(NETLINK_GENERIC, nlh, on_family, &st, timeout_ms);
	if (r < 0)
		return r;
	if (st.id == 0)
		return -ENOENT;
	*ret_id = st.id;
	return 0;
}

/* ---- device ------------------------------------------------------------- */

struct allowed_ip_parse {
	struct wireguard_ip ip;
	int addr_len; /* 0 = no address seen */
	bool has_cidr;
};

static int allowed_ip_field(const struct nlattr *attr, void *data)
{
	struct allowed_ip_parse *p = data;
	uint16_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case WGALLOWEDIP_A_FAMILY:
		if (valid(attr, MNL_TYPE_U16) < 0)
			return -EBADMSG;
		p->ip.family = mnl_attr_get_u16(attr);
		return 0;
	case WGALLOWEDIP_A_IPADDR:
		/* The family may come after the address: keep the bytes, check
		 * the length against the family once both are known. */
		if (len != sizeof(p->ip.addr.v4) && len != sizeof(p->ip.addr.v6))
			return -EBADMSG;
		memset(&p->ip.addr, 0, sizeof(p->ip.addr));
		memcpy(&p->ip.addr, mnl_attr_get_payload(attr), len);
		p->addr_len = len;
		return 0;
	case WGALLOWEDIP_A_CIDR_MASK:
		if (valid(attr, MNL_TYPE_U8) < 0)
			return -EBADMSG;
		p->ip.cidr = mnl_attr_get_u8(attr);
		p->has_cidr = true;
		return 0;
	}
	return 0;
}

static int allowed_ip_entry(const struct nlattr *attr, void *data)
{
	struct wireguard_peer *peer = data;
	struct allowed_ip_parse p = {.addr_len = 0};
	int r = walk_nested(attr, allowed_ip_field, &p);

	if (r < 0)
		return r;
	if (p.ip.family != AF_INET && p.ip.family != AF_INET6)
		return 0; /* a family this code does not know: not ours to judge */
	if (!p.has_cidr || p.addr_len != (p.ip.family == AF_INET ? 4 : 16) ||
	    p.ip.cidr > (p.ip.family == AF_INET ? 32 : 128))
		return -EBADMSG;
	if (peer->n_allowed_ips >= WGKERNEL_ALLOWED_IPS_MAX)
		return -ENOMEM;
	return wireguard_peer_add_allowed_ip(peer, &p.ip);
}

static int endpoint_attr(const struct nlattr *attr, struct wireguard_peer *peer)
{
	uint16_t len = mnl_attr_get_payload_len(attr);
	sa_family_t family;

	if (len < sizeof(family))
		return -EBADMSG;
	memcpy(&family, mnl_attr_get_payload(attr), sizeof(family));
	if (family == AF_INET && len == sizeof(struct sockaddr_in))
		memcpy(&peer->endpoint.in, mnl_attr_get_payload(attr), len);
	else if (family == AF_INET6 && len == sizeof(struct sockaddr_in6))
		memcpy(&peer->endpoint.in6, mnl_attr_get_payload(attr), len);
	else
		return -EBADMSG;
	return 0;
}

struct peer_parse {
	struct wireguard_peer peer;
	bool has_key;
};

static int peer_attr(const struct nlattr *attr, void *data)
{
	struct peer_parse *p = data;
	struct wireguard_peer *peer = &p->peer;
	int64_t ts[2];

	switch (mnl_attr_get_type(attr)) {
	case WGPEER_A_PUBLIC_KEY:
		if (valid_len(attr, WIREGUARD_KEY_LEN) < 0)
			return -EBADMSG;
		wireguard_key_to_base64(peer->public_key, mnl_attr_get_payload(attr));
		p->has_key = true;
		return 0;
	case WGPEER_A_PRESHARED_KEY:
		/* Secret: checked for shape, never copied. */
		return valid_len(attr, WIREGUARD_KEY_LEN);
	case WGPEER_A_ENDPOINT:
		return endpoint_attr(attr, peer);
	case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
		if (valid(attr, MNL_TYPE_U16) < 0)
			return -EBADMSG;
		peer->persistent_keepalive = mnl_attr_get_u16(attr);
		return 0;
	case WGPEER_A_LAST_HANDSHAKE_TIME:
		if (valid_len(attr, WGKERNEL_TIMESPEC_LEN) < 0)
			return -EBADMSG;
		memcpy(ts, mnl_attr_get_payload(attr), sizeof(ts));
		peer->last_handshake = ts[0];
		peer->last_handshake_nsec = ts[1];
		return 0;
	case WGPEER_A_RX_BYTES:
		if (valid(attr, MNL_TYPE_U64) < 0)
			return -EBADMSG;
		peer->rx_bytes = mnl_attr_get_u64(attr);
		return 0;
	case WGPEER_A_TX_BYTES:
		if (valid(attr, MNL_TYPE_U64) < 0)
			return -EBADMSG;
		peer->tx_bytes = mnl_attr_get_u64(attr);
		return 0;
	case WGPEER_A_PROTOCOL_VERSION:
		if (valid(attr, MNL_TYPE_U32) < 0)
			return -EBADMSG;
		peer->protocol_version = mnl_attr_get_u32(attr);
		return 0;
	case WGPEER_A_FLAGS:
		return valid(attr, MNL_TYPE_U32);
	case WGPEER_A_ALLOWEDIPS:
		return walk_nested(attr, allowed_ip_entry, peer);
	}
	return 0;
}

static void peer_parse_free(struct peer_parse *p)
{
	free(p->peer.allowed_ips);
	p->peer.allowed_ips = NULL;
}

/* One entry of WGDEVICE_A_PEERS: a new peer, or the continuation of the
 * last one (the kernel repeats a peer whose allowed IPs overflowed a
 * message at the start of the next one, with only its key and more IPs). */
static int peer_entry(const struct nlattr *attr, void *data)
{
	struct wireguard_device *dev = data;
	struct peer_parse p = {.has_key = false};
	struct wireguard_peer *last = dev->n_peers ? &dev->peers[dev->n_peers - 1] : NULL;
	struct wireguard_peer *peer;
	int r;

	r = walk_nested(attr, peer_attr, &p);
	if (r == 0 && !p.has_key)
		r = -EBADMSG;
	if (r < 0)
		goto out;
	if (last && strcmp(last->public_key, p.peer.public_key) == 0) {
		for (size_t i = 0; i < p.peer.n_allowed_ips && r == 0; i++) {
			if (last->n_allowed_ips >= WGKERNEL_ALLOWED_IPS_MAX)
				r = -ENOMEM;
			else
				r = wireguard_peer_add_allowed_ip(last, &p.peer.allowed_ips[i]);
		}
		goto out;
	}
	if (dev->n_peers >= WGKERNEL_PEERS_MAX) {
		r = -ENOMEM;
		goto out;
	}
	peer = wireguard_device_add_peer(dev);
	if (!peer) {
		r = -ENOMEM;
		goto out;
	}
	*peer = p.peer; /* the device takes the allowed IPs over */
	return 0;
out:
	peer_parse_free(&p);
	return r;
}

static int device_attr(const struct nlattr *attr, void *data)
{
	struct wireguard_device *dev = data;

	switch (mnl_attr_get_type(attr)) {
	case WGDEVICE_A_IFINDEX:
		if (valid(attr, MNL_TYPE_U32) < 0)
			return -EBADMSG;
		dev->ifindex = (int)mnl_attr_get_u32(attr);
		return 0;
	case WGDEVICE_A_IFNAME:
		if (valid(attr, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(attr) > IF_NAMESIZE)
			return -EBADMSG;
		return 0; /* we asked by name: it is dev->name */
	case WGDEVICE_A_PRIVATE_KEY:
		/* Secret: checked for shape, never copied. */
		return valid_len(attr, WIREGUARD_KEY_LEN);
	case WGDEVICE_A_PUBLIC_KEY:
		if (valid_len(attr, WIREGUARD_KEY_LEN) < 0)
			return -EBADMSG;
		wireguard_key_to_base64(dev->public_key, mnl_attr_get_payload(attr));
		dev->has_public_key = true;
		return 0;
	case WGDEVICE_A_FLAGS:
		return valid(attr, MNL_TYPE_U32);
	case WGDEVICE_A_LISTEN_PORT:
		if (valid(attr, MNL_TYPE_U16) < 0)
			return -EBADMSG;
		dev->listen_port = mnl_attr_get_u16(attr);
		return 0;
	case WGDEVICE_A_FWMARK:
		if (valid(attr, MNL_TYPE_U32) < 0)
			return -EBADMSG;
		dev->fwmark = mnl_attr_get_u32(attr);
		return 0;
	case WGDEVICE_A_PEERS:
		return walk_nested(attr, peer_entry, dev);
	}
	return 0;
}

int wgkernel_parse_device(const struct nlmsghdr *nlh, uint16_t family, struct wireguard_device *dev)
{
	const struct genlmsghdr *genl;

	if (nlh->nlmsg_type != family || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + GENL_HDRLEN)
		return -EBADMSG;
	genl = mnl_nlmsg_get_payload(nlh);
	if (genl->cmd != WG_CMD_GET_DEVICE)
		return -EBADMSG;
	return walk_attrs(mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN),
	                  nlh->nlmsg_len - MNL_NLMSG_HDRLEN - GENL_HDRLEN, device_attr, dev);
}

struct device_state {
	uint16_t family;
	struct wireguard_device *dev;
};

static int on_device(const struct nlmsghdr *nlh, void *data)
{
	struct device_state *st = data;
	int r = wgkernel_parse_device(nlh, st->family, st->dev);

	if (r < 0) {
		errno = -r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int wgkernel_read_device_with(wgkernel_talk_fn talk, uint16_t family, struct wireguard_device *dev,
                              unsigned timeout_ms)
{
	struct device_state st = {.family = family, .dev = dev};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int r = -EINTR;

	for (int try = 0; try < WGKERNEL_DUMP_TRIES && r == -EINTR; try++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct genlmsghdr *genl;

		nlh->nlmsg_type = family;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP;
		genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
		genl->cmd = WG_CMD_GET_DEVICE;
		genl->version = WG_GENL_VERSION;
		mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, dev->name);
		/* Each try starts from nothing: a half-merged dump is no use. */
		wireguard_device_reset(dev);
		r = talk(NETLINK_GENERIC, nlh, on_device, &st, timeout_ms);
	}
	if (r < 0)
		wireguard_device_reset(dev);
	return r;
}

int wgkernel_read_device(uint16_t family, struct wireguard_device *dev, unsigned timeout_ms)
{
	return wgkernel_read_device_with(netlink_talk, family, dev, timeout_ms);
}
