/* web/prometheus.c on a fixed snapshot and verdict: golden files for both
 * formats, and the format rules checked line by line, with names that try
 * to break out of a label value. The golden files are written by hand
 * (reviewed, never by the test itself): an intended change of the output
 * is a change of the file, in the same commit. */
#include <errno.h>
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
#include "probes/readfile.h"
#include "web/prometheus.h"

#define GOLDEN  "tests/fixtures/prometheus/"
#define HOSTILE "H100 \"quoted\" back\\slash\nnewline </script><b>x</b>"

/* One device with two peers: the counter families (bytes received and
 * sent) whose headers differ between the formats. */
static void add_wireguard(struct snapshot *snap)
{
	struct wireguard_device *dev = calloc(1, sizeof(*dev));

	assert_non_null(dev);
	snap->probes[PROBE_WIREGUARD] = (struct probe_outcome){
	    .status = PROBE_OK, .collected_at = 1700000000, .last_success = 1700000000};
	snap->wireguard.collected_at = 1700000000;
	snap->wireguard.n_devices = 1;
	snap->wireguard.devices = dev;
	strcpy(dev->name, "wg0");
	dev->link_found = true;
	for (int i = 0; i < 2; i++) {
		struct wireguard_peer *p = wireguard_device_add_peer(dev);

		assert_non_null(p);
		snprintf(p->public_key, sizeof(p->public_key), "%043d=", i);
		p->rx_bytes = 100u + (unsigned)i;
		p->tx_bytes = 200u + (unsigned)i;
	}
}

static struct snapshot *fixed_snapshot(void)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));

	assert_non_null(snap);
	snap->generated_at = 1700000000;
	strcpy(snap->host, "spark");
	for (int id = 0; id < PROBE__COUNT; id++)
		snap->probes[id].status = PROBE_NOT_RUN;
	snap->probes[PROBE_MEMORY] = (struct probe_outcome){.status = PROBE_OK,
	                                                    .duration_seconds = 0.25,
	                                                    .collected_at = 1700000000,
	                                                    .last_success = 1700000000};
	snap->probes[PROBE_FORWARDING] = (struct probe_outcome){.status = PROBE_FAILED,
	                                                        .error = "cannot read",
	                                                        .duration_seconds = 0.5,
	                                                        .collected_at = 1700000000,
	                                                        .last_success = 1699990000};
	snap->probes[PROBE_GPU] = (struct probe_outcome){.status = PROBE_OK,
	                                                 .duration_seconds = 1.5,
	                                                 .collected_at = 1700000000,
	                                                 .last_success = 1700000000};
	snap->memory.total = 128ull << 30;
	snap->memory.available = 100ull << 30;
	snap->memory.used = 28ull << 30;
	snap->memory.swap_total = 0;
	snap->memory.swap_free = 0;
	snap->gpu.taken_at = 1700000000;
	snap->gpu.count = 2;
	strcpy(snap->gpu.devices[0].uuid, "GPU-1111");
	strcpy(snap->gpu.devices[0].name, HOSTILE);
	strcpy(snap->gpu.devices[0].driver_version, "580.95");
	snap->gpu.devices[0].has_temperature = true;
	snap->gpu.devices[0].temperature_c = 61;
	snap->gpu.devices[0].has_utilization_gpu = true;
	snap->gpu.devices[0].utilization_gpu_pct = 37;
	snap->gpu.devices[0].has_power_draw = true;
	snap->gpu.devices[0].power_draw_w = 212.5;
	snap->gpu.devices[0].has_memory_total = true;
	snap->gpu.devices[0].memory_total_bytes = 80ull << 30;
	snap->gpu.devices[0].has_memory_used = true;
	snap->gpu.devices[0].memory_used_bytes = 1ull << 30;
	/* A unified-memory GPU: no memory samples, no power. */
	strcpy(snap->gpu.devices[1].uuid, "GPU-2222");
	strcpy(snap->gpu.devices[1].name, "NVIDIA GB10");
	snap->gpu.devices[1].has_temperature = true;
	snap->gpu.devices[1].temperature_c = 45;
	snap->gpu.devices[1].unified_memory = true;
	add_wireguard(snap);
	return snap;
}

static void free_snapshot(struct snapshot *snap)
{
	wireguard_free(&snap->wireguard);
	free(snap);
}

static void fixed_verdict(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->count = 2;
	strcpy(v->checks[0].id, "memory.available");
	v->checks[0].status = CHECK_OK;
	strcpy(v->checks[1].id, "forwarding.ipv4");
	v->checks[1].status = CHECK_UNKNOWN;
	v->overall = CHECK_UNKNOWN;
}

static char *render(enum prometheus_format format, size_t *len)
{
	struct snapshot *snap = fixed_snapshot();
	struct verdict v;
	struct config cfg;
	char *out = NULL;

	config_defaults(&cfg);
	fixed_verdict(&v);
	assert_int_equal(prometheus_render(&cfg, snap, &v, format, &out, len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), *len);
	free_snapshot(snap);
	return out;
}

static void compare_golden(const char *name, const char *out, size_t len)
{
	char path[256], *want = NULL;
	size_t want_len;

	snprintf(path, sizeof(path), GOLDEN "%s", name);
	assert_int_equal(readfile_read(path, 1 << 20, &want, &want_len), 0);
	if (want_len != len || memcmp(want, out, len) != 0)
		fail_msg("output differs from %s:\n%s", path, out);
	free(want);
}

static void test_text_golden(void **state)
{
	size_t len;
	char *out = render(PROMETHEUS_TEXT, &len);

	(void)state;
	compare_golden("basic.prom", out, len);
	free(out);
}

static void test_openmetrics_golden(void **state)
{
	size_t len;
	char *out = render(PROMETHEUS_OPENMETRICS, &len);

	(void)state;
	compare_golden("basic.om", out, len);
	assert_true(len > 6 && strcmp(out + len - 6, "# EOF\n") == 0);
	free(out);
}

/* The hostile name comes out as one line, escaped exactly. */
static void test_hostile_label_escaped(void **state)
{
	size_t len;
	char *out = render(PROMETHEUS_TEXT, &len);

	(void)state;
	assert_non_null(strstr(out,
	                       "nvidia_smi_gpu_info{uuid=\"GPU-1111\",name=\"H100 \\\"quoted\\\" "
	                       "back\\\\slash\\nnewline </script><b>x</b>\",driver_version="
	                       "\"580.95\"} 1\n"));
	free(out);
}

/* Every line is a comment or "name{labels} value"; each family's lines are
 * contiguous, HELP then TYPE before its samples. */
static void check_structure(const char *out, bool om)
{
	char seen[64][96];
	size_t n_seen = 0;
	char current[96] = "";
	const char *line = out;

	while (*line) {
		const char *nl = strchr(line, '\n');
		char name[96];
		size_t len;

		assert_non_null(nl); /* every line ends with \n */
		if (strncmp(line, "# HELP ", 7) == 0) {
			len = strcspn(line + 7, " \n");
			snprintf(name, sizeof(name), "%.*s", (int)len, line + 7);
			for (size_t i = 0; i < n_seen; i++)
				if (strcmp(seen[i], name) == 0)
					fail_msg("family %s appears twice", name);
			assert_true(n_seen < 64);
			strcpy(seen[n_seen++], name);
			strcpy(current, name);
			/* The next line is its TYPE. */
			assert_true(strncmp(nl + 1, "# TYPE ", 7) == 0);
			assert_true(strncmp(nl + 8, name, strlen(name)) == 0);
			line = strchr(nl + 1, '\n') + 1;
			continue;
		}
		if (strncmp(line, "# EOF", 5) == 0) {
			assert_true(om);
			assert_int_equal(nl[1], '\0');
			break;
		}
		assert_true(line[0] != '#');
		len = strcspn(line, "{ ");
		snprintf(name, sizeof(name), "%.*s", (int)len, line);
		/* A sample belongs to the family right above it. */
		assert_true(current[0]);
		assert_true(strncmp(name, current, strlen(current)) == 0);
		/* No raw newline or unescaped quote can end a label early: the
		 * line must end with " <number>". */
		assert_non_null(memchr(line, ' ', (size_t)(nl - line)));
		line = nl + 1;
	}
}

static void test_structure(void **state)
{
	size_t len;
	char *text = render(PROMETHEUS_TEXT, &len);
	char *om = render(PROMETHEUS_OPENMETRICS, &len);

	(void)state;
	check_structure(text, false);
	check_structure(om, true);
	/* Absent values have no sample: the unified-memory GPU has none. */
	assert_null(strstr(text, "nvidia_smi_memory_used_bytes{uuid=\"GPU-2222\""));
	assert_null(strstr(text, "nvidia_smi_power_draw_watts{uuid=\"GPU-2222\""));
	/* Probes that did not run have no samples at all. */
	assert_null(strstr(text, "probe=\"firewall\""));
	assert_null(strstr(text, "probe=\"endpoint\""));
	assert_non_null(strstr(text, "sparkmon_probe_success{probe=\"forwarding\"} 0\n"));
	/* A failed area has no data families. */
	assert_null(strstr(text, "sparkmon_ip_forward_enabled"));
	free(text);
	free(om);
}

/* The forwarding families: IPv6 ones only when the VPN carries IPv6. */
static void test_forwarding_families(void **state)
{
	struct snapshot *snap = fixed_snapshot();
	struct forwarding *f = &snap->forwarding;
	struct verdict v;
	struct config cfg;
	char *text = NULL;
	size_t len;

	(void)state;
	config_defaults(&cfg);
	fixed_verdict(&v);
	snap->probes[PROBE_FORWARDING].status = PROBE_OK;
	f->ipv4 = true;
	f->boot4.value = 1;
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_non_null(strstr(text, "\nsparkmon_ip_forward_enabled 1\n"));
	assert_non_null(strstr(text, "\nsparkmon_ip_forward_boot_enabled 1\n"));
	assert_null(strstr(text, "ipv6_forward"));
	free(text);

	f->ipv6_carried = true;
	f->ipv6 = true;
	f->boot6.value = 0;
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_non_null(strstr(text, "\nsparkmon_ipv6_forward_enabled 1\n"));
	assert_non_null(strstr(text, "\nsparkmon_ipv6_forward_boot_enabled 0\n"));
	free(text);

	/* Unreadable now, unset at boot: no sample, never a 0. */
	strcpy(f->ipv6_error, "no IPv6");
	f->boot6.value = -1;
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_null(strstr(text, "\nsparkmon_ipv6_forward_enabled "));
	assert_null(strstr(text, "\nsparkmon_ipv6_forward_boot_enabled "));
	free(text);
	free_snapshot(snap);
}

/* The ssh families: up only with a usable listener and an answer; the
 * version label escaped, whatever sshd sent. */
static void test_ssh_families(void **state)
{
	struct snapshot *snap = fixed_snapshot();
	struct ssh *s = &snap->ssh;
	struct verdict v;
	struct config cfg;
	char *text = NULL;
	size_t len;

	(void)state;
	config_defaults(&cfg);
	fixed_verdict(&v);
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_null(strstr(text, "sparkmon_ssh_up"));
	free(text);

	snap->probes[PROBE_SSH].status = PROBE_OK;
	s->n_listeners = s->total_listeners = 2;
	s->usable = 1;
	s->banner = SSH_BANNER_OK;
	s->banner_seconds = 0.5;
	strcpy(s->banner_line, "SSH-2.0-OpenSSH_9.2p1 \"x\\y");
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_non_null(strstr(text, "\nsparkmon_ssh_up 1\n"));
	assert_non_null(
	    strstr(text, "\nsparkmon_ssh_info{version=\"OpenSSH_9.2p1 \\\"x\\\\y\"} 1\n"));
	assert_non_null(strstr(text, "\nsparkmon_ssh_listeners 2\n"));
	assert_non_null(strstr(text, "\nsparkmon_ssh_banner_duration_seconds 0.5\n"));
	free(text);

	s->banner = SSH_BANNER_SILENT;
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_non_null(strstr(text, "\nsparkmon_ssh_up 0\n"));
	assert_null(strstr(text, "\nsparkmon_ssh_info{"));
	free(text);
	free_snapshot(snap);
}

/* OpenMetrics as the format defines it from the text exposition, written
 * here without the renderer's help: a counter family's HELP and TYPE name
 * it without "_total" (its samples keep it), and "# EOF" ends it. */
static char *openmetrics_of(const char *text)
{
	char *out = malloc(strlen(text) + 8), *o = out;

	assert_non_null(out);
	for (const char *line = text, *nl; *line; line = nl + 1) {
		const char *type, *name, *end;
		size_t len;

		nl = strchr(line, '\n');
		assert_non_null(nl);
		len = (size_t)(nl - line + 1);
		type = strncmp(line, "# HELP ", 7) == 0 ? strchr(line, '\n') + 1 : line;
		if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0) {
			memcpy(o, line, len);
			o += len;
			continue;
		}
		name = line + 7;
		end = name + strcspn(name, " \n");
		/* The TYPE line of this family says whether it is a counter. */
		if (strncmp(type, "# TYPE ", 7) == 0 && end - name > 6 &&
		    strncmp(end - 6, "_total", 6) == 0 &&
		    strncmp(type + 7 + (end - name), " counter\n", 9) == 0) {
			memcpy(o, line, (size_t)(end - 6 - line));
			o += end - 6 - line;
			memcpy(o, end, (size_t)(nl + 1 - end));
			o += nl + 1 - end;
			continue;
		}
		memcpy(o, line, len);
		o += len;
	}
	strcpy(o, "# EOF\n");
	return out;
}

/* The golden text file holds counter families (so that OpenMetrics must
 * differ from it); the golden OpenMetrics file is the text one converted
 * by the format's rules. */
static void test_golden_files_agree(void **state)
{
	char *text = NULL, *om = NULL, *want;
	size_t text_len, om_len;

	(void)state;
	assert_int_equal(readfile_read(GOLDEN "basic.prom", 1 << 20, &text, &text_len), 0);
	assert_int_equal(readfile_read(GOLDEN "basic.om", 1 << 20, &om, &om_len), 0);
	assert_non_null(strstr(text, "# TYPE wireguard_peer_receive_bytes_total counter\n"));
	assert_non_null(strstr(text, "# TYPE wireguard_peer_transmit_bytes_total counter\n"));
	assert_non_null(strstr(text, "wireguard_peer_receive_bytes_total{"));
	assert_null(strstr(text, "# EOF"));
	assert_non_null(strstr(om, "# TYPE wireguard_peer_receive_bytes counter\n"));
	assert_null(strstr(om, "_total counter"));
	assert_non_null(strstr(om, "wireguard_peer_receive_bytes_total{"));
	want = openmetrics_of(text);
	assert_string_equal(om, want);
	free(want);
	free(text);
	free(om);
}

/* OpenMetrics sent as pieces of the text exposition (counter headers
 * spliced, "# EOF" added): the pieces put together here are the golden
 * file, and the text's conversion by the format's rules. */
static void test_openmetrics_pieces(void **state)
{
	struct snapshot *snap = fixed_snapshot();
	struct prometheus_exposition x;
	struct iovec iov[16];
	struct verdict v;
	struct config cfg;
	char *joined, *want;
	size_t len = 0, n, at = 0;

	(void)state;
	config_defaults(&cfg);
	fixed_verdict(&v);
	assert_int_equal(prometheus_expose(&cfg, snap, &v, &x), 0);
	/* Two counter families, so two headers swapped. */
	assert_int_equal(x.n_splices, 2);
	compare_golden("basic.prom", x.text, strlen(x.text));
	n = prometheus_openmetrics_pieces(&x, iov);
	assert_true(n <= PROMETHEUS_PIECES_MAX(&x) && n <= 16);
	for (size_t i = 0; i < n; i++)
		len += iov[i].iov_len;
	joined = malloc(len + 1);
	assert_non_null(joined);
	for (size_t i = 0; i < n; i++) {
		memcpy(joined + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	joined[len] = '\0';
	compare_golden("basic.om", joined, len);
	want = openmetrics_of(x.text);
	assert_string_equal(joined, want);
	check_structure(joined, true);
	free(want);
	free(joined);
	prometheus_exposition_free(&x);
	free_snapshot(snap);
}

static void test_negotiate(void **state)
{
	(void)state;
	assert_int_equal(prometheus_negotiate(NULL), PROMETHEUS_TEXT);
	assert_int_equal(prometheus_negotiate("*/*"), PROMETHEUS_TEXT);
	assert_int_equal(prometheus_negotiate("text/plain;version=0.0.4"), PROMETHEUS_TEXT);
	assert_int_equal(prometheus_negotiate("application/openmetrics-text;version=1.0.0,"
	                                      "application/openmetrics-text;version=0.0.1;q=0.75,"
	                                      "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
	                 PROMETHEUS_OPENMETRICS);
	assert_int_equal(prometheus_negotiate("text/plain, application/openmetrics-text; q=0"),
	                 PROMETHEUS_TEXT);
	assert_int_equal(prometheus_negotiate("application/openmetrics-textual"), PROMETHEUS_TEXT);
	/* Only 1.0.0 is written: another version asked for gets the text format. */
	assert_int_equal(prometheus_negotiate("application/openmetrics-text;version=0.0.1;q=0.9"),
	                 PROMETHEUS_TEXT);
	assert_int_equal(prometheus_negotiate("application/openmetrics-text; version=1.0.0"),
	                 PROMETHEUS_OPENMETRICS);
	assert_int_equal(prometheus_negotiate("application/openmetrics-text;q=0.5"),
	                 PROMETHEUS_OPENMETRICS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_golden),        cmocka_unit_test(test_forwarding_families),
	    cmocka_unit_test(test_openmetrics_golden), cmocka_unit_test(test_hostile_label_escaped),
	    cmocka_unit_test(test_structure),          cmocka_unit_test(test_openmetrics_pieces),
	    cmocka_unit_test(test_golden_files_agree), cmocka_unit_test(test_negotiate),
	    cmocka_unit_test(test_ssh_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
