/* probes/sshdconf.c: Port, ListenAddress and Include as sshd reads them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "probes/sshdconf.h"

static int parse(const char *text, struct sshdconf *acc, char *err, size_t errlen)
{
	memset(acc, 0, sizeof(*acc));
	return sshdconf_parse(text, strlen(text), "/etc/ssh/sshd_config", 0, acc, NULL, NULL, err,
	                      errlen);
}

static void test_port_and_listen(void **state)
{
	struct sshdconf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse("# comment\n\n  PORT=2222\r\nPort 22\n"
	                       "ListenAddress 10.0.0.1 rdomain x\nlistenaddress\t[::1]:22\n",
	                       &c, err, sizeof(err)),
	                 0);
	assert_int_equal(c.port, 2222);
	assert_int_equal(c.port_line, 3);
	assert_int_equal(c.n_ports, 2);
	assert_string_equal(c.port_file, "/etc/ssh/sshd_config");
	assert_int_equal(c.n_listen, 2);
	assert_string_equal(c.listen[0].value, "10.0.0.1");
	assert_int_equal(c.listen[0].line, 5);
	assert_string_equal(c.listen[1].value, "[::1]:22");
}

static void test_none(void **state)
{
	struct sshdconf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(
	    parse("#Port 22\n#ListenAddress 0.0.0.0\nPermitRootLogin no", &c, err, sizeof(err)), 0);
	assert_int_equal(c.port, 0);
	assert_int_equal(c.n_listen, 0);
}

/* Neither keyword is allowed in a Match block: what follows is not read. */
static void test_match_ends(void **state)
{
	struct sshdconf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse("Match Address 10.0.0.0/8\nPort 2022\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.port, 0);
}

static void test_bad_values(void **state)
{
	static const char *const bad[] = {"Port 0\n",       "Port 65536\n", "Port ssh\n",
	                                  "Port -1\n",      "Port 22x\n",   "Port\n",
	                                  "ListenAddress\n"};
	struct sshdconf c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], &c, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "/etc/ssh/sshd_config:1: "));
	}
}

/* A binary file and a line far longer than any buffer: no crash, no port. */
static void test_hostile(void **state)
{
	static char big[100000];
	struct sshdconf c;
	char err[256];

	(void)state;
	memset(big, 'A', sizeof(big) - 1);
	assert_int_equal(parse(big, &c, err, sizeof(err)), 0);
	assert_int_equal(c.port, 0);
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)(i * 37 % 251 + 1);
	(void)parse(big, &c, err, sizeof(err));
}

static int count_include(const char *pattern, unsigned depth, void *ctx)
{
	int *n = ctx;

	assert_int_equal(depth, 0);
	assert_true(strcmp(pattern, "a.conf") == 0 || strcmp(pattern, "/b/*.conf") == 0);
	(*n)++;
	return 0;
}

static void test_include_patterns(void **state)
{
	struct sshdconf c = {.port = 0};
	const char *text = "Include a.conf /b/*.conf\n";
	char err[256];
	int n = 0;

	(void)state;
	assert_int_equal(
	    sshdconf_parse(text, strlen(text), "x", 0, &c, count_include, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
}

/* Debian's layout: the include comes first, so its Port wins; files that
 * do not match the pattern are not read; a Match block is not read. */
static void test_read_root(void **state)
{
	struct config cfg;
	struct sshdconf c;
	char err[256] = "";

	(void)state;
	config_defaults(&cfg);
	strcpy(cfg.root, "tests/fixtures/sshdconf/root");
	assert_int_equal(sshdconf_read(&cfg, &c, err, sizeof(err)), 0);
	assert_int_equal(c.port, 2222);
	assert_string_equal(c.port_file, "/etc/ssh/sshd_config.d/10-port.conf");
	assert_int_equal(c.port_line, 2);
	assert_int_equal(c.n_ports, 2);
	assert_int_equal(c.files_read, 3);
	assert_int_equal(c.n_listen, 3);
	assert_string_equal(c.listen[0].value, "127.0.0.1");
	assert_string_equal(c.listen[0].file, "/etc/ssh/sshd_config.d/20-listen.conf");
	assert_string_equal(c.listen[2].value, "192.168.1.20:2200");
	assert_int_equal(c.listen[2].line, 7);
	strcpy(cfg.root, "tests/fixtures/sshdconf/none");
	assert_int_equal(sshdconf_read(&cfg, &c, err, sizeof(err)), -ENOENT);
}

static int recurse(const char *pattern, unsigned depth, void *ctx)
{
	struct sshdconf *c = ctx;
	char err[64];

	(void)pattern;
	if (depth + 1 >= SSHDCONF_DEPTH_MAX)
		return -ELOOP;
	return sshdconf_parse("Include self\n", 13, "self", depth + 1, c, recurse, c, err,
	                      sizeof(err));
}

/* A file that includes itself stops at the depth limit. */
static void test_include_loop(void **state)
{
	struct sshdconf c = {.port = 0};
	char err[64];

	(void)state;
	assert_int_equal(
	    sshdconf_parse("Include self\n", 13, "self", 0, &c, recurse, &c, err, sizeof(err)),
	    -ELOOP);
	assert_int_equal(c.files_read, SSHDCONF_DEPTH_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_port_and_listen), cmocka_unit_test(test_none),
	    cmocka_unit_test(test_match_ends),      cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_hostile),         cmocka_unit_test(test_include_patterns),
	    cmocka_unit_test(test_read_root),       cmocka_unit_test(test_include_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
