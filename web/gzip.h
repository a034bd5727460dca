/* gzip for the published outputs: each is compressed once per rendering
 * and sent to the clients whose Accept-Encoding allows it. */
#ifndef SPARKMON_WEB_GZIP_H
#define SPARKMON_WEB_GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* One gzip member holding the N pieces one after the other, in a malloc'ed
 * buffer (*ret_buf, *ret_len; the caller frees it). 0, -ENOMEM, or -EINVAL
 * when the pieces add up to more than a size_t. */
int gzip_compress(const struct iovec *pieces, size_t n, void **ret_buf, size_t *ret_len);

/* Whether an Accept-Encoding value (RFC 9110, 12.5.3) lets us send gzip:
 * "gzip" (or "x-gzip") with a quality above 0, or, when gzip is not named,
 * "*" with a quality above 0. NULL (no header) or anything else: no. */
bool gzip_accepted(const char *accept_encoding);

#endif
