/* The ssh checks: ssh.listening (sshd listens where a VPN client can reach
 * it) and ssh.banner (it answers a connection with its identification
 * line). Their words and fixes are made here from the probe's facts. */
#ifndef SPARKMON_SSHCHECK_H
#define SPARKMON_SSHCHECK_H

#include <stdbool.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
#include "probes/firewall.h"

/* Each fills *out and returns true (both always apply when the probe ran). */
bool sshcheck_listening(const struct config *cfg, const struct snapshot *snap, struct check *out);
bool sshcheck_banner(const struct config *cfg, const struct snapshot *snap, struct check *out);

/* ssh.firewall: a new TCP connection from each WireGuard interface to the
 * SSH port is accepted by every input base chain (the firewall probe's
 * input decisions). Absent when ssh is off or no interface is watched. */
bool sshcheck_firewall(const struct config *cfg, const struct snapshot *snap, struct check *out);

/* Where the port comes from, in words: "Port in /etc/ssh/sshd_config:14",
 * "[ssh] port", "sshd's default". */
void sshcheck_port_source(const struct ssh *s, char *buf, size_t size);

/* 1 when sshd listens where a VPN client can reach it and answered with
 * its identification line, else 0 (sparkmon_ssh_up). */
int sshcheck_up(const struct ssh *s);

/* The identification line after "SSH-2.0-": software and comments
 * ("OpenSSH_9.2p1 Debian-2+deb12u3"); "" when there is none. */
const char *sshcheck_version(const struct ssh *s);

#endif
