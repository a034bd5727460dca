#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/probetab.h"
#include "monitor/config.h"
#include "monitor/wire.h"

/* A snapshot with something in every part, and a WireGuard part with two
 * devices, peers and allowed IPs. */
static struct snapshot *sample(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct wireguard_device *d;

	assert_non_null(s);
	for (int id = 0; id < PROBE__COUNT; id++) {
		s->probes[id].status = PROBE_OK;
		s->probes[id].duration_seconds = 0.25 * id;
	}
	s->memory.total = 128ull << 30;
	s->forwarding.boot4.value = 1;
	strcpy(s->forwarding.boot4.file, "/etc/sysctl.conf");
	s->forwarding.boot6.service = FORWARDING_BY_DOCKER;
	strcpy(s->forwarding.ipv6_carried_by, "/etc/wireguard/wg0.conf");
	s->gpu.count = 1;
	strcpy(s->gpu.devices[0].name, "NVIDIA GB10");
	s->endpoint.n_attempts = 1;
	s->ssh.port = 2222;
	s->ssh.n_listeners = s->ssh.total_listeners = 2;
	s->ssh.usable = 1;
	s->ssh.listeners[0].family = AF_INET;
	strcpy(s->ssh.listeners[0].address, "127.0.0.1");
	s->ssh.listeners[0].reach = SSH_REACH_LOOPBACK;
	s->ssh.listeners[1].family = AF_INET6;
	strcpy(s->ssh.listeners[1].address, "::");
	s->ssh.banner = SSH_BANNER_OK;
	strcpy(s->ssh.banner_line, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
	strcpy(s->endpoint.attempts[0].url, "https://example.net/ip");
	s->wireguard.n_devices = 2;
	s->wireguard.devices = calloc(2, sizeof(*s->wireguard.devices));
	assert_non_null(s->wireguard.devices);
	strcpy(s->wireguard.devices[1].name, "wg1");
	d = &s->wireguard.devices[0];
	strcpy(d->name, "wg-dgx-spark");
	d->backend = WIREGUARD_BACKEND_KERNEL;
	for (int i = 0; i < 3; i++) {
		struct wireguard_ip ip = {.family = AF_INET, .cidr = 32};
		struct wireguard_peer *p = wireguard_device_add_peer(d);

		assert_non_null(p);
		snprintf(p->public_key, sizeof(p->public_key), "peer%d", i);
		ip.addr.v4.s_addr = htonl(0x0a640002u + (uint32_t)i);
		assert_int_equal(wireguard_device_add_allowed_ip(d, &ip), 0);
		p->rx_bytes = 1000u * (unsigned)i;
	}
	return s;
}

static void free_snapshot(struct snapshot *s)
{
	probetab_release_all(s);
	free(s);
}

static char *encode(const struct snapshot *s, enum probe_id id, size_t *len)
{
	char *buf = NULL;

	assert_int_equal(wire_encode_result(s, id, &buf, len), 0);
	assert_int_equal(wire_frame_size(buf, *len), (int64_t)*len);
	return buf;
}

static int apply(const void *buf, size_t len, struct snapshot *s)
{
	struct wire_heartbeat hb;
	enum wire_type type;
	char err[256] = "";

	return wire_apply(buf, len, s, &hb, &type, err, sizeof(err));
}

static void test_round_trip(void **state)
{
	struct snapshot *a = sample(), *b = calloc(1, sizeof(*b));
	const struct wireguard_device *d;

	(void)state;
	assert_non_null(b);
	for (int id = 0; id < PROBE__COUNT; id++) {
		size_t len;
		char *buf = encode(a, (enum probe_id)id, &len);

		assert_int_equal(apply(buf, len, b), 0);
		free(buf);
	}
	assert_int_equal(b->memory.total, 128ull << 30);
	assert_string_equal(b->forwarding.boot4.file, "/etc/sysctl.conf");
	assert_int_equal(b->forwarding.boot6.service, FORWARDING_BY_DOCKER);
	assert_string_equal(b->forwarding.ipv6_carried_by, "/etc/wireguard/wg0.conf");
	assert_string_equal(b->gpu.devices[0].name, "NVIDIA GB10");
	assert_string_equal(b->endpoint.attempts[0].url, "https://example.net/ip");
	assert_true(b->probes[PROBE_ENDPOINT].duration_seconds == 1.25);
	assert_int_equal(b->ssh.port, 2222);
	assert_int_equal(b->ssh.usable, 1);
	assert_string_equal(b->ssh.listeners[1].address, "::");
	assert_string_equal(b->ssh.banner_line, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
	assert_int_equal(b->wireguard.n_devices, 2);
	d = &b->wireguard.devices[0];
	assert_string_equal(d->name, "wg-dgx-spark");
	assert_int_equal(d->n_peers, 3);
	assert_string_equal(d->peers[2].public_key, "peer2");
	assert_int_equal(d->peers[2].n_allowed_ips, 1);
	assert_int_equal(ntohl(d->peers[2].allowed_ips[0].addr.v4.s_addr), 0x0a640004u);
	assert_int_equal(d->peers[2].rx_bytes, 2000);
	/* Its own memory, not the sender's. */
	assert_ptr_not_equal(d->peers, a->wireguard.devices[0].peers);
	free_snapshot(a);
	free_snapshot(b);
}

/* What a probe that has not run yet (or never succeeded) leaves: a part of
 * zeros, which the collector sends all the same. Every probe's is taken. */
static void test_zero_parts(void **state)
{
	struct snapshot *zero = calloc(1, sizeof(*zero)), *b = calloc(1, sizeof(*b));

	(void)state;
	assert_non_null(zero);
	assert_non_null(b);
	for (int id = 0; id < PROBE__COUNT; id++) {
		struct wire_heartbeat hb;
		enum wire_type type;
		char err[256] = "", *buf;
		size_t len;

		zero->probes[id].status = PROBE_FAILED;
		buf = encode(zero, (enum probe_id)id, &len);
		if (wire_apply(buf, len, b, &hb, &type, err, sizeof(err)) != 0)
			fail_msg("probe %s: a part of zeros refused: %s", probetab[id].name, err);
		free(buf);
	}
	free_snapshot(zero);
	free_snapshot(b);
}

static void test_heartbeat(void **state)
{
	struct wire_heartbeat hb = {.overdue_probe = PROBE_GPU, .overdue_seconds = 42}, got;
	char buf[WIRE_HEARTBEAT_SIZE], err[128];
	struct snapshot s = {0};
	enum wire_type type;

	(void)state;
	wire_encode_heartbeat(&hb, buf);
	assert_int_equal(wire_frame_size(buf, sizeof(buf)), (int64_t)sizeof(buf));
	assert_int_equal(wire_apply(buf, sizeof(buf), &s, &got, &type, err, sizeof(err)), 0);
	assert_int_equal(type, WIRE_HEARTBEAT);
	assert_int_equal(got.overdue_probe, PROBE_GPU);
	hb.overdue_probe = PROBE__COUNT;
	wire_encode_heartbeat(&hb, buf);
	assert_int_equal(wire_apply(buf, sizeof(buf), &s, &got, &type, err, sizeof(err)), -EBADMSG);
}

/* A reload's configuration travels as the collector read it: its bytes,
 * or the read error, and nothing the web process could mistake for more. */
static void test_config_frame(void **state)
{
	static const char text[] = "[http]\nlisten = 127.0.0.1:1\n";
	struct wire_heartbeat hb;
	struct snapshot s = {0};
	enum wire_type type;
	char *buf, err[128];
	const char *got;
	size_t len, got_len;
	int rr;

	(void)state;
	assert_int_equal(wire_encode_config(0, text, strlen(text), &buf, &len), 0);
	assert_int_equal(wire_frame_size(buf, len), (int64_t)len);
	assert_int_equal(wire_apply(buf, len, &s, &hb, &type, err, sizeof(err)), 0);
	assert_int_equal(type, WIRE_CONFIG);
	wire_config_of(buf, &rr, &got, &got_len);
	assert_int_equal(rr, 0);
	assert_int_equal(got_len, strlen(text));
	assert_memory_equal(got, text, got_len);
	/* Cut anywhere: refused. */
	for (size_t cut = 0; cut < len; cut++) {
		struct wire_header h;

		memcpy(&h, buf, sizeof(h));
		if (cut >= sizeof(h)) {
			h.length = (uint32_t)(cut - sizeof(h));
			memcpy(buf, &h, sizeof(h));
		}
		if (cut >= sizeof(h) + sizeof(int32_t))
			continue; /* a shorter text is still a text */
		assert_int_equal(wire_apply(buf, cut, &s, &hb, &type, err, sizeof(err)), -EBADMSG);
	}
	free(buf);
	/* A read error carries no text; a positive or absurd result is refused. */
	assert_int_equal(wire_encode_config(-EACCES, NULL, 0, &buf, &len), 0);
	assert_int_equal(wire_apply(buf, len, &s, &hb, &type, err, sizeof(err)), 0);
	wire_config_of(buf, &rr, &got, &got_len);
	assert_int_equal(rr, -EACCES);
	assert_int_equal(got_len, 0);
	free(buf);
	assert_int_equal(wire_encode_config(5, NULL, 0, &buf, &len), 0);
	assert_int_equal(wire_apply(buf, len, &s, &hb, &type, err, sizeof(err)), -EBADMSG);
	free(buf);
	assert_int_equal(wire_encode_config(-EACCES, text, 3, &buf, &len), 0);
	assert_int_equal(wire_apply(buf, len, &s, &hb, &type, err, sizeof(err)), -EBADMSG);
	free(buf);
	/* No larger than a configuration file may be. */
	assert_int_equal(wire_encode_config(0, text, CONFIG_FILE_MAX + 1, &buf, &len), -E2BIG);
}

/* Frames follow each other in the receive buffer wherever the one before
 * ended: every part is read right at any alignment (the sanitizer build
 * stops at a misaligned read of a struct). */
static void test_unaligned_frames(void **state)
{
	struct snapshot *a = sample(), *b = calloc(1, sizeof(*b));

	(void)state;
	assert_non_null(b);
	for (int id = 0; id < PROBE__COUNT; id++) {
		size_t len;
		char *buf = encode(a, (enum probe_id)id, &len);

		for (size_t shift = 1; shift < 8; shift++) {
			char *odd = malloc(len + shift);

			assert_non_null(odd);
			memcpy(odd + shift, buf, len);
			assert_int_equal(apply(odd + shift, len, b), 0);
			free(odd);
		}
		free(buf);
	}
	free_snapshot(a);
	free_snapshot(b);
}

/* Every cut of every frame is refused, and leaves the snapshot alone. */
static void test_truncated(void **state)
{
	struct snapshot *a = sample(), *b = sample();

	(void)state;
	for (int id = 0; id < PROBE__COUNT; id++) {
		size_t len;
		char *buf = encode(a, (enum probe_id)id, &len);

		for (size_t cut = 0; cut < len; cut += (cut < 256 ? 1 : 97)) {
			struct wire_header h;

			assert_int_equal(apply(buf, cut, b), -EBADMSG);
			if (cut < sizeof(h))
				continue;
			/* A header that claims only what is there. */
			memcpy(&h, buf, sizeof(h));
			h.length = (uint32_t)(cut - sizeof(h));
			memcpy(buf, &h, sizeof(h));
			assert_int_equal(apply(buf, cut, b), -EBADMSG);
			h.length = (uint32_t)(len - sizeof(h));
			memcpy(buf, &h, sizeof(h));
		}
		free(buf);
	}
	assert_int_equal(b->wireguard.devices[0].n_peers, 3);
	free_snapshot(a);
	free_snapshot(b);
}

static void test_header(void **state)
{
	struct wire_header h = {.magic = WIRE_MAGIC, .version = WIRE_VERSION, .type = WIRE_RESULT};

	(void)state;
	assert_int_equal(wire_frame_size(&h, sizeof(h) - 1), 0);
	h.length = WIRE_FRAME_MAX;
	assert_int_equal(wire_frame_size(&h, sizeof(h)), -E2BIG);
	h.length = 8;
	h.version = WIRE_VERSION + 1;
	assert_int_equal(wire_frame_size(&h, sizeof(h)), -EPROTONOSUPPORT);
	h.version = WIRE_VERSION;
	h.type = 99;
	assert_int_equal(wire_frame_size(&h, sizeof(h)), -EBADMSG);
	h.type = WIRE_RESULT;
	h.magic ^= 1;
	assert_int_equal(wire_frame_size(&h, sizeof(h)), -EBADMSG);
}

/* Corrupt values inside a well-formed frame. */
static void corrupt_and_expect(struct snapshot *s, enum probe_id id,
                               void (*spoil)(struct snapshot *))
{
	struct snapshot *target = sample();
	size_t len;
	char *buf;

	spoil(s);
	buf = encode(s, id, &len);
	assert_int_equal(apply(buf, len, target), -EBADMSG);
	/* Untouched. */
	assert_int_equal(target->wireguard.devices[0].n_peers, 3);
	assert_int_equal(target->gpu.count, 1);
	free(buf);
	free_snapshot(target);
}

static void spoil_status(struct snapshot *s)
{
	s->probes[PROBE_MEMORY].status = (enum probe_status)77;
}

static void spoil_error(struct snapshot *s)
{
	memset(s->probes[PROBE_MEMORY].error, 'x', sizeof(s->probes[PROBE_MEMORY].error));
}

static void spoil_gpu_count(struct snapshot *s)
{
	s->gpu.count = GPU_MAX + 1;
}

static void spoil_gpu_name(struct snapshot *s)
{
	memset(s->gpu.devices[0].name, 'A', sizeof(s->gpu.devices[0].name));
}

static void spoil_boot_file(struct snapshot *s)
{
	memset(s->forwarding.boot4.file, 'A', sizeof(s->forwarding.boot4.file));
}

static void spoil_boot_service(struct snapshot *s)
{
	s->forwarding.boot6.service = (enum forwarding_service)9;
}

static void spoil_ipv6_error(struct snapshot *s)
{
	memset(s->forwarding.ipv6_error, 'A', sizeof(s->forwarding.ipv6_error));
}

static void spoil_endpoint_count(struct snapshot *s)
{
	s->endpoint.n_attempts = (size_t)-1;
}

static void spoil_peer_key(struct snapshot *s)
{
	memset(s->wireguard.devices[0].peers[1].public_key, 'k',
	       sizeof(s->wireguard.devices[0].peers[1].public_key));
}

static void spoil_peer_ips(struct snapshot *s)
{
	s->wireguard.devices[0].peers[2].allowed_ips_first = 2;
	s->wireguard.devices[0].peers[2].n_allowed_ips = 5;
}

static void spoil_ip_family(struct snapshot *s)
{
	s->wireguard.devices[0].all_allowed_ips[0].family = AF_PACKET;
}

static void spoil_backend(struct snapshot *s)
{
	s->wireguard.devices[1].backend = (enum wireguard_backend)9;
}

static void spoil_ssh_count(struct snapshot *s)
{
	s->ssh.n_listeners = s->ssh.total_listeners = SSH_LISTENERS_MAX + 1;
}

static void spoil_ssh_usable(struct snapshot *s)
{
	s->ssh.usable = 2;
}

static void spoil_ssh_banner(struct snapshot *s)
{
	s->ssh.banner = (enum ssh_banner_state)40;
}

static void spoil_ssh_reach(struct snapshot *s)
{
	s->ssh.listeners[1].reach = (enum ssh_reach)40;
}

static void spoil_ssh_family(struct snapshot *s)
{
	s->ssh.listeners[0].family = AF_UNIX;
}

static void spoil_ssh_line(struct snapshot *s)
{
	memset(s->ssh.banner_line, 'S', sizeof(s->ssh.banner_line));
}

static void spoil_ssh_address(struct snapshot *s)
{
	memset(s->ssh.listeners[1].address, '1', sizeof(s->ssh.listeners[1].address));
}

static void spoil_ssh_listen_file(struct snapshot *s)
{
	memset(s->ssh.listen[3].file, '/', sizeof(s->ssh.listen[3].file));
}

static void spoil_firewall_input_count(struct snapshot *s)
{
	s->firewall.n_input = FIREWALL_INPUT_MAX + 1;
}

static void spoil_firewall_decisions_count(struct snapshot *s)
{
	s->firewall.n_decisions = (size_t)-1;
}

static void spoil_firewall_input_rule(struct snapshot *s)
{
	s->firewall.n_input = 1;
	memset(s->firewall.input[0].rule, 'r', sizeof(s->firewall.input[0].rule));
}

static void spoil_firewall_input_result(struct snapshot *s)
{
	s->firewall.n_input = 1;
	s->firewall.input[0].result = (enum fwpath_result)50;
}

static void spoil_firewall_command(struct snapshot *s)
{
	s->firewall.n_expect = 1;
	memset(s->firewall.expect[0].command, 'c', sizeof(s->firewall.expect[0].command));
}

static void spoil_firewall_postup_line(struct snapshot *s)
{
	memset(s->firewall.postup_line, 'p', sizeof(s->firewall.postup_line));
}

static void test_corrupt_values(void **state)
{
	struct {
		enum probe_id id;
		void (*spoil)(struct snapshot *);
	} cases[] = {
	    {PROBE_MEMORY, spoil_status},
	    {PROBE_MEMORY, spoil_error},
	    {PROBE_GPU, spoil_gpu_count},
	    {PROBE_GPU, spoil_gpu_name},
	    {PROBE_ENDPOINT, spoil_endpoint_count},
	    {PROBE_WIREGUARD, spoil_peer_key},
	    {PROBE_WIREGUARD, spoil_peer_ips},
	    {PROBE_WIREGUARD, spoil_ip_family},
	    {PROBE_WIREGUARD, spoil_backend},
	    {PROBE_FORWARDING, spoil_boot_file},
	    {PROBE_FORWARDING, spoil_boot_service},
	    {PROBE_FORWARDING, spoil_ipv6_error},
	    {PROBE_SSH, spoil_ssh_count},
	    {PROBE_SSH, spoil_ssh_usable},
	    {PROBE_SSH, spoil_ssh_banner},
	    {PROBE_SSH, spoil_ssh_reach},
	    {PROBE_SSH, spoil_ssh_family},
	    {PROBE_SSH, spoil_ssh_line},
	    {PROBE_SSH, spoil_ssh_address},
	    {PROBE_SSH, spoil_ssh_listen_file},
	    {PROBE_FIREWALL, spoil_firewall_input_count},
	    {PROBE_FIREWALL, spoil_firewall_decisions_count},
	    {PROBE_FIREWALL, spoil_firewall_input_rule},
	    {PROBE_FIREWALL, spoil_firewall_input_result},
	    {PROBE_FIREWALL, spoil_firewall_command},
	    {PROBE_FIREWALL, spoil_firewall_postup_line},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot *s = sample();

		corrupt_and_expect(s, cases[i].id, cases[i].spoil);
		free_snapshot(s);
	}
}

/* Counts that claim more than the frame holds, and bytes past the end. */
static void test_oversized_counts(void **state)
{
	struct snapshot *a = sample(), *b = sample();
	size_t len, off = sizeof(struct wire_header) + sizeof(uint32_t) +
	                  sizeof(struct probe_outcome) + offsetof(struct wireguard, n_devices);
	size_t huge = WIRE_DEVICES_MAX + 1, many = 3;
	char *buf = encode(a, PROBE_WIREGUARD, &len), *longer;

	(void)state;
	memcpy(buf + off, &huge, sizeof(huge));
	assert_int_equal(apply(buf, len, b), -EBADMSG);
	memcpy(buf + off, &many, sizeof(many));
	assert_int_equal(apply(buf, len, b), -EBADMSG);
	free(buf);
	/* A plain part with a byte more than its size. */
	buf = encode(a, PROBE_MEMORY, &len);
	longer = calloc(1, len + 1);
	assert_non_null(longer);
	memcpy(longer, buf, len);
	((struct wire_header *)(void *)longer)->length++;
	assert_int_equal(apply(longer, len + 1, b), -EBADMSG);
	free(longer);
	free(buf);
	free_snapshot(a);
	free_snapshot(b);
}

/* Random bytes flipped in valid frames: refused or applied, never a crash
 * (under ASan: never an access out of bounds). */
static void test_flipped_bytes(void **state)
{
	struct snapshot *a = sample(), *b = sample();
	unsigned seed = 1;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		enum probe_id id = (enum probe_id)(round % PROBE__COUNT);
		size_t len;
		char *buf = encode(a, id, &len);

		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] ^= (char)(1u << (seed % 8));
		}
		(void)apply(buf, len, b);
		free(buf);
	}
	free_snapshot(a);
	free_snapshot(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_zero_parts),
	    cmocka_unit_test(test_heartbeat),        cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_config_frame),     cmocka_unit_test(test_unaligned_frames),
	    cmocka_unit_test(test_header),           cmocka_unit_test(test_corrupt_values),
	    cmocka_unit_test(test_oversized_counts), cmocka_unit_test(test_flipped_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
