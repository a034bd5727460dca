/* Configuration: built-in defaults, overridden by an INI file (libinih).
 *
 * Every key is described once in a table in config.c: its section, name,
 * type, range and default. Parsing, validation and the normalized printout
 * (`sparkmon config`) are all driven by that table, so the printed form
 * always parses back to the same configuration. */
#ifndef SPARKMON_CONFIG_H
#define SPARKMON_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/sparkmon/sparkmon.conf"
#define CONFIG_PATH_MAX     256
#define CONFIG_TEXT_MAX     256 /* free-text and list values */
#define CONFIG_LIST_MAX     16  /* items in an address or network list */
#define CONFIG_IFNAMES_MAX  8   /* [wireguard] interfaces */
#define CONFIG_IFNAME_SIZE  16  /* IFNAMSIZ */
#define CONFIG_PEERS_MAX    64  /* [peer NAME] sections */
#define CONFIG_PEERNAME_MAX 45  /* libinih keeps 50 bytes of a section name */
#define CONFIG_KEY_B64_SIZE 45  /* a base64 WireGuard key and its NUL */

#define CONFIG_NOTIFY_MAX     4   /* [alert] notify lines */
#define CONFIG_NOTIFY_URL_MAX 200 /* libinih's line is 200 bytes */

/* [alert] format: the body of a notification, per receiving service. */
enum config_alert_format {
	CONFIG_ALERT_TEXT,   /* plain text */
	CONFIG_ALERT_NTFY,   /* plain text with ntfy's Title, Priority and Tags headers */
	CONFIG_ALERT_GOTIFY, /* Gotify's message JSON */
	CONFIG_ALERT_SLACK,  /* Slack-compatible incoming webhook JSON */
	CONFIG_ALERT_JSON,   /* sparkmon's own JSON */
	CONFIG_ALERT__COUNT,
};

/* auto | yes | no: auto turns a probe on where what it watches is there. */
enum config_switch {
	CONFIG_SWITCH_AUTO,
	CONFIG_SWITCH_YES,
	CONFIG_SWITCH_NO,
};

struct config_ifnames {
	char names[CONFIG_IFNAMES_MAX][CONFIG_IFNAME_SIZE];
	uint32_t count; /* 0 = every WireGuard interface found */
};

/* [peer NAME]: a WireGuard peer sparkmon knows by name. */
struct config_peer {
	char name[CONFIG_PEERNAME_MAX];
	char public_key[CONFIG_KEY_B64_SIZE];
	bool required; /* remote access through it must work */
};

struct config {
	char source[CONFIG_PATH_MAX]; /* file it was read from; "" = built-in defaults */

	/* [general] */
	uint64_t interval_ms;            /* poll interval of the cheap probes */
	char root[CONFIG_PATH_MAX];      /* prefix for /proc, /etc, /run, /usr/lib */
	char state_dir[CONFIG_PATH_MAX]; /* where remembered state lives */

	/* [memory] available below these shares of total → WARNING / CRITICAL;
	 * in hundredths of a percent (1000 = 10%). */
	uint32_t memory_warning_bp;
	uint32_t memory_critical_bp;

	/* [forwarding] */
	bool forwarding_check_persistent;

	/* [gpu] */
	char gpu_nvidia_smi[CONFIG_PATH_MAX];
	uint64_t gpu_timeout_ms;           /* nvidia-smi is killed after this */
	uint64_t gpu_interval_ms;          /* how often the GPU probe runs */
	bool gpu_expected;                 /* no GPU (or no nvidia-smi) is CRITICAL */
	uint32_t gpu_temperature_warning;  /* degrees Celsius */
	uint32_t gpu_temperature_critical; /* degrees Celsius */

	/* [http] */
	char http_listen[CONFIG_TEXT_MAX]; /* endpoints, see monitor/netaddr.h */
	bool http_listen_wireguard;
	char http_allow[CONFIG_TEXT_MAX]; /* networks, see monitor/netaddr.h */
	bool http_allow_wireguard;
	uint32_t http_max_connections;
	uint32_t http_max_connections_per_ip;
	uint64_t http_timeout_ms;
	uint64_t http_request_timeout_ms;     /* from accept to the end of the headers */
	char http_hostnames[CONFIG_TEXT_MAX]; /* Host names served besides IP literals */
	uint64_t http_memory_limit;           /* bytes per connection */
	char http_auth_user[CONFIG_TEXT_MAX];
	char http_auth_bcrypt[CONFIG_TEXT_MAX];
	char http_tls_cert[CONFIG_PATH_MAX]; /* "" = plain HTTP */
	char http_tls_key[CONFIG_PATH_MAX];

	/* [wireguard] */
	struct config_ifnames wireguard_interfaces;
	char wireguard_wg_quick_file[CONFIG_PATH_MAX]; /* "%i" = interface; "" = none */
	uint32_t wireguard_listen_port;    /* expected; 0 = the wg-quick file's, if any */
	uint64_t wireguard_stale_after_ms; /* handshake older than this: peer down */
	struct config_peer peers[CONFIG_PEERS_MAX];
	uint32_t n_peers;

	/* [history] */
	uint64_t history_retention_ms;
	uint64_t history_memory; /* bytes */
	uint32_t history_peers;

	/* [firewall] */
	char firewall_iptables_save[CONFIG_PATH_MAX];
	char firewall_ip6tables_save[CONFIG_PATH_MAX];
	char firewall_nft[CONFIG_PATH_MAX];

	/* [endpoint] */
	uint64_t endpoint_interval_ms;
	char endpoint_ip_urls[CONFIG_TEXT_MAX];     /* space-separated, tried in order */
	char endpoint_expected_ip[CONFIG_TEXT_MAX]; /* IPv4; "" = remember the first seen */
	char endpoint_hostname[CONFIG_TEXT_MAX];    /* DNS name in the clients' Endpoint */
	char endpoint_probes[CONFIG_TEXT_MAX];      /* URLs the server must reach */
	uint64_t endpoint_connect_timeout_ms;
	uint64_t endpoint_timeout_ms;

	/* [alert] Where changes of the checks are sent, and how. The URLs
	 * may carry tokens: never printed, logged or shown whole (see
	 * config_redact_url), and wiped in the web process (see
	 * config_forget_secrets). */
	uint64_t alert_remind_ms;  /* still not OK: reminded this often */
	uint64_t alert_timeout_ms; /* each POST's total timeout */
	enum config_alert_format alert_format;
	char alert_notify[CONFIG_NOTIFY_MAX][CONFIG_NOTIFY_URL_MAX];
	enum config_alert_format alert_notify_format[CONFIG_NOTIFY_MAX];
	uint32_t n_alert_notify;

	/* [ssh] */
	enum config_switch ssh_enabled;
	uint32_t ssh_port;        /* 0 = sshd's own Port, else 22 */
	uint64_t ssh_timeout_ms;  /* connect and identification line, together */
	uint64_t ssh_interval_ms; /* how often the ssh probe runs */

	/* [router] */
	enum config_switch router_enabled;
	uint64_t router_timeout_ms;  /* each protocol's wait for the router */
	uint64_t router_interval_ms; /* how often the router probe runs */
};

/* Collected problems, one "file:line: message" per line. */
struct config_errors {
	char *text; /* NUL-terminated, newline-separated; NULL when empty */
	size_t count;
};

/* Fills *cfg with the built-in defaults. */
void config_defaults(struct config *cfg);

/* Loads `path` over the defaults. When `path` is NULL the default path is
 * used, and a missing default file means defaults. On any problem returns
 * -EINVAL (or -errno for an unreadable file) and leaves every problem in
 * *errors; *ret is written only on success. */
int config_load(const char *path, struct config *ret, struct config_errors *errors);

/* config_load() in two steps, so that the bytes read at one moment can be
 * parsed in another process (a reload of `sparkmon serve`: the collector
 * reads the file once and sends the bytes; both processes then apply the
 * same configuration, whatever an editor does to the file meanwhile).
 * config_read() returns 0 with the text (NUL-terminated, owned by the
 * caller) or NULL for an absent default file, or -errno; config_load_read()
 * turns that outcome (text need not end in a NUL) into what config_load()
 * would have returned. A file larger than CONFIG_FILE_MAX is certainly a
 * mistake. */
#define CONFIG_FILE_MAX (256 * 1024)
int config_read(const char *path, char **ret_text, size_t *ret_len);
int config_load_read(const char *path, int read_result, const char *text, size_t len,
                     struct config *ret, struct config_errors *errors);

/* Same as config_load() on an in-memory text; `name` is used in messages. */
int config_load_string(const char *text, const char *name, struct config *ret,
                       struct config_errors *errors);

/* Prints the normalized configuration: every key, in table order. */
void config_print(const struct config *cfg, FILE *out);

/* Joins the configured root and an absolute path ("/proc/meminfo") into buf.
 * Returns 0, or -ENAMETOOLONG. */
int config_path(const struct config *cfg, const char *abs_path, char *buf, size_t size);

void config_errors_free(struct config_errors *errors);

/* A URL as it may be shown: "scheme://host[:port]/…" with any user
 * information, path, query and fragment (where tokens live) left out. */
void config_redact_url(const char *url, char *buf, size_t size);

/* Wipes the notification URLs from cfg (explicit_bzero), for a process
 * that must not hold them; their redacted forms stay. */
void config_forget_secrets(struct config *cfg);

/* "text", "ntfy", ... as [alert] format spells them. */
const char *config_alert_format_name(enum config_alert_format format);

/* Formatting helpers shared with the outputs. */
int config_parse_duration_ms(const char *text, uint64_t *ret);
void config_format_duration(uint64_t ms, char *buf, size_t size);

#endif
