#include "monitor/check.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void check_sanitize(const char *text, char *buf, size_t size)
{
	size_t i = 0;

	if (!size)
		return;
	for (; *text && i + 1 < size; text++) {
		unsigned char c = (unsigned char)*text;

		buf[i++] = c == '|' ? '/' : (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	buf[i] = '\0';
}

/* The worst check says what is wrong; the others follow on their own lines. */
static void print_summary(const struct verdict *v, FILE *out)
{
	const struct check *worst = NULL;
	size_t not_ok = 0;
	char text[CHECK_TEXT_MAX];

	for (size_t i = 0; i < v->count; i++) {
		if (v->checks[i].status == CHECK_OK)
			continue;
		not_ok++;
		if (!worst ||
		    verdict_severity(v->checks[i].status) > verdict_severity(worst->status))
			worst = &v->checks[i];
	}
	if (!worst) {
		fprintf(out, "%zu of %zu checks OK", v->count, v->count);
		return;
	}
	check_sanitize(worst->summary, text, sizeof(text));
	fprintf(out, "%s: %s", worst->id, text);
	if (not_ok > 1)
		fprintf(out, " (+%zu more not OK)", not_ok - 1);
}

/* Per GPU: temperature against the thresholds, utilization, memory used
 * (its total as the maximum), power draw in watts (its limit as the
 * maximum; watts are not a plugin unit, so the label names them). Absent
 * values have no label at all; a unified-memory GPU's memory is the
 * system's, already in 'memory_used'. */
static void print_gpu_perfdata(const struct config *cfg, const struct gpu *g, FILE *out)
{
	for (unsigned i = 0; i < g->count; i++) {
		const struct gpu_device *d = &g->devices[i];

		if (d->has_temperature)
			fprintf(out, " 'gpu%u_temperature'=%g;%u;%u", d->index, d->temperature_c,
			        cfg->gpu_temperature_warning, cfg->gpu_temperature_critical);
		if (d->has_utilization_gpu)
			fprintf(out, " 'gpu%u_utilization'=%g%%;;;0;100", d->index,
			        d->utilization_gpu_pct);
		if (d->has_memory_used && d->has_memory_total)
			fprintf(out, " 'gpu%u_memory_used'=%" PRIu64 "B;;;0;%" PRIu64, d->index,
			        d->memory_used_bytes, d->memory_total_bytes);
		else if (d->has_memory_used)
			fprintf(out, " 'gpu%u_memory_used'=%" PRIu64 "B;;;0;", d->index,
			        d->memory_used_bytes);
		if (d->has_power_draw && d->has_power_limit)
			fprintf(out, " 'gpu%u_power_watts'=%g;;;0;%g", d->index, d->power_draw_w,
			        d->power_limit_w);
		else if (d->has_power_draw)
			fprintf(out, " 'gpu%u_power_watts'=%g;;;0;", d->index, d->power_draw_w);
	}
}

/* Peers and their traffic over every watched interface; bytes are
 * counters ("c"), so graphing tools derive rates. */
static void print_wireguard_perfdata(const struct config *cfg, const struct wireguard *wg,
                                     FILE *out)
{
	uint64_t peers = 0, up = 0, rx = 0, tx = 0;

	for (size_t i = 0; i < wg->n_devices; i++) {
		const struct wireguard_device *d = &wg->devices[i];

		for (size_t j = 0; j < d->n_peers; j++) {
			peers++;
			up += verdict_peer_state(cfg, &d->peers[j], wg->collected_at) ==
			      VERDICT_PEER_UP;
			rx += d->peers[j].rx_bytes;
			tx += d->peers[j].tx_bytes;
		}
	}
	fprintf(out,
	        " 'wireguard_peers'=%" PRIu64 ";;;0 'wireguard_peers_up'=%" PRIu64 ";;;0;%" PRIu64
	        " 'wireguard_rx'=%" PRIu64 "c 'wireguard_tx'=%" PRIu64 "c",
	        peers, up, peers, rx, tx);
}

/* Perfdata in the monitoring-plugins form 'label'=value[UOM];warn;crit;min;max.
 * "N:" as a threshold means "alert when below N". */
/* bp hundredths of a percent of total, rounded up: the verdict alerts when
 * available < total * share exactly, which for whole bytes is
 * available < ceil(total * share), the "N:" threshold below. */
static uint64_t share_rounded_up(uint64_t total, uint32_t bp)
{
	return (uint64_t)(((unsigned __int128)total * bp + 9999) / 10000);
}

static void print_perfdata(const struct config *cfg, const struct snapshot *snap, FILE *out)
{
	if (snap->probes[PROBE_MEMORY].status == PROBE_OK) {
		const struct meminfo *m = &snap->memory;
		uint64_t warn = share_rounded_up(m->total, cfg->memory_warning_bp);
		uint64_t crit = share_rounded_up(m->total, cfg->memory_critical_bp);

		fprintf(out,
		        " 'memory_available'=%" PRIu64 "B;%" PRIu64 ":;%" PRIu64 ":;0;%" PRIu64
		        " 'memory_used'=%" PRIu64 "B;;;0;%" PRIu64 " 'swap_used'=%" PRIu64
		        "B;;;0;%" PRIu64,
		        m->available, warn, crit, m->total, m->used, m->total,
		        m->swap_total - m->swap_free, m->swap_total);
	}
	if (snap->probes[PROBE_FORWARDING].status == PROBE_OK)
		fprintf(out, " 'ip_forward'=%d;;;0;1", snap->forwarding.ipv4 ? 1 : 0);
	if (snap->probes[PROBE_FIREWALL].status == PROBE_OK)
		fprintf(out, " 'firewall_filter_rules'=%u;;;0; 'firewall_nat_rules'=%u;;;0;",
		        snap->firewall.filter_rules, snap->firewall.nat_rules);
	if (snap->probes[PROBE_ENDPOINT].status == PROBE_OK)
		for (size_t i = 0; i < snap->endpoint.n_probes; i++)
			if (snap->endpoint.probes[i].ok)
				fprintf(out, " 'endpoint_probe_%zu_time'=%.3fs;;;0;", i + 1,
				        snap->endpoint.probes[i].total_seconds);
	if (snap->probes[PROBE_GPU].status == PROBE_OK)
		print_gpu_perfdata(cfg, &snap->gpu, out);
	if (snap->probes[PROBE_WIREGUARD].status == PROBE_OK)
		print_wireguard_perfdata(cfg, &snap->wireguard, out);
}

void check_print_text(const struct config *cfg, const struct snapshot *snap,
                      const struct verdict *verdict, FILE *out)
{
	char summary[CHECK_TEXT_MAX], hint[CHECK_TEXT_MAX];
	char *perf = NULL;
	size_t perf_len = 0;
	FILE *perf_out;

	fprintf(out, "SPARKMON %s - ", verdict_status_upper(verdict->overall));
	print_summary(verdict, out);
	/* The '|' separator only when some perfdata follows it. */
	perf_out = open_memstream(&perf, &perf_len);
	if (perf_out) {
		print_perfdata(cfg, snap, perf_out);
		if (fclose(perf_out) == 0 && perf_len > 0)
			fprintf(out, " |%s", perf);
	}
	free(perf);
	fputc('\n', out);
	for (size_t i = 0; i < verdict->count; i++) {
		const struct check *c = &verdict->checks[i];

		if (c->status == CHECK_OK)
			continue;
		check_sanitize(c->summary, summary, sizeof(summary));
		check_sanitize(c->hint, hint, sizeof(hint));
		fprintf(out, "%s %s: %s (fix: %s)\n", verdict_status_upper(c->status), c->id,
		        summary, hint);
	}
}
