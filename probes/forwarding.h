/* IPv4 forwarding: the runtime value, and the value the sysctl
 * configuration would set at the next boot. */
#ifndef SPARKMON_FORWARDING_H
#define SPARKMON_FORWARDING_H

#include <stdbool.h>
#include <stddef.h>

struct config;

#define FORWARDING_SOURCE_MAX 288

struct forwarding {
	bool ipv4; /* /proc/sys/net/ipv4/ip_forward right now */
	/* After a reboot: 1 or 0 when some sysctl file sets it, -1 when none does
	 * (the kernel default, off). */
	int boot_value;
	char boot_file[FORWARDING_SOURCE_MAX]; /* file of the deciding assignment, "" if none */
	int boot_line;
	unsigned files_read; /* sysctl files considered */
};

/* Parses the content of /proc/sys/net/ipv4/ip_forward ("0\n" or "1\n"). */
int forwarding_parse_runtime(const char *buf, size_t len, bool *ret);

/* Scans one sysctl.d(5) file for assignments to IPv4 forwarding
 * (net.ipv4.ip_forward, or net.ipv4.conf.all.forwarding, which the kernel
 * keeps equal to it). Writes the last value it sets (0/1) and its line;
 * returns 1 when the file sets it, 0 when not. Values the kernel would
 * refuse (not an integer) are ignored, as sysctl ignores them. */
int forwarding_scan_sysctl(const char *buf, size_t len, int *ret_value, int *ret_line);

/* Reads the runtime value and walks the sysctl directories in the order
 * systemd-sysctl and `sysctl --system` apply them. */
int forwarding_read(const struct config *cfg, struct forwarding *ret, char *err, size_t errlen);

#endif
