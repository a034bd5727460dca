/* In-memory history of the headline series, for the status page's plots.
 *
 * Fixed memory: the budget is split into `max_series` equal rings of
 * 32-bit values. When the retention at the poll interval does not fit a
 * ring, points are averaged into wider steps (decimation), so the ring
 * always spans the retention. Points sit at multiples of the step (Unix
 * time), so series line up with each other. Not thread-safe: the caller
 * serializes. */
#ifndef SPARKMON_HISTORY_H
#define SPARKMON_HISTORY_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"

#define HISTORY_NAME_MAX 128

struct history;

/* Sizes the history from retention, poll interval and budget (bytes).
 * max_series is how many series can exist at once. NULL when out of memory
 * or when the budget cannot hold one point per series. */
struct history *history_new(uint64_t retention_ms, uint64_t interval_ms, size_t budget,
                            size_t max_series);
void history_free(struct history *h);

/* The step between points, seconds, and the points per series. */
double history_step_seconds(const struct history *h);
size_t history_capacity(const struct history *h);

/* Adds a value at time t to the named series (created on first use while a
 * ring is free; a series without points for a whole retention gives its
 * ring up). `label` is a display name. Returns 0, or -ENOSPC. */
int history_add(struct history *h, const char *name, const char *label, double t, double value);

/* Same for a counter: the series holds its rate per second. A counter that
 * goes backwards (reset) gives no point for that interval. */
int history_add_counter(struct history *h, const char *name, const char *label, double t,
                        double counter);

/* Records the headline series of one snapshot (memory used, overall status,
 * and the areas that exist). `t` is the time of the snapshot. */
void history_record(struct history *h, const struct config *cfg, const struct snapshot *snap,
                    const struct verdict *verdict, double t);

/* {"step_seconds":..,"series":[{"name":..,"label":..,"start":t0,"step":s,
 *  "values":[v or null,...]}]} for the names given (NULL/0: every series,
 * without values), at most max_points values each (adjacent points are
 * averaged to fit). The caller owns the result. */
struct json_object *history_json(const struct history *h, const char *const *names, size_t n,
                                 size_t max_points);

#endif
