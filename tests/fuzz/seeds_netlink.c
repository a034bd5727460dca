/* Writes the netlink seeds of the wgkernel and rtnl harnesses into
 * DIR/wgkernel/ and DIR/rtnl/: replies built as the kernel lays them out
 * (tests/unit/wgmsg.h), whole multi-message dumps with NLM_F_DUMP_INTR,
 * the kernel's errors, truncated attributes and nested lengths that lie;
 * and, for rtnl, the raw datagrams of real link, address and route dumps
 * of the network namespace it runs in (tests/fuzz/seeds.sh runs it in
 * one of its own).
 *   seeds_netlink DIR */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "tests/unit/wgmsg.h"

static char buf[1 << 16] __attribute__((aligned(4)));
static size_t used;
static const char *dir;

static struct nlmsghdr *begin(uint16_t type, uint16_t flags, size_t extra)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + used);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	if (extra)
		mnl_nlmsg_put_extra_header(nlh, extra);
	return nlh;
}

static void end(struct nlmsghdr *nlh)
{
	used += MNL_ALIGN(nlh->nlmsg_len);
}

static void done(int32_t err)
{
	struct nlmsghdr *nlh = begin(NLMSG_DONE, NLM_F_MULTI, sizeof(err));

	memcpy(mnl_nlmsg_get_payload(nlh), &err, sizeof(err));
	end(nlh);
}

static void error(int err)
{
	struct nlmsghdr *nlh = begin(NLMSG_ERROR, 0, sizeof(struct nlmsgerr));

	((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error = err;
	end(nlh);
}

static void save(const char *sub, const char *name, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	used = 0;
}

/* ---- WireGuard ------------------------------------------------------------ */

static struct nlmsghdr *wg_device(uint16_t flags, int peers, int ips, uint8_t key_seed)
{
	struct nlmsghdr *nlh = wgmsg_begin(buf + used, flags);
	uint8_t pub[32], ppub[32];
	struct nlattr *nest, *peer;

	wgmsg_key(pub, 2);
	wgmsg_device(nlh, "wg0", NULL, pub, 51820);
	nest = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	for (int i = 0; i < peers; i++) {
		wgmsg_key(ppub, (uint8_t)(key_seed + i));
		peer = wgmsg_peer_open(nlh, ppub, NULL);
		wgmsg_peer_stats(nlh, 1700000000 + i, 1000u * (unsigned)i, 2000);
		wgmsg_ips(nlh, i, 1, ips);
		if (i == 0)
			wgmsg_allowed_ip6(nlh, "fd00::2", 128);
		mnl_attr_nest_end(nlh, peer);
	}
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static void wgkernel_seeds(void)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest, *peer;
	uint8_t ppub[32];

	end(wg_device(0, 2, 2, 10));
	done(0);
	save("wgkernel", "device-two-peers", used);
	/* A peer whose allowed IPs go on in the next message, key repeated. */
	end(wg_device(0, 1, 3, 10));
	nlh = wgmsg_begin(buf + used, 0);
	nest = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	wgmsg_key(ppub, 10);
	peer = wgmsg_peer_open(nlh, ppub, NULL);
	wgmsg_ips(nlh, 9, 1, 2);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, nest);
	end(nlh);
	done(0);
	save("wgkernel", "device-continued-peer", used);
	end(wg_device(NLM_F_DUMP_INTR, 1, 1, 20));
	done(0);
	save("wgkernel", "device-dump-intr", used);
	end(wg_device(0, 1, 1, 30));
	done(-ENODEV);
	save("wgkernel", "done-enodev", used);
	error(-EPERM);
	save("wgkernel", "error-eperm", used);
	/* The last attribute cut short; a peer nest that claims more. */
	nlh = wg_device(0, 1, 2, 40);
	end(nlh);
	done(0);
	nlh->nlmsg_len -= 6;
	save("wgkernel", "truncated-attribute", used);
	nlh = wg_device(0, 2, 1, 50);
	/* ifindex, name, public key, port, fwmark, then the peers. */
	nest = mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN);
	for (int i = 0; i < 5; i++)
		nest = mnl_attr_next(nest);
	((struct nlattr *)mnl_attr_get_payload(nest))->nla_len += 64;
	end(nlh);
	done(0);
	save("wgkernel", "nested-length-lies", used);
	/* The family lookup's reply. */
	nlh = begin(GENL_ID_CTRL, 0, sizeof(struct genlmsghdr));
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->cmd = CTRL_CMD_NEWFAMILY;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, WGMSG_FAMILY);
	end(nlh);
	error(0);
	save("wgkernel", "family", used);
}

/* ---- rtnetlink ------------------------------------------------------------ */

static void rtnl_built(void)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct rtmsg *rtm;
	struct nlattr *info, *mp;
	struct rtnexthop *nh;
	uint8_t a[16];

	nlh = begin(RTM_NEWLINK, NLM_F_MULTI, sizeof(*ifi));
	ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_index = 7;
	ifi->ifi_flags = IFF_UP | IFF_POINTOPOINT | IFF_NOARP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wg0");
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, 0);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "wireguard");
	mnl_attr_nest_end(nlh, info);
	end(nlh);
	done(0);
	save("rtnl", "link-wireguard", used);
	nlh = begin(RTM_NEWLINK, NLM_F_MULTI | NLM_F_DUMP_INTR, sizeof(*ifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	end(nlh);
	done(0);
	save("rtnl", "link-dump-intr", used);
	nlh = begin(RTM_NEWLINK, NLM_F_MULTI, sizeof(*ifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	mnl_attr_nest_end(nlh, info);
	((struct nlattr *)mnl_attr_get_payload(info))->nla_len += 40;
	end(nlh);
	done(0);
	save("rtnl", "linkinfo-length-lies", used);
	/* A default route over two hops, its gateway cut short. */
	nlh = begin(RTM_NEWROUTE, NLM_F_MULTI, sizeof(*rtm));
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 100);
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	for (int i = 0; i < 2; i++) {
		nh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nh));
		nh->rtnh_len = sizeof(*nh) + MNL_ATTR_HDRLEN + 4;
		nh->rtnh_ifindex = 2 + i;
		inet_pton(AF_INET, "192.0.2.1", a);
		mnl_attr_put(nlh, RTA_GATEWAY, 4, a);
	}
	mnl_attr_nest_end(nlh, mp);
	end(nlh);
	nlh = begin(RTM_NEWROUTE, NLM_F_MULTI, sizeof(*rtm));
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_family = AF_INET6;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	inet_pton(AF_INET6, "fe80::1", a);
	mnl_attr_put(nlh, RTA_GATEWAY, 16, a);
	end(nlh);
	nlh->nlmsg_len -= 8;
	done(0);
	save("rtnl", "routes-multipath-truncated", used);
}

/* A real dump of this namespace: every datagram, as received, to the end. */
static void rtnl_live(uint16_t type, uint8_t family, const char *name)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	bool ended = false;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		exit(1);
	}
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	*(uint8_t *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg)) = family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("netlink send");
		exit(1);
	}
	while (!ended) {
		ssize_t n = mnl_socket_recvfrom(nl, buf + used, sizeof(buf) - used);

		if (n <= 0 || mnl_cb_run(buf + used, (size_t)n, 1, 0, NULL, NULL) <= MNL_CB_STOP)
			ended = true;
		if (n > 0)
			used += (size_t)n;
	}
	mnl_socket_close(nl);
	save("rtnl", name, used);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	wgkernel_seeds();
	rtnl_built();
	rtnl_live(RTM_GETLINK, AF_UNSPEC, "live-links");
	rtnl_live(RTM_GETADDR, AF_UNSPEC, "live-addrs");
	rtnl_live(RTM_GETROUTE, AF_INET, "live-routes4");
	rtnl_live(RTM_GETROUTE, AF_INET6, "live-routes6");
	return 0;
}
