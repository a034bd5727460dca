#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/check.h"
#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
#include "tests/unit/memstream.h"

static char *render(const struct config *cfg, const struct snapshot *snap, const struct verdict *v)
{
	struct memstream *m = memstream_open();
	char *text;

	assert_non_null(m);
	check_print_text(cfg, snap, v, m->f);
	text = memstream_close(m);
	assert_non_null(text);
	return text;
}

static struct snapshot *healthy(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->probes[PROBE_MEMORY].status = PROBE_OK;
	s->memory.total = 16ull << 30;
	s->memory.available = 12ull << 30;
	s->memory.used = 4ull << 30;
	s->memory.swap_total = 2ull << 30;
	s->memory.swap_free = 1ull << 30;
	s->probes[PROBE_FORWARDING].status = PROBE_OK;
	s->forwarding.ipv4 = true;
	s->forwarding.boot4.value = 1;
	strcpy(s->forwarding.boot4.file, "/etc/sysctl.d/99-wireguard.conf");
	s->forwarding.boot4.line = 1;
	s->forwarding.boot4.procps_value = 1;
	return s;
}

static void evaluate(const struct config *cfg, const struct snapshot *s, struct verdict *v)
{
	static char list[64];
	struct check_filter f;
	char bad[64];

	strcpy(list, "memory,forwarding");
	assert_int_equal(verdict_parse_filter(list, &f, bad, sizeof(bad)), 0);
	verdict_evaluate(cfg, s, &f, v);
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* 'label'=value[UOM];[warn];[crit];[min];[max], labels quoted. */
static void assert_perfdata_syntax(const char *perf)
{
	static const char *const item =
	    "^'[^'=]+'=-?[0-9]+(\\.[0-9]+)?(B|s|%)?;([0-9]+:?)?;([0-9]+:?)?;([0-9]+)?;([0-9]+)?$";
	regex_t re;
	char *copy = strdup(perf), *save = NULL;
	size_t n = 0;

	assert_non_null(copy);
	assert_int_equal(regcomp(&re, item, REG_EXTENDED | REG_NOSUB), 0);
	for (char *tok = strtok_r(copy, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (regexec(&re, tok, 0, NULL, 0) != 0)
			fail_msg("perfdata item '%s' is malformed", tok);
		n++;
	}
	assert_true(n > 0);
	regfree(&re);
	free(copy);
}

static void test_all_ok(void **state)
{
	struct snapshot *s = healthy();
	struct config cfg;
	struct verdict v;
	char *text, expect[1024];
	uint64_t total = 16ull << 30;

	(void)state;
	config_defaults(&cfg);
	evaluate(&cfg, s, &v);
	text = render(&cfg, s, &v);
	/* Thresholds are the shares of total rounded up to whole bytes. */
	snprintf(expect, sizeof(expect),
	         "SPARKMON OK - 3 of 3 checks OK | 'memory_available'=%" PRIu64 "B;%" PRIu64
	         ":;%" PRIu64 ":;0;%" PRIu64 " 'memory_used'=%" PRIu64 "B;;;0;%" PRIu64
	         " 'swap_used'=%" PRIu64 "B;;;0;%" PRIu64 " 'ip_forward'=1;;;0;1\n",
	         (uint64_t)12 << 30, (total + 9) / 10, (total + 19) / 20, total, (uint64_t)4 << 30,
	         total, (uint64_t)1 << 30, (uint64_t)2 << 30);
	assert_string_equal(text, expect);
	assert_perfdata_syntax(strchr(text, '|') + 2);
	free(text);
	free(s);
}

static void test_problems_listed(void **state)
{
	struct snapshot *s = healthy();
	struct config cfg;
	struct verdict v;
	char *text, *second;

	(void)state;
	config_defaults(&cfg);
	s->forwarding.ipv4 = false;
	s->forwarding.boot4.value = -1;
	s->forwarding.boot4.file[0] = '\0';
	s->forwarding.boot4.procps_value = -1;
	evaluate(&cfg, s, &v);
	text = render(&cfg, s, &v);
	/* The worst check leads; the rest are counted. */
	assert_true(strncmp(text,
	                    "SPARKMON CRITICAL - forwarding.ipv4: IPv4 forwarding is off: VPN "
	                    "clients reach this host only, nothing behind it (+1 more not OK) | ",
	                    strlen("SPARKMON CRITICAL - forwarding.ipv4: IPv4 forwarding is off: "
	                           "VPN clients reach this host only, nothing behind it (+1 more "
	                           "not OK) | ")) == 0);
	assert_non_null(strstr(text, " 'ip_forward'=0;;;0;1\n"));
	second = strchr(text, '\n') + 1;
	/* Then one line per check that is not OK, in check order. */
	assert_string_equal(second,
	                    "CRITICAL forwarding.ipv4: IPv4 forwarding is off: VPN clients reach "
	                    "this host only, nothing behind it (fix: sysctl -w "
	                    "net.ipv4.ip_forward=1)\n"
	                    "WARNING forwarding.persistent: no sysctl file sets "
	                    "net.ipv4.ip_forward (fix: echo 'net.ipv4.ip_forward = 1' > "
	                    "/etc/sysctl.d/99-sparkmon-ip-forward.conf && systemctl restart "
	                    "systemd-sysctl)\n");
	free(text);
	free(s);
}

/* A probe that failed has no numbers: no perfdata for it, and no dangling
 * '|' when nothing at all is left to report. */
static void test_no_perfdata(void **state)
{
	struct snapshot *s = healthy();
	struct config cfg;
	struct verdict v;
	char *text;

	(void)state;
	config_defaults(&cfg);
	s->probes[PROBE_MEMORY].status = PROBE_FAILED;
	strcpy(s->probes[PROBE_MEMORY].error, "/proc/meminfo: No such file or directory");
	evaluate(&cfg, s, &v);
	text = render(&cfg, s, &v);
	assert_string_equal(text,
	                    "SPARKMON UNKNOWN - memory.available: memory probe failed: "
	                    "/proc/meminfo: No such file or directory | 'ip_forward'=1;;;0;1\n"
	                    "UNKNOWN memory.available: memory probe failed: /proc/meminfo: "
	                    "No such file or directory (fix: check that /proc/meminfo is "
	                    "readable: cat /proc/meminfo)\n");
	free(text);

	s->probes[PROBE_FORWARDING].status = PROBE_TIMED_OUT;
	evaluate(&cfg, s, &v);
	text = render(&cfg, s, &v);
	assert_true(strncmp(text, "SPARKMON UNKNOWN - memory.available: ", 37) == 0);
	assert_null(strchr(text, '|'));
	assert_non_null(strstr(text, "(+2 more not OK)\n"));
	free(text);
	free(s);
}

/* The perfdata thresholds say what the verdict says: "N:" alerts below N,
 * and a value is alerted exactly when the check is not OK. */
static void test_perfdata_thresholds_match_verdict(void **state)
{
	struct snapshot *s = healthy();
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	cfg.memory_warning_bp = 1000;
	cfg.memory_critical_bp = 750;
	/* Totals whose shares are not whole bytes. */
	for (uint64_t total = 1023 * 1024; total < 1023 * 1024 + 40; total += 7) {
		uint64_t lo = total * 7 / 100, hi = total * 11 / 100;

		for (uint64_t avail = lo; avail <= hi; avail++) {
			struct verdict v;
			unsigned long long w, c, shown;
			enum check_status expect = CHECK_OK;
			char *text, *p;

			s->memory.total = total;
			s->memory.available = avail;
			s->memory.used = total - avail;
			s->memory.swap_total = s->memory.swap_free = 0;
			evaluate(&cfg, s, &v);
			text = render(&cfg, s, &v);
			p = strstr(text, "'memory_available'=");
			assert_non_null(p);
			assert_int_equal(
			    sscanf(p, "'memory_available'=%lluB;%llu:;%llu:;", &shown, &w, &c), 3);
			assert_true(shown == avail);
			if (avail < c)
				expect = CHECK_CRITICAL;
			else if (avail < w)
				expect = CHECK_WARNING;
			if (v.checks[0].status != expect)
				fail_msg("total %" PRIu64 " available %" PRIu64
				         ": verdict %s, perfdata "
				         "%llu:/%llu: says %s",
				         total, avail, verdict_status_upper(v.checks[0].status), w,
				         c, verdict_status_upper(expect));
			free(text);
		}
	}
	free(s);
}

/* WireGuard perfdata: peers, peers up (of all), and the bytes received and
 * sent over every watched interface as counters, each its own sum. */
static void test_wireguard_perfdata(void **state)
{
	static const struct {
		int64_t age; /* of the last handshake; -1: never */
		uint64_t rx, tx;
	} peers[3] = {{10, 1000, 5}, {-1, 20000, 300}, {30, 400000, 7000}};
	struct snapshot *s = calloc(1, sizeof(*s));
	struct wireguard_device devs[2];
	struct wireguard_peer p[3];
	struct verdict v = {.count = 0, .overall = CHECK_OK};
	struct config cfg;
	char *text;

	(void)state;
	assert_non_null(s);
	config_defaults(&cfg);
	memset(devs, 0, sizeof(devs));
	memset(p, 0, sizeof(p));
	for (size_t i = 0; i < 3; i++) {
		p[i].last_handshake = peers[i].age < 0 ? 0 : 1700000000 - peers[i].age;
		p[i].rx_bytes = peers[i].rx;
		p[i].tx_bytes = peers[i].tx;
	}
	strcpy(devs[0].name, "wg0");
	devs[0].peers = p;
	devs[0].n_peers = 2;
	strcpy(devs[1].name, "wg1");
	devs[1].peers = p + 2;
	devs[1].n_peers = 1;
	s->probes[PROBE_WIREGUARD].status = PROBE_OK;
	s->wireguard.devices = devs;
	s->wireguard.n_devices = 2;
	s->wireguard.collected_at = 1700000000;
	text = render(&cfg, s, &v);
	assert_string_equal(text, "SPARKMON OK - 0 of 0 checks OK | 'wireguard_peers'=3;;;0 "
	                          "'wireguard_peers_up'=2;;;0;3 'wireguard_rx'=421000c "
	                          "'wireguard_tx'=7305c\n");
	free(text);
	free(s);
}

/* No summary or hint can forge a line or perfdata. */
static void test_sanitized_output(void **state)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct config cfg;
	struct verdict v = {.count = 2, .overall = CHECK_WARNING};
	char *text;

	(void)state;
	assert_non_null(s);
	config_defaults(&cfg);
	strcpy(v.checks[0].id, "memory.available");
	v.checks[0].status = CHECK_WARNING;
	strcpy(v.checks[0].summary, "peer | 'x'=1\nSPARKMON OK - forged");
	strcpy(v.checks[0].hint, "run a|b\r\nthen\tc");
	strcpy(v.checks[1].id, "forwarding.ipv4");
	v.checks[1].status = CHECK_OK;
	strcpy(v.checks[1].summary, "fine");
	text = render(&cfg, s, &v);
	assert_string_equal(text, "SPARKMON WARNING - memory.available: peer / 'x'=1?SPARKMON OK - "
	                          "forged\n"
	                          "WARNING memory.available: peer / 'x'=1?SPARKMON OK - forged "
	                          "(fix: run a/b??then?c)\n");
	assert_int_equal(count_char(text, '\n'), 2);
	assert_null(strchr(text, '|'));
	free(text);
	free(s);
}

/* The headline names the worst check by severity: CRITICAL before
 * UNKNOWN, though UNKNOWN's exit code is the larger number; in either
 * order. */
static void test_headline_by_severity(void **state)
{
	static const enum check_status orders[][3] = {
	    {CHECK_UNKNOWN, CHECK_CRITICAL, CHECK_WARNING},
	    {CHECK_CRITICAL, CHECK_UNKNOWN, CHECK_WARNING},
	    {CHECK_WARNING, CHECK_UNKNOWN, CHECK_CRITICAL},
	};
	static const char *const ids[] = {"memory.available", "forwarding.ipv4",
	                                  "forwarding.persistent"};
	struct snapshot *s = calloc(1, sizeof(*s));
	struct config cfg;

	(void)state;
	assert_non_null(s);
	config_defaults(&cfg);
	for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
		struct verdict v = {.count = 3, .overall = CHECK_CRITICAL};
		char want[512];
		size_t critical = 0;
		char *text;

		for (size_t i = 0; i < 3; i++) {
			strcpy(v.checks[i].id, ids[i]);
			v.checks[i].status = orders[k][i];
			snprintf(v.checks[i].summary, sizeof(v.checks[i].summary), "%s is %s",
			         ids[i], verdict_status_lower(orders[k][i]));
			if (orders[k][i] == CHECK_CRITICAL)
				critical = i;
		}
		text = render(&cfg, s, &v);
		snprintf(want, sizeof(want),
		         "SPARKMON CRITICAL - %s: %s is critical (+2 more not OK)\n", ids[critical],
		         ids[critical]);
		if (strncmp(text, want, strlen(want)) != 0)
			fail_msg("order %zu: headline '%.*s', expected '%s'", k,
			         (int)strcspn(text, "\n"), text, want);
		free(text);
	}
	/* UNKNOWN beats WARNING. */
	{
		struct verdict v = {.count = 2, .overall = CHECK_UNKNOWN};
		char *text;

		strcpy(v.checks[0].id, "memory.available");
		v.checks[0].status = CHECK_WARNING;
		strcpy(v.checks[0].summary, "low");
		strcpy(v.checks[1].id, "forwarding.ipv4");
		v.checks[1].status = CHECK_UNKNOWN;
		strcpy(v.checks[1].summary, "cannot tell");
		text = render(&cfg, s, &v);
		assert_int_equal(
		    strncmp(text,
		            "SPARKMON UNKNOWN - forwarding.ipv4: cannot tell (+1 more not "
		            "OK)\n",
		            63),
		    0);
		free(text);
	}
	free(s);
}

static void test_sanitize(void **state)
{
	char buf[64];

	(void)state;
	check_sanitize("a|b", buf, sizeof(buf));
	assert_string_equal(buf, "a/b");
	check_sanitize("x\ny\rz\tw\x7f"
	               "e\x01",
	               buf, sizeof(buf));
	assert_string_equal(buf, "x?y?z?w?e?");
	check_sanitize("caf\xc3\xa9 \xe2\x9c\x93", buf, sizeof(buf));
	assert_string_equal(buf, "caf\xc3\xa9 \xe2\x9c\x93"); /* UTF-8 kept */
	check_sanitize("abcdef", buf, 4);
	assert_string_equal(buf, "abc");
	check_sanitize("abcdef", buf, 1);
	assert_string_equal(buf, "");
	buf[0] = 'k';
	check_sanitize("abcdef", buf, 0);
	assert_int_equal(buf[0], 'k');
	check_sanitize("", buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_ok),
	    cmocka_unit_test(test_problems_listed),
	    cmocka_unit_test(test_no_perfdata),
	    cmocka_unit_test(test_perfdata_thresholds_match_verdict),
	    cmocka_unit_test(test_sanitized_output),
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_headline_by_severity),
	    cmocka_unit_test(test_wireguard_perfdata),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
