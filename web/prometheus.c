/* Prometheus exposition.
 *
 * One static function per area (area_build, area_checks, area_probes,
 * area_memory, area_forwarding, ...), listed in `areas` at the bottom. An area
 * that lands later adds its function and one line in that list; nothing else
 * changes. Inside an area, each family is written as
 *
 *     family(e, "name_bytes_total", TYPE_COUNTER, "help text");
 *     sample_u64(e, value, "label", label_value, ..., NULL);
 *
 * family() only records the header: it is written before the family's first
 * sample, so a family without samples (absent data) is absent altogether,
 * and each family is contiguous with its HELP and TYPE first because its
 * samples follow its family() call. Name counters with their "_total"
 * suffix; the OpenMetrics variant drops it from HELP and TYPE by itself.
 * Label values are escaped here (\\, \", \n), whatever they contain. */
#include "web/prometheus.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "monitor/probetab.h"
#include "monitor/routercheck.h"
#include "monitor/sshcheck.h"
#include "probes/array.h"
#include "probes/text.h"

enum metric_type { TYPE_GAUGE, TYPE_COUNTER };

struct expo {
	/* The buffer being written: the text format's, except while an
	 * OpenMetrics header is written into the other one (swap_buffers). */
	char *buf;
	size_t len, cap;
	char *alt_buf;
	size_t alt_len, alt_cap;
	bool oom;
	struct prometheus_splice *splices;
	size_t n_splices, splices_cap;
	/* The current family; its header is written before its first sample. */
	const char *name;
	enum metric_type type;
	const char *help;
	bool header_written;
};

/* ---- output buffer ------------------------------------------------------- */

static void put_mem(struct expo *e, const char *s, size_t n)
{
	if (e->oom)
		return;
	if (e->len + n + 1 > e->cap) {
		size_t cap = e->cap ? e->cap : 4096;
		char *p;

		while (e->len + n + 1 > cap)
			cap *= 2;
		p = realloc(e->buf, cap);
		if (!p) {
			e->oom = true;
			return;
		}
		e->buf = p;
		e->cap = cap;
	}
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	e->buf[e->len] = '\0';
}

static void put(struct expo *e, const char *s)
{
	put_mem(e, s, strlen(s));
}

/* Label values: backslash, double quote and line feed are escaped, as both
 * formats require. HELP text: the text format escapes only backslash and
 * line feed; OpenMetrics escapes the double quote too. Both formats are
 * UTF-8, and Prometheus refuses the whole scrape for one invalid label
 * value: each byte that is not part of a valid character is written as
 * '?'. Probes keep valid text; this catches whatever a cut lets through. */
static void put_escaped(struct expo *e, const char *s, bool quote)
{
	const char *run = s;

	while (*s) {
		size_t n = (unsigned char)*s < 0x80 ? 1 : text_utf8_char(s, strnlen(s, 4));
		const char *esc = n == 0               ? "?"
		                  : *s == '\\'         ? "\\\\"
		                  : *s == '\n'         ? "\\n"
		                  : *s == '"' && quote ? "\\\""
		                                       : NULL;
		if (!esc) {
			s += n;
			continue;
		}
		put_mem(e, run, (size_t)(s - run));
		put(e, esc);
		run = ++s;
	}
	put(e, run);
}

/* Shortest form that reads back as the same double. */
static void put_double(struct expo *e, double v)
{
	char buf[40];

	if (isnan(v)) {
		put(e, "NaN");
		return;
	}
	if (isinf(v)) {
		put(e, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	put(e, buf);
}

/* ---- families and samples ------------------------------------------------ */

static void family(struct expo *e, const char *name, enum metric_type type, const char *help)
{
	e->name = name;
	e->type = type;
	e->help = help;
	e->header_written = false;
}

/* The name HELP and TYPE carry: OpenMetrics names a counter family without
 * its "_total" suffix. */
static void put_family_name(struct expo *e, enum prometheus_format format)
{
	size_t len = strlen(e->name);

	if (format == PROMETHEUS_OPENMETRICS && e->type == TYPE_COUNTER && len > 6 &&
	    strcmp(e->name + len - 6, "_total") == 0)
		len -= 6;
	put_mem(e, e->name, len);
}

static void put_header(struct expo *e, enum prometheus_format format)
{
	bool om = format == PROMETHEUS_OPENMETRICS;

	put(e, "# HELP ");
	put_family_name(e, format);
	put(e, " ");
	put_escaped(e, e->help, om);
	put(e, "\n# TYPE ");
	put_family_name(e, format);
	put(e, e->type == TYPE_COUNTER ? " counter\n" : " gauge\n");
}

static void swap_buffers(struct expo *e)
{
	char *buf = e->buf;
	size_t len = e->len, cap = e->cap;

	e->buf = e->alt_buf, e->len = e->alt_len, e->cap = e->alt_cap;
	e->alt_buf = buf, e->alt_len = len, e->alt_cap = cap;
}

/* The text header goes into the text; where the OpenMetrics header differs
 * (a counter's name, a quote in the HELP text), it goes into the other
 * buffer and a splice records which text bytes it replaces. */
static void write_header(struct expo *e)
{
	size_t start = e->len, om_start;
	bool same;

	put_header(e, PROMETHEUS_TEXT);
	swap_buffers(e);
	om_start = e->len;
	put_header(e, PROMETHEUS_OPENMETRICS);
	swap_buffers(e);
	e->header_written = true;
	if (e->oom)
		return;
	same = e->alt_len - om_start == e->len - start &&
	       memcmp(e->alt_buf + om_start, e->buf + start, e->len - start) == 0;
	if (same) {
		e->alt_len = om_start;
		return;
	}
	if (array_grow((void **)&e->splices, &e->splices_cap, e->n_splices, sizeof(*e->splices),
	               16) < 0) {
		e->oom = true;
		return;
	}
	e->splices[e->n_splices++] = (struct prometheus_splice){
	    .text_start = start, .text_end = e->len, .om_start = om_start, .om_end = e->alt_len};
}

/* Writes "name{l1="v1",...} " for the current family; labels are NULL-
 * terminated name/value pairs, a NULL value is written as "". */
static void put_series(struct expo *e, va_list ap)
{
	const char *label;
	bool first = true;

	if (!e->header_written)
		write_header(e);
	put(e, e->name);
	while ((label = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		put(e, first ? "{" : ",");
		put(e, label);
		put(e, "=\"");
		put_escaped(e, value ? value : "", true);
		put(e, "\"");
		first = false;
	}
	put(e, first ? " " : "} ");
}

static void sample(struct expo *e, double value, ...) __attribute__((sentinel));
static void sample(struct expo *e, double value, ...)
{
	va_list ap;

	va_start(ap, value);
	put_series(e, ap);
	va_end(ap);
	put_double(e, value);
	put(e, "\n");
}

/* Integers such as byte counters are written exactly, beyond 2^53 too. */
static void sample_u64(struct expo *e, uint64_t value, ...) __attribute__((sentinel));
static void sample_u64(struct expo *e, uint64_t value, ...)
{
	char buf[24];
	va_list ap;

	va_start(ap, value);
	put_series(e, ap);
	va_end(ap);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
	put(e, buf);
	put(e, "\n");
}

static bool area_valid(const struct snapshot *snap, enum probe_id id)
{
	return snap->probes[id].status == PROBE_OK;
}

/* ---- areas --------------------------------------------------------------- */

typedef void (*area_fn)(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                        const struct verdict *verdict);

static void area_build(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                       const struct verdict *verdict)
{
	(void)cfg;
	(void)snap;
	(void)verdict;
	family(e, "sparkmon_build_info", TYPE_GAUGE, "sparkmon version, always 1.");
	sample(e, 1, "version", SPARKMON_VERSION, NULL);
}

static void area_checks(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                        const struct verdict *verdict)
{
	(void)cfg;
	(void)snap;
	family(e, "sparkmon_status", TYPE_GAUGE,
	       "Worst check status: 0 ok, 1 warning, 2 critical, 3 unknown.");
	sample(e, (double)verdict->overall, NULL);
	family(e, "sparkmon_check_status", TYPE_GAUGE,
	       "Status of each check: 0 ok, 1 warning, 2 critical, 3 unknown.");
	for (size_t i = 0; i < verdict->count; i++)
		sample(e, (double)verdict->checks[i].status, "check", verdict->checks[i].id, NULL);
}

/* Probes that did not run or do not apply here have no samples: a server
 * without a GPU must not look like one whose GPU probe fails. */
static bool probe_reported(const struct probe_outcome *p)
{
	return p->status != PROBE_NOT_RUN && p->status != PROBE_SKIPPED;
}

static void area_probes(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                        const struct verdict *verdict)
{
	(void)cfg;
	(void)verdict;
	family(e, "sparkmon_probe_success", TYPE_GAUGE,
	       "Whether the probe's last run succeeded (1) or failed or timed out (0).");
	for (int id = 0; id < PROBE__COUNT; id++)
		if (probe_reported(&snap->probes[id]))
			sample(e, snap->probes[id].status == PROBE_OK ? 1 : 0, "probe",
			       probetab[id].name, NULL);
	family(e, "sparkmon_probe_duration_seconds", TYPE_GAUGE,
	       "How long the probe's last run took.");
	for (int id = 0; id < PROBE__COUNT; id++)
		if (probe_reported(&snap->probes[id]))
			sample(e, snap->probes[id].duration_seconds, "probe", probetab[id].name,
			       NULL);
	family(e, "sparkmon_probe_last_success_timestamp_seconds", TYPE_GAUGE,
	       "Unix time of the probe's last successful run.");
	for (int id = 0; id < PROBE__COUNT; id++)
		if (snap->probes[id].last_success)
			sample(e, (double)snap->probes[id].last_success, "probe", probetab[id].name,
			       NULL);
}

static void area_memory(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                        const struct verdict *verdict)
{
	const struct meminfo *m = &snap->memory;

	(void)cfg;
	(void)verdict;
	if (!area_valid(snap, PROBE_MEMORY))
		return;
	family(e, "sparkmon_memory_total_bytes", TYPE_GAUGE, "Total usable memory (MemTotal).");
	sample_u64(e, m->total, NULL);
	family(e, "sparkmon_memory_available_bytes", TYPE_GAUGE,
	       "Memory available for new work without swapping (MemAvailable).");
	sample_u64(e, m->available, NULL);
	family(e, "sparkmon_memory_used_bytes", TYPE_GAUGE,
	       "Memory in use: total minus available, as free(1) counts it.");
	sample_u64(e, m->used, NULL);
	family(e, "sparkmon_swap_total_bytes", TYPE_GAUGE, "Total swap space.");
	sample_u64(e, m->swap_total, NULL);
	family(e, "sparkmon_swap_free_bytes", TYPE_GAUGE, "Unused swap space.");
	sample_u64(e, m->swap_free, NULL);
}

static void area_forwarding(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                            const struct verdict *verdict)
{
	const struct forwarding *f = &snap->forwarding;

	(void)cfg;
	(void)verdict;
	if (!area_valid(snap, PROBE_FORWARDING))
		return;
	family(e, "sparkmon_ip_forward_enabled", TYPE_GAUGE,
	       "Whether IPv4 forwarding is on now (net.ipv4.ip_forward).");
	sample(e, f->ipv4 ? 1 : 0, NULL);
	family(e, "sparkmon_ip_forward_boot_enabled", TYPE_GAUGE,
	       "Whether the sysctl configuration turns IPv4 forwarding on at boot.");
	if (f->boot4.value >= 0)
		sample(e, f->boot4.value ? 1 : 0, NULL);
	/* IPv6 only where the VPN carries it, as the forwarding.ipv6 check. */
	if (!f->ipv6_carried)
		return;
	family(e, "sparkmon_ipv6_forward_enabled", TYPE_GAUGE,
	       "Whether IPv6 forwarding is on now (net.ipv6.conf.all.forwarding).");
	if (!f->ipv6_error[0])
		sample(e, f->ipv6 ? 1 : 0, NULL);
	family(e, "sparkmon_ipv6_forward_boot_enabled", TYPE_GAUGE,
	       "Whether the sysctl configuration turns IPv6 forwarding on at boot.");
	if (f->boot6.value >= 0)
		sample(e, f->boot6.value ? 1 : 0, NULL);
}

/* Named as nvidia_smi_exporter names them, so that dashboards made for it
 * work; one series per GPU, labelled by uuid. A value nvidia-smi did not
 * give ([N/A], [Not Supported], ...) has no sample, never a 0. Only a
 * fresh reading is exposed: a stale one would hide that the probe fails. */
static void area_gpu(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                     const struct verdict *verdict)
{
	const struct gpu *g = &snap->gpu;

	(void)cfg;
	(void)verdict;
	if (!area_valid(snap, PROBE_GPU))
		return;
	family(e, "nvidia_smi_gpu_info", TYPE_GAUGE, "A GPU nvidia-smi reports, always 1.");
	for (unsigned i = 0; i < g->count; i++)
		sample(e, 1, "uuid", g->devices[i].uuid, "name", g->devices[i].name,
		       "driver_version", g->devices[i].driver_version, NULL);
	family(e, "nvidia_smi_temperature_gpu", TYPE_GAUGE, "GPU core temperature in Celsius.");
	for (unsigned i = 0; i < g->count; i++)
		if (g->devices[i].has_temperature)
			sample(e, g->devices[i].temperature_c, "uuid", g->devices[i].uuid, NULL);
	family(e, "nvidia_smi_utilization_gpu_ratio", TYPE_GAUGE,
	       "Share of the last sample period in which a kernel ran on the GPU (0 to 1).");
	for (unsigned i = 0; i < g->count; i++)
		if (g->devices[i].has_utilization_gpu)
			sample(e, g->devices[i].utilization_gpu_pct / 100, "uuid",
			       g->devices[i].uuid, NULL);
	family(e, "nvidia_smi_memory_used_bytes", TYPE_GAUGE,
	       "GPU memory in use; absent with unified memory (then see sparkmon_memory_*).");
	for (unsigned i = 0; i < g->count; i++)
		if (g->devices[i].has_memory_used)
			sample_u64(e, g->devices[i].memory_used_bytes, "uuid", g->devices[i].uuid,
			           NULL);
	family(e, "nvidia_smi_memory_total_bytes", TYPE_GAUGE,
	       "GPU memory in total; absent with unified memory (then see sparkmon_memory_*).");
	for (unsigned i = 0; i < g->count; i++)
		if (g->devices[i].has_memory_total)
			sample_u64(e, g->devices[i].memory_total_bytes, "uuid", g->devices[i].uuid,
			           NULL);
	family(e, "nvidia_smi_power_draw_watts", TYPE_GAUGE, "GPU power draw in watts.");
	for (unsigned i = 0; i < g->count; i++)
		if (g->devices[i].has_power_draw)
			sample(e, g->devices[i].power_draw_w, "uuid", g->devices[i].uuid, NULL);
}

/* Named as the established WireGuard exporter (mdlayher/wireguard_exporter)
 * names them, so that its dashboards work. A peer's series carry its
 * `name` label only when a name is known. Interfaces that could not be
 * read have no series: a 0 would read as "no traffic". */
static void wireguard_peer_sample(struct expo *e, uint64_t value, const char *device,
                                  const struct wireguard_peer *p)
{
	if (p->name[0])
		sample_u64(e, value, "device", device, "public_key", p->public_key, "name", p->name,
		           NULL);
	else
		sample_u64(e, value, "device", device, "public_key", p->public_key, NULL);
}

static void area_wireguard(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                           const struct verdict *verdict)
{
	const struct wireguard *wg = &snap->wireguard;

	(void)cfg;
	(void)verdict;
	if (!area_valid(snap, PROBE_WIREGUARD))
		return;
	family(e, "wireguard_device_info", TYPE_GAUGE, "A WireGuard interface, always 1.");
	for (size_t i = 0; i < wg->n_devices; i++)
		if (!wg->devices[i].error && wg->devices[i].backend != WIREGUARD_BACKEND_NONE)
			sample(e, 1, "device", wg->devices[i].name, "public_key",
			       wg->devices[i].public_key, NULL);
	family(e, "wireguard_peer_info", TYPE_GAUGE, "A WireGuard peer, always 1.");
	for (size_t i = 0; i < wg->n_devices; i++)
		for (size_t j = 0; j < wg->devices[i].n_peers; j++) {
			const struct wireguard_peer *p = &wg->devices[i].peers[j];

			sample(e, 1, "device", wg->devices[i].name, "public_key", p->public_key,
			       "endpoint", p->endpoint_text, "name", p->name, NULL);
		}
	family(e, "wireguard_peer_allowed_ips_info", TYPE_GAUGE,
	       "An allowed IP network of a WireGuard peer, always 1.");
	for (size_t i = 0; i < wg->n_devices; i++)
		for (size_t j = 0; j < wg->devices[i].n_peers; j++) {
			const struct wireguard_peer *p = &wg->devices[i].peers[j];

			for (size_t k = 0; k < p->n_allowed_ips; k++) {
				char ip[INET6_ADDRSTRLEN + 8];

				wireguard_format_ip(&p->allowed_ips[k], ip, sizeof(ip));
				sample(e, 1, "device", wg->devices[i].name, "public_key",
				       p->public_key, "allowed_ips", ip, "family",
				       p->allowed_ips[k].family == AF_INET ? "IPv4" : "IPv6", NULL);
			}
		}
	family(e, "wireguard_peer_receive_bytes_total", TYPE_COUNTER,
	       "Bytes received from a WireGuard peer.");
	for (size_t i = 0; i < wg->n_devices; i++)
		for (size_t j = 0; j < wg->devices[i].n_peers; j++)
			wireguard_peer_sample(e, wg->devices[i].peers[j].rx_bytes,
			                      wg->devices[i].name, &wg->devices[i].peers[j]);
	family(e, "wireguard_peer_transmit_bytes_total", TYPE_COUNTER,
	       "Bytes sent to a WireGuard peer.");
	for (size_t i = 0; i < wg->n_devices; i++)
		for (size_t j = 0; j < wg->devices[i].n_peers; j++)
			wireguard_peer_sample(e, wg->devices[i].peers[j].tx_bytes,
			                      wg->devices[i].name, &wg->devices[i].peers[j]);
	family(e, "wireguard_peer_last_handshake_seconds", TYPE_GAUGE,
	       "Unix time of the last handshake with a WireGuard peer; 0 if never.");
	for (size_t i = 0; i < wg->n_devices; i++)
		for (size_t j = 0; j < wg->devices[i].n_peers; j++) {
			int64_t t = wg->devices[i].peers[j].last_handshake;

			wireguard_peer_sample(e, t > 0 ? (uint64_t)t : 0, wg->devices[i].name,
			                      &wg->devices[i].peers[j]);
		}
}

/* 1 when every base chain accepts, 0 when one drops; no sample when the
 * family is not evaluated or the ruleset was too complex to follow. */
static void forward_sample(struct expo *e, const struct firewall *fw, const char *iface, int family,
                           enum fwpath_direction dir)
{
	bool seen = false, ok = true;

	for (size_t i = 0; i < fw->n_decisions; i++) {
		const struct firewall_decision *d = &fw->decisions[i];

		if (d->family != family || d->direction != dir || strcmp(d->iface, iface) != 0)
			continue;
		if (d->result == FWPATH_TOO_COMPLEX)
			return;
		seen = true;
		ok = ok && (d->result == FWPATH_RULE_ACCEPTS || d->result == FWPATH_POLICY_ACCEPTS);
	}
	if (seen)
		sample(e, ok ? 1 : 0, "interface", iface, "family", family == 6 ? "ipv6" : "ipv4",
		       "direction", dir == FWPATH_OUT ? "out" : "back", NULL);
}

static void area_firewall(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                          const struct verdict *verdict)
{
	const struct firewall *fw = &snap->firewall;

	(void)cfg;
	(void)verdict;
	if (!area_valid(snap, PROBE_FIREWALL))
		return;
	family(e, "sparkmon_firewall_forward_ok", TYPE_GAUGE,
	       "Whether every base chain on the path accepts the VPN's forwarded traffic, per "
	       "interface, family and direction (out: from the VPN; back: its replies).");
	for (size_t i = 0; i < fw->n_ifaces; i++)
		for (int f = 4; f <= 6; f += 2)
			for (int dir = FWPATH_OUT; dir <= FWPATH_BACK; dir++)
				forward_sample(e, fw, fw->ifaces[i], f, (enum fwpath_direction)dir);
	family(e, "sparkmon_firewall_masquerade_ok", TYPE_GAUGE,
	       "Whether a MASQUERADE or SNAT rule in nat POSTROUTING covers the VPN.");
	sample(e, fw->masq_found ? 1 : 0, NULL);
	family(e, "sparkmon_firewall_uplink_ok", TYPE_GAUGE,
	       "Whether the MASQUERADE rule's NIC exists and carries the default route.");
	sample(
	    e,
	    fw->masq_found && fw->default_route &&
	            (!fw->masq_out[0] || fw->masq_out_neg ||
	             (fw->masq_out_exists && fwrules_iface_matches(fw->masq_out, fw->default_if)))
	        ? 1
	        : 0,
	    "nic", fw->masq_out, "default_route_nic", fw->default_if, NULL);
	family(e, "sparkmon_firewall_rules", TYPE_GAUGE, "Rules in the iptables tables read.");
	sample(e, fw->filter_rules, "table", "filter", NULL);
	sample(e, fw->nat_rules, "table", "nat", NULL);
	family(e, "sparkmon_firewall_expected_rules_missing", TYPE_GAUGE,
	       "wg-quick PostUp rules (or the standard setup's) not in the live ruleset.");
	sample(e, fw->missing, NULL);
	family(e, "sparkmon_firewall_expected_rules_not_understood", TYPE_GAUGE,
	       "wg-quick PostUp commands that could not be checked.");
	sample(e, fw->not_understood, NULL);
}

static void area_endpoint(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                          const struct verdict *verdict)
{
	const struct endpoint *ep = &snap->endpoint;

	(void)cfg;
	(void)verdict;
	if (!area_valid(snap, PROBE_ENDPOINT))
		return;
	family(e, "sparkmon_public_ip_info", TYPE_GAUGE,
	       "The public IPv4 address, as a label; absent when unknown.");
	if (ep->have_ip)
		sample(e, 1, "address", ep->public_ip, "remembered",
		       ep->have_remembered ? ep->remembered_ip : "", NULL);
	family(e, "sparkmon_public_ip_changed", TYPE_GAUGE,
	       "Whether the public IP differs from the remembered one.");
	if (ep->have_ip && ep->have_remembered)
		sample(e, strcmp(ep->public_ip, ep->remembered_ip) != 0 ? 1 : 0, NULL);
	family(e, "sparkmon_endpoint_probe_up", TYPE_GAUGE,
	       "Whether each configured URL was reached.");
	for (size_t i = 0; i < ep->n_probes; i++)
		sample(e, ep->probes[i].ok ? 1 : 0, "url", ep->probes[i].url, NULL);
	family(e, "sparkmon_endpoint_probe_duration_seconds", TYPE_GAUGE,
	       "Total time of each URL's request.");
	for (size_t i = 0; i < ep->n_probes; i++)
		sample(e, ep->probes[i].total_seconds, "url", ep->probes[i].url, NULL);
	family(e, "sparkmon_endpoint_probe_http_status", TYPE_GAUGE,
	       "HTTP status of each URL's answer; 0 when none came.");
	for (size_t i = 0; i < ep->n_probes; i++)
		sample(e, (double)ep->probes[i].http_code, "url", ep->probes[i].url, NULL);
}

static void area_ssh(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                     const struct verdict *verdict)
{
	const struct ssh *s = &snap->ssh;

	(void)cfg;
	(void)verdict;
	if (!area_valid(snap, PROBE_SSH))
		return;
	family(e, "sparkmon_ssh_up", TYPE_GAUGE,
	       "Whether sshd listens where a VPN client can reach it and answered with its "
	       "identification line.");
	sample(e, sshcheck_up(s), NULL);
	family(e, "sparkmon_ssh_info", TYPE_GAUGE,
	       "sshd's identification line after SSH-2.0- (software and comments), as a label; "
	       "absent when it did not answer.");
	if (s->banner == SSH_BANNER_OK)
		sample(e, 1, "version", sshcheck_version(s), NULL);
	family(e, "sparkmon_ssh_listeners", TYPE_GAUGE, "TCP sockets listening on the SSH port.");
	sample_u64(e, s->total_listeners, NULL);
	family(e, "sparkmon_ssh_banner_duration_seconds", TYPE_GAUGE,
	       "Time from connecting to sshd to its identification line.");
	if (s->banner == SSH_BANNER_OK)
		sample(e, s->banner_seconds, NULL);
}

static void area_router(struct expo *e, const struct config *cfg, const struct snapshot *snap,
                        const struct verdict *verdict)
{
	const struct router *r = &snap->router;
	int ok = routercheck_mapping_ok(r), cgnat = routercheck_cgnat_state(snap);
	char port[8];

	(void)cfg;
	(void)verdict;
	if (!area_valid(snap, PROBE_ROUTER))
		return;
	family(e, "sparkmon_router_external_ip_info", TYPE_GAUGE,
	       "The router's external address (UPnP's, else NAT-PMP's) and its kind, as labels; "
	       "absent when the router gave none.");
	if (r->external_ip[0])
		sample(e, 1, "address", r->external_ip, "kind",
		       routercheck_kind_name(routercheck_kind(r->external_ip)), NULL);
	family(e, "sparkmon_router_port_mapping_ok", TYPE_GAUGE,
	       "Whether the router forwards the WireGuard port to this host over UPnP; absent "
	       "when the router does not say.");
	snprintf(port, sizeof(port), "%u", r->port);
	if (ok >= 0)
		sample(e, ok, "port", port, NULL);
	family(e, "sparkmon_router_cgnat", TYPE_GAUGE,
	       "Whether inbound connections cannot reach the router: its external address is not "
	       "public, or not the public IP seen from outside.");
	if (cgnat >= 0)
		sample(e, cgnat, NULL);
}

/* Every area, in output order. */
static const area_fn areas[] = {
    area_build,     area_checks,   area_probes,   area_memory, area_forwarding, area_gpu,
    area_wireguard, area_firewall, area_endpoint, area_ssh,    area_router,
};

int prometheus_expose(const struct config *cfg, const struct snapshot *snap,
                      const struct verdict *verdict, struct prometheus_exposition *ret)
{
	struct expo e = {0};

	for (size_t i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		areas[i](&e, cfg, snap, verdict);
	if (e.oom || !e.buf) {
		free(e.buf);
		free(e.alt_buf);
		free(e.splices);
		return -ENOMEM;
	}
	*ret = (struct prometheus_exposition){.text = e.buf,
	                                      .text_len = e.len,
	                                      .om_headers = e.alt_buf,
	                                      .splices = e.splices,
	                                      .n_splices = e.n_splices};
	return 0;
}

void prometheus_exposition_free(struct prometheus_exposition *x)
{
	free(x->text);
	free(x->om_headers);
	free(x->splices);
	memset(x, 0, sizeof(*x));
}

size_t prometheus_openmetrics_pieces(const struct prometheus_exposition *x, struct iovec *iov)
{
	static const char eof[] = "# EOF\n";
	size_t n = 0, at = 0;

	for (size_t i = 0; i < x->n_splices; i++) {
		const struct prometheus_splice *sp = &x->splices[i];

		if (sp->text_start > at)
			iov[n++] = (struct iovec){x->text + at, sp->text_start - at};
		iov[n++] = (struct iovec){x->om_headers + sp->om_start, sp->om_end - sp->om_start};
		at = sp->text_end;
	}
	if (x->text_len > at)
		iov[n++] = (struct iovec){x->text + at, x->text_len - at};
	iov[n++] = (struct iovec){(void *)(uintptr_t)eof, sizeof(eof) - 1};
	return n;
}

/* OpenMetrics as one buffer: the pieces put together. */
static int openmetrics_join(const struct prometheus_exposition *x, char **ret, size_t *ret_len)
{
	struct iovec *iov = malloc(PROMETHEUS_PIECES_MAX(x) * sizeof(*iov));
	size_t n, len = 0;
	char *buf;

	if (!iov)
		return -ENOMEM;
	n = prometheus_openmetrics_pieces(x, iov);
	for (size_t i = 0; i < n; i++)
		len += iov[i].iov_len;
	buf = malloc(len + 1);
	if (!buf) {
		free(iov);
		return -ENOMEM;
	}
	len = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	buf[len] = '\0';
	free(iov);
	*ret = buf;
	*ret_len = len;
	return 0;
}

int prometheus_render(const struct config *cfg, const struct snapshot *snap,
                      const struct verdict *verdict, enum prometheus_format format, char **ret,
                      size_t *ret_len)
{
	struct prometheus_exposition x;
	int r = prometheus_expose(cfg, snap, verdict, &x);

	if (r < 0)
		return r;
	if (format == PROMETHEUS_OPENMETRICS) {
		r = openmetrics_join(&x, ret, ret_len);
		prometheus_exposition_free(&x);
		return r;
	}
	*ret = x.text;
	*ret_len = x.text_len;
	x.text = NULL;
	prometheus_exposition_free(&x);
	return 0;
}

/* Only OpenMetrics 1.0.0 is written: a range naming another version (an
 * older draft such as 0.0.1) gets the text format instead. */
static bool openmetrics_version_ok(const char *range, size_t len)
{
	static const char key[] = "version=";
	const char *v = memmem(range, len, key, sizeof(key) - 1);
	size_t vlen;

	if (!v)
		return true;
	v += sizeof(key) - 1;
	vlen = strcspn(v, ";, \t");
	if (v + vlen > range + len)
		vlen = (size_t)(range + len - v);
	return vlen == 5 && strncmp(v, "1.0.0", 5) == 0;
}

/* Accept: a comma-separated list of media ranges with parameters, such as
 * Prometheus's "application/openmetrics-text;version=1.0.0,...;q=0.75,
 * text/plain;version=0.0.4;q=0.5,*\/\*;q=0.1". */
enum prometheus_format prometheus_negotiate(const char *accept)
{
	static const char om[] = "application/openmetrics-text";
	const char *p = accept;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *q;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= sizeof(om) - 1 && strncasecmp(p, om, sizeof(om) - 1) == 0 &&
		    (len == sizeof(om) - 1 || p[sizeof(om) - 1] == ';' ||
		     p[sizeof(om) - 1] == ' ')) {
			double quality = 1;

			q = memmem(p, len, ";q=", 3);
			if (!q)
				q = memmem(p, len, "; q=", 4);
			if (q)
				quality = strtod(strchr(q, '=') + 1, NULL);
			if (quality > 0 && openmetrics_version_ok(p, len))
				return PROMETHEUS_OPENMETRICS;
		}
		p = end ? end + 1 : NULL;
	}
	return PROMETHEUS_TEXT;
}
