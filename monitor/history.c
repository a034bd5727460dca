#include "monitor/history.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bucket numbers stay far below INT64_MAX, so that sums of a bucket and a
 * ring's capacity never overflow. */
#define HISTORY_BUCKET_MAX 4e18

struct series {
	char name[HISTORY_NAME_MAX];
	char label[HISTORY_NAME_MAX];
	bool used;
	int64_t last_bucket; /* bucket of the newest stored point; -1 before any */
	double sum;          /* points of the bucket being filled */
	unsigned count;
	int64_t open_bucket;
	int64_t first_bucket; /* of the first point ever: replies start there */
	bool has_raw;         /* counters: the previous reading */
	double raw, raw_t;
	int64_t fed_bucket; /* of the last value given, a gap (NaN) included */
	bool worst;         /* a bucket keeps its highest value, not the mean */
	float *ring;        /* bucket b lives at ring[b % cap] */
};

/* Every series at one resolution. */
struct rings {
	double step; /* seconds */
	size_t cap;  /* points per series */
	size_t max_series;
	struct series *series;
	float *values;
};

/* Two resolutions of the same series: the last hour at the poll interval
 * (`fine`, absent when the retention is that short anyway) and the whole
 * retention averaged into at most HISTORY_POINTS points (`coarse`). A
 * reply carries at most that many points per series, so a finer ring over
 * 24 h would hold detail no reply shows: with 1000 peers the busiest
 * peers' series took 0.6 MiB resident at 5760 points each, 0.2 MiB now. */
struct history {
	struct rings *fine, *coarse;
};

static void rings_free(struct rings *h);

static size_t rings_footprint(const struct rings *h)
{
	return h ? sizeof(*h) + h->max_series * (sizeof(struct series) + h->cap * sizeof(float))
	         : 0;
}

static struct rings *rings_new(uint64_t retention_ms, uint64_t interval_ms, size_t budget,
                               size_t max_series)
{
	struct rings *h;
	size_t want, fit, fixed;
	uint64_t factor;

	if (!interval_ms || !max_series)
		return NULL;
	/* What a ring would hold at the poll interval, and what fits. */
	want = (size_t)((retention_ms + interval_ms - 1) / interval_ms);
	/* The budget covers everything allocated here (rings_footprint). */
	fixed = sizeof(struct rings) + max_series * sizeof(struct series);
	fit = budget > fixed ? (budget - fixed) / max_series / sizeof(float) : 0;
	if (fit < 2 || want < 1)
		return NULL;
	factor = (want + fit - 1) / fit; /* poll intervals per point */
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->step = (double)(interval_ms * factor) / 1000.0;
	h->cap = (size_t)((retention_ms + interval_ms * factor - 1) / (interval_ms * factor));
	if (h->cap < 2)
		h->cap = 2;
	h->max_series = max_series;
	h->series = calloc(max_series, sizeof(*h->series));
	h->values = malloc(max_series * h->cap * sizeof(float));
	if (!h->series || !h->values) {
		rings_free(h);
		return NULL;
	}
	for (size_t i = 0; i < max_series; i++)
		h->series[i].ring = h->values + i * h->cap;
	/* Every ring is written now (gaps), so the whole budget is resident
	 * from the start. Rings left untouched until their series first
	 * comes made the daemon's memory climb long after its start: peers
	 * enter and leave the busiest few, and each newcomer took a ring never used
	 * before until all had been, a ring's worth of pages each time. */
	for (size_t i = 0; i < max_series * h->cap; i++)
		h->values[i] = NAN;
	return h;
}

static void rings_free(struct rings *h)
{
	if (!h)
		return;
	free(h->series);
	free(h->values);
	free(h);
}

/* Bytes for max_series series of `points` points each. */
static size_t rings_budget_for(size_t max_series, size_t points)
{
	return sizeof(struct rings) + max_series * (sizeof(struct series) + points * sizeof(float));
}

struct history *history_new(uint64_t retention_ms, uint64_t interval_ms, size_t budget,
                            size_t max_series)
{
	struct history *h = calloc(1, sizeof(*h));
	size_t want = rings_budget_for(max_series, HISTORY_POINTS);

	if (!h || budget < sizeof(*h)) {
		free(h);
		return NULL;
	}
	budget -= sizeof(*h);
	if (retention_ms > HISTORY_FINE_MS && interval_ms < HISTORY_FINE_MS) {
		h->fine = rings_new(HISTORY_FINE_MS, interval_ms,
		                    budget / 2 < want ? budget / 2 : want, max_series);
		budget -= rings_footprint(h->fine);
	}
	h->coarse = rings_new(retention_ms, interval_ms, budget < want ? budget : want, max_series);
	if (!h->coarse) {
		history_free(h);
		return NULL;
	}
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	rings_free(h->fine);
	rings_free(h->coarse);
	free(h);
}

double history_step_seconds(const struct history *h)
{
	return h->coarse->step;
}

size_t history_capacity(const struct history *h)
{
	return h->coarse->cap;
}

static struct series *find_series(const struct rings *h, const char *name)
{
	for (size_t i = 0; i < h->max_series; i++)
		if (h->series[i].used && strcmp(h->series[i].name, name) == 0)
			return &h->series[i];
	return NULL;
}

/* The newest bucket the series has anything for. */
static int64_t newest_bucket(const struct series *s)
{
	return s->count ? s->open_bucket : s->last_bucket;
}

static struct series *get_series(struct rings *h, const char *name, const char *label,
                                 int64_t bucket, bool worst)
{
	struct series *s = find_series(h, name);

	if (!s) {
		bool found = false;

		for (size_t i = 0; i < h->max_series && !found; i++)
			if (!h->series[i].used) {
				s = &h->series[i];
				found = true;
			}
		/* All taken: the series fed longest ago gives its ring up, if
		 * it got nothing in this step (a peer that left the selection,
		 * a GPU that went away). */
		for (size_t i = 0; i < h->max_series && !found; i++) {
			struct series *c = &h->series[i];

			if (c->fed_bucket < bucket && (!s || c->fed_bucket < s->fed_bucket))
				s = c;
		}
		if (!s)
			return NULL;
		float *ring = s->ring;

		memset(s, 0, sizeof(*s));
		/* Gaps until points come: a ring handed over still holds
		 * its former series' points. */
		for (size_t i = 0; i < h->cap; i++)
			ring[i] = NAN;
		s->ring = ring;
		s->used = true;
		s->worst = worst;
		s->last_bucket = -1;
		snprintf(s->name, sizeof(s->name), "%s", name);
	}
	snprintf(s->label, sizeof(s->label), "%s", label ? label : name);
	return s;
}

/* What the bucket being filled stands for: its mean, or its highest value
 * for a series where a short spike is the point (the overall status: a
 * minute of CRITICAL among quiet polls must not average down to WARNING). */
static double bucket_value(const struct series *s)
{
	return s->worst ? s->sum : s->sum / s->count;
}

/* Stores the finished bucket and marks skipped buckets as gaps. */
static void flush(struct rings *h, struct series *s)
{
	int64_t from;

	if (!s->count)
		return;
	from = s->last_bucket < 0 || s->open_bucket - s->last_bucket > (int64_t)h->cap
	           ? s->open_bucket - (int64_t)h->cap + 1
	           : s->last_bucket + 1;
	/* No bucket comes before Unix time 0: a series first flushed within
	 * the retention after 1970 (a board without a real-time clock that
	 * has not synced yet) has fewer buckets behind it than the ring. */
	if (from < 0)
		from = 0;
	for (int64_t b = from; b < s->open_bucket; b++)
		s->ring[(size_t)(b % (int64_t)h->cap)] = NAN;
	s->ring[(size_t)(s->open_bucket % (int64_t)h->cap)] = (float)bucket_value(s);
	s->last_bucket = s->open_bucket;
	s->sum = 0;
	s->count = 0;
}

static int rings_add(struct rings *h, const char *name, const char *label, double t, double value,
                     bool worst)
{
	int64_t bucket;
	struct series *s;

	/* Unix times before 1970 are a broken clock; NaN, or times so far
	 * ahead that the bucket number would not fit, as well. */
	if (!(t >= 0 && t / h->step < HISTORY_BUCKET_MAX))
		return 0;
	bucket = (int64_t)(t / h->step);
	s = get_series(h, name, label, bucket, worst);

	if (!s)
		return -ENOSPC;
	if (bucket > s->fed_bucket)
		s->fed_bucket = bucket;
	if (isnan(value))
		return 0;
	if (s->count && bucket != s->open_bucket) {
		if (bucket < s->open_bucket)
			return 0; /* the clock stepped back: drop, do not rewrite */
		flush(h, s);
	}
	if (bucket <= s->last_bucket)
		return 0;
	if (s->last_bucket < 0 && !s->count)
		s->first_bucket = bucket;
	s->open_bucket = bucket;
	s->sum = s->worst ? (s->count && s->sum > value ? s->sum : value) : s->sum + value;
	s->count++;
	return 0;
}

int history_add(struct history *h, const char *name, const char *label, double t, double value)
{
	if (h->fine)
		rings_add(h->fine, name, label, t, value, false);
	return rings_add(h->coarse, name, label, t, value, false);
}

int history_add_worst(struct history *h, const char *name, const char *label, double t,
                      double value)
{
	if (h->fine)
		rings_add(h->fine, name, label, t, value, true);
	return rings_add(h->coarse, name, label, t, value, true);
}

static int rings_add_counter(struct rings *h, const char *name, const char *label, double t,
                             double counter)
{
	struct series *s = find_series(h, name);
	double rate = NAN;

	if (s && s->has_raw && t > s->raw_t && counter >= s->raw)
		rate = (counter - s->raw) / (t - s->raw_t);
	if (rings_add(h, name, label, t, rate, false) < 0)
		return -ENOSPC;
	s = find_series(h, name);
	s->has_raw = true;
	s->raw = counter;
	s->raw_t = t;
	return 0;
}

int history_add_counter(struct history *h, const char *name, const char *label, double t,
                        double counter)
{
	if (h->fine)
		rings_add_counter(h->fine, name, label, t, counter);
	return rings_add_counter(h->coarse, name, label, t, counter);
}

/* ---- what gets recorded: one function per area --------------------------- */

static bool area_valid(const struct snapshot *snap, enum probe_id id)
{
	return snap->probes[id].status == PROBE_OK;
}

static void record_status(struct history *h, const struct verdict *verdict, double t)
{
	/* Plotted as severity (0 ok .. 3 critical) so that higher is worse. */
	history_add_worst(h, "status", "overall status (0 ok, 1 warning, 2 unknown, 3 critical)", t,
	                  verdict_severity(verdict->overall));
}

static void record_memory(struct history *h, const struct snapshot *snap, double t)
{
	if (!area_valid(snap, PROBE_MEMORY))
		return;
	history_add(h, "memory.used_bytes", "memory used (bytes)", t, (double)snap->memory.used);
	history_add(h, "memory.total_bytes", "memory total (bytes)", t, (double)snap->memory.total);
}

/* Per GPU, by nvidia-smi's index (stable across reboots, unlike the order). */
static void record_gpu(struct history *h, const struct snapshot *snap, double t)
{
	char name[HISTORY_NAME_MAX], label[HISTORY_NAME_MAX];

	if (!area_valid(snap, PROBE_GPU))
		return;
	for (unsigned i = 0; i < snap->gpu.count; i++) {
		const struct gpu_device *d = &snap->gpu.devices[i];

		if (d->has_temperature) {
			snprintf(name, sizeof(name), "gpu.%u.temperature_celsius", d->index);
			snprintf(label, sizeof(label), "GPU %u temperature", d->index);
			history_add(h, name, label, t, d->temperature_c);
		}
		if (d->has_utilization_gpu) {
			snprintf(name, sizeof(name), "gpu.%u.utilization_ratio", d->index);
			snprintf(label, sizeof(label), "GPU %u utilization", d->index);
			history_add(h, name, label, t, d->utilization_gpu_pct / 100.0);
		}
	}
}

static bool configured_peer(const struct config *cfg, const char *public_key)
{
	for (uint32_t i = 0; i < cfg->n_peers; i++)
		if (strcmp(cfg->peers[i].public_key, public_key) == 0)
			return true;
	return false;
}

struct candidate {
	uint64_t bytes;
	const char *key;
	struct history_peer_ref ref;
};

static int busiest_first(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->key, y->key);
}

size_t history_select_peers(const struct config *cfg, const struct wireguard *wg, size_t busiest,
                            struct history_peer_ref *ret, size_t max)
{
	struct candidate *cand = NULL;
	size_t n = 0, total = 0, nc = 0;

	for (size_t d = 0; d < wg->n_devices; d++)
		total += wg->devices[d].n_peers;
	if (busiest && total)
		cand = malloc(total * sizeof(*cand));
	for (size_t d = 0; d < wg->n_devices; d++) {
		for (size_t p = 0; p < wg->devices[d].n_peers; p++) {
			const struct wireguard_peer *peer = &wg->devices[d].peers[p];
			struct history_peer_ref ref = {d, p};

			if (configured_peer(cfg, peer->public_key)) {
				if (n < max)
					ret[n++] = ref;
			} else if (cand) {
				cand[nc++] = (struct candidate){peer->rx_bytes + peer->tx_bytes,
				                                peer->public_key, ref};
			}
		}
	}
	/* Out of memory: only the configured peers, this round. */
	if (cand) {
		qsort(cand, nc, sizeof(*cand), busiest_first);
		for (size_t i = 0; i < nc && i < busiest && n < max; i++)
			ret[n++] = cand[i].ref;
	}
	free(cand);
	return n;
}

/* Rates are computed over the WireGuard probe's own collection times, so
 * that rounds published for other probes (same counters, later time) give
 * no false zero. */
static void record_wireguard(struct history *h, const struct config *cfg,
                             const struct snapshot *snap)
{
	const struct wireguard *wg = &snap->wireguard;
	size_t max = (size_t)cfg->n_peers + cfg->history_peers, n;
	struct history_peer_ref *refs;
	double t = (double)snap->probes[PROBE_WIREGUARD].collected_at;

	if (!area_valid(snap, PROBE_WIREGUARD) || !max)
		return;
	refs = malloc(max * sizeof(*refs));
	if (!refs)
		return;
	n = history_select_peers(cfg, wg, cfg->history_peers, refs, max);
	for (size_t i = 0; i < n; i++) {
		const struct wireguard_device *dev = &wg->devices[refs[i].device];
		const struct wireguard_peer *p = &dev->peers[refs[i].peer];
		char name[HISTORY_NAME_MAX], label[HISTORY_NAME_MAX], who[WIREGUARD_NAME_MAX];
		int64_t age = verdict_peer_age(p, wg->collected_at);

		if (p->name[0])
			snprintf(who, sizeof(who), "%s", p->name);
		else
			snprintf(who, sizeof(who), "%.8s…", p->public_key);
		snprintf(name, sizeof(name), "wg.%s.%s.rx_bytes_per_second", dev->name,
		         p->public_key);
		snprintf(label, sizeof(label), "%s received", who);
		history_add_counter(h, name, label, t, (double)p->rx_bytes);
		snprintf(name, sizeof(name), "wg.%s.%s.tx_bytes_per_second", dev->name,
		         p->public_key);
		snprintf(label, sizeof(label), "%s sent", who);
		history_add_counter(h, name, label, t, (double)p->tx_bytes);
		if (age >= 0) {
			snprintf(name, sizeof(name), "wg.%s.%s.handshake_age_seconds", dev->name,
			         p->public_key);
			snprintf(label, sizeof(label), "%s handshake age", who);
			history_add(h, name, label, t, (double)age);
		}
	}
	free(refs);
}

void history_record(struct history *h, const struct config *cfg, const struct snapshot *snap,
                    const struct verdict *verdict, double t)
{
	record_status(h, verdict, t);
	record_memory(h, snap, t);
	record_gpu(h, snap, t);
	record_wireguard(h, cfg, snap);
}

/* status, memory used and total, and a few spare for series to come. */
#define HISTORY_HEADLINE_SERIES 8

size_t history_series_for(const struct config *cfg)
{
	return HISTORY_HEADLINE_SERIES + 2 * GPU_MAX +
	       3 * ((size_t)cfg->n_peers + (size_t)cfg->history_peers);
}

size_t history_footprint(const struct history *h)
{
	return sizeof(*h) + rings_footprint(h->fine) + rings_footprint(h->coarse);
}

size_t history_series_count(const struct history *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->coarse->max_series; i++)
		n += h->coarse->series[i].used;
	return n;
}

/* ---- output -------------------------------------------------------------- */

static struct json_object *series_json(const struct rings *h, const struct series *s,
                                       size_t max_points)
{
	struct json_object *o = json_object_new_object();
	struct json_object *values = json_object_new_array();
	int64_t newest = newest_bucket(s), oldest = newest - (int64_t)h->cap + 1;
	size_t per = 1, n;

	if (s->last_bucket < 0 && !s->count)
		oldest = newest = 0;
	if (oldest < s->first_bucket)
		oldest = s->first_bucket;
	n = (size_t)(newest - oldest + 1);
	if (max_points && n > max_points)
		per = (n + max_points - 1) / max_points;
	/* Align groups on absolute buckets so a refresh does not shift them. */
	oldest -= oldest % (int64_t)per;
	for (int64_t b = oldest; b <= newest; b += (int64_t)per) {
		double sum = 0;
		unsigned cnt = 0;

		for (int64_t i = b; i < b + (int64_t)per && i <= newest; i++) {
			double v = NAN;

			if (i == s->open_bucket && s->count)
				v = bucket_value(s);
			else if (i <= s->last_bucket && i > s->last_bucket - (int64_t)h->cap &&
			         i >= 0)
				v = s->ring[(size_t)(i % (int64_t)h->cap)];
			if (!isnan(v)) {
				sum = s->worst ? (cnt && sum > v ? sum : v) : sum + v;
				cnt++;
			}
		}
		if (cnt && !s->worst)
			sum /= cnt;
		json_object_array_add(values, cnt ? json_object_new_double(sum) : NULL);
	}
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "label", json_object_new_string(s->label));
	json_object_object_add(o, "start", json_object_new_double((double)oldest * h->step));
	json_object_object_add(o, "step", json_object_new_double(h->step * (double)per));
	json_object_object_add(o, "values", values);
	return o;
}

/* The fine ring while it still holds everything the series has, so that
 * the first hour is plotted at the poll interval; the coarse one after. */
static struct json_object *best_series_json(const struct history *h, const struct series *s,
                                            size_t max_points)
{
	const struct series *f = h->fine ? find_series(h->fine, s->name) : NULL;

	if (f && (f->last_bucket >= 0 || f->count) &&
	    newest_bucket(f) - f->first_bucket < (int64_t)h->fine->cap)
		return series_json(h->fine, f, max_points);
	return series_json(h->coarse, s, max_points);
}

struct json_object *history_json(const struct history *h, const char *const *names, size_t n,
                                 size_t max_points)
{
	const struct rings *c = h->coarse;
	struct json_object *doc = json_object_new_object();
	struct json_object *arr = json_object_new_array();

	json_object_object_add(doc, "step_seconds", json_object_new_double(c->step));
	json_object_object_add(doc, "capacity", json_object_new_uint64(c->cap));
	for (size_t i = 0; i < c->max_series; i++) {
		const struct series *s = &c->series[i];
		bool want = n == 0;

		if (!s->used)
			continue;
		for (size_t j = 0; j < n && !want; j++)
			want = strcmp(names[j], s->name) == 0;
		if (!want)
			continue;
		if (n == 0) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(s->name));
			json_object_object_add(o, "label", json_object_new_string(s->label));
			json_object_array_add(arr, o);
		} else {
			json_object_array_add(arr, best_series_json(h, s, max_points));
		}
	}
	json_object_object_add(doc, "series", arr);
	return doc;
}

char *history_reply(const struct history *h, const char *series, size_t max_points, size_t *ret_len)
{
	const char *names[HISTORY_QUERY_MAX];
	char *copy = series ? strdup(series) : NULL, *save = NULL, *doc = NULL;
	struct json_object *obj;
	size_t n = 0;

	if (series && !copy)
		return NULL;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && n < HISTORY_QUERY_MAX;
	     tok = strtok_r(NULL, ",", &save))
		names[n++] = tok;
	obj = history_json(h, names, n, max_points);
	if (obj)
		doc = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
	free(copy);
	if (doc)
		*ret_len = strlen(doc);
	return doc;
}
