#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probes/endpoint.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ip),
	    cmocka_unit_test(test_parse_state),
	    cmocka_unit_test(test_split_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
