/* The subprocess runner shared by probes that call programs (iptables-save,
 * nvidia-smi): an argv without a shell, a deadline, SIGKILL after it, a cap
 * on the bytes read, and always reaped. */
#ifndef SPARKMON_RUNNER_H
#define SPARKMON_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUNNER_TAG_MAX 256

struct runner_options {
	unsigned timeout_ms; /* 0 = 5 s */
	size_t max_output;   /* cap on stdout bytes kept; 0 = 1 MiB */
	uint64_t keep_caps;  /* capabilities kept, if held (probes/caps.h); 0: none */
	/* Names the runs of one tool ("nvidia-smi"): while a child of this tag,
	 * killed but not dead, is still there, runner_run() refuses to start
	 * another (-EBUSY). NULL or "": the program's path. */
	const char *tag;
	/* What the program reads on stdin; NULL: /dev/null. Held in a
	 * memory file, not a pipe, so that a program that never reads it
	 * cannot block us; and not in argv, which every user can read in
	 * /proc (sparkmon-fetch gets URLs with tokens this way). */
	const char *input;
	size_t input_len;
};

struct runner_result {
	bool exited; /* exited normally; exit_code is valid */
	int exit_code;
	bool signaled; /* killed by a signal; signal is valid */
	int signal;
	bool timed_out; /* the deadline passed and the runner killed it */
	bool truncated; /* stdout went past max_output; the runner killed it */
	char *out;      /* stdout, NUL-terminated, at most max_output bytes */
	size_t out_len;
	char err[512]; /* the start of stderr, NUL-terminated */
	double duration_seconds;
};

/* Runs argv[0] (an absolute path; no PATH search, no shell) with stdin from
 * /dev/null, in its own process group, with a fixed C-locale environment,
 * no capability but those of opts->keep_caps, and no_new_privs.
 * Returns 0 when the program ran (whatever its exit status: see *ret),
 * -ENOENT/-EACCES/... when it could not be started. *ret is written only on
 * success; free it with runner_result_free(). */
int runner_run(const char *const argv[], const struct runner_options *opts,
               struct runner_result *ret);

void runner_result_free(struct runner_result *res);

/* A child of `tag` (any tag when NULL) that was killed at its deadline but
 * has not died (stuck in the kernel): returns 0 and how long ago it was
 * started, or -ENOENT when there is none. Such children are reaped as soon
 * as they die, at the next call here or to runner_run(). */
int runner_pending(const char *tag, double *ret_age_seconds);

/* Describes how the program ended: "exit code 9", "killed by signal 9",
 * "timed out after 5.0 s", "output over 1048576 bytes". */
void runner_describe(const struct runner_result *res, char *buf, size_t size);

#endif
