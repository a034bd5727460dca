/* The daemon's probe scheduler: one thread per probe, each on its own
 * interval, so that a probe that hangs (until its own deadline, or beyond)
 * delays nobody but itself.
 *
 * Each thread runs its probe on a private snapshot, then, under the
 * scheduler's lock, swaps the probe's part of the snapshot (PROBE_AREA in
 * the probe table) and its outcome slot into the shared snapshot. Readers
 * take the same lock; it is held only for those swaps and for reading, never
 * while a probe runs. */
#ifndef SPARKMON_SCHEDULER_H
#define SPARKMON_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"

struct scheduler;

/* Starts every probe's thread; each runs at once, then on its interval. */
int scheduler_start(const struct config *cfg, struct scheduler **ret);

/* Replaces the configuration; every probe runs again at once with it. */
void scheduler_set_config(struct scheduler *s, const struct config *cfg);

/* Waits until a probe has finished a run since generation `seen` or
 * timeout_ms passed; returns the current generation. */
uint64_t scheduler_wait(struct scheduler *s, uint64_t seen, uint64_t timeout_ms);

/* Locks and returns the shared snapshot; scheduler_unlock() releases it. */
struct snapshot *scheduler_lock(struct scheduler *s);
void scheduler_unlock(struct scheduler *s);

/* The probe whose current run has gone on longest beyond `grace` times its
 * interval plus 30 s, or -1 when none has; with the lock held. */
int scheduler_overdue_probe(struct scheduler *s, double grace, double *ret_seconds);

/* How many runs of the probe have been published; with the lock held. */
uint64_t scheduler_probe_runs(struct scheduler *s, enum probe_id id);

/* Asks every thread to stop and waits up to wait_ms for them. Threads still
 * inside a probe are abandoned (the process is about to exit); what they use
 * is not freed then. */
void scheduler_stop(struct scheduler *s, uint64_t wait_ms);

#endif
