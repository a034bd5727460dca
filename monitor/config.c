#include "monitor/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "probes/readfile.h"

/* A configuration file larger than this is certainly a mistake. */
#define CONFIG_FILE_MAX (256 * 1024)
/* libinih's line buffer (INI_MAX_LINE in Debian's build). */
#define CONFIG_LINE_MAX 200

enum key_type { KEY_DURATION, KEY_PERCENT, KEY_BOOL, KEY_PATH };

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	uint64_t min, max; /* ms for durations, hundredths of a percent for percents */
	const char *doc;
};

#define FIELD(f)   offsetof(struct config, f)
#define SECONDS(n) ((uint64_t)(n)*1000)

static const struct key_def config_keys[] = {
    {"general", "interval", KEY_DURATION, FIELD(interval_ms), SECONDS(1), SECONDS(3600),
     "how often the cheap probes run"},
    {"general", "root", KEY_PATH, FIELD(root), 0, 0,
     "prefix for /proc, /etc, /run and /usr/lib (tests point it at fixtures)"},
    {"general", "state_dir", KEY_PATH, FIELD(state_dir), 0, 0,
     "where sparkmon remembers state between runs"},
    {"memory", "warning_below", KEY_PERCENT, FIELD(memory_warning_bp), 1, 9999,
     "WARNING when available memory falls below this share of total"},
    {"memory", "critical_below", KEY_PERCENT, FIELD(memory_critical_bp), 1, 9999,
     "CRITICAL when available memory falls below this share of total"},
    {"forwarding", "check_persistent", KEY_BOOL, FIELD(forwarding_check_persistent), 0, 0,
     "warn when net.ipv4.ip_forward is on now but would be off after a reboot"},
};
#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->interval_ms = SECONDS(5);
	strcpy(cfg->root, "/");
	strcpy(cfg->state_dir, "/var/lib/sparkmon");
	cfg->memory_warning_bp = 1000;
	cfg->memory_critical_bp = 500;
	cfg->forwarding_check_persistent = true;
}

/* ---- errors -------------------------------------------------------------- */

static void errors_add(struct config_errors *errors, const char *name, int line, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

static void errors_add(struct config_errors *errors, const char *name, int line, const char *fmt,
                       ...)
{
	char msg[512], where[CONFIG_PATH_MAX + 32];
	size_t old = errors->text ? strlen(errors->text) : 0;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d: ", name, line);
	else
		snprintf(where, sizeof(where), "%s: ", name);
	text = realloc(errors->text, old + strlen(where) + strlen(msg) + 2);
	if (!text)
		return; /* out of memory: count it, lose the text */
	sprintf(text + old, "%s%s\n", where, msg);
	errors->text = text;
	errors->count++;
}

void config_errors_free(struct config_errors *errors)
{
	if (!errors)
		return;
	free(errors->text);
	errors->text = NULL;
	errors->count = 0;
}

/* ---- value types --------------------------------------------------------- */

/* Durations: one or more <integer><unit> groups, unit ms, s, m, h or d
 * ("5s", "1m30s"). A bare number is refused: "5" could mean anything. */
int config_parse_duration_ms(const char *text, uint64_t *ret)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	uint64_t total = 0;
	const char *p = text;

	if (!*p)
		return -EINVAL;
	while (*p) {
		uint64_t n = 0, mul = 0;
		size_t i, len = 0;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (n > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			n = n * 10 + (uint64_t)(*p - '0');
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ulen = strlen(units[i].unit);

			/* Longest match first matters only for "ms" vs "m". */
			if (strncmp(p, units[i].unit, ulen) == 0 && ulen > len) {
				mul = units[i].ms;
				len = ulen;
			}
		}
		if (!mul)
			return -EINVAL;
		p += len;
		if (n > (UINT64_MAX - total) / mul)
			return -ERANGE;
		total += n * mul;
	}
	*ret = total;
	return 0;
}

void config_format_duration(uint64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, size, "%llu%s", (unsigned long long)(ms / units[i].ms),
			         units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%llums", (unsigned long long)ms);
}

/* Percentages: "10%", "7.5%", "0.25%"; stored in hundredths of a percent. */
static int parse_percent_bp(const char *text, uint32_t *ret)
{
	uint64_t whole = 0, frac = 0;
	int frac_digits = 0;
	const char *p = text;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 100)
			return -ERANGE;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (++frac_digits > 2)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
		if (frac_digits == 1)
			frac *= 10;
	}
	if (strcmp(p, "%") != 0)
		return -EINVAL;
	*ret = (uint32_t)(whole * 100 + frac);
	return 0;
}

static void format_percent(uint32_t bp, char *buf, size_t size)
{
	if (bp % 100 == 0)
		snprintf(buf, size, "%u%%", bp / 100);
	else if (bp % 10 == 0)
		snprintf(buf, size, "%u.%u%%", bp / 100, (bp % 100) / 10);
	else
		snprintf(buf, size, "%u.%02u%%", bp / 100, bp % 100);
}

static int parse_bool(const char *text, bool *ret)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Absolute paths only; a trailing slash is dropped so that joining is simple. */
static int parse_path(const char *text, char *ret, size_t size)
{
	size_t len = strlen(text);

	if (text[0] != '/')
		return -EINVAL;
	while (len > 1 && text[len - 1] == '/')
		len--;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(ret, text, len);
	ret[len] = '\0';
	return 0;
}

/* ---- the INI handler ----------------------------------------------------- */

struct parse_state {
	struct config cfg;
	struct config_errors *errors;
	const char *name; /* file name for messages */
	const char *text, *end;
	int line;                        /* line the reader returned last */
	int seen_line[CONFIG_KEY_COUNT]; /* where each key was set, 0 = not set */
	char last_bad_section[64];       /* report an unknown section once */
};

static const struct key_def *find_key(const char *section, const char *name, size_t *index)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0) {
			*index = i;
			return &config_keys[i];
		}
	}
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		if (strcmp(config_keys[i].section, section) == 0)
			return true;
	return false;
}

static void set_value(struct parse_state *st, const struct key_def *key, const char *value)
{
	char *field = (char *)&st->cfg + key->offset;
	char lo[32], hi[32];
	int r;

	switch (key->type) {
	case KEY_DURATION: {
		uint64_t ms;

		r = config_parse_duration_ms(value, &ms);
		if (r < 0) {
			errors_add(st->errors, st->name, st->line,
			           "%s: '%s' is not a duration (examples: 500ms, 5s, 2m, 1h)",
			           key->name, value);
			return;
		}
		if (ms < key->min || ms > key->max) {
			config_format_duration(key->min, lo, sizeof(lo));
			config_format_duration(key->max, hi, sizeof(hi));
			errors_add(st->errors, st->name, st->line,
			           "%s: %s is out of range (%s..%s)", key->name, value, lo, hi);
			return;
		}
		memcpy(field, &ms, sizeof(ms));
		return;
	}
	case KEY_PERCENT: {
		uint32_t bp;

		r = parse_percent_bp(value, &bp);
		if (r < 0 || bp < key->min || bp > key->max) {
			format_percent((uint32_t)key->min, lo, sizeof(lo));
			format_percent((uint32_t)key->max, hi, sizeof(hi));
			errors_add(st->errors, st->name, st->line,
			           "%s: '%s' is not a percentage between %s and %s (example: 10%%)",
			           key->name, value, lo, hi);
			return;
		}
		memcpy(field, &bp, sizeof(bp));
		return;
	}
	case KEY_BOOL: {
		bool b;

		if (parse_bool(value, &b) < 0) {
			errors_add(st->errors, st->name, st->line,
			           "%s: '%s' is not a boolean (yes or no)", key->name, value);
			return;
		}
		memcpy(field, &b, sizeof(b));
		return;
	}
	case KEY_PATH:
		r = parse_path(value, field, CONFIG_PATH_MAX);
		if (r < 0)
			errors_add(st->errors, st->name, st->line, "%s: '%s' is not %s", key->name,
			           value,
			           r == -ENAMETOOLONG ? "a path shorter than 256 bytes"
			                              : "an absolute path");
		return;
	}
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	const struct key_def *key;
	size_t index;

	if (!section_known(section)) {
		if (strncmp(st->last_bad_section, section, sizeof(st->last_bad_section) - 1) != 0) {
			errors_add(st->errors, st->name, st->line, "unknown section [%s]",
			           *section ? section : "(none: keys must follow a [section])");
			snprintf(st->last_bad_section, sizeof(st->last_bad_section), "%s", section);
		}
		return 1;
	}
	key = find_key(section, name, &index);
	if (!key) {
		errors_add(st->errors, st->name, st->line, "unknown key '%s' in [%s]", name,
		           section);
		return 1;
	}
	if (st->seen_line[index]) {
		errors_add(st->errors, st->name, st->line, "%s: set again (first set on line %d)",
		           name, st->seen_line[index]);
		return 1;
	}
	st->seen_line[index] = st->line;
	set_value(st, key, value);
	return 1; /* keep going: report every problem, not just the first */
}

/* libinih reader over an in-memory text: one line per call, so that our line
 * count matches libinih's. Lines that do not fit libinih's buffer are refused
 * here rather than silently split. */
static char *read_line(char *buf, int size, void *user)
{
	struct parse_state *st = user;
	const char *nl;
	size_t len;

	if (st->text >= st->end)
		return NULL;
	st->line++;
	nl = memchr(st->text, '\n', (size_t)(st->end - st->text));
	len = nl ? (size_t)(nl - st->text) + 1 : (size_t)(st->end - st->text);
	if (len > (size_t)size - 1) {
		errors_add(st->errors, st->name, st->line, "line too long (at most %d characters)",
		           size - 2);
		st->text += len;
		strcpy(buf, "\n");
		return buf;
	}
	memcpy(buf, st->text, len);
	buf[len] = '\0';
	st->text += len;
	return buf;
}

static void validate(struct parse_state *st)
{
	size_t index;

	if (st->cfg.memory_critical_bp >= st->cfg.memory_warning_bp) {
		char w[16], c[16];

		find_key("memory", "critical_below", &index);
		format_percent(st->cfg.memory_warning_bp, w, sizeof(w));
		format_percent(st->cfg.memory_critical_bp, c, sizeof(c));
		errors_add(st->errors, st->name, st->seen_line[index],
		           "critical_below (%s) must be lower than warning_below (%s)", c, w);
	}
}

int config_load_string(const char *text, const char *name, struct config *ret,
                       struct config_errors *errors)
{
	struct parse_state *st;
	size_t before = errors->count;
	size_t len = strlen(text);
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	config_defaults(&st->cfg);
	snprintf(st->cfg.source, sizeof(st->cfg.source), "%s", name);
	st->errors = errors;
	st->name = name;
	st->text = text;
	st->end = text + len;
	/* An indented line is a key of its own, not a continuation of the one
	 * above: continuations would make every key a possible duplicate. */
	ini_allow_multiline = false;
	r = ini_parse_stream(read_line, st, on_key, st);
	if (r > 0)
		errors_add(errors, name, r, "syntax error: expected '[section]' or 'key = value'");
	else if (r < 0)
		errors_add(errors, name, 0, "cannot parse (out of memory)");
	validate(st);
	r = errors->count > before ? -EINVAL : 0;
	if (r == 0)
		*ret = st->cfg;
	free(st);
	return r;
}

int config_load(const char *path, struct config *ret, struct config_errors *errors)
{
	const char *name = path ? path : CONFIG_DEFAULT_PATH;
	char *text = NULL;
	size_t len;
	int r;

	r = readfile_read(name, CONFIG_FILE_MAX, &text, &len);
	if (r == -ENOENT && !path) {
		config_defaults(ret);
		return 0;
	}
	if (r < 0) {
		errors_add(errors, name, 0, "%s", r == -EFBIG ? "file too large" : strerror(-r));
		return r;
	}
	if (memchr(text, '\0', len)) {
		errors_add(errors, name, 0, "contains a NUL byte: not a text file");
		free(text);
		return -EINVAL;
	}
	r = config_load_string(text, name, ret, errors);
	free(text);
	return r;
}

/* ---- printing ------------------------------------------------------------ */

static void format_value(const struct config *cfg, const struct key_def *key, char *buf,
                         size_t size)
{
	const char *field = (const char *)cfg + key->offset;

	switch (key->type) {
	case KEY_DURATION: {
		uint64_t ms;

		memcpy(&ms, field, sizeof(ms));
		config_format_duration(ms, buf, size);
		return;
	}
	case KEY_PERCENT: {
		uint32_t bp;

		memcpy(&bp, field, sizeof(bp));
		format_percent(bp, buf, size);
		return;
	}
	case KEY_BOOL: {
		bool b;

		memcpy(&b, field, sizeof(b));
		snprintf(buf, size, "%s", b ? "yes" : "no");
		return;
	}
	case KEY_PATH:
		snprintf(buf, size, "%s", field);
		return;
	}
}

void config_print(const struct config *cfg, FILE *out)
{
	const char *section = NULL;

	fprintf(out, "# sparkmon configuration, normalized (source: %s)\n",
	        cfg->source[0] ? cfg->source : "built-in defaults");
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const struct key_def *key = &config_keys[i];
		char value[CONFIG_PATH_MAX + 8];

		if (!section || strcmp(section, key->section) != 0) {
			section = key->section;
			fprintf(out, "\n[%s]\n", section);
		}
		format_value(cfg, key, value, sizeof(value));
		fprintf(out, "# %s\n%s = %s\n", key->doc, key->name, value);
	}
}

int config_path(const struct config *cfg, const char *abs_path, char *buf, size_t size)
{
	const char *root = strcmp(cfg->root, "/") == 0 ? "" : cfg->root;
	int n = snprintf(buf, size, "%s%s", root, abs_path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
