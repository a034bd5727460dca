/* The probe table: name → run function. It drives `check`, `status` and
 * the daemon's scheduler alike. */
#ifndef SPARKMON_PROBETAB_H
#define SPARKMON_PROBETAB_H

#include <stdbool.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"

/* A probe fills its own part of the snapshot. It returns 0 on success,
 * PROBE_SKIP when it does not apply on this machine, -ETIMEDOUT when cut at
 * a deadline, another negative errno on failure with a reason in err. */
#define PROBE_SKIP 1
typedef int (*probe_run_fn)(const struct config *cfg, struct snapshot *snap, char *err,
                            size_t errlen);

struct probe_def {
	const char *name;
	probe_run_fn run;
};

extern const struct probe_def probetab[PROBE__COUNT];

/* Runs one probe, timing it and recording its outcome in its slot. */
void probetab_run(enum probe_id id, const struct config *cfg, struct snapshot *snap);

/* Runs the probes whose bit is set in `mask` (1u << id), one after another. */
void probetab_run_all(const struct config *cfg, struct snapshot *snap, unsigned mask);

/* Returns the probe's id by name, or -1. */
int probetab_find(const char *name);

#endif
