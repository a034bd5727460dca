#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "probes/endpoint.h"

#define FIXTURES "tests/fixtures/endpoint/"
#include "tests/unit/deadline.h"
#include "tests/unit/fixture.h"

static int parse_ip(const char *text, char *ip)
{
	char err[128];

	return endpoint_parse_ip(text, strlen(text), ip, err, sizeof(err));
}

static void test_parse_ip(void **state)
{
	char ip[INET_ADDRSTRLEN] = "";

	(void)state;
	assert_int_equal(parse_ip("203.0.113.7", ip), 0);
	assert_string_equal(ip, "203.0.113.7");
	assert_int_equal(parse_ip("  198.51.100.1\r\n", ip), 0);
	assert_string_equal(ip, "198.51.100.1");
	assert_int_equal(parse_ip("2001:db8::1\n", ip), -EAFNOSUPPORT);
	assert_int_equal(parse_ip("", ip), -EINVAL);
	assert_int_equal(parse_ip("\n\n", ip), -EINVAL);
	assert_int_equal(parse_ip("<html>203.0.113.7</html>", ip), -EINVAL);
	assert_int_equal(parse_ip("203.0.113.7 203.0.113.8", ip), -EINVAL);
	assert_int_equal(parse_ip("256.1.1.1", ip), -EINVAL);
	assert_int_equal(parse_ip("127.1", ip), -EINVAL);
	assert_int_equal(parse_ip("0x7f.0.0.1", ip), -EINVAL);
	assert_int_equal(endpoint_parse_ip("1.2.3.4\0", 8, ip, (char[64]){0}, 64), -EINVAL);
	assert_string_equal(ip, "198.51.100.1"); /* untouched on error */
}

static void test_parse_state(void **state)
{
	char ip[INET_ADDRSTRLEN] = "";
	time_t since = 0;

	(void)state;
	assert_int_equal(endpoint_parse_state("203.0.113.7\n1700000000\n", 23, ip, &since), 0);
	assert_string_equal(ip, "203.0.113.7");
	assert_int_equal(since, 1700000000);
	assert_int_equal(endpoint_parse_state("203.0.113.7\n", 12, ip, &since), -EINVAL);
	assert_int_equal(endpoint_parse_state("bogus\n1\n", 8, ip, &since), -EINVAL);
	assert_int_equal(endpoint_parse_state("1.2.3.4\n-5\n", 11, ip, &since), -EINVAL);
	assert_int_equal(endpoint_parse_state("", 0, ip, &since), -EINVAL);
}

static void test_split_urls(void **state)
{
	char urls[ENDPOINT_URLS_MAX][ENDPOINT_URL_MAX];

	(void)state;
	assert_int_equal(endpoint_split_urls("", urls, ENDPOINT_URLS_MAX), 0);
	assert_int_equal(
	    endpoint_split_urls(" https://a/  http://b/x,http://c ", urls, ENDPOINT_URLS_MAX), 3);
	assert_string_equal(urls[0], "https://a/");
	assert_string_equal(urls[1], "http://b/x");
	assert_string_equal(urls[2], "http://c");
	assert_int_equal(endpoint_split_urls("a b c d e f g h i j", urls, ENDPOINT_URLS_MAX),
	                 ENDPOINT_URLS_MAX);
}

/* ---- sparkmon-fetch's answer ------------------------------------------------ */

#define GOOD_HEAD "sparkmon-fetch 1\noutcome ok\ncode 200\nseconds 0.012500\nerror \n"
#define GOOD      GOOD_HEAD "body 12\n203.0.113.7\n"

static int parse_fetch(const char *buf, size_t len, struct endpoint_fetch *f, char *err,
                       size_t errlen)
{
	err[0] = '\0';
	return endpoint_parse_fetch(buf, len, f, err, errlen);
}

static void test_parse_fetch(void **state)
{
	static const char timeout[] = "sparkmon-fetch 1\noutcome timeout\ncode 0\nseconds 2.001\n"
	                              "error Operation timed out after 2001 ms\nbody 0\n";
	static const char too_big[] = "sparkmon-fetch 1\noutcome too-big\ncode 200\nseconds 0.5\n"
	                              "error answer larger than 1024 bytes\nbody 0\n";
	/* The body is the server's: any bytes, NULs and line ends included. */
	static const char raw[] = GOOD_HEAD "body 4\n\0\n\377x";
	static const char no_space[] = "sparkmon-fetch 1\noutcome ok\ncode 204\nseconds 0.1\n"
	                               "error\nbody 0\n";
	struct endpoint_fetch f;
	char err[128];

	(void)state;
	assert_int_equal(parse_fetch(GOOD, strlen(GOOD), &f, err, sizeof(err)), 0);
	assert_int_equal(f.outcome, ENDPOINT_OUTCOME_OK);
	assert_int_equal(f.http_code, 200);
	assert_true(f.total_seconds > 0.0124 && f.total_seconds < 0.0126);
	assert_string_equal(f.error, "");
	assert_int_equal(f.body_len, 12);
	assert_string_equal(f.body, "203.0.113.7\n");

	assert_int_equal(parse_fetch(timeout, strlen(timeout), &f, err, sizeof(err)), 0);
	assert_int_equal(f.outcome, ENDPOINT_OUTCOME_TIMEOUT);
	assert_int_equal(f.http_code, 0);
	assert_string_equal(f.error, "Operation timed out after 2001 ms");
	assert_int_equal(f.body_len, 0);

	assert_int_equal(parse_fetch(too_big, strlen(too_big), &f, err, sizeof(err)), 0);
	assert_int_equal(f.outcome, ENDPOINT_OUTCOME_TOO_BIG);

	assert_int_equal(parse_fetch(raw, sizeof(raw) - 1, &f, err, sizeof(err)), 0);
	assert_int_equal(f.body_len, 4);
	assert_memory_equal(f.body, "\0\n\377x", 4);

	/* "error" with or without the space before an empty value. */
	assert_int_equal(parse_fetch(no_space, strlen(no_space), &f, err, sizeof(err)), 0);
	assert_int_equal(f.http_code, 204);
}

/* A body of exactly ENDPOINT_BODY_MAX bytes is fine, one more is not. */
static void test_parse_fetch_body_cap(void **state)
{
	static char buf[ENDPOINT_BODY_MAX + 256];
	struct endpoint_fetch f;
	char err[128];
	int n;

	(void)state;
	n = snprintf(buf, sizeof(buf), GOOD_HEAD "body %d\n", ENDPOINT_BODY_MAX);
	memset(buf + n, '7', ENDPOINT_BODY_MAX);
	assert_int_equal(parse_fetch(buf, (size_t)n + ENDPOINT_BODY_MAX, &f, err, sizeof(err)), 0);
	assert_int_equal(f.body_len, ENDPOINT_BODY_MAX);
	assert_int_equal(f.body[ENDPOINT_BODY_MAX], '\0');

	n = snprintf(buf, sizeof(buf), GOOD_HEAD "body %d\n", ENDPOINT_BODY_MAX + 1);
	memset(buf + n, '7', ENDPOINT_BODY_MAX + 1);
	assert_int_equal(parse_fetch(buf, (size_t)n + ENDPOINT_BODY_MAX + 1, &f, err, sizeof(err)),
	                 -EBADMSG);
	assert_non_null(strstr(err, "more than 1024"));
}

struct bad_answer {
	const char *text;
	size_t len;
	const char *reason;
};

/* A string literal with its length: NULs inside count. */
#define BAD(text, reason)                                                                          \
	{                                                                                          \
		text, sizeof(text) - 1, reason                                                     \
	}

static void test_parse_fetch_bad(void **state)
{
	static const struct bad_answer bad[] = {
	    BAD("", "not the answer of sparkmon-fetch 1"),
	    BAD("Hello, world\n", "not the answer of sparkmon-fetch 1"),
	    BAD("sparkmon-fetch 2\n", "not the answer of sparkmon-fetch 1"),
	    BAD("sparkmon-fetch 1", "not the answer of sparkmon-fetch 1"),
	    BAD("sparkmon-fetch 1\n", "truncated: no 'outcome' line"),
	    BAD("sparkmon-fetch 1\noutcome ok", "truncated in the 'outcome' line"),
	    BAD("sparkmon-fetch 1\noutcome fine\n", "unknown outcome 'fine'"),
	    BAD("sparkmon-fetch 1\noutcomeok\n", "expected the 'outcome' line"),
	    BAD("sparkmon-fetch 1\ncode 200\noutcome ok\n", "expected the 'outcome' line"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode\n", "bad HTTP code ''"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode abc\n", "bad HTTP code 'abc'"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode -1\n", "bad HTTP code '-1'"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode +200\n", "bad HTTP code"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode  200\n", "bad HTTP code"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200 \n", "bad HTTP code"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 1000\n", "bad HTTP code '1000'"),
	    BAD("sparkmon-fetch 1\noutcome error\ncode 42\n", "bad HTTP code '42'"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 99999999999999999999999\n", "bad HTTP code"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\n", "truncated: no 'seconds' line"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds nan\n", "bad seconds 'nan'"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds 1e3\n", "bad seconds"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds -1.0\n", "bad seconds"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds 1.\n", "bad seconds"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds .5\n", "bad seconds"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds 1.2.3\n", "bad seconds"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds 12345678.0\n", "bad seconds"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds 0.1\nerror \n",
	        "truncated: no 'body' line"),
	    BAD(GOOD_HEAD "body\n", "bad body length ''"),
	    BAD(GOOD_HEAD "body -1\n", "bad body length '-1'"),
	    BAD(GOOD_HEAD "body 0x10\n", "bad body length '0x10'"),
	    BAD(GOOD_HEAD "body 99999999999999999999\n", "bad body length"),
	    BAD(GOOD_HEAD "body 2000\n", "a body of 2000 bytes, more than 1024"),
	    BAD(GOOD_HEAD "body 12\n203.0", "truncated in the body (5 of 12 bytes)"),
	    BAD(GOOD_HEAD "body 12\n", "truncated in the body (0 of 12 bytes)"),
	    BAD(GOOD_HEAD "body 2\n203.0.113.7\n", "10 bytes after the body"),
	    BAD(GOOD_HEAD "body 0\nextra", "5 bytes after the body"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 200\nseconds 0.1\nerror oops\nbody 0\n",
	        "outcome ok with an error text"),
	    BAD("sparkmon-fetch 1\noutcome error\ncode 0\nseconds 0.1\nerror \nbody 0\n",
	        "outcome error without an error text"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 0\nseconds 0.1\nerror \nbody 0\n",
	        "outcome ok without an HTTP status"),
	    BAD("sparkmon-fetch 1\noutcome error\ncode 0\nseconds 0.1\nerror x\nbody 1\n1",
	        "a body with outcome error"),
	    /* Control characters and NULs outside the body. */
	    BAD("sparkmon-fetch 1\noutcome error\ncode 0\nseconds 0.1\nerror a\0b\nbody 0\n",
	        "NUL byte in the 'error' line"),
	    BAD("sparkmon-fetch 1\noutcome error\ncode 0\nseconds 0.1\nerror a\033[2Jb\nbody 0\n",
	        "control character in the 'error' line"),
	    BAD("sparkmon-fetch 1\noutcome error\ncode 0\nseconds 0.1\nerror a\rb\nbody 0\n",
	        "control character in the 'error' line"),
	    BAD("sparkmon-fetch 1\r\noutcome ok\r\n", "not the answer of sparkmon-fetch 1"),
	    BAD("sparkmon-fetch 1\noutcome ok\ncode 2\0"
	        "00\n",
	        "NUL byte in the 'code' line"),
	    BAD("\0sparkmon-fetch 1\n", "not the answer of sparkmon-fetch 1"),
	};
	struct endpoint_fetch f, before;
	char err[128];

	(void)state;
	memset(&before, 0x5a, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		f = before;
		r = parse_fetch(bad[i].text, bad[i].len, &f, err, sizeof(err));
		if (r != -EBADMSG || !strstr(err, bad[i].reason))
			fail_msg("case %zu: got %d '%s', expected -EBADMSG '%s'", i, r, err,
			         bad[i].reason);
		/* Untouched on error. */
		assert_memory_equal(&f, &before, sizeof(f));
	}
}

/* An over-long error line: refused, not cut. */
static void test_parse_fetch_long_error(void **state)
{
	char buf[ENDPOINT_ERROR_MAX + 128], err[128];
	struct endpoint_fetch f;
	int n;

	(void)state;
	n = snprintf(buf, sizeof(buf),
	             "sparkmon-fetch 1\noutcome error\ncode 0\nseconds 0.1\nerror ");
	memset(buf + n, 'x', ENDPOINT_ERROR_MAX - 1);
	n += ENDPOINT_ERROR_MAX - 1;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\nbody 0\n");
	assert_int_equal(parse_fetch(buf, (size_t)n, &f, err, sizeof(err)), 0);
	assert_int_equal(strlen(f.error), ENDPOINT_ERROR_MAX - 1);

	n = snprintf(buf, sizeof(buf),
	             "sparkmon-fetch 1\noutcome error\ncode 0\nseconds 0.1\nerror ");
	memset(buf + n, 'x', ENDPOINT_ERROR_MAX);
	n += ENDPOINT_ERROR_MAX;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\nbody 0\n");
	assert_int_equal(parse_fetch(buf, (size_t)n, &f, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "'error' line too long");
}

/* Every strict prefix of a good answer is refused: cut output never passes. */
static void test_parse_fetch_prefixes(void **state)
{
	struct endpoint_fetch f;
	char err[128];

	(void)state;
	for (size_t len = 0; len < strlen(GOOD); len++) {
		if (parse_fetch(GOOD, len, &f, err, sizeof(err)) != -EBADMSG)
			fail_msg("prefix of %zu bytes accepted", len);
		assert_true(err[0] != '\0');
	}
}

/* Hostile bytes: a good answer with bytes flipped, inserted and cut at
 * random (a fixed seed), read within its bounds (ASan checks that). An
 * accepted answer is consistent; a refused one says why. */
static void test_parse_fetch_hostile(void **state)
{
	uint32_t seed = 0x5eed1234u;
	char good[] = GOOD, buf[sizeof(good) + 8];
	struct endpoint_fetch f;
	char err[128];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = sizeof(good) - 1;
		char *copy;
		int r;

		memcpy(buf, good, len);
		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;

			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 3) {
			case 0:
				buf[at] = (char)(seed >> 24);
				break;
			case 1:
				if (len < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = (char)(seed >> 24);
					len++;
				}
				break;
			default:
				len = at;
				break;
			}
			if (len == 0)
				break;
		}
		/* An exact-size heap copy: a read past the end is caught. */
		copy = test_malloc(len ? len : 1);
		memcpy(copy, buf, len);
		err[0] = '\0';
		r = endpoint_parse_fetch(copy, len, &f, err, sizeof(err));
		if (r == 0) {
			assert_true(f.body_len <= ENDPOINT_BODY_MAX);
			assert_true(f.http_code == 0 || (f.http_code >= 100 && f.http_code <= 999));
			assert_true(f.total_seconds >= 0);
			assert_true((f.outcome == ENDPOINT_OUTCOME_OK) == (f.error[0] == '\0'));
			for (const char *c = f.error; *c; c++)
				assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
		} else {
			assert_int_equal(r, -EBADMSG);
			assert_true(err[0] != '\0');
		}
		test_free(copy);
	}
}

/* ---- endpoint_fetch with fake helpers ---------------------------------------- */

/* Seconds the last fetch() took, measured here. */
static double fetch_took;

/* Runs the fake helper name under an outside deadline; returns
 * endpoint_fetch's result. */
static int fetch(const char *name, unsigned flags, struct endpoint_request *req,
                 struct endpoint_fetch *f)
{
	struct config cfg;
	double start;
	int r;

	config_defaults(&cfg);
	cfg.endpoint_connect_timeout_ms = 3000;
	cfg.endpoint_timeout_ms = 200; /* the runner's deadline: 1.2 s */
	memset(req, 0, sizeof(*req));
	/* fixture_path: a missing helper is one of the cases. */
	start = deadline_start(10);
	r = endpoint_fetch(fixture_path(name), &cfg, "http://192.0.2.1/ip", flags, req, f);
	fetch_took = deadline_stop(start);
	return r;
}

static void test_fetch_answers(void **state)
{
	struct endpoint_request req;
	struct endpoint_fetch f;

	(void)state;
	assert_int_equal(fetch("fetch-ok.sh", ENDPOINT_FETCH_BODY, &req, &f), 0);
	assert_string_equal(req.url, "http://192.0.2.1/ip");
	assert_int_equal(req.http_code, 200);
	assert_true(req.total_seconds > 0.0124 && req.total_seconds < 0.0126);
	assert_string_equal(req.error, "");
	assert_string_equal(f.body, "203.0.113.7\n");

	/* An HTTP error status is still an answer; the caller judges it. */
	assert_int_equal(fetch("fetch-status.sh", 0, &req, &f), 0);
	assert_int_equal(req.http_code, 503);

	assert_int_equal(fetch("fetch-timeout.sh", 0, &req, &f), -ETIMEDOUT);
	assert_string_equal(req.error,
	                    "Operation timed out after 2001 milliseconds with 0 bytes received");
	assert_int_equal(fetch("fetch-too-big.sh", ENDPOINT_FETCH_BODY, &req, &f), -EFBIG);
	assert_string_equal(req.error, "answer larger than 1024 bytes");

	/* The arguments: the timeouts, and the URL after "--". */
	assert_int_equal(
	    fetch("fetch-args.sh", ENDPOINT_FETCH_IPV4 | ENDPOINT_FETCH_BODY, &req, &f), -EIO);
	assert_string_equal(req.error, "--ipv4 --body --connect-timeout-ms 3000 --timeout-ms 200 "
	                               "-- http://192.0.2.1/ip");
	assert_int_equal(fetch("fetch-args.sh", 0, &req, &f), -EIO);
	assert_string_equal(req.error,
	                    "--connect-timeout-ms 3000 --timeout-ms 200 -- http://192.0.2.1/ip");
}

static void test_fetch_bad_helpers(void **state)
{
	struct endpoint_request req;
	struct endpoint_fetch f;
	char expected[PATH_MAX + 128];

	(void)state;
	assert_int_equal(fetch("fetch-garbage.sh", 0, &req, &f), -EBADMSG);
	assert_string_equal(req.error,
	                    "sparkmon-fetch answered badly: not the answer of sparkmon-fetch 1");
	assert_int_equal(fetch("fetch-truncated.sh", ENDPOINT_FETCH_BODY, &req, &f), -EBADMSG);
	assert_string_equal(req.error,
	                    "sparkmon-fetch answered badly: truncated in the body (5 of 12 bytes)");
	assert_int_equal(fetch("fetch-nul.sh", 0, &req, &f), -EBADMSG);
	assert_string_equal(req.error,
	                    "sparkmon-fetch answered badly: NUL byte in the 'error' line");
	assert_int_equal(fetch("fetch-fails.sh", 0, &req, &f), -ECHILD);
	assert_string_equal(req.error,
	                    "sparkmon-fetch exit code 1: sparkmon-fetch: libcurl: Failed "
	                    "initialization");
	assert_int_equal(fetch("fetch-killed.sh", 0, &req, &f), -ECHILD);
	assert_string_equal(req.error, "sparkmon-fetch killed by signal 9");
	assert_int_equal(fetch("fetch-floods.sh", 0, &req, &f), -ECHILD);
	assert_non_null(strstr(req.error, "sparkmon-fetch output over"));
	assert_int_equal(req.http_code, 0);

	assert_int_equal(fetch("fetch-hangs.sh", 0, &req, &f), -ETIMEDOUT);
	assert_non_null(strstr(req.error, "sparkmon-fetch timed out after 1."));
	assert_true(req.total_seconds >= 1.1 && req.total_seconds < 3);
	assert_true(fetch_took >= 1.1 && fetch_took < 3);

	assert_int_equal(fetch("fetch-not-executable.sh", 0, &req, &f), -EACCES);
	snprintf(expected, sizeof(expected), "cannot run %s: Permission denied",
	         fixture("fetch-not-executable.sh"));
	assert_string_equal(req.error, expected);
	assert_int_equal(fetch("no-such-helper", 0, &req, &f), -ENOENT);
	assert_non_null(strstr(req.error, "no-such-helper: No such file or directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ip),
	    cmocka_unit_test(test_parse_state),
	    cmocka_unit_test(test_split_urls),
	    cmocka_unit_test(test_parse_fetch),
	    cmocka_unit_test(test_parse_fetch_body_cap),
	    cmocka_unit_test(test_parse_fetch_bad),
	    cmocka_unit_test(test_parse_fetch_long_error),
	    cmocka_unit_test(test_parse_fetch_prefixes),
	    cmocka_unit_test(test_parse_fetch_hostile),
	    cmocka_unit_test(test_fetch_answers),
	    cmocka_unit_test(test_fetch_bad_helpers),
	};

	return cmocka_run_group_tests(tests, fixture_setup, NULL);
}
