#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/bootfwd.h"

/* ---- /etc/docker/daemon.json --------------------------------------------- */

static void test_docker(void **state)
{
	static const struct {
		const char *text;
		int r;
		bool ip_forward, ipv6;
	} cases[] = {
	    {"", 0, true, false},
	    {" \n", 0, true, false},
	    {"{}", 0, true, false},
	    {"{\"log-driver\": \"journald\"}\n", 0, true, false},
	    {"{\"ip-forward\": false}", 0, false, false},
	    {"{\"ip-forward\": true, \"ipv6\": true}", 0, true, true},
	    {"{\"ipv6\": true, \"fixed-cidr-v6\": \"fd00:d0::/64\"}", 0, true, true},
	    {"{\"iptables\": false}", 0, true, false},
	    /* dockerd refuses these and does not start. */
	    {"{\"ip-forward\": \"false\"}", -EINVAL, 0, 0},
	    {"{\"ip-forward\": 0}", -EINVAL, 0, 0},
	    {"{\"ipv6\": \"yes\"}", -EINVAL, 0, 0},
	    {"{\"ip-forward\": false", -EINVAL, 0, 0},
	    {"{} {}", -EINVAL, 0, 0},
	    {"[]", -EINVAL, 0, 0},
	    {"null", -EINVAL, 0, 0},
	    {"ip-forward: false", -EINVAL, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bootfwd_docker d = {.ip_forward = false, .ipv6 = true}, untouched = d;
		int r = bootfwd_parse_docker(cases[i].text, strlen(cases[i].text), &d);

		if (r != cases[i].r)
			fail_msg("'%s': returned %d, expected %d", cases[i].text, r, cases[i].r);
		if (r == 0 && (d.ip_forward != cases[i].ip_forward || d.ipv6 != cases[i].ipv6))
			fail_msg("'%s': ip_forward %d ipv6 %d", cases[i].text, d.ip_forward,
			         d.ipv6);
		if (r < 0 && memcmp(&d, &untouched, sizeof(d)) != 0)
			fail_msg("'%s': output written on error", cases[i].text);
	}
}

/* ---- wg-quick PostUp ------------------------------------------------------ */

static void test_commands(void **state)
{
	static const struct {
		const char *line;
		bool ipv4, ipv6;
	} cases[] = {
	    {"sysctl -w net.ipv4.ip_forward=1", true, false},
	    {"sysctl net.ipv4.ip_forward=1", true, false},
	    {"/usr/sbin/sysctl -q -w net.ipv4.ip_forward=1", true, false},
	    {"sysctl -w net.ipv4.conf.all.forwarding=1", true, false},
	    {"sysctl -w net/ipv4/ip_forward=1", true, false},
	    {"echo 1 > /proc/sys/net/ipv4/ip_forward", true, false},
	    {"echo 1 >/proc/sys/net/ipv4/ip_forward", true, false},
	    {"echo \"1\" > /proc/sys/net/ipv4/conf/all/forwarding", true, false},
	    {"sysctl -w net.ipv6.conf.all.forwarding=1", false, true},
	    {"echo 1 > /proc/sys/net/ipv6/conf/all/forwarding", false, true},
	    {"sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1", true, true},
	    /* Among other commands, as the guide writes them. */
	    {"iptables -A FORWARD -i %i -j ACCEPT; sysctl -w net.ipv4.ip_forward=1", true, false},
	    {"iptables -A FORWARD -i %i -j ACCEPT && echo 1 > /proc/sys/net/ipv4/ip_forward", true,
	     false},
	    /* The last command about the key decides. */
	    {"sysctl -w net.ipv4.ip_forward=1; sysctl -w net.ipv4.ip_forward=0", false, false},
	    /* Not turning it on. */
	    {"sysctl -w net.ipv4.ip_forward=0", false, false},
	    {"sysctl -w net.ipv4.ip_forward=yes", false, false},
	    {"sysctl net.ipv4.ip_forward", false, false},
	    {"sysctl -w net.ipv4.conf.wg0.forwarding=1", false, false},
	    {"echo 1", false, false},
	    {"echo 1 > /tmp/ip_forward", false, false},
	    {"cat /proc/sys/net/ipv4/ip_forward", false, false},
	    {"iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE", false, false},
	    {"", false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v4 = bootfwd_command_sets(cases[i].line, SYSCTLD_IPV4);
		bool v6 = bootfwd_command_sets(cases[i].line, SYSCTLD_IPV6);

		if (v4 != cases[i].ipv4 || v6 != cases[i].ipv6)
			fail_msg("'%s': ipv4 %d ipv6 %d, expected %d %d", cases[i].line, v4, v6,
			         cases[i].ipv4, cases[i].ipv6);
	}
}

static void test_command_too_long(void **state)
{
	char line[2048];

	(void)state;
	memset(line, ' ', sizeof(line));
	strcpy(line + sizeof(line) - 40, "sysctl -w net.ipv4.ip_forward=1");
	assert_false(bootfwd_command_sets(line, SYSCTLD_IPV4));
}

/* ---- systemd-networkd ------------------------------------------------------ */

static void test_networkd(void **state)
{
	static const struct {
		const char *text;
		int ipv4_line, ipv6_line;
	} cases[] = {
	    {"[Match]\nName=eth0\n\n[Network]\nDHCP=yes\nIPForward=yes\n", 6, 6},
	    {"[Network]\nIPForward=ipv4\n", 2, 0},
	    {"[Network]\nIPForward=ipv6\n", 0, 2},
	    {"[Network]\nIPForward = true\n", 2, 2},
	    {"[Network]\nIPForward=no\n", 0, 0},
	    {"[Network]\nIPForward=kernel\n", 0, 0},
	    {"[Network]\nIPv4Forwarding=yes\n", 2, 0},
	    {"[Network]\nIPv6Forwarding=1\n", 0, 2},
	    {"[Network]\nIPForward=yes\nIPForward=no\n", 0, 0},
	    {"[Network]\nIPForward=no\nIPForward=yes\n", 3, 3},
	    /* Outside [Network], or commented out. */
	    {"[Match]\nIPForward=yes\n", 0, 0},
	    {"[Network]\n#IPForward=yes\n", 0, 0},
	    {"IPForward=yes\n", 0, 0},
	    {"[Network]\nipforward=yes\n", 0, 0},
	    {"", 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = cases[i].text;
		int v4 = bootfwd_networkd_sets(t, strlen(t), SYSCTLD_IPV4);
		int v6 = bootfwd_networkd_sets(t, strlen(t), SYSCTLD_IPV6);

		if (v4 != cases[i].ipv4_line || v6 != cases[i].ipv6_line)
			fail_msg("'%s': lines %d %d, expected %d %d", t, v4, v6, cases[i].ipv4_line,
			         cases[i].ipv6_line);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker),
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_command_too_long),
	    cmocka_unit_test(test_networkd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
