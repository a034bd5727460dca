/* IP forwarding: the runtime values, and what the next boot sets: the
 * sysctl.d files in the order systemd-sysctl applies them, then the
 * services that turn forwarding on after it (Docker, a wg-quick PostUp,
 * systemd-networkd). IPv6 only when the VPN carries IPv6. */
#ifndef SPARKMON_FORWARDING_H
#define SPARKMON_FORWARDING_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/sysctld.h"

struct config;

#define FORWARDING_SOURCE_MAX 288
#define FORWARDING_UNIT_MAX   64

/* A service that starts after systemd-sysctl and turns forwarding on. */
enum forwarding_service {
	FORWARDING_BY_NONE,
	FORWARDING_BY_DOCKER,   /* docker.service enabled, daemon.json keeps "ip-forward" */
	FORWARDING_BY_WG_QUICK, /* a PostUp/PreUp of an enabled wg-quick@ unit */
	FORWARDING_BY_NETWORKD, /* systemd-networkd enabled, a .network file sets it */
};

/* One family at the next boot. Files are named as people find them:
 * "/etc/sysctl.d/60-x.conf"; a link is named by what it points to
 * ("/etc/sysctl.conf" for Debian's /etc/sysctl.d/99-sysctl.conf). */
struct forwarding_boot {
	/* systemd-sysctl: 1 or 0 when some file sets it, -1 when none does
	 * (the kernel's default, off). */
	int value;
	char file[FORWARDING_SOURCE_MAX]; /* of the deciding assignment, "" if none */
	int line;
	/* The last assignment, refused by the kernel (a value that is not a
	 * number): it replaced the earlier ones, so it left the value alone. */
	char refused_file[FORWARDING_SOURCE_MAX]; /* "" if none */
	int refused_line;
	char refused_value[SYSCTLD_VALUE_MAX];
	/* `sysctl --system`, for where it differs: it reads /etc/sysctl.conf
	 * last, and keeps the value before a refused one. */
	int procps_value;
	char procps_file[FORWARDING_SOURCE_MAX];
	int procps_line;
	/* The first service that turns it on after systemd-sysctl. */
	enum forwarding_service service;
	char service_file[FORWARDING_SOURCE_MAX]; /* its configuration file, "" if none */
	int service_line;                         /* 0 when not known */
	char service_unit[FORWARDING_UNIT_MAX];   /* "docker.service" */
};

struct forwarding {
	bool ipv4; /* /proc/sys/net/ipv4/ip_forward right now */
	struct forwarding_boot boot4;
	/* The VPN carries IPv6: a wg-quick Address or AllowedIPs has an IPv6
	 * prefix. Only then are the IPv6 fields below filled in. */
	bool ipv6_carried;
	char ipv6_carried_by[FORWARDING_SOURCE_MAX]; /* the wg-quick file that says so */
	bool ipv6;                                   /* net.ipv6.conf.all.forwarding now */
	char ipv6_error[FORWARDING_SOURCE_MAX];      /* why it could not be read, "" if read */
	struct forwarding_boot boot6;
	unsigned files_read; /* sysctl files considered */
	bool too_many_keys;  /* more forwarding patterns than the model keeps */
};

/* Parses the content of a forwarding file in /proc/sys ("0\n" or "1\n"). */
int forwarding_parse_runtime(const char *buf, size_t len, bool *ret);

/* Reads the runtime values, the sysctl directories (/etc/sysctl.d,
 * /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d; /lib/sysctl.d
 * and /etc/sysctl.conf for `sysctl --system`), the enabled units under
 * /etc/systemd/system, /etc/docker/daemon.json, the .network files and
 * the watched interfaces' wg-quick files, all below the configured root. */
int forwarding_read(const struct config *cfg, struct forwarding *ret, char *err, size_t errlen);

/* "Docker", "wg-quick PostUp", "systemd-networkd". */
const char *forwarding_service_name(enum forwarding_service service);

#endif
