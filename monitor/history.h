/* In-memory history of the headline series, for the status page's plots.
 *
 * Fixed memory, within the budget: each of `max_series` series has two
 * rings of 32-bit values, one with the last hour at the poll interval and
 * one that spans the whole retention with points averaged into wider steps
 * (decimation), each of at most HISTORY_POINTS points; a smaller budget
 * gets fewer, wider points. A ring's memory is written in full when its
 * series appears, so the resident size is what it will be a day later.
 * Points sit at multiples of the step (Unix time), so series line up with
 * each other. Not thread-safe: the caller serializes. */
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
/* Points per series in each ring: what a reply carries at most. */
#define HISTORY_POINTS 720
/* The span of the ring at the poll interval. */
#define HISTORY_FINE_MS (3600 * 1000ull)

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
 * ring is free; when none is, the ring of the series left longest without
 * points is taken over, provided it got none in the current step: a series
 * still being fed is never lost). `label` is a display name. Returns 0, or
 * -ENOSPC. */
int history_add(struct history *h, const char *name, const char *label, double t, double value);

/* Same, for a series whose points keep the highest value given in their
 * step, also when adjacent points are merged to fit a reply: a short spike
 * stays visible at any zoom. The series' kind is fixed when it is created. */
int history_add_worst(struct history *h, const char *name, const char *label, double t,
                      double value);

/* Same for a counter: the series holds its rate per second. A counter that
 * goes backwards (reset) gives no point for that interval. */
int history_add_counter(struct history *h, const char *name, const char *label, double t,
                        double counter);

/* How many series a history needs for a configuration: the headline ones,
 * two per GPU, and three (rx and tx rate, handshake age) per selected peer
 * (see history_select_peers()). */
size_t history_series_for(const struct config *cfg);

/* The bytes the history allocated: never more than the budget given to
 * history_new(), whatever is recorded (series only get existing rings). */
size_t history_footprint(const struct history *h);

/* Series that exist now. */
size_t history_series_count(const struct history *h);

/* A peer chosen for series: device and peer index in the snapshot. */
struct history_peer_ref {
	size_t device, peer;
};

/* Chooses the peers that get series: every peer with a [peer NAME] section
 * in the configuration (named or required), then the `busiest` others that
 * moved the most bytes (rx + tx) since their interface came up, ties by
 * public key. Totals rather than the last round's rate: the choice is
 * stable from round to round (no series churn) and needs no state per
 * peer, which with many peers would not fit a fixed budget. Writes at
 * most `max` entries to ret; returns how many. */
size_t history_select_peers(const struct config *cfg, const struct wireguard *wg, size_t busiest,
                            struct history_peer_ref *ret, size_t max);

/* Records the headline series of one snapshot (memory used, overall status,
 * GPU temperature and utilization, the selected peers' rates and handshake
 * ages). `t` is the time of the snapshot. */
void history_record(struct history *h, const struct config *cfg, const struct snapshot *snap,
                    const struct verdict *verdict, double t);

/* {"step_seconds":..,"series":[{"name":..,"label":..,"start":t0,"step":s,
 *  "values":[v or null,...]}]} for the names given (NULL/0: every series,
 * without values), at most max_points values each (adjacent points are
 * averaged to fit). The caller owns the result. */
struct json_object *history_json(const struct history *h, const char *const *names, size_t n,
                                 size_t max_points);

/* Names a query may ask for at once; more are ignored. */
#define HISTORY_QUERY_MAX 64

/* The reply to /api/history?series=NAME,NAME,... (series as the query
 * gives it, decoded; NULL when absent): history_json() of the names in
 * the comma-separated list (empty ones skipped, at most HISTORY_QUERY_MAX),
 * as compact JSON text. The caller frees it; NULL when out of memory. */
char *history_reply(const struct history *h, const char *series, size_t max_points,
                    size_t *ret_len);

#endif
