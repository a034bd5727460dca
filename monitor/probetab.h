/* The probe table: name → run function. It drives `check`, `status` and
 * the daemon's scheduler alike. */
#ifndef SPARKMON_PROBETAB_H
#define SPARKMON_PROBETAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"

/* A probe fills its own part of the snapshot. It returns 0 on success,
 * PROBE_SKIP when it does not apply on this machine, -ETIMEDOUT when cut at
 * a deadline, another negative errno on failure with a reason in err. */
#define PROBE_SKIP 1
typedef int (*probe_run_fn)(const struct config *cfg, struct snapshot *snap, char *err,
                            size_t errlen);

/* Where a probe's part of the snapshot lies. The daemon runs each probe in
 * its own thread on a private snapshot and moves this part (and the
 * probe's outcome slot) into the shared one; nothing else is copied. */
#define PROBE_AREA(field)                                                                          \
	.area_offset = offsetof(struct snapshot, field),                                           \
	.area_size = sizeof(((struct snapshot *)0)->field)

struct probe_def {
	const char *name;
	probe_run_fn run;
	/* PROBE_AREA(field). Its content moves between threads by value: the
	 * run function must accept the part a previous run left (free or
	 * reuse what it points to). */
	size_t area_offset, area_size;
	/* How often the daemon runs it; NULL: the [general] interval. */
	uint64_t (*interval_ms)(const struct config *cfg);
	/* Frees what the part points to, for parts that own memory; NULL: none. */
	void (*release)(struct snapshot *snap);
};

extern const struct probe_def probetab[PROBE__COUNT];

/* Runs one probe, timing it and recording its outcome in its slot. */
void probetab_run(enum probe_id id, const struct config *cfg, struct snapshot *snap);

/* Runs the probes whose bit is set in `mask` (1u << id), one after another. */
void probetab_run_all(const struct config *cfg, struct snapshot *snap, unsigned mask);

/* Frees what every probe's part of the snapshot owns (before free(snap)). */
void probetab_release_all(struct snapshot *snap);

/* Returns the probe's id by name, or -1. */
int probetab_find(const char *name);

#endif
