#include "monitor/verdict.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "monitor/human.h"
#include "monitor/probetab.h"

/* Fills *out and returns true, or returns false when the check does not
 * apply (it is then absent from every output). */
typedef bool (*check_fn)(const struct config *cfg, const struct snapshot *snap, struct check *out);

struct check_def {
	const char *id;
	enum probe_id probe;
	check_fn evaluate;
	const char *probe_failed_hint; /* hint when the probe could not run */
};

static void set_check(struct check *out, enum check_status status, const char *hint,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_check(struct check *out, enum check_status status, const char *hint,
                      const char *fmt, ...)
{
	va_list ap;

	out->status = status;
	va_start(ap, fmt);
	vsnprintf(out->summary, sizeof(out->summary), fmt, ap);
	va_end(ap);
	snprintf(out->hint, sizeof(out->hint), "%s", status == CHECK_OK ? "" : hint);
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
	set_check(out, status,
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
		set_check(out, CHECK_OK, "", "IPv4 forwarding is on");
	else
		set_check(out, CHECK_CRITICAL, "sysctl -w net.ipv4.ip_forward=1",
		          "IPv4 forwarding is off: VPN clients reach this host only, nothing "
		          "behind it");
	return true;
}

#define FORWARDING_DROPIN "/etc/sysctl.d/99-sparkmon-ip-forward.conf"

static bool check_forwarding_persistent(const struct config *cfg, const struct snapshot *snap,
                                        struct check *out)
{
	const struct forwarding *f = &snap->forwarding;
	char hint[CHECK_TEXT_MAX];

	if (!cfg->forwarding_check_persistent)
		return false;
	if (f->boot_value == 1) {
		set_check(out, CHECK_OK, "", "net.ipv4.ip_forward = 1 is set at boot by %s:%d",
		          f->boot_file, f->boot_line);
		return true;
	}
	if (f->boot_value == 0) {
		snprintf(hint, sizeof(hint),
		         "change line %d of %s to 'net.ipv4.ip_forward = 1', then sysctl --system",
		         f->boot_line, f->boot_file);
		set_check(out, CHECK_WARNING, hint, "%s:%d sets net.ipv4.ip_forward = 0 at boot%s",
		          f->boot_file, f->boot_line,
		          f->ipv4 ? ": forwarding is on now but a reboot turns it off" : "");
		return true;
	}
	set_check(out, CHECK_WARNING,
	          "echo 'net.ipv4.ip_forward = 1' > " FORWARDING_DROPIN " && sysctl --system",
	          "no sysctl file sets net.ipv4.ip_forward%s",
	          f->ipv4 ? ": forwarding is on now but a reboot turns it off" : "");
	return true;
}

static const struct check_def check_defs[] = {
    {"memory.available", PROBE_MEMORY, check_memory_available,
     "check that /proc/meminfo is readable: cat /proc/meminfo"},
    {"forwarding.ipv4", PROBE_FORWARDING, check_forwarding_ipv4,
     "check that /proc/sys/net/ipv4/ip_forward is readable"},
    {"forwarding.persistent", PROBE_FORWARDING, check_forwarding_persistent,
     "check that /proc/sys/net/ipv4/ip_forward is readable"},
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
	return mask;
}

/* A probe that could not run leaves its checks UNKNOWN, never OK. */
static bool evaluate_one(const struct check_def *def, const struct config *cfg,
                         const struct snapshot *snap, struct check *out)
{
	const struct probe_outcome *probe = &snap->probes[def->probe];

	snprintf(out->id, sizeof(out->id), "%s", def->id);
	switch (probe->status) {
	case PROBE_OK:
		return def->evaluate(cfg, snap, out);
	case PROBE_SKIPPED:
		return false;
	case PROBE_NOT_RUN:
		set_check(out, CHECK_UNKNOWN, def->probe_failed_hint, "%s probe did not run",
		          probetab[def->probe].name);
		return true;
	case PROBE_TIMED_OUT:
	case PROBE_FAILED:
		break;
	}
	set_check(out, CHECK_UNKNOWN, def->probe_failed_hint, "%s probe %s: %s",
	          probetab[def->probe].name,
	          probe->status == PROBE_TIMED_OUT ? "timed out" : "failed", probe->error);
	return true;
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
}
