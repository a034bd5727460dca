/* Memory summary from /proc/meminfo, as free(1) shows it. */
#ifndef SPARKMON_MEMINFO_H
#define SPARKMON_MEMINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

struct meminfo {
	uint64_t total;      /* bytes */
	uint64_t free;       /* MemFree */
	uint64_t available;  /* MemAvailable (MemFree on kernels older than 3.14) */
	uint64_t used;       /* total - available, as procps-ng >= 4.0.1 counts it */
	uint64_t buff_cache; /* Buffers + Cached + SReclaimable, free(1)'s buff/cache */
	uint64_t swap_total;
	uint64_t swap_free;
	bool available_estimated; /* MemAvailable was missing */
};

/* Parses a /proc/meminfo text. Requires MemTotal, MemFree, SwapTotal and
 * SwapFree in kB; rejects duplicates, bad units and values that overflow.
 * On error returns -EINVAL/-ERANGE and writes a reason to err. */
int meminfo_parse(const char *buf, size_t len, struct meminfo *ret, char *err, size_t errlen);

/* Reads <root>/proc/meminfo and parses it. */
int meminfo_read(const struct config *cfg, struct meminfo *ret, char *err, size_t errlen);

#endif
