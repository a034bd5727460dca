/* Secrets never leave: replies that carry known private and preshared keys
 * go through the parsers into a snapshot, then through every output; no
 * byte of a secret may appear, in base64 or in hex. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/check.h"
#include "monitor/config.h"
#include "monitor/probetab.h"
#include "monitor/report.h"
#include "monitor/verdict.h"
#include "monitor/wgdump.h"
#include "probes/wgkernel.h"
#include "probes/wguapi.h"
#include "tests/unit/wgmsg.h"
#include "web/json.h"
#include "web/prometheus.h"

#define UAPI_PRIVATE_HEX "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define UAPI_PSK_HEX     "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define UAPI_PEER_HEX    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"

struct secret {
	uint8_t key[32];
};

static struct secret secrets[4]; /* kernel private, kernel psk, uapi private, uapi psk */
static char kernel_peer_b64[45], uapi_peer_b64[45];

static void fill_kernel(struct wireguard_device *dev)
{
	static char buf[8192];
	struct nlmsghdr *nlh = wgmsg_begin(buf, 0);
	struct nlattr *peers, *peer;
	uint8_t pub[32], ppub[32];

	wgmsg_key(secrets[0].key, 101);
	wgmsg_key(secrets[1].key, 102);
	wgmsg_key(pub, 103);
	wgmsg_key(ppub, 104);
	wireguard_key_to_base64(kernel_peer_b64, ppub);
	wgmsg_device(nlh, "wg-kern", secrets[0].key, pub, 51820);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = wgmsg_peer_open(nlh, ppub, secrets[1].key);
	wgmsg_peer_stats(nlh, time(NULL) - 10, 5000, 6000);
	wgmsg_ips(nlh, 1, 1, 3);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(wgkernel_parse_device(nlh, WGMSG_FAMILY, dev), 0);
	dev->backend = WIREGUARD_BACKEND_KERNEL;
}

static void fill_uapi(struct wireguard_device *dev)
{
	static const char reply[] = "private_key=" UAPI_PRIVATE_HEX "\n"
	                            "listen_port=51821\n"
	                            "public_key=" UAPI_PEER_HEX "\n"
	                            "preshared_key=" UAPI_PSK_HEX "\n"
	                            "endpoint=192.0.2.1:1234\n"
	                            "allowed_ip=10.9.0.2/32\n"
	                            "errno=0\n\n";
	char err[128];

	assert_int_equal(wireguard_key_from_hex(secrets[2].key, UAPI_PRIVATE_HEX), 0);
	assert_int_equal(wireguard_key_from_hex(secrets[3].key, UAPI_PSK_HEX), 0);
	assert_int_equal(wguapi_parse(reply, strlen(reply), dev, err, sizeof(err)), 0);
	dev->backend = WIREGUARD_BACKEND_USERSPACE;
	{
		uint8_t k[32];

		assert_int_equal(wireguard_key_from_hex(k, UAPI_PEER_HEX), 0);
		wireguard_key_to_base64(uapi_peer_b64, k);
	}
}

static void finish_device(struct wireguard_device *dev, const char *name)
{
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->link_found = dev->link_up = true;
	dev->wgquick_listen_port = -1;
	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wireguard_peer *p = &dev->peers[i];

		wireguard_format_endpoint(&p->endpoint.sa, p->endpoint_text,
		                          sizeof(p->endpoint_text));
	}
}

static void assert_no_secret(const char *what, const char *text)
{
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		char b64[45], hex[65], hex_upper[65];

		wireguard_key_to_base64(b64, secrets[i].key);
		for (int j = 0; j < 32; j++) {
			snprintf(hex + 2 * j, 3, "%02x", secrets[i].key[j]);
			snprintf(hex_upper + 2 * j, 3, "%02X", secrets[i].key[j]);
		}
		/* Also the first 43 characters: the '=' may be escaped. */
		b64[43] = '\0';
		if (strstr(text, b64) || strstr(text, hex) || strstr(text, hex_upper))
			fail_msg("secret %zu appears in %s", i, what);
		if (memmem(text, strlen(text), secrets[i].key, 32))
			fail_msg("secret %zu appears raw in %s", i, what);
	}
}

typedef void (*render_fn)(const struct config *cfg, const struct snapshot *snap,
                          const struct verdict *v, FILE *out);

static char *render(render_fn fn, const struct config *cfg, const struct snapshot *snap,
                    const struct verdict *v)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fn(cfg, snap, v, f);
	fclose(f);
	return text;
}

static void dump_render(const struct config *cfg, const struct snapshot *snap,
                        const struct verdict *v, FILE *out)
{
	(void)cfg;
	(void)v;
	wgdump_print(&snap->wireguard, out, out);
}

static void test_no_secret_in_any_output(void **state)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct verdict *v = calloc(1, sizeof(*v));
	struct config cfg;
	char *outputs[6];
	const char *names[6] = {"check text",     "status report",  "status JSON",
	                        "wireguard dump", "wireguard JSON", "metrics"};
	struct json_object *area;
	size_t len;

	(void)state;
	assert_non_null(snap);
	assert_non_null(v);
	config_defaults(&cfg);
	snap->wireguard.devices = calloc(2, sizeof(struct wireguard_device));
	assert_non_null(snap->wireguard.devices);
	snap->wireguard.n_devices = 2;
	fill_kernel(&snap->wireguard.devices[0]);
	fill_uapi(&snap->wireguard.devices[1]);
	finish_device(&snap->wireguard.devices[0], "wg-kern");
	finish_device(&snap->wireguard.devices[1], "wg-user");
	snap->probes[PROBE_WIREGUARD].status = PROBE_OK;
	snap->generated_at = time(NULL);
	snap->wireguard.collected_at = snap->generated_at;

	/* The model itself holds no secret byte. */
	for (size_t d = 0; d < 2; d++) {
		const struct wireguard_device *dev = &snap->wireguard.devices[d];

		for (size_t i = 0; i < 4; i++) {
			assert_null(memmem(dev, sizeof(*dev), secrets[i].key, 32));
			assert_null(memmem(dev->peers, dev->n_peers * sizeof(*dev->peers),
			                   secrets[i].key, 32));
		}
	}

	verdict_evaluate(&cfg, snap, NULL, v);
	outputs[0] = render(check_print_text, &cfg, snap, v);
	outputs[1] = render(report_print, &cfg, snap, v);
	outputs[2] = json_status_string(&cfg, snap, v, 1);
	outputs[3] = render(dump_render, &cfg, snap, v);
	area = json_wireguard_object(&cfg, &snap->wireguard);
	outputs[4] = strdup(json_object_to_json_string(area));
	json_object_put(area);
	assert_int_equal(prometheus_render(&cfg, snap, v, PROMETHEUS_TEXT, &outputs[5], &len), 0);

	for (size_t i = 0; i < 6; i++) {
		assert_non_null(outputs[i]);
		assert_no_secret(names[i], outputs[i]);
	}
	/* The outputs do carry the peers: the test looks at real content. */
	assert_non_null(strstr(outputs[1], kernel_peer_b64));
	assert_non_null(strstr(outputs[1], uapi_peer_b64));
	assert_non_null(strstr(outputs[3], "wg-kern\t(hidden)\t"));
	assert_non_null(strstr(outputs[3], "10.0.1.1/32,10.0.1.2/32,10.0.1.3/32"));
	assert_non_null(
	    strstr(outputs[5], "wireguard_peer_receive_bytes_total{device=\"wg-kern\""));
	assert_non_null(strstr(outputs[0], "'wireguard_peers'=2;;;0"));
	for (size_t i = 0; i < 6; i++)
		free(outputs[i]);
	probetab_release_all(snap);
	free(snap);
	free(v);
}

/* Malformed secrets are reported without their value. */
static void test_no_secret_in_errors(void **state)
{
	static const char reply[] = "private_key=" UAPI_PRIVATE_HEX "00\nerrno=0\n\n";
	struct wireguard_device dev = {.name = "wg0"};
	char err[256] = "";

	(void)state;
	assert_int_equal(wguapi_parse(reply, strlen(reply), &dev, err, sizeof(err)), -EBADMSG);
	assert_int_equal(wireguard_key_from_hex(secrets[2].key, UAPI_PRIVATE_HEX), 0);
	assert_no_secret("UAPI error", err);
	assert_null(strstr(err, UAPI_PRIVATE_HEX));
	wireguard_device_free(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_secret_in_any_output),
	    cmocka_unit_test(test_no_secret_in_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
