/* Configuration: built-in defaults, overridden by an INI file (libinih).
 *
 * Every key is described once in a table in config.c: its section, name,
 * type, range and default. Parsing, validation and the normalized printout
 * (`sparkmon config`) are all driven by that table, so the printed form
 * always parses back to the same configuration. */
#ifndef SPARKMON_CONFIG_H
#define SPARKMON_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/sparkmon/sparkmon.conf"
#define CONFIG_PATH_MAX     256

struct config {
	char source[CONFIG_PATH_MAX]; /* file it was read from; "" = built-in defaults */

	/* [general] */
	uint64_t interval_ms;            /* poll interval of the cheap probes */
	char root[CONFIG_PATH_MAX];      /* prefix for /proc, /etc, /run, /usr/lib */
	char state_dir[CONFIG_PATH_MAX]; /* where remembered state lives */

	/* [memory] available below these shares of total → WARNING / CRITICAL;
	 * in hundredths of a percent (1000 = 10%). */
	uint32_t memory_warning_bp;
	uint32_t memory_critical_bp;

	/* [forwarding] */
	bool forwarding_check_persistent;
};

/* Collected problems, one "file:line: message" per line. */
struct config_errors {
	char *text; /* NUL-terminated, newline-separated; NULL when empty */
	size_t count;
};

/* Fills *cfg with the built-in defaults. */
void config_defaults(struct config *cfg);

/* Loads `path` over the defaults. When `path` is NULL the default path is
 * used, and a missing default file means defaults. On any problem returns
 * -EINVAL (or -errno for an unreadable file) and leaves every problem in
 * *errors; *ret is written only on success. */
int config_load(const char *path, struct config *ret, struct config_errors *errors);

/* Same as config_load() on an in-memory text; `name` is used in messages. */
int config_load_string(const char *text, const char *name, struct config *ret,
                       struct config_errors *errors);

/* Prints the normalized configuration: every key, in table order. */
void config_print(const struct config *cfg, FILE *out);

/* Joins the configured root and an absolute path ("/proc/meminfo") into buf.
 * Returns 0, or -ENAMETOOLONG. */
int config_path(const struct config *cfg, const char *abs_path, char *buf, size_t size);

void config_errors_free(struct config_errors *errors);

/* Formatting helpers shared with the outputs. */
int config_parse_duration_ms(const char *text, uint64_t *ret);
void config_format_duration(uint64_t ms, char *buf, size_t size);

#endif
