#include "probes/gpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/config.h"
#include "probes/runner.h"
#include "probes/text.h"

/* 16 GPUs take about 3 KiB and a busy process list a few more; beyond this
 * nvidia-smi is not answering the question asked. */
#define GPU_OUTPUT_MAX (256 * 1024)
#define GPU_FORMAT_ARG "--format=csv,noheader,nounits"
/* The process list gets what is left of the deadline, if at least this. */
#define GPU_APPS_MIN_MS 50

enum gpu_column {
	COL_INDEX,
	COL_UUID,
	COL_NAME,
	COL_DRIVER,
	COL_TEMPERATURE,
	COL_UTIL_GPU,
	COL_UTIL_MEMORY,
	COL_MEMORY_TOTAL,
	COL_MEMORY_USED,
	COL_POWER_DRAW,
	COL_POWER_LIMIT,
	COL_CLOCK_SM,
	COL_PSTATE,
	COL__COUNT
};

/* Plausible ranges: a reading outside them is a misparse or a broken
 * sensor, and absent is the honest value for both. */
#define TEMPERATURE_MAX 200.0
#define PERCENT_MAX     100.0
#define POWER_MAX       10000.0
#define CLOCK_MAX       100000.0
#define INDEX_MAX       1000

struct field {
	const char *p;
	size_t len;
};

enum value_state { VALUE_ABSENT, VALUE_OK, VALUE_INVALID };

/* ---- fields -------------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(struct field *f)
{
	while (f->len && is_blank(f->p[0])) {
		f->p++;
		f->len--;
	}
	while (f->len && (is_blank(f->p[f->len - 1]) || f->p[f->len - 1] == '\r'))
		f->len--;
}

/* nvidia-smi separates fields with ", ". A comma followed by a blank (or
 * ending the line) separates; any other comma belongs to its field, which
 * keeps a localized "45,30" whole so that it can be refused. Stores at most
 * max fields; returns how many there are. */
static size_t split_fields(const char *line, size_t len, struct field *out, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		bool sep = i == len || (line[i] == ',' && (i + 1 == len || is_blank(line[i + 1])));

		if (!sep)
			continue;
		if (n < max) {
			out[n].p = line + start;
			out[n].len = i - start;
			trim(&out[n]);
		}
		n++;
		start = i + 1;
	}
	return n;
}

static bool field_is(const struct field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

/* "", "N/A" and every bracketed value: "[N/A]", "[Not Supported]",
 * "[Insufficient Permissions]", "[Unknown Error]", and whatever bracketed
 * word a later driver adds. */
static bool field_absent(const struct field *f)
{
	return f->len == 0 || field_is(f, "N/A") ||
	       (f->len >= 2 && f->p[0] == '[' && f->p[f->len - 1] == ']');
}

/* A plain decimal ("45", "35.12") within [0, max], of at most 15 digits.
 * The digits are read as one integer and divided once by a power of ten,
 * both exact, so the result is the double nearest to the text, as strtod
 * would give in the C locale, whatever locale we run in. */
static enum value_state parse_decimal(const struct field *f, double max, double *ret)
{
	uint64_t mantissa = 0;
	double scale = 1;
	size_t digits = 0, int_digits = 0;
	bool dot = false;
	double v;

	if (field_absent(f))
		return VALUE_ABSENT;
	for (size_t i = 0; i < f->len; i++) {
		char c = f->p[i];

		if (c == '.' && !dot && int_digits > 0) {
			dot = true;
			continue;
		}
		if (c < '0' || c > '9' || ++digits > 15)
			return VALUE_INVALID;
		mantissa = mantissa * 10 + (uint64_t)(c - '0');
		if (dot)
			scale *= 10;
		else
			int_digits++;
	}
	/* "45." and ".5" are not what nvidia-smi prints. */
	if (int_digits == 0 || (dot && digits == int_digits))
		return VALUE_INVALID;
	v = (double)mantissa / scale;
	if (v > max)
		return VALUE_INVALID;
	*ret = v;
	return VALUE_OK;
}

/* A whole number of MiB (what nounits prints for memory), in bytes. */
static enum value_state parse_mib(const struct field *f, uint64_t *ret)
{
	uint64_t mib = 0;

	if (field_absent(f))
		return VALUE_ABSENT;
	if (f->len == 0 || f->len > 15)
		return VALUE_INVALID;
	for (size_t i = 0; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return VALUE_INVALID;
		mib = mib * 10 + (uint64_t)(f->p[i] - '0');
	}
	*ret = mib << 20; /* at most 10^15 MiB: fits */
	return VALUE_OK;
}

static bool parse_uint(const struct field *f, unsigned max, unsigned *ret)
{
	unsigned long v = 0;

	if (f->len == 0 || f->len > 10)
		return false;
	for (size_t i = 0; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(f->p[i] - '0');
	}
	if (v > max)
		return false;
	*ret = (unsigned)v;
	return true;
}

/* Copies a text field; control characters and bytes that are not UTF-8
 * become '?', so that no name (any GPU user names their own processes) can
 * forge a line in any output or make it unreadable as JSON or metrics.
 * Absent gives "". */
static void copy_text(const struct field *f, char *dst, size_t size)
{
	text_copy_utf8(dst, size, f->p, field_absent(f) ? 0 : f->len);
}

/* "P0".."P15". */
static enum value_state parse_pstate(const struct field *f, char *dst, size_t size)
{
	struct field digits;
	unsigned n;

	dst[0] = '\0';
	if (field_absent(f))
		return VALUE_ABSENT;
	digits.p = f->p + 1;
	digits.len = f->len - 1;
	if (f->p[0] != 'P' || f->len > 3 || !parse_uint(&digits, 15, &n))
		return VALUE_INVALID;
	snprintf(dst, size, "P%u", n);
	return VALUE_OK;
}

/* Next line of buf without its '\n'; false at the end. */
static bool next_line(const char **p, const char *end, struct field *line)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	line->p = *p;
	line->len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl ? nl + 1 : end;
	return true;
}

static void keep_line(const struct field *line, char *dst, size_t size)
{
	struct field t = *line;

	trim(&t);
	copy_text(&t, dst, size);
}

/* ---- --query-gpu --------------------------------------------------------- */

static void count_value(struct gpu_device *d, enum value_state s, bool *has)
{
	*has = s == VALUE_OK;
	if (s == VALUE_INVALID)
		d->invalid_fields++;
}

static bool parse_device(const struct field *line, const struct gpu *seen, struct gpu_device *d)
{
	struct field f[COL__COUNT];

	if (split_fields(line->p, line->len, f, COL__COUNT) != COL__COUNT)
		return false;
	memset(d, 0, sizeof(*d));
	if (!parse_uint(&f[COL_INDEX], INDEX_MAX, &d->index))
		return false;
	for (unsigned i = 0; i < seen->count; i++)
		if (seen->devices[i].index == d->index)
			return false;
	copy_text(&f[COL_UUID], d->uuid, sizeof(d->uuid));
	copy_text(&f[COL_NAME], d->name, sizeof(d->name));
	copy_text(&f[COL_DRIVER], d->driver_version, sizeof(d->driver_version));
	count_value(d, parse_pstate(&f[COL_PSTATE], d->pstate, sizeof(d->pstate)), &(bool){false});
	count_value(d, parse_decimal(&f[COL_TEMPERATURE], TEMPERATURE_MAX, &d->temperature_c),
	            &d->has_temperature);
	count_value(d, parse_decimal(&f[COL_UTIL_GPU], PERCENT_MAX, &d->utilization_gpu_pct),
	            &d->has_utilization_gpu);
	count_value(d, parse_decimal(&f[COL_UTIL_MEMORY], PERCENT_MAX, &d->utilization_memory_pct),
	            &d->has_utilization_memory);
	count_value(d, parse_mib(&f[COL_MEMORY_TOTAL], &d->memory_total_bytes),
	            &d->has_memory_total);
	count_value(d, parse_mib(&f[COL_MEMORY_USED], &d->memory_used_bytes), &d->has_memory_used);
	count_value(d, parse_decimal(&f[COL_POWER_DRAW], POWER_MAX, &d->power_draw_w),
	            &d->has_power_draw);
	count_value(d, parse_decimal(&f[COL_POWER_LIMIT], POWER_MAX, &d->power_limit_w),
	            &d->has_power_limit);
	count_value(d, parse_decimal(&f[COL_CLOCK_SM], CLOCK_MAX, &d->clock_sm_mhz),
	            &d->has_clock_sm);
	/* GB10 (DGX Spark) answers "[N/A]" for its memory: it has none of its
	 * own. "[Insufficient Permissions]" and the like say nothing of that. */
	d->unified_memory =
	    field_is(&f[COL_MEMORY_TOTAL], "[N/A]") || field_is(&f[COL_MEMORY_TOTAL], "N/A");
	return true;
}

int gpu_parse(const char *buf, size_t len, struct gpu *ret, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	char first[GPU_LINE_MAX] = "";
	bool no_devices = false;
	struct field line;
	struct gpu *g;
	int r = 0;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	while (next_line(&p, end, &line)) {
		struct gpu_device d;
		struct field t = line;

		trim(&t);
		if (t.len == 0)
			continue;
		if (!first[0])
			keep_line(&t, first, sizeof(first));
		if (field_is(&t, "No devices were found")) {
			no_devices = true;
			continue;
		}
		if (!parse_device(&t, g, &d)) {
			if (!g->unparsed_lines++)
				keep_line(&t, g->first_unparsed, sizeof(g->first_unparsed));
			continue;
		}
		g->total++;
		if (g->count < GPU_MAX) {
			g->devices[g->count++] = d;
			g->unified_memory |= d.unified_memory;
		}
	}
	if (g->total == 0 && first[0] && !no_devices) {
		snprintf(err, errlen, "%s", first);
		r = -EINVAL;
		goto out;
	}
	*ret = *g;
out:
	free(g);
	return r;
}

/* ---- --query-compute-apps ------------------------------------------------ */

/* Larger users first; those without a figure last; ties keep their order. */
static bool ranks_before(const struct gpu_process *a, const struct gpu_process *b)
{
	if (!a->has_used_memory)
		return false;
	return !b->has_used_memory || a->used_memory_bytes > b->used_memory_bytes;
}

static void keep_top(struct gpu_processes *list, const struct gpu_process *proc)
{
	unsigned at = list->count;

	while (at > 0 && ranks_before(proc, &list->top[at - 1]))
		at--;
	if (at >= GPU_PROCESSES_MAX)
		return;
	if (list->count < GPU_PROCESSES_MAX)
		list->count++;
	memmove(&list->top[at + 1], &list->top[at], (list->count - 1 - at) * sizeof(list->top[0]));
	list->top[at] = *proc;
}

/* The position of each separator, for a line whose middle field (the
 * process name) may contain separators of its own. */
static size_t find_separators(const struct field *line, size_t *pos, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < line->len; i++) {
		if (line->p[i] == ',' && (i + 1 == line->len || is_blank(line->p[i + 1]))) {
			if (n < max)
				pos[n] = i;
			n++;
		}
	}
	return n;
}

static struct field slice(const struct field *line, size_t from, size_t to)
{
	struct field f = {line->p + from, to - from};

	trim(&f);
	return f;
}

static bool parse_process(const struct field *line, const struct gpu *devices,
                          struct gpu_process *proc)
{
	size_t sep[64], n = find_separators(line, sep, 64);
	struct field uuid, pid, name, mem;
	size_t last;

	if (n < 3 || n > 64)
		return false;
	last = sep[n - 1];
	uuid = slice(line, 0, sep[0]);
	pid = slice(line, sep[0] + 1, sep[1]);
	name = slice(line, sep[1] + 1, last);
	mem = slice(line, last + 1, line->len);
	memset(proc, 0, sizeof(*proc));
	if (!parse_uint(&pid, 0x7fffffff, &proc->pid) || proc->pid == 0)
		return false;
	if (parse_mib(&mem, &proc->used_memory_bytes) == VALUE_INVALID)
		return false;
	proc->has_used_memory = !field_absent(&mem);
	copy_text(&uuid, proc->gpu_uuid, sizeof(proc->gpu_uuid));
	copy_text(&name, proc->name, sizeof(proc->name));
	proc->gpu_index = -1;
	for (unsigned i = 0; devices && i < devices->count; i++)
		if (proc->gpu_uuid[0] && strcmp(devices->devices[i].uuid, proc->gpu_uuid) == 0)
			proc->gpu_index = (int)devices->devices[i].index;
	return true;
}

int gpu_parse_processes(const char *buf, size_t len, const struct gpu *devices,
                        struct gpu_processes *ret, char *err, size_t errlen)
{
	struct gpu_processes list;
	const char *p = buf, *end = buf + len;
	char first[GPU_LINE_MAX] = "";
	struct field line;

	memset(&list, 0, sizeof(list));
	while (next_line(&p, end, &line)) {
		struct gpu_process proc;
		struct field t = line;

		trim(&t);
		/* Older drivers print this instead of nothing. */
		if (t.len == 0 || field_is(&t, "No running processes found"))
			continue;
		if (!parse_process(&t, devices, &proc)) {
			if (!list.unparsed_lines++)
				keep_line(&t, first, sizeof(first));
			continue;
		}
		list.total++;
		keep_top(&list, &proc);
	}
	if (list.total == 0 && list.unparsed_lines) {
		snprintf(err, errlen, "%s", first);
		return -EINVAL;
	}
	*ret = list;
	return 0;
}

/* ---- running nvidia-smi -------------------------------------------------- */

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first non-empty line of stdout, else of stderr: nvidia-smi reports
 * driver failures on stdout, other programs on stderr. */
static void first_message(const struct runner_result *res, char *buf, size_t size)
{
	const char *sources[] = {res->out, res->err};

	buf[0] = '\0';
	for (size_t i = 0; i < 2 && !buf[0]; i++) {
		const char *p = sources[i], *end = p + strlen(p);
		struct field line;

		while (!buf[0] && next_line(&p, end, &line))
			keep_line(&line, buf, size);
	}
}

/* The runner's name for nvidia-smi runs: one at a time, hung or not. */
#define GPU_RUNNER_TAG "nvidia-smi"

/* Runs one query; 0 when nvidia-smi ran to its end (any exit code), else
 * a negative errno with the reason in err. */
static int run_query(const struct config *cfg, const char *query, unsigned timeout_ms,
                     struct runner_result *res, char *err, size_t errlen)
{
	const char *const argv[] = {cfg->gpu_nvidia_smi, query, GPU_FORMAT_ARG, NULL};
	struct runner_options opts = {
	    .timeout_ms = timeout_ms, .max_output = GPU_OUTPUT_MAX, .tag = GPU_RUNNER_TAG};
	double age = 0;
	char how[64];
	int r;

	r = runner_run(argv, &opts, res);
	/* An earlier one was killed at its deadline and is still there: a
	 * wedged driver holds it in the kernel. Starting more would only pile
	 * them up; this counts as the same hang. */
	if (r == -EBUSY) {
		runner_pending(GPU_RUNNER_TAG, &age);
		snprintf(
		    err, errlen,
		    "nvidia-smi started %.0f s ago has not exited (killed, stuck in the kernel: "
		    "a wedged driver); not started again until it does",
		    age);
		return -ETIMEDOUT;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", cfg->gpu_nvidia_smi,
		         r == -ENOENT ? "not found" : strerror(-r));
		return r;
	}
	if (res->timed_out || res->truncated || res->signaled) {
		runner_describe(res, how, sizeof(how));
		snprintf(err, errlen, "nvidia-smi %s, killed", how);
		r = res->timed_out ? -ETIMEDOUT : res->truncated ? -EMSGSIZE : -EIO;
		runner_result_free(res);
		return r;
	}
	return 0;
}

static void read_processes(const struct config *cfg, long long deadline, struct gpu *g)
{
	struct runner_result res;
	char err[sizeof(g->processes_error)] = "";
	long long left = deadline - monotonic_ms();
	int r;

	if (left < GPU_APPS_MIN_MS) {
		snprintf(g->processes_error, sizeof(g->processes_error),
		         "not read: the GPU query used up the timeout");
		return;
	}
	r = run_query(cfg, "--query-compute-apps=" GPU_APPS_FIELDS, (unsigned)left, &res, err,
	              sizeof(err));
	if (r < 0) {
		snprintf(g->processes_error, sizeof(g->processes_error), "%s", err);
		return;
	}
	if (res.exited && res.exit_code != 0) {
		char line[96];

		first_message(&res, line, sizeof(line));
		snprintf(g->processes_error, sizeof(g->processes_error), "%s%sexit code %d", line,
		         line[0] ? ": " : "", res.exit_code);
	} else if (gpu_parse_processes(res.out, res.out_len, g, &g->processes, err, sizeof(err)) <
	           0) {
		snprintf(g->processes_error, sizeof(g->processes_error), "unexpected output: %s",
		         err);
	} else {
		g->processes_valid = true;
	}
	/* The quoted line may have been cut inside a character. */
	text_sanitize_utf8(g->processes_error);
	runner_result_free(&res);
}

int gpu_read(const struct config *cfg, struct gpu *ret, char *err, size_t errlen)
{
	long long deadline = monotonic_ms() + (long long)cfg->gpu_timeout_ms;
	struct runner_result res;
	char line[GPU_LINE_MAX];
	struct gpu *g;
	int r;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = run_query(cfg, "--query-gpu=" GPU_QUERY_FIELDS, (unsigned)cfg->gpu_timeout_ms, &res,
	              err, errlen);
	if (r < 0)
		goto out;
	r = gpu_parse(res.out, res.out_len, g, err, errlen);
	if (res.exited && res.exit_code != 0) {
		/* Exit 6 with "No devices were found" is an answer; a GPU
		 * that fell off the bus fails the run but leaves the others'
		 * lines: keep them and say so. Anything else is a failure
		 * whose first line says why (NVML version mismatch, no
		 * driver: exit 9). */
		bool answered =
		    r == 0 && (g->total > 0 || strstr(res.out, "No devices were found"));

		if (!answered) {
			first_message(&res, line, sizeof(line));
			if (line[0])
				snprintf(err, errlen, "%s (exit code %d)", line, res.exit_code);
			else
				snprintf(err, errlen, "nvidia-smi: exit code %d", res.exit_code);
			r = -EIO;
		} else if (g->total > 0 && !g->unparsed_lines++) {
			snprintf(g->first_unparsed, sizeof(g->first_unparsed),
			         "nvidia-smi exited with code %d", res.exit_code);
		}
	}
	runner_result_free(&res);
	if (r < 0)
		goto out;
	read_processes(cfg, deadline, g);
	g->taken_at = time(NULL);
	*ret = *g;
	r = 0;
out:
	free(g);
	return r;
}

const struct gpu_device *gpu_hottest(const struct gpu *gpu)
{
	const struct gpu_device *hot = NULL;

	for (unsigned i = 0; i < gpu->count; i++)
		if (gpu->devices[i].has_temperature &&
		    (!hot || gpu->devices[i].temperature_c > hot->temperature_c))
			hot = &gpu->devices[i];
	return hot;
}
