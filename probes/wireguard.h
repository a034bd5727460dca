/* WireGuard: every watched interface and its peers, read in-process from
 * the kernel (generic netlink, wgkernel.c) or from a userspace
 * implementation's UAPI socket (wguapi.c).
 *
 * Private and preshared keys are in both replies; they are parsed into
 * nothing and never reach this model. Only public keys are kept. */
#ifndef SPARKMON_WIREGUARD_H
#define SPARKMON_WIREGUARD_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct config;

#define WIREGUARD_KEY_LEN     32
#define WIREGUARD_KEY_B64_LEN 44 /* base64 of a 32-byte key, with its '=' */
#define WIREGUARD_NAME_MAX    64
/* Room for "[ipv6%zone]:port". */
#define WIREGUARD_ENDPOINT_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 16)
#define WIREGUARD_ERROR_MAX    160

enum wireguard_backend {
	WIREGUARD_BACKEND_NONE,      /* not found: neither a link nor a socket */
	WIREGUARD_BACKEND_KERNEL,    /* generic netlink */
	WIREGUARD_BACKEND_USERSPACE, /* /var/run/wireguard/<if>.sock */
};

struct wireguard_ip {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint8_t cidr; /* allowed IP: CIDR mask; interface address: prefix length */
};

struct wireguard_peer {
	char public_key[WIREGUARD_KEY_B64_LEN + 1];
	char name[WIREGUARD_NAME_MAX]; /* friendly name, "" when none is known */
	bool required;                 /* marked required in sparkmon's config */
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} endpoint;                                 /* sa_family AF_UNSPEC when none */
	char endpoint_text[WIREGUARD_ENDPOINT_MAX]; /* as wg(8) prints it, "" when none */
	int64_t last_handshake;                     /* wall clock, seconds; 0 = never */
	int64_t last_handshake_nsec;
	uint64_t rx_bytes, tx_bytes;
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	uint32_t protocol_version;     /* 0 when not reported */
	/* n_allowed_ips entries of the device's all_allowed_ips, from index
	 * allowed_ips_first: one array per device, not one allocation per
	 * peer. NULL while the device has none. */
	const struct wireguard_ip *allowed_ips;
	size_t n_allowed_ips, allowed_ips_first;
};

struct wireguard_device {
	char name[IF_NAMESIZE];
	int ifindex;         /* 0 when no link of that name exists in this namespace */
	bool link_found;     /* a network interface of this name exists here */
	bool link_up;        /* administratively up and not operationally down */
	char oper_state[16]; /* "up", "down", "unknown", "dormant", ... or "" */
	enum wireguard_backend backend;
	/* 0 when the WireGuard state was read; else why not (negative errno:
	 * -ENODEV gone, -EPERM/-EACCES not allowed, ...) with a message. */
	int error;
	char error_text[WIREGUARD_ERROR_MAX];
	/* Kernel devices: how many dumps of the last read the kernel marked
	 * NLM_F_DUMP_INTR (the device changed while it was being dumped) and
	 * that were thrown away; WGKERNEL_DUMP_TRIES when every one was. */
	unsigned interrupted_dumps;

	bool has_public_key;
	char public_key[WIREGUARD_KEY_B64_LEN + 1];
	uint16_t listen_port;
	uint32_t fwmark;
	struct wireguard_peer *peers;
	size_t n_peers, peers_cap;
	struct wireguard_ip *all_allowed_ips; /* every peer's, in peer order */
	size_t n_all_allowed_ips, all_allowed_ips_cap;
	struct wireguard_ip *addresses; /* from RTM_GETADDR */
	size_t n_addresses, addresses_cap;

	/* Expectations from the wg-quick file, when it could be read. */
	char wgquick_path[256];
	bool wgquick_read;
	int wgquick_listen_port;                 /* -1 when the file does not set it */
	char wgquick_error[WIREGUARD_ERROR_MAX]; /* why it could not be used, "" if fine */
};

struct wireguard {
	struct wireguard_device *devices;
	size_t n_devices;
	bool auto_discovered; /* no interface list in the config: all found ones */
	/* Negative errno when the userspace socket directory could not be
	 * looked into (-EACCES without privileges): userspace interfaces may
	 * exist unseen. */
	int socket_dir_error;
	/* Required peers from the config that no watched device has. */
	char (*missing_required)[WIREGUARD_NAME_MAX + WIREGUARD_KEY_B64_LEN + 4];
	size_t n_missing_required;
	/* Wall clock when this was read: handshake ages are measured to it. */
	time_t collected_at;
};

/* The WireGuard interfaces to watch: the configured ones, else every
 * kernel WireGuard link and every userspace one (a socket in
 * /var/run/wireguard, as wireguard-go makes), sorted by name. */
#define WIREGUARD_NAMES_MAX 64
struct wireguard_names {
	char names[WIREGUARD_NAMES_MAX][IF_NAMESIZE];
	size_t count;
	bool auto_discovered;
	int socket_dir_error; /* as in struct wireguard */
};

/* ---- wireguard.c --------------------------------------------------------- */

/* The one interface discovery every probe uses. */
struct rtnl_links;
void wireguard_discover(const struct config *cfg, const struct rtnl_links *links,
                        struct wireguard_names *ret);

/* Reads every watched interface into *ret (which the caller has zeroed or
 * freed). Interfaces that vanish or cannot be read are recorded in their
 * device's error, not as a failure; only a failure to discover (rtnetlink
 * itself failing, out of memory) returns a negative errno. */
int wireguard_read(const struct config *cfg, struct wireguard *ret, char *err, size_t errlen);

/* Frees what *wg owns and zeroes it; NULL is fine. */
void wireguard_free(struct wireguard *wg);

const char *wireguard_backend_name(enum wireguard_backend backend);

/* Adds an empty peer / an allowed IP of the last peer (the device must
 * have one) / an address, growing the arrays. Return NULL or -ENOMEM when
 * out of memory or past the caps. */
struct wireguard_peer *wireguard_device_add_peer(struct wireguard_device *dev);
int wireguard_device_add_allowed_ip(struct wireguard_device *dev, const struct wireguard_ip *ip);
int wireguard_device_add_address(struct wireguard_device *dev, const struct wireguard_ip *ip);

/* Drops the last peer and its allowed IPs (a parser's peer that turned
 * out malformed). */
void wireguard_device_drop_last_peer(struct wireguard_device *dev);

/* The last peer is the continuation of the one before it: gives that one
 * the last peer's allowed IPs (they follow its own in all_allowed_ips) and
 * drops the rest of the last peer. */
void wireguard_device_merge_last_peer(struct wireguard_device *dev);

/* Drops the WireGuard state of a device (peers, keys, port) but keeps its
 * link facts, so that an interrupted dump can be redone. */
void wireguard_device_reset(struct wireguard_device *dev);
void wireguard_device_free(struct wireguard_device *dev);

/* Key encodings. The base64 form is the one wg(8) prints. */
void wireguard_key_to_base64(char out[WIREGUARD_KEY_B64_LEN + 1],
                             const uint8_t key[WIREGUARD_KEY_LEN]);
int wireguard_key_from_base64(uint8_t key[WIREGUARD_KEY_LEN], const char *b64);
int wireguard_key_from_hex(uint8_t key[WIREGUARD_KEY_LEN], const char *hex);

/* Formats an endpoint as wg(8) does: "1.2.3.4:51820", "[fe80::1%eth0]:51820";
 * "" for AF_UNSPEC. */
void wireguard_format_endpoint(const struct sockaddr *sa, char *buf, size_t size);

/* "10.0.0.2/32", "fd00::/64". */
void wireguard_format_ip(const struct wireguard_ip *ip, char *buf, size_t size);

/* Looks a device up by name; NULL when absent. */
const struct wireguard_device *wireguard_find_device(const struct wireguard *wg, const char *name);

#endif
