/* Prometheus exposition of a snapshot and its verdict: the text format
 * 0.0.4 and OpenMetrics 1.0.0. */
#ifndef SPARKMON_PROMETHEUS_H
#define SPARKMON_PROMETHEUS_H

#include <stddef.h>

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

/* Renders every family into a malloc'ed, NUL-terminated buffer. Returns 0,
 * or -ENOMEM (then *ret is untouched). */
int prometheus_render(const struct config *cfg, const struct snapshot *snap,
                      const struct verdict *verdict, enum prometheus_format format, char **ret,
                      size_t *ret_len);

/* Picks the format an Accept header asks for (NULL = text). OpenMetrics only
 * when it is listed with a non-zero quality. */
enum prometheus_format prometheus_negotiate(const char *accept);

#endif
