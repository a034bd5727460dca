/* Userspace WireGuard implementations (wireguard-go, boringtun): the
 * cross-platform UAPI text protocol on /var/run/wireguard/<if>.sock.
 * `get=1\n\n` is answered with key=value lines, keys in hex, and a final
 * `errno=N` line followed by an empty line. */
#ifndef SPARKMON_WGUAPI_H
#define SPARKMON_WGUAPI_H

#include <stddef.h>

#include "probes/wireguard.h"

/* A reply larger than this is refused: 5000 peers take about 2 MiB. */
#define WGUAPI_REPLY_MAX (32u << 20)

/* Parses a complete `get` reply into dev (WireGuard fields only; link
 * facts are left alone). private_key is turned into the device's public
 * key and forgotten; preshared_key lines are skipped. Unknown keys are
 * ignored. Returns 0; the negated errno of a nonzero `errno=` line;
 * -EBADMSG with a reason in err for a malformed or unterminated reply;
 * -ENOMEM. */
int wguapi_parse(const char *buf, size_t len, struct wireguard_device *dev, char *err,
                 size_t errlen);

/* Connects to `path`, sends `get=1`, reads the reply with a deadline and
 * parses it. The reply buffer is wiped before it is freed. */
int wguapi_read_device(const char *path, struct wireguard_device *dev, unsigned timeout_ms,
                       char *err, size_t errlen);

#endif
