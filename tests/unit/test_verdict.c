#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/probetab.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
#include "tests/unit/find_check.h"

/* Tests here look at the memory and forwarding areas only, so that areas
 * added later (and left NOT_RUN in these snapshots) do not change them. */
static struct check_filter foundation_filter(void)
{
	static char list[64];
	struct check_filter f;
	char bad[64];

	strcpy(list, "memory,forwarding");
	assert_int_equal(verdict_parse_filter(list, &f, bad, sizeof(bad)), 0);
	return f;
}

static struct snapshot *new_snapshot(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->probes[PROBE_MEMORY].status = PROBE_OK;
	s->memory.total = 1000 * 1024;
	s->memory.available = 500 * 1024;
	s->memory.used = 500 * 1024;
	s->probes[PROBE_FORWARDING].status = PROBE_OK;
	s->forwarding.ipv4 = true;
	s->forwarding.boot4.value = 1;
	strcpy(s->forwarding.boot4.file, "/etc/sysctl.d/99-wireguard.conf");
	s->forwarding.boot4.line = 2;
	s->forwarding.boot4.procps_value = 1;
	strcpy(s->forwarding.boot4.procps_file, "/etc/sysctl.d/99-wireguard.conf");
	s->forwarding.boot4.procps_line = 2;
	return s;
}

static enum check_status memory_status(const struct config *cfg, uint64_t total, uint64_t available)
{
	struct snapshot *s = new_snapshot();
	struct check_filter f = foundation_filter();
	struct verdict v;
	const struct check *c;
	enum check_status st;

	s->memory.total = total;
	s->memory.available = available;
	s->memory.used = total - available;
	verdict_evaluate(cfg, s, &f, &v);
	c = find_check(&v, "memory.available");
	assert_non_null(c);
	st = c->status;
	if (st == CHECK_OK)
		assert_string_equal(c->hint, "");
	else
		assert_non_null(strstr(c->hint, "ps -eo pid,rss,comm"));
	free(s);
	return st;
}

/* "Below N%" is strict: exactly N% is not below. */
static void test_memory_boundaries(void **state)
{
	struct config cfg;
	const uint64_t total = 1000 * 1024; /* 10% = 102400, 5% = 51200 */

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(memory_status(&cfg, total, total), CHECK_OK);
	assert_int_equal(memory_status(&cfg, total, 102401), CHECK_OK);
	assert_int_equal(memory_status(&cfg, total, 102400), CHECK_OK);
	assert_int_equal(memory_status(&cfg, total, 102399), CHECK_WARNING);
	assert_int_equal(memory_status(&cfg, total, 51200), CHECK_WARNING);
	assert_int_equal(memory_status(&cfg, total, 51199), CHECK_CRITICAL);
	assert_int_equal(memory_status(&cfg, total, 0), CHECK_CRITICAL);

	/* Fractional thresholds, and a threshold that is not a whole byte:
	 * 7.5% of 1001 bytes is 75.075. */
	cfg.memory_warning_bp = 750;
	cfg.memory_critical_bp = 1;
	assert_int_equal(memory_status(&cfg, 1000, 75), CHECK_OK);
	assert_int_equal(memory_status(&cfg, 1000, 74), CHECK_WARNING);
	assert_int_equal(memory_status(&cfg, 1001, 76), CHECK_OK);
	assert_int_equal(memory_status(&cfg, 1001, 75), CHECK_WARNING);
	assert_int_equal(memory_status(&cfg, 10000, 1), CHECK_WARNING); /* 0.01% is 1 */
	assert_int_equal(memory_status(&cfg, 10000, 0), CHECK_CRITICAL);
}

/* Totals where available * 10000 overflows 64 bits. */
static void test_memory_huge_values(void **state)
{
	struct config cfg;
	const uint64_t total = 10ull << 60; /* 10% = 2^60 exactly */

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(memory_status(&cfg, total, 1ull << 60), CHECK_OK);
	assert_int_equal(memory_status(&cfg, total, (1ull << 60) - 1), CHECK_WARNING);
	assert_int_equal(memory_status(&cfg, UINT64_MAX, UINT64_MAX), CHECK_OK);
	assert_int_equal(memory_status(&cfg, UINT64_MAX, UINT64_MAX / 20), CHECK_CRITICAL);
}

static void test_memory_summary(void **state)
{
	struct snapshot *s = new_snapshot();
	struct check_filter f = foundation_filter();
	struct config cfg;
	struct verdict v;
	const struct check *c;

	(void)state;
	config_defaults(&cfg);
	s->memory.total = 128ull << 30;
	s->memory.available = 96ull << 30;
	verdict_evaluate(&cfg, s, &f, &v);
	c = find_check(&v, "memory.available");
	assert_non_null(c);
	assert_string_equal(c->summary, "96.0 GiB available of 128.0 GiB (75.0%)");
	free(s);
}

static void expect_persistent(const struct config *cfg, const struct snapshot *s,
                              enum check_status status, const char *summary, const char *hint)
{
	struct check_filter f = foundation_filter();
	const struct check *c;
	struct verdict v;

	verdict_evaluate(cfg, s, &f, &v);
	c = find_check(&v, "forwarding.persistent");
	assert_non_null(c);
	assert_string_equal(c->summary, summary);
	assert_string_equal(c->hint, hint);
	assert_int_equal(c->status, status);
}

static void test_forwarding_checks(void **state)
{
	struct snapshot *s = new_snapshot();
	struct forwarding_boot *boot = &s->forwarding.boot4;
	struct check_filter f = foundation_filter();
	struct config cfg;
	struct verdict v;
	const struct check *ipv4, *persistent;

	(void)state;
	config_defaults(&cfg);

	verdict_evaluate(&cfg, s, &f, &v);
	ipv4 = find_check(&v, "forwarding.ipv4");
	persistent = find_check(&v, "forwarding.persistent");
	assert_non_null(ipv4);
	assert_non_null(persistent);
	assert_int_equal(ipv4->status, CHECK_OK);
	assert_string_equal(ipv4->hint, "");
	assert_int_equal(persistent->status, CHECK_OK);
	assert_string_equal(persistent->summary, "net.ipv4.ip_forward = 1 is set at boot by "
	                                         "/etc/sysctl.d/99-wireguard.conf:2");
	assert_int_equal(v.overall, CHECK_OK);

	/* Off at runtime: CRITICAL, with the command that turns it on. */
	s->forwarding.ipv4 = false;
	verdict_evaluate(&cfg, s, &f, &v);
	ipv4 = find_check(&v, "forwarding.ipv4");
	assert_int_equal(ipv4->status, CHECK_CRITICAL);
	assert_string_equal(ipv4->hint, "sysctl -w net.ipv4.ip_forward=1");
	assert_int_equal(v.overall, CHECK_CRITICAL);

	/* On now, nothing sets it at boot: WARNING naming the file to write. */
	s->forwarding.ipv4 = true;
	boot->value = -1;
	boot->file[0] = '\0';
	boot->line = 0;
	boot->procps_value = -1;
	expect_persistent(
	    &cfg, s, CHECK_WARNING,
	    "no sysctl file sets net.ipv4.ip_forward: forwarding is on now but a "
	    "reboot turns it off",
	    "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/99-sparkmon-ip-forward.conf "
	    "&& systemctl restart systemd-sysctl");
	verdict_evaluate(&cfg, s, &f, &v);
	assert_int_equal(find_check(&v, "forwarding.ipv4")->status, CHECK_OK);
	assert_int_equal(v.overall, CHECK_WARNING);

	/* Only `sysctl --system` reads /etc/sysctl.conf without the link. */
	boot->procps_value = 1;
	strcpy(boot->procps_file, "/etc/sysctl.conf");
	boot->procps_line = 28;
	expect_persistent(
	    &cfg, s, CHECK_WARNING,
	    "no sysctl file sets net.ipv4.ip_forward: forwarding is on now but a "
	    "reboot turns it off (`sysctl --system` differs: it ends with "
	    "/etc/sysctl.conf:28, net.ipv4.ip_forward = 1)",
	    "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/99-sparkmon-ip-forward.conf "
	    "&& systemctl restart systemd-sysctl");

	/* A file sorting after Debian's 99-sysctl.conf turns it off at boot. */
	boot->value = 0;
	strcpy(boot->file, "/etc/sysctl.d/zz-hardening.conf");
	boot->line = 1;
	expect_persistent(&cfg, s, CHECK_WARNING,
	                  "/etc/sysctl.d/zz-hardening.conf:1 sets net.ipv4.ip_forward = 0 at boot: "
	                  "forwarding is on now but a reboot turns it off (`sysctl --system` "
	                  "differs: it ends with /etc/sysctl.conf:28, net.ipv4.ip_forward = 1)",
	                  "change line 1 of /etc/sysctl.d/zz-hardening.conf to "
	                  "'net.ipv4.ip_forward = 1', then systemctl restart systemd-sysctl");

	/* A file sets 0 at boot: WARNING naming that file and line. */
	boot->procps_value = 0;
	strcpy(boot->file, "/usr/lib/sysctl.d/99-hardening.conf");
	boot->line = 3;
	/* A shipped file is overridden by a later one, not edited. */
	expect_persistent(
	    &cfg, s, CHECK_WARNING,
	    "/usr/lib/sysctl.d/99-hardening.conf:3 sets net.ipv4.ip_forward = 0 at "
	    "boot: forwarding is on now but a reboot turns it off",
	    "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/zz-sparkmon-ip-forward.conf "
	    "(it sorts after /usr/lib/sysctl.d/99-hardening.conf) && systemctl "
	    "restart systemd-sysctl");
	/* ... one whose name sorts after zz-... too. */
	strcpy(boot->file, "/usr/lib/sysctl.d/zzz-vendor.conf");
	expect_persistent(
	    &cfg, s, CHECK_WARNING,
	    "/usr/lib/sysctl.d/zzz-vendor.conf:3 sets net.ipv4.ip_forward = 0 at "
	    "boot: forwarding is on now but a reboot turns it off",
	    "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/zzzz-sparkmon-ip-forward.conf "
	    "(it sorts after /usr/lib/sysctl.d/zzz-vendor.conf) && systemctl "
	    "restart systemd-sysctl");

	/* The admin's own file under /etc: edit that line. Off now too. */
	strcpy(boot->file, "/etc/sysctl.d/10-local.conf");
	s->forwarding.ipv4 = false;
	expect_persistent(&cfg, s, CHECK_WARNING,
	                  "/etc/sysctl.d/10-local.conf:3 sets net.ipv4.ip_forward = 0 at boot",
	                  "change line 3 of /etc/sysctl.d/10-local.conf to 'net.ipv4.ip_forward = "
	                  "1', then systemctl restart systemd-sysctl");
	s->forwarding.ipv4 = true;

	/* A refused value replaced the earlier assignments. */
	boot->value = -1;
	boot->file[0] = '\0';
	strcpy(boot->refused_file, "/etc/sysctl.d/20-typo.conf");
	boot->refused_line = 4;
	strcpy(boot->refused_value, "yes");
	boot->procps_value = 1;
	strcpy(boot->procps_file, "/etc/sysctl.d/10-on.conf");
	boot->procps_line = 1;
	expect_persistent(
	    &cfg, s, CHECK_WARNING,
	    "/etc/sysctl.d/20-typo.conf:4 sets net.ipv4.ip_forward = 'yes', which the "
	    "kernel refuses; systemd-sysctl keeps only the last assignment, so it "
	    "stays off at boot: forwarding is on now but a reboot turns it off "
	    "(`sysctl --system` differs: it ends with /etc/sysctl.d/10-on.conf:1, "
	    "net.ipv4.ip_forward = 1)",
	    "change line 4 of /etc/sysctl.d/20-typo.conf to 'net.ipv4.ip_forward = "
	    "1', then systemctl restart systemd-sysctl");
	boot->refused_file[0] = '\0';

	/* Services that start after systemd-sysctl turn it on: OK, named. */
	boot->value = 0;
	strcpy(boot->file, "/etc/sysctl.d/10-local.conf");
	boot->procps_value = 0;
	boot->service = FORWARDING_BY_DOCKER;
	strcpy(boot->service_unit, "docker.service");
	strcpy(boot->service_file, "/etc/docker/daemon.json");
	expect_persistent(&cfg, s, CHECK_OK,
	                  "net.ipv4.ip_forward is turned on at boot by Docker (docker.service is "
	                  "enabled and /etc/docker/daemon.json does not set \"ip-forward\": false)",
	                  "");
	boot->service_file[0] = '\0';
	expect_persistent(&cfg, s, CHECK_OK,
	                  "net.ipv4.ip_forward is turned on at boot by Docker (docker.service is "
	                  "enabled, with no /etc/docker/daemon.json)",
	                  "");
	boot->service = FORWARDING_BY_WG_QUICK;
	strcpy(boot->service_unit, "wg-quick@wg0.service");
	strcpy(boot->service_file, "/etc/wireguard/wg0.conf");
	expect_persistent(&cfg, s, CHECK_OK,
	                  "net.ipv4.ip_forward is turned on at boot by a PostUp of "
	                  "/etc/wireguard/wg0.conf (wg-quick@wg0.service is enabled)",
	                  "");
	boot->service = FORWARDING_BY_NETWORKD;
	strcpy(boot->service_unit, "systemd-networkd.service");
	strcpy(boot->service_file, "/etc/systemd/network/10-uplink.network");
	boot->service_line = 6;
	expect_persistent(&cfg, s, CHECK_OK,
	                  "net.ipv4.ip_forward is turned on at boot by systemd-networkd: "
	                  "/etc/systemd/network/10-uplink.network:6 (systemd-networkd.service is "
	                  "enabled)",
	                  "");
	boot->service = FORWARDING_BY_NONE;

	/* On at boot by systemd-sysctl, off for `sysctl --system`: OK, said. */
	boot->value = 1;
	strcpy(boot->file, "/etc/sysctl.d/zz-forward.conf");
	boot->line = 1;
	strcpy(boot->procps_file, "/etc/sysctl.conf");
	boot->procps_line = 6;
	expect_persistent(
	    &cfg, s, CHECK_OK,
	    "net.ipv4.ip_forward = 1 is set at boot by /etc/sysctl.d/zz-forward.conf:1 "
	    "(`sysctl --system` differs: it ends with /etc/sysctl.conf:6, "
	    "net.ipv4.ip_forward = 0)",
	    "");

	/* Turned off in the configuration: the check is absent, not OK. */
	cfg.forwarding_check_persistent = false;
	verdict_evaluate(&cfg, s, &f, &v);
	assert_null(find_check(&v, "forwarding.persistent"));
	assert_non_null(find_check(&v, "forwarding.ipv4"));
	assert_int_equal(v.overall, CHECK_OK);
	free(s);
}

static const struct check *ipv6_check(const struct config *cfg, const struct snapshot *s,
                                      struct verdict *v)
{
	struct check_filter f = foundation_filter();

	verdict_evaluate(cfg, s, &f, v);
	return find_check(v, "forwarding.ipv6");
}

static void test_forwarding_ipv6(void **state)
{
	struct snapshot *s = new_snapshot();
	struct forwarding *fw = &s->forwarding;
	const struct check *c;
	struct config cfg;
	struct verdict v;

	(void)state;
	config_defaults(&cfg);
	/* No IPv6 in the VPN: no check at all. */
	assert_null(ipv6_check(&cfg, s, &v));

	fw->ipv6_carried = true;
	strcpy(fw->ipv6_carried_by, "/etc/wireguard/wg0.conf");
	fw->ipv6 = false;
	c = ipv6_check(&cfg, s, &v);
	assert_non_null(c);
	assert_int_equal(c->status, CHECK_CRITICAL);
	assert_string_equal(c->summary,
	                    "IPv6 forwarding is off: /etc/wireguard/wg0.conf carries "
	                    "IPv6, but VPN clients reach this host only, nothing behind "
	                    "it");
	assert_string_equal(c->hint, "sysctl -w net.ipv6.conf.all.forwarding=1");

	/* On now, and at boot. */
	fw->ipv6 = true;
	fw->boot6.value = 1;
	fw->boot6.procps_value = 1;
	strcpy(fw->boot6.file, "/etc/sysctl.d/60-forward.conf");
	fw->boot6.line = 2;
	c = ipv6_check(&cfg, s, &v);
	assert_int_equal(c->status, CHECK_OK);
	assert_string_equal(c->summary,
	                    "IPv6 forwarding is on now; net.ipv6.conf.all.forwarding = 1 "
	                    "is set at boot by /etc/sysctl.d/60-forward.conf:2");

	/* On now, off after a reboot. */
	fw->boot6.value = -1;
	fw->boot6.procps_value = -1;
	fw->boot6.file[0] = '\0';
	c = ipv6_check(&cfg, s, &v);
	assert_int_equal(c->status, CHECK_WARNING);
	assert_string_equal(c->summary, "IPv6 forwarding is on now; no sysctl file sets "
	                                "net.ipv6.conf.all.forwarding: forwarding is on now but a "
	                                "reboot turns it off");
	assert_string_equal(c->hint, "echo 'net.ipv6.conf.all.forwarding = 1' > "
	                             "/etc/sysctl.d/99-sparkmon-ipv6-forward.conf && systemctl "
	                             "restart systemd-sysctl");
	fw->boot6.value = 0;
	strcpy(fw->boot6.file, "/usr/lib/sysctl.d/50-v6.conf");
	fw->boot6.line = 1;
	fw->boot6.procps_value = 0;
	c = ipv6_check(&cfg, s, &v);
	assert_string_equal(c->hint, "echo 'net.ipv6.conf.all.forwarding = 1' > "
	                             "/etc/sysctl.d/zz-sparkmon-ipv6-forward.conf (it sorts after "
	                             "/usr/lib/sysctl.d/50-v6.conf) && systemctl restart "
	                             "systemd-sysctl");
	/* Docker with "ipv6": true turns it on. */
	fw->boot6.service = FORWARDING_BY_DOCKER;
	strcpy(fw->boot6.service_unit, "docker.service");
	strcpy(fw->boot6.service_file, "/etc/docker/daemon.json");
	assert_int_equal(ipv6_check(&cfg, s, &v)->status, CHECK_OK);
	fw->boot6.service = FORWARDING_BY_NONE;

	/* Boot persistence not checked: now is enough. */
	cfg.forwarding_check_persistent = false;
	c = ipv6_check(&cfg, s, &v);
	assert_int_equal(c->status, CHECK_OK);
	assert_string_equal(c->summary, "IPv6 forwarding is on");
	cfg.forwarding_check_persistent = true;

	/* The kernel has no IPv6: UNKNOWN with the reason. */
	strcpy(fw->ipv6_error, "/proc/sys/net/ipv6/conf/all/forwarding: No such file or directory");
	c = ipv6_check(&cfg, s, &v);
	assert_int_equal(c->status, CHECK_UNKNOWN);
	assert_string_equal(c->summary,
	                    "/etc/wireguard/wg0.conf carries IPv6 but IPv6 forwarding "
	                    "cannot be read: /proc/sys/net/ipv6/conf/all/forwarding: No "
	                    "such file or directory");

	/* The probe failed: whether IPv6 is carried is unknown; the other
	 * forwarding checks say UNKNOWN, this one is absent. */
	s->probes[PROBE_FORWARDING].status = PROBE_FAILED;
	assert_null(ipv6_check(&cfg, s, &v));
	assert_int_equal(find_check(&v, "forwarding.ipv4")->status, CHECK_UNKNOWN);
	free(s);
}

/* A probe that could not tell gives UNKNOWN, never OK, whatever its slot
 * happens to hold. */
static void test_probe_failures_are_unknown(void **state)
{
	static const struct {
		enum probe_status status;
		const char *summary;
	} cases[] = {
	    {PROBE_FAILED, "memory probe failed: /proc/meminfo: No such file or directory"},
	    {PROBE_TIMED_OUT, "memory probe timed out: /proc/meminfo: No such file or directory"},
	    {PROBE_NOT_RUN, "memory probe did not run"},
	};
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot *s = new_snapshot();
		struct check_filter f = foundation_filter();
		struct verdict v;
		const struct check *c;

		/* Data that would read as OK is still there: it must not count. */
		s->probes[PROBE_MEMORY].status = cases[i].status;
		strcpy(s->probes[PROBE_MEMORY].error, "/proc/meminfo: No such file or directory");
		verdict_evaluate(&cfg, s, &f, &v);
		c = find_check(&v, "memory.available");
		assert_non_null(c);
		assert_int_equal(c->status, CHECK_UNKNOWN);
		assert_string_equal(c->summary, cases[i].summary);
		assert_string_equal(c->hint,
		                    "check that /proc/meminfo is readable: cat /proc/meminfo");
		assert_int_equal(v.overall, CHECK_UNKNOWN);

		/* Both forwarding checks too. */
		s->probes[PROBE_MEMORY].status = PROBE_OK;
		s->probes[PROBE_FORWARDING].status = cases[i].status;
		verdict_evaluate(&cfg, s, &f, &v);
		assert_int_equal(find_check(&v, "forwarding.ipv4")->status, CHECK_UNKNOWN);
		assert_int_equal(find_check(&v, "forwarding.persistent")->status, CHECK_UNKNOWN);
		assert_int_equal(v.overall, CHECK_UNKNOWN);
		free(s);
	}
}

/* A probe that does not apply leaves its checks out. */
static void test_skipped_probe(void **state)
{
	struct snapshot *s = new_snapshot();
	struct check_filter f = foundation_filter();
	struct config cfg;
	struct verdict v;

	(void)state;
	config_defaults(&cfg);
	s->probes[PROBE_FORWARDING].status = PROBE_SKIPPED;
	verdict_evaluate(&cfg, s, &f, &v);
	assert_null(find_check(&v, "forwarding.ipv4"));
	assert_null(find_check(&v, "forwarding.persistent"));
	assert_int_equal(v.count, 1);
	assert_int_equal(v.overall, CHECK_OK);
	free(s);
}

static void test_severity_order(void **state)
{
	(void)state;
	assert_true(verdict_severity(CHECK_OK) < verdict_severity(CHECK_WARNING));
	assert_true(verdict_severity(CHECK_WARNING) < verdict_severity(CHECK_UNKNOWN));
	assert_true(verdict_severity(CHECK_UNKNOWN) < verdict_severity(CHECK_CRITICAL));
	assert_string_equal(verdict_status_upper(CHECK_OK), "OK");
	assert_string_equal(verdict_status_upper(CHECK_WARNING), "WARNING");
	assert_string_equal(verdict_status_upper(CHECK_CRITICAL), "CRITICAL");
	assert_string_equal(verdict_status_upper(CHECK_UNKNOWN), "UNKNOWN");
	assert_string_equal(verdict_status_upper((enum check_status)7), "UNKNOWN");
	assert_string_equal(verdict_status_lower(CHECK_WARNING), "warning");
	assert_string_equal(verdict_status_lower((enum check_status) - 1), "unknown");
	/* The values are the plugin exit codes. */
	assert_int_equal(CHECK_OK, 0);
	assert_int_equal(CHECK_WARNING, 1);
	assert_int_equal(CHECK_CRITICAL, 2);
	assert_int_equal(CHECK_UNKNOWN, 3);
}

/* The overall status is the worst check by severity, not by exit code. */
static void test_overall_is_worst(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	{
		/* WARNING (memory) + UNKNOWN (forwarding failed) → UNKNOWN */
		struct snapshot *s = new_snapshot();
		struct check_filter f = foundation_filter();
		struct verdict v;

		s->memory.available = 90 * 1024;
		s->probes[PROBE_FORWARDING].status = PROBE_FAILED;
		verdict_evaluate(&cfg, s, &f, &v);
		assert_int_equal(find_check(&v, "memory.available")->status, CHECK_WARNING);
		assert_int_equal(v.overall, CHECK_UNKNOWN);
		free(s);
	}
	{
		/* UNKNOWN (memory failed) + CRITICAL (forwarding off) → CRITICAL,
		 * though UNKNOWN's exit code (3) is the larger number. */
		struct snapshot *s = new_snapshot();
		struct check_filter f = foundation_filter();
		struct verdict v;

		s->probes[PROBE_MEMORY].status = PROBE_FAILED;
		s->forwarding.ipv4 = false;
		verdict_evaluate(&cfg, s, &f, &v);
		assert_int_equal(find_check(&v, "memory.available")->status, CHECK_UNKNOWN);
		assert_int_equal(v.overall, CHECK_CRITICAL);
		free(s);
	}
	{
		/* CRITICAL memory + WARNING persistence → CRITICAL */
		struct snapshot *s = new_snapshot();
		struct check_filter f = foundation_filter();
		struct verdict v;

		s->memory.available = 10 * 1024;
		s->forwarding.boot4.value = -1;
		s->forwarding.boot4.procps_value = -1;
		verdict_evaluate(&cfg, s, &f, &v);
		assert_int_equal(v.overall, CHECK_CRITICAL);
		assert_int_equal(v.count, 3);
		free(s);
	}
}

static void test_filter_parsing(void **state)
{
	static const struct {
		const char *list;
		int r;
		size_t count;
		const char *bad;
	} cases[] = {
	    {"memory.available", 0, 1, NULL},
	    {"memory", 0, 1, NULL},
	    {"forwarding", 0, 1, NULL},
	    {"forwarding.ipv4,memory", 0, 2, NULL},
	    {"memory,,forwarding", 0, 2, NULL},
	    {"bogus", -EINVAL, 0, "bogus"},
	    {"memory,bogus", -EINVAL, 0, "bogus"},
	    {"memory.bogus", -EINVAL, 0, "memory.bogus"},
	    {"mem", -EINVAL, 0, "mem"},
	    {"memory.", -EINVAL, 0, "memory."},
	    {"memory.available.x", -EINVAL, 0, "memory.available.x"},
	    {"Memory", -EINVAL, 0, "Memory"},
	    {" memory", -EINVAL, 0, " memory"},
	    {"", -EINVAL, 0, "(empty list)"},
	    {",", -EINVAL, 0, "(empty list)"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char list[64], bad[64] = "";
		struct check_filter f, untouched;
		int r;

		memset(&f, 0x44, sizeof(f));
		untouched = f;
		strcpy(list, cases[i].list);
		r = verdict_parse_filter(list, &f, bad, sizeof(bad));
		if (r != cases[i].r)
			fail_msg("'%s': returned %d, expected %d", cases[i].list, r, cases[i].r);
		if (r == 0) {
			assert_int_equal(f.count, cases[i].count);
		} else {
			assert_string_equal(bad, cases[i].bad);
			assert_memory_equal(&f, &untouched, sizeof(f));
		}
	}
}

static void test_filter_selects(void **state)
{
	struct snapshot *s = new_snapshot();
	struct config cfg;
	struct verdict v;
	struct check_filter f;
	char list[64], bad[64];

	(void)state;
	config_defaults(&cfg);
	strcpy(list, "forwarding.ipv4");
	assert_int_equal(verdict_parse_filter(list, &f, bad, sizeof(bad)), 0);
	verdict_evaluate(&cfg, s, &f, &v);
	assert_int_equal(v.count, 1);
	assert_string_equal(v.checks[0].id, "forwarding.ipv4");

	strcpy(list, "forwarding");
	assert_int_equal(verdict_parse_filter(list, &f, bad, sizeof(bad)), 0);
	verdict_evaluate(&cfg, s, &f, &v);
	assert_int_equal(v.count, 2);
	assert_string_equal(v.checks[0].id, "forwarding.ipv4");
	assert_string_equal(v.checks[1].id, "forwarding.persistent");

	/* Only memory selected: a forwarding failure cannot touch the result. */
	strcpy(list, "memory");
	assert_int_equal(verdict_parse_filter(list, &f, bad, sizeof(bad)), 0);
	s->probes[PROBE_FORWARDING].status = PROBE_FAILED;
	verdict_evaluate(&cfg, s, &f, &v);
	assert_int_equal(v.count, 1);
	assert_string_equal(v.checks[0].id, "memory.available");
	assert_int_equal(v.overall, CHECK_OK);
	free(s);
}

static void test_probe_mask(void **state)
{
	struct check_filter f;
	char list[64], bad[64];
	unsigned all;

	(void)state;
	strcpy(list, "memory");
	assert_int_equal(verdict_parse_filter(list, &f, bad, sizeof(bad)), 0);
	assert_int_equal(verdict_probe_mask(&f), 1u << PROBE_MEMORY);

	strcpy(list, "forwarding.persistent");
	assert_int_equal(verdict_parse_filter(list, &f, bad, sizeof(bad)), 0);
	assert_int_equal(verdict_probe_mask(&f), 1u << PROBE_FORWARDING);

	strcpy(list, "forwarding.ipv4,memory.available");
	assert_int_equal(verdict_parse_filter(list, &f, bad, sizeof(bad)), 0);
	assert_int_equal(verdict_probe_mask(&f), (1u << PROBE_MEMORY) | (1u << PROBE_FORWARDING));

	/* No filter: every probe some check reads. */
	all = verdict_probe_mask(NULL);
	assert_true(all & (1u << PROBE_MEMORY));
	assert_true(all & (1u << PROBE_FORWARDING));
	f.count = 0;
	assert_int_equal(verdict_probe_mask(&f), all);
	assert_int_equal(all & ~((1u << PROBE__COUNT) - 1), 0);
}

static void test_check_ids(void **state)
{
	bool memory = false, ipv4 = false, persistent = false;

	(void)state;
	for (size_t i = 0; verdict_check_id(i); i++) {
		const char *id = verdict_check_id(i);

		/* Stable dotted ids: area.name, lower case. */
		assert_non_null(strchr(id, '.'));
		assert_true(strlen(id) < CHECK_ID_MAX);
		memory |= strcmp(id, "memory.available") == 0;
		ipv4 |= strcmp(id, "forwarding.ipv4") == 0;
		persistent |= strcmp(id, "forwarding.persistent") == 0;
	}
	assert_true(memory && ipv4 && persistent);
}

static enum verdict_peer_state state_at(const struct config *cfg, int64_t handshake, time_t now,
                                        int64_t *age)
{
	struct wireguard_peer p = {.last_handshake = handshake};

	*age = verdict_peer_age(&p, now);
	return verdict_peer_state(cfg, &p, now);
}

static void test_peer_states(void **state)
{
	struct config cfg;
	time_t now = 1700000000;
	int64_t age;

	(void)state;
	config_defaults(&cfg);
	cfg.interval_ms = 5000;
	cfg.wireguard_stale_after_ms = 600000;
	assert_int_equal(state_at(&cfg, 0, now, &age), VERDICT_PEER_NEVER);
	assert_int_equal(age, -1);
	assert_int_equal(state_at(&cfg, now, now, &age), VERDICT_PEER_UP);
	assert_int_equal(age, 0);
	/* REJECT_AFTER_TIME (180 s) plus one poll interval (5 s). */
	assert_int_equal(state_at(&cfg, now - 185, now, &age), VERDICT_PEER_UP);
	assert_int_equal(state_at(&cfg, now - 186, now, &age), VERDICT_PEER_STALE);
	assert_int_equal(age, 186);
	assert_int_equal(state_at(&cfg, now - 600, now, &age), VERDICT_PEER_STALE);
	assert_int_equal(state_at(&cfg, now - 601, now, &age), VERDICT_PEER_DOWN);
	/* The clock stepped back: a handshake "in the future" is age 0. */
	assert_int_equal(state_at(&cfg, now + 3600, now, &age), VERDICT_PEER_UP);
	assert_int_equal(age, 0);
	/* The limits come from the config, not from the snapshot. */
	cfg.interval_ms = 20000;
	cfg.wireguard_stale_after_ms = 1800000;
	assert_int_equal(state_at(&cfg, now - 200, now, &age), VERDICT_PEER_UP);
	assert_int_equal(state_at(&cfg, now - 201, now, &age), VERDICT_PEER_STALE);
	assert_int_equal(state_at(&cfg, now - 1800, now, &age), VERDICT_PEER_STALE);
	assert_int_equal(state_at(&cfg, now - 1801, now, &age), VERDICT_PEER_DOWN);
	assert_string_equal(verdict_peer_state_name(VERDICT_PEER_NEVER), "never");
	assert_string_equal(verdict_peer_state_name(VERDICT_PEER_UP), "up");
	assert_string_equal(verdict_peer_state_name(VERDICT_PEER_STALE), "stale");
	assert_string_equal(verdict_peer_state_name(VERDICT_PEER_DOWN), "down");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memory_boundaries),
	    cmocka_unit_test(test_memory_huge_values),
	    cmocka_unit_test(test_memory_summary),
	    cmocka_unit_test(test_forwarding_checks),
	    cmocka_unit_test(test_forwarding_ipv6),
	    cmocka_unit_test(test_probe_failures_are_unknown),
	    cmocka_unit_test(test_skipped_probe),
	    cmocka_unit_test(test_severity_order),
	    cmocka_unit_test(test_overall_is_worst),
	    cmocka_unit_test(test_filter_parsing),
	    cmocka_unit_test(test_filter_selects),
	    cmocka_unit_test(test_probe_mask),
	    cmocka_unit_test(test_check_ids),
	    cmocka_unit_test(test_peer_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
