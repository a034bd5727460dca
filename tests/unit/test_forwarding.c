#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "probes/forwarding.h"

#define ROOTS "tests/fixtures/roots/"

static void root_config(const char *name, struct config *cfg)
{
	char cwd[PATH_MAX];

	config_defaults(cfg);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	if (snprintf(cfg->root, sizeof(cfg->root), "%s/" ROOTS "%s", cwd, name) >=
	    (int)sizeof(cfg->root))
		fail_msg("working directory too deep for a root path");
	if (access(cfg->root, F_OK) != 0)
		fail_msg("fixture root %s missing", cfg->root);
}

/* ---- the runtime file ---------------------------------------------------- */

static void test_parse_runtime(void **state)
{
	static const struct {
		const char *text;
		int r;
		bool value;
	} cases[] = {
	    {"1\n", 0, true},     {"0\n", 0, false},     {"1", 0, true},
	    {"0", 0, false},      {"", -EINVAL, 0},      {"\n", -EINVAL, 0},
	    {"2\n", -EINVAL, 0},  {"10\n", -EINVAL, 0},  {" 1\n", -EINVAL, 0},
	    {"1 \n", -EINVAL, 0}, {"1\n\n", -EINVAL, 0}, {"yes\n", -EINVAL, 0},
	    {"-1\n", -EINVAL, 0}, {"1\r\n", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v = !cases[i].value;
		int r = forwarding_parse_runtime(cases[i].text, strlen(cases[i].text), &v);

		if (r != cases[i].r)
			fail_msg("'%s': returned %d, expected %d", cases[i].text, r, cases[i].r);
		if (r == 0)
			assert_int_equal(v, cases[i].value);
		else
			assert_int_equal(v, !cases[i].value); /* untouched */
	}
}

/* ---- one sysctl file ----------------------------------------------------- */

struct scan_case {
	const char *text;
	int found;
	int value, line;
};

static const struct scan_case scan_cases[] = {
    {"net.ipv4.ip_forward=1\n", 1, 1, 1},
    {"net.ipv4.ip_forward = 0\n", 1, 0, 1},
    {"   net.ipv4.ip_forward\t=\t1   \n", 1, 1, 1},
    {"net.ipv4.ip_forward = 1\r\n", 1, 1, 1},
    {"net.ipv4.ip_forward = 1", 1, 1, 1}, /* no newline at the end is fine */
    {"\n\n# comment\nnet.ipv4.ip_forward = 1\n", 1, 1, 4},
    {"net/ipv4/ip_forward = 1\n", 1, 1, 1},
    {"net.ipv4.conf.all.forwarding = 1\n", 1, 1, 1},
    {"net/ipv4/conf/all/forwarding = 0\n", 1, 0, 1},
    /* An interface name may contain dots: with '/' first, dots are literal. */
    {"net/ipv4/conf/eth0.100/forwarding = 1\n", 0, 0, 0},
    {"net.ipv4.conf.*.forwarding = 1\n", 1, 1, 1},
    {"-net.ipv4.ip_forward = 1\n", 1, 1, 1},
    {"  - net.ipv4.ip_forward = 1\n", 1, 1, 1},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 0\n", 1, 0, 2},
    {"net.ipv4.ip_forward = 0\nnet.ipv4.conf.all.forwarding = 1\n", 1, 1, 2},
    /* Not IPv4 forwarding. */
    {"net.ipv4.conf.default.forwarding = 1\n", 0, 0, 0},
    {"net.ipv4.conf.wg0.forwarding = 1\n", 0, 0, 0},
    {"net.ipv6.conf.all.forwarding = 1\n", 0, 0, 0},
    {"net.ipv4.ip_forward_use_pmtu = 1\n", 0, 0, 0},
    {"xnet.ipv4.ip_forward = 1\n", 0, 0, 0},
    {"net.ipv4.ip_forwar = 1\n", 0, 0, 0},
    /* Comments. */
    {"# net.ipv4.ip_forward = 1\n", 0, 0, 0},
    {"; net.ipv4.ip_forward = 1\n", 0, 0, 0},
    {"   #net.ipv4.ip_forward=1\n", 0, 0, 0},
    /* Values the kernel would refuse: ignored, the earlier value stands. */
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = yes\n", 1, 1, 1},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward =\n", 1, 1, 1},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 0x\n", 1, 1, 1},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 0 1\n", 1, 1, 1},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 99999999999999999999999\n", 1, 1, 1},
    {"net.ipv4.ip_forward 1\n", 0, 0, 0},
    {"= 1\n", 0, 0, 0},
    {"", 0, 0, 0},
};

static void test_scan_sysctl(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++) {
		const struct scan_case *c = &scan_cases[i];
		int value = -7, line = -7;
		int found = forwarding_scan_sysctl(c->text, strlen(c->text), &value, &line);

		if (found != c->found)
			fail_msg("case %zu '%s': found %d, expected %d", i, c->text, found,
			         c->found);
		if (found && (value != c->value || line != c->line))
			fail_msg("case %zu '%s': value %d line %d, expected %d line %d", i, c->text,
			         value, line, c->value, c->line);
		if (!found && (value != -7 || line != -7))
			fail_msg("case %zu '%s': outputs written without an assignment", i,
			         c->text);
	}
}

/* A line too long for the scanner is skipped, and lines still count. */
static void test_scan_long_line(void **state)
{
	char text[4096];
	int value = -1, line = -1;
	size_t n;

	(void)state;
	memset(text, 'x', 2000);
	n = 2000;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "=1\nnet.ipv4.ip_forward = 1\n");
	assert_int_equal(forwarding_scan_sysctl(text, n, &value, &line), 1);
	assert_int_equal(value, 1);
	assert_int_equal(line, 2);
}

/* ---- the directories, on fixture roots ----------------------------------- */

struct root_case {
	const char *root;
	bool ipv4;
	int boot_value;
	const char *boot_file;
	int boot_line;
	unsigned files_read;
};

static const struct root_case root_cases[] = {
    {"persisted-etc", true, 1, "/etc/sysctl.d/99-wireguard.conf", 2, 2},
    /* README, *.conf.disabled and hidden files are not configuration. */
    {"not-persisted", true, -1, "", 0, 2},
    /* /etc/sysctl.d/60-forward.conf replaces the /run and /usr/lib ones. */
    {"etc-masks", true, -1, "", 0, 1},
    {"run-overrides", false, 1, "/run/sysctl.d/70-forward.conf", 3, 1},
    /* 10-wireguard.conf, 100-late.conf, 99-hardening.conf: the last sets 0. */
    {"lexical-order", true, 0, "/usr/lib/sysctl.d/99-hardening.conf", 3, 3},
    {"later-line", true, 1, "/etc/sysctl.d/50-flip.conf", 4, 1},
    {"sysctl-conf-last", true, 0, "/etc/sysctl.conf", 6, 2},
    {"slash-form", true, 1, "/etc/sysctl.d/30-slash.conf", 1, 1},
    {"conf-all", true, 1, "/etc/sysctl.d/30-all.conf", 1, 1},
    {"dash-prefix", true, 1, "/usr/lib/sysctl.d/30-dash.conf", 1, 1},
    {"comments-garbage", true, 1, "/etc/sysctl.d/10-on.conf", 1, 2},
};

static void test_roots(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(root_cases) / sizeof(root_cases[0]); i++) {
		const struct root_case *c = &root_cases[i];
		struct forwarding f;
		struct config cfg;
		char err[512] = "";
		int r;

		root_config(c->root, &cfg);
		memset(&f, 0x33, sizeof(f));
		r = forwarding_read(&cfg, &f, err, sizeof(err));
		if (r != 0)
			fail_msg("%s: %d (%s)", c->root, r, err);
		if (f.ipv4 != c->ipv4 || f.boot_value != c->boot_value ||
		    strcmp(f.boot_file, c->boot_file) != 0 || f.boot_line != c->boot_line ||
		    f.files_read != c->files_read)
			fail_msg("%s: ipv4 %d boot %d from '%s':%d (%u files); expected %d boot %d "
			         "from '%s':%d (%u files)",
			         c->root, f.ipv4, f.boot_value, f.boot_file, f.boot_line,
			         f.files_read, c->ipv4, c->boot_value, c->boot_file, c->boot_line,
			         c->files_read);
	}
}

static void test_runtime_errors(void **state)
{
	static const struct {
		const char *root;
		int r;
		const char *suffix;
	} cases[] = {
	    {"runtime-garbage", -EINVAL, "/proc/sys/net/ipv4/ip_forward: expected 0 or 1"},
	    {"runtime-empty", -EINVAL, "/proc/sys/net/ipv4/ip_forward: expected 0 or 1"},
	    {"runtime-two", -EINVAL, "/proc/sys/net/ipv4/ip_forward: expected 0 or 1"},
	    {"runtime-missing", -ENOENT,
	     "/proc/sys/net/ipv4/ip_forward: No such file or directory"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct forwarding f, untouched;
		struct config cfg;
		char err[512] = "", expect[512];
		int r;

		root_config(cases[i].root, &cfg);
		memset(&f, 0x33, sizeof(f));
		untouched = f;
		r = forwarding_read(&cfg, &f, err, sizeof(err));
		if (r != cases[i].r)
			fail_msg("%s: returned %d, expected %d", cases[i].root, r, cases[i].r);
		snprintf(expect, sizeof(expect), "%s%s", cfg.root, cases[i].suffix);
		assert_string_equal(err, expect);
		assert_memory_equal(&f, &untouched, sizeof(f));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_runtime),  cmocka_unit_test(test_scan_sysctl),
	    cmocka_unit_test(test_scan_long_line), cmocka_unit_test(test_roots),
	    cmocka_unit_test(test_runtime_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
