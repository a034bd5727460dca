#include "probes/sshdconf.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "monitor/config.h"
#include "probes/readfile.h"

#define SSHDCONF_LINE_MAX 1024

/* The next line of buf from *pos, NUL-terminated in line (cut at size). */
static bool next_line(const char *buf, size_t len, size_t *pos, char *line, size_t size)
{
	size_t start = *pos, end, n;
	const char *nl;

	if (start >= len)
		return false;
	nl = memchr(buf + start, '\n', len - start);
	end = nl ? (size_t)(nl - buf) : len;
	*pos = nl ? end + 1 : len;
	n = end - start < size - 1 ? end - start : size - 1;
	memcpy(line, buf + start, n);
	line[n] = '\0';
	return true;
}

/* Splits "Keyword value", "Keyword=value" or "Keyword = value"; returns
 * the value (trailing blanks cut), or NULL for a blank or comment line. */
static char *split(char *line, char **ret_key)
{
	char *p = line, *key, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#' || *p == '\r')
		return NULL;
	key = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '=')
		p++;
	if (*p)
		*p++ = '\0';
	while (*p == ' ' || *p == '\t' || *p == '=')
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	*ret_key = key;
	return p;
}

static int parse_port(const char *value, uint16_t *ret)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)value[0]))
		return -EINVAL;
	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno || *end || n == 0 || n > 65535)
		return -EINVAL;
	*ret = (uint16_t)n;
	return 0;
}

static int on_port(struct sshdconf *acc, const char *value, const char *file, int line, char *err,
                   size_t errlen)
{
	uint16_t port;

	if (parse_port(value, &port) < 0) {
		snprintf(err, errlen, "%s:%d: Port '%.40s' is not a port (1 to 65535)", file, line,
		         value);
		return -EINVAL;
	}
	if (acc->n_ports++ == 0) {
		acc->port = port;
		snprintf(acc->port_file, sizeof(acc->port_file), "%s", file);
		acc->port_line = line;
	}
	return 0;
}

static void on_listen(struct sshdconf *acc, const char *value, const char *file, int line)
{
	struct sshdconf_listen *l;

	if (acc->n_listen++ >= SSHDCONF_LISTEN_MAX)
		return;
	l = &acc->listen[acc->n_listen - 1];
	snprintf(l->value, sizeof(l->value), "%.*s", (int)strcspn(value, " \t"), value);
	snprintf(l->file, sizeof(l->file), "%s", file);
	l->line = line;
}

/* Include takes several patterns, separated by blanks. */
static int on_include(char *value, unsigned depth, sshdconf_include_fn inc, void *ctx)
{
	char *save = NULL;

	for (char *tok = strtok_r(value, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		int r = inc ? inc(tok, depth, ctx) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

int sshdconf_parse(const char *buf, size_t len, const char *file, unsigned depth,
                   struct sshdconf *acc, sshdconf_include_fn inc, void *ctx, char *err,
                   size_t errlen)
{
	char line[SSHDCONF_LINE_MAX];
	size_t pos = 0;
	int lineno = 0;

	acc->files_read++;
	while (next_line(buf, len, &pos, line, sizeof(line))) {
		char *key, *value = split(line, &key);
		int r = 0;

		lineno++;
		if (!value)
			continue;
		if (strcasecmp(key, "Match") == 0)
			break;
		if (!*value &&
		    (strcasecmp(key, "Port") == 0 || strcasecmp(key, "ListenAddress") == 0 ||
		     strcasecmp(key, "Include") == 0)) {
			snprintf(err, errlen, "%s:%d: %s has no value", file, lineno, key);
			return -EINVAL;
		}
		if (strcasecmp(key, "Port") == 0)
			r = on_port(acc, value, file, lineno, err, errlen);
		else if (strcasecmp(key, "ListenAddress") == 0)
			on_listen(acc, value, file, lineno);
		else if (strcasecmp(key, "Include") == 0)
			r = on_include(value, depth, inc, ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

struct reader {
	const struct config *cfg;
	struct sshdconf *acc;
	char *err;
	size_t errlen;
};

static int read_file(struct reader *rd, const char *path, const char *shown, unsigned depth,
                     bool required);

static int on_include_pattern(const char *pattern, unsigned depth, void *ctx)
{
	struct reader *rd = ctx;
	char abs[SSHDCONF_FILE_MAX], full[SSHDCONF_FILE_MAX + CONFIG_PATH_MAX];
	size_t skip;
	glob_t g;
	int r = 0;

	if (depth + 1 >= SSHDCONF_DEPTH_MAX) {
		snprintf(rd->err, rd->errlen, "Include nested deeper than %d files: %.100s",
		         SSHDCONF_DEPTH_MAX, pattern);
		return -ELOOP;
	}
	/* sshd: a relative Include is relative to /etc/ssh. */
	if (snprintf(abs, sizeof(abs), "%s%s", pattern[0] == '/' ? "" : "/etc/ssh/", pattern) >=
	        (int)sizeof(abs) ||
	    config_path(rd->cfg, abs, full, sizeof(full)) < 0)
		return 0;
	skip = strlen(full) - strlen(abs);
	if (glob(full, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc && r == 0; i++)
		r = read_file(rd, g.gl_pathv[i], g.gl_pathv[i] + skip, depth + 1, false);
	globfree(&g);
	return r;
}

static int read_file(struct reader *rd, const char *path, const char *shown, unsigned depth,
                     bool required)
{
	char *buf;
	size_t len;
	int r = readfile_read(path, SSHDCONF_FILE_SIZE, &buf, &len);

	if (r < 0) {
		if (!required && r == -ENOENT)
			return 0;
		snprintf(rd->err, rd->errlen, "%.200s: %s", shown, strerror(-r));
		return r;
	}
	r = sshdconf_parse(buf, len, shown, depth, rd->acc, on_include_pattern, rd, rd->err,
	                   rd->errlen);
	free(buf);
	return r;
}

int sshdconf_read(const struct config *cfg, struct sshdconf *ret, char *err, size_t errlen)
{
	struct sshdconf acc = {.port = 0};
	struct reader rd = {.cfg = cfg, .acc = &acc, .err = err, .errlen = errlen};
	char path[SSHDCONF_FILE_MAX + CONFIG_PATH_MAX];
	int r;

	if (config_path(cfg, "/etc/ssh/sshd_config", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	r = read_file(&rd, path, "/etc/ssh/sshd_config", 0, true);
	if (r < 0)
		return r;
	*ret = acc;
	return 0;
}
