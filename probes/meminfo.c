#include "probes/meminfo.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/config.h"
#include "probes/readfile.h"

/* /proc/meminfo is about 1.5 KiB; anything beyond this is not meminfo. */
#define MEMINFO_MAX (64 * 1024)

enum field {
	F_TOTAL,
	F_FREE,
	F_AVAILABLE,
	F_BUFFERS,
	F_CACHED,
	F_SRECLAIMABLE,
	F_SWAP_TOTAL,
	F_SWAP_FREE,
	F__COUNT
};

static const char *const field_names[F__COUNT] = {
    "MemTotal", "MemFree",      "MemAvailable", "Buffers",
    "Cached",   "SReclaimable", "SwapTotal",    "SwapFree",
};

/* Fields without which the summary means nothing. */
static const enum field required[] = {F_TOTAL, F_FREE, F_SWAP_TOTAL, F_SWAP_FREE};

static int find_field(const char *name, size_t len)
{
	for (int i = 0; i < F__COUNT; i++)
		if (strlen(field_names[i]) == len && memcmp(field_names[i], name, len) == 0)
			return i;
	return -1;
}

/* "   123456 kB" → bytes. The kernel always prints kB for these fields. */
static int parse_kb(const char *p, const char *end, uint64_t *ret)
{
	uint64_t kb = 0;
	bool digits = false;

	while (p < end && *p == ' ')
		p++;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (kb > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		kb = kb * 10 + (uint64_t)(*p - '0');
		digits = true;
	}
	if (!digits || end - p != 3 || memcmp(p, " kB", 3) != 0)
		return -EINVAL;
	if (kb > UINT64_MAX / 1024)
		return -ERANGE;
	*ret = kb * 1024;
	return 0;
}

static int parse_line(const char *line, const char *end, uint64_t values[], bool seen[], char *err,
                      size_t errlen)
{
	const char *colon = memchr(line, ':', (size_t)(end - line));
	int f, r;

	if (!colon) {
		snprintf(err, errlen, "malformed line '%.*s'",
		         (int)(end - line > 40 ? 40 : end - line), line);
		return -EINVAL;
	}
	f = find_field(line, (size_t)(colon - line));
	if (f < 0)
		return 0; /* a field we do not use */
	if (seen[f]) {
		snprintf(err, errlen, "%s appears twice", field_names[f]);
		return -EINVAL;
	}
	r = parse_kb(colon + 1, end, &values[f]);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", field_names[f],
		         r == -ERANGE ? "value too large" : "expected '<number> kB'");
		return r;
	}
	seen[f] = true;
	return 0;
}

static int check_consistent(const uint64_t v[], char *err, size_t errlen)
{
	if (v[F_AVAILABLE] > v[F_TOTAL] || v[F_FREE] > v[F_TOTAL]) {
		snprintf(err, errlen, "MemFree or MemAvailable exceeds MemTotal");
		return -EINVAL;
	}
	if (v[F_SWAP_FREE] > v[F_SWAP_TOTAL]) {
		snprintf(err, errlen, "SwapFree exceeds SwapTotal");
		return -EINVAL;
	}
	if (v[F_TOTAL] == 0) {
		snprintf(err, errlen, "MemTotal is 0");
		return -EINVAL;
	}
	return 0;
}

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int meminfo_parse(const char *buf, size_t len, struct meminfo *ret, char *err, size_t errlen)
{
	uint64_t v[F__COUNT] = {0};
	bool seen[F__COUNT] = {false};
	const char *p = buf, *end = buf + len;
	int r;

	/* The kernel ends every line with a newline: a last line without one
	 * was cut (a short read), and its value may be cut too. */
	if (len > 0 && buf[len - 1] != '\n') {
		snprintf(err, errlen, "truncated: the last line has no newline");
		return -EINVAL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;

		if (line_end > p) {
			r = parse_line(p, line_end, v, seen, err, errlen);
			if (r < 0)
				return r;
		}
		p = nl ? nl + 1 : end;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!seen[required[i]]) {
			snprintf(err, errlen, "%s missing", field_names[required[i]]);
			return -EINVAL;
		}
	}
	if (!seen[F_AVAILABLE])
		v[F_AVAILABLE] = v[F_FREE];
	r = check_consistent(v, err, errlen);
	if (r < 0)
		return r;
	ret->total = v[F_TOTAL];
	ret->free = v[F_FREE];
	ret->available = v[F_AVAILABLE];
	ret->used = v[F_TOTAL] - v[F_AVAILABLE];
	ret->buff_cache =
	    add_saturating(add_saturating(v[F_BUFFERS], v[F_CACHED]), v[F_SRECLAIMABLE]);
	ret->swap_total = v[F_SWAP_TOTAL];
	ret->swap_free = v[F_SWAP_FREE];
	ret->available_estimated = !seen[F_AVAILABLE];
	return 0;
}

int meminfo_read(const struct config *cfg, struct meminfo *ret, char *err, size_t errlen)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len;
	int r;

	r = config_path(cfg, "/proc/meminfo", path, sizeof(path));
	if (r < 0) {
		snprintf(err, errlen, "path too long");
		return r;
	}
	r = readfile_read(path, MEMINFO_MAX, &buf, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = meminfo_parse(buf, len, ret, err, errlen);
	free(buf);
	return r;
}
