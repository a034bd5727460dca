#include "web/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "probes/caps.h"

/* ---- file descriptors ------------------------------------------------------ */

static int close_others(int keep)
{
	if (keep < 3)
		return close_range(3, ~0U, 0) < 0 ? -errno : 0;
	if (keep > 3 && close_range(3, (unsigned)keep - 1, 0) < 0)
		return -errno;
	return close_range((unsigned)keep + 1, ~0U, 0) < 0 ? -errno : 0;
}

/* ---- Landlock ---------------------------------------------------------------- */

/* Every file system right of ABI 1, the oldest: they are all handled (so
 * denied) but reading the files named. Later ABIs add rights this does
 * not need to name: what ABI 1 handles already keeps the credentials out. */
#define SANDBOX_FS_ALL                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                              \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                          \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                              \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                              \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                            \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

static int allow_read(int ruleset, const char *path)
{
	struct landlock_path_beneath_attr rule = {.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE};
	int r = 0;

	rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
	/* A file that is not there cannot be read later either. */
	if (rule.parent_fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
		r = -errno;
	close(rule.parent_fd);
	return r;
}

/* Returns 0, 1 when the kernel has no Landlock, or a negative errno. */
static int restrict_files(const struct sandbox_policy *policy, char *err, size_t errlen)
{
	struct landlock_ruleset_attr attr = {.handled_access_fs = SANDBOX_FS_ALL};
	int ruleset, r = 0;

	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		/* No Landlock in the kernel, or a service manager's filter
		 * that refuses it: the rest of the sandbox still holds. */
		return errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM ? 1 : -errno;
	for (size_t i = 0; i < SANDBOX_READABLE_MAX && r == 0; i++) {
		if (policy->readable[i] && policy->readable[i][0]) {
			r = allow_read(ruleset, policy->readable[i]);
			if (r < 0)
				snprintf(err, errlen, "landlock: %s: %s", policy->readable[i],
				         strerror(-r));
		}
	}
	if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
		r = -errno;
		snprintf(err, errlen, "landlock: %s", strerror(-r));
	}
	close(ruleset);
	return r;
}

/* ---- seccomp ------------------------------------------------------------------- */

/* What libmicrohttpd's threads, glibc's malloc and stdio, json-c, the
 * logger and sd_notify use. Names a system call table lacks (aarch64 has
 * no open or poll) are skipped. */
static const char *const sandbox_syscalls[] = {
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "close",
    "lseek",
    "openat",
    "open",
    "fstat",
    "newfstatat",
    "stat",
    "lstat",
    "statx",
    "fstatfs",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "brk",
    "madvise",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "accept",
    "accept4",
    "bind",
    "listen",
    "connect",
    "getsockname",
    "getpeername",
    "setsockopt",
    "getsockopt",
    "shutdown",
    "sendto",
    "sendmsg",
    "sendmmsg",
    "recvfrom",
    "recvmsg",
    "sendfile",
    "fcntl",
    "pipe",
    "pipe2",
    "eventfd",
    "eventfd2",
    "dup",
    "dup2",
    "dup3",
    "futex",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigaltstack",
    "tgkill",
    "tkill",
    "kill",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "nanosleep",
    "clock_nanosleep",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "getrandom",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "sched_yield",
    "sched_getaffinity",
    "uname",
    "getrlimit",
    "prlimit64",
    "restart_syscall",
    "set_tid_address",
    "membarrier",
};

static int add_allowed(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < sizeof(sandbox_syscalls) / sizeof(sandbox_syscalls[0]); i++) {
		int nr = seccomp_syscall_resolve_name(sandbox_syscalls[i]);
		int r;

		if (nr == __NR_SCMP_ERROR)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One rule on one argument (the SCMP_A* macros leave fields unnamed, which
 * clang's -Wmissing-field-initializers refuses). */
static int add_arg_rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned arg,
                        enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp cmp = {.arg = arg, .op = op, .datum_a = a, .datum_b = b};

	return seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
}

/* Calls allowed only with some arguments. */
static int add_conditional(scmp_filter_ctx ctx)
{
	static const int families[] = {AF_UNIX, AF_INET, AF_INET6};
	static const unsigned long ioctls[] = {FIONBIO, FIONREAD, TCGETS};
	int r = 0;

	/* Sockets to listen on and for sd_notify; never netlink (the
	 * collector's), never raw or packet sockets. */
	for (size_t i = 0; r == 0 && i < sizeof(families) / sizeof(families[0]); i++)
		r = add_arg_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 0, SCMP_CMP_EQ,
		                 (scmp_datum_t)families[i], 0);
	for (size_t i = 0; r == 0 && i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		r = add_arg_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_CMP_EQ,
		                 (scmp_datum_t)ioctls[i], 0);
	/* Threads (libmicrohttpd starts one per listener), never processes. */
	if (r == 0)
		r = add_arg_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0, SCMP_CMP_MASKED_EQ,
		                 CLONE_THREAD, CLONE_THREAD);
	/* clone3's flags lie in memory, out of a filter's sight: glibc falls
	 * back to clone when told it does not exist. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = add_arg_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 0, SCMP_CMP_EQ, PR_SET_NAME,
		                 0);
	return r;
}

static int filter_syscalls(char *err, size_t errlen)
{
	/* A refused call fails with EPERM rather than killing the process:
	 * the daemon logs it and goes on, and a test can show the refusal. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r;

	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot make a filter");
		return -ENOMEM;
	}
	r = add_allowed(ctx);
	if (r == 0)
		r = add_conditional(ctx);
	if (r == 0)
		r = seccomp_load(ctx);
	if (r < 0)
		snprintf(err, errlen, "seccomp: %s", strerror(-r));
	seccomp_release(ctx);
	return r;
}

/* ---- all of it ----------------------------------------------------------------- */

int sandbox_enter(const struct sandbox_policy *policy, char *note, size_t notelen, char *err,
                  size_t errlen)
{
	int r;

	note[0] = '\0';
	r = close_others(policy->keep_fd);
	if (r < 0) {
		snprintf(err, errlen, "closing file descriptors: %s", strerror(-r));
		return r;
	}
	/* The time zone is read now, while files may still be opened. */
	tzset();
	r = caps_limit(0);
	if (r < 0) {
		snprintf(err, errlen, "dropping capabilities: %s", strerror(-r));
		return r;
	}
	r = restrict_files(policy, err, errlen);
	if (r < 0)
		return r;
	if (r == 1)
		snprintf(note, notelen, "no Landlock here: files are not restricted");
	return filter_syscalls(err, errlen);
}
