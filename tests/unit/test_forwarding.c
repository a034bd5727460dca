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

/* ---- the directories, on fixture roots ----------------------------------- */

struct root_case {
	const char *root;
	bool ipv4;
	int boot_value;
	const char *boot_file;
	int boot_line;
	unsigned files_read;
	int procps_value; /* `sysctl --system` */
	const char *procps_file;
};

static const struct root_case root_cases[] = {
    {"persisted-etc", true, 1, "/etc/sysctl.d/99-wireguard.conf", 2, 2, 1,
     "/etc/sysctl.d/99-wireguard.conf"},
    /* README, *.conf.disabled and hidden files are not configuration. */
    {"not-persisted", true, -1, "", 0, 2, -1, ""},
    /* /etc/sysctl.d/60-forward.conf replaces the /run and /usr/lib ones. */
    {"etc-masks", true, -1, "", 0, 1, -1, ""},
    {"run-overrides", false, 1, "/run/sysctl.d/70-forward.conf", 3, 1, 1,
     "/run/sysctl.d/70-forward.conf"},
    /* 10-wireguard.conf, 100-late.conf, 99-hardening.conf: the last sets 0. */
    {"lexical-order", true, 0, "/usr/lib/sysctl.d/99-hardening.conf", 3, 3, 0,
     "/usr/lib/sysctl.d/99-hardening.conf"},
    {"later-line", true, 1, "/etc/sysctl.d/50-flip.conf", 4, 1, 1, "/etc/sysctl.d/50-flip.conf"},
    /* Without the 99-sysctl.conf link systemd-sysctl does not read
     * /etc/sysctl.conf; `sysctl --system` reads it last. */
    {"sysctl-conf-last", true, 1, "/etc/sysctl.d/zz-forward.conf", 1, 2, 0, "/etc/sysctl.conf"},
    {"slash-form", true, 1, "/etc/sysctl.d/30-slash.conf", 1, 1, 1, "/etc/sysctl.d/30-slash.conf"},
    {"conf-all", true, 1, "/etc/sysctl.d/30-all.conf", 1, 1, 1, "/etc/sysctl.d/30-all.conf"},
    {"dash-prefix", true, 1, "/usr/lib/sysctl.d/30-dash.conf", 1, 1, 1,
     "/usr/lib/sysctl.d/30-dash.conf"},
    /* "= 0 1" is 0 to the kernel; "off" and "" are refused. */
    {"comments-garbage", true, 0, "/etc/sysctl.d/20-noise.conf", 7, 2, 0,
     "/etc/sysctl.d/20-noise.conf"},
    /* Debian's link is named by what it points to. */
    {"fwd-debian-link", true, 1, "/etc/sysctl.conf", 2, 2, 1, "/etc/sysctl.conf"},
    /* A file sorting after 99-sysctl.conf wins at boot, not for
     * `sysctl --system`, which reads /etc/sysctl.conf once more at the end. */
    {"fwd-after-link", true, 0, "/etc/sysctl.d/zz-hardening.conf", 1, 3, 1, "/etc/sysctl.conf"},
};

static void read_root(const char *root, struct forwarding *f)
{
	struct config cfg;
	char err[512] = "";
	int r;

	root_config(root, &cfg);
	memset(f, 0x33, sizeof(*f));
	r = forwarding_read(&cfg, f, err, sizeof(err));
	if (r != 0)
		fail_msg("%s: %d (%s)", root, r, err);
}

static void test_roots(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(root_cases) / sizeof(root_cases[0]); i++) {
		const struct root_case *c = &root_cases[i];
		const struct forwarding_boot *b;
		struct forwarding f;

		read_root(c->root, &f);
		b = &f.boot4;
		if (f.ipv4 != c->ipv4 || b->value != c->boot_value ||
		    strcmp(b->file, c->boot_file) != 0 || b->line != c->boot_line ||
		    f.files_read != c->files_read)
			fail_msg("%s: ipv4 %d boot %d from '%s':%d (%u files); expected %d boot %d "
			         "from '%s':%d (%u files)",
			         c->root, f.ipv4, b->value, b->file, b->line, f.files_read, c->ipv4,
			         c->boot_value, c->boot_file, c->boot_line, c->files_read);
		if (b->procps_value != c->procps_value ||
		    strcmp(b->procps_file, c->procps_file) != 0)
			fail_msg("%s: sysctl --system %d from '%s'; expected %d from '%s'", c->root,
			         b->procps_value, b->procps_file, c->procps_value, c->procps_file);
		/* No service here, and no IPv6 in any VPN. */
		assert_int_equal(b->service, FORWARDING_BY_NONE);
		assert_false(f.ipv6_carried);
		assert_false(f.too_many_keys);
	}
}

/* Services that turn forwarding on after systemd-sysctl. */
static void test_services(void **state)
{
	static const struct {
		const char *root;
		enum forwarding_service service;
		const char *unit, *file;
		int line;
		enum forwarding_service service6;
	} cases[] = {
	    {"fwd-docker", FORWARDING_BY_DOCKER, "docker.service", "/etc/docker/daemon.json", 0,
	     FORWARDING_BY_NONE},
	    {"fwd-docker-off", FORWARDING_BY_NONE, "", "", 0, FORWARDING_BY_NONE},
	    {"fwd-postup", FORWARDING_BY_WG_QUICK, "wg-quick@wg0.service",
	     "/etc/wireguard/wg0.conf", 0, FORWARDING_BY_NONE},
	    /* wg-quick@wg0 is not enabled: its PostUp does not run at boot. */
	    {"fwd-postup-disabled", FORWARDING_BY_NONE, "", "", 0, FORWARDING_BY_NONE},
	    {"fwd-networkd", FORWARDING_BY_NETWORKD, "systemd-networkd.service",
	     "/etc/systemd/network/10-uplink.network", 6, FORWARDING_BY_NETWORKD},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct forwarding f;

		read_root(cases[i].root, &f);
		if (f.boot4.service != cases[i].service ||
		    strcmp(f.boot4.service_unit, cases[i].unit) != 0 ||
		    strcmp(f.boot4.service_file, cases[i].file) != 0 ||
		    f.boot4.service_line != cases[i].line || f.boot6.service != cases[i].service6)
			fail_msg("%s: %s '%s' '%s':%d (ipv6 %d)", cases[i].root,
			         forwarding_service_name(f.boot4.service), f.boot4.service_unit,
			         f.boot4.service_file, f.boot4.service_line, f.boot6.service);
	}
}

static void test_ipv6(void **state)
{
	struct forwarding f;

	(void)state;
	/* Address carries an IPv6 prefix. */
	read_root("fwd-ipv6", &f);
	assert_true(f.ipv6_carried);
	assert_string_equal(f.ipv6_carried_by, "/etc/wireguard/wg0.conf");
	assert_true(f.ipv6);
	assert_string_equal(f.ipv6_error, "");
	assert_int_equal(f.boot6.value, 1);
	assert_string_equal(f.boot6.file, "/etc/sysctl.d/60-forward.conf");
	assert_int_equal(f.boot6.line, 2);
	/* A peer's AllowedIPs does; the kernel has no IPv6 here. */
	read_root("fwd-ipv6-peer", &f);
	assert_true(f.ipv6_carried);
	assert_false(f.ipv6);
	assert_non_null(
	    strstr(f.ipv6_error, "/proc/sys/net/ipv6/conf/all/forwarding: No such file"));
	assert_int_equal(f.boot6.value, -1);
	/* IPv4 only. */
	read_root("fwd-postup", &f);
	assert_false(f.ipv6_carried);
	assert_string_equal(f.ipv6_carried_by, "");
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
	    cmocka_unit_test(test_parse_runtime),  cmocka_unit_test(test_roots),
	    cmocka_unit_test(test_services),       cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_runtime_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
