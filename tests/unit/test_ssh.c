/* probes/ssh.c: which listening addresses a VPN client can use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "monitor/config.h"
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

/* The port the checks watch, and when they are off. */
static void test_port(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	strcpy(cfg.root, "tests/fixtures/sshdconf/root");
	assert_int_equal(ssh_port(&cfg), 2222);
	/* No Port line: the first ListenAddress that names a port. */
	strcpy(cfg.root, "tests/fixtures/sshdconf/listenport");
	assert_int_equal(ssh_port(&cfg), 2201);
	cfg.ssh_port = 22;
	assert_int_equal(ssh_port(&cfg), 22);
	cfg.ssh_enabled = CONFIG_SWITCH_NO;
	assert_int_equal(ssh_port(&cfg), 0);
	/* No sshd_config: off when auto, sshd's default when yes. */
	cfg.ssh_port = 0;
	strcpy(cfg.root, "tests/fixtures/sshdconf/none");
	cfg.ssh_enabled = CONFIG_SWITCH_AUTO;
	assert_int_equal(ssh_port(&cfg), 0);
	cfg.ssh_enabled = CONFIG_SWITCH_YES;
	assert_int_equal(ssh_port(&cfg), 22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_usable),
	    cmocka_unit_test(test_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
