/* The last step of remote access: sshd on the server. Where it listens
 * (the port from sshd's own configuration, the listening sockets from the
 * kernel's socket diagnostics), whether a VPN client can use one of those
 * addresses, and the identification line it sends on a fresh connection. */
#ifndef SPARKMON_SSH_H
#define SPARKMON_SSH_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/sshbanner.h"
#include "probes/sshdconf.h"

struct config;

#define SSH_LISTENERS_MAX 16
#define SSH_ADDRESS_MAX   48 /* INET6_ADDRSTRLEN and a little */
#define SSH_TARGET_MAX    (SSH_ADDRESS_MAX + 8)
#define SSH_LISTEN_KEPT   4 /* ListenAddress lines kept for the hint */
#define SSH_ERROR_MAX     256

/* Where a listening socket's address can be reached from. */
enum ssh_reach {
	SSH_REACH_WILDCARD,  /* 0.0.0.0, or :: that takes IPv4 too */
	SSH_REACH_WILDCARD6, /* :: with IPV6_V6ONLY: IPv6 clients only */
	SSH_REACH_VPN,       /* an address of a watched WireGuard interface */
	SSH_REACH_LAN,       /* an address of the default route's interface */
	SSH_REACH_LOOPBACK,  /* 127.0.0.0/8, ::1: this machine only */
	SSH_REACH_OTHER,     /* another address (a bridge, another network) */
};

enum ssh_port_source {
	SSH_PORT_DEFAULT, /* no Port anywhere: sshd's 22 */
	SSH_PORT_SSHD,    /* a Port line of sshd's configuration */
	SSH_PORT_CONFIG,  /* [ssh] port */
	SSH_PORT_LISTEN,  /* no Port line; a ListenAddress that names its port */
};

enum ssh_banner_state {
	SSH_BANNER_NOT_TRIED, /* nothing listens on the port */
	SSH_BANNER_OK,
	SSH_BANNER_REFUSED,   /* the connection was refused */
	SSH_BANNER_NO_ANSWER, /* the TCP handshake did not finish in time */
	SSH_BANNER_SILENT,    /* connected, no identification line in time */
	SSH_BANNER_CLOSED,    /* the server closed before its line */
	SSH_BANNER_BAD,       /* what it sent is no SSH identification line */
	SSH_BANNER_FAILED,    /* another error (see banner_error) */
};

struct ssh_listener {
	int family; /* AF_INET or AF_INET6 */
	char address[SSH_ADDRESS_MAX];
	enum ssh_reach reach;
	char ifname[IF_NAMESIZE]; /* the interface of a VPN or LAN address, "" otherwise */
};

struct ssh {
	uint16_t port;
	enum ssh_port_source port_source;
	char port_file[SSHDCONF_FILE_MAX]; /* of the Port or ListenAddress line, else "" */
	int port_line;
	bool sshd_config_found;
	char sshd_config_error[SSH_ERROR_MAX]; /* why it could not be read; "" if read or absent */
	struct sshdconf_listen listen[SSH_LISTEN_KEPT];
	unsigned n_listen; /* ListenAddress lines (only SSH_LISTEN_KEPT kept) */

	char vpn_ifname[IF_NAMESIZE]; /* the first watched WireGuard interface with an address */
	char vpn_address[SSH_ADDRESS_MAX];
	char lan_ifname[IF_NAMESIZE]; /* the default route's interface */
	char lan_address[SSH_ADDRESS_MAX];

	struct ssh_listener listeners[SSH_LISTENERS_MAX];
	uint32_t n_listeners;     /* kept */
	uint32_t total_listeners; /* on the port, possibly more than kept */
	int32_t usable;           /* index of the first listener a VPN client can use, -1 none */

	enum ssh_banner_state banner;
	char banner_target[SSH_TARGET_MAX]; /* "10.100.0.1:22", "[::1]:22"; "" when not tried */
	char banner_line[SSHBANNER_LINE_MAX + 1];
	char banner_software[SSHBANNER_LINE_MAX + 1];
	char banner_error[SSH_ERROR_MAX];
	double banner_seconds;
};

/* Classifies a listening address (4 or 16 bytes, network order) against
 * the VPN and LAN addresses; an IPv4-mapped IPv6 address counts as IPv4. */
enum ssh_reach ssh_classify(int family, const uint8_t *address, int v6only, const char *vpn_address,
                            const char *lan_address);

/* Whether a VPN client (IPv4, unless the VPN or LAN address is IPv6) can
 * connect to a listener of that reach. */
bool ssh_reach_usable(enum ssh_reach reach, const struct ssh *s);

/* The SSH port: [ssh] port, else sshd's first Port (sshd_config and its
 * includes, below the configured root), else 22; 0 when the ssh checks
 * are off ([ssh] enabled = no, or auto without an sshd_config). */
uint16_t ssh_port(const struct config *cfg);

/* Reads everything above. Returns 0; PROBE_SKIP-style -ENOENT when
 * [ssh] enabled = auto and there is no sshd_config (no sshd here); or a
 * negative errno when the kernel's socket list could not be read. */
int ssh_read(const struct config *cfg, struct ssh *ret, char *err, size_t errlen);

/* "wildcard", "VPN", "LAN", "loopback", ...; "refused", "no answer", ... */
const char *ssh_reach_name(enum ssh_reach reach);
const char *ssh_banner_state_name(enum ssh_banner_state state);

#endif
