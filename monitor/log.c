#include "monitor/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static bool log_prefix_priority;
static bool log_verbose;
static const char *log_origin = "";

void log_set_origin(const char *origin)
{
	log_origin = origin;
}

void log_init(bool verbose)
{
	/* journald sets JOURNAL_STREAM for services whose stderr it reads. */
	log_prefix_priority = getenv("JOURNAL_STREAM") != NULL;
	log_verbose = verbose;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level == LOG_LEVEL_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_prefix_priority) {
		fprintf(stderr, "<%d>%s%s\n", (int)level, log_origin, line);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
		fprintf(stderr, "%s sparkmon: %s%s\n", stamp, log_origin, line);
	}
}
