/* Logging to stderr. Under systemd (JOURNAL_STREAM set) each line starts
 * with a syslog priority prefix such as "<3>", which journald understands. */
#ifndef SPARKMON_LOG_H
#define SPARKMON_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7
};

/* Decides once whether lines get a priority prefix or a timestamp. */
void log_init(bool verbose);
/* A prefix for every line from now on ("collector: "), a string literal. */
void log_set_origin(const char *origin);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
