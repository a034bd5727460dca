/* The systemd service notification protocol (sd_notify(3)): readiness,
 * status text and watchdog keep-alives, sent as one datagram each to the
 * AF_UNIX socket named by $NOTIFY_SOCKET.
 *
 * Written here rather than linked from libsystemd: the protocol is one
 * datagram of "KEY=VALUE" lines, documented by systemd as a stable
 * interface meant to be reimplemented, while libsystemd brings libgcrypt,
 * liblzma, libzstd, liblz4 and libcap into the daemon's address space
 * (0.9 MiB resident, measured with tests/bench/http.sh) to send it. */
#ifndef SPARKMON_NOTIFY_H
#define SPARKMON_NOTIFY_H

#include <stdint.h>

/* Sends the formatted text to $NOTIFY_SOCKET. Returns 1 when it was sent,
 * 0 when $NOTIFY_SOCKET is unset (not run by systemd), a negative errno
 * when the socket cannot be reached or its name is not usable. */
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval systemd expects keep-alives within, in
 * microseconds, from $WATCHDOG_USEC (honouring $WATCHDOG_PID as
 * sd_watchdog_enabled(3) does); 0 when the watchdog is off or the
 * variables make no sense. */
uint64_t notify_watchdog_usec(void);

#endif
