/* web/requestline.c: what the first bytes of a connection say about its
 * request line, on good requests, their every prefix, and garbage. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>

#include <cmocka.h>

#include "web/requestline.h"

/* Exactly sized on the heap: a read past len is caught under ASan. */
static enum requestline_verdict classify(const char *text, size_t len)
{
	char *buf = malloc(len ? len : 1);
	enum requestline_verdict v;

	assert_non_null(buf);
	memcpy(buf, text, len);
	v = requestline_classify(buf, len);
	free(buf);
	return v;
}

#define CLASSIFY(lit) classify(lit, sizeof(lit) - 1)

static const char *const good[] = {
    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "HEAD / HTTP/1.0\r\n\r\n",
    "\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n",
    "\nGET / HTTP/1.1\n\n",
    "M-SEARCH * HTTP/1.1\r\n",
    "OPTIONS * HTTP/1.1\r\n",
    "get /lowercase/method HTTP/1.1\r\n",
    "GET http://127.0.0.1:19586/metrics?a=b HTTP/1.1\r\n",
    "GET /caf\xc3\xa9 HTTP/1.1\r\n",
    /* The version is the library's to judge (505, 400). */
    "GET / HTTP/9.9\r\n",
    "GET / HTTP/\r\n",
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(classify(good[i], strlen(good[i])), REQUESTLINE_PLAUSIBLE);
}

/* Each prefix of a good request, up to "HTTP/" included, asks for more. */
static void test_prefixes(void **state)
{
	const char *s = "\r\nGET /metrics HTTP/1.1\r\n";
	size_t whole = strlen("\r\nGET /metrics HTTP/");

	(void)state;
	for (size_t n = 0; n < whole; n++)
		assert_int_equal(classify(s, n), REQUESTLINE_MORE);
	assert_int_equal(classify(s, whole), REQUESTLINE_PLAUSIBLE);
	assert_int_equal(CLASSIFY("\r\n\r\n\n"), REQUESTLINE_MORE);
	assert_int_equal(CLASSIFY("GETGETGETGETGETGETGETGETGETGET"), REQUESTLINE_MORE);
	assert_int_equal(CLASSIFY("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), REQUESTLINE_MORE);
}

struct bytes {
	const char *text;
	size_t len;
};

#define BYTES(lit)                                                                                 \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}

static const struct bytes bad[] = {
    BYTES("garbage\r\n\r\n"),
    BYTES("\x00\x01\x02garbage\r\n\r\n"),
    /* Decided at the first byte, before any line end. */
    BYTES("\x00"),
    BYTES("\x16\x03\x01\x02\x00"), /* a TLS hello */
    BYTES("\x01\x02\x03\x04\x05\x06\r\n"),
    BYTES("get\r\n\r\n"),
    BYTES("GET\n"),
    BYTES("GET\x00 / HTTP/1.1\r\n"),
    BYTES("GE(T / HTTP/1.1\r\n"),
    /* HTTP/0.9: no version. */
    BYTES("GET /healthz\r\n\r\n"),
    BYTES("GET /healthz\n"),
    /* One space exactly between the parts. */
    BYTES(" GET / HTTP/1.1\r\n"),
    BYTES("GET  / HTTP/1.1\r\n"),
    BYTES("GET /  HTTP/1.1\r\n"),
    BYTES("GET\t/ HTTP/1.1\r\n"),
    /* Control bytes in the target. */
    BYTES("GET /a\x00 HTTP/1.1\r\n"),
    BYTES("GET /a\x7f HTTP/1.1\r\n"),
    BYTES("GET /a\tb HTTP/1.1\r\n"),
    /* Not HTTP after the second space (case matters, RFC 9112). */
    BYTES("GET / FOO/1.1\r\n"),
    BYTES("GET / http/1.1\r\n"),
    BYTES("GET / HTTP\r\n"),
    BYTES("ECHOMARK ECHOMARK ECHOMARK\r\n\r\n"),
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (classify(bad[i].text, bad[i].len) != REQUESTLINE_BAD)
			fail_msg("bad[%zu] not judged bad", i);
}

/* A long line without a space is decided when it ends. */
static void test_long_line(void **state)
{
	size_t len = 2048;
	char *buf = malloc(len + 4);

	(void)state;
	assert_non_null(buf);
	memset(buf, 'a', len);
	assert_int_equal(classify(buf, len), REQUESTLINE_MORE);
	memcpy(buf + len, "\r\n\r\n", 4);
	assert_int_equal(classify(buf, len + 4), REQUESTLINE_BAD);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
