#include "monitor/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/netaddr.h"
#include "probes/readfile.h"
#include "probes/wireguard.h"

/* libinih's line buffer (INI_MAX_LINE in Debian's build). */
#define CONFIG_LINE_MAX 200
/* libinih's section buffer (MAX_SECTION): it cuts longer names silently. */
#define CONFIG_SECTION_MAX 50

enum key_type {
	KEY_DURATION,
	KEY_PERCENT,
	KEY_BOOL,
	KEY_PATH,
	KEY_COUNT,     /* uint32_t in min..max */
	KEY_SIZE,      /* uint64_t bytes, written with a unit: 512KiB, 2MiB */
	KEY_TEXT,      /* char[CONFIG_TEXT_MAX], printable, may be empty */
	KEY_FILE,      /* char[CONFIG_PATH_MAX]: an absolute path, or empty for none */
	KEY_ENDPOINTS, /* char[CONFIG_TEXT_MAX]: "addr:port" list (monitor/netaddr.h) */
	KEY_NETWORKS,  /* char[CONFIG_TEXT_MAX]: "addr/prefix" list (monitor/netaddr.h) */
	KEY_IFNAMES,   /* struct config_ifnames: interface names, space or comma separated */
	KEY_URLS,      /* char[CONFIG_TEXT_MAX]: http(s) URLs, space or comma separated */
	KEY_SWITCH,    /* enum config_switch: auto, yes or no */
	KEY_FORMAT,    /* enum config_alert_format */
	KEY_NOTIFY,    /* "[FORMAT] URL", repeatable: alert_notify[] */
};

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	uint64_t min, max; /* ms for durations, hundredths of a percent for percents */
	const char *doc;
};

#define FIELD(f)   offsetof(struct config, f)
#define SECONDS(n) ((uint64_t)(n)*1000)
#define KIB        ((uint64_t)1024)

static const struct key_def config_keys[] = {
    {"general", "interval", KEY_DURATION, FIELD(interval_ms), SECONDS(1), SECONDS(3600),
     "how often the cheap probes run"},
    {"general", "root", KEY_PATH, FIELD(root), 0, 0,
     "prefix for /proc, /etc, /run and /usr/lib (tests point it at fixtures)"},
    {"general", "state_dir", KEY_PATH, FIELD(state_dir), 0, 0,
     "where sparkmon remembers state between runs"},
    {"memory", "warning_below", KEY_PERCENT, FIELD(memory_warning_bp), 1, 9999,
     "WARNING when available memory falls below this share of total"},
    {"memory", "critical_below", KEY_PERCENT, FIELD(memory_critical_bp), 1, 9999,
     "CRITICAL when available memory falls below this share of total"},
    {"forwarding", "check_persistent", KEY_BOOL, FIELD(forwarding_check_persistent), 0, 0,
     "warn when net.ipv4.ip_forward is on now but would be off after a reboot"},
    {"gpu", "nvidia_smi", KEY_PATH, FIELD(gpu_nvidia_smi), 0, 0,
     "nvidia-smi to run; when it is not installed the GPU checks are absent"},
    {"gpu", "timeout", KEY_DURATION, FIELD(gpu_timeout_ms), 100, SECONDS(60),
     "nvidia-smi is killed after this long (a wedged driver makes it hang)"},
    {"gpu", "interval", KEY_DURATION, FIELD(gpu_interval_ms), SECONDS(1), SECONDS(3600),
     "how often the GPU probe runs"},
    {"gpu", "expected", KEY_BOOL, FIELD(gpu_expected), 0, 0,
     "a GPU must be there: no nvidia-smi, no GPU or a failing driver is CRITICAL"},
    {"gpu", "temperature_warning", KEY_COUNT, FIELD(gpu_temperature_warning), 1, 200,
     "WARNING at this GPU temperature, in degrees Celsius"},
    {"gpu", "temperature_critical", KEY_COUNT, FIELD(gpu_temperature_critical), 1, 200,
     "CRITICAL at this GPU temperature, in degrees Celsius"},
    {"http", "listen", KEY_ENDPOINTS, FIELD(http_listen), 0, 0,
     "addresses to serve HTTP on (address:port, [v6]:port; comma-separated)"},
    {"http", "listen_wireguard", KEY_BOOL, FIELD(http_listen_wireguard), 0, 0,
     "also serve on the addresses of watched WireGuard interfaces while they exist"},
    {"http", "allow", KEY_NETWORKS, FIELD(http_allow), 0, 0,
     "client networks allowed to connect (address/prefix; comma-separated)"},
    {"http", "allow_wireguard", KEY_BOOL, FIELD(http_allow_wireguard), 0, 0,
     "also allow clients from the subnets of watched WireGuard interfaces"},
    {"http", "max_connections", KEY_COUNT, FIELD(http_max_connections), 1, 10000,
     "connections served at once"},
    {"http", "max_connections_per_ip", KEY_COUNT, FIELD(http_max_connections_per_ip), 1, 10000,
     "connections served at once to one client address"},
    {"http", "timeout", KEY_DURATION, FIELD(http_timeout_ms), SECONDS(1), SECONDS(3600),
     "an idle connection is closed after this long"},
    {"http", "request_timeout", KEY_DURATION, FIELD(http_request_timeout_ms), SECONDS(1),
     SECONDS(600), "a request's headers must arrive within this long of its connection"},
    {"http", "memory_limit", KEY_SIZE, FIELD(http_memory_limit), 8 * KIB, 1024 * KIB,
     "memory for one connection's request; larger request headers are refused"},
    {"http", "auth_user", KEY_TEXT, FIELD(http_auth_user), 0, 0,
     "HTTP basic authentication user; empty: no authentication"},
    {"http", "auth_bcrypt", KEY_TEXT, FIELD(http_auth_bcrypt), 0, 0,
     "bcrypt hash of that user's password ($2b$...; htpasswd -nbB user password)"},
    {"http", "tls_cert", KEY_FILE, FIELD(http_tls_cert), 0, 0,
     "PEM certificate file; with tls_key, serve HTTPS instead of HTTP"},
    {"http", "tls_key", KEY_FILE, FIELD(http_tls_key), 0, 0, "PEM private key file"},
    {"http", "hostnames", KEY_TEXT, FIELD(http_hostnames), 0, 0,
     "host names the server answers to besides localhost and its addresses (comma-separated)"},
    {"history", "retention", KEY_DURATION, FIELD(history_retention_ms), SECONDS(60),
     SECONDS(30 * 86400), "how far back the in-memory history reaches"},
    {"history", "memory", KEY_SIZE, FIELD(history_memory), 64 * KIB, 1024 * 1024 * KIB,
     "memory budget of the history; older points are averaged to fit"},
    {"history", "peers", KEY_COUNT, FIELD(history_peers), 0, 1000,
     "busiest peers that get history series besides named or required ones"},
    {"wireguard", "interfaces", KEY_IFNAMES, FIELD(wireguard_interfaces), 0, 0,
     "WireGuard interfaces to watch (space-separated); empty: every one found"},
    {"wireguard", "wg_quick_file", KEY_FILE, FIELD(wireguard_wg_quick_file), 0, 0,
     "wg-quick file of each interface (%i = its name), for peer names and the port; "
     "empty: none"},
    {"wireguard", "listen_port", KEY_COUNT, FIELD(wireguard_listen_port), 0, 65535,
     "port the router forwards; 0: the wg-quick file's ListenPort, else not checked"},
    {"wireguard", "stale_after", KEY_DURATION, FIELD(wireguard_stale_after_ms), SECONDS(60),
     SECONDS(7 * 86400), "a peer whose last handshake is older than this is down"},
    {"firewall", "iptables_save", KEY_PATH, FIELD(firewall_iptables_save), 0, 0,
     "iptables-save program (iptables-nft-save or iptables-legacy-save to pick a backend)"},
    {"firewall", "ip6tables_save", KEY_PATH, FIELD(firewall_ip6tables_save), 0, 0,
     "ip6tables-save program, run when the VPN carries IPv6"},
    {"firewall", "nft", KEY_FILE, FIELD(firewall_nft), 0, 0,
     "nft program, for native nftables rules (nft -j list ruleset); empty: not read"},
    {"endpoint", "interval", KEY_DURATION, FIELD(endpoint_interval_ms), SECONDS(10), SECONDS(86400),
     "how often the public IP and the reachability URLs are checked"},
    {"endpoint", "ip_urls", KEY_URLS, FIELD(endpoint_ip_urls), 0, 0,
     "URLs that answer with the public IPv4 address as plain text, tried in order"},
    {"endpoint", "expected_public_ip", KEY_TEXT, FIELD(endpoint_expected_ip), 0, 0,
     "the public IPv4 address clients connect to; empty: remember the first one seen"},
    {"endpoint", "hostname", KEY_TEXT, FIELD(endpoint_hostname), 0, 0,
     "DNS name in the clients' Endpoint, compared with the public IP; empty: none"},
    {"endpoint", "probes", KEY_URLS, FIELD(endpoint_probes), 0, 0,
     "URLs this server must reach (space-separated); empty: none"},
    {"endpoint", "connect_timeout", KEY_DURATION, FIELD(endpoint_connect_timeout_ms), 100,
     SECONDS(60), "connect timeout of each HTTP request"},
    {"endpoint", "timeout", KEY_DURATION, FIELD(endpoint_timeout_ms), 100, SECONDS(120),
     "total timeout of each HTTP request"},
    {"alert", "remind", KEY_DURATION, FIELD(alert_remind_ms), SECONDS(1), SECONDS(30 * 86400),
     "what is still not OK is reported again this long after it was last reported"},
    {"alert", "format", KEY_FORMAT, FIELD(alert_format), 0, 0,
     "body of each notification: text, ntfy, gotify, slack or json"},
    {"alert", "timeout", KEY_DURATION, FIELD(alert_timeout_ms), 100, SECONDS(60),
     "total timeout of each notification's POST"},
    {"alert", "notify", KEY_NOTIFY, FIELD(alert_notify), 0, 0,
     "URL each change is posted to, optionally after its format; repeat the line for more"},
    {"ssh", "enabled", KEY_SWITCH, FIELD(ssh_enabled), 0, 0,
     "watch sshd: auto (where /etc/ssh/sshd_config exists), yes or no"},
    {"ssh", "port", KEY_COUNT, FIELD(ssh_port), 0, 65535,
     "SSH port; 0: sshd's own Port (sshd_config and its includes), else 22"},
    {"ssh", "timeout", KEY_DURATION, FIELD(ssh_timeout_ms), 100, SECONDS(30),
     "connecting to sshd and reading its identification line take at most this long"},
    {"ssh", "interval", KEY_DURATION, FIELD(ssh_interval_ms), SECONDS(1), SECONDS(86400),
     "how often the ssh probe connects to sshd (each connection is a line in sshd's log)"},
    {"router", "enabled", KEY_SWITCH, FIELD(router_enabled), 0, 0,
     "ask the router about the port forward (NAT-PMP, UPnP IGD): auto (where a WireGuard "
     "interface exists; absent where no router answers), yes or no"},
    {"router", "timeout", KEY_DURATION, FIELD(router_timeout_ms), 100, SECONDS(30),
     "how long NAT-PMP and the UPnP search each wait for the router"},
    {"router", "interval", KEY_DURATION, FIELD(router_interval_ms), SECONDS(10), SECONDS(86400),
     "how often the router is asked"},
};
#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->interval_ms = SECONDS(5);
	strcpy(cfg->root, "/");
	strcpy(cfg->state_dir, "/var/lib/sparkmon");
	cfg->memory_warning_bp = 1000;
	cfg->memory_critical_bp = 500;
	cfg->forwarding_check_persistent = true;
	strcpy(cfg->gpu_nvidia_smi, "/usr/bin/nvidia-smi");
	cfg->gpu_timeout_ms = SECONDS(5);
	cfg->gpu_interval_ms = SECONDS(10);
	cfg->gpu_expected = false;
	cfg->gpu_temperature_warning = 85;
	cfg->gpu_temperature_critical = 95;
	strcpy(cfg->http_listen, "127.0.0.1:19586");
	cfg->http_listen_wireguard = true;
	strcpy(cfg->http_allow, "127.0.0.0/8, ::1/128");
	cfg->http_allow_wireguard = true;
	cfg->http_max_connections = 64;
	cfg->http_max_connections_per_ip = 16;
	cfg->http_timeout_ms = SECONDS(10);
	cfg->http_request_timeout_ms = SECONDS(5);
	cfg->http_memory_limit = 32 * KIB;
	cfg->history_retention_ms = SECONDS(86400);
	cfg->history_memory = 2048 * KIB;
	cfg->history_peers = 8;
	strcpy(cfg->wireguard_wg_quick_file, "/etc/wireguard/%i.conf");
	cfg->wireguard_stale_after_ms = SECONDS(600);
	strcpy(cfg->firewall_iptables_save, "/usr/sbin/iptables-save");
	strcpy(cfg->firewall_ip6tables_save, "/usr/sbin/ip6tables-save");
	strcpy(cfg->firewall_nft, "/usr/sbin/nft");
	cfg->endpoint_interval_ms = SECONDS(300);
	strcpy(cfg->endpoint_ip_urls, "https://api.ipify.org");
	cfg->endpoint_connect_timeout_ms = SECONDS(3);
	cfg->endpoint_timeout_ms = SECONDS(10);
	cfg->alert_remind_ms = SECONDS(86400);
	cfg->alert_timeout_ms = SECONDS(5);
	cfg->alert_format = CONFIG_ALERT_TEXT;
	cfg->ssh_enabled = CONFIG_SWITCH_AUTO;
	cfg->ssh_timeout_ms = SECONDS(3);
	cfg->ssh_interval_ms = SECONDS(60);
	cfg->router_enabled = CONFIG_SWITCH_AUTO;
	cfg->router_timeout_ms = SECONDS(2);
	cfg->router_interval_ms = SECONDS(300);
}

/* ---- errors -------------------------------------------------------------- */

static void errors_add(struct config_errors *errors, const char *name, int line, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

static void errors_add(struct config_errors *errors, const char *name, int line, const char *fmt,
                       ...)
{
	char msg[512], where[CONFIG_PATH_MAX + 32];
	size_t old = errors->text ? strlen(errors->text) : 0;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d: ", name, line);
	else
		snprintf(where, sizeof(where), "%s: ", name);
	/* Counted first: out of memory loses the text, never the failure. */
	errors->count++;
	text = realloc(errors->text, old + strlen(where) + strlen(msg) + 2);
	if (!text)
		return;
	sprintf(text + old, "%s%s\n", where, msg);
	errors->text = text;
}

void config_errors_free(struct config_errors *errors)
{
	if (!errors)
		return;
	free(errors->text);
	errors->text = NULL;
	errors->count = 0;
}

/* ---- value types --------------------------------------------------------- */

/* Durations: one or more <integer><unit> groups, unit ms, s, m, h or d
 * ("5s", "1m30s"). A bare number is refused: "5" could mean anything. */
int config_parse_duration_ms(const char *text, uint64_t *ret)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	uint64_t total = 0;
	const char *p = text;

	if (!*p)
		return -EINVAL;
	while (*p) {
		uint64_t n = 0, mul = 0;
		size_t i, len = 0;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			uint64_t digit = (uint64_t)(*p - '0');

			if (n > (UINT64_MAX - digit) / 10)
				return -ERANGE;
			n = n * 10 + digit;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ulen = strlen(units[i].unit);

			/* Longest match first matters only for "ms" vs "m". */
			if (strncmp(p, units[i].unit, ulen) == 0 && ulen > len) {
				mul = units[i].ms;
				len = ulen;
			}
		}
		if (!mul)
			return -EINVAL;
		p += len;
		if (n > (UINT64_MAX - total) / mul)
			return -ERANGE;
		total += n * mul;
	}
	*ret = total;
	return 0;
}

void config_format_duration(uint64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, size, "%llu%s", (unsigned long long)(ms / units[i].ms),
			         units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%llums", (unsigned long long)ms);
}

/* Percentages: "10%", "7.5%", "0.25%"; stored in hundredths of a percent. */
static int parse_percent_bp(const char *text, uint32_t *ret)
{
	uint64_t whole = 0, frac = 0;
	int frac_digits = 0;
	const char *p = text;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 100)
			return -ERANGE;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (++frac_digits > 2)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
		if (frac_digits == 1)
			frac *= 10;
	}
	if (strcmp(p, "%") != 0)
		return -EINVAL;
	*ret = (uint32_t)(whole * 100 + frac);
	return 0;
}

static void format_percent(uint32_t bp, char *buf, size_t size)
{
	if (bp % 100 == 0)
		snprintf(buf, size, "%u%%", bp / 100);
	else if (bp % 10 == 0)
		snprintf(buf, size, "%u.%u%%", bp / 100, (bp % 100) / 10);
	else
		snprintf(buf, size, "%u.%02u%%", bp / 100, bp % 100);
}

static int parse_bool(const char *text, bool *ret)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Absolute paths only; a trailing slash is dropped so that joining is simple. */
static int parse_path(const char *text, char *ret, size_t size)
{
	size_t len = strlen(text);

	if (text[0] != '/')
		return -EINVAL;
	while (len > 1 && text[len - 1] == '/')
		len--;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(ret, text, len);
	ret[len] = '\0';
	return 0;
}

/* Counts: a plain decimal integer. */
static int parse_count(const char *text, uint64_t *ret)
{
	uint64_t n = 0;

	if (!*text)
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		if (!isdigit((unsigned char)*p) || n > UINT32_MAX)
			return -EINVAL;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*ret = n;
	return 0;
}

static const struct {
	const char *unit;
	uint64_t bytes;
} size_units[] = {{"GiB", 1024 * 1024 * KIB}, {"MiB", 1024 * KIB}, {"KiB", KIB}, {"B", 1}};

/* Sizes: an integer and a binary unit ("512KiB", "2MiB", "100B"). */
static int parse_size(const char *text, uint64_t *ret)
{
	uint64_t n = 0;
	const char *p = text;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX >> 31) / 10)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (strcmp(p, size_units[i].unit) == 0) {
			*ret = n * size_units[i].bytes;
			return 0;
		}
	}
	return -EINVAL;
}

static void format_size(uint64_t bytes, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (bytes != 0 && bytes % size_units[i].bytes == 0) {
			snprintf(buf, size, "%llu%s",
			         (unsigned long long)(bytes / size_units[i].bytes),
			         size_units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "0B");
}

/* Free text: printable ASCII, as it must survive the INI round trip. */
static int parse_text(const char *text, char *ret, size_t size)
{
	if (strlen(text) >= size)
		return -ENAMETOOLONG;
	for (const char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return -EINVAL;
	strcpy(ret, text);
	return 0;
}

/* URLs the endpoint probe fetches: space or comma separated, at most
 * CONFIG_URLS_MAX, each http:// or https:// with a host, shorter than
 * CONFIG_URL_MAX. Anything else is refused here rather than at the first
 * fetch, minutes after start. */
#define CONFIG_URLS_MAX 8
#define CONFIG_URL_MAX  256

static int parse_urls(const char *text, char *ret, size_t size)
{
	const char *p = text;
	size_t n = 0;
	int r = parse_text(text, ret, size);

	if (r < 0)
		return r;
	for (;;) {
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == 0)
			break;
		if (++n > CONFIG_URLS_MAX || len >= CONFIG_URL_MAX)
			return -EINVAL;
		if (!((len > 7 && strncmp(p, "http://", 7) == 0) ||
		      (len > 8 && strncmp(p, "https://", 8) == 0)))
			return -EINVAL;
		p += len;
	}
	return 0;
}

/* Interface names, space or comma separated; each as the kernel accepts
 * it (1..15 bytes, no '/', no whitespace, not "." or ".."). */
static int parse_ifnames(const char *text, struct config_ifnames *ret)
{
	struct config_ifnames names = {.count = 0};
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, " \t,");

		if (len == 0) {
			p++;
			continue;
		}
		if (len >= CONFIG_IFNAME_SIZE || names.count == CONFIG_IFNAMES_MAX ||
		    memchr(p, '/', len) || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
				return -EINVAL;
		for (uint32_t i = 0; i < names.count; i++)
			if (strlen(names.names[i]) == len && strncmp(names.names[i], p, len) == 0)
				return -EINVAL;
		memcpy(names.names[names.count], p, len);
		names.names[names.count++][len] = '\0';
		p += len;
	}
	*ret = names;
	return 0;
}

static void format_ifnames(const struct config_ifnames *names, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < names->count && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? " " : "", names->names[i]);
}

static bool peer_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= CONFIG_PEERNAME_MAX || name[0] == ' ' || name[len - 1] == ' ')
		return false;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || strchr("[];#", *p))
			return false;
	return true;
}

/* ---- the INI handler ----------------------------------------------------- */

struct parse_state {
	struct config cfg;
	struct config_errors *errors;
	const char *name; /* file name for messages */
	const char *text, *end;
	int line;                        /* line the reader returned last */
	int seen_line[CONFIG_KEY_COUNT]; /* where each key was set, 0 = not set */
	bool refused[CONFIG_KEY_COUNT];  /* its value was an error (and not stored) */
	/* Per [peer] section: lines of its first key, public_key, required. */
	int peer_line[CONFIG_PEERS_MAX][3];
	/* The current section's name was too long for libinih: it would pass
	 * its keys under a cut name, so they are refused at the header. */
	bool section_cut;
	bool notify_own_format[CONFIG_NOTIFY_MAX]; /* "FORMAT URL" rather than "URL" */
	int notify_line[CONFIG_NOTIFY_MAX];
};

static const struct key_def *find_key(const char *section, const char *name, size_t *index)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0) {
			*index = i;
			return &config_keys[i];
		}
	}
	return NULL;
}

static bool section_known(const char *section)
{
	if (strncmp(section, "peer ", 5) == 0)
		return true; /* the name is checked with the section's keys */
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		if (strcmp(config_keys[i].section, section) == 0)
			return true;
	return false;
}

/* The setters below parse one value of their key's type into field, the
 * key's place in st->cfg, or add an error naming the key and the value. */

static void set_duration(struct parse_state *st, const struct key_def *key, const char *value,
                         char *field)
{
	char lo[32], hi[32];
	uint64_t ms;

	if (config_parse_duration_ms(value, &ms) < 0) {
		errors_add(st->errors, st->name, st->line,
		           "%s: '%s' is not a duration (examples: 500ms, 5s, 2m, 1h)", key->name,
		           value);
		return;
	}
	if (ms < key->min || ms > key->max) {
		config_format_duration(key->min, lo, sizeof(lo));
		config_format_duration(key->max, hi, sizeof(hi));
		errors_add(st->errors, st->name, st->line, "%s: %s is out of range (%s..%s)",
		           key->name, value, lo, hi);
		return;
	}
	memcpy(field, &ms, sizeof(ms));
}

static void set_percent(struct parse_state *st, const struct key_def *key, const char *value,
                        char *field)
{
	char lo[32], hi[32];
	uint32_t bp;
	int r = parse_percent_bp(value, &bp);

	if (r < 0 || bp < key->min || bp > key->max) {
		format_percent((uint32_t)key->min, lo, sizeof(lo));
		format_percent((uint32_t)key->max, hi, sizeof(hi));
		errors_add(st->errors, st->name, st->line,
		           "%s: '%s' is not a percentage between %s and %s (example: 10%%)",
		           key->name, value, lo, hi);
		return;
	}
	memcpy(field, &bp, sizeof(bp));
}

static void set_switch(struct parse_state *st, const struct key_def *key, const char *value,
                       char *field)
{
	enum config_switch sw = CONFIG_SWITCH_AUTO;
	bool b;

	if (strcasecmp(value, "auto") != 0) {
		if (parse_bool(value, &b) < 0) {
			errors_add(st->errors, st->name, st->line,
			           "%s: '%s' is not auto, yes or no", key->name, value);
			return;
		}
		sw = b ? CONFIG_SWITCH_YES : CONFIG_SWITCH_NO;
	}
	memcpy(field, &sw, sizeof(sw));
}

static void set_bool(struct parse_state *st, const struct key_def *key, const char *value,
                     char *field)
{
	bool b;

	if (parse_bool(value, &b) < 0) {
		errors_add(st->errors, st->name, st->line, "%s: '%s' is not a boolean (yes or no)",
		           key->name, value);
		return;
	}
	memcpy(field, &b, sizeof(b));
}

/* KEY_COUNT (stored as uint32_t) and KEY_SIZE (uint64_t bytes). */
static void set_count_or_size(struct parse_state *st, const struct key_def *key, const char *value,
                              char *field)
{
	bool count = key->type == KEY_COUNT;
	char lo[32], hi[32];
	uint64_t n;
	int r = count ? parse_count(value, &n) : parse_size(value, &n);

	if (r < 0 || n < key->min || n > key->max) {
		if (count) {
			snprintf(lo, sizeof(lo), "%llu", (unsigned long long)key->min);
			snprintf(hi, sizeof(hi), "%llu", (unsigned long long)key->max);
		} else {
			format_size(key->min, lo, sizeof(lo));
			format_size(key->max, hi, sizeof(hi));
		}
		errors_add(st->errors, st->name, st->line, "%s: '%s' is not %s between %s and %s",
		           key->name, value, count ? "a number" : "a size (example: 2MiB)", lo, hi);
		return;
	}
	if (count) {
		uint32_t n32 = (uint32_t)n;

		memcpy(field, &n32, sizeof(n32));
	} else {
		memcpy(field, &n, sizeof(n));
	}
}

/* KEY_TEXT, and the address lists kept as text: KEY_ENDPOINTS, KEY_NETWORKS. */
static void set_text(struct parse_state *st, const struct key_def *key, const char *value,
                     char *field)
{
	int r = parse_text(value, field, CONFIG_TEXT_MAX);

	if (r == 0 && key->type == KEY_ENDPOINTS)
		r = netaddr_parse_endpoints(value, NULL, CONFIG_LIST_MAX);
	if (r >= 0 && key->type == KEY_NETWORKS)
		r = netaddr_parse_nets(value, NULL, CONFIG_LIST_MAX);
	if (r < 0)
		errors_add(st->errors, st->name, st->line, "%s: '%s' is not %s", key->name, value,
		           key->type == KEY_ENDPOINTS  ? "a list of address:port ([v6]:port)"
		           : key->type == KEY_NETWORKS ? "a list of address/prefix"
		                                       : "printable text of at most 255 bytes");
}

static void set_urls(struct parse_state *st, const struct key_def *key, const char *value,
                     char *field)
{
	if (parse_urls(value, field, CONFIG_TEXT_MAX) < 0)
		errors_add(st->errors, st->name, st->line,
		           "%s: '%s' is not a list of at most %d http:// or https:// URLs "
		           "(each shorter than %d bytes)",
		           key->name, value, CONFIG_URLS_MAX, CONFIG_URL_MAX);
}

/* Printable ASCII without blanks. */
static bool printable(const char *text)
{
	for (; *text; text++)
		if ((unsigned char)*text <= 0x20 || (unsigned char)*text >= 0x7f)
			return false;
	return true;
}

static const char *const alert_format_names[CONFIG_ALERT__COUNT] = {
    [CONFIG_ALERT_TEXT] = "text",   [CONFIG_ALERT_NTFY] = "ntfy", [CONFIG_ALERT_GOTIFY] = "gotify",
    [CONFIG_ALERT_SLACK] = "slack", [CONFIG_ALERT_JSON] = "json",
};

const char *config_alert_format_name(enum config_alert_format format)
{
	return (unsigned)format < CONFIG_ALERT__COUNT ? alert_format_names[format] : "text";
}

static int parse_alert_format(const char *text, size_t len, enum config_alert_format *ret)
{
	for (int i = 0; i < CONFIG_ALERT__COUNT; i++) {
		if (strlen(alert_format_names[i]) == len &&
		    strncasecmp(text, alert_format_names[i], len) == 0) {
			*ret = (enum config_alert_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void set_format(struct parse_state *st, const struct key_def *key, const char *value,
                       char *field)
{
	enum config_alert_format f;

	if (parse_alert_format(value, strlen(value), &f) < 0) {
		errors_add(st->errors, st->name, st->line,
		           "%s: '%s' is not text, ntfy, gotify, slack or json", key->name, value);
		return;
	}
	memcpy(field, &f, sizeof(f));
}

/* "[FORMAT] URL": one http(s) URL with a host, printable, no blank. The
 * message never quotes the value: the URL may hold a token. */
static void set_notify(struct parse_state *st, const struct key_def *key, const char *value)
{
	enum config_alert_format f = st->cfg.alert_format;
	struct config *c = &st->cfg;
	const char *url = value, *blank = strpbrk(value, " \t");
	size_t len;

	if (blank) {
		url = blank + strspn(blank, " \t");
		if (parse_alert_format(value, (size_t)(blank - value), &f) < 0) {
			errors_add(st->errors, st->name, st->line,
			           "%s: the word before the URL is not text, ntfy, gotify, slack "
			           "or json",
			           key->name);
			return;
		}
	}
	len = strlen(url);
	if (c->n_alert_notify == CONFIG_NOTIFY_MAX) {
		errors_add(st->errors, st->name, st->line, "%s: more than %d notify lines",
		           key->name, CONFIG_NOTIFY_MAX);
		return;
	}
	if (len >= CONFIG_NOTIFY_URL_MAX || !printable(url) ||
	    !((len > 7 && strncmp(url, "http://", 7) == 0) ||
	      (len > 8 && strncmp(url, "https://", 8) == 0)) ||
	    strchr("/?#", url[strncmp(url, "https", 5) == 0 ? 8 : 7])) {
		errors_add(st->errors, st->name, st->line,
		           "%s: not '[FORMAT] URL' with one http:// or https:// URL with a host, "
		           "printable, shorter than %d bytes (the value is not repeated here: it "
		           "may hold a token)",
		           key->name, CONFIG_NOTIFY_URL_MAX);
		return;
	}
	for (uint32_t i = 0; i < c->n_alert_notify; i++) {
		if (strcmp(c->alert_notify[i], url) == 0) {
			errors_add(st->errors, st->name, st->line, "%s: the same URL as line %d",
			           key->name, st->notify_line[i]);
			return;
		}
	}
	/* A URL without a format of its own takes [alert] format's, which
	 * may come later in the file (validate). */
	st->notify_line[c->n_alert_notify] = st->line;
	st->notify_own_format[c->n_alert_notify] = blank != NULL;
	memcpy(c->alert_notify[c->n_alert_notify], url, len + 1);
	c->alert_notify_format[c->n_alert_notify++] = f;
}

static void set_ifnames(struct parse_state *st, const struct key_def *key, const char *value,
                        char *field)
{
	if (parse_ifnames(value, (struct config_ifnames *)(void *)field) < 0)
		errors_add(st->errors, st->name, st->line,
		           "%s: '%s' is not a list of at most %d interface names", key->name, value,
		           CONFIG_IFNAMES_MAX);
}

/* KEY_PATH, and KEY_FILE, which may also be empty for none. */
static void set_path(struct parse_state *st, const struct key_def *key, const char *value,
                     char *field)
{
	int r;

	if (key->type == KEY_FILE && !*value) {
		*field = '\0';
		return;
	}
	r = parse_path(value, field, CONFIG_PATH_MAX);
	if (r < 0)
		errors_add(st->errors, st->name, st->line, "%s: '%s' is not %s", key->name, value,
		           r == -ENAMETOOLONG ? "a path shorter than 256 bytes"
		                              : "an absolute path");
}

static void set_value(struct parse_state *st, const struct key_def *key, const char *value)
{
	char *field = (char *)&st->cfg + key->offset;

	switch (key->type) {
	case KEY_DURATION:
		set_duration(st, key, value, field);
		return;
	case KEY_PERCENT:
		set_percent(st, key, value, field);
		return;
	case KEY_BOOL:
		set_bool(st, key, value, field);
		return;
	case KEY_SWITCH:
		set_switch(st, key, value, field);
		return;
	case KEY_FORMAT:
		set_format(st, key, value, field);
		return;
	case KEY_NOTIFY:
		set_notify(st, key, value);
		return;
	case KEY_COUNT:
	case KEY_SIZE:
		set_count_or_size(st, key, value, field);
		return;
	case KEY_TEXT:
	case KEY_ENDPOINTS:
	case KEY_NETWORKS:
		set_text(st, key, value, field);
		return;
	case KEY_URLS:
		set_urls(st, key, value, field);
		return;
	case KEY_IFNAMES:
		set_ifnames(st, key, value, field);
		return;
	case KEY_FILE:
	case KEY_PATH:
		set_path(st, key, value, field);
		return;
	}
}

/* [peer NAME] sections: a name for a WireGuard public key, and whether
 * that peer must be connected. */
static int on_peer_key(struct parse_state *st, const char *peer_name, const char *name,
                       const char *value)
{
	struct config_peer *peer = NULL;
	uint8_t key[WIREGUARD_KEY_LEN];
	int *lines, which;
	uint32_t i;

	if (!peer_name_valid(peer_name)) {
		if (strcmp(name, "public_key") == 0) /* once per section */
			errors_add(st->errors, st->name, st->line,
			           "[peer %s]: a peer name is 1 to %d printable characters without "
			           "'[', ']', ';', '#' or surrounding spaces",
			           peer_name, CONFIG_PEERNAME_MAX - 1);
		return 1;
	}
	for (i = 0; i < st->cfg.n_peers && !peer; i++)
		if (strcmp(st->cfg.peers[i].name, peer_name) == 0)
			peer = &st->cfg.peers[i];
	if (!peer) {
		if (st->cfg.n_peers == CONFIG_PEERS_MAX) {
			errors_add(st->errors, st->name, st->line, "more than %d [peer] sections",
			           CONFIG_PEERS_MAX);
			return 1;
		}
		i = st->cfg.n_peers++;
		peer = &st->cfg.peers[i];
		snprintf(peer->name, sizeof(peer->name), "%s", peer_name);
		st->peer_line[i][0] = st->line;
	} else {
		i--;
	}
	lines = st->peer_line[i];
	if (strcmp(name, "public_key") == 0) {
		which = 1;
	} else if (strcmp(name, "required") == 0) {
		which = 2;
	} else {
		errors_add(st->errors, st->name, st->line,
		           "unknown key '%s' in [peer %s] (known: public_key, required)", name,
		           peer_name);
		return 1;
	}
	if (lines[which]) {
		errors_add(st->errors, st->name, st->line, "%s: set again (first set on line %d)",
		           name, lines[which]);
		return 1;
	}
	lines[which] = st->line;
	if (which == 1 && wireguard_key_from_base64(key, value) == 0)
		snprintf(peer->public_key, sizeof(peer->public_key), "%s", value);
	else if (which == 1)
		errors_add(
		    st->errors, st->name, st->line,
		    "public_key: '%s' is not a WireGuard public key (44 characters of base64, "
		    "as wg pubkey prints it)",
		    value);
	else if (parse_bool(value, &peer->required) < 0)
		errors_add(st->errors, st->name, st->line,
		           "required: '%s' is not a boolean (yes or no)", value);
	return 1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	const struct key_def *key;
	size_t index, before;

	if (st->section_cut)
		return 1; /* reported at the header */
	if (strncmp(section, "peer ", 5) == 0)
		return on_peer_key(st, section + 5, name, value);

	if (!section_known(section)) {
		/* A named unknown section was reported at its header line. */
		if (!*section)
			errors_add(st->errors, st->name, st->line, "'%s' is outside any [section]",
			           name);
		return 1;
	}
	key = find_key(section, name, &index);
	if (!key) {
		errors_add(st->errors, st->name, st->line, "unknown key '%s' in [%s]", name,
		           section);
		return 1;
	}
	if (st->seen_line[index] && key->type != KEY_NOTIFY) {
		errors_add(st->errors, st->name, st->line, "%s: set again (first set on line %d)",
		           name, st->seen_line[index]);
		return 1;
	}
	st->seen_line[index] = st->line;
	before = st->errors->count;
	set_value(st, key, value);
	st->refused[index] = st->errors->count > before;
	return 1; /* keep going: report every problem, not just the first */
}

/* libinih calls the handler for keys only, so an unknown section without
 * keys would pass unnoticed: headers are checked here, at their own line.
 * The name is taken as libinih takes it: everything between '[' and ']'. */
static void check_section_line(struct parse_state *st, const char *line)
{
	const char *close;
	char name[64];
	size_t len;

	while (isspace((unsigned char)*line))
		line++;
	if (*line != '[')
		return;
	close = strchr(line, ']');
	if (!close)
		return; /* libinih reports the syntax error */
	len = (size_t)(close - line - 1);
	st->section_cut = len >= CONFIG_SECTION_MAX;
	if (st->section_cut && strncmp(line + 1, "peer ", 5) == 0) {
		errors_add(st->errors, st->name, st->line,
		           "[peer %.*s...]: a peer name is at most %d characters, this one has %zu",
		           CONFIG_PEERNAME_MAX - 1, line + 6, CONFIG_PEERNAME_MAX - 1, len - 5);
		return;
	}
	if (st->section_cut) {
		errors_add(st->errors, st->name, st->line,
		           "[%.*s...]: a section name is at most %d characters, this one has %zu",
		           CONFIG_SECTION_MAX - 1, line + 1, CONFIG_SECTION_MAX - 1, len);
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)len, line + 1);
	if (!section_known(name))
		errors_add(st->errors, st->name, st->line, "unknown section [%s]", name);
}

/* libinih reader over an in-memory text: one line per call, so that our line
 * count matches libinih's. Lines that do not fit libinih's buffer are refused
 * here rather than silently split. */
static char *read_line(char *buf, int size, void *user)
{
	struct parse_state *st = user;
	const char *nl;
	size_t len;

	if (st->text >= st->end)
		return NULL;
	st->line++;
	nl = memchr(st->text, '\n', (size_t)(st->end - st->text));
	len = nl ? (size_t)(nl - st->text) + 1 : (size_t)(st->end - st->text);
	if (len > (size_t)size - 1) {
		errors_add(st->errors, st->name, st->line, "line too long (at most %d characters)",
		           size - 2);
		st->text += len;
		strcpy(buf, "\n");
		return buf;
	}
	memcpy(buf, st->text, len);
	buf[len] = '\0';
	st->text += len;
	check_section_line(st, buf);
	return buf;
}

/* The line where the file set a key, or 0 when it kept its default. */
static int key_line(const struct parse_state *st, const char *section, const char *name)
{
	size_t index;

	return find_key(section, name, &index) ? st->seen_line[index] : 0;
}

/* crypt(3)'s bcrypt form: $2a$, $2b$ or $2y$, a two-digit cost, then 53
 * characters of its base64 alphabet (salt and hash). */
static bool is_bcrypt_hash(const char *h)
{
	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
	    !isdigit((unsigned char)h[4]) || !isdigit((unsigned char)h[5]) || h[6] != '$')
		return false;
	for (const char *p = h + 7; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '/')
			return false;
	return true;
}

/* DNS names, comma or space separated: letters, digits, '-' and '.',
 * labels of 1 to 63 characters. */
static bool is_hostname_list(const char *p)
{
	while (*p) {
		size_t len = strcspn(p, ", "), label = 0;

		for (size_t i = 0; i < len; i++) {
			if (p[i] == '.') {
				if (label == 0)
					return false;
				label = 0;
			} else if ((isalnum((unsigned char)p[i]) || p[i] == '-') && label < 63) {
				label++;
			} else {
				return false;
			}
		}
		p += len;
		p += strspn(p, ", ");
	}
	return true;
}

/* Keys of [http] that only make sense together: refused here, with a line,
 * rather than when the server starts. */
static void validate_http(struct parse_state *st)
{
	const struct config *c = &st->cfg;
	int user = key_line(st, "http", "auth_user"), hash = key_line(st, "http", "auth_bcrypt");
	int cert = key_line(st, "http", "tls_cert"), key = key_line(st, "http", "tls_key");

	if (c->http_auth_user[0] && !c->http_auth_bcrypt[0])
		errors_add(st->errors, st->name, user,
		           "auth_user needs auth_bcrypt (the password's bcrypt hash)");
	if (c->http_auth_bcrypt[0] && !c->http_auth_user[0])
		errors_add(st->errors, st->name, hash, "auth_bcrypt needs auth_user");
	if (c->http_auth_bcrypt[0] && !is_bcrypt_hash(c->http_auth_bcrypt))
		errors_add(
		    st->errors, st->name, hash,
		    "auth_bcrypt: not a bcrypt hash ($2b$12$ and 53 more characters; make one "
		    "with htpasswd -nbB user password)");
	if (!c->http_tls_cert[0] != !c->http_tls_key[0])
		errors_add(st->errors, st->name, cert ? cert : key,
		           "tls_cert and tls_key go together: set both or neither");
	if (!is_hostname_list(c->http_hostnames))
		errors_add(st->errors, st->name, key_line(st, "http", "hostnames"),
		           "hostnames: not a list of DNS names (letters, digits, '-' and '.', "
		           "comma-separated)");
}

static void validate(struct parse_state *st)
{
	size_t crit, warn;

	/* Pairs are compared only when both values were accepted: a refused
	 * value already has its error, and the default in its place says
	 * nothing about the file. */
	if (find_key("memory", "critical_below", &crit) &&
	    find_key("memory", "warning_below", &warn) && !st->refused[crit] &&
	    !st->refused[warn] && st->cfg.memory_critical_bp >= st->cfg.memory_warning_bp) {
		char w[16], c[16];

		format_percent(st->cfg.memory_warning_bp, w, sizeof(w));
		format_percent(st->cfg.memory_critical_bp, c, sizeof(c));
		/* Point at the key the file set: with only one of them set, the
		 * other is a default and has no line. */
		errors_add(st->errors, st->name,
		           st->seen_line[crit] ? st->seen_line[crit] : st->seen_line[warn],
		           "critical_below (%s) must be lower than warning_below (%s)", c, w);
	}
	if (find_key("gpu", "temperature_critical", &crit) &&
	    find_key("gpu", "temperature_warning", &warn) && !st->refused[crit] &&
	    !st->refused[warn] &&
	    st->cfg.gpu_temperature_critical <= st->cfg.gpu_temperature_warning) {
		errors_add(st->errors, st->name,
		           st->seen_line[crit] ? st->seen_line[crit] : st->seen_line[warn],
		           "temperature_critical (%u) must be higher than temperature_warning (%u)",
		           st->cfg.gpu_temperature_critical, st->cfg.gpu_temperature_warning);
	}
	for (uint32_t i = 0; i < st->cfg.n_peers; i++) {
		const struct config_peer *peer = &st->cfg.peers[i];

		if (!st->peer_line[i][1]) {
			errors_add(st->errors, st->name, st->peer_line[i][0],
			           "[peer %s] has no public_key", peer->name);
			continue;
		}
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(st->cfg.peers[j].public_key, peer->public_key) == 0 &&
			    peer->public_key[0])
				errors_add(st->errors, st->name, st->peer_line[i][1],
				           "[peer %s] has the same public_key as [peer %s]",
				           peer->name, st->cfg.peers[j].name);
	}
	validate_http(st);
	for (uint32_t i = 0; i < st->cfg.n_alert_notify; i++)
		if (!st->notify_own_format[i])
			st->cfg.alert_notify_format[i] = st->cfg.alert_format;
	if (st->cfg.endpoint_expected_ip[0]) {
		struct in_addr a;

		if (find_key("endpoint", "expected_public_ip", &crit) &&
		    inet_pton(AF_INET, st->cfg.endpoint_expected_ip, &a) != 1)
			errors_add(st->errors, st->name, st->seen_line[crit],
			           "expected_public_ip: '%s' is not an IPv4 address",
			           st->cfg.endpoint_expected_ip);
	}
}

struct error_line {
	long line;
	size_t seq, offset, len;
};

static int compare_error_lines(const void *a, const void *b)
{
	const struct error_line *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Orders the messages of one load by line: the cross-checks run after the
 * parse and libinih reports its syntax error last, but a person reads the
 * file from the top. Messages without a line stay first. */
static void sort_errors(struct config_errors *errors, size_t start, const char *name)
{
	size_t n = 0, cap = 0, pos = start, total, prefix = strlen(name) + 1;
	struct error_line *lines = NULL;
	char *sorted;

	if (!errors->text || strlen(errors->text) == start)
		return; /* nothing new */
	total = strlen(errors->text);
	while (pos < total) {
		const char *p = errors->text + pos;
		size_t len = strcspn(p, "\n") + 1;

		if (n == cap) {
			struct error_line *grown =
			    realloc(lines, (cap = cap ? cap * 2 : 16) * sizeof(*lines));

			if (!grown)
				goto out;
			lines = grown;
		}
		lines[n] = (struct error_line){len > prefix ? strtol(p + prefix, NULL, 10) : 0, n,
		                               pos, len};
		n++;
		pos += len;
	}
	sorted = malloc(total - start + 1);
	if (!sorted)
		goto out;
	qsort(lines, n, sizeof(*lines), compare_error_lines);
	pos = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(sorted + pos, errors->text + lines[i].offset, lines[i].len);
		pos += lines[i].len;
	}
	memcpy(errors->text + start, sorted, total - start);
	free(sorted);
out:
	free(lines);
}

int config_load_string(const char *text, const char *name, struct config *ret,
                       struct config_errors *errors)
{
	struct parse_state *st;
	size_t before = errors->count;
	size_t start = errors->text ? strlen(errors->text) : 0;
	size_t len = strlen(text);
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	config_defaults(&st->cfg);
	snprintf(st->cfg.source, sizeof(st->cfg.source), "%s", name);
	st->errors = errors;
	st->name = name;
	st->text = text;
	st->end = text + len;
	/* An indented line is a key of its own, not a continuation of the one
	 * above: continuations would make every key a possible duplicate. */
	ini_allow_multiline = false;
	r = ini_parse_stream(read_line, st, on_key, st);
	if (r > 0)
		errors_add(errors, name, r, "syntax error: expected '[section]' or 'key = value'");
	else if (r < 0)
		errors_add(errors, name, 0, "cannot parse (out of memory)");
	validate(st);
	sort_errors(errors, start, name);
	r = errors->count > before ? -EINVAL : 0;
	if (r == 0)
		*ret = st->cfg;
	/* [alert] notify URLs may hold tokens: no copy is left in freed
	 * memory (see config_forget_secrets). */
	explicit_bzero(st, sizeof(*st));
	free(st);
	return r;
}

int config_read(const char *path, char **ret_text, size_t *ret_len)
{
	int r =
	    readfile_read(path ? path : CONFIG_DEFAULT_PATH, CONFIG_FILE_MAX, ret_text, ret_len);

	if (r == -ENOENT && !path) {
		*ret_text = NULL;
		*ret_len = 0;
		return 0;
	}
	return r;
}

int config_load_read(const char *path, int read_result, const char *text, size_t len,
                     struct config *ret, struct config_errors *errors)
{
	const char *name = path ? path : CONFIG_DEFAULT_PATH;
	char *copy;
	int r;

	if (read_result < 0) {
		errors_add(errors, name, 0, "%s",
		           read_result == -EFBIG ? "file too large" : strerror(-read_result));
		return read_result;
	}
	if (!text) {
		config_defaults(ret);
		return 0;
	}
	if (memchr(text, '\0', len)) {
		errors_add(errors, name, 0, "contains a NUL byte: not a text file");
		return -EINVAL;
	}
	/* The bytes may come from a message, without the NUL. */
	copy = strndup(text, len);
	if (!copy) {
		errors_add(errors, name, 0, "cannot parse (out of memory)");
		return -ENOMEM;
	}
	r = config_load_string(copy, name, ret, errors);
	explicit_bzero(copy, len);
	free(copy);
	return r;
}

int config_load(const char *path, struct config *ret, struct config_errors *errors)
{
	char *text = NULL;
	size_t len = 0;
	int r = config_read(path, &text, &len);

	r = config_load_read(path, r, text, len, ret, errors);
	if (text)
		explicit_bzero(text, len);
	free(text);
	return r;
}

/* ---- printing ------------------------------------------------------------ */

static void format_value(const struct config *cfg, const struct key_def *key, char *buf,
                         size_t size)
{
	const char *field = (const char *)cfg + key->offset;

	switch (key->type) {
	case KEY_DURATION: {
		uint64_t ms;

		memcpy(&ms, field, sizeof(ms));
		config_format_duration(ms, buf, size);
		return;
	}
	case KEY_PERCENT: {
		uint32_t bp;

		memcpy(&bp, field, sizeof(bp));
		format_percent(bp, buf, size);
		return;
	}
	case KEY_BOOL: {
		bool b;

		memcpy(&b, field, sizeof(b));
		snprintf(buf, size, "%s", b ? "yes" : "no");
		return;
	}
	case KEY_SWITCH: {
		enum config_switch sw;

		memcpy(&sw, field, sizeof(sw));
		snprintf(buf, size, "%s",
		         sw == CONFIG_SWITCH_YES  ? "yes"
		         : sw == CONFIG_SWITCH_NO ? "no"
		                                  : "auto");
		return;
	}
	case KEY_COUNT: {
		uint32_t n;

		memcpy(&n, field, sizeof(n));
		snprintf(buf, size, "%u", n);
		return;
	}
	case KEY_SIZE: {
		uint64_t n;

		memcpy(&n, field, sizeof(n));
		format_size(n, buf, size);
		return;
	}
	case KEY_IFNAMES:
		format_ifnames((const struct config_ifnames *)(const void *)field, buf, size);
		return;
	case KEY_FORMAT: {
		enum config_alert_format f;

		memcpy(&f, field, sizeof(f));
		snprintf(buf, size, "%s", config_alert_format_name(f));
		return;
	}
	case KEY_NOTIFY:
		buf[0] = '\0'; /* printed by print_notify */
		return;
	case KEY_TEXT:
	case KEY_URLS:
	case KEY_ENDPOINTS:
	case KEY_NETWORKS:
	case KEY_FILE:
	case KEY_PATH:
		snprintf(buf, size, "%s", field);
		return;
	}
}

/* The notification URLs only as comments, redacted: this output is meant
 * to be shown and pasted, and the URLs may hold tokens. They are the one
 * part of the configuration that does not survive the round trip. */
static void print_notify(const struct config *cfg, const struct key_def *key, FILE *out)
{
	char shown[CONFIG_NOTIFY_URL_MAX + 8];

	fprintf(out, "# %s\n", key->doc);
	if (!cfg->n_alert_notify)
		fprintf(out, "# %s: none\n", key->name);
	for (uint32_t i = 0; i < cfg->n_alert_notify; i++) {
		config_redact_url(cfg->alert_notify[i], shown, sizeof(shown));
		fprintf(out, "# %s = %s %s (path and query hidden)\n", key->name,
		        config_alert_format_name(cfg->alert_notify_format[i]), shown);
	}
}

void config_print(const struct config *cfg, FILE *out)
{
	const char *section = NULL;

	fprintf(out, "# sparkmon configuration, normalized (source: %s)\n",
	        cfg->source[0] ? cfg->source : "built-in defaults");
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const struct key_def *key = &config_keys[i];
		char value[CONFIG_PATH_MAX + 8];

		if (!section || strcmp(section, key->section) != 0) {
			section = key->section;
			fprintf(out, "\n[%s]\n", section);
		}
		if (key->type == KEY_NOTIFY) {
			print_notify(cfg, key, out);
			continue;
		}
		format_value(cfg, key, value, sizeof(value));
		fprintf(out, "# %s\n%s = %s\n", key->doc, key->name, value);
	}
	for (uint32_t i = 0; i < cfg->n_peers; i++)
		fprintf(
		    out,
		    "\n# a WireGuard peer by name; required: remote access through it must work\n"
		    "[peer %s]\npublic_key = %s\nrequired = %s\n",
		    cfg->peers[i].name, cfg->peers[i].public_key,
		    cfg->peers[i].required ? "yes" : "no");
}

int config_path(const struct config *cfg, const char *abs_path, char *buf, size_t size)
{
	const char *root = strcmp(cfg->root, "/") == 0 ? "" : cfg->root;
	int n = snprintf(buf, size, "%s%s", root, abs_path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void config_redact_url(const char *url, char *buf, size_t size)
{
	const char *sep = strstr(url, "://"), *host, *end, *at;

	if (!sep || sep == url) {
		snprintf(buf, size, "(not a URL)");
		return;
	}
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	/* user:password@host: the password is a secret too. */
	for (at = end; at > host && at[-1] != '@'; at--)
		;
	if (at > host)
		host = at;
	snprintf(buf, size, "%.*s://%.*s%s", (int)(sep - url), url, (int)(end - host), host,
	         *end && strcmp(end, "/") != 0 ? "/\u2026" : "/");
}

void config_forget_secrets(struct config *cfg)
{
	for (uint32_t i = 0; i < cfg->n_alert_notify; i++) {
		char shown[CONFIG_NOTIFY_URL_MAX];

		config_redact_url(cfg->alert_notify[i], shown, sizeof(shown));
		explicit_bzero(cfg->alert_notify[i], sizeof(cfg->alert_notify[i]));
		memcpy(cfg->alert_notify[i], shown, sizeof(shown));
	}
}
