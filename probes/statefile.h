/* Files in the state directory that must survive a crash or a power cut
 * whole: the remembered public IP (probes/endpoint.c) and the last
 * reported state of the checks (monitor/alertrun.c). */
#ifndef SPARKMON_STATEFILE_H
#define SPARKMON_STATEFILE_H

#include <stddef.h>

/* Replaces `path` with buf[0..len), whole or not at all: a temporary file
 * beside it ("<path>.tmp", mode 0600 or `mode`), synced, renamed over it,
 * and the directory synced so that the rename outlives a power cut.
 * Written by root into a folder someone else owns, the file is given to
 * that owner (the daemon's user keeps reading what cron's run wrote).
 * Returns 0 or a negative errno; on failure nothing is left behind and the
 * old file stays as it was. */
int statefile_write(const char *path, const char *buf, size_t len, unsigned mode);

#endif
