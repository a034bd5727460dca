/* web/admission.c: which Host header values the server answers (DNS
 * rebinding): localhost, the configured names and the address the client
 * connected to, with or without a port; nothing else, however close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "web/serverimpl.h"

static struct sockaddr_storage local(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else {
		assert_int_equal(
		    inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		ss.ss_family = AF_INET6;
	}
	return ss;
}

static bool allowed(const char *host, const char *local_addr, const char *names)
{
	struct sockaddr_storage ss = local(local_addr);

	return admission_host_allowed(host, (const struct sockaddr *)&ss, names);
}

static void test_ipv4(void **state)
{
	(void)state;
	assert_true(allowed("10.100.0.1", "10.100.0.1", ""));
	assert_true(allowed("10.100.0.1:19586", "10.100.0.1", ""));
	assert_true(allowed("10.100.0.1:1", "10.100.0.1", ""));
	assert_false(allowed("10.100.0.2", "10.100.0.1", ""));
	assert_false(allowed("10.100.0.1:", "10.100.0.1", ""));
	assert_false(allowed("10.100.0.1:123456", "10.100.0.1", ""));
	assert_false(allowed("10.100.0.1:80x", "10.100.0.1", ""));
	assert_false(allowed("10.100.0.1:80:80", "10.100.0.1", ""));
	assert_false(allowed("010.100.0.1", "10.100.0.1", ""));
	assert_false(allowed("10.100.1", "10.100.0.1", ""));
	assert_false(allowed("[10.100.0.1]", "10.100.0.1", ""));
	/* A dual-stack socket sees IPv4 clients as IPv4-mapped. */
	assert_true(allowed("10.100.0.1", "::ffff:10.100.0.1", ""));
	assert_false(allowed("10.100.0.2", "::ffff:10.100.0.1", ""));
}

static void test_ipv6(void **state)
{
	(void)state;
	assert_true(allowed("[fd00::1]", "fd00::1", ""));
	assert_true(allowed("[fd00::1]:19586", "fd00::1", ""));
	assert_true(allowed("[FD00:0::1]", "fd00::1", ""));
	assert_false(allowed("fd00::1", "fd00::1", ""));
	assert_false(allowed("[fd00::2]", "fd00::1", ""));
	assert_false(allowed("[fd00::1", "fd00::1", ""));
	assert_false(allowed("[fd00::1]x", "fd00::1", ""));
	assert_false(allowed("[]", "fd00::1", ""));
	assert_false(allowed("[10.100.0.1]", "::ffff:10.100.0.1", ""));
	assert_false(allowed("[fd00::1]", "10.100.0.1", ""));
}

static void test_names(void **state)
{
	(void)state;
	assert_true(allowed("localhost", "10.100.0.1", ""));
	assert_true(allowed("LocalHost:8080", "10.100.0.1", ""));
	assert_true(allowed("localhost.", "10.100.0.1", ""));
	assert_true(allowed("gpu.example", "10.100.0.1", "gpu.example, box"));
	assert_true(allowed("BOX:19586", "10.100.0.1", "gpu.example, box"));
	assert_true(allowed("gpu.example.", "10.100.0.1", "gpu.example box"));
	assert_false(allowed("evil.example", "10.100.0.1", "gpu.example, box"));
	assert_false(allowed("gpu.example.evil", "10.100.0.1", "gpu.example"));
	assert_false(allowed("xgpu.example", "10.100.0.1", "gpu.example"));
	assert_false(allowed("gpu", "10.100.0.1", "gpu.example"));
	assert_false(allowed("localhost.localdomain", "10.100.0.1", ""));
	assert_false(allowed("", "10.100.0.1", ""));
	assert_false(allowed(":80", "10.100.0.1", ""));
	assert_false(allowed(".", "10.100.0.1", ""));
	assert_false(allowed("box", "10.100.0.1", ""));
	/* HTTP/1.0 without Host: no browser sends that. */
	assert_true(admission_host_allowed(NULL, NULL, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
