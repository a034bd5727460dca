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
#include "probes/meminfo.h"
#include "probes/readfile.h"

#define FIXTURES "tests/fixtures/meminfo/"

/* Values below are the fixtures' kB figures, converted here. */
#define KB(n) ((uint64_t)(n)*1024u)

static void poison(struct meminfo *m)
{
	memset(m, 0x5A, sizeof(*m));
}

static bool is_poisoned(const struct meminfo *m)
{
	struct meminfo p;

	poison(&p);
	return memcmp(m, &p, sizeof(p)) == 0;
}

static int parse_fixture(const char *name, struct meminfo *ret, char *err, size_t errlen)
{
	char path[256], *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	if (readfile_read(path, 1 << 20, &buf, &len) < 0)
		fail_msg("cannot read fixture %s", path);
	r = meminfo_parse(buf, len, ret, err, errlen);
	free(buf);
	return r;
}

static void test_small_vm(void **state)
{
	struct meminfo m;
	char err[128] = "";

	(void)state;
	assert_int_equal(parse_fixture("vm-2g.meminfo", &m, err, sizeof(err)), 0);
	assert_true(m.total == KB(2014572));
	assert_true(m.free == KB(171324));
	assert_true(m.available == KB(1322816));
	assert_true(m.used == KB(2014572) - KB(1322816));
	assert_true(m.buff_cache == KB(64212) + KB(1125480) + KB(96324));
	assert_true(m.swap_total == KB(998396));
	assert_true(m.swap_free == KB(961788));
	assert_false(m.available_estimated);
	assert_string_equal(err, ""); /* no reason written on success */
}

/* DGX Spark (GB10): 128 GB LPDDR5x shared by CPU and GPU, arm64 field set
 * (ShadowCallStack, no DirectMap lines). */
static void test_dgx_spark(void **state)
{
	struct meminfo m;
	char err[128];

	(void)state;
	assert_int_equal(parse_fixture("dgx-spark-gb10.meminfo", &m, err, sizeof(err)), 0);
	assert_true(m.total == KB(125542480));
	assert_true(m.total > 100ull * 1024 * 1024 * 1024);
	assert_true(m.free == KB(71840576));
	assert_true(m.available == KB(110204352));
	assert_true(m.used == KB(125542480 - 110204352));
	assert_true(m.buff_cache == KB(512384) + KB(37463104) + KB(1483648));
	assert_true(m.swap_total == KB(16777152));
	assert_true(m.swap_free == KB(16777152));
	assert_false(m.available_estimated);
}

/* Before Linux 3.14 there is no MemAvailable: MemFree stands in, flagged. */
static void test_kernel_without_memavailable(void **state)
{
	struct meminfo m;
	char err[128];

	(void)state;
	assert_int_equal(
	    parse_fixture("old-kernel-3.10-no-memavailable.meminfo", &m, err, sizeof(err)), 0);
	assert_true(m.total == KB(4046372));
	assert_true(m.free == KB(812344));
	assert_true(m.available == KB(812344));
	assert_true(m.used == KB(4046372 - 812344));
	assert_true(m.buff_cache == KB(201512) + KB(2101880) + KB(229160));
	assert_true(m.available_estimated);
}

static void test_huge_value_that_fits(void **state)
{
	struct meminfo m;
	char err[128];

	(void)state;
	assert_int_equal(parse_fixture("huge-fits.meminfo", &m, err, sizeof(err)), 0);
	assert_true(m.total == UINT64_MAX - 1023);
	assert_true(m.used == UINT64_MAX - 1023 - KB(1322816));
}

struct bad_case {
	const char *fixture;
	int r;
	const char *err;
};

static const struct bad_case bad_cases[] = {
    {"malformed-no-colon.meminfo", -EINVAL, "malformed line 'Cached          1125480 kB'"},
    {"truncated-mid-line.meminfo", -EINVAL, "truncated: the last line has no newline"},
    {"truncated-in-swapfree.meminfo", -EINVAL, "truncated: the last line has no newline"},
    {"missing-memtotal.meminfo", -EINVAL, "MemTotal missing"},
    {"missing-swapfree.meminfo", -EINVAL, "SwapFree missing"},
    {"duplicate-memavailable.meminfo", -EINVAL, "MemAvailable appears twice"},
    {"wrong-unit.meminfo", -EINVAL, "MemFree: expected '<number> kB'"},
    {"overflow-bytes.meminfo", -ERANGE, "MemTotal: value too large"},
    {"overflow-digits.meminfo", -ERANGE, "SwapTotal: value too large"},
    {"available-over-total.meminfo", -EINVAL, "MemFree or MemAvailable exceeds MemTotal"},
};

static void test_bad_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct meminfo m;
		char err[128] = "";
		int r;

		poison(&m);
		r = parse_fixture(bad_cases[i].fixture, &m, err, sizeof(err));
		if (r != bad_cases[i].r)
			fail_msg("%s: returned %d, expected %d (%s)", bad_cases[i].fixture, r,
			         bad_cases[i].r, err);
		if (strcmp(err, bad_cases[i].err) != 0)
			fail_msg("%s: error '%s', expected '%s'", bad_cases[i].fixture, err,
			         bad_cases[i].err);
		if (!is_poisoned(&m))
			fail_msg("%s: output written on error", bad_cases[i].fixture);
	}
}

static void test_bad_strings(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	    {"", "MemTotal missing"},
	    {"\n\n", "MemTotal missing"},
	    {"MemTotal: 0 kB\nMemFree: 0 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n", "MemTotal is 0"},
	    {"MemTotal: 100 kB\nMemFree: 10 kB\nSwapTotal: 1 kB\nSwapFree: 2 kB\n",
	     "SwapFree exceeds SwapTotal"},
	    {"MemTotal: 100 kB\nMemFree: 101 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
	     "MemFree or MemAvailable exceeds MemTotal"},
	    {"MemTotal: -100 kB\n", "MemTotal: expected '<number> kB'"},
	    {"MemTotal: kB\n", "MemTotal: expected '<number> kB'"},
	    {"MemTotal: 100\n", "MemTotal: expected '<number> kB'"},
	    {"MemTotal: 100 kB extra\n", "MemTotal: expected '<number> kB'"},
	    {"MemTotal: 100 kb\n", "MemTotal: expected '<number> kB'"},
	    {"MemTotal: 1e3 kB\n", "MemTotal: expected '<number> kB'"},
	    {"MemTotal:\t100 kB\n", "MemTotal: expected '<number> kB'"},
	    {"no colon at all here\n", "malformed line 'no colon at all here'"},
	    {"MemTotal: 100 kB", "truncated: the last line has no newline"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct meminfo m;
		char err[128] = "";
		int r;

		poison(&m);
		r = meminfo_parse(cases[i].text, strlen(cases[i].text), &m, err, sizeof(err));
		if (r >= 0)
			fail_msg("case %zu accepted", i);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: error '%s', expected '%s'", i, err, cases[i].err);
		assert_true(is_poisoned(&m));
	}
}

/* The parser takes a length, not a C string: bytes past it are not read,
 * and a NUL inside the buffer is data, not the end. */
static void test_length_is_respected(void **state)
{
	static const char text[] = "MemTotal: 100 kB\nMemFree: 40 kB\nSwapTotal: 0 kB\n"
	                           "SwapFree: 0 kB\nMemAvailable: 200 kB\n";
	size_t upto = strstr(text, "MemAvailable") - text;
	struct meminfo m;
	char err[128];

	(void)state;
	/* Up to before the bad MemAvailable line: valid. */
	assert_int_equal(meminfo_parse(text, upto, &m, err, sizeof(err)), 0);
	assert_true(m.available == KB(40));
	assert_true(m.available_estimated);
	/* All of it: MemAvailable > MemTotal. */
	assert_int_equal(meminfo_parse(text, sizeof(text) - 1, &m, err, sizeof(err)), -EINVAL);

	static const char with_nul[] = "MemTotal: 100 kB\nMemFree: 4\0 kB\n";
	poison(&m);
	assert_int_equal(meminfo_parse(with_nul, sizeof(with_nul) - 1, &m, err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "MemFree: expected '<number> kB'");
	assert_true(is_poisoned(&m));
}

/* Error text is cut to the buffer given, never overrun. */
static void test_small_error_buffer(void **state)
{
	char err[8];
	struct meminfo m;

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(meminfo_parse("garbage line\n", 13, &m, err, 6), -EINVAL);
	assert_string_equal(err, "malfo");
	assert_int_equal(err[6], 'x');
}

static void test_read_through_root(void **state)
{
	struct config cfg;
	struct meminfo m;
	char err[256];

	(void)state;
	config_defaults(&cfg);
	strcpy(cfg.root, "/nonexistent-sparkmon-root");
	poison(&m);
	assert_int_equal(meminfo_read(&cfg, &m, err, sizeof(err)), -ENOENT);
	assert_string_equal(err,
	                    "/nonexistent-sparkmon-root/proc/meminfo: No such file or directory");
	assert_true(is_poisoned(&m));

	/* The real one parses on any Linux machine. */
	config_defaults(&cfg);
	assert_int_equal(meminfo_read(&cfg, &m, err, sizeof(err)), 0);
	assert_true(m.total > 0);
	assert_true(m.available <= m.total);
	assert_true(m.used == m.total - m.available);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_vm),
	    cmocka_unit_test(test_dgx_spark),
	    cmocka_unit_test(test_kernel_without_memavailable),
	    cmocka_unit_test(test_huge_value_that_fits),
	    cmocka_unit_test(test_bad_fixtures),
	    cmocka_unit_test(test_bad_strings),
	    cmocka_unit_test(test_length_is_respected),
	    cmocka_unit_test(test_small_error_buffer),
	    cmocka_unit_test(test_read_through_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
