/* web/json.c: the status document as /status.json and `check --json` write
 * it (peers streamed one at a time) must be byte for byte what json-c
 * writes for the whole tree, in both layouts, whatever the peers are
 * called; and it must stay valid JSON with hostile names, with '/' never
 * written as "\/". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
#include "web/json.h"

static const char *const hostile_names[] = {
    "laptop",
    "quote \" back\\slash",
    "line\nfeed\ttab\r",
    "</script><script>alert(1)</script>",
    "<b>&amp;</b>",
    "caf\xc3\xa9 \xe2\x9c\x93",
    "",
};

static void add_peers(struct wireguard_device *dev, size_t n, time_t now)
{
	for (size_t i = 0; i < n; i++) {
		struct wireguard_peer *p = wireguard_device_add_peer(dev);
		struct wireguard_ip ip = {.family = AF_INET, .cidr = 32};

		assert_non_null(p);
		snprintf(p->public_key, sizeof(p->public_key), "%043zu=", i);
		snprintf(p->name, sizeof(p->name), "%s",
		         hostile_names[i % (sizeof(hostile_names) / sizeof(hostile_names[0]))]);
		if (i % 2)
			snprintf(p->endpoint_text, sizeof(p->endpoint_text), "198.51.100.%zu:%zu",
			         i % 250, 20000 + i);
		p->last_handshake = i % 3 ? now - (time_t)(i * 7) : 0;
		p->rx_bytes = i * 1000003;
		p->tx_bytes = UINT64_MAX - i;
		p->persistent_keepalive = (uint16_t)(i % 2 ? 25 : 0);
		p->protocol_version = i % 2;
		ip.addr.v4.s_addr = htonl(0x0a000000u + (uint32_t)i);
		for (size_t k = 0; k < i % 3; k++)
			assert_int_equal(wireguard_device_add_allowed_ip(dev, &ip), 0);
	}
}

/* Three devices: no peers, many peers, one peer. */
static struct snapshot *snapshot_with_peers(size_t many)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	time_t now = 1700000000;

	assert_non_null(snap);
	snap->generated_at = now;
	strcpy(snap->host, "spark");
	for (int id = 0; id < PROBE__COUNT; id++)
		snap->probes[id].status = PROBE_NOT_RUN;
	snap->probes[PROBE_WIREGUARD] =
	    (struct probe_outcome){.status = PROBE_OK, .collected_at = now, .last_success = now};
	snap->wireguard.collected_at = now;
	snap->wireguard.n_devices = 3;
	snap->wireguard.devices = calloc(3, sizeof(struct wireguard_device));
	assert_non_null(snap->wireguard.devices);
	strcpy(snap->wireguard.devices[0].name, "wg-empty");
	strcpy(snap->wireguard.devices[1].name, "wg-dgx-spark");
	strcpy(snap->wireguard.devices[2].name, "wg-one");
	for (size_t i = 0; i < 3; i++)
		snap->wireguard.devices[i].link_found = true;
	add_peers(&snap->wireguard.devices[1], many, now);
	add_peers(&snap->wireguard.devices[2], 1, now);
	return snap;
}

static void free_snapshot(struct snapshot *snap)
{
	wireguard_free(&snap->wireguard);
	free(snap);
}

/* wireguard.interfaces[1].peers of a parsed document. */
static struct json_object *second_device_peers(struct json_object *doc)
{
	struct json_object *o;

	assert_true(json_object_object_get_ex(doc, "wireguard", &o));
	assert_true(json_object_object_get_ex(o, "interfaces", &o));
	o = json_object_array_get_idx(o, 1);
	assert_true(json_object_object_get_ex(o, "peers", &o));
	return o;
}

static void compare_layouts(size_t many)
{
	static const int layouts[] = {JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	                              JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                  JSON_C_TO_STRING_NOSLASHESCAPE};
	struct snapshot *snap = snapshot_with_peers(many);
	struct verdict v = {.overall = CHECK_OK};
	struct config cfg;

	config_defaults(&cfg);
	for (size_t i = 0; i < 2; i++) {
		struct json_object *tree = json_status_document(&cfg, snap, &v);
		char *streamed = json_status_string(&cfg, snap, &v, i);
		const char *want = json_object_to_json_string_ext(tree, layouts[i]);
		struct json_object *back, *peers;

		assert_non_null(streamed);
		if (strcmp(streamed, want) != 0)
			fail_msg("streamed document differs from the tree (layout %zu, %zu peers)",
			         i, many);
		/* And it reads back with every peer. */
		back = json_tokener_parse(streamed);
		assert_non_null(back);
		peers = second_device_peers(back);
		assert_int_equal(json_object_array_length(peers), many);
		json_object_put(back);
		json_object_put(tree);
		free(streamed);
	}
	free_snapshot(snap);
}

static void test_streamed_equals_tree_few(void **state)
{
	(void)state;
	compare_layouts(0);
	compare_layouts(2);
	compare_layouts(7);
}

static void test_streamed_equals_tree_1000(void **state)
{
	(void)state;
	compare_layouts(1000);
}

/* The names reach the document as they are, and no name can end a string
 * early or close a <script> the document is embedded in. */
static void test_hostile_names_kept_and_escaped(void **state)
{
	struct snapshot *snap = snapshot_with_peers(7);
	struct verdict v = {.overall = CHECK_OK};
	struct json_object *doc, *peers;
	struct config cfg;
	char *text;

	(void)state;
	config_defaults(&cfg);
	text = json_status_string(&cfg, snap, &v, 0);
	assert_non_null(text);
	/* '/' as it is, never "\/": the document is never inside a <script>. */
	assert_non_null(strstr(text, "\"</script><script>alert(1)</script>\""));
	assert_null(strstr(text, "\\/"));
	assert_null(strchr(text, '\n'));
	doc = json_tokener_parse(text);
	assert_non_null(doc);
	peers = second_device_peers(doc);
	for (size_t i = 0; i < 6; i++) {
		struct json_object *name;

		assert_true(
		    json_object_object_get_ex(json_object_array_get_idx(peers, i), "name", &name));
		assert_string_equal(json_object_get_string(name), hostile_names[i]);
	}
	json_object_put(doc);
	free(text);
	free_snapshot(snap);
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no member '%s'", key);
	return v;
}

/* The ssh area: null without data, else the probe's facts. */
static void test_ssh_area(void **state)
{
	struct snapshot *snap = snapshot_with_peers(1);
	struct verdict v = {.overall = CHECK_OK};
	struct json_object *doc, *ssh, *l0, *banner;
	struct config cfg;
	char *text;

	(void)state;
	config_defaults(&cfg);
	snap->probes[PROBE_SSH].status = PROBE_FAILED;
	text = json_status_string(&cfg, snap, &v, 0);
	doc = json_tokener_parse(text);
	assert_null(member(doc, "ssh"));
	json_object_put(doc);
	free(text);

	snap->probes[PROBE_SSH].status = PROBE_OK;
	snap->ssh.port = 2222;
	snap->ssh.port_source = SSH_PORT_SSHD;
	strcpy(snap->ssh.port_file, "/etc/ssh/sshd_config.d/10-port.conf");
	snap->ssh.port_line = 2;
	snap->ssh.n_listeners = snap->ssh.total_listeners = 1;
	snap->ssh.usable = 0;
	strcpy(snap->ssh.listeners[0].address, "10.100.0.1");
	snap->ssh.listeners[0].reach = SSH_REACH_VPN;
	strcpy(snap->ssh.listeners[0].ifname, "wg0");
	snap->ssh.banner = SSH_BANNER_OK;
	strcpy(snap->ssh.banner_target, "10.100.0.1:2222");
	strcpy(snap->ssh.banner_line, "SSH-2.0-OpenSSH_9.2p1 </script>");
	text = json_status_string(&cfg, snap, &v, 0);
	/* A path reads as a path, as `check --json` prints it. */
	assert_non_null(strstr(text, "\"/etc/ssh/sshd_config.d/10-port.conf\""));
	assert_null(strstr(text, "\\/"));
	doc = json_tokener_parse(text);
	ssh = member(doc, "ssh");
	assert_int_equal(json_object_get_int(member(ssh, "port")), 2222);
	assert_string_equal(json_object_get_string(member(ssh, "port_source")), "sshd_config");
	assert_int_equal(json_object_get_int(member(ssh, "port_line")), 2);
	assert_true(json_object_get_boolean(member(ssh, "up")));
	l0 = json_object_array_get_idx(member(ssh, "listeners"), 0);
	assert_string_equal(json_object_get_string(member(l0, "reach")), "VPN");
	assert_string_equal(json_object_get_string(member(l0, "interface")), "wg0");
	assert_true(json_object_get_boolean(member(l0, "usable")));
	banner = member(ssh, "banner");
	assert_string_equal(json_object_get_string(member(banner, "state")), "ok");
	assert_string_equal(json_object_get_string(member(banner, "line")),
	                    "SSH-2.0-OpenSSH_9.2p1 </script>");
	assert_null(member(banner, "error"));
	json_object_put(doc);
	free(text);

	/* The firewall's input path to the SSH port, in the firewall area. */
	snap->probes[PROBE_FIREWALL].status = PROBE_OK;
	snap->firewall.input_port = 2222;
	snap->firewall.ufw = true;
	snap->firewall.n_input = 1;
	strcpy(snap->firewall.input[0].iface, "wg0");
	snap->firewall.input[0].family = 4;
	snap->firewall.input[0].result = FWPATH_POLICY_DROPS;
	strcpy(snap->firewall.input[0].base_chain, "INPUT");
	text = json_status_string(&cfg, snap, &v, 0);
	doc = json_tokener_parse(text);
	ssh = member(doc, "firewall");
	assert_int_equal(json_object_get_int(member(ssh, "ssh_port")), 2222);
	assert_true(json_object_get_boolean(member(ssh, "ufw")));
	l0 = json_object_array_get_idx(member(ssh, "ssh_input"), 0);
	assert_string_equal(json_object_get_string(member(l0, "interface")), "wg0");
	assert_string_equal(json_object_get_string(member(l0, "base_chain")), "INPUT");
	json_object_put(doc);
	free(text);
	free_snapshot(snap);
}

/* The values of each peer are the snapshot's, each in its own field. */
static void test_peer_values(void **state)
{
	struct snapshot *snap = snapshot_with_peers(7);
	struct verdict v = {.overall = CHECK_OK};
	const struct wireguard_device *dev = &snap->wireguard.devices[1];
	struct json_object *doc, *peers;
	struct config cfg;
	char *text;

	(void)state;
	config_defaults(&cfg);
	dev->peers[1].required = true;
	text = json_status_string(&cfg, snap, &v, 0);
	assert_non_null(text);
	doc = json_tokener_parse(text);
	assert_non_null(doc);
	peers = second_device_peers(doc);
	assert_int_equal(json_object_array_length(peers), 7);
	for (size_t i = 0; i < 7; i++) {
		struct json_object *p = json_object_array_get_idx(peers, i), *ips;
		const struct wireguard_peer *want = &dev->peers[i];
		char key[64], endpoint[64], ip[32];

		snprintf(key, sizeof(key), "%043zu=", i);
		assert_string_equal(json_object_get_string(member(p, "public_key")), key);
		assert_int_equal(json_object_get_uint64(member(p, "rx_bytes")), i * 1000003);
		assert_int_equal(json_object_get_uint64(member(p, "tx_bytes")), UINT64_MAX - i);
		assert_int_equal(json_object_get_int(member(p, "persistent_keepalive_seconds")),
		                 i % 2 ? 25 : 0);
		assert_int_equal(json_object_get_boolean(member(p, "required")), i == 1);
		if (i % 2) {
			snprintf(endpoint, sizeof(endpoint), "198.51.100.%zu:%zu", i, 20000 + i);
			assert_string_equal(json_object_get_string(member(p, "endpoint")),
			                    endpoint);
			assert_int_equal(json_object_get_int(member(p, "protocol_version")), 1);
		} else {
			assert_null(member(p, "endpoint"));
			assert_null(member(p, "protocol_version"));
		}
		/* Ages are i * 7 s: up; no handshake at all is "never". */
		if (i % 3) {
			assert_int_equal(json_object_get_int64(member(p, "latest_handshake")),
			                 1700000000 - (int64_t)i * 7);
			assert_int_equal(
			    json_object_get_int64(member(p, "latest_handshake_age_seconds")),
			    (int64_t)i * 7);
			assert_string_equal(json_object_get_string(member(p, "state")), "up");
		} else {
			assert_int_equal(json_object_get_int64(member(p, "latest_handshake")), 0);
			assert_null(member(p, "latest_handshake_age_seconds"));
			assert_string_equal(json_object_get_string(member(p, "state")), "never");
		}
		ips = member(p, "allowed_ips");
		assert_int_equal(json_object_array_length(ips), i % 3);
		snprintf(ip, sizeof(ip), "10.0.0.%zu/32", i);
		for (size_t k = 0; k < i % 3; k++)
			assert_string_equal(
			    json_object_get_string(json_object_array_get_idx(ips, k)), ip);
		if (want->name[0])
			assert_string_equal(json_object_get_string(member(p, "name")), want->name);
		else
			assert_null(member(p, "name"));
	}
	json_object_put(doc);
	free(text);
	free_snapshot(snap);
}

/* "status" and "exit_code" say the overall status, for each status; each
 * check is carried with its own fields. */
static void test_status_and_exit_code(void **state)
{
	static const struct {
		enum check_status status;
		const char *name;
		int exit_code;
	} cases[] = {
	    {CHECK_OK, "ok", 0},
	    {CHECK_WARNING, "warning", 1},
	    {CHECK_CRITICAL, "critical", 2},
	    {CHECK_UNKNOWN, "unknown", 3},
	};
	struct snapshot *snap = snapshot_with_peers(1);
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct verdict v = {.count = 2, .overall = cases[i].status};
		struct json_object *doc, *checks, *c;
		char *text;

		strcpy(v.checks[0].id, "memory.available");
		v.checks[0].status = CHECK_OK;
		strcpy(v.checks[0].summary, "1.0 GiB available of 2.0 GiB (50.0%)");
		strcpy(v.checks[1].id, "wireguard.peers");
		v.checks[1].status = cases[i].status;
		strcpy(v.checks[1].summary, "1 peer, 0 up");
		strcpy(v.checks[1].hint, "wg show");
		text = json_status_string(&cfg, snap, &v, 0);
		assert_non_null(text);
		doc = json_tokener_parse(text);
		assert_non_null(doc);
		assert_string_equal(json_object_get_string(member(doc, "status")), cases[i].name);
		assert_true(json_object_is_type(member(doc, "exit_code"), json_type_int));
		assert_int_equal(json_object_get_int(member(doc, "exit_code")), cases[i].exit_code);
		assert_string_equal(json_object_get_string(member(doc, "host")), "spark");
		assert_string_equal(json_object_get_string(member(doc, "generated_at")),
		                    "2023-11-14T22:13:20Z");
		checks = member(doc, "checks");
		assert_int_equal(json_object_array_length(checks), 2);
		c = json_object_array_get_idx(checks, 0);
		assert_string_equal(json_object_get_string(member(c, "id")), "memory.available");
		assert_string_equal(json_object_get_string(member(c, "status")), "ok");
		assert_string_equal(json_object_get_string(member(c, "summary")),
		                    "1.0 GiB available of 2.0 GiB (50.0%)");
		assert_string_equal(json_object_get_string(member(c, "hint")), "");
		c = json_object_array_get_idx(checks, 1);
		assert_string_equal(json_object_get_string(member(c, "id")), "wireguard.peers");
		assert_string_equal(json_object_get_string(member(c, "status")), cases[i].name);
		assert_string_equal(json_object_get_string(member(c, "summary")), "1 peer, 0 up");
		assert_string_equal(json_object_get_string(member(c, "hint")), "wg show");
		json_object_put(doc);
		free(text);
	}
	free_snapshot(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_streamed_equals_tree_few),
	    cmocka_unit_test(test_streamed_equals_tree_1000),
	    cmocka_unit_test(test_hostile_names_kept_and_escaped),
	    cmocka_unit_test(test_peer_values),
	    cmocka_unit_test(test_ssh_area),
	    cmocka_unit_test(test_status_and_exit_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
