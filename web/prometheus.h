/* Prometheus exposition of a snapshot and its verdict: the text format
 * 0.0.4 and OpenMetrics 1.0.0. */
#ifndef SPARKMON_PROMETHEUS_H
#define SPARKMON_PROMETHEUS_H

#include <stddef.h>
#include <sys/uio.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"

enum prometheus_format {
	PROMETHEUS_TEXT,        /* text/plain; version=0.0.4 */
	PROMETHEUS_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

#define PROMETHEUS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROMETHEUS_OPENMETRICS_CONTENT_TYPE                                                        \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

/* One rendering serves both formats. The text format is written whole;
 * OpenMetrics differs from it only in some family headers (a counter's
 * family is named without "_total"; HELP text escapes quotes) and its
 * "# EOF" trailer, so it is described as the text with those headers
 * swapped (splices, in text order) and is sent as pieces of the same
 * memory: /metrics in both formats costs one copy of the text. */
struct prometheus_splice {
	size_t text_start, text_end; /* the text header these bytes replace */
	size_t om_start, om_end;     /* in om_headers */
};

struct prometheus_exposition {
	char *text; /* NUL-terminated */
	size_t text_len;
	char *om_headers;
	struct prometheus_splice *splices;
	size_t n_splices;
};

/* Room prometheus_openmetrics_pieces() needs. */
#define PROMETHEUS_PIECES_MAX(x) (2 * (x)->n_splices + 2)

/* Renders every family. Returns 0, or -ENOMEM (then *ret is untouched);
 * free with prometheus_exposition_free(). */
int prometheus_expose(const struct config *cfg, const struct snapshot *snap,
                      const struct verdict *verdict, struct prometheus_exposition *ret);
void prometheus_exposition_free(struct prometheus_exposition *x);

/* The OpenMetrics body as at most PROMETHEUS_PIECES_MAX(x) pieces pointing
 * into *x; returns their number. */
size_t prometheus_openmetrics_pieces(const struct prometheus_exposition *x, struct iovec *iov);

/* Renders every family in one format into a malloc'ed, NUL-terminated
 * buffer. Returns 0, or -ENOMEM (then *ret is untouched). */
int prometheus_render(const struct config *cfg, const struct snapshot *snap,
                      const struct verdict *verdict, enum prometheus_format format, char **ret,
                      size_t *ret_len);

/* Picks the format an Accept header asks for (NULL = text). OpenMetrics only
 * when it is listed with a non-zero quality. */
enum prometheus_format prometheus_negotiate(const char *accept);

#endif
