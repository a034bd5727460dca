/* monitor/netaddr.c: the networks of the HTTP allow-list and the listen
 * endpoints, parsed from the configuration's text; which client addresses
 * a network admits, at every prefix boundary and for IPv4-mapped IPv6. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "monitor/netaddr.h"

static struct sockaddr_storage client(const char *text)
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

static bool admits(const char *net_text, const char *addr)
{
	struct netaddr_net net;
	struct sockaddr_storage ss = client(addr);

	if (netaddr_parse_net(net_text, &net) != 0)
		fail_msg("'%s' does not parse", net_text);
	return netaddr_net_contains(&net, (const struct sockaddr *)&ss);
}

static void test_contains(void **state)
{
	static const struct {
		const char *net, *addr;
		bool in;
	} cases[] = {
	    {"10.231.7.3/32", "10.231.7.3", true},
	    {"10.231.7.3/32", "10.231.7.2", false},
	    {"10.231.7.3", "10.231.7.3", true}, /* a bare address is that host */
	    {"10.231.7.3", "10.231.7.4", false},
	    {"10.100.0.0/24", "10.100.0.255", true},
	    {"10.100.0.0/24", "10.100.1.0", false},
	    {"10.100.0.0/23", "10.100.1.7", true},
	    {"10.100.0.0/23", "10.100.2.0", false},
	    {"10.100.0.128/25", "10.100.0.127", false},
	    {"10.100.0.128/25", "10.100.0.128", true},
	    {"10.100.0.7/24", "10.100.0.99", true}, /* host bits cleared */
	    {"192.168.0.0/17", "192.168.127.1", true},
	    {"192.168.0.0/17", "192.168.128.1", false},
	    {"0.0.0.0/0", "203.0.113.9", true},
	    {"127.0.0.0/8", "127.255.0.1", true},
	    {"127.0.0.0/8", "128.0.0.1", false},
	    {"::1/128", "::1", true},
	    {"::1", "::2", false},
	    {"fd77::/64", "fd77::1:2:3:4", true},
	    {"fd77::/64", "fd77:0:0:1::1", false},
	    {"fd77::/63", "fd77:0:0:1::1", true},
	    {"::/0", "2001:db8::1", true},
	    /* An IPv4 client on a dual-stack socket arrives IPv4-mapped. */
	    {"10.231.7.3/32", "::ffff:10.231.7.3", true},
	    {"10.231.7.3/32", "::ffff:10.231.7.2", false},
	    {"10.0.0.0/8", "::ffff:11.0.0.1", false},
	    {"10.231.7.3/32", "::10.231.7.3", false}, /* not mapped */
	    /* Families do not mix otherwise. */
	    {"::/0", "10.0.0.1", false},
	    {"0.0.0.0/0", "2001:db8::1", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (admits(cases[i].net, cases[i].addr) != cases[i].in)
			fail_msg("%s %s %s", cases[i].net,
			         cases[i].in ? "does not admit" : "admits", cases[i].addr);
}

static void test_parse_net(void **state)
{
	static const char *const bad[] = {
	    "",
	    "10.0.0.0/",
	    "10.0.0.0/33",
	    "10.0.0.0/-1",
	    "10.0.0.0/8x",
	    "10.0.0/8",
	    "::/129",
	    "host.example",
	    "10.0.0.0/ 8",
	    "10.0.0.0 /8",
	    "[::1]/128",
	    "10.0.0.0/08000000000000000000000000000000000000000000000000000000000000000",
	};
	struct netaddr_net net, untouched;
	char text[64];

	(void)state;
	memset(&net, 0x5a, sizeof(net));
	untouched = net;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (netaddr_parse_net(bad[i], &net) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_memory_equal(&net, &untouched, sizeof(net));
	}
	assert_int_equal(netaddr_parse_net("10.100.0.7/24", &net), 0);
	assert_int_equal(net.family, AF_INET);
	assert_int_equal(net.prefix, 24);
	netaddr_format_net(&net, text, sizeof(text));
	assert_string_equal(text, "10.100.0.0/24");
	assert_int_equal(netaddr_parse_net("fd77::1", &net), 0);
	assert_int_equal(net.prefix, 128);
	netaddr_format_net(&net, text, sizeof(text));
	assert_string_equal(text, "fd77::1/128");
}

static void test_parse_lists(void **state)
{
	struct netaddr_net nets[3];
	struct netaddr_endpoint eps[2];
	char text[64];

	(void)state;
	assert_int_equal(netaddr_parse_nets("127.0.0.0/8, 10.231.7.3/32\t::1", nets, 3), 3);
	assert_int_equal(nets[1].prefix, 32);
	assert_int_equal(nets[2].family, AF_INET6);
	assert_int_equal(netaddr_parse_nets("", nets, 3), 0);
	assert_int_equal(netaddr_parse_nets(" , ,", nets, 3), 0);
	assert_int_equal(netaddr_parse_nets("10.0.0.0/8,bogus", nets, 3), -EINVAL);
	assert_int_equal(netaddr_parse_nets("1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4", nets, 3), -E2BIG);
	assert_int_equal(netaddr_parse_nets("1.1.1.1 2.2.2.2", NULL, 3), 2);

	assert_int_equal(netaddr_parse_endpoints("127.0.0.1:19586 [::1]:19587", eps, 2), 2);
	netaddr_format_endpoint((const struct sockaddr *)&eps[0].sa, text, sizeof(text));
	assert_string_equal(text, "127.0.0.1:19586");
	netaddr_format_endpoint((const struct sockaddr *)&eps[1].sa, text, sizeof(text));
	assert_string_equal(text, "[::1]:19587");
	assert_int_equal(eps[0].len, sizeof(struct sockaddr_in));
	assert_int_equal(eps[1].len, sizeof(struct sockaddr_in6));
	assert_int_equal(netaddr_parse_endpoints("127.0.0.1:0", eps, 2), -EINVAL);
	assert_int_equal(netaddr_parse_endpoints("127.0.0.1:65536", eps, 2), -EINVAL);
	assert_int_equal(netaddr_parse_endpoints("127.0.0.1", eps, 2), -EINVAL);
	assert_int_equal(netaddr_parse_endpoints("::1:80", eps, 2), -EINVAL);
	assert_int_equal(netaddr_parse_endpoints("[::1]80", eps, 2), -EINVAL);
	assert_int_equal(netaddr_parse_endpoints("localhost:80", eps, 2), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contains),
	    cmocka_unit_test(test_parse_net),
	    cmocka_unit_test(test_parse_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
