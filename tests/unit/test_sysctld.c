#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/sysctld.h"

/* ---- values as the kernel parses them ------------------------------------ */

static void test_parse_value(void **state)
{
	static const struct {
		const char *text;
		int r, value;
	} cases[] = {
	    {"1", 0, 1},
	    {"0", 0, 0},
	    {"2", 0, 1},
	    {"-1", 0, 1},
	    {"0x1", 0, 1},
	    {"0x0", 0, 0},
	    {"010", 0, 1},
	    {"1 0", 0, 1},
	    {"0 1", 0, 0},
	    {"1\t", 0, 1},
	    {" 1", 0, 1},
	    {"2147483647", 0, 1},
	    {"-2147483648", 0, 1},
	    {"", -EINVAL, 0},
	    {"yes", -EINVAL, 0},
	    {"on", -EINVAL, 0},
	    {"+1", -EINVAL, 0},
	    {"0x", -EINVAL, 0},
	    {"08", -EINVAL, 0},
	    {"1x", -EINVAL, 0},
	    {"- 1", -EINVAL, 0},
	    {"2147483648", -EINVAL, 0},
	    {"-2147483649", -EINVAL, 0},
	    {"99999999999999999999999", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int v = -7, r = sysctld_parse_value(cases[i].text, &v);

		if (r != cases[i].r)
			fail_msg("'%s': returned %d, expected %d", cases[i].text, r, cases[i].r);
		if (r == 0 && v != cases[i].value)
			fail_msg("'%s': value %d, expected %d", cases[i].text, v, cases[i].value);
		if (r < 0 && v != -7)
			fail_msg("'%s': output written on error", cases[i].text);
	}
}

/* ---- one file, both tools ---------------------------------------------- */

struct one_case {
	const char *text;
	int sd_value, sd_line; /* systemd-sysctl */
	int pp_value, pp_line; /* sysctl --system */
	int refused_line;      /* systemd-sysctl's refused last assignment, 0 none */
};

static const struct one_case one_cases[] = {
    {"net.ipv4.ip_forward=1\n", 1, 1, 1, 1, 0},
    {"net.ipv4.ip_forward = 0\n", 0, 1, 0, 1, 0},
    {"   net.ipv4.ip_forward\t=\t1   \n", 1, 1, 1, 1, 0},
    {"net.ipv4.ip_forward = 1\r\n", 1, 1, 1, 1, 0},
    {"net.ipv4.ip_forward = 1", 1, 1, 1, 1, 0}, /* no newline at the end is fine */
    {"\n\n# comment\nnet.ipv4.ip_forward = 1\n", 1, 4, 1, 4, 0},
    {"net/ipv4/ip_forward = 1\n", 1, 1, 1, 1, 0},
    {"/net/ipv4/ip_forward = 1\n", 1, 1, 1, 1, 0},
    {"net.ipv4.conf.all.forwarding = 1\n", 1, 1, 1, 1, 0},
    {"net/ipv4/conf/all/forwarding = 0\n", 0, 1, 0, 1, 0},
    /* An interface name may contain dots: with '/' first, dots are literal. */
    {"net/ipv4/conf/eth0.100/forwarding = 1\n", -1, 0, -1, 0, 0},
    {"net.ipv4.conf.*.forwarding = 1\n", 1, 1, 1, 1, 0},
    {"-net.ipv4.ip_forward = 1\n", 1, 1, 1, 1, 0},
    /* A blank after the dash: `sysctl --system` takes it into the key. */
    {"  - net.ipv4.ip_forward = 1\n", 1, 1, -1, 0, 0},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 0\n", 0, 2, 0, 2, 0},
    {"net.ipv4.ip_forward = 0\nnet.ipv4.conf.all.forwarding = 1\n", 1, 2, 1, 2, 0},
    /* Not IPv4 forwarding. */
    {"net.ipv4.conf.default.forwarding = 1\n", -1, 0, -1, 0, 0},
    {"net.ipv4.conf.wg0.forwarding = 1\n", -1, 0, -1, 0, 0},
    {"net.ipv6.conf.all.forwarding = 1\n", -1, 0, -1, 0, 0},
    {"net.ipv4.ip_forward_use_pmtu = 1\n", -1, 0, -1, 0, 0},
    {"xnet.ipv4.ip_forward = 1\n", -1, 0, -1, 0, 0},
    {"net.ipv4.ip_forwar = 1\n", -1, 0, -1, 0, 0},
    {"# net.ipv4.ip_forward = 1\n", -1, 0, -1, 0, 0},
    {"; net.ipv4.ip_forward = 1\n", -1, 0, -1, 0, 0},
    {"   #net.ipv4.ip_forward=1\n", -1, 0, -1, 0, 0},
    {"net.ipv4.ip_forward 1\n", -1, 0, -1, 0, 0},
    {"= 1\n", -1, 0, -1, 0, 0},
    {"", -1, 0, -1, 0, 0},
    /* A refused value: systemd-sysctl has replaced the earlier assignment
     * with it, so nothing is set; `sysctl --system` keeps the earlier one. */
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = yes\n", -1, 0, 1, 1, 2},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward =\n", -1, 0, 1, 1, 2},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 0x\n", -1, 0, 1, 1, 2},
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 99999999999999999999999\n", -1, 0, 1, 1, 2},
    /* ... and a later good value still decides. */
    {"net.ipv4.ip_forward = yes\nnet.ipv4.ip_forward = 1\n", 1, 2, 1, 2, 0},
    /* The kernel reads the first number of several. */
    {"net.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 0 1\n", 0, 2, 0, 2, 0},
    /* A pattern does not write a key that a plain assignment names (in
     * both tools). */
    {"net.ipv4.conf.all.forwarding = 1\nnet.ipv4.conf.*.forwarding = 0\n", 1, 1, 1, 1, 0},
    {"net.ipv4.conf.*.forwarding = 0\nnet.ipv4.conf.all.forwarding = 1\n", 1, 2, 1, 2, 0},
    /* ... but it writes conf.all when only ip_forward is named. */
    {"net.ipv4.ip_forward = 1\nnet.ipv4.conf.*.forwarding = 0\n", 0, 2, 0, 2, 0},
    /* The same value again keeps its first place in systemd-sysctl's order. */
    {"net.ipv4.ip_forward = 0\nnet.ipv4.conf.all.forwarding = 1\nnet.ipv4.ip_forward = 0\n", 1, 2,
     0, 3, 0},
    /* A changed value moves to the end. */
    {"net.ipv4.ip_forward = 0\nnet.ipv4.conf.all.forwarding = 1\nnet.ipv4.ip_forward = 2\n", 1, 3,
     1, 3, 0},
};

static void test_one_file(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(one_cases) / sizeof(one_cases[0]); i++) {
		const struct one_case *c = &one_cases[i];
		struct sysctld_result sd, pp;
		struct sysctld s;

		sysctld_init(&s);
		sysctld_feed(&s, 7, SYSCTLD_SYSTEMD | SYSCTLD_PROCPS, c->text, strlen(c->text));
		sysctld_systemd(&s, SYSCTLD_IPV4, &sd);
		sysctld_procps(&s, SYSCTLD_IPV4, &pp);
		if (sd.value != c->sd_value ||
		    (sd.value >= 0 && (sd.line != c->sd_line || sd.file != 7)))
			fail_msg("case %zu '%s': systemd %d line %d, expected %d line %d", i,
			         c->text, sd.value, sd.line, c->sd_value, c->sd_line);
		if (pp.value != c->pp_value ||
		    (pp.value >= 0 && (pp.line != c->pp_line || pp.file != 7)))
			fail_msg("case %zu '%s': procps %d line %d, expected %d line %d", i,
			         c->text, pp.value, pp.line, c->pp_value, c->pp_line);
		if ((c->refused_line != 0) != (sd.refused_file == 7) ||
		    (c->refused_line && sd.refused_line != c->refused_line))
			fail_msg("case %zu '%s': refused file %d line %d, expected line %d", i,
			         c->text, sd.refused_file, sd.refused_line, c->refused_line);
	}
}

/* A line too long for the scanner is skipped, and lines still count. */
static void test_long_line(void **state)
{
	char text[4096];
	struct sysctld_result r;
	struct sysctld s;
	size_t n;

	(void)state;
	memset(text, 'x', 2000);
	n = 2000;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "=1\nnet.ipv4.ip_forward = 1\n");
	sysctld_init(&s);
	sysctld_feed(&s, 0, SYSCTLD_SYSTEMD, text, n);
	sysctld_systemd(&s, SYSCTLD_IPV4, &r);
	assert_int_equal(r.value, 1);
	assert_int_equal(r.line, 2);
}

/* ---- several files, and who reads them -------------------------------------- */

static void test_readers(void **state)
{
	static const char on[] = "net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n";
	static const char off[] = "net.ipv4.ip_forward = 0\n";
	struct sysctld_result sd, pp;
	struct sysctld s;

	(void)state;
	/* Debian: 10-on, then /etc/sysctl.conf through 99-sysctl.conf (off),
	 * then /etc/sysctl.conf again for `sysctl --system` only. */
	sysctld_init(&s);
	sysctld_feed(&s, 0, SYSCTLD_SYSTEMD | SYSCTLD_PROCPS, on, strlen(on));
	sysctld_feed(&s, 1, SYSCTLD_SYSTEMD | SYSCTLD_PROCPS, off, strlen(off));
	sysctld_feed(&s, 2, SYSCTLD_PROCPS, on, strlen(on));
	sysctld_systemd(&s, SYSCTLD_IPV4, &sd);
	sysctld_procps(&s, SYSCTLD_IPV4, &pp);
	assert_int_equal(sd.value, 0);
	assert_int_equal(sd.file, 1);
	assert_int_equal(pp.value, 1);
	assert_int_equal(pp.file, 2);
	/* A pattern skips a key named plainly in a later file too, in both
	 * tools; the refused value then leaves it unset. */
	sysctld_init(&s);
	sysctld_feed(&s, 0, SYSCTLD_SYSTEMD | SYSCTLD_PROCPS, "net.ipv4.conf.*.forwarding = 1\n",
	             31);
	sysctld_feed(&s, 1, SYSCTLD_SYSTEMD | SYSCTLD_PROCPS,
	             "net.ipv4.conf.all.forwarding = yes\n", 35);
	sysctld_systemd(&s, SYSCTLD_IPV4, &sd);
	sysctld_procps(&s, SYSCTLD_IPV4, &pp);
	assert_int_equal(sd.value, -1);
	assert_int_equal(sd.refused_file, 1);
	assert_int_equal(pp.value, -1);
	sysctld_init(&s);
	sysctld_feed(&s, 0, SYSCTLD_SYSTEMD | SYSCTLD_PROCPS, on, strlen(on));
	sysctld_feed(&s, 1, SYSCTLD_SYSTEMD | SYSCTLD_PROCPS, off, strlen(off));
	sysctld_feed(&s, 2, SYSCTLD_PROCPS, on, strlen(on));
	/* IPv6 is its own key. */
	sysctld_systemd(&s, SYSCTLD_IPV6, &sd);
	assert_int_equal(sd.value, 1);
	assert_int_equal(sd.file, 0);
	assert_int_equal(sd.line, 2);
}

static void test_ipv6_keys(void **state)
{
	static const struct {
		const char *text;
		int value;
	} cases[] = {
	    {"net.ipv6.conf.all.forwarding = 1\n", 1},
	    {"net/ipv6/conf/all/forwarding = 1\n", 1},
	    {"net.ipv6.conf.*.forwarding = 1\n", 1},
	    {"net.ipv6.conf.all.forwarding = 1\nnet.ipv6.conf.*.forwarding = 0\n", 1},
	    {"net.ipv6.conf.default.forwarding = 1\n", -1},
	    {"net.ipv4.ip_forward = 1\n", -1},
	    {"net.ipv6.conf.all.forwarding = 1\nnet.ipv6.conf.all.forwarding = on\n", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sysctld_result r;
		struct sysctld s;

		sysctld_init(&s);
		sysctld_feed(&s, 0, SYSCTLD_SYSTEMD, cases[i].text, strlen(cases[i].text));
		sysctld_systemd(&s, SYSCTLD_IPV6, &r);
		if (r.value != cases[i].value)
			fail_msg("'%s': %d, expected %d", cases[i].text, r.value, cases[i].value);
	}
}

/* More distinct patterns than the model keeps: said, never a crash. */
static void test_overflow(void **state)
{
	struct sysctld s;
	char line[128];

	(void)state;
	sysctld_init(&s);
	for (int i = 0; i < SYSCTLD_ENTRIES_MAX + 5; i++) {
		int n = snprintf(line, sizeof(line), "net.ipv4.conf.[a%d]ll.forwarding = 1\n", i);

		sysctld_feed(&s, 0, SYSCTLD_SYSTEMD, line, (size_t)n);
	}
	assert_true(s.overflow);
	assert_int_equal(s.n_entries, SYSCTLD_ENTRIES_MAX);
}

static void test_assignment(void **state)
{
	(void)state;
	assert_int_equal(sysctld_assignment("net.ipv4.ip_forward", "1", SYSCTLD_IPV4), 1);
	assert_int_equal(sysctld_assignment("/net/ipv4/ip_forward", "0", SYSCTLD_IPV4), 0);
	assert_int_equal(sysctld_assignment("net.ipv4.ip_forward", "1", SYSCTLD_IPV6), -1);
	assert_int_equal(sysctld_assignment("net.ipv6.conf.all.forwarding", "1", SYSCTLD_IPV6), 1);
	assert_int_equal(sysctld_assignment("net.ipv4.ip_forward", "yes", SYSCTLD_IPV4), -1);
	assert_int_equal(sysctld_assignment("kernel.sysrq", "1", SYSCTLD_IPV4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_value), cmocka_unit_test(test_one_file),
	    cmocka_unit_test(test_long_line),   cmocka_unit_test(test_readers),
	    cmocka_unit_test(test_ipv6_keys),   cmocka_unit_test(test_overflow),
	    cmocka_unit_test(test_assignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
