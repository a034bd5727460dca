/* Handshake times across steps of the wall clock (probes/wgclock.c): reads
 * of a simulated device whose handshakes are stamped, as the kernel and
 * wireguard-go stamp them, with the wall clock of their moment, while the
 * clock is stepped between reads; the verdict's age and state of each peer
 * after every read. */
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
#include "monitor/verdict.h"
#include "probes/wgclock.h"
#include "probes/wireguard.h"

#define NS     1000000000LL
#define T_2023 1700000000LL
#define T_2025 1760000000LL
#define DAY    86400LL

#define KEY_A "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_B "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

/* The machine: its wall clock at CLOCK_BOOTTIME `mono` is mono + offset. */
struct machine {
	int64_t offset; /* seconds */
	int64_t mono;
	struct wgclock clk;
	struct config cfg;
	struct wireguard wg; /* the last read */
	struct wireguard_device dev;
};

static int64_t wall(const struct machine *m)
{
	return m->mono + m->offset;
}

/* A device of n peers named by key, with the raw handshake stamps given
 * (0 = never), read at the machine's time: the probe's result, in m->wg
 * (the previous read freed). */
static void read_device(struct machine *m, const char *const *keys, const int64_t *stamps, size_t n)
{
	struct wireguard *wg = &m->wg;
	struct wireguard_device *dev = &m->dev;

	wireguard_device_free(dev);
	memset(wg, 0, sizeof(*wg));
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "wg0");
	for (size_t i = 0; i < n; i++) {
		struct wireguard_peer *p = wireguard_device_add_peer(dev);

		assert_non_null(p);
		snprintf(p->public_key, sizeof(p->public_key), "%s", keys[i]);
		p->last_handshake = stamps[i];
		p->last_handshake_nsec = stamps[i] ? 250000000 : 0;
	}
	wg->devices = dev;
	wg->n_devices = 1;
	wg->collected_at = (time_t)wall(m);
	/* The offset as two clocks are read: a few hundred nanoseconds off. */
	assert_int_equal(wgclock_apply(&m->clk, wg, m->offset * NS + 317), 0);
}

static int64_t age_of(const struct machine *m, size_t i)
{
	return verdict_peer_age(&m->dev.peers[i], m->wg.collected_at);
}

static enum verdict_peer_state state_of(const struct machine *m, size_t i)
{
	return verdict_peer_state(&m->cfg, &m->dev.peers[i], m->wg.collected_at);
}

static void machine_init(struct machine *m, int64_t wall_now, int64_t mono)
{
	memset(m, 0, sizeof(*m));
	m->mono = mono;
	m->offset = wall_now - mono;
	config_defaults(&m->cfg);
}

/* A machine in 2023 whose one peer handshook 10 s ago, read once. */
static void machine_one_peer(struct machine *m, const char *const *keys, int64_t *stamp)
{
	machine_init(m, T_2023, 5000);
	*stamp = wall(m) - 10;
	read_device(m, keys, stamp, 1);
	assert_int_equal(age_of(m, 0), 10);
}

static void machine_free(struct machine *m)
{
	wireguard_device_free(&m->dev);
	wgclock_free(&m->clk);
}

/* The clock back an hour: a handshake from 10 s before the step is still
 * 10 s old (plus the time since), never in the future; one made after the
 * step is taken as stamped. */
static void test_back_one_hour(void **state)
{
	const char *keys[] = {KEY_A, KEY_B};
	struct machine m;
	int64_t hs_a, stamps[2];

	(void)state;
	machine_init(&m, T_2023, 5000);
	hs_a = wall(&m) - 10;
	stamps[0] = hs_a;
	stamps[1] = 0;
	read_device(&m, keys, stamps, 2);
	assert_int_equal(age_of(&m, 0), 10);
	assert_int_equal(age_of(&m, 1), -1);

	m.mono += 5;
	m.offset -= 3600;
	read_device(&m, keys, stamps, 2);
	assert_int_equal(age_of(&m, 0), 15);
	assert_int_equal(m.wg.devices[0].peers[0].last_handshake, hs_a - 3600);
	assert_int_equal(m.wg.devices[0].peers[0].last_handshake_nsec, 250000000);
	assert_int_equal(state_of(&m, 0), VERDICT_PEER_UP);
	assert_int_equal(state_of(&m, 1), VERDICT_PEER_NEVER);

	/* B handshakes after the step, A again a little later. */
	m.mono += 20;
	stamps[1] = wall(&m) - 3;
	read_device(&m, keys, stamps, 2);
	assert_int_equal(age_of(&m, 0), 35);
	assert_int_equal(age_of(&m, 1), 3);
	m.mono += 10;
	stamps[0] = wall(&m) - 1;
	read_device(&m, keys, stamps, 2);
	assert_int_equal(age_of(&m, 0), 1);
	assert_int_equal(age_of(&m, 1), 13);
	machine_free(&m);
}

/* The clock forward a day: a handshake from before the step keeps its
 * age; unmoved it would be a day old, the peer down. */
static void test_forward_one_day(void **state)
{
	const char *keys[] = {KEY_A};
	struct machine m;
	int64_t stamps[1];

	(void)state;
	machine_one_peer(&m, keys, stamps);
	m.mono += 5;
	m.offset += DAY;
	for (int i = 0; i < 3; i++) {
		read_device(&m, keys, stamps, 1);
		assert_int_equal(age_of(&m, 0), 15 + 5 * i);
		assert_int_equal(state_of(&m, 0), VERDICT_PEER_UP);
		m.mono += 5;
	}
	/* Back an hour on top: still the true age. */
	m.offset -= 3600;
	read_device(&m, keys, stamps, 1);
	assert_int_equal(age_of(&m, 0), 30);
	machine_free(&m);
}

/* A board without a real-time clock boots at 1970; a peer handshakes;
 * NTP steps the clock to today: the handshake is seconds old, not 55
 * years. A peer that never handshook stays so. */
static void test_1970_then_ntp(void **state)
{
	const char *keys[] = {KEY_A, KEY_B};
	struct machine m;
	int64_t stamps[2] = {0, 0};

	(void)state;
	machine_init(&m, 40, 40); /* 40 s after boot, the clock at 1970 */
	read_device(&m, keys, stamps, 2);
	assert_int_equal(age_of(&m, 0), -1);
	m.mono += 20;
	stamps[0] = wall(&m) - 10; /* Unix time 50 */
	read_device(&m, keys, stamps, 2);
	assert_int_equal(age_of(&m, 0), 10);
	m.mono += 5;
	m.offset = T_2025 - m.mono;
	read_device(&m, keys, stamps, 2);
	assert_int_equal(age_of(&m, 0), 15);
	assert_true(m.wg.devices[0].peers[0].last_handshake > T_2025 - 60);
	assert_int_equal(state_of(&m, 0), VERDICT_PEER_UP);
	assert_int_equal(age_of(&m, 1), -1);
	assert_int_equal(m.wg.devices[0].peers[1].last_handshake, 0);
	machine_free(&m);
}

/* Reading two clocks is never exact, and NTP slews: offset changes under
 * a second move nothing. */
static void test_jitter_moves_nothing(void **state)
{
	const char *keys[] = {KEY_A};
	struct machine m;
	int64_t stamps[1];

	(void)state;
	machine_one_peer(&m, keys, stamps);
	read_device(&m, keys, stamps, 1);
	assert_int_equal(wgclock_apply(&m.clk, &m.wg, m.offset * NS + 999999000), 0);
	assert_int_equal(m.wg.devices[0].peers[0].last_handshake, stamps[0]);
	assert_int_equal(wgclock_apply(&m.clk, &m.wg, m.offset * NS - 999999000), 0);
	assert_int_equal(m.wg.devices[0].peers[0].last_handshake, stamps[0]);
	machine_free(&m);
}

/* Stamps no clock makes: moved without overflow, never to 0 ("never") or
 * before; an unmovable one is left as reported. */
static void test_extremes(void **state)
{
	const char *keys[] = {KEY_A, KEY_B};
	struct machine m;
	int64_t stamps[2] = {INT64_MAX - 5, 3};

	(void)state;
	machine_init(&m, T_2023, 5000);
	read_device(&m, keys, stamps, 2);
	m.offset += DAY;
	read_device(&m, keys, stamps, 2);
	assert_int_equal(m.wg.devices[0].peers[0].last_handshake, INT64_MAX - 5);
	assert_int_equal(m.wg.devices[0].peers[1].last_handshake, 3 + DAY);
	m.offset -= 2 * DAY;
	read_device(&m, keys, stamps, 2);
	assert_int_equal(m.wg.devices[0].peers[1].last_handshake, 1);
	assert_true(age_of(&m, 0) >= 0 && age_of(&m, 1) >= 0);
	/* Offsets far apart: the difference does not fit either. */
	read_device(&m, keys, stamps, 2);
	assert_int_equal(wgclock_apply(&m.clk, &m.wg, INT64_MIN), 0);
	assert_int_equal(wgclock_apply(&m.clk, &m.wg, INT64_MAX), 0);
	machine_free(&m);
}

/* Two devices of 2000 peers each, the same keys on both, a tenth of the
 * peers replaced and the clock a day forward between reads: every peer is
 * found by device and key; the replaced ones, new values, are as stamped. */
#define MANY 2000
static void test_many_peers(void **state)
{
	static char keys[MANY][WIREGUARD_KEY_B64_LEN + 1];
	struct wireguard_device devs[2];
	struct machine m;

	(void)state;
	machine_init(&m, T_2023, 5000);
	for (int i = 0; i < MANY; i++)
		snprintf(keys[i], sizeof(keys[i]), "%043d=", i);
	for (int round = 0; round < 2; round++) {
		memset(devs, 0, sizeof(devs));
		for (int d = 0; d < 2; d++) {
			snprintf(devs[d].name, sizeof(devs[d].name), "wg%d", d);
			/* Listed in another order each round; round 1 has the
			 * peers i % 10 == 0 new, just handshaken. */
			for (int k = 0; k < MANY; k++) {
				int i = round ? MANY - 1 - k : k;
				struct wireguard_peer *p = wireguard_device_add_peer(&devs[d]);

				assert_non_null(p);
				memcpy(p->public_key, keys[i], sizeof(p->public_key));
				if (round && i % 10 == 0)
					p->public_key[0] = 'n';
				p->last_handshake =
				    round && i % 10 == 0 ? wall(&m) - 2 : T_2023 - 100 - i % 50 - d;
			}
		}
		m.wg.devices = devs;
		m.wg.n_devices = 2;
		m.wg.collected_at = (time_t)wall(&m);
		assert_int_equal(wgclock_apply(&m.clk, &m.wg, m.offset * NS), 0);
		for (int d = 0; d < 2; d++) {
			for (int k = 0; k < MANY; k++) {
				int i = round ? MANY - 1 - k : k;
				int64_t want =
				    round && i % 10 == 0 ? 2 : 100 + i % 50 + d + 30 * round;

				assert_int_equal(
				    verdict_peer_age(&devs[d].peers[k], m.wg.collected_at), want);
			}
			wireguard_device_free(&devs[d]);
		}
		m.mono += 30;
		m.offset += DAY;
	}
	machine_free(&m);
}

/* The process's own state on the real clocks, which no test steps: the
 * offset holds still between reads and nothing is moved. */
static void test_process_unstepped(void **state)
{
	const char *keys[] = {KEY_A, KEY_B};
	int64_t stamps[2] = {T_2023, 0}, a = wgclock_offset_now(), b;
	struct machine m;

	(void)state;
	machine_init(&m, T_2023, 5000);
	for (int i = 0; i < 3; i++) {
		read_device(&m, keys, stamps, 2);
		assert_int_equal(wgclock_apply_process(&m.wg), 0);
		assert_int_equal(m.dev.peers[0].last_handshake, T_2023);
		assert_int_equal(m.dev.peers[1].last_handshake, 0);
	}
	b = wgclock_offset_now();
	assert_true(b - a < WGCLOCK_MIN_STEP_NS && a - b < WGCLOCK_MIN_STEP_NS);
	machine_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_back_one_hour),     cmocka_unit_test(test_forward_one_day),
	    cmocka_unit_test(test_1970_then_ntp),     cmocka_unit_test(test_jitter_moves_nothing),
	    cmocka_unit_test(test_extremes),          cmocka_unit_test(test_many_peers),
	    cmocka_unit_test(test_process_unstepped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
