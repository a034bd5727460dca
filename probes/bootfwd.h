/* What turns forwarding on at boot besides sysctl.d files: services that
 * start after systemd-sysctl and write the same keys. Parsers only: the
 * forwarding probe reads the files and knows which units are enabled. */
#ifndef SPARKMON_BOOTFWD_H
#define SPARKMON_BOOTFWD_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/sysctld.h"

/* /etc/docker/daemon.json as dockerd reads it at start. */
struct bootfwd_docker {
	bool ip_forward; /* "ip-forward" (default true): dockerd sets net.ipv4.ip_forward=1 */
	bool ipv6;       /* "ipv6": true: dockerd also turns IPv6 forwarding on */
};

/* Parses daemon.json (an empty file is an empty object). Returns 0, or
 * -EINVAL for text that is not a JSON object (dockerd then refuses to
 * start, so it turns nothing on). *ret is written only on success. */
int bootfwd_parse_docker(const char *buf, size_t len, struct bootfwd_docker *ret);

/* True when a wg-quick PostUp (or PreUp) command line turns the family's
 * forwarding on: `sysctl -w net.ipv4.ip_forward=1`, `sysctl
 * net.ipv4.ip_forward=1`, `echo 1 > /proc/sys/net/ipv4/ip_forward`, and
 * their IPv6 and net.ipv4.conf.all.forwarding forms, among commands joined
 * by ';', '&&', '||' or '|'. */
bool bootfwd_command_sets(const char *line, enum sysctld_family family);

/* Scans a systemd.network(5) file's [Network] section for IPForward=
 * (yes, ipv4, ipv6) or IPv4Forwarding= / IPv6Forwarding= (booleans), the
 * last one of each winning. Returns the line of the setting that turns
 * the family's forwarding on, or 0 when none does. */
int bootfwd_networkd_sets(const char *buf, size_t len, enum sysctld_family family);

#endif
