#include "probes/wireguard.h"

#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include "monitor/config.h"
#include "probes/array.h"
#include "probes/rtnl.h"
#include "probes/text.h"
#include "probes/wgclock.h"
#include "probes/wgkernel.h"
#include "probes/wgquick.h"
#include "probes/wguapi.h"

/* Where wireguard-tools and the userspace implementations meet. */
#define WIREGUARD_SOCKET_DIR    "/var/run/wireguard"
#define WIREGUARD_TIMEOUT_MS    2000
#define WIREGUARD_ADDRESSES_MAX 4096

/* ---- model -------------------------------------------------------------- */

struct wireguard_peer *wireguard_device_add_peer(struct wireguard_device *dev)
{
	struct wireguard_peer *peer;

	if (array_grow((void **)&dev->peers, &dev->peers_cap, dev->n_peers, sizeof(*dev->peers),
	               4) < 0)
		return NULL;
	peer = &dev->peers[dev->n_peers++];
	memset(peer, 0, sizeof(*peer));
	peer->endpoint.sa.sa_family = AF_UNSPEC;
	peer->allowed_ips_first = dev->n_all_allowed_ips;
	if (dev->all_allowed_ips)
		peer->allowed_ips = dev->all_allowed_ips + peer->allowed_ips_first;
	return peer;
}

int wireguard_device_add_allowed_ip(struct wireguard_device *dev, const struct wireguard_ip *ip)
{
	const struct wireguard_ip *old = dev->all_allowed_ips;
	struct wireguard_peer *peer;

	if (!dev->n_peers)
		return -EINVAL;
	if (array_grow((void **)&dev->all_allowed_ips, &dev->all_allowed_ips_cap,
	               dev->n_all_allowed_ips, sizeof(*ip), 4) < 0)
		return -ENOMEM;
	/* The array moved: every peer's view into it moves along. The array
	 * doubles, so this stays linear in the number of peers overall. */
	if (dev->all_allowed_ips != old)
		for (size_t i = 0; i < dev->n_peers; i++)
			dev->peers[i].allowed_ips =
			    dev->all_allowed_ips + dev->peers[i].allowed_ips_first;
	peer = &dev->peers[dev->n_peers - 1];
	dev->all_allowed_ips[dev->n_all_allowed_ips++] = *ip;
	peer->n_allowed_ips++;
	return 0;
}

void wireguard_device_drop_last_peer(struct wireguard_device *dev)
{
	if (!dev->n_peers)
		return;
	dev->n_all_allowed_ips = dev->peers[dev->n_peers - 1].allowed_ips_first;
	dev->n_peers--;
}

void wireguard_device_merge_last_peer(struct wireguard_device *dev)
{
	if (dev->n_peers < 2)
		return;
	dev->peers[dev->n_peers - 2].n_allowed_ips += dev->peers[dev->n_peers - 1].n_allowed_ips;
	dev->n_peers--;
}

int wireguard_device_add_address(struct wireguard_device *dev, const struct wireguard_ip *ip)
{
	if (dev->n_addresses >= WIREGUARD_ADDRESSES_MAX)
		return -ENOMEM;
	if (array_grow((void **)&dev->addresses, &dev->addresses_cap, dev->n_addresses, sizeof(*ip),
	               4) < 0)
		return -ENOMEM;
	dev->addresses[dev->n_addresses++] = *ip;
	return 0;
}

void wireguard_device_reset(struct wireguard_device *dev)
{
	free(dev->peers);
	dev->peers = NULL;
	dev->n_peers = dev->peers_cap = 0;
	free(dev->all_allowed_ips);
	dev->all_allowed_ips = NULL;
	dev->n_all_allowed_ips = dev->all_allowed_ips_cap = 0;
	dev->has_public_key = false;
	memset(dev->public_key, 0, sizeof(dev->public_key));
	dev->listen_port = 0;
	dev->fwmark = 0;
}

void wireguard_device_free(struct wireguard_device *dev)
{
	if (!dev)
		return;
	wireguard_device_reset(dev);
	free(dev->addresses);
	dev->addresses = NULL;
	dev->n_addresses = dev->addresses_cap = 0;
}

void wireguard_free(struct wireguard *wg)
{
	if (!wg)
		return;
	for (size_t i = 0; i < wg->n_devices; i++)
		wireguard_device_free(&wg->devices[i]);
	free(wg->devices);
	free(wg->missing_required);
	memset(wg, 0, sizeof(*wg));
}

const char *wireguard_backend_name(enum wireguard_backend backend)
{
	switch (backend) {
	case WIREGUARD_BACKEND_NONE:
		return "none";
	case WIREGUARD_BACKEND_KERNEL:
		return "kernel";
	case WIREGUARD_BACKEND_USERSPACE:
		return "userspace";
	}
	return "none";
}

const struct wireguard_device *wireguard_find_device(const struct wireguard *wg, const char *name)
{
	for (size_t i = 0; i < wg->n_devices; i++)
		if (strcmp(wg->devices[i].name, name) == 0)
			return &wg->devices[i];
	return NULL;
}

/* ---- encodings ---------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void wireguard_key_to_base64(char out[WIREGUARD_KEY_B64_LEN + 1],
                             const uint8_t key[WIREGUARD_KEY_LEN])
{
	uint32_t v;
	size_t o = 0;

	/* Ten whole 3-byte groups, then 2 bytes and one '=' of padding. */
	for (size_t i = 0; i < 30; i += 3) {
		v = (uint32_t)key[i] << 16 | (uint32_t)key[i + 1] << 8 | key[i + 2];
		out[o] = b64_alphabet[v >> 18];
		out[o + 1] = b64_alphabet[(v >> 12) & 63];
		out[o + 2] = b64_alphabet[(v >> 6) & 63];
		out[o + 3] = b64_alphabet[v & 63];
		o += 4;
	}
	v = (uint32_t)key[30] << 16 | (uint32_t)key[31] << 8;
	out[40] = b64_alphabet[v >> 18];
	out[41] = b64_alphabet[(v >> 12) & 63];
	out[42] = b64_alphabet[(v >> 6) & 63];
	out[43] = '=';
	out[44] = '\0';
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

/* Strict: 43 characters, '=', and the unused low bits zero, so that each
 * key has exactly one spelling. */
int wireguard_key_from_base64(uint8_t key[WIREGUARD_KEY_LEN], const char *b64)
{
	uint8_t out[WIREGUARD_KEY_LEN];
	size_t o = 0;

	if (strlen(b64) != WIREGUARD_KEY_B64_LEN || b64[43] != '=')
		return -EINVAL;
	for (size_t i = 0; i < 43; i += 4) {
		uint32_t v = 0;
		int n = i + 4 <= 43 ? 4 : 3;

		for (int j = 0; j < n; j++) {
			int d = b64_value(b64[i + (size_t)j]);

			if (d < 0)
				return -EINVAL;
			v = v << 6 | (uint32_t)d;
		}
		if (n == 4) {
			out[o++] = (uint8_t)(v >> 16);
			out[o++] = (uint8_t)(v >> 8);
			out[o++] = (uint8_t)v;
		} else {
			if (v & 3)
				return -EINVAL;
			out[o++] = (uint8_t)(v >> 10);
			out[o++] = (uint8_t)(v >> 2);
		}
	}
	memcpy(key, out, sizeof(out));
	return 0;
}

int wireguard_key_from_hex(uint8_t key[WIREGUARD_KEY_LEN], const char *hex)
{
	uint8_t out[WIREGUARD_KEY_LEN];

	if (strlen(hex) != 2 * WIREGUARD_KEY_LEN)
		return -EINVAL;
	for (size_t i = 0; i < WIREGUARD_KEY_LEN; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	memcpy(key, out, sizeof(out));
	return 0;
}

/* Decimal digits of v at p; returns the end. */
static char *put_decimal(char *p, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* The same text as getnameinfo(NI_NUMERICHOST | NI_NUMERICSERV), which
 * wg(8) uses, without its cost (it runs once per peer per poll): the
 * address as inet_ntop() writes it; for IPv6 a zone when the scope id is
 * set: the interface's name for link-local addresses when an interface
 * has that index here, else the number. */
void wireguard_format_endpoint(const struct sockaddr *sa, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 24], *p = text;
	size_t len;

	if (!size)
		return;
	buf[0] = '\0';
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		const uint8_t *a = (const uint8_t *)&in->sin_addr;

		for (int i = 0; i < 4; i++) {
			p = put_decimal(p, a[i]);
			*p++ = i < 3 ? '.' : ':';
		}
		p = put_decimal(p, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		*p++ = '[';
		if (!inet_ntop(AF_INET6, &in6->sin6_addr, p, INET6_ADDRSTRLEN))
			return;
		p += strlen(p);
		if (in6->sin6_scope_id) {
			*p++ = '%';
			if (!((IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) ||
			       IN6_IS_ADDR_MC_LINKLOCAL(&in6->sin6_addr)) &&
			      if_indextoname(in6->sin6_scope_id, p)))
				p = put_decimal(p, in6->sin6_scope_id);
			else
				p += strlen(p);
		}
		*p++ = ']';
		*p++ = ':';
		p = put_decimal(p, ntohs(in6->sin6_port));
	} else {
		return;
	}
	len = (size_t)(p - text);
	if (len >= size)
		len = size - 1; /* cut, as snprintf() would */
	memcpy(buf, text, len);
	buf[len] = '\0';
}

void wireguard_format_ip(const struct wireguard_ip *ip, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ip->family, &ip->addr, text, sizeof(text));
	snprintf(buf, size, "%s/%u", text, ip->cidr);
}

/* ---- discovery: rtnetlink ----------------------------------------------- */

static bool link_is_wireguard(const struct rtnl_link *link)
{
	return strcmp(link->kind, "wireguard") == 0;
}

/* Every link, or -EBADMSG when the kernel sent one we could not read. */
static int dump_links(struct rtnl_links *links)
{
	int r = rtnl_dump_links(links, WIREGUARD_TIMEOUT_MS);

	if (r == 0 && links->malformed) {
		rtnl_links_free(links);
		r = -EBADMSG;
	}
	return r;
}

/* The IPv4 and IPv6 addresses of every device whose link was found. */
static int dump_addresses(struct wireguard *wg)
{
	struct rtnl_addrs addrs = {.items = NULL};
	int r;

	r = rtnl_dump_addrs(AF_UNSPEC, 0, &addrs, WIREGUARD_TIMEOUT_MS);
	if (r == 0 && addrs.malformed)
		r = -EBADMSG;
	for (size_t i = 0; i < wg->n_devices; i++)
		wg->devices[i].n_addresses = 0;
	for (size_t k = 0; k < addrs.count && r == 0; k++) {
		const struct rtnl_addr *a = &addrs.items[k];
		struct wireguard_ip ip = {.family = a->family, .cidr = a->prefixlen};

		memcpy(&ip.addr, a->address,
		       a->family == AF_INET ? sizeof(ip.addr.v4) : sizeof(ip.addr.v6));
		for (size_t i = 0; i < wg->n_devices && r == 0; i++) {
			struct wireguard_device *dev = &wg->devices[i];

			if (dev->link_found && dev->ifindex == a->ifindex)
				r = wireguard_device_add_address(dev, &ip);
		}
	}
	rtnl_addrs_free(&addrs);
	return r;
}

/* ---- discovery: userspace sockets --------------------------------------- */

static bool socket_name(const char *entry, char name[IF_NAMESIZE])
{
	size_t len = strlen(entry);

	if (len <= 5 || strcmp(entry + len - 5, ".sock") != 0 || len - 5 >= IF_NAMESIZE)
		return false;
	memcpy(name, entry, len - 5);
	name[len - 5] = '\0';
	return true;
}

static int socket_path(const struct config *cfg, const char *ifname, char *buf, size_t size)
{
	char abs[128];

	snprintf(abs, sizeof(abs), WIREGUARD_SOCKET_DIR "/%s.sock", ifname);
	return config_path(cfg, abs, buf, size);
}

/* 1 when a socket for ifname exists, 0 when not, -EACCES when the
 * directory may not be looked into (wireguard-go makes it 0700). */
static int has_socket(const struct config *cfg, const char *ifname)
{
	char path[CONFIG_PATH_MAX + 64];
	struct stat st;

	if (socket_path(cfg, ifname, path, sizeof(path)) < 0)
		return 0;
	if (stat(path, &st) < 0)
		return errno == EACCES ? -EACCES : 0;
	return S_ISSOCK(st.st_mode) ? 1 : 0;
}

/* ---- assembling --------------------------------------------------------- */

static int add_device(struct wireguard *wg, size_t *cap, const char *name)
{
	struct wireguard_device *dev;

	if (wireguard_find_device(wg, name))
		return 0;
	if (array_grow((void **)&wg->devices, cap, wg->n_devices, sizeof(*wg->devices), 4) < 0)
		return -ENOMEM;
	dev = &wg->devices[wg->n_devices++];
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->wgquick_listen_port = -1;
	return 0;
}

static void add_name(struct wireguard_names *ret, const char *name)
{
	for (size_t i = 0; i < ret->count; i++)
		if (strcmp(ret->names[i], name) == 0)
			return;
	if (ret->count < WIREGUARD_NAMES_MAX)
		snprintf(ret->names[ret->count++], IF_NAMESIZE, "%s", name);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

void wireguard_discover(const struct config *cfg, const struct rtnl_links *links,
                        struct wireguard_names *ret)
{
	char dir[CONFIG_PATH_MAX + 32];
	DIR *d;

	memset(ret, 0, sizeof(*ret));
	if (cfg->wireguard_interfaces.count) {
		for (size_t i = 0; i < cfg->wireguard_interfaces.count; i++)
			add_name(ret, cfg->wireguard_interfaces.names[i]);
		return;
	}
	ret->auto_discovered = true;
	for (size_t i = 0; i < links->count; i++)
		if (link_is_wireguard(&links->items[i]))
			add_name(ret, links->items[i].name);
	if (config_path(cfg, WIREGUARD_SOCKET_DIR, dir, sizeof(dir)) == 0 && (d = opendir(dir))) {
		struct dirent *e;

		while ((e = readdir(d))) {
			char name[IF_NAMESIZE];

			if (socket_name(e->d_name, name) && has_socket(cfg, name) > 0)
				add_name(ret, name);
		}
		closedir(d);
	} else if (errno == EACCES || errno == EPERM) {
		ret->socket_dir_error = -errno;
	}
	if (ret->count > 1)
		qsort(ret->names, ret->count, sizeof(ret->names[0]), compare_names);
}

static int discover(const struct config *cfg, const struct rtnl_links *links, struct wireguard *wg)
{
	struct wireguard_names *names = malloc(sizeof(*names));
	size_t cap = 0;
	int r = 0;

	if (!names)
		return -ENOMEM;
	wireguard_discover(cfg, links, names);
	wg->auto_discovered = names->auto_discovered;
	wg->socket_dir_error = names->socket_dir_error;
	for (size_t i = 0; i < names->count && r == 0; i++)
		r = add_device(wg, &cap, names->names[i]);
	free(names);
	return r;
}

static void set_error(struct wireguard_device *dev, int r, const char *detail)
{
	dev->error = r;
	switch (-r) {
	case EPERM:
	case EACCES:
		snprintf(dev->error_text, sizeof(dev->error_text),
		         "not permitted to read the WireGuard state (%s): run as root or grant %s",
		         strerror(-r),
		         dev->backend == WIREGUARD_BACKEND_USERSPACE ? "CAP_DAC_OVERRIDE"
		                                                     : "CAP_NET_ADMIN");
		break;
	case ENODEV:
		snprintf(dev->error_text, sizeof(dev->error_text),
		         "the interface went away while being read");
		break;
	case ENOENT:
		snprintf(dev->error_text, sizeof(dev->error_text),
		         "the kernel has no WireGuard support loaded (modprobe wireguard)");
		break;
	case ECONNREFUSED:
		snprintf(dev->error_text, sizeof(dev->error_text),
		         "its userspace socket refuses connections: the implementation "
		         "(wireguard-go) is not running");
		break;
	case EBADMSG:
		snprintf(dev->error_text, sizeof(dev->error_text), "malformed reply%s%s",
		         detail && detail[0] ? ": " : "", detail ? detail : "");
		break;
	default:
		snprintf(dev->error_text, sizeof(dev->error_text), "%s",
		         detail && detail[0] ? detail : strerror(-r));
	}
}

static void read_state(const struct config *cfg, struct wireguard_device *dev, int *family,
                       const struct rtnl_link *link)
{
	char path[CONFIG_PATH_MAX + 64], detail[WIREGUARD_ERROR_MAX] = "";
	uint16_t id;
	int r = has_socket(cfg, dev->name);

	if (r < 0 && link && link_is_wireguard(link)) {
		r = 0; /* a kernel interface: the socket directory does not matter */
	} else if (r < 0) {
		/* A tun link (wireguard-go makes one) behind a socket directory we
		 * may not look into: a userspace interface we cannot read. */
		if (link)
			dev->backend = WIREGUARD_BACKEND_USERSPACE;
		set_error(dev, r, NULL);
		return;
	}
	if (r > 0) {
		dev->backend = WIREGUARD_BACKEND_USERSPACE;
		r = socket_path(cfg, dev->name, path, sizeof(path));
		if (r == 0)
			r = wguapi_read_device(path, dev, WIREGUARD_TIMEOUT_MS, detail,
			                       sizeof(detail));
		if (r < 0)
			set_error(dev, r, detail);
		return;
	}
	if (!link) {
		dev->backend = WIREGUARD_BACKEND_NONE;
		dev->error = -ENODEV;
		snprintf(dev->error_text, sizeof(dev->error_text), "no such interface");
		return;
	}
	if (!link_is_wireguard(link)) {
		dev->backend = WIREGUARD_BACKEND_NONE;
		dev->error = -ENOTSUP;
		snprintf(dev->error_text, sizeof(dev->error_text),
		         "not a WireGuard interface (and no userspace socket for it)");
		return;
	}
	dev->backend = WIREGUARD_BACKEND_KERNEL;
	if (*family == 0) {
		r = wgkernel_family(&id, WIREGUARD_TIMEOUT_MS);
		*family = r < 0 ? r : id;
	}
	r = *family < 0 ? *family
	                : wgkernel_read_device((uint16_t)*family, dev, WIREGUARD_TIMEOUT_MS);
	if (r == -EINTR)
		snprintf(detail, sizeof(detail), "the peer list kept changing during %d dumps",
		         WGKERNEL_DUMP_TRIES);
	if (r < 0)
		set_error(dev, r, detail);
}

static void read_wgquick(const struct config *cfg, struct wireguard_device *dev,
                         struct wgquick_file *file, bool *have_file)
{
	char expanded[CONFIG_PATH_MAX], err[WIREGUARD_ERROR_MAX] = "";
	const char *src = cfg->wireguard_wg_quick_file;
	size_t o = 0;
	int r;

	*have_file = false;
	/* "%i" is the interface name, as in wg-quick@%i. */
	for (; *src && o + 1 < sizeof(expanded); src++) {
		if (src[0] == '%' && src[1] == 'i') {
			o += (size_t)snprintf(expanded + o, sizeof(expanded) - o, "%s", dev->name);
			src++;
		} else {
			expanded[o++] = *src;
		}
		if (o >= sizeof(expanded))
			o = sizeof(expanded) - 1;
	}
	expanded[o] = '\0';
	if (config_path(cfg, expanded, dev->wgquick_path, sizeof(dev->wgquick_path)) < 0) {
		snprintf(dev->wgquick_error, sizeof(dev->wgquick_error), "path too long");
		return;
	}
	r = wgquick_read(dev->wgquick_path, file, err, sizeof(err));
	if (r == -ENOENT) {
		/* A hand-made interface without a wg-quick file is fine. */
		snprintf(dev->wgquick_error, sizeof(dev->wgquick_error), "not found");
		return;
	}
	if (r < 0) {
		snprintf(dev->wgquick_error, sizeof(dev->wgquick_error), "%s",
		         err[0] ? err : strerror(-r));
		return;
	}
	dev->wgquick_read = true;
	dev->wgquick_listen_port = file->listen_port;
	*have_file = true;
}

/* Public keys with what they name, sorted by key (then by position, so
 * that of entries with the same key the last one wins, as it would when
 * read in order): a device may have thousands of peers, and looking each
 * up in a sorted array keeps naming them O(n log n). */
struct named_key {
	const char *key; /* base64 */
	size_t index;    /* position in its source */
};

static int compare_named_keys(const void *a, const void *b)
{
	const struct named_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The last entry with this key, or NULL. */
static const struct named_key *find_named_key(const struct named_key *keys, size_t n,
                                              const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(keys[mid].key, key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && strcmp(keys[lo - 1].key, key) == 0 ? &keys[lo - 1] : NULL;
}

/* sparkmon's own [peer] sections, sorted once per read; seen[] records
 * which ones some device has. */
struct config_keys {
	struct named_key keys[CONFIG_PEERS_MAX];
	size_t n;
	bool seen[CONFIG_PEERS_MAX];
};

static void config_keys_init(const struct config *cfg, struct config_keys *ck)
{
	ck->n = 0;
	for (size_t j = 0; j < cfg->n_peers && j < CONFIG_PEERS_MAX; j++) {
		ck->keys[ck->n++] = (struct named_key){cfg->peers[j].public_key, j};
		ck->seen[j] = false;
	}
	qsort(ck->keys, ck->n, sizeof(ck->keys[0]), compare_named_keys);
}

static int name_peers(const struct config *cfg, struct config_keys *ck,
                      struct wireguard_device *dev, const struct wgquick_file *file)
{
	struct named_key *file_keys = NULL;
	size_t n_file_keys = 0;

	if (file && file->n_peers) {
		file_keys = malloc(file->n_peers * sizeof(*file_keys));
		if (!file_keys)
			return -ENOMEM;
		for (size_t j = 0; j < file->n_peers; j++)
			if (file->peers[j].name[0])
				file_keys[n_file_keys++] =
				    (struct named_key){file->peers[j].public_key, j};
		qsort(file_keys, n_file_keys, sizeof(*file_keys), compare_named_keys);
	}
	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wireguard_peer *peer = &dev->peers[i];
		const struct named_key *k;

		k = find_named_key(file_keys, n_file_keys, peer->public_key);
		if (k)
			snprintf(peer->name, sizeof(peer->name), "%s", file->peers[k->index].name);
		/* sparkmon's own config wins over a comment in wg-quick's file. */
		k = find_named_key(ck->keys, ck->n, peer->public_key);
		if (k) {
			snprintf(peer->name, sizeof(peer->name), "%s", cfg->peers[k->index].name);
			peer->required = cfg->peers[k->index].required;
			ck->seen[k->index] = true;
		}
		wireguard_format_endpoint(&peer->endpoint.sa, peer->endpoint_text,
		                          sizeof(peer->endpoint_text));
	}
	free(file_keys);
	return 0;
}

static int find_missing_required(const struct config *cfg, const struct config_keys *ck,
                                 struct wireguard *wg)
{
	for (size_t j = 0; j < cfg->n_peers && j < CONFIG_PEERS_MAX; j++) {
		if (!cfg->peers[j].required || ck->seen[j])
			continue;
		void *n = realloc(wg->missing_required,
		                  (wg->n_missing_required + 1) * sizeof(*wg->missing_required));
		if (!n)
			return -ENOMEM;
		wg->missing_required = n;
		snprintf(wg->missing_required[wg->n_missing_required++],
		         sizeof(*wg->missing_required), "%s (%s)", cfg->peers[j].name,
		         cfg->peers[j].public_key);
	}
	return 0;
}

/* Interface names come from the kernel and the socket directory, errors
 * quote replies and files, and any of them may have been cut inside a
 * character: every text kept is made valid UTF-8 for the outputs. */
static void sanitize_facts(struct wireguard *wg)
{
	for (size_t i = 0; i < wg->n_devices; i++) {
		struct wireguard_device *dev = &wg->devices[i];

		text_sanitize_utf8(dev->name);
		text_sanitize_utf8(dev->oper_state);
		text_sanitize_utf8(dev->error_text);
		text_sanitize_utf8(dev->wgquick_path);
		text_sanitize_utf8(dev->wgquick_error);
		for (size_t j = 0; j < dev->n_peers; j++)
			if (dev->peers[j].name[0])
				text_sanitize_utf8(dev->peers[j].name);
	}
	for (size_t i = 0; i < wg->n_missing_required; i++)
		text_sanitize_utf8(wg->missing_required[i]);
}

int wireguard_read(const struct config *cfg, struct wireguard *ret, char *err, size_t errlen)
{
	struct wireguard wg = {.devices = NULL};
	struct rtnl_links links = {.items = NULL};
	struct config_keys ck;
	int family = 0, r;

	wg.collected_at = time(NULL);
	config_keys_init(cfg, &ck);
	r = dump_links(&links);
	if (r < 0) {
		snprintf(err, errlen, "listing network interfaces (RTM_GETLINK): %s", strerror(-r));
		goto out;
	}
	r = discover(cfg, &links, &wg);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < wg.n_devices; i++) {
		struct wireguard_device *dev = &wg.devices[i];
		const struct rtnl_link *link = rtnl_links_find(&links, dev->name);
		struct wgquick_file file;
		bool have_file;

		if (link) {
			dev->link_found = true;
			dev->ifindex = link->ifindex;
			snprintf(dev->oper_state, sizeof(dev->oper_state), "%s",
			         rtnl_operstate_name(link->operstate));
			/* WireGuard links have no carrier of their own: the kernel
			 * reports them "unknown" while they work. */
			dev->link_up = link->up && (link->operstate == RTNL_OPER_UP ||
			                            link->operstate == RTNL_OPER_UNKNOWN);
		}
		read_state(cfg, dev, &family, link);
		read_wgquick(cfg, dev, &file, &have_file);
		r = name_peers(cfg, &ck, dev, have_file ? &file : NULL);
		if (have_file)
			wgquick_free(&file);
		if (r < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	r = dump_addresses(&wg);
	if (r < 0) {
		snprintf(err, errlen, "listing addresses (RTM_GETADDR): %s", strerror(-r));
		goto out;
	}
	r = find_missing_required(cfg, &ck, &wg);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* Handshakes stamped before a step of the wall clock keep their age.
	 * Out of memory only means this read's handshakes are not remembered:
	 * they are measured from the next read on. */
	(void)wgclock_apply_process(&wg);
	sanitize_facts(&wg);
	*ret = wg;
	wg.devices = NULL;
	wg.n_devices = 0;
	wg.missing_required = NULL;
out:
	wireguard_free(&wg);
	rtnl_links_free(&links);
	return r;
}
