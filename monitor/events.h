/* The last changes of the checks' states, for the status page's timeline
 * (/api/events).
 *
 * A fixed ring of EVENTS_MAX entries, allocated whole when made, so that its
 * memory is known up front and counted in the history budget: the oldest
 * change gives way to the newest. A summary longer than EVENTS_SUMMARY_MAX
 * is cut, marked with "...". Not thread-safe: the caller serializes. */
#ifndef SPARKMON_EVENTS_H
#define SPARKMON_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "monitor/verdict.h"

#define EVENTS_MAX         100
#define EVENTS_SUMMARY_MAX 240

struct events;

/* A ring of `capacity` entries (at least 1). NULL when out of memory. */
struct events *events_new(size_t capacity);
void events_free(struct events *ev);

/* The bytes a ring of `capacity` entries allocates. */
size_t events_footprint(size_t capacity);

/* Records that check `id` went from `from` to `to` at Unix time t, with
 * the summary it has now. `known` is false for a check seen for the first
 * time (no previous state: "from" is null in the JSON). */
void events_add(struct events *ev, double t, const char *id, bool known, enum check_status from,
                enum check_status to, const char *summary);

/* Every change of `now` against `old` (the previous round's verdict), in
 * the order of `now`'s checks: a check whose status differs, or that `old`
 * does not have. */
void events_record(struct events *ev, const struct verdict *old, const struct verdict *now,
                   double t);

/* How many entries are held. */
size_t events_count(const struct events *ev);

/* {"capacity":N,"events":[{"time":t,"check":id,"from":"ok"|null,"to":..,
 *  "summary":..},...]}, newest first; NULL ev gives an empty list. The
 * caller owns the result. */
struct json_object *events_json(const struct events *ev);

/* events_json() as compact JSON text, for /api/events. The caller frees
 * it; NULL when out of memory. */
char *events_reply(const struct events *ev, size_t *ret_len);

#endif
