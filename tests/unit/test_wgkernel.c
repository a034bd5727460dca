#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/wgkernel.h"
#include "tests/unit/recorded.h"
#include "tests/unit/wgmsg.h"

static char buf[1 << 16];

static void key_b64(const uint8_t key[32], char out[45])
{
	wireguard_key_to_base64(out, key);
}

static void test_full_device(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	uint8_t priv[32], pub[32], ppub[32], psk[32];
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);
	struct nlattr *peers, *peer;
	char b64[45], text[64];

	(void)state;
	wgmsg_key(priv, 1);
	wgmsg_key(pub, 2);
	wgmsg_key(ppub, 3);
	wgmsg_key(psk, 4);
	wgmsg_device(nlh, "wg0", priv, pub, 51820);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, ppub, psk);
	wgmsg_peer_stats(nlh, 1700000000, 1000, 2000);
	wgmsg_ips(nlh, 1, 1, 2);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);

	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), 0);
	assert_int_equal(dev.ifindex, 7);
	assert_int_equal(dev.listen_port, 51820);
	assert_true(dev.has_public_key);
	key_b64(pub, b64);
	assert_string_equal(dev.public_key, b64);
	assert_int_equal(dev.n_peers, 1);
	key_b64(ppub, b64);
	assert_string_equal(dev.peers[0].public_key, b64);
	assert_int_equal(dev.peers[0].last_handshake, 1700000000);
	assert_int_equal(dev.peers[0].last_handshake_nsec, 123456789);
	assert_int_equal(dev.peers[0].rx_bytes, 1000);
	assert_int_equal(dev.peers[0].tx_bytes, 2000);
	assert_int_equal(dev.peers[0].persistent_keepalive, 25);
	assert_int_equal(dev.peers[0].protocol_version, 1);
	wireguard_format_endpoint(&dev.peers[0].endpoint.sa, text, sizeof(text));
	assert_string_equal(text, "203.0.113.7:51820");
	assert_int_equal(dev.peers[0].n_allowed_ips, 2);
	wireguard_format_ip(&dev.peers[0].allowed_ips[1], text, sizeof(text));
	assert_string_equal(text, "10.0.1.2/32");
	/* The secrets went nowhere: not in the device, not in the peer. */
	assert_null(memmem(&dev, sizeof(dev), priv, 32));
	assert_null(memmem(dev.peers, sizeof(*dev.peers) * dev.peers_cap, psk, 32));
	assert_null(memmem(dev.peers, sizeof(*dev.peers) * dev.peers_cap, priv, 32));
	wireguard_device_free(&dev);
}

/* A peer whose allowed IPs did not fit is repeated at the start of the
 * next message with only its key and the rest of its IPs; that message
 * has no device attributes. */
static void test_continuation_peer(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	uint8_t pub[32], a[32], b[32], c[32];
	struct nlmsghdr *nlh;
	struct nlattr *peers, *peer;

	(void)state;
	wgmsg_key(pub, 10);
	wgmsg_key(a, 11);
	wgmsg_key(b, 12);
	wgmsg_key(c, 13);

	nlh = wgmsg_begin(buf, 0);
	wgmsg_device(nlh, "wg0", NULL, pub, 51820);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, a, NULL);
	wgmsg_peer_stats(nlh, 100, 1, 2);
	wgmsg_ips(nlh, 1, 1, 3);
	mnl_attr_nest_end(nlh, peer);
	peer = wgmsg_peer_open(nlh, b, NULL);
	wgmsg_peer_stats(nlh, 200, 3, 4);
	wgmsg_ips(nlh, 2, 1, 200);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), 0);

	nlh = wgmsg_begin(buf, 0);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, b, NULL);
	wgmsg_ips(nlh, 3, 1, 100);
	mnl_attr_nest_end(nlh, peer);
	peer = wgmsg_peer_open(nlh, c, NULL);
	wgmsg_peer_stats(nlh, 300, 5, 6);
	wgmsg_ips(nlh, 4, 1, 1);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), 0);

	assert_int_equal(dev.n_peers, 3);
	assert_int_equal(dev.peers[0].n_allowed_ips, 3);
	assert_int_equal(dev.peers[1].n_allowed_ips, 300);
	/* The continuation carries no counters: the first part's stay. */
	assert_int_equal(dev.peers[1].last_handshake, 200);
	assert_int_equal(dev.peers[1].rx_bytes, 3);
	assert_int_equal(dev.peers[2].n_allowed_ips, 1);
	assert_int_equal(dev.peers[2].last_handshake, 300);
	/* Device attributes from the first message survive the second. */
	assert_int_equal(dev.listen_port, 51820);
	assert_true(dev.has_public_key);
	wireguard_device_free(&dev);
}

static void test_missing_device_attrs(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);
	struct nlattr *peers, *peer;
	uint8_t a[32];

	(void)state;
	wgmsg_key(a, 20);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, a, NULL);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), 0);
	assert_false(dev.has_public_key);
	assert_int_equal(dev.listen_port, 0);
	assert_int_equal(dev.n_peers, 1);
	assert_int_equal(dev.peers[0].last_handshake, 0);
	assert_int_equal(dev.peers[0].endpoint.sa.sa_family, AF_UNSPEC);
	assert_int_equal(dev.peers[0].n_allowed_ips, 0);
	wireguard_device_free(&dev);

	/* A device without any peer at all. */
	nlh = wgmsg_begin(buf, 0);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), 0);
	assert_int_equal(dev.n_peers, 0);
	wireguard_device_free(&dev);
}

static void test_unknown_attributes_ignored(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);
	struct nlattr *peers, *peer, *ips, *ip;
	uint8_t pub[32], a[32];
	struct in_addr addr = {.s_addr = htonl(0x0a000001)};

	(void)state;
	wgmsg_key(pub, 30);
	wgmsg_key(a, 31);
	mnl_attr_put_u32(nlh, 99, 12345);
	wgmsg_device(nlh, "wg0", NULL, pub, 1);
	mnl_attr_put_strz(nlh, 100, "from a newer kernel");
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, a, NULL);
	mnl_attr_put_u64(nlh, 77, 1);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	ip = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, sizeof(addr), &addr);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 24);
	mnl_attr_put_u32(nlh, 9, 1);
	mnl_attr_nest_end(nlh, ip);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), 0);
	assert_int_equal(dev.listen_port, 1);
	assert_int_equal(dev.n_peers, 1);
	assert_int_equal(dev.peers[0].n_allowed_ips, 1);
	assert_int_equal(dev.peers[0].allowed_ips[0].cidr, 24);
	wireguard_device_free(&dev);
}

static void test_ipv6_endpoint_with_scope(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);
	struct nlattr *peers, *peer;
	struct sockaddr_in6 sin6 = {
	    .sin6_family = AF_INET6, .sin6_port = htons(51820), .sin6_scope_id = 4242};
	uint8_t a[32], b[32];
	char text[WIREGUARD_ENDPOINT_MAX];

	(void)state;
	wgmsg_key(a, 40);
	wgmsg_key(b, 41);
	inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, a, NULL);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
	mnl_attr_nest_end(nlh, peer);
	peer = wgmsg_peer_open(nlh, b, NULL);
	sin6.sin6_scope_id = 0;
	inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), 0);
	assert_int_equal(dev.n_peers, 2);
	assert_int_equal(dev.peers[0].endpoint.in6.sin6_scope_id, 4242);
	wireguard_format_endpoint(&dev.peers[0].endpoint.sa, text, sizeof(text));
	/* No interface has index 4242 here: the zone is numeric, as in wg. */
	assert_string_equal(text, "[fe80::1%4242]:51820");
	wireguard_format_endpoint(&dev.peers[1].endpoint.sa, text, sizeof(text));
	assert_string_equal(text, "[2001:db8::7]:51820");
	wireguard_device_free(&dev);
}

/* Builds a device message whose only peer carries `attr` of `len` bytes,
 * and returns what parsing it says. */
static int parse_peer_attr(uint16_t type, const void *data, size_t len)
{
	struct wireguard_device dev = {.name = "wg0"};
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);
	struct nlattr *peers, *peer;
	uint8_t a[32];
	int r;

	wgmsg_key(a, 50);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, a, NULL);
	mnl_attr_put(nlh, type, len, data);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	r = wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev);
	wireguard_device_free(&dev);
	return r;
}

static void test_wrong_lengths(void **state)
{
	uint8_t bytes[64] = {0};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct wireguard_device dev = {.name = "wg0"};
	struct nlmsghdr *nlh;

	(void)state;
	assert_int_equal(parse_peer_attr(WGPEER_A_RX_BYTES, bytes, 4), -EBADMSG);
	assert_int_equal(parse_peer_attr(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, bytes, 4),
	                 -EBADMSG);
	assert_int_equal(parse_peer_attr(WGPEER_A_PRESHARED_KEY, bytes, 31), -EBADMSG);
	assert_int_equal(parse_peer_attr(WGPEER_A_LAST_HANDSHAKE_TIME, bytes, 8), -EBADMSG);
	assert_int_equal(parse_peer_attr(WGPEER_A_ENDPOINT, bytes, 10), -EBADMSG);
	/* An IPv4 family with an IPv6-sized address, and the reverse. */
	memcpy(bytes, &sin, sizeof(sin));
	assert_int_equal(parse_peer_attr(WGPEER_A_ENDPOINT, bytes, sizeof(sin6)), -EBADMSG);
	memcpy(bytes, &sin6, sizeof(sin6));
	assert_int_equal(parse_peer_attr(WGPEER_A_ENDPOINT, bytes, sizeof(sin)), -EBADMSG);
	/* And the right sizes pass, so the above failed for their length. */
	assert_int_equal(parse_peer_attr(WGPEER_A_RX_BYTES, bytes, 8), 0);
	assert_int_equal(parse_peer_attr(WGPEER_A_ENDPOINT, &sin, sizeof(sin)), 0);

	nlh = wgmsg_begin(buf, 0);
	mnl_attr_put_u32(nlh, WGDEVICE_A_LISTEN_PORT, 51820);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), -EBADMSG);
	nlh = wgmsg_begin(buf, 0);
	mnl_attr_put(nlh, WGDEVICE_A_PUBLIC_KEY, 31, bytes);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), -EBADMSG);
	nlh = wgmsg_begin(buf, 0);
	mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY, 33, bytes);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), -EBADMSG);
	wireguard_device_free(&dev);
}

static void test_bad_allowed_ip(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);
	struct nlattr *peers, *peer, *ips, *ip;
	struct in6_addr a6 = IN6ADDR_LOOPBACK_INIT;
	uint8_t a[32];

	(void)state;
	wgmsg_key(a, 60);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, a, NULL);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	ip = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, sizeof(a6), &a6);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 32);
	mnl_attr_nest_end(nlh, ip);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), -EBADMSG);
	wireguard_device_free(&dev);
}

static void test_truncated_attribute(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);
	struct nlattr *peers, *peer, *last;
	uint8_t pub[32], a[32];

	(void)state;
	wgmsg_key(pub, 70);
	wgmsg_key(a, 71);
	wgmsg_device(nlh, "wg0", NULL, pub, 51820);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, a, NULL);
	wgmsg_peer_stats(nlh, 1, 2, 3);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), 0);
	wireguard_device_free(&dev);

	/* The message ends inside the peers nest: its length lies. */
	nlh->nlmsg_len -= 8;
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), -EBADMSG);
	wireguard_device_free(&dev);
	nlh->nlmsg_len += 8;

	/* An attribute inside the peer claims more than its nest holds. */
	last = (struct nlattr *)((char *)peer + mnl_attr_get_len(peer) - MNL_ALIGN(4 + 4));
	assert_int_equal(mnl_attr_get_type(last), WGPEER_A_PROTOCOL_VERSION);
	last->nla_len = 64;
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), -EBADMSG);
	wireguard_device_free(&dev);

	/* An attribute shorter than its own header. */
	last->nla_len = 2;
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), -EBADMSG);
	wireguard_device_free(&dev);
}

static void test_wrong_message(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);

	(void)state;
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY + 1, &dev), -EBADMSG);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2; /* shorter than the genl header */
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, &dev), -EBADMSG);
}

/* ---- the dump loop, over a replayed transport ----------------------------- */

struct replay {
	int calls;
	int interrupted_calls; /* the first this many report NLM_F_DUMP_INTR */
	int error;             /* returned instead of a reply, when set */
};

static struct replay replay;

static int replay_talk(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data, unsigned timeout_ms)
{
	static char reply[4096];
	struct nlmsghdr *nlh;
	struct nlattr *peers, *peer;
	uint8_t pub[32], a[32];
	int call = replay.calls++;

	(void)timeout_ms;
	assert_int_equal(bus, NETLINK_GENERIC);
	assert_int_equal(req->nlmsg_type, WGMSG_FAMILY);
	assert_true(req->nlmsg_flags & NLM_F_DUMP);
	if (replay.error)
		return replay.error;
	wgmsg_key(pub, 80);
	wgmsg_key(a, (uint8_t)(81 + call));
	nlh = wgmsg_begin(reply, call < replay.interrupted_calls ? NLM_F_DUMP_INTR : 0);
	wgmsg_device(nlh, "wg0", NULL, pub, 51820);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, a, NULL);
	wgmsg_ips(nlh, 1, 1, 2);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	if (cb(nlh, data) != MNL_CB_OK)
		return -EBADMSG;
	/* netlink_talk() reports a dump marked interrupted as -EINTR. */
	return call < replay.interrupted_calls ? -EINTR : 0;
}

static void test_dump_intr_retried(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	uint8_t a[32];
	char b64[45];

	(void)state;
	replay = (struct replay){.interrupted_calls = 2};
	assert_int_equal(wgkernel_read_device_with(replay_talk, WGMSG_FAMILY, &dev, 100), 0);
	assert_int_equal(replay.calls, 3);
	assert_int_equal(dev.interrupted_dumps, 2);
	/* Only the clean third dump's peer: nothing of the interrupted ones. */
	assert_int_equal(dev.n_peers, 1);
	wgmsg_key(a, 83);
	wireguard_key_to_base64(b64, a);
	assert_string_equal(dev.peers[0].public_key, b64);
	assert_int_equal(dev.peers[0].n_allowed_ips, 2);
	/* The count is the last read's, not a running total. */
	replay = (struct replay){.interrupted_calls = 0};
	assert_int_equal(wgkernel_read_device_with(replay_talk, WGMSG_FAMILY, &dev, 100), 0);
	assert_int_equal(dev.interrupted_dumps, 0);
	wireguard_device_free(&dev);
}

static void test_dump_intr_bounded(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};

	(void)state;
	replay = (struct replay){.interrupted_calls = 1000};
	assert_int_equal(wgkernel_read_device_with(replay_talk, WGMSG_FAMILY, &dev, 100), -EINTR);
	assert_int_equal(replay.calls, WGKERNEL_DUMP_TRIES);
	assert_int_equal(dev.interrupted_dumps, WGKERNEL_DUMP_TRIES);
	assert_int_equal(dev.n_peers, 0);
	assert_false(dev.has_public_key);
	wireguard_device_free(&dev);
}

static void test_dump_errors(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};

	(void)state;
	replay = (struct replay){.error = -ENODEV};
	assert_int_equal(wgkernel_read_device_with(replay_talk, WGMSG_FAMILY, &dev, 100), -ENODEV);
	assert_int_equal(replay.calls, 1);
	replay = (struct replay){.error = -EPERM};
	assert_int_equal(wgkernel_read_device_with(replay_talk, WGMSG_FAMILY, &dev, 100), -EPERM);
	assert_int_equal(replay.calls, 1);
	wireguard_device_free(&dev);
}

static void test_family_reply(void **state)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;
	uint16_t id = 0;

	(void)state;
	nlh->nlmsg_type = GENL_ID_CTRL;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_NEWFAMILY;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "wireguard");
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, 0x22);
	assert_int_equal(wgkernel_parse_family(nlh, &id), 0);
	assert_int_equal(id, 0x22);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	mnl_attr_put_u32(nlh, CTRL_ATTR_FAMILY_ID, 0x22); /* wrong size */
	id = 7;
	assert_int_equal(wgkernel_parse_family(nlh, &id), -EBADMSG);
	assert_int_equal(id, 7);
}

/* ---- recorded replies through netlink_replay() --------------------------- */

/* A dump whose device message claims more than the datagram holds (above
 * INT_MAX, which libmnl 1.0.4's signed check lets through, or a little
 * more) is refused whole before the parser walks a byte past it; the same
 * dump with its true length parses. */
static void test_dump_length_beyond_datagram(void **state)
{
	const uint32_t lies[] = {0x80000000u + 64, 0xffffffffu, 0};
	struct wireguard_device dev = {.name = "wg0"};
	uint8_t pub[32], ppub[32];
	struct nlmsghdr *nlh;
	struct nlattr *peers, *peer;
	uint32_t len;

	(void)state;
	wgmsg_key(pub, 2);
	wgmsg_key(ppub, 3);
	nlh = wgmsg_begin(buf, 0);
	wgmsg_device(nlh, "wg0", NULL, pub, 51820);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, ppub, NULL);
	wgmsg_ips(nlh, 1, 1, 2);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	recorded = buf;
	recorded_len = recorded_end(nlh);
	len = nlh->nlmsg_len;
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		nlh->nlmsg_len = lies[i] ? lies[i] : (uint32_t)recorded_len + 4;
		assert_int_equal(wgkernel_read_device_with(recorded_talk, WGMSG_FAMILY, &dev, 100),
		                 -EBADMSG);
		assert_int_equal(dev.n_peers, 0);
	}
	nlh->nlmsg_len = len;
	assert_int_equal(wgkernel_read_device_with(recorded_talk, WGMSG_FAMILY, &dev, 100), 0);
	assert_int_equal(dev.n_peers, 1);
	assert_int_equal(dev.peers[0].n_allowed_ips, 2);
	wireguard_device_free(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_device),
	    cmocka_unit_test(test_continuation_peer),
	    cmocka_unit_test(test_missing_device_attrs),
	    cmocka_unit_test(test_unknown_attributes_ignored),
	    cmocka_unit_test(test_ipv6_endpoint_with_scope),
	    cmocka_unit_test(test_wrong_lengths),
	    cmocka_unit_test(test_bad_allowed_ip),
	    cmocka_unit_test(test_truncated_attribute),
	    cmocka_unit_test(test_wrong_message),
	    cmocka_unit_test(test_dump_intr_retried),
	    cmocka_unit_test(test_dump_intr_bounded),
	    cmocka_unit_test(test_dump_errors),
	    cmocka_unit_test(test_dump_length_beyond_datagram),
	    cmocka_unit_test(test_family_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
