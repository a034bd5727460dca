#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "probes/runner.h"

#define FIXTURES "tests/fixtures/runner/"
#include "tests/unit/children.h"
#include "tests/unit/deadline.h"
#include "tests/unit/fixture.h"

/* How late past its deadline a killed child may be reaped on a busy machine. */
#define RUNNER_SLACK_S 1.5

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The runner reaps what it starts: this process has no child left. */
static void assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void poison(struct runner_result *r)
{
	memset(r, 0x6B, sizeof(*r));
}

static bool is_poisoned(const struct runner_result *r)
{
	struct runner_result p;

	poison(&p);
	return memcmp(r, &p, sizeof(p)) == 0;
}

static void test_normal_output(void **state)
{
	const char *argv[] = {fixture("hello.sh"), "world", NULL};
	struct runner_result res;
	char how[64];
	int fds = count_fds();

	(void)state;
	assert_int_equal(runner_run(argv, NULL, &res), 0);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 0);
	assert_false(res.signaled);
	assert_false(res.timed_out);
	assert_false(res.truncated);
	/* A fixed environment: C locale, nothing of ours (HOME) passed on. */
	assert_string_equal(res.out, "hello from world\nLC_ALL=C\nHOME=unset\n");
	assert_int_equal(res.out_len, strlen(res.out));
	assert_string_equal(res.err, "");
	assert_true(res.duration_seconds >= 0 && res.duration_seconds < 2);
	runner_describe(&res, how, sizeof(how));
	assert_string_equal(how, "exit code 0");
	runner_result_free(&res);
	assert_null(res.out);
	runner_result_free(&res);
	runner_result_free(NULL);
	assert_no_children();
	assert_int_equal(count_fds(), fds);
}

static void test_exit_9(void **state)
{
	const char *argv[] = {fixture("exit9.sh"), NULL};
	struct runner_result res;
	char how[64];

	(void)state;
	assert_int_equal(runner_run(argv, NULL, &res), 0);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 9);
	assert_false(res.signaled);
	assert_false(res.timed_out);
	assert_string_equal(res.out, "partial output\n");
	assert_string_equal(res.err, "fatal: no devices found\n");
	runner_describe(&res, how, sizeof(how));
	assert_string_equal(how, "exit code 9");
	runner_result_free(&res);
	assert_no_children();
}

static void test_killed_by_signal(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
	struct runner_result res;
	char how[64];

	(void)state;
	assert_int_equal(runner_run(argv, NULL, &res), 0);
	assert_false(res.exited);
	assert_true(res.signaled);
	assert_int_equal(res.signal, SIGTERM);
	assert_false(res.timed_out);
	runner_describe(&res, how, sizeof(how));
	assert_string_equal(how, "killed by signal 15");
	runner_result_free(&res);
	assert_no_children();
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child hangs, with grandchildren. This process becomes a subreaper so
 * that orphaned grandchildren are reparented here and their fate can be
 * read: killed with the group, not left running. */
static void test_timeout_kills_process_group(void **state)
{
	const char *argv[] = {fixture("sleep-forever.sh"), NULL};
	struct runner_options opts = {.timeout_ms = 400};
	struct runner_result res;
	pid_t grandchild;
	long long until;
	char how[64];
	double start, took;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	start = deadline_start(10);
	assert_int_equal(runner_run(argv, &opts, &res), 0);
	took = deadline_stop(start);
	assert_true(took >= 0.4 && took < 0.4 + RUNNER_SLACK_S);
	assert_true(res.timed_out);
	assert_false(res.exited);
	assert_true(res.signaled);
	assert_int_equal(res.signal, SIGKILL);
	/* Cut at the deadline: the child would sleep forever. The slack is
	 * for a loaded machine, not for the runner. */
	assert_true(res.duration_seconds >= 0.4);
	assert_true(res.duration_seconds < 0.4 + RUNNER_SLACK_S);
	runner_describe(&res, how, sizeof(how));
	assert_true(strncmp(how, "timed out after 0.", 18) == 0);
	grandchild = (pid_t)atoi(res.out);
	assert_true(grandchild > 1);
	runner_result_free(&res);

	/* Reap every orphan; each must have died of SIGKILL. */
	for (until = now_ms() + 2000; now_ms() < until;) {
		int status;
		pid_t r = waitpid(-1, &status, WNOHANG);

		if (r < 0)
			break; /* ECHILD: none left */
		if (r == 0) {
			usleep(10000);
			continue;
		}
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("orphan %d ended otherwise than by SIGKILL", (int)r);
	}
	/* A child still here after 2 s survived the deadline. */
	if (waitpid(-1, NULL, WNOHANG) == 0) {
		kill(grandchild, SIGKILL);
		prctl(PR_SET_CHILD_SUBREAPER, 0);
		fail_msg("a process of the group (grandchild %d?) survived the timeout",
		         (int)grandchild);
	}
	/* The grandchild is gone, whoever reaped it: usually this process,
	 * as its subreaper; on a loaded machine sometimes the dying shell,
	 * whose wait() can finish before its own SIGKILL lands. */
	errno = 0;
	assert_int_equal(kill(grandchild, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
	assert_no_children();
}

/* Closing its pipes does not end the wait: the deadline still holds. */
static void test_closes_output_and_lingers(void **state)
{
	const char *argv[] = {fixture("closes-and-lingers.sh"), NULL};
	struct runner_options opts = {.timeout_ms = 300};
	struct runner_result res;
	double start, took;

	(void)state;
	start = deadline_start(10);
	assert_int_equal(runner_run(argv, &opts, &res), 0);
	took = deadline_stop(start);
	assert_true(took >= 0.3 && took < 0.3 + RUNNER_SLACK_S);
	assert_true(res.timed_out);
	assert_true(res.signaled);
	assert_int_equal(res.signal, SIGKILL);
	assert_true(res.duration_seconds >= 0.3 && res.duration_seconds < 0.3 + RUNNER_SLACK_S);
	assert_int_equal(res.out_len, 0);
	runner_result_free(&res);
	assert_no_children();
}

static void test_flood_is_cut(void **state)
{
	const char *argv[] = {fixture("flood.sh"), NULL};
	struct runner_options opts = {.timeout_ms = 10000, .max_output = 64 * 1024};
	struct runner_result res;
	char how[64];
	double start;

	(void)state;
	start = deadline_start(20);
	assert_int_equal(runner_run(argv, &opts, &res), 0);
	assert_true(deadline_stop(start) < 2);
	assert_true(res.truncated);
	assert_false(res.timed_out);
	assert_true(res.signaled);
	assert_int_equal(res.signal, SIGKILL);
	/* Killed as soon as the cap was passed, not at the deadline. */
	assert_true(res.duration_seconds < 2);
	assert_int_equal(res.out_len, 64 * 1024);
	assert_int_equal(strlen(res.out), 64 * 1024);
	assert_true(strncmp(res.out, "flooding the runner with lines\n", 31) == 0);
	runner_describe(&res, how, sizeof(how));
	assert_string_equal(how, "output over 65536 bytes");
	runner_result_free(&res);
	assert_no_children();
}

/* More than a pipe holds, under the cap: the child must block on a full
 * pipe, not fail with EAGAIN, and every byte arrives. */
static void test_large_output(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' y", NULL};
	struct runner_result res;

	(void)state;
	assert_int_equal(runner_run(argv, NULL, &res), 0);
	assert_string_equal(res.err, "");
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 0);
	assert_false(res.truncated);
	assert_int_equal(res.out_len, 1000000);
	assert_int_equal(strspn(res.out, "y"), 1000000);
	runner_result_free(&res);
	assert_no_children();
}

/* Exactly the cap is not over it. */
static void test_cap_boundary(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "head -c 1000 /dev/zero | tr '\\0' x", NULL};
	struct runner_options opts = {.max_output = 1000};
	struct runner_result res;

	(void)state;
	assert_int_equal(runner_run(argv, &opts, &res), 0);
	assert_false(res.truncated);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.out_len, 1000);
	runner_result_free(&res);

	opts.max_output = 999;
	assert_int_equal(runner_run(argv, &opts, &res), 0);
	assert_true(res.truncated);
	assert_int_equal(res.out_len, 999);
	assert_int_equal(res.out[999], '\0');
	runner_result_free(&res);
	assert_no_children();
}

/* Stderr is drained too (a full pipe would block the child) but only its
 * start is kept. */
static void test_stderr_flood(void **state)
{
	const char *argv[] = {fixture("stderr-flood.sh"), NULL};
	struct runner_result res;

	(void)state;
	assert_int_equal(runner_run(argv, NULL, &res), 0);
	assert_true(res.exited);
	assert_int_equal(res.exit_code, 0);
	assert_false(res.timed_out);
	assert_false(res.truncated);
	assert_string_equal(res.out, "done\n");
	assert_int_equal(strlen(res.err), sizeof(res.err) - 1);
	assert_true(strncmp(res.err, "warning: line 0 of noise on stderr\n", 35) == 0);
	runner_result_free(&res);
	assert_no_children();
}

static void test_stdin_is_dev_null(void **state)
{
	const char *argv[] = {fixture("stdin.sh"), NULL};
	struct runner_options opts = {.timeout_ms = 3000};
	struct runner_result res;

	(void)state;
	assert_int_equal(runner_run(argv, &opts, &res), 0);
	assert_false(res.timed_out);
	assert_string_equal(res.out, "eof\n");
	runner_result_free(&res);
	assert_no_children();
}

/* opts->input is what the program reads, all of it, then end of file;
 * a program that never reads it does not block the run. */
static void test_input(void **state)
{
	static char big[200000];
	const char *cat[] = {"/bin/cat", NULL}, *ignore[] = {"/bin/true", NULL};
	struct runner_options opts = {.timeout_ms = 3000, .input = "url x\nbody 2\nhi"};
	struct runner_result res;

	(void)state;
	opts.input_len = strlen(opts.input);
	assert_int_equal(runner_run(cat, &opts, &res), 0);
	assert_true(res.exited);
	assert_string_equal(res.out, "url x\nbody 2\nhi");
	runner_result_free(&res);
	/* More than a pipe holds, to a program that reads none of it. */
	memset(big, 'x', sizeof(big));
	opts.input = big;
	opts.input_len = sizeof(big);
	assert_int_equal(runner_run(ignore, &opts, &res), 0);
	assert_true(res.exited);
	assert_false(res.timed_out);
	runner_result_free(&res);
	assert_no_children();
}

static void test_cannot_start(void **state)
{
	const char *missing[] = {"/nonexistent/sparkmon-no-such-program", NULL};
	const char *relative[] = {"sh", "-c", "true", NULL};
	const char *dotted[] = {"./tests/fixtures/runner/hello.sh", NULL};
	const char *empty[] = {NULL};
	const char *noexec[] = {fixture("not-executable.sh"), NULL};
	struct runner_result res;
	int fds = count_fds();

	(void)state;
	poison(&res);
	assert_int_equal(runner_run(missing, NULL, &res), -ENOENT);
	assert_true(is_poisoned(&res));
	assert_no_children();
	assert_int_equal(runner_run(relative, NULL, &res), -EINVAL);
	assert_int_equal(runner_run(dotted, NULL, &res), -EINVAL);
	assert_int_equal(runner_run(empty, NULL, &res), -EINVAL);
	assert_int_equal(runner_run(NULL, NULL, &res), -EINVAL);
	assert_int_equal(runner_run(noexec, NULL, &res), -EACCES);
	assert_true(is_poisoned(&res));
	assert_no_children();
	assert_int_equal(count_fds(), fds);
}

/* Many runs in a row leave no descriptor and no child behind. */
static void test_no_leaks_over_many_runs(void **state)
{
	const char *argv[] = {"/bin/true", NULL};
	int fds = count_fds();

	(void)state;
	for (int i = 0; i < 50; i++) {
		struct runner_result res;

		assert_int_equal(runner_run(argv, NULL, &res), 0);
		assert_true(res.exited);
		runner_result_free(&res);
	}
	assert_no_children();
	assert_int_equal(count_fds(), fds);
}

/* A child that SIGKILL does not end (as one stuck in a wedged driver) is
 * kept, never lost: no second one of its tag is started while it lives,
 * its age is told, others run, and it is reaped once it dies. */
static void test_child_that_survives_kill(void **state)
{
	char wedged_path[PATH_MAX + 64], hello_path[PATH_MAX + 64];
	const char *wedged[] = {wedged_path, "3", NULL};
	const char *hello[] = {hello_path, "x", NULL};
	struct runner_options opts = {.timeout_ms = 200, .tag = "wedged"};
	struct runner_options other = {.tag = "other"};
	struct runner_result res;
	double start, took, age = -1;

	(void)state;
	/* fixture() answers in one buffer: each path is copied. */
	snprintf(wedged_path, sizeof(wedged_path), "%s", fixture("survives-kill.sh"));
	snprintf(hello_path, sizeof(hello_path), "%s", fixture("hello.sh"));
	assert_int_equal(runner_pending(NULL, NULL), -ENOENT);
	start = deadline_start(20);
	assert_int_equal(runner_run(wedged, &opts, &res), 0);
	took = deadline_now() - start;
	/* The deadline, then the grace after SIGKILL: the run does not hang. */
	assert_true(res.timed_out);
	assert_false(res.exited);
	assert_false(res.signaled);
	assert_true(took >= 1.15 && took < 1.2 + RUNNER_SLACK_S);
	runner_result_free(&res);
	assert_int_equal(count_children(), 1);

	/* Its tag is busy, with the age; nothing new is started. */
	poison(&res);
	assert_int_equal(runner_run(wedged, &opts, &res), -EBUSY);
	assert_true(is_poisoned(&res));
	assert_int_equal(count_children(), 1);
	assert_int_equal(runner_pending("wedged", &age), 0);
	assert_true(age >= 1.15 && age < 3.0);
	assert_int_equal(runner_pending("other", NULL), -ENOENT);
	assert_int_equal(runner_pending(NULL, NULL), 0);

	/* Another tag, and no tag, run as usual. */
	assert_int_equal(runner_run(hello, &other, &res), 0);
	assert_true(res.exited);
	runner_result_free(&res);
	assert_int_equal(runner_run(hello, NULL, &res), 0);
	runner_result_free(&res);

	/* Once it dies it is reaped, and its tag runs again. */
	while (runner_pending("wedged", NULL) == 0)
		usleep(50000);
	assert_true(deadline_now() - start >= 3.0);
	assert_int_equal(count_children(), 0);
	assert_no_children();
	opts.timeout_ms = 0;
	assert_int_equal(runner_run(hello, &opts, &res), 0);
	assert_true(res.exited);
	runner_result_free(&res);
	deadline_stop(start);
	assert_no_children();
}

/* Several left behind at once, of several tags (and of none: the
 * program's own): each kept and reaped. */
static void test_many_survivors_kept(void **state)
{
	static const char *const tags[] = {"a", "b", "c", "d"};
	const char *wedged[] = {fixture("survives-kill.sh"), "2", NULL};
	struct runner_result res;
	double start;

	(void)state;
	start = deadline_start(30);
	for (size_t i = 0; i < 4; i++) {
		struct runner_options opts = {.timeout_ms = 100, .tag = tags[i]};

		assert_int_equal(runner_run(wedged, &opts, &res), 0);
		assert_true(res.timed_out);
		runner_result_free(&res);
	}
	/* Without a tag, the program's path is its tag. */
	{
		struct runner_options untagged = {.timeout_ms = 100};

		assert_int_equal(runner_run(wedged, &untagged, &res), 0);
		assert_true(res.timed_out);
		runner_result_free(&res);
		assert_int_equal(runner_pending(wedged[0], NULL), 0);
		assert_int_equal(runner_run(wedged, &untagged, &res), -EBUSY);
		assert_int_equal(runner_run(wedged, NULL, &res), -EBUSY);
	}
	assert_true(count_children() >= 1);
	for (size_t i = 0; i < 4; i++) {
		struct runner_options opts = {.timeout_ms = 100, .tag = tags[i]};

		if (runner_pending(tags[i], NULL) == 0)
			assert_int_equal(runner_run(wedged, &opts, &res), -EBUSY);
	}
	while (runner_pending(NULL, NULL) == 0)
		usleep(50000);
	deadline_stop(start);
	assert_no_children();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normal_output),
	    cmocka_unit_test(test_exit_9),
	    cmocka_unit_test(test_killed_by_signal),
	    cmocka_unit_test(test_timeout_kills_process_group),
	    cmocka_unit_test(test_closes_output_and_lingers),
	    cmocka_unit_test(test_flood_is_cut),
	    cmocka_unit_test(test_large_output),
	    cmocka_unit_test(test_cap_boundary),
	    cmocka_unit_test(test_stderr_flood),
	    cmocka_unit_test(test_stdin_is_dev_null),
	    cmocka_unit_test(test_input),
	    cmocka_unit_test(test_cannot_start),
	    cmocka_unit_test(test_no_leaks_over_many_runs),
	    cmocka_unit_test(test_child_that_survives_kill),
	    cmocka_unit_test(test_many_survivors_kept),
	};

	return cmocka_run_group_tests(tests, fixture_setup, NULL);
}
