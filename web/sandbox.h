/* The web process of `sparkmon serve` (DESIGN.md, trust boundaries): what
 * it gives up before it answers anyone. It holds no capability, cannot
 * gain one, keeps only the file descriptors it uses, may read only the
 * files it names (Landlock, where the kernel has it), and may make only
 * the system calls an HTTP server makes (seccomp): no netlink socket, no
 * ptrace, no exec, no mount. */
#ifndef SPARKMON_SANDBOX_H
#define SPARKMON_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#define SANDBOX_READABLE_MAX 8

struct sandbox_policy {
	/* Files, or folders whose files, stay readable (the configuration,
	 * for a reload; the TLS files); NULL or "" entries are skipped. */
	const char *readable[SANDBOX_READABLE_MAX];
	int keep_fd; /* the one descriptor kept besides 0, 1 and 2; -1 none */
};

/* Enters the sandbox; call it while the process has a single thread (the
 * capability sets are per thread). Returns 0; a negative errno with the
 * reason in err when a step failed (the caller must not go on). *ret_note
 * says what the kernel could not do ("" when all was done): no Landlock
 * is not fatal, the rest is. */
int sandbox_enter(const struct sandbox_policy *policy, char *note, size_t notelen, char *err,
                  size_t errlen);

#endif
