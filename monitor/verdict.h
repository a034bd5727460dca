/* The verdict: turns a snapshot into named checks with a status, a one-line
 * summary and a hint. Thresholds live here, not in the probes; nothing here
 * does I/O. */
#ifndef SPARKMON_VERDICT_H
#define SPARKMON_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"

/* Values are the monitoring-plugins exit codes. */
enum check_status {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3,
};

#define CHECK_ID_MAX       48
#define CHECK_TEXT_MAX     512
#define CHECK_FIX_MAX      12
#define CHECK_FIX_TEXT_MAX 400

struct check {
	char id[CHECK_ID_MAX];
	enum check_status status;
	char summary[CHECK_TEXT_MAX];
	char hint[CHECK_TEXT_MAX]; /* what to run to fix it; "" when OK */
	/* Shell commands that fix it now, in order: each runnable by sh as
	 * root as written (real names, outside text shell-quoted). Only for a
	 * check that is not OK; n_fix = 0 when none is known. */
	char fix[CHECK_FIX_MAX][CHECK_FIX_TEXT_MAX];
	size_t n_fix;
};

#define VERDICT_CHECKS_MAX 32

struct verdict {
	struct check checks[VERDICT_CHECKS_MAX];
	size_t count;
	enum check_status overall; /* the worst check; OK when there are none */
};

/* Selection of checks by id or by area ("forwarding" = "forwarding.*"). */
struct check_filter {
	const char *patterns[VERDICT_CHECKS_MAX];
	size_t count; /* 0 = every check */
};

/* Parses "ID[,ID...]" into *ret. Unknown ids give -EINVAL and the offending
 * id in bad. The filter points into `list`, which must outlive it. */
int verdict_parse_filter(char *list, struct check_filter *ret, char *bad, size_t badlen);

/* Which probes the selected checks need (bit 1u << probe_id). */
unsigned verdict_probe_mask(const struct check_filter *filter);

/* Evaluates the selected checks on a snapshot. */
void verdict_evaluate(const struct config *cfg, const struct snapshot *snap,
                      const struct check_filter *filter, struct verdict *ret);

/* Sets a check's status, summary (printf-style) and hint; an OK check
 * keeps no hint and no fix commands. */
void verdict_set_check(struct check *out, enum check_status status, const char *hint,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "OK", "WARNING", ... as the plugin line prints them. */
const char *verdict_status_upper(enum check_status status);
/* "ok", "warning", ... as JSON carries them. */
const char *verdict_status_lower(enum check_status status);

/* Orders statuses by how bad they are: OK < WARNING < UNKNOWN < CRITICAL.
 * Something known to be broken outranks something that could not be told. */
int verdict_severity(enum check_status status);

/* The i-th known check id, or NULL past the end (for --help). */
const char *verdict_check_id(size_t i);

/* A WireGuard peer, judged by the age of its last handshake. */
enum verdict_peer_state {
	VERDICT_PEER_NEVER, /* no handshake since the interface came up */
	VERDICT_PEER_UP,    /* handshake within REJECT_AFTER_TIME + poll interval */
	VERDICT_PEER_STALE, /* older, up to the configured stale limit */
	VERDICT_PEER_DOWN,  /* older than the stale limit */
};

/* Seconds from p's last handshake to `now` (pass the snapshot's
 * wireguard.collected_at), -1 when there was none. A handshake after `now`
 * (the wall clock stepped back) is age 0. */
int64_t verdict_peer_age(const struct wireguard_peer *p, time_t now);

/* The state of p at `now` (the snapshot's wireguard.collected_at), from
 * its age, the poll interval and wireguard_stale_after_ms. */
enum verdict_peer_state verdict_peer_state(const struct config *cfg, const struct wireguard_peer *p,
                                           time_t now);

/* "never", "up", "stale", "down", as every output spells them. */
const char *verdict_peer_state_name(enum verdict_peer_state state);

#endif
