#include "monitor/events.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct event {
	double t;
	char id[CHECK_ID_MAX];
	bool known;
	enum check_status from, to;
	char summary[EVENTS_SUMMARY_MAX];
};

struct events {
	size_t cap, head, count; /* the newest entry is at (head + cap - 1) % cap */
	struct event e[];
};

size_t events_footprint(size_t capacity)
{
	return sizeof(struct events) + capacity * sizeof(struct event);
}

struct events *events_new(size_t capacity)
{
	struct events *ev;

	if (capacity < 1)
		capacity = 1;
	ev = calloc(1, events_footprint(capacity));
	if (ev)
		ev->cap = capacity;
	return ev;
}

void events_free(struct events *ev)
{
	free(ev);
}

size_t events_count(const struct events *ev)
{
	return ev ? ev->count : 0;
}

/* Copies text into a field, a cut marked with "..." (on a UTF-8 character
 * boundary, so that the JSON stays valid text). */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src), keep;

	if (len < size) {
		memcpy(dst, src, len + 1);
		return;
	}
	keep = size - 4;
	while (keep > 0 && ((unsigned char)src[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(dst, src, keep);
	memcpy(dst + keep, "...", 4);
}

void events_add(struct events *ev, double t, const char *id, bool known, enum check_status from,
                enum check_status to, const char *summary)
{
	struct event *e;

	if (!ev)
		return;
	e = &ev->e[ev->head];
	memset(e, 0, sizeof(*e));
	e->t = t;
	copy_cut(e->id, sizeof(e->id), id);
	e->known = known;
	e->from = from;
	e->to = to;
	copy_cut(e->summary, sizeof(e->summary), summary ? summary : "");
	ev->head = (ev->head + 1) % ev->cap;
	if (ev->count < ev->cap)
		ev->count++;
}

void events_record(struct events *ev, const struct verdict *old, const struct verdict *now,
                   double t)
{
	for (size_t i = 0; i < now->count; i++) {
		const struct check *c = &now->checks[i];
		const struct check *before = NULL;

		for (size_t j = 0; old && j < old->count && !before; j++)
			if (strcmp(old->checks[j].id, c->id) == 0)
				before = &old->checks[j];
		if (before && before->status == c->status)
			continue;
		events_add(ev, t, c->id, before != NULL, before ? before->status : CHECK_OK,
		           c->status, c->summary);
	}
}

static struct json_object *event_json(const struct event *e)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "time", json_object_new_int64((int64_t)e->t));
	json_object_object_add(o, "check", json_object_new_string(e->id));
	json_object_object_add(
	    o, "from", e->known ? json_object_new_string(verdict_status_lower(e->from)) : NULL);
	json_object_object_add(o, "to", json_object_new_string(verdict_status_lower(e->to)));
	json_object_object_add(o, "summary", json_object_new_string(e->summary));
	return o;
}

struct json_object *events_json(const struct events *ev)
{
	struct json_object *doc = json_object_new_object(), *list = json_object_new_array();
	size_t n = events_count(ev);

	if (!doc || !list) {
		json_object_put(doc);
		json_object_put(list);
		return NULL;
	}
	json_object_object_add(doc, "capacity", json_object_new_int64(ev ? (int64_t)ev->cap : 0));
	for (size_t i = 0; i < n; i++) {
		const struct event *e = &ev->e[(ev->head + ev->cap - 1 - i) % ev->cap];
		struct json_object *o = event_json(e);

		if (!o || json_object_array_add(list, o) < 0) {
			json_object_put(o);
			json_object_put(list);
			json_object_put(doc);
			return NULL;
		}
	}
	json_object_object_add(doc, "events", list);
	return doc;
}

char *events_reply(const struct events *ev, size_t *ret_len)
{
	struct json_object *obj = events_json(ev);
	char *doc =
	    obj ? strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN)) : NULL;

	json_object_put(obj);
	if (doc)
		*ret_len = strlen(doc);
	return doc;
}
