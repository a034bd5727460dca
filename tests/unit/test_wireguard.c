#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netdb.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "probes/wireguard.h"

static void test_key_encodings(void **state)
{
	uint8_t key[32], back[32];
	char b64[45];

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 37 + 11);
	wireguard_key_to_base64(b64, key);
	assert_int_equal(strlen(b64), 44);
	assert_int_equal(b64[43], '=');
	assert_int_equal(wireguard_key_from_base64(back, b64), 0);
	assert_memory_equal(key, back, 32);
	/* wg genkey's output for a key of zeros. */
	memset(key, 0, sizeof(key));
	wireguard_key_to_base64(b64, key);
	assert_string_equal(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	assert_int_equal(
	    wireguard_key_from_base64(back, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="),
	    -EINVAL); /* low bits set: not a canonical spelling */
	assert_int_equal(wireguard_key_from_base64(back, "AAAA"), -EINVAL);
	assert_int_equal(
	    wireguard_key_from_base64(back, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*AA="),
	    -EINVAL);
	assert_int_equal(wireguard_key_from_hex(back, "zz"), -EINVAL);
}

static void test_format(void **state)
{
	struct wireguard_ip ip = {
	    .family = AF_INET, .addr.v4.s_addr = htonl(0x0a640001), .cidr = 24};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(51820)};
	struct sockaddr sa = {.sa_family = AF_UNSPEC};
	char text[64];

	(void)state;
	wireguard_format_ip(&ip, text, sizeof(text));
	assert_string_equal(text, "10.100.0.1/24");
	sin.sin_addr.s_addr = htonl(0xc0a80001);
	wireguard_format_endpoint((struct sockaddr *)&sin, text, sizeof(text));
	assert_string_equal(text, "192.168.0.1:51820");
	wireguard_format_endpoint(&sa, text, sizeof(text));
	assert_string_equal(text, "");
}

/* wg(8) prints endpoints with getnameinfo(NI_NUMERICHOST | NI_NUMERICSERV);
 * the formatter must print the same text for every kind of address. */
static void expect_like_getnameinfo(const struct sockaddr *sa, socklen_t len)
{
	char host[NI_MAXHOST], port[NI_MAXSERV], want[128], got[128];

	assert_int_equal(getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
	                             NI_NUMERICHOST | NI_NUMERICSERV),
	                 0);
	snprintf(want, sizeof(want), sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
	wireguard_format_endpoint(sa, got, sizeof(got));
	assert_string_equal(got, want);
}

static void test_format_endpoint_like_wg(void **state)
{
	static const char *const v4[] = {"0.0.0.0", "1.2.3.4", "10.0.10.100", "255.255.255.255"};
	static const struct {
		const char *addr;
		uint32_t scope;
	} v6[] = {
	    {"::", 0},
	    {"::1", 0},
	    {"2001:db8::7", 0},
	    {"2001:db8:0:1:1:1:1:1", 0},
	    {"::ffff:1.2.3.4", 0},
	    {"::1.2.3.4", 0},
	    {"fe80::1", 4242},
	    {"fe80::1", 1},
	    {"ff02::1", 1},
	    {"2001:db8::1", 7},
	    {"fd00::1", 0},
	};
	static const uint16_t ports[] = {0, 1, 9, 10, 51820, 65535};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	char text[8];

	(void)state;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
			assert_int_equal(inet_pton(AF_INET, v4[i], &sin.sin_addr), 1);
			sin.sin_port = htons(ports[p]);
			expect_like_getnameinfo((struct sockaddr *)&sin, sizeof(sin));
		}
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, v6[i].addr, &sin6.sin6_addr), 1);
		sin6.sin6_scope_id = v6[i].scope;
		sin6.sin6_port = htons(ports[i % 6]);
		expect_like_getnameinfo((struct sockaddr *)&sin6, sizeof(sin6));
	}
	/* A buffer too small gets a cut, terminated text. */
	sin.sin_addr.s_addr = htonl(0xc0a80001);
	sin.sin_port = htons(51820);
	wireguard_format_endpoint((struct sockaddr *)&sin, text, sizeof(text));
	assert_string_equal(text, "192.168");
}

/* Allowed IPs live in one array per device; each peer views its part,
 * through every reallocation, and dropping or merging the last peer
 * keeps the views right. */
static void test_model_allowed_ips(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	struct wireguard_ip ip = {.family = AF_INET};

	(void)state;
	assert_int_equal(wireguard_device_add_allowed_ip(&dev, &ip), -EINVAL); /* no peer */
	for (int i = 0; i < 200; i++) {
		assert_non_null(wireguard_device_add_peer(&dev));
		for (int j = 0; j < i % 5; j++) {
			ip.addr.v4.s_addr = htonl((uint32_t)(i << 8 | j));
			assert_int_equal(wireguard_device_add_allowed_ip(&dev, &ip), 0);
		}
	}
	for (int i = 0; i < 200; i++) {
		assert_int_equal(dev.peers[i].n_allowed_ips, i % 5);
		for (int j = 0; j < i % 5; j++)
			assert_int_equal(ntohl(dev.peers[i].allowed_ips[j].addr.v4.s_addr),
			                 (uint32_t)(i << 8 | j));
	}
	/* Peer 199 has 4 IPs: dropped with them. */
	wireguard_device_drop_last_peer(&dev);
	assert_int_equal(dev.n_peers, 199);
	assert_int_equal(dev.n_all_allowed_ips, 198 / 5 * 10 + 0 + 1 + 2 + 3);
	/* A new last peer with 2 IPs, merged into peer 198 (3 IPs). */
	assert_non_null(wireguard_device_add_peer(&dev));
	for (int j = 3; j < 5; j++) {
		ip.addr.v4.s_addr = htonl((uint32_t)(198 << 8 | j));
		assert_int_equal(wireguard_device_add_allowed_ip(&dev, &ip), 0);
	}
	wireguard_device_merge_last_peer(&dev);
	assert_int_equal(dev.n_peers, 199);
	assert_int_equal(dev.peers[198].n_allowed_ips, 5);
	for (int j = 0; j < 5; j++)
		assert_int_equal(ntohl(dev.peers[198].allowed_ips[j].addr.v4.s_addr),
		                 (uint32_t)(198 << 8 | j));
	wireguard_device_free(&dev);
	assert_int_equal(dev.n_peers, 0);
	assert_null(dev.all_allowed_ips);
}

static void test_model_free(void **state)
{
	struct wireguard wg = {.n_devices = 0};
	struct wireguard_device dev = {.name = "wg0"};
	struct wireguard_ip ip = {.family = AF_INET, .cidr = 32};

	(void)state;
	wireguard_free(NULL);
	wireguard_device_free(NULL);
	for (int i = 0; i < 100; i++) {
		struct wireguard_peer *p = wireguard_device_add_peer(&dev);

		assert_non_null(p);
		assert_int_equal(p->last_handshake, 0);
		for (int j = 0; j < i; j++)
			assert_int_equal(wireguard_device_add_allowed_ip(&dev, &ip), 0);
	}
	assert_int_equal(dev.peers[99].n_allowed_ips, 99);
	assert_int_equal(wireguard_device_add_address(&dev, &ip), 0);
	wg.devices = calloc(1, sizeof(dev));
	assert_non_null(wg.devices);
	wg.devices[0] = dev;
	wg.n_devices = 1;
	assert_non_null(wireguard_find_device(&wg, "wg0"));
	assert_null(wireguard_find_device(&wg, "wg1"));
	wireguard_free(&wg); /* ASan: nothing leaks */
	assert_int_equal(wg.n_devices, 0);
}

static int load(const char *text, struct config *cfg, struct config_errors *errors)
{
	return config_load_string(text, "test.conf", cfg, errors);
}

static void test_config(void **state)
{
	struct config cfg, back;
	struct config_errors errors = {0};
	char *printed = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.wireguard_interfaces.count, 0);
	assert_string_equal(cfg.wireguard_wg_quick_file, "/etc/wireguard/%i.conf");
	assert_int_equal(cfg.wireguard_stale_after_ms, 600000);
	assert_int_equal(load("[wireguard]\n"
	                      "interfaces = wg-dgx-spark, wg1\n"
	                      "listen_port = 51820\n"
	                      "stale_after = 30m\n"
	                      "wg_quick_file =\n"
	                      "[peer laptop]\n"
	                      "public_key = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	                      "required = yes\n"
	                      "[peer phone]\n"
	                      "public_key = AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	                      &cfg, &errors),
	                 0);
	assert_int_equal(cfg.wireguard_interfaces.count, 2);
	assert_string_equal(cfg.wireguard_interfaces.names[0], "wg-dgx-spark");
	assert_int_equal(cfg.wireguard_listen_port, 51820);
	assert_int_equal(cfg.wireguard_stale_after_ms, 1800000);
	assert_string_equal(cfg.wireguard_wg_quick_file, "");
	assert_int_equal(cfg.n_peers, 2);
	assert_string_equal(cfg.peers[0].name, "laptop");
	assert_true(cfg.peers[0].required);
	assert_false(cfg.peers[1].required);

	/* The printed form parses back to the same configuration. */
	f = open_memstream(&printed, &len);
	assert_non_null(f);
	config_print(&cfg, f);
	fclose(f);
	assert_non_null(strstr(printed, "[peer laptop]\npublic_key = "));
	assert_non_null(strstr(printed, "interfaces = wg-dgx-spark wg1\n"));
	assert_int_equal(load(printed, &back, &errors), 0);
	free(printed);
	assert_int_equal(back.n_peers, 2);
	assert_memory_equal(back.peers, cfg.peers, sizeof(cfg.peers));
	assert_memory_equal(&back.wireguard_interfaces, &cfg.wireguard_interfaces,
	                    sizeof(cfg.wireguard_interfaces));
	assert_int_equal(back.wireguard_listen_port, 51820);
	config_errors_free(&errors);
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
	    {"[peer x]\nrequired = yes\n", "test.conf:2: [peer x] has no public_key"},
	    {"[peer x]\npublic_key = nope\n", "public_key: 'nope' is not a WireGuard public key"},
	    {"[peer x]\npublic_key = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	     "[peer y]\npublic_key = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	     "[peer y] has the same public_key as [peer x]"},
	    {"[peer x]\ncolour = red\n", "unknown key 'colour' in [peer x]"},
	    {"[wireguard]\ninterfaces = a/b\n", "interfaces: 'a/b' is not a list"},
	    {"[wireguard]\ninterfaces = abcdefghijklmnop\n", "is not a list"},
	    {"[wireguard]\ninterfaces = wg0 wg0\n", "is not a list"},
	    {"[wireguard]\nlisten_port = 65536\n", "listen_port"},
	    {"[wireguard]\nstale_after = 10s\n", "stale_after: 10s is out of range"},
	};
	struct config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config_errors errors = {0};

		assert_int_equal(load(cases[i].text, &cfg, &errors), -EINVAL);
		assert_non_null(errors.text);
		if (!strstr(errors.text, cases[i].message))
			fail_msg("case %zu: '%s' not in '%s'", i, cases[i].message, errors.text);
		config_errors_free(&errors);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_encodings),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_model_free),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_format_endpoint_like_wg),
	    cmocka_unit_test(test_model_allowed_ips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
