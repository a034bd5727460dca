#include "probes/wgkernel.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/netlink.h"

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

static int valid(const struct nlattr *attr, enum mnl_attr_data_type type)
{
	return mnl_attr_validate(attr, type) < 0 ? -EBADMSG : 0;
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

/* The dump of a large device is parsed attribute by attribute, several per
 * peer, so this walks and checks attributes inline rather than through
 * libmnl's out-of-line accessors and callbacks. The checks are libmnl's:
 * an attribute must have a whole header and fit in what is left (else the
 * walk fails, up to 3 trailing bytes of padding aside, as in walk_attrs());
 * fixed-size types must have exactly their size. */
struct attr_iter {
	const char *p;
	size_t left;
};

static struct attr_iter attr_iter_nested(const struct nlattr *nest)
{
	return (struct attr_iter){(const char *)nest + NLA_HDRLEN, nest->nla_len - NLA_HDRLEN};
}

/* The next attribute, or NULL at the end (or at a malformed one). */
static inline const struct nlattr *attr_next(struct attr_iter *it)
{
	const struct nlattr *attr = (const struct nlattr *)(const void *)it->p;
	size_t step;

	if (it->left < NLA_HDRLEN || attr->nla_len < NLA_HDRLEN || attr->nla_len > it->left)
		return NULL;
	step = MNL_ALIGN(attr->nla_len);
	it->left = step < it->left ? it->left - step : 0;
	it->p += step;
	return attr;
}

/* 0 when the walk reached the end, -EBADMSG when it stopped at a bad one. */
static inline int attr_end(const struct attr_iter *it)
{
	return it->left >= NLA_HDRLEN ? -EBADMSG : 0;
}

static inline uint16_t attr_type(const struct nlattr *attr)
{
	return attr->nla_type & NLA_TYPE_MASK;
}

static inline size_t attr_len(const struct nlattr *attr)
{
	return attr->nla_len - NLA_HDRLEN;
}

static inline const void *attr_data(const struct nlattr *attr)
{
	return (const char *)attr + NLA_HDRLEN;
}

/* Checks that attr carries exactly len bytes and copies them to out. */
static inline int attr_get(const struct nlattr *attr, void *out, size_t len)
{
	if (attr_len(attr) != len)
		return -EBADMSG;
	memcpy(out, attr_data(attr), len);
	return 0;
}

/* A nest is empty or holds at least one attribute header. */
static inline int attr_nest_ok(const struct nlattr *attr)
{
	size_t len = attr_len(attr);

	return len == 0 || len >= NLA_HDRLEN ? 0 : -EBADMSG;
}

static int allowed_ip_entry(const struct nlattr *nest, struct wireguard_device *dev,
                            struct wireguard_peer *peer)
{
	struct attr_iter it = attr_iter_nested(nest);
	struct wireguard_ip ip = {.family = 0};
	const struct nlattr *attr;
	uint16_t family = 0;
	size_t addr_len = 0; /* 0 = no address seen */
	bool has_cidr = false;
	int r;

	if (attr_nest_ok(nest) < 0)
		return -EBADMSG;
	while ((attr = attr_next(&it))) {
		switch (attr_type(attr)) {
		case WGALLOWEDIP_A_FAMILY:
			if (attr_get(attr, &family, sizeof(family)) < 0)
				return -EBADMSG;
			break;
		case WGALLOWEDIP_A_IPADDR:
			/* The family may come after the address: keep the bytes,
			 * check the length against the family once both are known. */
			addr_len = attr_len(attr);
			if (addr_len != sizeof(ip.addr.v4) && addr_len != sizeof(ip.addr.v6))
				return -EBADMSG;
			memset(&ip.addr, 0, sizeof(ip.addr));
			memcpy(&ip.addr, attr_data(attr), addr_len);
			break;
		case WGALLOWEDIP_A_CIDR_MASK:
			if (attr_get(attr, &ip.cidr, sizeof(ip.cidr)) < 0)
				return -EBADMSG;
			has_cidr = true;
			break;
		}
	}
	r = attr_end(&it);
	if (r < 0)
		return r;
	if (family != AF_INET && family != AF_INET6)
		return 0; /* a family this code does not know: not ours to judge */
	ip.family = family;
	if (!has_cidr || addr_len != (family == AF_INET ? 4 : 16) ||
	    ip.cidr > (family == AF_INET ? 32 : 128))
		return -EBADMSG;
	if (peer->n_allowed_ips >= WGKERNEL_ALLOWED_IPS_MAX)
		return -ENOMEM;
	return wireguard_device_add_allowed_ip(dev, &ip);
}

static int allowed_ips_attr(const struct nlattr *nest, struct wireguard_device *dev,
                            struct wireguard_peer *peer)
{
	struct attr_iter it = attr_iter_nested(nest);
	const struct nlattr *attr;

	if (attr_nest_ok(nest) < 0)
		return -EBADMSG;
	while ((attr = attr_next(&it))) {
		int r = allowed_ip_entry(attr, dev, peer);

		if (r < 0)
			return r;
	}
	return attr_end(&it);
}

static int endpoint_attr(const struct nlattr *attr, struct wireguard_peer *peer)
{
	size_t len = attr_len(attr);
	sa_family_t family;

	if (len < sizeof(family))
		return -EBADMSG;
	memcpy(&family, attr_data(attr), sizeof(family));
	if (family == AF_INET && len == sizeof(struct sockaddr_in))
		memcpy(&peer->endpoint.in, attr_data(attr), len);
	else if (family == AF_INET6 && len == sizeof(struct sockaddr_in6))
		memcpy(&peer->endpoint.in6, attr_data(attr), len);
	else
		return -EBADMSG;
	return 0;
}

/* The attributes of one peer, straight into the device's last peer. */
static int peer_attrs(const struct nlattr *nest, struct wireguard_device *dev,
                      struct wireguard_peer *peer, bool *has_key)
{
	struct attr_iter it = attr_iter_nested(nest);
	const struct nlattr *attr;
	int64_t ts[2];
	int r = 0;

	if (attr_nest_ok(nest) < 0)
		return -EBADMSG;
	while (r == 0 && (attr = attr_next(&it))) {
		switch (attr_type(attr)) {
		case WGPEER_A_PUBLIC_KEY:
			if (attr_len(attr) != WIREGUARD_KEY_LEN)
				return -EBADMSG;
			wireguard_key_to_base64(peer->public_key, attr_data(attr));
			*has_key = true;
			break;
		case WGPEER_A_PRESHARED_KEY:
			/* Secret: checked for shape, never copied. */
			if (attr_len(attr) != WIREGUARD_KEY_LEN)
				return -EBADMSG;
			break;
		case WGPEER_A_ENDPOINT:
			r = endpoint_attr(attr, peer);
			break;
		case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			r = attr_get(attr, &peer->persistent_keepalive,
			             sizeof(peer->persistent_keepalive));
			break;
		case WGPEER_A_LAST_HANDSHAKE_TIME:
			/* struct __kernel_timespec: two 64-bit fields everywhere. */
			r = attr_get(attr, ts, sizeof(ts));
			peer->last_handshake = ts[0];
			peer->last_handshake_nsec = ts[1];
			break;
		case WGPEER_A_RX_BYTES:
			r = attr_get(attr, &peer->rx_bytes, sizeof(peer->rx_bytes));
			break;
		case WGPEER_A_TX_BYTES:
			r = attr_get(attr, &peer->tx_bytes, sizeof(peer->tx_bytes));
			break;
		case WGPEER_A_PROTOCOL_VERSION:
			r = attr_get(attr, &peer->protocol_version, sizeof(peer->protocol_version));
			break;
		case WGPEER_A_FLAGS:
			r = attr_len(attr) == sizeof(uint32_t) ? 0 : -EBADMSG;
			break;
		case WGPEER_A_ALLOWEDIPS:
			r = allowed_ips_attr(attr, dev, peer);
			break;
		}
	}
	return r < 0 ? r : attr_end(&it);
}

/* One entry of WGDEVICE_A_PEERS: a new peer, or the continuation of the
 * last one (the kernel repeats a peer whose allowed IPs overflowed a
 * message at the start of the next one, with only its key and more IPs).
 * It is parsed in place as a new last peer, then kept, merged into the
 * one before it, or dropped. */
static int peer_entry(const struct nlattr *nest, struct wireguard_device *dev)
{
	struct wireguard_peer *peer, *prev;
	bool has_key = false;
	int r;

	peer = wireguard_device_add_peer(dev);
	if (!peer)
		return -ENOMEM;
	r = peer_attrs(nest, dev, peer, &has_key);
	if (r == 0 && !has_key)
		r = -EBADMSG;
	if (r < 0) {
		wireguard_device_drop_last_peer(dev);
		return r;
	}
	prev = dev->n_peers >= 2 ? &dev->peers[dev->n_peers - 2] : NULL;
	if (prev && memcmp(prev->public_key, peer->public_key, sizeof(peer->public_key)) == 0) {
		/* Only the allowed IPs continue: the first part's counters stay. */
		if (prev->n_allowed_ips + peer->n_allowed_ips > WGKERNEL_ALLOWED_IPS_MAX) {
			wireguard_device_drop_last_peer(dev);
			return -ENOMEM;
		}
		wireguard_device_merge_last_peer(dev);
		return 0;
	}
	if (dev->n_peers > WGKERNEL_PEERS_MAX) {
		wireguard_device_drop_last_peer(dev);
		return -ENOMEM;
	}
	return 0;
}

static int peers_attr(const struct nlattr *nest, struct wireguard_device *dev)
{
	struct attr_iter it = attr_iter_nested(nest);
	const struct nlattr *attr;

	if (attr_nest_ok(nest) < 0)
		return -EBADMSG;
	while ((attr = attr_next(&it))) {
		int r = peer_entry(attr, dev);

		if (r < 0)
			return r;
	}
	return attr_end(&it);
}

static int device_attr(const struct nlattr *attr, struct wireguard_device *dev)
{
	const char *name;
	size_t len = attr_len(attr);

	switch (attr_type(attr)) {
	case WGDEVICE_A_IFINDEX:
		if (len != sizeof(uint32_t))
			return -EBADMSG;
		dev->ifindex = (int)mnl_attr_get_u32(attr);
		return 0;
	case WGDEVICE_A_IFNAME:
		/* A NUL-terminated string that fits an interface name; we asked
		 * by name, so it is dev->name. */
		name = attr_data(attr);
		if (len == 0 || len > IF_NAMESIZE || name[len - 1] != '\0')
			return -EBADMSG;
		return 0;
	case WGDEVICE_A_PRIVATE_KEY:
		/* Secret: checked for shape, never copied. */
		return len == WIREGUARD_KEY_LEN ? 0 : -EBADMSG;
	case WGDEVICE_A_PUBLIC_KEY:
		if (len != WIREGUARD_KEY_LEN)
			return -EBADMSG;
		wireguard_key_to_base64(dev->public_key, attr_data(attr));
		dev->has_public_key = true;
		return 0;
	case WGDEVICE_A_FLAGS:
		return len == sizeof(uint32_t) ? 0 : -EBADMSG;
	case WGDEVICE_A_LISTEN_PORT:
		return attr_get(attr, &dev->listen_port, sizeof(dev->listen_port));
	case WGDEVICE_A_FWMARK:
		return attr_get(attr, &dev->fwmark, sizeof(dev->fwmark));
	case WGDEVICE_A_PEERS:
		return peers_attr(attr, dev);
	}
	return 0;
}

int wgkernel_parse_device(const struct nlmsghdr *nlh, uint16_t family, struct wireguard_device *dev)
{
	const struct genlmsghdr *genl;
	const struct nlattr *attr;
	struct attr_iter it;

	if (nlh->nlmsg_type != family || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + GENL_HDRLEN)
		return -EBADMSG;
	genl = mnl_nlmsg_get_payload(nlh);
	if (genl->cmd != WG_CMD_GET_DEVICE)
		return -EBADMSG;
	it = (struct attr_iter){(const char *)nlh + MNL_NLMSG_HDRLEN + GENL_HDRLEN,
	                        nlh->nlmsg_len - MNL_NLMSG_HDRLEN - GENL_HDRLEN};
	while ((attr = attr_next(&it))) {
		int r = device_attr(attr, dev);

		if (r < 0)
			return r;
	}
	return attr_end(&it);
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

	dev->interrupted_dumps = 0;
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
		dev->interrupted_dumps += r == -EINTR;
	}
	if (r < 0)
		wireguard_device_reset(dev);
	return r;
}

int wgkernel_read_device(uint16_t family, struct wireguard_device *dev, unsigned timeout_ms)
{
	return wgkernel_read_device_with(netlink_talk, family, dev, timeout_ms);
}
