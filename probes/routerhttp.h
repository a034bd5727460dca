/* One HTTP/1.0 exchange with a device on the LAN (a router's UPnP
 * description and control URLs): connect, send the request, read the
 * answer until the device closes. Under one deadline for the whole
 * exchange and a cap on the bytes read: libminiupnpc's own HTTP client
 * waits per read, not in all, and keeps an answer of any size. */
#ifndef SPARKMON_ROUTERHTTP_H
#define SPARKMON_ROUTERHTTP_H

#include <stddef.h>

#include "probes/routermsg.h"

/* Milliseconds of CLOCK_MONOTONIC: deadlines are in this clock. */
long long routerhttp_now_ms(void);

/* Sends request (len bytes) to url's host and port, reads the answer into
 * a buffer of at most cap bytes (*ret, NUL-terminated, the caller frees).
 * Returns 0; -ETIMEDOUT at the deadline; -E2BIG when the answer is longer
 * than cap; connect and read errors as negative errno. err always says
 * what happened on failure. */
int routerhttp_exchange(const struct routermsg_url *url, const char *request, size_t len,
                        long long deadline_ms, size_t cap, char **ret, size_t *ret_len, char *err,
                        size_t errlen);

#endif
