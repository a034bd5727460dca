#include "probes/forwarding.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/config.h"
#include "probes/readfile.h"
#include "probes/text.h"

#define SYSCTL_FILE_MAX  (1024 * 1024)
#define SYSCTL_FILES_MAX 512
#define SYSCTL_NAME_MAX  256

/* sysctl.d(5): same-named files in earlier directories replace later ones;
 * the surviving files are applied sorted by file name; `sysctl --system`
 * then applies /etc/sysctl.conf last. */
static const char *const sysctl_dirs[] = {
    "/etc/sysctl.d",     "/run/sysctl.d", "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d", "/lib/sysctl.d",
};

int forwarding_parse_runtime(const char *buf, size_t len, bool *ret)
{
	if (len == 2 && buf[1] == '\n')
		len = 1;
	if (len != 1 || (buf[0] != '0' && buf[0] != '1'))
		return -EINVAL;
	*ret = buf[0] == '1';
	return 0;
}

/* "net/ipv4/ip_forward" is the same key as "net.ipv4.ip_forward"; a key
 * may also be a glob such as net.ipv4.conf.*.forwarding. */
static bool key_sets_forwarding(const char *key)
{
	static const char *const names[] = {"net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"};
	char norm[SYSCTL_NAME_MAX];
	size_t len = strlen(key);

	if (len >= sizeof(norm))
		return false;
	memcpy(norm, key, len + 1);
	if (strchr(norm, '/') && (!strchr(norm, '.') || strchr(norm, '/') < strchr(norm, '.')))
		for (char *p = norm; *p; p++)
			*p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
	for (size_t i = 0; i < 2; i++)
		if (strcmp(norm, names[i]) == 0 || fnmatch(norm, names[i], 0) == 0)
			return true;
	return false;
}

static int parse_int_value(const char *text, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end != '\0')
		return -EINVAL;
	*ret = v != 0;
	return 0;
}

int forwarding_scan_sysctl(const char *buf, size_t len, int *ret_value, int *ret_line)
{
	const char *p = buf, *end = buf + len;
	int found = 0, line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		char text[1024], *eq, *key;
		int value;

		line++;
		if (n < sizeof(text)) {
			memcpy(text, p, n);
			text[n] = '\0';
			key = text_trim(text);
			if (*key == '-')
				key++; /* "-key = value": ignore failures to set it */
			eq = strchr(text, '=');
			if (*key && *key != '#' && *key != ';' && eq) {
				*eq = '\0';
				key = text_trim(key);
				if (key_sets_forwarding(key) &&
				    parse_int_value(text_trim(eq + 1), &value) == 0) {
					*ret_value = value;
					*ret_line = line;
					found = 1;
				}
			}
		}
		p = nl ? nl + 1 : end;
	}
	return found;
}

struct sysctl_file {
	char name[SYSCTL_NAME_MAX];
	const char *dir;
};

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct sysctl_file *)a)->name, ((const struct sysctl_file *)b)->name);
}

/* systemd-sysctl and `sysctl --system` both skip hidden files. */
static bool has_conf_suffix(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

static bool already_listed(const struct sysctl_file *files, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i].name, name) == 0)
			return true;
	return false;
}

/* Lists *.conf in every directory, earlier directories shadowing later ones. */
static size_t list_sysctl_files(const struct config *cfg, struct sysctl_file *files, size_t max)
{
	size_t n = 0;

	for (size_t d = 0; d < sizeof(sysctl_dirs) / sizeof(sysctl_dirs[0]); d++) {
		char path[PATH_MAX];
		struct dirent *de;
		DIR *dir;

		if (config_path(cfg, sysctl_dirs[d], path, sizeof(path)) < 0)
			continue;
		dir = opendir(path);
		if (!dir)
			continue;
		while ((de = readdir(dir)) && n < max) {
			if (!has_conf_suffix(de->d_name) || strlen(de->d_name) >= SYSCTL_NAME_MAX ||
			    already_listed(files, n, de->d_name))
				continue;
			strcpy(files[n].name, de->d_name);
			files[n].dir = sysctl_dirs[d];
			n++;
		}
		closedir(dir);
	}
	qsort(files, n, sizeof(files[0]), compare_files);
	return n;
}

/* Applies one file: a later assignment replaces the value known so far. */
static void apply_file(const struct config *cfg, const char *display, struct forwarding *fwd)
{
	char path[PATH_MAX];
	char *buf;
	size_t len;
	int value, line;

	if (config_path(cfg, display, path, sizeof(path)) < 0)
		return;
	if (readfile_read(path, SYSCTL_FILE_MAX, &buf, &len) < 0)
		return; /* unreadable files are skipped, as sysctl skips them */
	fwd->files_read++;
	if (forwarding_scan_sysctl(buf, len, &value, &line) == 1) {
		fwd->boot_value = value;
		fwd->boot_line = line;
		snprintf(fwd->boot_file, sizeof(fwd->boot_file), "%s", display);
	}
	free(buf);
}

static int read_runtime(const struct config *cfg, bool *ret, char *err, size_t errlen)
{
	char path[PATH_MAX];
	char *buf;
	size_t len;
	int r;

	r = config_path(cfg, "/proc/sys/net/ipv4/ip_forward", path, sizeof(path));
	if (r == 0)
		r = readfile_read(path, 64, &buf, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = forwarding_parse_runtime(buf, len, ret);
	if (r < 0)
		snprintf(err, errlen, "%s: expected 0 or 1", path);
	free(buf);
	return r;
}

int forwarding_read(const struct config *cfg, struct forwarding *ret, char *err, size_t errlen)
{
	struct forwarding fwd = {.boot_value = -1};
	struct sysctl_file *files;
	size_t n;
	int r;

	r = read_runtime(cfg, &fwd.ipv4, err, errlen);
	if (r < 0)
		return r;
	files = calloc(SYSCTL_FILES_MAX, sizeof(*files));
	if (!files) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = list_sysctl_files(cfg, files, SYSCTL_FILES_MAX);
	for (size_t i = 0; i < n; i++) {
		char display[PATH_MAX];

		snprintf(display, sizeof(display), "%s/%s", files[i].dir, files[i].name);
		apply_file(cfg, display, &fwd);
	}
	free(files);
	apply_file(cfg, "/etc/sysctl.conf", &fwd);
	*ret = fwd;
	return 0;
}
