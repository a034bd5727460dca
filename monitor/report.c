#include "monitor/report.h"

#include <string.h>
#include <time.h>

#include "monitor/check.h"
#include "monitor/human.h"
#include "monitor/probetab.h"

static void print_checks(const struct verdict *v, FILE *out)
{
	char text[CHECK_TEXT_MAX];

	fputs("Checks\n", out);
	if (v->count == 0)
		fputs("  (none)\n", out);
	for (size_t i = 0; i < v->count; i++) {
		const struct check *c = &v->checks[i];

		check_sanitize(c->summary, text, sizeof(text));
		fprintf(out, "  %-8s  %-24s %s\n", verdict_status_upper(c->status), c->id, text);
		if (c->hint[0]) {
			check_sanitize(c->hint, text, sizeof(text));
			fprintf(out, "  %-8s  %-24s fix: %s\n", "", "", text);
		}
	}
}

static bool area_ok(const struct snapshot *snap, enum probe_id id, FILE *out)
{
	const struct probe_outcome *p = &snap->probes[id];

	if (p->status == PROBE_OK)
		return true;
	fprintf(out, "  (%s%s%s)\n", snapshot_probe_status_name(p->status), p->error[0] ? ": " : "",
	        p->error);
	return false;
}

/* The same columns as free -h. */
static void print_memory(const struct snapshot *snap, FILE *out)
{
	const struct meminfo *m = &snap->memory;
	char total[16], used[16], freeb[16], cache[16], avail[16], stotal[16], sused[16], sfree[16];

	fputs("\nMemory\n", out);
	if (!area_ok(snap, PROBE_MEMORY, out))
		return;
	human_bytes(m->total, total, sizeof(total));
	human_bytes(m->used, used, sizeof(used));
	human_bytes(m->free, freeb, sizeof(freeb));
	human_bytes(m->buff_cache, cache, sizeof(cache));
	human_bytes(m->available, avail, sizeof(avail));
	human_bytes(m->swap_total, stotal, sizeof(stotal));
	human_bytes(m->swap_total - m->swap_free, sused, sizeof(sused));
	human_bytes(m->swap_free, sfree, sizeof(sfree));
	fprintf(out, "  %-6s %11s %11s %11s %11s %11s\n", "", "total", "used", "free", "buff/cache",
	        "available");
	fprintf(out, "  %-6s %11s %11s %11s %11s %11s\n", "Mem:", total, used, freeb, cache, avail);
	fprintf(out, "  %-6s %11s %11s %11s\n", "Swap:", stotal, sused, sfree);
}

static void print_forwarding(const struct snapshot *snap, FILE *out)
{
	const struct forwarding *f = &snap->forwarding;

	fputs("\nForwarding\n", out);
	if (!area_ok(snap, PROBE_FORWARDING, out))
		return;
	fprintf(out, "  net.ipv4.ip_forward now:      %s\n", f->ipv4 ? "1 (on)" : "0 (off)");
	if (f->boot_value < 0)
		fprintf(out,
		        "  net.ipv4.ip_forward at boot:  not set by any of %u sysctl files (off)\n",
		        f->files_read);
	else
		fprintf(out, "  net.ipv4.ip_forward at boot:  %d, from %s:%d\n", f->boot_value,
		        f->boot_file, f->boot_line);
}

static void print_probes(const struct snapshot *snap, FILE *out)
{
	fputs("\nProbes\n", out);
	for (int id = 0; id < PROBE__COUNT; id++) {
		const struct probe_outcome *p = &snap->probes[id];

		fprintf(out, "  %-12s %-10s %8.1f ms  %s\n", probetab[id].name,
		        snapshot_probe_status_name(p->status), p->duration_seconds * 1000,
		        p->error);
	}
}

void report_print(const struct config *cfg, const struct snapshot *snap,
                  const struct verdict *verdict, FILE *out)
{
	char stamp[32];
	struct tm tm;

	(void)cfg;
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %Z",
	         localtime_r(&snap->generated_at, &tm));
	fprintf(out, "sparkmon %s on %s: %s (%s)\n\n", SPARKMON_VERSION, snap->host,
	        verdict_status_upper(verdict->overall), stamp);
	print_checks(verdict, out);
	print_memory(snap, out);
	print_forwarding(snap, out);
	print_probes(snap, out);
}
