/* probes/ssh.c: which listening addresses a VPN client can use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "probes/ssh.h"

static enum ssh_reach classify(int family, const char *addr, int v6only)
{
	uint8_t a[16] = {0};

	assert_int_equal(inet_pton(family, addr, a), 1);
	return ssh_classify(family, a, v6only, "10.100.0.1", "192.168.1.20");
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(classify(AF_INET, "0.0.0.0", -1), SSH_REACH_WILDCARD);
	assert_int_equal(classify(AF_INET6, "::", 0), SSH_REACH_WILDCARD);
	assert_int_equal(classify(AF_INET6, "::", 1), SSH_REACH_WILDCARD6);
	assert_int_equal(classify(AF_INET, "10.100.0.1", -1), SSH_REACH_VPN);
	assert_int_equal(classify(AF_INET6, "::ffff:10.100.0.1", 0), SSH_REACH_VPN);
	assert_int_equal(classify(AF_INET, "192.168.1.20", -1), SSH_REACH_LAN);
	assert_int_equal(classify(AF_INET, "127.0.0.1", -1), SSH_REACH_LOOPBACK);
	assert_int_equal(classify(AF_INET, "127.0.1.1", -1), SSH_REACH_LOOPBACK);
	assert_int_equal(classify(AF_INET6, "::1", 1), SSH_REACH_LOOPBACK);
	assert_int_equal(classify(AF_INET, "172.17.0.1", -1), SSH_REACH_OTHER);
	assert_int_equal(classify(AF_INET, "10.100.0.10", -1), SSH_REACH_OTHER);
}

static void test_usable(void **state)
{
	struct ssh s;

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.vpn_address, "10.100.0.1");
	assert_true(ssh_reach_usable(SSH_REACH_WILDCARD, &s));
	assert_true(ssh_reach_usable(SSH_REACH_VPN, &s));
	assert_true(ssh_reach_usable(SSH_REACH_LAN, &s));
	assert_false(ssh_reach_usable(SSH_REACH_WILDCARD6, &s));
	assert_false(ssh_reach_usable(SSH_REACH_LOOPBACK, &s));
	assert_false(ssh_reach_usable(SSH_REACH_OTHER, &s));
	strcpy(s.vpn_address, "fd00::1");
	assert_true(ssh_reach_usable(SSH_REACH_WILDCARD6, &s));
	assert_string_equal(ssh_reach_name((enum ssh_reach)99), "other");
	assert_string_equal(ssh_banner_state_name(SSH_BANNER_SILENT), "silent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_usable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
