#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "probes/caps.h"
#include "probes/runner.h"

#define CAP_NET_ADMIN_MASK "0000000000001000"
#define NO_CAPS            "0000000000000000"
/* CAP_DAC_OVERRIDE (1), CAP_NET_ADMIN (12), CAP_NET_RAW (13) */
#define RULESET_DUMP_MASK "0000000000003002"

/* The value of "Field:" in a /proc/PID/status text, or "" when absent. */
static void status_field(const char *text, const char *field, char *buf, size_t size)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "\n%s:", field);
	p = strstr(text, key);
	buf[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	p += strspn(p, " \t");
	snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
}

static void assert_field(const char *text, const char *field, const char *want)
{
	char got[64];

	status_field(text, field, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("%s: '%s', expected '%s' in:\n%s", field, got, want, text);
}

/* A child run by the runner reports its own capabilities. */
static void run_status(uint64_t keep, struct runner_result *res)
{
	const char *argv[] = {"/bin/cat", "/proc/self/status", NULL};
	struct runner_options opts = {.keep_caps = keep};

	assert_int_equal(runner_run(argv, &opts, res), 0);
	assert_true(res->exited);
	assert_int_equal(res->exit_code, 0);
}

static void test_child_has_no_capability(void **state)
{
	struct runner_result res;

	(void)state;
	run_status(0, &res);
	assert_field(res.out, "CapInh", NO_CAPS);
	assert_field(res.out, "CapPrm", NO_CAPS);
	assert_field(res.out, "CapEff", NO_CAPS);
	assert_field(res.out, "CapAmb", NO_CAPS);
	assert_field(res.out, "NoNewPrivs", "1");
	/* Root may empty the bounding set, what a root program gets at exec
	 * (the tests run as root; the unit's dynamic user may not). */
	if (geteuid() == 0)
		assert_field(res.out, "CapBnd", NO_CAPS);
	runner_result_free(&res);
}

/* A ruleset dump keeps what it needs, and only that. */
static void test_child_keeps_only_what_is_asked(void **state)
{
	struct runner_result res;

	(void)state;
	if (geteuid() != 0)
		fail_msg("needs root: capabilities to keep");
	run_status(CAPS_BIT(CAP_NET_ADMIN), &res);
	assert_field(res.out, "CapPrm", CAP_NET_ADMIN_MASK);
	assert_field(res.out, "CapEff", CAP_NET_ADMIN_MASK);
	assert_field(res.out, "CapBnd", CAP_NET_ADMIN_MASK);
	assert_field(res.out, "NoNewPrivs", "1");
	runner_result_free(&res);
	run_status(CAPS_RULESET_DUMP, &res);
	assert_field(res.out, "CapEff", RULESET_DUMP_MASK);
	runner_result_free(&res);
}

/* The runner's parent keeps what it had. */
static void test_parent_untouched(void **state)
{
	char buf[4096] = "\n";
	FILE *f = fopen("/proc/self/status", "r");
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(buf + 1, 1, sizeof(buf) - 2, f);
	buf[n + 1] = '\0';
	fclose(f);
	assert_field(buf, "NoNewPrivs", "0");
}

/* caps_limit in a forked child: setuid programs give nothing back. */
static void test_limit_in_child(void **state)
{
	int st;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (caps_limit(0) < 0)
			_exit(2);
		/* Without CAP_SETUID even root cannot change its uid now. */
		_exit(geteuid() == 0 && setuid(65534) == 0 ? 3 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_exec_failure_reported(void **state)
{
	const char *argv[] = {"/nonexistent/sparkmon-test-program", NULL};
	struct runner_result res;

	(void)state;
	assert_int_equal(runner_run(argv, NULL, &res), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_child_has_no_capability),
	    cmocka_unit_test(test_child_keeps_only_what_is_asked),
	    cmocka_unit_test(test_parent_untouched),
	    cmocka_unit_test(test_limit_in_child),
	    cmocka_unit_test(test_exec_failure_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
