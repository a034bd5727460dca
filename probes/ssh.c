#include "probes/ssh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/config.h"
#include "probes/netlink.h"
#include "probes/rtnl.h"
#include "probes/sockdiag.h"
#include "probes/text.h"
#include "probes/wireguard.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void format_address(int family, const uint8_t *address, char *buf, size_t size)
{
	if (!inet_ntop(family, address, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

static bool all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

enum ssh_reach ssh_classify(int family, const uint8_t *address, int v6only, const char *vpn_address,
                            const char *lan_address)
{
	char text[SSH_ADDRESS_MAX];

	if (family == AF_INET6 && memcmp(address, v4mapped_prefix, 12) == 0) {
		family = AF_INET;
		address += 12;
	}
	if (all_zero(address, family == AF_INET ? 4 : 16))
		return family == AF_INET6 && v6only == 1 ? SSH_REACH_WILDCARD6 : SSH_REACH_WILDCARD;
	if ((family == AF_INET && address[0] == 127) ||
	    (family == AF_INET6 && all_zero(address, 15) && address[15] == 1))
		return SSH_REACH_LOOPBACK;
	format_address(family, address, text, sizeof(text));
	if (vpn_address[0] && strcmp(text, vpn_address) == 0)
		return SSH_REACH_VPN;
	if (lan_address[0] && strcmp(text, lan_address) == 0)
		return SSH_REACH_LAN;
	return SSH_REACH_OTHER;
}

bool ssh_reach_usable(enum ssh_reach reach, const struct ssh *s)
{
	switch (reach) {
	case SSH_REACH_WILDCARD:
	case SSH_REACH_VPN:
	case SSH_REACH_LAN:
		return true;
	case SSH_REACH_WILDCARD6:
		return strchr(s->vpn_address, ':') || strchr(s->lan_address, ':');
	case SSH_REACH_LOOPBACK:
	case SSH_REACH_OTHER:
		break;
	}
	return false;
}

const char *ssh_reach_name(enum ssh_reach reach)
{
	static const char *const names[] = {
	    [SSH_REACH_WILDCARD] = "all addresses",
	    [SSH_REACH_WILDCARD6] = "all IPv6 addresses",
	    [SSH_REACH_VPN] = "VPN",
	    [SSH_REACH_LAN] = "LAN",
	    [SSH_REACH_LOOPBACK] = "loopback",
	    [SSH_REACH_OTHER] = "other",
	};

	return (unsigned)reach <= SSH_REACH_OTHER ? names[reach] : "other";
}

const char *ssh_banner_state_name(enum ssh_banner_state state)
{
	static const char *const names[] = {
	    [SSH_BANNER_NOT_TRIED] = "not tried",
	    [SSH_BANNER_OK] = "ok",
	    [SSH_BANNER_REFUSED] = "refused",
	    [SSH_BANNER_NO_ANSWER] = "no answer",
	    [SSH_BANNER_SILENT] = "silent",
	    [SSH_BANNER_CLOSED] = "closed",
	    [SSH_BANNER_BAD] = "bad",
	    [SSH_BANNER_FAILED] = "failed",
	};

	return (unsigned)state <= SSH_BANNER_FAILED ? names[state] : "failed";
}

/* ---- the port ------------------------------------------------------------ */

/* The port of a ListenAddress that names one ("10.0.0.1:2222",
 * "[fd00::1]:2222"), else 0: sshd then listens there on that port only. */
static uint16_t listen_port(const char *value)
{
	const char *colon = value[0] == '[' ? strstr(value, "]:") : strchr(value, ':');
	char *end;
	unsigned long n;

	if (!colon || (value[0] != '[' && strchr(colon + 1, ':')))
		return 0;
	colon += value[0] == '[' ? 2 : 1;
	n = strtoul(colon, &end, 10);
	return *colon && !*end && n > 0 && n <= 65535 ? (uint16_t)n : 0;
}

/* [ssh] port, else sshd's first Port, else the port of its first
 * ListenAddress that names one, else 22. A missing sshd_config is -ENOENT
 * for the caller to judge; an unreadable one is kept as a fact. */
static int read_port(const struct config *cfg, struct ssh *s)
{
	struct sshdconf sc;
	char err[SSH_ERROR_MAX] = "";
	int r = sshdconf_read(cfg, &sc, err, sizeof(err));

	s->port = 22;
	s->port_source = SSH_PORT_DEFAULT;
	if (r == 0) {
		s->sshd_config_found = true;
		s->n_listen = sc.n_listen;
		memcpy(s->listen, sc.listen,
		       sizeof(s->listen[0]) *
		           (sc.n_listen < SSH_LISTEN_KEPT ? sc.n_listen : SSH_LISTEN_KEPT));
		if (sc.port) {
			s->port = sc.port;
			s->port_source = SSH_PORT_SSHD;
			snprintf(s->port_file, sizeof(s->port_file), "%s", sc.port_file);
			s->port_line = sc.port_line;
		}
		for (unsigned i = 0; !sc.port && i < sc.n_listen && i < SSHDCONF_LISTEN_MAX; i++)
			if (listen_port(sc.listen[i].value)) {
				s->port = listen_port(sc.listen[i].value);
				s->port_source = SSH_PORT_LISTEN;
				snprintf(s->port_file, sizeof(s->port_file), "%s",
				         sc.listen[i].file);
				s->port_line = sc.listen[i].line;
				break;
			}
	} else if (r != -ENOENT) {
		s->sshd_config_found = true;
		text_copy_utf8(s->sshd_config_error, sizeof(s->sshd_config_error), err,
		               strlen(err));
	}
	if (cfg->ssh_port) {
		s->port = (uint16_t)cfg->ssh_port;
		s->port_source = SSH_PORT_CONFIG;
		s->port_file[0] = '\0';
		s->port_line = 0;
	}
	return r == -ENOENT ? r : 0;
}

/* ---- addresses ----------------------------------------------------------- */

/* Every address of the watched WireGuard interfaces and of the default
 * route's interface: a listener on any of them is one a VPN client can
 * use (the first of each is kept in struct ssh for the words). */
#define SSH_KNOWN_MAX 32

struct known_addrs {
	struct {
		char text[SSH_ADDRESS_MAX];
		enum ssh_reach reach;
		char ifname[IF_NAMESIZE];
	} items[SSH_KNOWN_MAX];
	size_t count;
};

/* Adds the addresses of one interface, IPv4 first (the design's clients
 * reach the server over IPv4), and writes the first into first/first_if
 * when those are still empty. */
static int add_addresses(const struct rtnl_link *l, enum ssh_reach reach, struct known_addrs *k,
                         char *first, char *first_if)
{
	struct rtnl_addrs addrs = {.items = NULL};
	int r = rtnl_dump_addrs(AF_UNSPEC, l->ifindex, &addrs, NETLINK_DEFAULT_TIMEOUT_MS);

	if (r < 0)
		return r;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < addrs.count && k->count < SSH_KNOWN_MAX; i++) {
			if ((addrs.items[i].family == AF_INET) != (pass == 0))
				continue;
			format_address(addrs.items[i].family, addrs.items[i].address,
			               k->items[k->count].text, SSH_ADDRESS_MAX);
			k->items[k->count].reach = reach;
			snprintf(k->items[k->count].ifname, IF_NAMESIZE, "%s", l->name);
			if (!first[0]) {
				snprintf(first, SSH_ADDRESS_MAX, "%s", k->items[k->count].text);
				snprintf(first_if, IF_NAMESIZE, "%s", l->name);
			}
			k->count++;
		}
	rtnl_addrs_free(&addrs);
	return 0;
}

static void read_vpn(const struct config *cfg, const struct rtnl_links *links, struct ssh *s,
                     struct known_addrs *k)
{
	struct wireguard_names names;

	wireguard_discover(cfg, links, &names);
	for (size_t i = 0; i < names.count; i++) {
		const struct rtnl_link *l = rtnl_links_find(links, names.names[i]);

		if (l)
			add_addresses(l, SSH_REACH_VPN, k, s->vpn_address, s->vpn_ifname);
	}
}

static void read_lan(const struct rtnl_links *links, struct ssh *s, struct known_addrs *k)
{
	struct rtnl_route route;

	if (rtnl_dump_default_route(AF_INET, &route, NETLINK_DEFAULT_TIMEOUT_MS) < 0 &&
	    rtnl_dump_default_route(AF_INET6, &route, NETLINK_DEFAULT_TIMEOUT_MS) < 0)
		return;
	for (size_t i = 0; i < links->count; i++)
		if (links->items[i].ifindex == route.oif)
			add_addresses(&links->items[i], SSH_REACH_LAN, k, s->lan_address,
			              s->lan_ifname);
}

static int read_addresses(const struct config *cfg, struct ssh *s, struct known_addrs *k)
{
	struct rtnl_links links = {.items = NULL};
	int r = rtnl_dump_links(&links, NETLINK_DEFAULT_TIMEOUT_MS);

	if (r < 0)
		return r;
	read_vpn(cfg, &links, s, k);
	read_lan(&links, s, k);
	rtnl_links_free(&links);
	return 0;
}

/* A listener's address among the known ones (an IPv4-mapped IPv6 address
 * as its IPv4 address): its reach and interface. */
static void place(const struct sockdiag_listener *f, const struct known_addrs *k,
                  struct ssh_listener *l)
{
	int family = f->family;
	const uint8_t *a = f->address;
	char text[SSH_ADDRESS_MAX];

	if (family == AF_INET6 && memcmp(a, v4mapped_prefix, 12) == 0) {
		family = AF_INET;
		a += 12;
	}
	format_address(family, a, text, sizeof(text));
	for (size_t i = 0; i < k->count; i++)
		if (strcmp(k->items[i].text, text) == 0) {
			l->reach = k->items[i].reach;
			snprintf(l->ifname, sizeof(l->ifname), "%s", k->items[i].ifname);
			return;
		}
}

/* ---- listeners ----------------------------------------------------------- */

static int read_listeners(struct ssh *s, const struct known_addrs *k, char *err, size_t errlen)
{
	struct sockdiag_listener found[SSH_LISTENERS_MAX];
	size_t count = 0;
	int r = sockdiag_dump_listeners(s->port, found, SSH_LISTENERS_MAX, &count,
	                                NETLINK_DEFAULT_TIMEOUT_MS);

	if (r < 0) {
		snprintf(err, errlen, "listening sockets (NETLINK_SOCK_DIAG): %s", strerror(-r));
		return r;
	}
	s->total_listeners = (uint32_t)count;
	s->n_listeners = (uint32_t)(count < SSH_LISTENERS_MAX ? count : SSH_LISTENERS_MAX);
	s->usable = -1;
	for (uint32_t i = 0; i < s->n_listeners; i++) {
		struct ssh_listener *l = &s->listeners[i];

		l->family = found[i].family;
		format_address(found[i].family, found[i].address, l->address, sizeof(l->address));
		l->reach = ssh_classify(found[i].family, found[i].address, found[i].v6only,
		                        s->vpn_address, s->lan_address);
		if (l->reach == SSH_REACH_VPN || l->reach == SSH_REACH_LAN ||
		    l->reach == SSH_REACH_OTHER)
			place(&found[i], k, l);
		if (s->usable < 0 && ssh_reach_usable(l->reach, s))
			s->usable = (int32_t)i;
	}
	return 0;
}

/* ---- the banner ---------------------------------------------------------- */

/* The address to connect to for a listener: the one a VPN client uses. */
static const char *target_address(const struct ssh *s, const struct ssh_listener *l)
{
	switch (l->reach) {
	case SSH_REACH_WILDCARD:
	case SSH_REACH_WILDCARD6:
		if (s->vpn_address[0] &&
		    (l->reach == SSH_REACH_WILDCARD || strchr(s->vpn_address, ':')))
			return s->vpn_address;
		if (s->lan_address[0] &&
		    (l->reach == SSH_REACH_WILDCARD || strchr(s->lan_address, ':')))
			return s->lan_address;
		return l->family == AF_INET ? "127.0.0.1" : "::1";
	default:
		return l->address;
	}
}

static enum ssh_banner_state banner_state(int r)
{
	switch (r) {
	case 0:
		return SSH_BANNER_OK;
	case -ECONNREFUSED:
		return SSH_BANNER_REFUSED;
	case -ECONNRESET:
		return SSH_BANNER_CLOSED;
	case -EBADMSG:
		return SSH_BANNER_BAD;
	default:
		return SSH_BANNER_FAILED;
	}
}

static void fetch_banner(const struct config *cfg, struct ssh *s)
{
	const struct ssh_listener *l = &s->listeners[s->usable >= 0 ? (uint32_t)s->usable : 0];
	const char *addr = target_address(s, l);
	struct sockaddr_storage ss = {.ss_family = AF_UNSPEC};
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char err[SSH_ERROR_MAX] = "";
	struct sshbanner b;
	struct timespec t0, t1;
	int r;

	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(s->port);
		snprintf(s->banner_target, sizeof(s->banner_target), "%s:%u", addr, s->port);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(s->port);
		snprintf(s->banner_target, sizeof(s->banner_target), "[%s]:%u", addr, s->port);
	} else {
		s->banner = SSH_BANNER_FAILED;
		snprintf(s->banner_error, sizeof(s->banner_error), "no address to connect to");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = sshbanner_fetch((const struct sockaddr *)&ss,
	                    ss.ss_family == AF_INET ? sizeof(*in4) : sizeof(*in6),
	                    (unsigned)cfg->ssh_timeout_ms, &b, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->banner_seconds =
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	s->banner = banner_state(r);
	if (r == -ETIMEDOUT)
		s->banner =
		    strncmp(err, "connected", 9) == 0 ? SSH_BANNER_SILENT : SSH_BANNER_NO_ANSWER;
	if (r == 0) {
		snprintf(s->banner_line, sizeof(s->banner_line), "%s", b.line);
		snprintf(s->banner_software, sizeof(s->banner_software), "%s", b.software);
		return;
	}
	/* The error may quote what the server sent. */
	text_copy_utf8(s->banner_error, sizeof(s->banner_error), err, strlen(err));
}

uint16_t ssh_port(const struct config *cfg)
{
	struct ssh s;

	memset(&s, 0, sizeof(s));
	if (cfg->ssh_enabled == CONFIG_SWITCH_NO ||
	    (read_port(cfg, &s) == -ENOENT && cfg->ssh_enabled == CONFIG_SWITCH_AUTO))
		return 0;
	return s.port;
}

int ssh_read(const struct config *cfg, struct ssh *ret, char *err, size_t errlen)
{
	struct known_addrs known = {.count = 0};
	struct ssh s;
	int r;

	memset(&s, 0, sizeof(s));
	s.usable = -1;
	if (cfg->ssh_enabled == CONFIG_SWITCH_NO) {
		snprintf(err, errlen, "off ([ssh] enabled = no)");
		return -ENOENT;
	}
	r = read_port(cfg, &s);
	if (r == -ENOENT && cfg->ssh_enabled == CONFIG_SWITCH_AUTO) {
		snprintf(err, errlen, "no /etc/ssh/sshd_config: sshd is not installed");
		return -ENOENT;
	}
	r = read_addresses(cfg, &s, &known);
	if (r < 0) {
		snprintf(err, errlen, "addresses (rtnetlink): %s", strerror(-r));
		return r;
	}
	r = read_listeners(&s, &known, err, errlen);
	if (r < 0)
		return r;
	if (s.n_listeners)
		fetch_banner(cfg, &s);
	*ret = s;
	return 0;
}
