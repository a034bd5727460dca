/* The collector of `sparkmon serve` (DESIGN.md, trust boundaries): the
 * process that keeps CAP_NET_ADMIN and reads the wg-quick files. It runs
 * the probe scheduler and sends each probe's facts, as each run finishes,
 * and a heartbeat every tick, to the web process (monitor/wire.h). */
#ifndef SPARKMON_COLLECTOR_H
#define SPARKMON_COLLECTOR_H

#include "monitor/config.h"

/* How often a heartbeat goes out at the least. */
#define COLLECTOR_TICK_MS 200

/* Runs until SIGTERM or SIGINT, or until the web process's end of fd is
 * closed; SIGHUP reloads config_path. Returns the exit status. */
int collector_run(const struct config *cfg, const char *config_path, int fd);

#endif
