/* monitor/history.c: the rings (sizing under the budget, gaps, averaging
 * into steps, counters as rates, rings handed over, all resident from
 * the start), the choice of peers that get series, and the budget with a
 * thousand peers. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/history.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"

#define MIB (1024 * 1024)

/* The values of one series as history_json gives them; NAN for null. */
static size_t values_of(const struct history *h, const char *name, size_t max_points, double *out,
                        size_t max, double *ret_start, double *ret_step)
{
	const char *names[] = {name};
	struct json_object *doc = history_json(h, names, 1, max_points), *arr, *s, *vals, *v;
	size_t n;

	assert_true(json_object_object_get_ex(doc, "series", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	s = json_object_array_get_idx(arr, 0);
	assert_true(json_object_object_get_ex(s, "values", &vals));
	n = json_object_array_length(vals);
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		v = json_object_array_get_idx(vals, i);
		out[i] = v ? json_object_get_double(v) : NAN;
	}
	if (ret_start) {
		assert_true(json_object_object_get_ex(s, "start", &v));
		*ret_start = json_object_get_double(v);
	}
	if (ret_step) {
		assert_true(json_object_object_get_ex(s, "step", &v));
		*ret_step = json_object_get_double(v);
	}
	json_object_put(doc);
	return n;
}

static bool has_series(const struct history *h, const char *name)
{
	struct json_object *doc = history_json(h, NULL, 0, 0), *arr, *name_obj;
	bool found = false;

	assert_true(json_object_object_get_ex(doc, "series", &arr));
	for (size_t i = 0; i < json_object_array_length(arr) && !found; i++) {
		assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, i), "name",
		                                      &name_obj));
		found = strcmp(json_object_get_string(name_obj), name) == 0;
	}
	json_object_put(doc);
	return found;
}

/* 24 h at 5 s is more points than a reply carries: points are averaged
 * into wider steps, the ring still spans the retention, and nothing
 * allocated goes beyond the budget. */
static void test_sizing(void **state)
{
	struct history *h = history_new(86400000, 5000, 2 * MIB, 64);

	(void)state;
	assert_non_null(h);
	assert_true(history_step_seconds(h) > 5.0);
	assert_true((long)history_step_seconds(h) % 5 == 0);
	assert_true(history_capacity(h) * history_step_seconds(h) >= 86400.0);
	assert_true(history_footprint(h) <= 2 * MIB);
	history_free(h);

	/* Plenty of room: one point per poll interval. */
	h = history_new(3600000, 5000, 2 * MIB, 4);
	assert_non_null(h);
	assert_true(history_step_seconds(h) == 5.0);
	assert_int_equal(history_capacity(h), 720);
	history_free(h);

	/* Not even two points per series: refused, not overrun. */
	assert_null(history_new(86400000, 5000, 64 * 1024, 10000));
}

static void test_gaps_and_averaging(void **state)
{
	struct history *h = history_new(100000, 10000, 64 * 1024, 2); /* 10 points of 10 s */
	double v[32], start, step;
	size_t n;

	(void)state;
	assert_non_null(h);
	assert_int_equal(history_capacity(h), 10);
	/* Two values in one step are averaged; step 1002 gets nothing. */
	assert_int_equal(history_add(h, "a", NULL, 10000.0, 1.0), 0);
	assert_int_equal(history_add(h, "a", NULL, 10005.0, 3.0), 0);
	assert_int_equal(history_add(h, "a", NULL, 10010.0, 5.0), 0);
	assert_int_equal(history_add(h, "a", NULL, 10030.0, 7.0), 0);
	n = values_of(h, "a", 0, v, 32, &start, &step);
	assert_int_equal(n, 4);
	assert_true(start == 10000.0 && step == 10.0);
	assert_true(v[0] == 2.0 && v[1] == 5.0 && isnan(v[2]) && v[3] == 7.0);
	/* The clock going back is dropped, not written over the past. */
	assert_int_equal(history_add(h, "a", NULL, 10000.0, 100.0), 0);
	n = values_of(h, "a", 0, v, 32, NULL, NULL);
	assert_true(v[0] == 2.0);
	/* Past the retention the ring wraps: only the last 10 steps remain. */
	for (int i = 0; i < 30; i++)
		assert_int_equal(history_add(h, "a", NULL, 10040.0 + 10.0 * i, (double)i), 0);
	n = values_of(h, "a", 0, v, 32, &start, NULL);
	assert_int_equal(n, 10);
	assert_true(start == 10040.0 + 10.0 * 20);
	assert_true(v[0] == 20.0 && v[9] == 29.0);
	/* Fewer points asked for: neighbours averaged, groups on whole steps
	 * (the values 20..29 at 10240..10330 in pairs from 10240). */
	n = values_of(h, "a", 5, v, 32, &start, &step);
	assert_int_equal(n, 5);
	assert_true(step == 20.0 && start == 10240.0);
	assert_true(v[0] == 20.5 && v[1] == 22.5 && v[2] == 24.5 && v[3] == 26.5 && v[4] == 28.5);
	history_free(h);
}

/* A board without a real-time clock starts near 1970: the first points
 * fall within the retention after Unix time 0, where fewer buckets lie
 * behind them than the ring holds. They are stored in the ring, never
 * before it, and read back as they were. */
static void test_start_near_1970(void **state)
{
	struct history *h = history_new(100000, 10000, 64 * 1024, 2); /* 10 points of 10 s */
	double v[32], start;
	size_t n;

	(void)state;
	assert_non_null(h);
	assert_int_equal(history_add(h, "a", NULL, 30.0, 1.0), 0);
	assert_int_equal(history_add(h, "a", NULL, 40.0, 2.0), 0);
	assert_int_equal(history_add(h, "a", NULL, 60.0, 4.0), 0);
	n = values_of(h, "a", 0, v, 32, &start, NULL);
	assert_int_equal(n, 4);
	assert_true(start == 30.0);
	assert_true(v[0] == 1.0 && v[1] == 2.0 && isnan(v[2]) && v[3] == 4.0);
	/* Bucket 0 itself, and a series whose first flush is at bucket 1. */
	assert_int_equal(history_add(h, "b", NULL, 0.0, 5.0), 0);
	assert_int_equal(history_add(h, "b", NULL, 10.0, 6.0), 0);
	assert_int_equal(history_add(h, "b", NULL, 20.0, 7.0), 0);
	n = values_of(h, "b", 0, v, 32, &start, NULL);
	assert_int_equal(n, 3);
	assert_true(start == 0.0 && v[0] == 5.0 && v[1] == 6.0 && v[2] == 7.0);
	/* Times that are no Unix time are dropped. */
	assert_int_equal(history_add(h, "b", NULL, NAN, 1.0), 0);
	assert_int_equal(history_add(h, "b", NULL, 1e300, 1.0), 0);
	assert_int_equal(history_add(h, "b", NULL, -5.0, 1.0), 0);
	n = values_of(h, "b", 0, v, 32, &start, NULL);
	assert_int_equal(n, 3);
	assert_true(v[2] == 7.0);
	history_free(h);
}

/* The query of /api/history: a comma-separated list, empty names and
 * unknown ones skipped; no list gives every series' name without values. */
static void test_reply_to_query(void **state)
{
	struct history *h = history_new(100000, 10000, 64 * 1024, 4);
	char *doc, many[HISTORY_QUERY_MAX * 3 + 8] = "";
	size_t len = 0;

	(void)state;
	assert_non_null(h);
	assert_int_equal(history_add(h, "a", "A", 10000.0, 1.0), 0);
	assert_int_equal(history_add(h, "b", "B", 10000.0, 2.0), 0);
	doc = history_reply(h, ",b,,nope,a,", 0, &len);
	assert_non_null(doc);
	assert_int_equal(len, strlen(doc));
	assert_non_null(strstr(doc, "\"name\":\"a\""));
	assert_non_null(strstr(doc, "\"name\":\"b\""));
	assert_non_null(strstr(doc, "\"values\":[2.0]"));
	free(doc);
	doc = history_reply(h, NULL, 0, &len);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "\"label\":\"A\""));
	assert_null(strstr(doc, "values"));
	free(doc);
	/* Past HISTORY_QUERY_MAX names the rest is ignored. */
	for (int i = 0; i < HISTORY_QUERY_MAX; i++)
		strcat(many, "x,");
	strcat(many, "a");
	doc = history_reply(h, many, 0, &len);
	assert_non_null(doc);
	assert_null(strstr(doc, "\"name\":\"a\""));
	free(doc);
	doc = history_reply(h, "", 0, &len);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "\"name\":\"a\""));
	free(doc);
	history_free(h);
}

/* A reply's values: fewer than HISTORY_POINTS, each NAN or within
 * [lo, hi], the series' start where the caller expects it or later. */
static size_t check_reply(const struct history *h, const char *name, double lo, double hi,
                          double min_start, double *v, double *ret_start)
{
	double step;
	size_t n = values_of(h, name, HISTORY_POINTS, v, HISTORY_POINTS, ret_start, &step);

	assert_true(n >= 1 && n <= HISTORY_POINTS);
	assert_true(*ret_start >= min_start);
	for (size_t i = 0; i < n; i++)
		assert_true(isnan(v[i]) || (v[i] >= lo && v[i] <= hi));
	return n;
}

/* The wall clock stepped back an hour, then forward a day, while points
 * come every 5 s: points from the past are dropped (nothing is written
 * over what was stored), the day forward leaves only what the retention
 * holds, and every reply stays in bounds and in order. */
static void test_clock_steps(void **state)
{
	struct history *h = history_new(86400000, 5000, 2 * MIB, 4);
	static double v[HISTORY_POINTS];
	double t0 = 1700000000.0, start, last;
	size_t n, before;

	(void)state;
	assert_non_null(h);
	for (int i = 0; i < 360; i++) /* 30 min at value 1 */
		assert_int_equal(history_add(h, "a", NULL, t0 + 5.0 * i, 1.0), 0);
	before = check_reply(h, "a", 1.0, 1.0, t0 - 1, v, &start);
	last = t0 + 5.0 * 359;
	/* Back an hour: 30 min of points (value 2) all older than the newest. */
	for (int i = 0; i < 360; i++)
		assert_int_equal(history_add(h, "a", NULL, last - 3600.0 + 5.0 * i, 2.0), 0);
	n = check_reply(h, "a", 1.0, 1.0, t0 - 1, v, &start);
	assert_int_equal(n, before);
	assert_true(start == t0);
	/* The clock catches up: points are stored again after the newest. */
	for (int i = 1; i <= 12; i++)
		assert_int_equal(history_add(h, "a", NULL, last + 5.0 * i, 3.0), 0);
	n = check_reply(h, "a", 1.0, 3.0, t0 - 1, v, &start);
	assert_true(v[n - 1] == 3.0 && v[0] == 1.0);
	/* Forward a day: the old points are out of the retention. */
	last += 60.0 + 86400.0;
	for (int i = 0; i < 12; i++)
		assert_int_equal(history_add(h, "a", NULL, last + 5.0 * i, 4.0), 0);
	assert_int_equal(history_add(h, "a", NULL, last + 3600.0, 4.0), 0);
	n = check_reply(h, "a", 4.0, 4.0, last + 3600.0 - 86400.0 - history_step_seconds(h), v,
	                &start);
	assert_true(v[n - 1] == 4.0);
	history_free(h);
}

/* A board without a real-time clock boots at 1970 and NTP moves it to
 * today: the 1970 points stay in bounds, then give way to today's; the
 * reply never spans the 54 years between. */
static void test_clock_1970_then_ntp(void **state)
{
	struct history *h = history_new(86400000, 5000, 2 * MIB, 4);
	static double v[HISTORY_POINTS];
	double now = 1760000000.0, start;
	size_t n;

	(void)state;
	assert_non_null(h);
	for (int i = 0; i < 120; i++) /* 10 min from the epoch */
		assert_int_equal(history_add(h, "a", NULL, 5.0 * i, 1.0), 0);
	assert_int_equal(history_add_counter(h, "c", NULL, 5.0, 100.0), 0);
	assert_int_equal(history_add_counter(h, "c", NULL, 10.0, 200.0), 0);
	n = check_reply(h, "a", 1.0, 1.0, 0.0, v, &start);
	assert_int_equal(n, 120);
	assert_true(start == 0.0);
	for (int i = 0; i < 120; i++) /* NTP syncs: 10 min of today */
		assert_int_equal(history_add(h, "a", NULL, now + 5.0 * i, 2.0), 0);
	assert_int_equal(history_add_counter(h, "c", NULL, now, 300.0), 0);
	assert_int_equal(history_add_counter(h, "c", NULL, now + 5.0, 800.0), 0);
	n = check_reply(h, "a", 2.0, 2.0, now - 86400.0 - history_step_seconds(h), v, &start);
	assert_true(v[n - 1] == 2.0);
	/* The counter's rate across the jump is spread over 54 years: a
	 * near-zero point, never a spike; then the real rate. */
	check_reply(h, "c", 0.0, 100.0, now - 86400.0 - history_step_seconds(h), v, &start);
	history_free(h);
}

/* The first hour comes at the poll interval; once a series is older than
 * that, its reply is the whole retention in wider steps. Either way a
 * reply has at most HISTORY_POINTS points, and the two rings together stay
 * far below the budget (memory does not scale with the retention). */
static void test_two_resolutions(void **state)
{
	struct history *h = history_new(86400000, 5000, 2 * MIB, 64);
	static double v[HISTORY_POINTS + 1];
	double start, step, t0 = 1700000000.0;
	size_t n;

	(void)state;
	assert_non_null(h);
	assert_true(history_footprint(h) <= 64 * 2 * (HISTORY_POINTS * sizeof(float) + 512));
	for (int i = 0; i < 360; i++) /* 30 min every 5 s */
		assert_int_equal(history_add(h, "a", NULL, t0 + 5.0 * i, (double)i), 0);
	n = values_of(h, "a", 0, v, HISTORY_POINTS, &start, &step);
	assert_true(step == 5.0);
	assert_int_equal(n, 360);
	assert_true(start == t0 && v[0] == 0.0 && v[359] == 359.0);
	for (int i = 360; i < 1440; i++) /* 2 h in all */
		assert_int_equal(history_add(h, "a", NULL, t0 + 5.0 * i, (double)i), 0);
	n = values_of(h, "a", 0, v, HISTORY_POINTS, &start, &step);
	assert_true(step == history_step_seconds(h) && step > 5.0);
	assert_true(start <= t0 && start + step * (double)n >= t0 + 5.0 * 1439);
	/* Each point is the average of the 5 s points its step covers (point
	 * i was the value i at t0 + 5 i); a step with none is null. */
	for (size_t j = 0; j < n; j++) {
		double from = start + step * (double)j, sum = 0, count = 0;

		for (int i = 0; i < 1440; i++) {
			double t = t0 + 5.0 * i;

			if (t >= from && t < from + step) {
				sum += i;
				count++;
			}
		}
		if (count == 0 ? !isnan(v[j]) : fabs(v[j] - sum / count) > 1e-3)
			fail_msg("point %zu (from %.0f, step %.0f s): %g, expected %g", j, from,
			         step, v[j], count ? sum / count : NAN);
	}
	history_free(h);
}

static void test_counter_rate(void **state)
{
	struct history *h = history_new(100000, 10000, 64 * 1024, 2);
	double v[16];
	size_t n;

	(void)state;
	assert_non_null(h);
	assert_int_equal(history_add_counter(h, "c", NULL, 1000.0, 100.0), 0);
	assert_int_equal(history_add_counter(h, "c", NULL, 1010.0, 1100.0), 0); /* 100/s */
	assert_int_equal(history_add_counter(h, "c", NULL, 1020.0, 50.0), 0);   /* reset */
	assert_int_equal(history_add_counter(h, "c", NULL, 1030.0, 250.0), 0);  /* 20/s */
	/* The same reading again (another probe's round) gives no point. */
	assert_int_equal(history_add_counter(h, "c", NULL, 1030.0, 250.0), 0);
	n = values_of(h, "c", 0, v, 16, NULL, NULL);
	assert_int_equal(n, 3);
	assert_true(v[0] == 100.0 && isnan(v[1]) && v[2] == 20.0);
	history_free(h);
}

/* With every ring taken, a new series gets the ring of the one fed longest
 * ago, never one fed in the current step. */
static void test_ring_handover(void **state)
{
	struct history *h = history_new(100000, 10000, 64 * 1024, 2);

	(void)state;
	assert_non_null(h);
	assert_int_equal(history_add(h, "old", NULL, 1000.0, 1.0), 0);
	assert_int_equal(history_add(h, "kept", NULL, 1010.0, 1.0), 0);
	assert_int_equal(history_add(h, "new", NULL, 1010.0, 1.0), 0);
	assert_false(has_series(h, "old"));
	assert_true(has_series(h, "kept") && has_series(h, "new"));
	assert_int_equal(history_series_count(h), 2);
	/* Both fed in this step: nothing to give. */
	assert_int_equal(history_add(h, "third", NULL, 1015.0, 1.0), -ENOSPC);
	assert_int_equal(history_add(h, "kept", NULL, 1015.0, 2.0), 0);
	history_free(h);
}

static struct config *config_with_peers(uint32_t busiest)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	config_defaults(cfg);
	cfg->history_peers = busiest;
	return cfg;
}

static void make_key(char out[WIREGUARD_KEY_B64_LEN + 1], unsigned i)
{
	snprintf(out, WIREGUARD_KEY_B64_LEN + 1, "%06uAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", i);
}

/* One device with n peers; peer i moved bytes[i % nb] bytes. */
static void make_wireguard(struct wireguard *wg, unsigned n, const uint64_t *bytes, size_t nb)
{
	struct wireguard_device *dev;

	memset(wg, 0, sizeof(*wg));
	wg->devices = calloc(1, sizeof(*wg->devices));
	assert_non_null(wg->devices);
	wg->n_devices = 1;
	dev = &wg->devices[0];
	snprintf(dev->name, sizeof(dev->name), "wg0");
	for (unsigned i = 0; i < n; i++) {
		struct wireguard_peer *p = wireguard_device_add_peer(dev);

		assert_non_null(p);
		make_key(p->public_key, i);
		p->rx_bytes = bytes[i % nb];
		p->tx_bytes = bytes[i % nb] / 2;
		p->last_handshake = 1700000000 - 10;
	}
	wg->collected_at = 1700000000;
}

static void test_select_peers(void **state)
{
	static const uint64_t bytes[] = {5, 900, 40, 900, 7000, 0};
	struct config *cfg = config_with_peers(3);
	struct history_peer_ref refs[16];
	struct wireguard wg;
	size_t n;

	(void)state;
	make_wireguard(&wg, 6, bytes, 6);
	/* Peer 0 (least busy) and 5 (idle) are configured: always chosen. */
	snprintf(cfg->peers[0].name, sizeof(cfg->peers[0].name), "laptop");
	make_key(cfg->peers[0].public_key, 0);
	snprintf(cfg->peers[1].name, sizeof(cfg->peers[1].name), "phone");
	make_key(cfg->peers[1].public_key, 5);
	cfg->peers[1].required = true;
	cfg->n_peers = 2;
	n = history_select_peers(cfg, &wg, 3, refs, 16);
	assert_int_equal(n, 5);
	assert_int_equal(refs[0].peer, 0);
	assert_int_equal(refs[1].peer, 5);
	/* Then the busiest: 4 (7000), then 1 and 3 (900 each, by key). */
	assert_int_equal(refs[2].peer, 4);
	assert_int_equal(refs[3].peer, 1);
	assert_int_equal(refs[4].peer, 3);
	/* None busiest asked for: only the configured ones. */
	assert_int_equal(history_select_peers(cfg, &wg, 0, refs, 16), 2);
	/* The room given is respected. */
	assert_int_equal(history_select_peers(cfg, &wg, 3, refs, 3), 3);
	wireguard_free(&wg);
	free(cfg);
}

/* A thousand peers: only the configured and the busiest five get series,
 * and the history stays within its 2 MiB however many rounds pass. */
static void test_thousand_peers(void **state)
{
	uint64_t bytes[1000];
	struct config *cfg = config_with_peers(5);
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct verdict *verdict = calloc(1, sizeof(*verdict));
	struct history *h;
	char name[HISTORY_NAME_MAX], key[WIREGUARD_KEY_B64_LEN + 1];
	double v[256];
	size_t n;

	(void)state;
	assert_non_null(snap);
	assert_non_null(verdict);
	for (unsigned i = 0; i < 1000; i++)
		bytes[i] = (uint64_t)i * 1000; /* 999 is the busiest */
	snprintf(cfg->peers[0].name, sizeof(cfg->peers[0].name), "laptop");
	make_key(cfg->peers[0].public_key, 3);
	cfg->n_peers = 1;
	cfg->history_memory = 2 * MIB;
	h = history_new(cfg->history_retention_ms, cfg->interval_ms, (size_t)cfg->history_memory,
	                history_series_for(cfg));
	assert_non_null(h);
	assert_true(history_footprint(h) <= 2 * MIB);
	make_wireguard(&snap->wireguard, 1000, bytes, 1000);
	snap->probes[PROBE_WIREGUARD].status = PROBE_OK;
	snap->probes[PROBE_MEMORY].status = PROBE_OK;
	snap->memory.total = 1000;
	snap->memory.used = 400;
	snap->probes[PROBE_GPU].status = PROBE_OK;
	snap->gpu.count = 2;
	for (unsigned g = 0; g < 2; g++) {
		snap->gpu.devices[g].index = g;
		snap->gpu.devices[g].has_temperature = true;
		snap->gpu.devices[g].temperature_c = 40 + g;
		snap->gpu.devices[g].has_utilization_gpu = true;
		snap->gpu.devices[g].utilization_gpu_pct = 50;
	}
	for (int round = 0; round < 200; round++) {
		double t = 1700000000.0 + 5.0 * round;

		snap->probes[PROBE_WIREGUARD].collected_at = (time_t)t;
		for (size_t i = 0; i < snap->wireguard.devices[0].n_peers; i++)
			snap->wireguard.devices[0].peers[i].rx_bytes += 1000 * i;
		history_record(h, cfg, snap, verdict, t);
	}
	/* status, memory used and total, 2 × 2 GPU, 6 peers × 3. */
	assert_int_equal(history_series_count(h), 3 + 4 + 6 * 3);
	make_key(key, 3);
	snprintf(name, sizeof(name), "wg.wg0.%s.rx_bytes_per_second", key);
	assert_true(has_series(h, name));
	make_key(key, 999);
	snprintf(name, sizeof(name), "wg.wg0.%s.tx_bytes_per_second", key);
	assert_true(has_series(h, name));
	make_key(key, 994);
	snprintf(name, sizeof(name), "wg.wg0.%s.rx_bytes_per_second", key);
	assert_false(has_series(h, name));
	assert_true(has_series(h, "gpu.1.temperature_celsius"));
	assert_true(has_series(h, "gpu.0.utilization_ratio"));
	/* Peer 999 receives 999000 bytes per 5 s round. */
	make_key(key, 999);
	snprintf(name, sizeof(name), "wg.wg0.%s.rx_bytes_per_second", key);
	n = values_of(h, name, 0, v, 256, NULL, NULL);
	assert_true(n >= 50);
	for (size_t i = 0; i < n; i++)
		assert_true(isnan(v[i]) || (v[i] > 199799.0 && v[i] < 199801.0));
	assert_false(isnan(v[n - 1]));
	assert_true(history_footprint(h) <= 2 * MIB);
	history_free(h);
	wireguard_free(&snap->wireguard);
	free(snap);
	free(verdict);
	free(cfg);
}

/* The resident size of this process, in KiB. */
static long resident_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, resident = -1;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The whole budget is resident from the start: series that come later
 * (peers entering the busiest few) take rings already in memory, so the
 * daemon's memory does not climb while each ring gets its first series. */
static void test_rings_resident_from_start(void **state)
{
	/* Two resolutions of 720 points for 1000 series: 5.5 MiB of rings. */
	struct history *h = history_new(86400000, 1000, 16 * MIB, 1000);
	char name[HISTORY_NAME_MAX];
	long before;

	(void)state;
	assert_non_null(h);
	assert_true(history_footprint(h) > 5 * MIB);
	before = resident_kib();
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "peer.%u", i);
		assert_int_equal(history_add(h, name, NULL, 1700000000.0, i), 0);
	}
	assert_int_equal(history_series_count(h), 1000);
	assert_true(resident_kib() - before < 256);
	history_free(h);
}

/* The overall status keeps the worst of each step, also when neighbours
 * are merged to fit a reply: ten seconds of CRITICAL among OK polls stay
 * CRITICAL in the plot at every zoom, where a mean would show a warning. */
static void test_status_keeps_worst(void **state)
{
	struct config *cfg = config_with_peers(0);
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct verdict *verdict = calloc(1, sizeof(*verdict));
	struct history *h = history_new(100000, 10000, 64 * 1024, 8); /* 10 points of 10 s */
	const enum check_status seq[] = {CHECK_OK,      CHECK_CRITICAL, CHECK_WARNING, CHECK_OK,
	                                 CHECK_WARNING, CHECK_OK,       CHECK_OK,      CHECK_OK};
	double v[32];
	size_t n;

	(void)state;
	assert_non_null(h);
	assert_non_null(snap);
	assert_non_null(verdict);
	/* Two polls a step: steps hold (OK, CRITICAL), (WARNING, OK),
	 * (WARNING, OK), (OK, OK); the last one still open. */
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		verdict->overall = seq[i];
		history_record(h, cfg, snap, verdict, 10000.0 + 5.0 * (double)i);
	}
	n = values_of(h, "status", 0, v, 32, NULL, NULL);
	assert_int_equal(n, 4);
	assert_true(v[0] == 3.0 && v[1] == 1.0 && v[2] == 1.0 && v[3] == 0.0);
	/* Merged in pairs: (CRITICAL, WARNING) and (WARNING, OK). */
	n = values_of(h, "status", 2, v, 32, NULL, NULL);
	assert_int_equal(n, 2);
	assert_true(v[0] == 3.0 && v[1] == 1.0);
	/* An open step whose worst came first keeps it. */
	verdict->overall = CHECK_UNKNOWN;
	history_record(h, cfg, snap, verdict, 10040.0);
	verdict->overall = CHECK_OK;
	history_record(h, cfg, snap, verdict, 10045.0);
	n = values_of(h, "status", 0, v, 32, NULL, NULL);
	assert_int_equal(n, 5);
	assert_true(v[4] == 2.0);
	history_free(h);
	free(snap);
	free(verdict);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizing),
	    cmocka_unit_test(test_gaps_and_averaging),
	    cmocka_unit_test(test_status_keeps_worst),
	    cmocka_unit_test(test_counter_rate),
	    cmocka_unit_test(test_ring_handover),
	    cmocka_unit_test(test_select_peers),
	    cmocka_unit_test(test_thousand_peers),
	    cmocka_unit_test(test_rings_resident_from_start),
	    cmocka_unit_test(test_two_resolutions),
	    cmocka_unit_test(test_start_near_1970),
	    cmocka_unit_test(test_reply_to_query),
	    cmocka_unit_test(test_clock_steps),
	    cmocka_unit_test(test_clock_1970_then_ntp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
