/* The daemon's alerts (monitor/alertrun.h), in the collector of `sparkmon
 * serve`: a thread of its own evaluates nothing and waits for nobody; the
 * collector's loop hands it each new verdict and goes on, so that a
 * notification receiver that hangs never delays the probes' facts or the
 * heartbeat.
 *
 * Why the collector and not the web process: the web process answers
 * every VPN peer, runs under seccomp with no capability, and must hold no
 * secret; a notify URL often carries a token (an ntfy topic, a Gotify
 * app token, a Slack webhook path), so it is wiped there
 * (config_forget_secrets). The collector already reads the configuration,
 * writes the state directory and runs sparkmon-fetch (with no capability
 * at all, see probes/runner.h); the receivers' answers are parsed there,
 * in that short-lived child, as the endpoint probe's are. */
#ifndef SPARKMON_ALERTER_H
#define SPARKMON_ALERTER_H

#include "monitor/config.h"
#include "monitor/snapshot.h"

struct alerter;

/* Starts the thread. Returns 0 with *ret, or a negative errno. */
int alerter_start(const struct config *cfg, struct alerter **ret);

/* A new configuration for the rounds to come. */
void alerter_set_config(struct alerter *a, const struct config *cfg);

/* Evaluates the verdict of snap (the caller keeps it still meanwhile)
 * and hands it to the thread, replacing one not yet taken. Does nothing
 * without an [alert] notify URL: then `sparkmon check --changes` alone
 * owns the state file. */
void alerter_offer(struct alerter *a, const struct snapshot *snap);

/* Stops the thread (after the round in progress, which is bounded by the
 * notifications' deadlines) and frees a. NULL is fine. */
void alerter_stop(struct alerter *a);

#endif
