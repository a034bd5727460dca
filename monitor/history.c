#include "monitor/history.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	float *ring; /* bucket b lives at ring[b % cap] */
};

struct history {
	double step; /* seconds */
	size_t cap;  /* points per series */
	size_t max_series;
	struct series *series;
	float *values;
};

struct history *history_new(uint64_t retention_ms, uint64_t interval_ms, size_t budget,
                            size_t max_series)
{
	struct history *h;
	size_t want, fit;
	uint64_t factor;

	if (!interval_ms || !max_series)
		return NULL;
	/* What a ring would hold at the poll interval, and what fits. */
	want = (size_t)((retention_ms + interval_ms - 1) / interval_ms);
	fit = (budget - (budget < max_series * sizeof(struct series)
	                     ? budget
	                     : max_series * sizeof(struct series))) /
	      max_series / sizeof(float);
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
		history_free(h);
		return NULL;
	}
	for (size_t i = 0; i < max_series; i++)
		h->series[i].ring = h->values + i * h->cap;
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	free(h->series);
	free(h->values);
	free(h);
}

double history_step_seconds(const struct history *h)
{
	return h->step;
}

size_t history_capacity(const struct history *h)
{
	return h->cap;
}

static struct series *find_series(const struct history *h, const char *name)
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

static struct series *get_series(struct history *h, const char *name, const char *label,
                                 int64_t bucket)
{
	struct series *s = find_series(h, name);

	if (!s) {
		for (size_t i = 0; i < h->max_series && !s; i++) {
			struct series *c = &h->series[i];

			/* A ring whose newest point has left the window is free. */
			if (!c->used || newest_bucket(c) + (int64_t)h->cap <= bucket)
				s = c;
		}
		if (!s)
			return NULL;
		float *ring = s->ring;

		memset(s, 0, sizeof(*s));
		s->ring = ring;
		s->used = true;
		s->last_bucket = -1;
		snprintf(s->name, sizeof(s->name), "%s", name);
	}
	snprintf(s->label, sizeof(s->label), "%s", label ? label : name);
	return s;
}

/* Stores the finished bucket and marks skipped buckets as gaps. */
static void flush(struct history *h, struct series *s)
{
	int64_t from;

	if (!s->count)
		return;
	from = s->last_bucket < 0 || s->open_bucket - s->last_bucket > (int64_t)h->cap
	           ? s->open_bucket - (int64_t)h->cap + 1
	           : s->last_bucket + 1;
	for (int64_t b = from; b < s->open_bucket; b++)
		s->ring[(size_t)(b % (int64_t)h->cap)] = NAN;
	s->ring[(size_t)(s->open_bucket % (int64_t)h->cap)] = (float)(s->sum / s->count);
	s->last_bucket = s->open_bucket;
	s->sum = 0;
	s->count = 0;
}

int history_add(struct history *h, const char *name, const char *label, double t, double value)
{
	int64_t bucket = (int64_t)(t / h->step);
	struct series *s;

	if (t < 0)
		return 0; /* Unix times before 1970 are a broken clock */
	s = get_series(h, name, label, bucket);

	if (!s)
		return -ENOSPC;
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
	s->sum += value;
	s->count++;
	return 0;
}

int history_add_counter(struct history *h, const char *name, const char *label, double t,
                        double counter)
{
	struct series *s = find_series(h, name);
	double rate = NAN;

	if (s && s->has_raw && t > s->raw_t && counter >= s->raw)
		rate = (counter - s->raw) / (t - s->raw_t);
	if (history_add(h, name, label, t, rate) < 0)
		return -ENOSPC;
	s = find_series(h, name);
	s->has_raw = true;
	s->raw = counter;
	s->raw_t = t;
	return 0;
}

/* ---- what gets recorded: one function per area --------------------------- */

static bool area_valid(const struct snapshot *snap, enum probe_id id)
{
	return snap->probes[id].status == PROBE_OK;
}

static void record_status(struct history *h, const struct verdict *verdict, double t)
{
	/* Plotted as severity (0 ok .. 3 critical) so that higher is worse. */
	history_add(h, "status", "overall status (0 ok, 1 warning, 2 unknown, 3 critical)", t,
	            verdict_severity(verdict->overall));
}

static void record_memory(struct history *h, const struct snapshot *snap, double t)
{
	if (!area_valid(snap, PROBE_MEMORY))
		return;
	history_add(h, "memory.used_bytes", "memory used (bytes)", t, (double)snap->memory.used);
	history_add(h, "memory.total_bytes", "memory total (bytes)", t, (double)snap->memory.total);
}

void history_record(struct history *h, const struct config *cfg, const struct snapshot *snap,
                    const struct verdict *verdict, double t)
{
	(void)cfg;
	record_status(h, verdict, t);
	record_memory(h, snap, t);
}

/* ---- output -------------------------------------------------------------- */

static struct json_object *series_json(const struct history *h, const struct series *s,
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
				v = s->sum / s->count;
			else if (i <= s->last_bucket && i > s->last_bucket - (int64_t)h->cap &&
			         i >= 0)
				v = s->ring[(size_t)(i % (int64_t)h->cap)];
			if (!isnan(v)) {
				sum += v;
				cnt++;
			}
		}
		json_object_array_add(values, cnt ? json_object_new_double(sum / cnt) : NULL);
	}
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "label", json_object_new_string(s->label));
	json_object_object_add(o, "start", json_object_new_double((double)oldest * h->step));
	json_object_object_add(o, "step", json_object_new_double(h->step * (double)per));
	json_object_object_add(o, "values", values);
	return o;
}

struct json_object *history_json(const struct history *h, const char *const *names, size_t n,
                                 size_t max_points)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *arr = json_object_new_array();

	json_object_object_add(doc, "step_seconds", json_object_new_double(h->step));
	json_object_object_add(doc, "capacity", json_object_new_uint64(h->cap));
	for (size_t i = 0; i < h->max_series; i++) {
		const struct series *s = &h->series[i];
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
			json_object_array_add(arr, series_json(h, s, max_points));
		}
	}
	json_object_object_add(doc, "series", arr);
	return doc;
}
