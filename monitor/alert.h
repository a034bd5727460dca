/* Alerts that reach a person once per change: the last reported state of
 * each check, what changed since (a check that became not OK, changed its
 * status, or recovered), reminders of what is still not OK, the
 * notifications not yet delivered, and each notification's body in the
 * receiving service's format. Nothing here does I/O: monitor/alertrun.c
 * reads and writes the state file and posts the notifications. */
#ifndef SPARKMON_ALERT_H
#define SPARKMON_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "monitor/config.h"
#include "monitor/verdict.h"

#define ALERT_STATE_FILE  "alerts" /* in [general] state_dir */
#define ALERT_STATE_MAGIC "sparkmon-alerts 1"
#define ALERT_STATE_MAX   (1024 * 1024) /* a larger file is not ours */
#define ALERT_CHECKS_MAX  64
/* Undelivered notifications kept per state file: beyond this the oldest
 * are dropped (and counted), so a receiver that is down for months cannot
 * grow the file without bound. */
#define ALERT_PENDING_MAX 64
#define ALERT_HEADERS_MAX 4
#define ALERT_HEADER_MAX  256
#define ALERT_BODY_MAX    16384 /* the most a notification sends */

enum alert_kind {
	ALERT_NEW,       /* OK (or never reported) before, not OK now */
	ALERT_CHANGED,   /* not OK before and now, another status */
	ALERT_RECOVERED, /* not OK before, OK now (or no longer checked) */
	ALERT_REMINDER,  /* not OK, unchanged, last reported `remind` ago */
};

/* One change, as it is printed and sent. Texts are one line each. */
struct alert_event {
	enum alert_kind kind;
	char id[CHECK_ID_MAX];
	enum check_status status; /* now */
	enum check_status before; /* as last reported */
	time_t at;                /* when the change was seen */
	time_t since;             /* since when `before` (recovery) or `status` held */
	char summary[CHECK_TEXT_MAX];
	char hint[CHECK_TEXT_MAX]; /* "" when there is none */
};

/* What was last reported of one check. */
struct alert_check {
	char id[CHECK_ID_MAX];
	enum check_status status;
	time_t since;    /* the status holds since */
	time_t reported; /* last told to a person (first report or reminder) */
};

/* A notification not delivered yet: one event for one URL, known by
 * alert_url_key() (the state file never holds a URL). */
struct alert_pending {
	uint64_t to;
	struct alert_event event;
};

struct alert_state {
	size_t n_checks;
	struct alert_check checks[ALERT_CHECKS_MAX];
	size_t n_pending;
	struct alert_pending pending[ALERT_PENDING_MAX];
	uint64_t dropped; /* pending notifications dropped, oldest first, since the file began */
};

/* One notification as posted: headers ("Name: value") and the body. */
struct alert_message {
	char headers[ALERT_HEADERS_MAX][ALERT_HEADER_MAX];
	size_t n_headers;
	char body[ALERT_BODY_MAX + 1];
	size_t body_len;
	size_t shown; /* events the body holds (the rest are counted in it) */
};

/* Parses a state file. Returns 0 and fills *ret, or -EINVAL for anything
 * that is not exactly what alert_state_format() writes (truncated, a bad
 * line, a field out of range); *ret is written only on success. */
int alert_state_parse(const char *buf, size_t len, struct alert_state *ret);

/* Writes the state file's text into a fresh buffer (*ret, *ret_len; the
 * caller frees it). Returns 0 or -ENOMEM. */
int alert_state_format(const struct alert_state *st, char **ret, size_t *ret_len);

/* Compares the verdict with what was last reported, records the new
 * state in st and writes the changes to ret (at most max; the verdict has
 * at most VERDICT_CHECKS_MAX checks, so 2 * VERDICT_CHECKS_MAX is always
 * enough). When nothing changed but some check is still not OK and was
 * last reported `remind_s` ago or more, every check not OK is reminded.
 * `complete`: the verdict holds every check (no --only), so that a check
 * not OK before and absent now is over (RECOVERED, "no longer checked");
 * otherwise absent checks keep their state. Returns the number of events. */
size_t alert_diff(struct alert_state *st, const struct verdict *v, bool complete, time_t now,
                  uint64_t remind_s, struct alert_event *ret, size_t max);

/* A stable 64-bit name of a URL (FNV-1a), for pending notifications. */
uint64_t alert_url_key(const char *url);

/* Queues each event for each key; when the queue is full the oldest
 * entries make room and are counted in st->dropped. */
void alert_queue(struct alert_state *st, const uint64_t *keys, size_t n_keys,
                 const struct alert_event *events, size_t n);

/* One line per event, as `check --changes` prints them:
 *   CRITICAL forwarding.ipv4: <summary> (fix: <hint>)
 *   WARNING firewall.forward (was CRITICAL): <summary> (fix: <hint>)
 *   RECOVERED forwarding.ipv4 (was CRITICAL for 5m 2s): <summary>
 *   STILL CRITICAL forwarding.ipv4 (for 1d 2h): <summary> (fix: <hint>) */
void alert_print_text(const struct alert_event *events, size_t n, FILE *out);

/* The notification of events for a service: headers and body in
 * `format`, the body at most ALERT_BODY_MAX bytes (events that do not fit
 * are left out and counted in it). Returns 0 or -ENOMEM. */
int alert_render(enum config_alert_format format, const char *host,
                 const struct alert_event *events, size_t n, struct alert_message *ret);

#endif
