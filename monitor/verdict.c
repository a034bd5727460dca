#include "monitor/verdict.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "monitor/fwcheck.h"
#include "monitor/human.h"
#include "monitor/probetab.h"
#include "monitor/routercheck.h"
#include "monitor/sshcheck.h"

/* Fills *out and returns true, or returns false when the check does not
 * apply (it is then absent from every output). */
typedef bool (*check_fn)(const struct config *cfg, const struct snapshot *snap, struct check *out);

struct check_def {
	const char *id;
	enum probe_id probe;
	check_fn evaluate;
	const char *probe_failed_hint; /* hint when the probe could not run */
};

void verdict_set_check(struct check *out, enum check_status status, const char *hint,
                       const char *fmt, ...)
{
	va_list ap;

	out->status = status;
	va_start(ap, fmt);
	vsnprintf(out->summary, sizeof(out->summary), fmt, ap);
	va_end(ap);
	snprintf(out->hint, sizeof(out->hint), "%s", status == CHECK_OK ? "" : hint);
	if (status == CHECK_OK)
		out->n_fix = 0;
}

/* True when part/total is below bp hundredths of a percent, exactly. */
static bool below_share(uint64_t part, uint64_t total, uint32_t bp)
{
	return (unsigned __int128)part * 10000 < (unsigned __int128)bp * total;
}

static bool check_memory_available(const struct config *cfg, const struct snapshot *snap,
                                   struct check *out)
{
	const struct meminfo *m = &snap->memory;
	char avail[32], total[32];
	double pct = m->total ? 100.0 * (double)m->available / (double)m->total : 0;
	enum check_status status = CHECK_OK;

	human_bytes(m->available, avail, sizeof(avail));
	human_bytes(m->total, total, sizeof(total));
	if (below_share(m->available, m->total, cfg->memory_critical_bp))
		status = CHECK_CRITICAL;
	else if (below_share(m->available, m->total, cfg->memory_warning_bp))
		status = CHECK_WARNING;
	verdict_set_check(out, status,
	                  "find what holds memory: ps -eo pid,rss,comm --sort=-rss | head; "
	                  "GPU jobs share it on unified-memory machines (nvidia-smi)",
	                  "%s available of %s (%.1f%%)", avail, total, pct);
	return true;
}

static bool check_forwarding_ipv4(const struct config *cfg, const struct snapshot *snap,
                                  struct check *out)
{
	(void)cfg;
	if (snap->forwarding.ipv4)
		verdict_set_check(out, CHECK_OK, "", "IPv4 forwarding is on");
	else
		verdict_set_check(
		    out, CHECK_CRITICAL, "sysctl -w net.ipv4.ip_forward=1",
		    "IPv4 forwarding is off: VPN clients reach this host only, nothing "
		    "behind it");
	return true;
}

/* What the words of a forwarding check change between the families. */
struct forwarding_family {
	const char *key;
	const char *dropin;        /* a file no other one replaces */
	const char *override_stem; /* sorts after the usual numbered names */
};

static const struct forwarding_family forwarding_ipv4_family = {
    "net.ipv4.ip_forward", "/etc/sysctl.d/99-sparkmon-ip-forward.conf", "z-sparkmon-ip-forward"};
static const struct forwarding_family forwarding_ipv6_family = {
    "net.ipv6.conf.all.forwarding", "/etc/sysctl.d/99-sparkmon-ipv6-forward.conf",
    "z-sparkmon-ipv6-forward"};

#define SYSCTL_APPLY "systemctl restart systemd-sysctl"

/* `sysctl --system` reads /etc/sysctl.conf once more at the end and keeps
 * a value through a refused one: named only where it ends elsewhere. */
static size_t procps_note(const struct forwarding_family *fam, const struct forwarding_boot *b,
                          char *buf, size_t size)
{
	bool systemd_on = b->value == 1, procps_on = b->procps_value == 1;

	if (systemd_on == procps_on)
		return 0;
	if (b->procps_value < 0)
		return (size_t)snprintf(buf, size, " (`sysctl --system` differs: it sets no %s)",
		                        fam->key);
	return (size_t)snprintf(buf, size,
	                        " (`sysctl --system` differs: it ends with %s:%d, %s = %d)",
	                        b->procps_file, b->procps_line, fam->key, b->procps_value);
}

/* A file under /etc is the admin's to edit; one shipped in /usr/lib or
 * /run is overridden by a file under /etc that sorts after it. */
static void boot_fix_hint(const struct forwarding_family *fam, const char *file, int line,
                          char *hint, size_t size)
{
	const char *base = strrchr(file, '/');
	char name[96];
	size_t z = 1;

	if (strncmp(file, "/etc/", 5) == 0) {
		snprintf(hint, size, "change line %d of %s to '%s = 1', then " SYSCTL_APPLY, line,
		         file, fam->key);
		return;
	}
	base = base ? base + 1 : file;
	/* As many z's as it takes to sort after the deciding file's name. */
	do
		snprintf(name, sizeof(name), "%.*s%s.conf", (int)z, "zzzzzzzzzzzzzzzz",
		         fam->override_stem);
	while (strcmp(name, base) <= 0 && ++z < 16);
	snprintf(hint, size,
	         "echo '%s = 1' > /etc/sysctl.d/%s (it sorts after %s) && " SYSCTL_APPLY, fam->key,
	         name, file);
}

/* The boot value of one family, as the next boot leaves it: the sysctl
 * files in systemd-sysctl's order, then the services that start after it. */
static void forwarding_boot_check(const struct forwarding_family *fam,
                                  const struct forwarding_boot *b, bool now, struct check *out)
{
	const char *lost = now ? ": forwarding is on now but a reboot turns it off" : "";
	char hint[CHECK_TEXT_MAX], note[CHECK_TEXT_MAX] = "";

	procps_note(fam, b, note, sizeof(note));
	if (b->value == 1) {
		verdict_set_check(out, CHECK_OK, "", "%s = 1 is set at boot by %s:%d%s", fam->key,
		                  b->file, b->line, note);
		return;
	}
	if (b->service == FORWARDING_BY_DOCKER && b->service_file[0])
		verdict_set_check(
		    out, CHECK_OK, "",
		    "%s is turned on at boot by Docker (%s is enabled and %s does not set "
		    "\"ip-forward\": false)",
		    fam->key, b->service_unit, b->service_file);
	else if (b->service == FORWARDING_BY_DOCKER)
		verdict_set_check(out, CHECK_OK, "",
		                  "%s is turned on at boot by Docker (%s is enabled, with no "
		                  "/etc/docker/daemon.json)",
		                  fam->key, b->service_unit);
	else if (b->service == FORWARDING_BY_WG_QUICK)
		verdict_set_check(out, CHECK_OK, "",
		                  "%s is turned on at boot by a PostUp of %s (%s is enabled)",
		                  fam->key, b->service_file, b->service_unit);
	else if (b->service == FORWARDING_BY_NETWORKD)
		verdict_set_check(
		    out, CHECK_OK, "",
		    "%s is turned on at boot by systemd-networkd: %s:%d (%s is enabled)", fam->key,
		    b->service_file, b->service_line, b->service_unit);
	if (b->service != FORWARDING_BY_NONE)
		return;
	if (b->refused_file[0]) {
		boot_fix_hint(fam, b->refused_file, b->refused_line, hint, sizeof(hint));
		verdict_set_check(
		    out, CHECK_WARNING, hint,
		    "%s:%d sets %s = '%s', which the kernel refuses; systemd-sysctl keeps only "
		    "the last assignment, so it stays off at boot%s%s",
		    b->refused_file, b->refused_line, fam->key, b->refused_value, lost, note);
		return;
	}
	if (b->value == 0) {
		boot_fix_hint(fam, b->file, b->line, hint, sizeof(hint));
		verdict_set_check(out, CHECK_WARNING, hint, "%s:%d sets %s = 0 at boot%s%s",
		                  b->file, b->line, fam->key, lost, note);
		return;
	}
	snprintf(hint, sizeof(hint), "echo '%s = 1' > %s && " SYSCTL_APPLY, fam->key, fam->dropin);
	verdict_set_check(out, CHECK_WARNING, hint, "no sysctl file sets %s%s%s", fam->key, lost,
	                  note);
}

static bool check_forwarding_persistent(const struct config *cfg, const struct snapshot *snap,
                                        struct check *out)
{
	if (!cfg->forwarding_check_persistent)
		return false;
	forwarding_boot_check(&forwarding_ipv4_family, &snap->forwarding.boot4,
	                      snap->forwarding.ipv4, out);
	return true;
}

/* Whether the VPN carries IPv6 is the probe's finding: without it the
 * check is absent, and forwarding.ipv4 already says UNKNOWN. */
static bool check_forwarding_ipv6_no_data(const struct config *cfg, const struct snapshot *snap,
                                          struct check *out)
{
	(void)cfg;
	(void)snap;
	(void)out;
	return false;
}

/* IPv6 now and at boot in one check; absent when the VPN carries no IPv6. */
static bool check_forwarding_ipv6(const struct config *cfg, const struct snapshot *snap,
                                  struct check *out)
{
	const struct forwarding *f = &snap->forwarding;
	char summary[CHECK_TEXT_MAX];

	if (!f->ipv6_carried)
		return false;
	if (f->ipv6_error[0]) {
		verdict_set_check(out, CHECK_UNKNOWN,
		                  "check that IPv6 is enabled: sysctl net.ipv6.conf.all.forwarding",
		                  "%s carries IPv6 but IPv6 forwarding cannot be read: %s",
		                  f->ipv6_carried_by, f->ipv6_error);
		return true;
	}
	if (!f->ipv6) {
		verdict_set_check(
		    out, CHECK_CRITICAL, "sysctl -w net.ipv6.conf.all.forwarding=1",
		    "IPv6 forwarding is off: %s carries IPv6, but VPN clients reach this host "
		    "only, nothing behind it",
		    f->ipv6_carried_by);
		return true;
	}
	if (!cfg->forwarding_check_persistent) {
		verdict_set_check(out, CHECK_OK, "", "IPv6 forwarding is on");
		return true;
	}
	forwarding_boot_check(&forwarding_ipv6_family, &f->boot6, true, out);
	snprintf(summary, sizeof(summary), "IPv6 forwarding is on now; %.*s",
	         (int)sizeof(summary) - 32, out->summary);
	snprintf(out->summary, sizeof(out->summary), "%s", summary);
	return true;
}

/* ---- gpu ----------------------------------------------------------------- */

#define GPU_DRIVER_HINT                                                                            \
	"after a driver upgrade a reboot loads the new kernel module; "                            \
	"look for NVRM and Xid lines: dmesg | grep -i -e nvrm -e xid"

static bool check_gpu_available(const struct config *cfg, const struct snapshot *snap,
                                struct check *out)
{
	const struct gpu *g = &snap->gpu;
	const struct gpu_device *d = &g->devices[0];
	char hint[CHECK_TEXT_MAX];

	if (g->total == 0) {
		snprintf(hint, sizeof(hint), "run %s by hand; " GPU_DRIVER_HINT,
		         cfg->gpu_nvidia_smi);
		verdict_set_check(out, cfg->gpu_expected ? CHECK_CRITICAL : CHECK_WARNING, hint,
		                  "nvidia-smi answers but reports no GPU%s",
		                  cfg->gpu_expected ? ""
		                                    : " (none is expected: [gpu] expected = no)");
		return true;
	}
	if (g->unparsed_lines) {
		snprintf(hint, sizeof(hint),
		         "run %s by hand and look for the GPU it leaves out; %s",
		         cfg->gpu_nvidia_smi, GPU_DRIVER_HINT);
		verdict_set_check(out, CHECK_WARNING, hint, "%u GPU%s read, %u line%s not: %s",
		                  g->total, g->total == 1 ? "" : "s", g->unparsed_lines,
		                  g->unparsed_lines == 1 ? "" : "s", g->first_unparsed);
		return true;
	}
	verdict_set_check(out, CHECK_OK, "", "%u GPU%s: %s, driver %s%s", g->total,
	                  g->total == 1 ? "" : "s", d->name[0] ? d->name : "(no name)",
	                  d->driver_version[0] ? d->driver_version : "unknown",
	                  g->unified_memory ? ", unified memory" : "");
	return true;
}

/* The GPU probe gave no data. Without nvidia-smi there is no GPU to judge,
 * which is fine unless one is expected; a failing nvidia-smi is a driver
 * in trouble. */
static bool check_gpu_available_no_data(const struct config *cfg, const struct snapshot *snap,
                                        struct check *out)
{
	const struct probe_outcome *p = &snap->probes[PROBE_GPU];
	char hint[CHECK_TEXT_MAX];

	if (p->status == PROBE_SKIPPED) {
		if (!cfg->gpu_expected)
			return false;
		verdict_set_check(
		    out, CHECK_CRITICAL,
		    "install the NVIDIA driver and its utilities (nvidia-smi), or set "
		    "[gpu] nvidia_smi to where nvidia-smi is",
		    "%s, but a GPU is expected ([gpu] expected = yes)", p->error);
		return true;
	}
	snprintf(hint, sizeof(hint), "nvidia-smi said: %.160s; run %.120s by hand; %s", p->error,
	         cfg->gpu_nvidia_smi, GPU_DRIVER_HINT);
	verdict_set_check(out, cfg->gpu_expected ? CHECK_CRITICAL : CHECK_UNKNOWN, hint,
	                  "nvidia-smi %s: %s",
	                  p->status == PROBE_TIMED_OUT ? "timed out" : "failed", p->error);
	return true;
}

static void gpu_appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends to a NUL-terminated buffer, cutting what does not fit. */
static void gpu_appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static bool check_gpu_temperature(const struct config *cfg, const struct snapshot *snap,
                                  struct check *out)
{
	const struct gpu *g = &snap->gpu;
	const struct gpu_device *hot = gpu_hottest(g);
	enum check_status status = CHECK_OK;
	char text[CHECK_TEXT_MAX] = "", missing[CHECK_TEXT_MAX] = "";

	if (g->count == 0)
		return false;
	if (!hot) {
		verdict_set_check(out, CHECK_UNKNOWN, "nvidia-smi -q -d TEMPERATURE",
		                  "no GPU reports its temperature");
		return true;
	}
	for (unsigned i = 0; i < g->count; i++) {
		const struct gpu_device *d = &g->devices[i];
		enum check_status s = CHECK_OK;

		if (!d->has_temperature) {
			gpu_appendf(missing, sizeof(missing), "%s%u", missing[0] ? ", " : "",
			            d->index);
			continue;
		}
		if (d->temperature_c >= cfg->gpu_temperature_critical)
			s = CHECK_CRITICAL;
		else if (d->temperature_c >= cfg->gpu_temperature_warning)
			s = CHECK_WARNING;
		if (s == CHECK_OK)
			continue;
		if (verdict_severity(s) > verdict_severity(status))
			status = s;
		gpu_appendf(text, sizeof(text), "%sGPU %u at %.0f C", text[0] ? ", " : "", d->index,
		            d->temperature_c);
	}
	if (status == CHECK_OK && g->count == 1)
		snprintf(text, sizeof(text), "GPU %u at %.0f C", hot->index, hot->temperature_c);
	else if (status == CHECK_OK)
		snprintf(text, sizeof(text), "hottest of %u GPUs: GPU %u at %.0f C", g->count,
		         hot->index, hot->temperature_c);
	verdict_set_check(out, status,
	                  "check cooling and load: nvidia-smi -q -d TEMPERATURE,PERFORMANCE "
	                  "(clocks slow down near the slowdown temperature)",
	                  "%s (WARNING at %u C, CRITICAL at %u C)%s%s", text,
	                  cfg->gpu_temperature_warning, cfg->gpu_temperature_critical,
	                  missing[0] ? "; no reading from GPU " : "", missing);
	return true;
}

/* ---- wireguard ----------------------------------------------------------- */

#define WIREGUARD_PERM_HINT                                                                        \
	"run sparkmon as root or grant it CAP_NET_ADMIN (systemd: "                                \
	"AmbientCapabilities=CAP_NET_ADMIN)"
/* Userspace implementations keep their sockets in /var/run/wireguard, which
 * is root-only: CAP_NET_ADMIN does not open it. */
#define WIREGUARD_SOCKET_PERM_HINT                                                                 \
	"run sparkmon as root or grant it CAP_DAC_OVERRIDE to open /var/run/wireguard (systemd: "  \
	"AmbientCapabilities=CAP_NET_ADMIN CAP_DAC_OVERRIDE)"

/* WireGuard's own timer: a session is rejected this long after its
 * handshake (REJECT_AFTER_TIME in the protocol). A peer that keeps talking
 * re-handshakes before it, so a younger handshake means "connected". */
#define REJECT_AFTER_TIME 180

int64_t verdict_peer_age(const struct wireguard_peer *p, time_t now)
{
	int64_t age;

	if (p->last_handshake <= 0)
		return -1;
	age = (int64_t)now - p->last_handshake;
	return age < 0 ? 0 : age;
}

enum verdict_peer_state verdict_peer_state(const struct config *cfg, const struct wireguard_peer *p,
                                           time_t now)
{
	int64_t age = verdict_peer_age(p, now);

	if (age < 0)
		return VERDICT_PEER_NEVER;
	/* A live session re-handshakes before REJECT_AFTER_TIME; allow one
	 * poll interval on top for the time between our looks. */
	if ((uint64_t)age * 1000 <= (uint64_t)REJECT_AFTER_TIME * 1000 + cfg->interval_ms)
		return VERDICT_PEER_UP;
	if ((uint64_t)age * 1000 <= cfg->wireguard_stale_after_ms)
		return VERDICT_PEER_STALE;
	return VERDICT_PEER_DOWN;
}

const char *verdict_peer_state_name(enum verdict_peer_state state)
{
	switch (state) {
	case VERDICT_PEER_NEVER:
		return "never";
	case VERDICT_PEER_UP:
		return "up";
	case VERDICT_PEER_STALE:
		return "stale";
	case VERDICT_PEER_DOWN:
		return "down";
	}
	return "unknown";
}

/* Appends "; "-separated parts to a summary, marking a cut with "...". */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	int n;

	if (len + 4 >= size)
		return;
	if (len)
		len += (size_t)snprintf(buf + len, size - len, "; ");
	va_start(ap, fmt);
	n = vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - len)
		memcpy(buf + size - 4, "...", 4);
}

static bool wireguard_not_permitted(const struct wireguard_device *dev)
{
	return dev->error == -EPERM || dev->error == -EACCES;
}

static const char *wireguard_perm_hint(const struct wireguard_device *dev)
{
	return dev->backend == WIREGUARD_BACKEND_USERSPACE ? WIREGUARD_SOCKET_PERM_HINT
	                                                   : WIREGUARD_PERM_HINT;
}

/* Why a watched interface does not carry traffic, or NULL when it does. */
static const char *wireguard_interface_problem(const struct wireguard_device *dev)
{
	if (!dev->link_found && dev->backend == WIREGUARD_BACKEND_NONE)
		return "does not exist";
	if (dev->error == -ENOTSUP || dev->error == -ECONNREFUSED || dev->error == -ENODEV)
		return dev->error_text;
	if (!dev->link_found)
		return "has a userspace socket but no network interface in this namespace";
	if (!dev->link_up)
		return "is down";
	return NULL;
}

static bool check_wireguard_interface(const struct config *cfg, const struct snapshot *snap,
                                      struct check *out)
{
	const struct wireguard *wg = &snap->wireguard;
	char ok[CHECK_TEXT_MAX] = "", bad[CHECK_TEXT_MAX] = "", hint[CHECK_TEXT_MAX] = "";

	(void)cfg;
	if (wg->n_devices == 0 && wg->socket_dir_error) {
		verdict_set_check(
		    out, CHECK_UNKNOWN, WIREGUARD_SOCKET_PERM_HINT,
		    "no kernel WireGuard interface, and userspace ones cannot be seen: "
		    "/var/run/wireguard is not readable");
		return true;
	}
	if (wg->n_devices == 0) {
		verdict_set_check(out, CHECK_CRITICAL,
		                  "wg-quick up <name> (or systemctl enable --now wg-quick@<name>); "
		                  "check with: ip -d link show type wireguard",
		                  "no WireGuard interface found");
		return true;
	}
	for (size_t i = 0; i < wg->n_devices; i++) {
		const struct wireguard_device *dev = &wg->devices[i];
		const char *problem = wireguard_interface_problem(dev);
		char addr[64] = "";

		if (problem) {
			if (!hint[0])
				snprintf(hint, sizeof(hint),
				         "systemctl start wg-quick@%s (or wg-quick up %s); "
				         "journalctl -u wg-quick@%s if it does not stay up",
				         dev->name, dev->name, dev->name);
			append(bad, sizeof(bad), "%s %s", dev->name, problem);
			continue;
		}
		if (dev->n_addresses)
			wireguard_format_ip(&dev->addresses[0], addr, sizeof(addr));
		append(ok, sizeof(ok), "%s up%s%s%s", dev->name, addr[0] ? " (" : "", addr,
		       addr[0] ? ")" : "");
	}
	/* Problems only when there are any: the working ones are not news. */
	if (bad[0])
		verdict_set_check(out, CHECK_CRITICAL, hint, "%s", bad);
	else
		verdict_set_check(out, CHECK_OK, "", "%s", ok);
	return true;
}

static bool check_wireguard_listen_port(const struct config *cfg, const struct snapshot *snap,
                                        struct check *out)
{
	const struct wireguard *wg = &snap->wireguard;
	char summary[CHECK_TEXT_MAX] = "", hint[CHECK_TEXT_MAX] = "";
	enum check_status status = CHECK_OK;
	bool applies = false;

	for (size_t i = 0; i < wg->n_devices; i++) {
		const struct wireguard_device *dev = &wg->devices[i];
		int expected = cfg->wireguard_listen_port ? (int)cfg->wireguard_listen_port
		                                          : dev->wgquick_listen_port;
		const char *source =
		    cfg->wireguard_listen_port ? "sparkmon's config" : dev->wgquick_path;

		if (expected <= 0 ||
		    (dev->backend == WIREGUARD_BACKEND_NONE && !wireguard_not_permitted(dev)))
			continue;
		applies = true;
		if (dev->error) {
			if (verdict_severity(CHECK_UNKNOWN) > verdict_severity(status)) {
				status = CHECK_UNKNOWN;
				snprintf(hint, sizeof(hint), "%s",
				         wireguard_not_permitted(dev) ? wireguard_perm_hint(dev)
				                                      : "wg show to see the port");
			}
			append(summary, sizeof(summary), "%s: port unknown (%s)", dev->name,
			       dev->error_text);
			continue;
		}
		if (dev->listen_port == expected) {
			append(summary, sizeof(summary), "%s listens on UDP %d as expected",
			       dev->name, expected);
			continue;
		}
		if (status != CHECK_CRITICAL)
			snprintf(hint, sizeof(hint),
			         "the router forwards UDP %d: wg set %s listen-port %d, and set "
			         "ListenPort = %d in %s so that it stays",
			         expected, dev->name, expected, expected,
			         dev->wgquick_path[0] ? dev->wgquick_path : "the wg-quick file");
		status = CHECK_CRITICAL;
		if (dev->listen_port)
			append(summary, sizeof(summary),
			       "%s listens on UDP %u, expected %d (from %s)", dev->name,
			       dev->listen_port, expected, source);
		else
			append(summary, sizeof(summary),
			       "%s has no listen port, expected %d (from %s)", dev->name, expected,
			       source);
	}
	if (!applies)
		return false; /* nothing says which port the router forwards */
	verdict_set_check(out, status, hint, "%s", summary);
	return true;
}

static bool check_wireguard_peers(const struct config *cfg, const struct snapshot *snap,
                                  struct check *out)
{
	const struct wireguard *wg = &snap->wireguard;
	char detail[CHECK_TEXT_MAX] = "", hint[CHECK_TEXT_MAX] = "", age[32];
	enum check_status status = CHECK_OK;
	size_t peers = 0, up = 0;

	for (size_t i = 0; i < wg->n_devices; i++) {
		const struct wireguard_device *dev = &wg->devices[i];

		if (dev->error && dev->link_found) {
			/* It exists but its peers could not be read: never OK. */
			if (verdict_severity(CHECK_UNKNOWN) > verdict_severity(status)) {
				status = CHECK_UNKNOWN;
				snprintf(hint, sizeof(hint), "%s",
				         wireguard_not_permitted(dev) ? wireguard_perm_hint(dev)
				                                      : "run wg show to compare");
			}
			append(detail, sizeof(detail), "peers of %s unknown: %s", dev->name,
			       dev->error_text);
			continue;
		}
		for (size_t j = 0; j < dev->n_peers; j++) {
			const struct wireguard_peer *p = &dev->peers[j];
			enum verdict_peer_state state =
			    verdict_peer_state(cfg, p, wg->collected_at);
			enum check_status s = CHECK_OK;

			peers++;
			up += state == VERDICT_PEER_UP;
			if (!p->required || state == VERDICT_PEER_UP)
				continue;
			s = state == VERDICT_PEER_STALE ? CHECK_WARNING : CHECK_CRITICAL;
			if (state == VERDICT_PEER_NEVER) {
				append(detail, sizeof(detail), "required %s never connected",
				       p->name[0] ? p->name : p->public_key);
			} else {
				human_age((uint64_t)verdict_peer_age(p, wg->collected_at), age,
				          sizeof(age));
				append(detail, sizeof(detail),
				       "required %s is %s (last handshake %s ago)",
				       p->name[0] ? p->name : p->public_key,
				       verdict_peer_state_name(state), age);
			}
			if (verdict_severity(s) > verdict_severity(status)) {
				status = s;
				snprintf(
				    hint, sizeof(hint),
				    "on the client %s: is it online, is its Endpoint this server's "
				    "public address and port, PersistentKeepalive = 25? Here: wg "
				    "show %s latest-handshakes",
				    p->name[0] ? p->name : "", dev->name);
			}
		}
	}
	for (size_t i = 0; i < wg->n_missing_required; i++) {
		append(detail, sizeof(detail), "required %s is not a peer of any watched interface",
		       wg->missing_required[i]);
		if (verdict_severity(CHECK_CRITICAL) > verdict_severity(status)) {
			status = CHECK_CRITICAL;
			snprintf(hint, sizeof(hint),
			         "add it: wg set <interface> peer <public key> allowed-ips <its "
			         "address>/32, and a [Peer] section in the wg-quick file");
		}
	}
	verdict_set_check(out, status, hint, "%zu peer%s, %zu up%s%s", peers, peers == 1 ? "" : "s",
	                  up, detail[0] ? "; " : "", detail);
	return true;
}

/* ---- endpoint ------------------------------------------------------------- */

static bool check_endpoint_public_ip(const struct config *cfg, const struct snapshot *snap,
                                     struct check *out)
{
	const struct endpoint *ep = &snap->endpoint;
	char hint[CHECK_TEXT_MAX], since[32] = "", names[128] = "";
	bool resolves = false;

	if (!ep->have_ip) {
		const struct endpoint_request *last =
		    ep->n_attempts ? &ep->attempts[ep->n_attempts - 1] : NULL;

		/* No attempt means no URL: an empty [endpoint] ip_urls switches
		 * the check off. */
		if (!last)
			return false;
		snprintf(hint, sizeof(hint), "check that this host reaches it: curl -4 -sS %s",
		         last->url);
		verdict_set_check(
		    out, CHECK_UNKNOWN, hint, "public IP unknown: %zu URL%s failed, last %s: %s",
		    ep->n_attempts, ep->n_attempts == 1 ? "" : "s", last->url, last->error);
		return true;
	}
	if (cfg->endpoint_expected_ip[0] && strcmp(cfg->endpoint_expected_ip, ep->public_ip) != 0) {
		snprintf(
		    hint, sizeof(hint),
		    "the ISP changed the address: set Endpoint = %s:<port> in every client (or "
		    "update the DNS name), then expected_public_ip = %s in sparkmon.conf",
		    ep->public_ip, ep->public_ip);
		verdict_set_check(
		    out, CHECK_CRITICAL, hint,
		    "public IP is %s, expected %s: clients' Endpoint no longer points home",
		    ep->public_ip, cfg->endpoint_expected_ip);
		return true;
	}
	if (ep->hostname[0]) {
		size_t n = 0;

		for (size_t i = 0; i < ep->n_hostname_ips; i++) {
			resolves = resolves || strcmp(ep->hostname_ips[i], ep->public_ip) == 0;
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
			                      ep->hostname_ips[i]);
			if (n >= sizeof(names))
				break;
		}
		if (ep->hostname_error[0]) {
			snprintf(hint, sizeof(hint), "check the DNS record: getent ahostsv4 %s",
			         ep->hostname);
			verdict_set_check(out, CHECK_WARNING, hint,
			                  "public IP is %s; %s does not resolve: %s", ep->public_ip,
			                  ep->hostname, ep->hostname_error);
			return true;
		}
		if (!resolves) {
			snprintf(hint, sizeof(hint),
			         "update the DNS record of %s to %s (is the dynamic DNS client "
			         "running?)",
			         ep->hostname, ep->public_ip);
			verdict_set_check(
			    out, CHECK_CRITICAL, hint,
			    "%s resolves to %s, but the public IP is %s: clients using the name "
			    "cannot connect",
			    ep->hostname, names, ep->public_ip);
			return true;
		}
	}
	if (ep->have_remembered) {
		struct tm tm;

		strftime(since, sizeof(since), "%Y-%m-%d %H:%M",
		         localtime_r(&ep->remembered_since, &tm));
	}
	if (!cfg->endpoint_expected_ip[0] && ep->have_remembered &&
	    strcmp(ep->remembered_ip, ep->public_ip) != 0) {
		snprintf(hint, sizeof(hint),
		         "set Endpoint = %s:<port> in every client (or update the DNS name); then "
		         "acknowledge: rm %s",
		         ep->public_ip, ep->state_path);
		verdict_set_check(
		    out, CHECK_WARNING, hint,
		    "public IP changed from %s (seen since %s) to %s: clients' Endpoint may "
		    "point to the old one",
		    ep->remembered_ip, since, ep->public_ip);
		return true;
	}
	if (cfg->endpoint_expected_ip[0])
		verdict_set_check(out, CHECK_OK, "", "public IP is %s, as expected%s%s",
		                  ep->public_ip, resolves ? "; so does " : "",
		                  resolves ? ep->hostname : "");
	else if (ep->have_remembered)
		verdict_set_check(out, CHECK_OK, "", "public IP is %s, %s %s%s%s", ep->public_ip,
		                  ep->remembered_now ? "remembered now in" : "unchanged since",
		                  since, resolves ? "; so does " : "",
		                  resolves ? ep->hostname : "");
	else
		verdict_set_check(out, CHECK_OK, "", "public IP is %s (not remembered: %s)",
		                  ep->public_ip,
		                  ep->state_error[0] ? ep->state_error : "no state file");
	return true;
}

static bool check_endpoint_probes(const struct config *cfg, const struct snapshot *snap,
                                  struct check *out)
{
	const struct endpoint *ep = &snap->endpoint;
	char summary[CHECK_TEXT_MAX] = "", hint[CHECK_TEXT_MAX] = "";
	size_t failed = 0, n = 0;
	double slowest = 0;

	(void)cfg;
	if (ep->n_probes == 0)
		return false;
	for (size_t i = 0; i < ep->n_probes; i++) {
		const struct endpoint_request *r = &ep->probes[i];

		if (r->total_seconds > slowest)
			slowest = r->total_seconds;
		if (r->ok)
			continue;
		if (!failed++)
			snprintf(hint, sizeof(hint),
			         "try it by hand: curl -sS -o /dev/null -w '%%{http_code}\\n' %s",
			         r->url);
		if (n < sizeof(summary))
			n += (size_t)snprintf(summary + n, sizeof(summary) - n, "%s%s: %s",
			                      failed > 1 ? "; " : "", r->url, r->error);
	}
	if (failed)
		verdict_set_check(out, CHECK_WARNING, hint, "%zu of %zu URLs not reached: %s",
		                  failed, ep->n_probes, summary);
	else
		verdict_set_check(out, CHECK_OK, "", "%zu URL%s reached, slowest in %.2f s",
		                  ep->n_probes, ep->n_probes == 1 ? "" : "s", slowest);
	return true;
}

static const struct check_def check_defs[] = {
    {"memory.available", PROBE_MEMORY, check_memory_available,
     "check that /proc/meminfo is readable: cat /proc/meminfo"},
    {"forwarding.ipv4", PROBE_FORWARDING, check_forwarding_ipv4,
     "check that /proc/sys/net/ipv4/ip_forward is readable"},
    {"forwarding.persistent", PROBE_FORWARDING, check_forwarding_persistent,
     "check that /proc/sys/net/ipv4/ip_forward is readable"},
    {"forwarding.ipv6", PROBE_FORWARDING, check_forwarding_ipv6,
     "check that /proc/sys/net/ipv4/ip_forward is readable"},
    {"gpu.available", PROBE_GPU, check_gpu_available, "run nvidia-smi by hand"},
    {"gpu.temperature", PROBE_GPU, check_gpu_temperature, "run nvidia-smi by hand"},
    {"wireguard.interface", PROBE_WIREGUARD, check_wireguard_interface,
     "check that rtnetlink works here: ip -d link show type wireguard"},
    {"wireguard.listen_port", PROBE_WIREGUARD, check_wireguard_listen_port,
     "check that rtnetlink works here: ip -d link show type wireguard"},
    {"wireguard.peers", PROBE_WIREGUARD, check_wireguard_peers,
     "check that rtnetlink works here: ip -d link show type wireguard"},
    {"firewall.forward", PROBE_FIREWALL, fwcheck_forward,
     "run iptables-save as root; sparkmon needs CAP_NET_ADMIN to read the rules"},
    {"firewall.forward6", PROBE_FIREWALL, fwcheck_forward6,
     "run ip6tables-save as root; sparkmon needs CAP_NET_ADMIN to read the rules"},
    {"firewall.masquerade", PROBE_FIREWALL, fwcheck_masquerade,
     "run iptables-save as root; sparkmon needs CAP_NET_ADMIN to read the rules"},
    {"firewall.uplink", PROBE_FIREWALL, fwcheck_uplink,
     "run iptables-save as root; sparkmon needs CAP_NET_ADMIN to read the rules"},
    {"endpoint.public_ip", PROBE_ENDPOINT, check_endpoint_public_ip,
     "check the network and [endpoint] in sparkmon.conf"},
    {"endpoint.probes", PROBE_ENDPOINT, check_endpoint_probes,
     "check the network and [endpoint] in sparkmon.conf"},
    {"ssh.listening", PROBE_SSH, sshcheck_listening,
     "run ss -ltn as root; sparkmon reads listening sockets over NETLINK_SOCK_DIAG"},
    {"ssh.banner", PROBE_SSH, sshcheck_banner,
     "run ss -ltn as root; sparkmon reads listening sockets over NETLINK_SOCK_DIAG"},
    {"ssh.firewall", PROBE_FIREWALL, sshcheck_firewall,
     "run iptables-save as root; sparkmon needs CAP_NET_ADMIN to read the rules"},
    {"router.port_forward", PROBE_ROUTER, routercheck_port_forward,
     "ask the router by hand: upnpc -s (UPnP), natpmpc (NAT-PMP)"},
    {"router.cgnat", PROBE_ROUTER, routercheck_cgnat,
     "ask the router by hand: upnpc -s (UPnP), natpmpc (NAT-PMP)"},
    {"endpoint.public_ip6", PROBE_ENDPOINT, routercheck_public_ip6,
     "check the network and [endpoint] in sparkmon.conf"},
};
#define CHECK_DEF_COUNT (sizeof(check_defs) / sizeof(check_defs[0]))

const char *verdict_check_id(size_t i)
{
	return i < CHECK_DEF_COUNT ? check_defs[i].id : NULL;
}

const char *verdict_status_upper(enum check_status status)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

	return (unsigned)status < 4 ? names[status] : "UNKNOWN";
}

const char *verdict_status_lower(enum check_status status)
{
	static const char *const names[] = {"ok", "warning", "critical", "unknown"};

	return (unsigned)status < 4 ? names[status] : "unknown";
}

int verdict_severity(enum check_status status)
{
	static const int rank[] = {
	    [CHECK_OK] = 0, [CHECK_WARNING] = 1, [CHECK_UNKNOWN] = 2, [CHECK_CRITICAL] = 3};

	return (unsigned)status < 4 ? rank[status] : 2;
}

/* "forwarding" selects forwarding.*, "forwarding.ipv4" selects itself. */
static bool pattern_matches(const char *pattern, const char *id)
{
	size_t len = strlen(pattern);

	return strcmp(pattern, id) == 0 || (strncmp(pattern, id, len) == 0 && id[len] == '.');
}

static bool selected(const struct check_filter *filter, const char *id)
{
	if (!filter || filter->count == 0)
		return true;
	for (size_t i = 0; i < filter->count; i++)
		if (pattern_matches(filter->patterns[i], id))
			return true;
	return false;
}

int verdict_parse_filter(char *list, struct check_filter *ret, char *bad, size_t badlen)
{
	struct check_filter filter = {.count = 0};
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < CHECK_DEF_COUNT && !known; i++)
			known = pattern_matches(tok, check_defs[i].id);
		if (!known || filter.count == VERDICT_CHECKS_MAX) {
			snprintf(bad, badlen, "%s", tok);
			return -EINVAL;
		}
		filter.patterns[filter.count++] = tok;
	}
	if (filter.count == 0) {
		snprintf(bad, badlen, "(empty list)");
		return -EINVAL;
	}
	*ret = filter;
	return 0;
}

unsigned verdict_probe_mask(const struct check_filter *filter)
{
	unsigned mask = 0;

	for (size_t i = 0; i < CHECK_DEF_COUNT; i++)
		if (selected(filter, check_defs[i].id))
			mask |= 1u << check_defs[i].probe;
	/* A unified-memory GPU (GB10) has no memory figure of its own: the
	 * outputs give the system's, so the cheap memory probe comes along. */
	if (mask & (1u << PROBE_GPU))
		mask |= 1u << PROBE_MEMORY;
	return mask;
}

/* Checks that judge a probe without data themselves, instead of the rule
 * below: an expected GPU that is missing is CRITICAL, not absent. */
static const struct {
	const char *id;
	check_fn evaluate;
} no_data_defs[] = {
    {"gpu.available", check_gpu_available_no_data},
    {"forwarding.ipv6", check_forwarding_ipv6_no_data},
};

static check_fn no_data_judge(const char *id)
{
	for (size_t i = 0; i < sizeof(no_data_defs) / sizeof(no_data_defs[0]); i++)
		if (strcmp(no_data_defs[i].id, id) == 0)
			return no_data_defs[i].evaluate;
	return NULL;
}

/* A probe that could not run leaves its checks UNKNOWN, never OK. */
static bool evaluate_one(const struct check_def *def, const struct config *cfg,
                         const struct snapshot *snap, struct check *out)
{
	const struct probe_outcome *probe = &snap->probes[def->probe];

	snprintf(out->id, sizeof(out->id), "%s", def->id);
	if (probe->status != PROBE_OK && probe->status != PROBE_NOT_RUN && no_data_judge(def->id))
		return no_data_judge(def->id)(cfg, snap, out);
	switch (probe->status) {
	case PROBE_OK:
		return def->evaluate(cfg, snap, out);
	case PROBE_SKIPPED:
		return false;
	case PROBE_NOT_RUN:
		verdict_set_check(out, CHECK_UNKNOWN, def->probe_failed_hint,
		                  "%s probe did not run", probetab[def->probe].name);
		return true;
	case PROBE_TIMED_OUT:
	case PROBE_FAILED:
		break;
	}
	verdict_set_check(out, CHECK_UNKNOWN, def->probe_failed_hint, "%s probe %s: %s",
	                  probetab[def->probe].name,
	                  probe->status == PROBE_TIMED_OUT ? "timed out" : "failed", probe->error);
	return true;
}

/* A selection (check --only) of which no check applies here says so, as
 * UNKNOWN: "0 of 0 checks OK" would pass for a working VPN in cron. */
static void none_selected_applies(const struct check_filter *filter, struct verdict *ret)
{
	struct check *c = &ret->checks[0];
	char ids[CHECK_TEXT_MAX / 2] = "";
	size_t n = 0;

	for (size_t i = 0; i < CHECK_DEF_COUNT && n < sizeof(ids); i++)
		if (selected(filter, check_defs[i].id))
			n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%s", n ? ", " : "",
			                      check_defs[i].id);
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "selection");
	verdict_set_check(
	    c, CHECK_UNKNOWN, "run sparkmon check without --only to see the checks that apply here",
	    "none of the selected checks applies here: %s (each is absent: what it watches "
	    "is not set up or not configured)",
	    ids);
	ret->count = 1;
	ret->overall = CHECK_UNKNOWN;
}

void verdict_evaluate(const struct config *cfg, const struct snapshot *snap,
                      const struct check_filter *filter, struct verdict *ret)
{
	ret->count = 0;
	ret->overall = CHECK_OK;
	for (size_t i = 0; i < CHECK_DEF_COUNT && ret->count < VERDICT_CHECKS_MAX; i++) {
		struct check *c = &ret->checks[ret->count];

		if (!selected(filter, check_defs[i].id))
			continue;
		memset(c, 0, sizeof(*c));
		if (!evaluate_one(&check_defs[i], cfg, snap, c))
			continue;
		if (verdict_severity(c->status) > verdict_severity(ret->overall))
			ret->overall = c->status;
		ret->count++;
	}
	if (filter && filter->count && ret->count == 0)
		none_selected_applies(filter, ret);
}
