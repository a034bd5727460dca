/* One round of alerts (monitor/alert.h) with its I/O: the state file in
 * [general] state_dir, read and replaced under a lock so that `sparkmon
 * check --changes` from cron and the daemon share it (a change is then
 * reported once, by whichever saw it first), the changes printed, and each
 * [alert] notify URL sent what it has not received yet, through
 * sparkmon-fetch --post. */
#ifndef SPARKMON_ALERTRUN_H
#define SPARKMON_ALERTRUN_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "monitor/config.h"
#include "monitor/verdict.h"

/* Attempts per URL and round; a timeout is not tried again in the same
 * round (the next round does). */
#define ALERTRUN_ATTEMPTS 3

struct alertrun {
	const struct config *cfg;
	const struct verdict *verdict;
	bool complete;    /* the verdict holds every check (see alert_diff) */
	const char *host; /* named in the notifications */
	time_t now;
	/* Where the changes are printed (before anything is sent), or NULL. */
	FILE *out;
	/* Log a delivered notification (the daemon) or keep quiet (cron:
	 * output is mail). Failures are always logged. */
	bool log_sent;
	/* Send what earlier rounds could not deliver even when nothing
	 * changed now (cron: every run; the daemon, whose rounds follow
	 * each other within seconds: after a backoff). */
	bool retry;
};

/* Compares the verdict with what was last reported, records and prints
 * the changes, queues them for every notify URL and sends what each has
 * not received: one attempt per URL, then retries within about
 * 3 * [alert] timeout. What cannot be sent
 * stays in the state file for the next round, with a log line. A missing
 * state file means nothing was reported yet; a corrupt one is logged,
 * ignored and replaced. Returns the number of notifications still
 * undelivered (0 when all went out), or a negative errno when the state
 * could not be read or written (logged; the changes were still printed). */
int alertrun_round(const struct alertrun *run);

#endif
