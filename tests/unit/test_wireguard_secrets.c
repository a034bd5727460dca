/* Secrets never leave: replies that carry known private and preshared keys
 * go through the parsers into a snapshot, then through every output (check
 * text, status report, status JSON, dumps, both metrics formats, the page's
 * history data, log lines); no 8-byte piece of a secret may appear, raw, in
 * hex or in base64. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/check.h"
#include "monitor/config.h"
#include "monitor/history.h"
#include "monitor/log.h"
#include "monitor/probetab.h"
#include "monitor/report.h"
#include "monitor/verdict.h"
#include "monitor/wgdump.h"
#include "probes/wgkernel.h"
#include "probes/wguapi.h"
#include "tests/unit/memstream.h"
#include "tests/unit/secret_windows.h"
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

static const char *const secret_names[] = {
    "the kernel device's private key", "the kernel peer's preshared key",
    "the userspace device's private key", "the userspace peer's preshared key"};

static void assert_no_secret(const char *what, const char *text)
{
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_no_key_window(what, text, strlen(text), secrets[i].key, secret_names[i]);
}

/* The log lines the daemon writes about this snapshot (each check, each
 * probe and device error), captured from stderr. */
static char *log_lines(const struct snapshot *snap, const struct verdict *v)
{
	char path[] = "/tmp/sparkmon-secrets-log.XXXXXX", *text = NULL;
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	FILE *f;
	long len;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	fflush(stderr);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	log_init(false);
	for (size_t i = 0; i < v->count; i++)
		log_warning("%s %s: %s (fix: %s)", v->checks[i].id,
		            verdict_status_upper(v->checks[i].status), v->checks[i].summary,
		            v->checks[i].hint);
	for (size_t i = 0; i < snap->wireguard.n_devices; i++)
		log_warning("wireguard %s: %s", snap->wireguard.devices[i].name,
		            snap->wireguard.devices[i].error_text);
	log_warning("probe wireguard: %s", snap->probes[PROBE_WIREGUARD].error);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

/* The page's data: the history of the snapshot (the peers' series). */
static char *page_data(const struct config *cfg, const struct snapshot *snap,
                       const struct verdict *v)
{
	struct history *h = history_new(3600000, 5000, 1 << 20, 64);
	struct json_object *doc;
	char *text;

	assert_non_null(h);
	history_record(h, cfg, snap, v, (double)snap->generated_at);
	history_record(h, cfg, snap, v, (double)snap->generated_at + 5);
	doc = history_json(h, NULL, 0, 0);
	text = strdup(json_object_to_json_string(doc));
	json_object_put(doc);
	history_free(h);
	return text;
}

typedef void (*render_fn)(const struct config *cfg, const struct snapshot *snap,
                          const struct verdict *v, FILE *out);

static char *render(render_fn fn, const struct config *cfg, const struct snapshot *snap,
                    const struct verdict *v)
{
	struct memstream *m = memstream_open();
	char *text;

	assert_non_null(m);
	fn(cfg, snap, v, m->f);
	text = memstream_close(m);
	assert_non_null(text);
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
	char *outputs[9];
	const char *names[9] = {"check text",     "status report",  "status JSON",
	                        "wireguard dump", "wireguard JSON", "metrics",
	                        "OpenMetrics",    "page data",      "log lines"};
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
	assert_int_equal(
	    prometheus_render(&cfg, snap, v, PROMETHEUS_OPENMETRICS, &outputs[6], &len), 0);
	outputs[7] = page_data(&cfg, snap, v);
	outputs[8] = log_lines(snap, v);

	for (size_t i = 0; i < 9; i++) {
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
	assert_non_null(
	    strstr(outputs[6], "wireguard_peer_receive_bytes_total{device=\"wg-kern\""));
	assert_non_null(strstr(outputs[8], "wireguard.peers OK: 2 peers"));
	for (size_t i = 0; i < 9; i++)
		free(outputs[i]);
	probetab_release_all(snap);
	free(snap);
	free(v);
}

/* Malformed secrets are reported without any piece of their value: too
 * long, too short, a stray character, a key where none belongs. */
static void test_no_secret_in_errors(void **state)
{
	static const char *const replies[] = {
	    "private_key=" UAPI_PRIVATE_HEX "00\nerrno=0\n\n",
	    "private_key=" UAPI_PRIVATE_HEX "\npublic_key=" UAPI_PEER_HEX
	    "\npreshared_key=" UAPI_PSK_HEX "0\nerrno=0\n\n",
	    "private_key=" UAPI_PRIVATE_HEX "\npublic_key=" UAPI_PEER_HEX
	    "\npreshared_key=" UAPI_PSK_HEX "\nendpoint=" UAPI_PSK_HEX "\nerrno=0\n\n",
	    "private_key=x" UAPI_PRIVATE_HEX "\nerrno=0\n\n",
	    "private_key=77076d0a7318a57d3c16c17251b26645df4c2f87\nerrno=0\n\n",
	    UAPI_PRIVATE_HEX "\nerrno=0\n\n",
	    UAPI_PSK_HEX "=" UAPI_PRIVATE_HEX "\nerrno=0\n\n",
	};

	(void)state;
	assert_int_equal(wireguard_key_from_hex(secrets[2].key, UAPI_PRIVATE_HEX), 0);
	assert_int_equal(wireguard_key_from_hex(secrets[3].key, UAPI_PSK_HEX), 0);
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct wireguard_device dev = {.name = "wg0"};
		char err[256] = "", what[32];
		int r = wguapi_parse(replies[i], strlen(replies[i]), &dev, err, sizeof(err));

		snprintf(what, sizeof(what), "UAPI reply %zu", i);
		/* A preshared key is parsed into nothing: a bad one may pass. */
		if (r != 0 && (r != -EBADMSG || !err[0]))
			fail_msg("reply %zu: %d '%s', expected a refusal", i, r, err);
		assert_no_key_window(what, (const char *)&dev, sizeof(dev), secrets[2].key,
		                     secret_names[2]);
		if (dev.n_peers)
			assert_no_key_window(what, (const char *)dev.peers,
			                     dev.n_peers * sizeof(*dev.peers), secrets[3].key,
			                     secret_names[3]);
		assert_no_key_window(what, err, strlen(err), secrets[2].key, secret_names[2]);
		assert_no_key_window(what, err, strlen(err), secrets[3].key, secret_names[3]);
		wireguard_device_free(&dev);
	}
}

static void expect_leak(const char *text, size_t len)
{
	char which[64];

	if (!key_window_found(text, len, secrets[2].key, which, sizeof(which)))
		fail_msg("no piece of the key found in '%.*s'", (int)len, text);
}

/* The search finds what it must: a 40-digit prefix in hex, a piece of the
 * base64 from the middle, 8 raw bytes, a '/' escaped by JSON. */
static void test_windows_found(void **state)
{
	static const char *const leaks[] = {
	    "bad value 77076D0A7318A57D3C16C17251B26645DF4C2F87",
	    "x 2f87ebc0992ab177 x",
	};

	(void)state;
	assert_int_equal(wireguard_key_from_hex(secrets[2].key, UAPI_PRIVATE_HEX), 0);
	for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
		expect_leak(leaks[i], strlen(leaks[i]));
	{
		char b64[45], text[64];

		wireguard_key_to_base64(b64, secrets[2].key);
		snprintf(text, sizeof(text), "{\"k\":\"%.11s\"}", b64 + 20);
		expect_leak(text, strlen(text));
		memcpy(text, secrets[2].key + 9, 8);
		expect_leak(text, 8);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_secret_in_any_output),
	    cmocka_unit_test(test_no_secret_in_errors),
	    cmocka_unit_test(test_windows_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
