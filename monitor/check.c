#include "monitor/check.h"

#include <inttypes.h>
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

/* Perfdata in the monitoring-plugins form 'label'=value[UOM];warn;crit;min;max.
 * "N:" as a threshold means "alert when below N". */
static void print_perfdata(const struct config *cfg, const struct snapshot *snap, FILE *out)
{
	if (snap->probes[PROBE_MEMORY].status == PROBE_OK) {
		const struct meminfo *m = &snap->memory;
		uint64_t warn =
		    (uint64_t)((unsigned __int128)m->total * cfg->memory_warning_bp / 10000);
		uint64_t crit =
		    (uint64_t)((unsigned __int128)m->total * cfg->memory_critical_bp / 10000);

		fprintf(out,
		        " 'memory_available'=%" PRIu64 "B;%" PRIu64 ":;%" PRIu64 ":;0;%" PRIu64
		        " 'memory_used'=%" PRIu64 "B;;;0;%" PRIu64 " 'swap_used'=%" PRIu64
		        "B;;;0;%" PRIu64,
		        m->available, warn, crit, m->total, m->used, m->total,
		        m->swap_total - m->swap_free, m->swap_total);
	}
	if (snap->probes[PROBE_FORWARDING].status == PROBE_OK)
		fprintf(out, " 'ip_forward'=%d;;;0;1", snap->forwarding.ipv4 ? 1 : 0);
}

void check_print_text(const struct config *cfg, const struct snapshot *snap,
                      const struct verdict *verdict, FILE *out)
{
	char summary[CHECK_TEXT_MAX], hint[CHECK_TEXT_MAX];

	fprintf(out, "SPARKMON %s - ", verdict_status_upper(verdict->overall));
	print_summary(verdict, out);
	fputs(" |", out);
	print_perfdata(cfg, snap, out);
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
