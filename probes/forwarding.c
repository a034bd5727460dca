#include "probes/forwarding.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "monitor/config.h"
#include "probes/bootfwd.h"
#include "probes/readfile.h"
#include "probes/wgquick.h"

#define SYSCTL_FILE_MAX  (1024 * 1024)
#define SYSCTL_FILES_MAX 512
#define SYSCTL_NAME_MAX  256
#define NETWORK_FILE_MAX (256 * 1024)
#define DOCKER_FILE_MAX  (1024 * 1024)

/* sysctl.d(5): same-named files in earlier directories replace later ones
 * (a link to /dev/null or an empty file masks); the surviving files are
 * applied sorted by file name. systemd-sysctl reads the first four;
 * `sysctl --system` also reads /lib/sysctl.d, then /etc/sysctl.conf. */
static const struct {
	const char *path;
	unsigned readers;
} sysctl_dirs[] = {
    {"/etc/sysctl.d", SYSCTLD_SYSTEMD | SYSCTLD_PROCPS},
    {"/run/sysctl.d", SYSCTLD_SYSTEMD | SYSCTLD_PROCPS},
    {"/usr/local/lib/sysctl.d", SYSCTLD_SYSTEMD | SYSCTLD_PROCPS},
    {"/usr/lib/sysctl.d", SYSCTLD_SYSTEMD | SYSCTLD_PROCPS},
    {"/lib/sysctl.d", SYSCTLD_PROCPS},
};

/* systemd.network(5) directories, in the same precedence. */
static const char *const network_dirs[] = {
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/local/lib/systemd/network",
    "/usr/lib/systemd/network",
};

static const char *const runtime_paths[] = {
    [SYSCTLD_IPV4] = "/proc/sys/net/ipv4/ip_forward",
    [SYSCTLD_IPV6] = "/proc/sys/net/ipv6/conf/all/forwarding",
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

const char *forwarding_service_name(enum forwarding_service service)
{
	switch (service) {
	case FORWARDING_BY_DOCKER:
		return "Docker";
	case FORWARDING_BY_WG_QUICK:
		return "wg-quick PostUp";
	case FORWARDING_BY_NETWORKD:
		return "systemd-networkd";
	case FORWARDING_BY_NONE:
		break;
	}
	return "nothing";
}

/* ---- listing configuration directories ----------------------------------- */

struct conf_file {
	char name[SYSCTL_NAME_MAX];
	size_t dir; /* index into the directory list */
};

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct conf_file *)a)->name, ((const struct conf_file *)b)->name);
}

/* Both tools skip hidden files. */
static bool has_suffix(const char *name, const char *suffix)
{
	size_t len = strlen(name), n = strlen(suffix);

	return name[0] != '.' && len > n && strcmp(name + len - n, suffix) == 0;
}

static bool already_listed(const struct conf_file *files, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i].name, name) == 0)
			return true;
	return false;
}

/* Lists NAME<suffix> in every directory, earlier directories shadowing
 * later ones, sorted by name. */
static size_t list_files(const struct config *cfg, const char *const dirs[], size_t n_dirs,
                         const char *suffix, struct conf_file *files, size_t max)
{
	size_t n = 0;

	for (size_t d = 0; d < n_dirs; d++) {
		char path[PATH_MAX];
		struct dirent *de;
		DIR *dir;

		if (config_path(cfg, dirs[d], path, sizeof(path)) < 0)
			continue;
		dir = opendir(path);
		if (!dir)
			continue;
		while ((de = readdir(dir)) && n < max) {
			if (!has_suffix(de->d_name, suffix) ||
			    strlen(de->d_name) >= SYSCTL_NAME_MAX ||
			    already_listed(files, n, de->d_name))
				continue;
			strcpy(files[n].name, de->d_name);
			files[n].dir = d;
			n++;
		}
		closedir(dir);
	}
	qsort(files, n, sizeof(files[0]), compare_files);
	return n;
}

/* The name people know a file by: a link that stays below the root is
 * named by its target (Debian's 99-sysctl.conf -> ../sysctl.conf). */
static void display_name(const struct config *cfg, const char *abs_path, char *buf, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	struct stat st;
	size_t n;

	snprintf(buf, size, "%s", abs_path);
	if (config_path(cfg, abs_path, path, sizeof(path)) < 0 || lstat(path, &st) < 0 ||
	    !S_ISLNK(st.st_mode) || !realpath(path, real) || !realpath(cfg->root, root))
		return;
	n = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (strncmp(real, root, n) == 0 && real[n] == '/' && strlen(real + n) < size)
		memcpy(buf, real + n, strlen(real + n) + 1);
}

/* ---- sysctl files --------------------------------------------------------- */

struct sysctl_walk {
	char (*names)[FORWARDING_SOURCE_MAX]; /* display name of each fed file */
	int n_names;
	struct sysctld model;
};

static void feed_file(const struct config *cfg, struct sysctl_walk *w, const char *abs_path,
                      unsigned readers, unsigned *files_read)
{
	char path[PATH_MAX];
	char *buf;
	size_t len;

	if (config_path(cfg, abs_path, path, sizeof(path)) < 0)
		return;
	if (readfile_read(path, SYSCTL_FILE_MAX, &buf, &len) < 0)
		return; /* unreadable files are skipped, as both tools skip them */
	(*files_read)++;
	display_name(cfg, abs_path, w->names[w->n_names], FORWARDING_SOURCE_MAX);
	sysctld_feed(&w->model, w->n_names++, readers, buf, len);
	free(buf);
}

static const char *file_name(const struct sysctl_walk *w, int index)
{
	return index >= 0 && index < w->n_names ? w->names[index] : "";
}

static void fill_boot(const struct sysctl_walk *w, enum sysctld_family family,
                      struct forwarding_boot *b)
{
	struct sysctld_result sd, pp;

	sysctld_systemd(&w->model, family, &sd);
	sysctld_procps(&w->model, family, &pp);
	memset(b, 0, sizeof(*b));
	b->value = sd.value;
	snprintf(b->file, sizeof(b->file), "%s", file_name(w, sd.file));
	b->line = sd.line;
	snprintf(b->refused_file, sizeof(b->refused_file), "%s", file_name(w, sd.refused_file));
	b->refused_line = sd.refused_line;
	snprintf(b->refused_value, sizeof(b->refused_value), "%s", sd.refused_value);
	b->procps_value = pp.value;
	snprintf(b->procps_file, sizeof(b->procps_file), "%s", file_name(w, pp.file));
	b->procps_line = pp.line;
}

static int read_sysctl_files(const struct config *cfg, struct forwarding *fwd)
{
	const char *dirs[sizeof(sysctl_dirs) / sizeof(sysctl_dirs[0])];
	struct sysctl_walk *w = calloc(1, sizeof(*w));
	struct conf_file *files = calloc(SYSCTL_FILES_MAX, sizeof(*files));
	size_t n;
	int r = -ENOMEM;

	if (!w || !files)
		goto out;
	w->names = calloc(SYSCTL_FILES_MAX + 1, sizeof(*w->names));
	if (!w->names)
		goto out;
	sysctld_init(&w->model);
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
		dirs[d] = sysctl_dirs[d].path;
	n = list_files(cfg, dirs, sizeof(dirs) / sizeof(dirs[0]), ".conf", files, SYSCTL_FILES_MAX);
	for (size_t i = 0; i < n; i++) {
		char abs_path[PATH_MAX];

		snprintf(abs_path, sizeof(abs_path), "%s/%s", dirs[files[i].dir], files[i].name);
		feed_file(cfg, w, abs_path, sysctl_dirs[files[i].dir].readers, &fwd->files_read);
	}
	feed_file(cfg, w, "/etc/sysctl.conf", SYSCTLD_PROCPS, &fwd->files_read);
	fill_boot(w, SYSCTLD_IPV4, &fwd->boot4);
	fill_boot(w, SYSCTLD_IPV6, &fwd->boot6);
	fwd->too_many_keys = w->model.overflow;
	r = 0;
out:
	if (w)
		free(w->names);
	free(w);
	free(files);
	return r;
}

/* ---- services that start after systemd-sysctl ----------------------------- */

/* `systemctl enable` links the unit into some *.wants folder. */
static bool unit_enabled(const struct config *cfg, const char *unit)
{
	char rel[PATH_MAX], pattern[PATH_MAX];
	glob_t g;
	bool found;

	snprintf(rel, sizeof(rel), "/etc/systemd/system/*.wants/%s", unit);
	if (config_path(cfg, rel, pattern, sizeof(pattern)) < 0)
		return false;
	found = glob(pattern, GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0;
	globfree(&g);
	return found;
}

static void set_service(struct forwarding_boot *b, enum forwarding_service service,
                        const char *unit, const char *file, int line)
{
	if (b->service != FORWARDING_BY_NONE)
		return; /* the first one found is named */
	b->service = service;
	snprintf(b->service_unit, sizeof(b->service_unit), "%s", unit);
	snprintf(b->service_file, sizeof(b->service_file), "%.*s", (int)sizeof(b->service_file) - 1,
	         file);
	b->service_line = line;
}

/* dockerd turns IPv4 forwarding on when it starts, unless told not to; a
 * daemon.json it refuses keeps it from starting at all. */
static void read_docker(const struct config *cfg, struct forwarding *fwd)
{
	static const char json_path[] = "/etc/docker/daemon.json";
	struct bootfwd_docker d = {.ip_forward = true};
	char path[PATH_MAX];
	char *buf;
	size_t len;
	int r;

	if (!unit_enabled(cfg, "docker.service") ||
	    config_path(cfg, json_path, path, sizeof(path)) < 0)
		return;
	r = readfile_read(path, DOCKER_FILE_MAX, &buf, &len);
	if (r == 0) {
		r = bootfwd_parse_docker(buf, len, &d);
		free(buf);
	}
	if (r < 0 && r != -ENOENT)
		return;
	if (d.ip_forward)
		set_service(&fwd->boot4, FORWARDING_BY_DOCKER, "docker.service",
		            r == 0 ? json_path : "", 0);
	if (d.ip_forward && d.ipv6)
		set_service(&fwd->boot6, FORWARDING_BY_DOCKER, "docker.service", json_path, 0);
}

static void read_networkd(const struct config *cfg, struct forwarding *fwd)
{
	const size_t n_dirs = sizeof(network_dirs) / sizeof(network_dirs[0]);
	struct conf_file *files;
	size_t n;

	if (!unit_enabled(cfg, "systemd-networkd.service"))
		return;
	files = calloc(SYSCTL_FILES_MAX, sizeof(*files));
	if (!files)
		return;
	n = list_files(cfg, network_dirs, n_dirs, ".network", files, SYSCTL_FILES_MAX);
	for (size_t i = 0; i < n; i++) {
		char abs_path[PATH_MAX], path[PATH_MAX];
		char *buf;
		size_t len;

		snprintf(abs_path, sizeof(abs_path), "%s/%s", network_dirs[files[i].dir],
		         files[i].name);
		if (config_path(cfg, abs_path, path, sizeof(path)) < 0 ||
		    readfile_read(path, NETWORK_FILE_MAX, &buf, &len) < 0)
			continue;
		for (int f = 0; f < SYSCTLD__FAMILIES; f++) {
			int line = bootfwd_networkd_sets(buf, len, (enum sysctld_family)f);

			if (line > 0)
				set_service(f == SYSCTLD_IPV4 ? &fwd->boot4 : &fwd->boot6,
				            FORWARDING_BY_NETWORKD, "systemd-networkd.service",
				            abs_path, line);
		}
		free(buf);
	}
	free(files);
}

/* ---- the watched interfaces' wg-quick files -------------------------------- */

struct wg_file {
	char ifname[CONFIG_IFNAME_SIZE];
	char path[PATH_MAX]; /* as configured, without the root */
};

/* "/etc/wireguard/%i.conf" for one interface name. */
static int wg_file_path(const struct config *cfg, const char *ifname, char *buf, size_t size)
{
	const char *pattern = cfg->wireguard_wg_quick_file, *at = strstr(pattern, "%i");

	if (!at)
		return snprintf(buf, size, "%s", pattern) < (int)size ? 0 : -ENAMETOOLONG;
	return snprintf(buf, size, "%.*s%s%s", (int)(at - pattern), pattern, ifname, at + 2) <
	               (int)size
	           ? 0
	           : -ENAMETOOLONG;
}

/* The configured interfaces; with none configured, every file the
 * wg_quick_file pattern matches (its %i is the interface's name). */
static size_t list_wg_files(const struct config *cfg, struct wg_file *files, size_t max)
{
	const char *pattern = cfg->wireguard_wg_quick_file, *at = strstr(pattern, "%i");
	char glob_rel[PATH_MAX], glob_abs[PATH_MAX];
	size_t n = 0, prefix_len, suffix_len;
	glob_t g;

	if (!pattern[0])
		return 0;
	for (uint32_t i = 0; i < cfg->wireguard_interfaces.count && n < max; i++) {
		snprintf(files[n].ifname, sizeof(files[n].ifname), "%s",
		         cfg->wireguard_interfaces.names[i]);
		if (wg_file_path(cfg, files[n].ifname, files[n].path, sizeof(files[n].path)) == 0)
			n++;
	}
	if (cfg->wireguard_interfaces.count || !at)
		return n;
	snprintf(glob_rel, sizeof(glob_rel), "%.*s*%s", (int)(at - pattern), pattern, at + 2);
	if (config_path(cfg, glob_rel, glob_abs, sizeof(glob_abs)) < 0 ||
	    glob(glob_abs, 0, NULL, &g) != 0)
		return 0;
	prefix_len = strlen(glob_abs) - strlen(glob_rel) + (size_t)(at - pattern);
	suffix_len = strlen(at + 2);
	for (size_t i = 0; i < g.gl_pathc && n < max; i++) {
		const char *p = g.gl_pathv[i];
		size_t len = strlen(p);

		if (len < prefix_len + suffix_len ||
		    len - prefix_len - suffix_len >= sizeof(files[n].ifname))
			continue;
		snprintf(files[n].ifname, sizeof(files[n].ifname), "%.*s",
		         (int)(len - prefix_len - suffix_len), p + prefix_len);
		if (wg_file_path(cfg, files[n].ifname, files[n].path, sizeof(files[n].path)) == 0)
			n++;
	}
	globfree(&g);
	return n;
}

static bool has_ipv6_prefix(const char *list)
{
	return strchr(list, ':') != NULL;
}

static bool carries_ipv6(const struct wgquick_file *wq)
{
	if (has_ipv6_prefix(wq->address))
		return true;
	for (size_t i = 0; i < wq->n_peers; i++)
		if (has_ipv6_prefix(wq->peers[i].allowed_ips))
			return true;
	return false;
}

static bool post_up_sets(const struct wgquick_file *wq, enum sysctld_family family)
{
	for (size_t i = 0; i < wq->n_post_up; i++)
		if (bootfwd_command_sets(wq->post_up[i], family))
			return true;
	return false;
}

static void read_one_wg_file(const struct config *cfg, const struct wg_file *wf,
                             struct forwarding *fwd)
{
	char path[PATH_MAX], unit[FORWARDING_UNIT_MAX], err[256];
	struct wgquick_file wq;

	if (config_path(cfg, wf->path, path, sizeof(path)) < 0 ||
	    wgquick_read(path, &wq, err, sizeof(err)) < 0)
		return;
	if (!fwd->ipv6_carried && carries_ipv6(&wq)) {
		fwd->ipv6_carried = true;
		snprintf(fwd->ipv6_carried_by, sizeof(fwd->ipv6_carried_by), "%s", wf->path);
	}
	snprintf(unit, sizeof(unit), "wg-quick@%s.service", wf->ifname);
	if (unit_enabled(cfg, unit)) {
		if (post_up_sets(&wq, SYSCTLD_IPV4))
			set_service(&fwd->boot4, FORWARDING_BY_WG_QUICK, unit, wf->path, 0);
		if (post_up_sets(&wq, SYSCTLD_IPV6))
			set_service(&fwd->boot6, FORWARDING_BY_WG_QUICK, unit, wf->path, 0);
	}
	wgquick_free(&wq);
}

static void read_wg_files(const struct config *cfg, struct forwarding *fwd)
{
	struct wg_file files[CONFIG_IFNAMES_MAX];
	size_t n = list_wg_files(cfg, files, CONFIG_IFNAMES_MAX);

	for (size_t i = 0; i < n; i++)
		read_one_wg_file(cfg, &files[i], fwd);
}

/* ---- runtime ------------------------------------------------------------- */

static int read_runtime(const struct config *cfg, enum sysctld_family family, bool *ret, char *err,
                        size_t errlen)
{
	char path[PATH_MAX];
	char *buf;
	size_t len;
	int r;

	r = config_path(cfg, runtime_paths[family], path, sizeof(path));
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
	struct forwarding *fwd = calloc(1, sizeof(*fwd));
	int r;

	if (!fwd) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = read_runtime(cfg, SYSCTLD_IPV4, &fwd->ipv4, err, errlen);
	if (r < 0)
		goto out;
	r = read_sysctl_files(cfg, fwd);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	read_docker(cfg, fwd);
	read_wg_files(cfg, fwd);
	read_networkd(cfg, fwd);
	if (fwd->ipv6_carried)
		read_runtime(cfg, SYSCTLD_IPV6, &fwd->ipv6, fwd->ipv6_error,
		             sizeof(fwd->ipv6_error));
	*ret = *fwd;
	r = 0;
out:
	free(fwd);
	return r;
}
