/* web/gzip.c: what Accept-Encoding values let a client have gzip (q=0
 * refuses, "*" stands for gzip when gzip is not named, malformed qualities
 * are ignored), and that a compressed output inflates to its pieces one
 * after the other. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "web/gzip.h"

static void test_accepted(void **state)
{
	static const struct {
		const char *header;
		bool gzip;
	} cases[] = {
	    {NULL, false},
	    {"", false},
	    {"gzip", true},
	    {"GZip", true},
	    {"x-gzip", true},
	    {"gzip, deflate, br", true},
	    {"deflate, gzip;q=1.0, *;q=0.5", true},
	    {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
	    {"gzip ; q=0.001", true},
	    {" \tgzip", true},
	    {"gzip;q=0", false},
	    {"gzip;q=0.0", false},
	    {"gzip; q=0.000", false},
	    {"gzip;Q=0", false},
	    {"gzip;q=0, *", false},
	    {"*;q=0, gzip", true},
	    {"*", true},
	    {"*;q=0", false},
	    {"identity", false},
	    {"deflate, br", false},
	    {"gzipx", false},
	    {"xgzip", false},
	    {"gzip-like", false},
	    /* A quality that cannot be read leaves the element out. */
	    {"gzip;q=2", false},
	    {"gzip;q=abc", false},
	    {"gzip;q=", false},
	    {"gzip;q=abc, *", true},
	    {",,gzip,,", true},
	    {";q=1", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (gzip_accepted(cases[i].header) != cases[i].gzip)
			fail_msg("Accept-Encoding: '%s' -> %s, expected %s",
			         cases[i].header ? cases[i].header : "(none)",
			         cases[i].gzip ? "plain" : "gzip",
			         cases[i].gzip ? "gzip" : "plain");
}

/* Inflates a gzip member, which must hold the WANT_LEN bytes at WANT. */
static void expect_inflates_to(const void *gz, size_t len, const void *want, size_t want_len)
{
	unsigned char *out = malloc(want_len + 1);
	z_stream z;

	assert_non_null(out);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)gz;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)(want_len + 1);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);
	assert_int_equal(z.total_out, want_len);
	assert_memory_equal(out, want, want_len);
	inflateEnd(&z);
	free(out);
}

static void test_round_trip(void **state)
{
	size_t big_len = 300000, len;
	char *big = malloc(big_len), *joined;
	struct iovec pieces[4];
	void *gz;

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)("wireguard_peer_receive_bytes_total{device=\"wg0\"} 17\n"[i % 52] ^
		                (i % 977 == 0));
	/* One piece: the text as it is published. */
	pieces[0] = (struct iovec){big, big_len};
	assert_int_equal(gzip_compress(pieces, 1, &gz, &len), 0);
	assert_true(len < big_len / 4);
	assert_memory_equal(gz, "\x1f\x8b", 2);
	expect_inflates_to(gz, len, big, big_len);
	free(gz);
	/* Pieces, as the OpenMetrics body is sent: one after the other. */
	pieces[0] = (struct iovec){big, 1000};
	pieces[1] = (struct iovec){(char *)"# TYPE x counter\n", 17};
	pieces[2] = (struct iovec){big + 1000, 0};
	pieces[3] = (struct iovec){big + 1000, big_len - 1000};
	joined = malloc(big_len + 17);
	assert_non_null(joined);
	memcpy(joined, big, 1000);
	memcpy(joined + 1000, "# TYPE x counter\n", 17);
	memcpy(joined + 1017, big + 1000, big_len - 1000);
	assert_int_equal(gzip_compress(pieces, 4, &gz, &len), 0);
	expect_inflates_to(gz, len, joined, big_len + 17);
	free(gz);
	/* Nothing at all is still a valid member. */
	assert_int_equal(gzip_compress(pieces, 0, &gz, &len), 0);
	expect_inflates_to(gz, len, "", 0);
	free(gz);
	free(joined);
	free(big);
}

static void test_too_large(void **state)
{
	struct iovec pieces[2] = {{(void *)"a", SIZE_MAX}, {(void *)"b", 2}};
	void *gz = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(gzip_compress(pieces, 2, &gz, &len), -EINVAL);
	assert_null(gz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepted),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_too_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
