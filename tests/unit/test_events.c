/* monitor/events.c: the ring of state changes (order, the oldest giving
 * way, first sightings, cut summaries) and its JSON. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/events.h"

/* The i-th event of the JSON (newest first): its fields as text, "null"
 * for a null "from". */
struct seen {
	long long time;
	char check[CHECK_ID_MAX], from[16], to[16], summary[EVENTS_SUMMARY_MAX + 8];
};

static size_t seen_all(const struct events *ev, struct seen *out, size_t max)
{
	struct json_object *doc = events_json(ev), *list, *e, *v;
	size_t n;

	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "events", &list));
	n = json_object_array_length(list);
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		e = json_object_array_get_idx(list, i);
		assert_true(json_object_object_get_ex(e, "time", &v));
		out[i].time = (long long)json_object_get_int64(v);
		assert_true(json_object_object_get_ex(e, "check", &v));
		snprintf(out[i].check, sizeof(out[i].check), "%s", json_object_get_string(v));
		assert_true(json_object_object_get_ex(e, "from", &v));
		snprintf(out[i].from, sizeof(out[i].from), "%s",
		         v ? json_object_get_string(v) : "null");
		assert_true(json_object_object_get_ex(e, "to", &v));
		snprintf(out[i].to, sizeof(out[i].to), "%s", json_object_get_string(v));
		assert_true(json_object_object_get_ex(e, "summary", &v));
		snprintf(out[i].summary, sizeof(out[i].summary), "%s", json_object_get_string(v));
	}
	json_object_put(doc);
	return n;
}

static void set(struct verdict *v, size_t i, const char *id, enum check_status st,
                const char *summary)
{
	snprintf(v->checks[i].id, sizeof(v->checks[i].id), "%s", id);
	v->checks[i].status = st;
	snprintf(v->checks[i].summary, sizeof(v->checks[i].summary), "%s", summary);
	if (v->count <= i)
		v->count = i + 1;
}

static void test_empty(void **state)
{
	struct events *ev = events_new(EVENTS_MAX);
	struct seen s[1];
	char *text;
	size_t len = 0;

	(void)state;
	assert_int_equal(seen_all(ev, s, 1), 0);
	assert_int_equal(seen_all(NULL, s, 1), 0);
	text = events_reply(ev, &len);
	assert_string_equal(text, "{\"capacity\":100,\"events\":[]}");
	assert_int_equal(len, strlen(text));
	free(text);
	events_free(ev);
	events_free(NULL);
}

/* The first round records every check once, with no previous state; a
 * round without changes records nothing; a change records old and new. */
static void test_record_changes(void **state)
{
	struct verdict *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *none;
	struct events *ev = events_new(EVENTS_MAX);
	struct seen s[8];

	(void)state;
	none = calloc(1, sizeof(*none));
	set(a, 0, "firewall.masquerade", CHECK_OK, "MASQUERADE out of eth0");
	set(a, 1, "memory.available", CHECK_OK, "50% available");
	events_record(ev, none, a, 1000);
	assert_int_equal(events_count(ev), 2);
	events_record(ev, a, a, 1001);
	assert_int_equal(events_count(ev), 2);
	*b = *a;
	set(b, 0, "firewall.masquerade", CHECK_CRITICAL, "no MASQUERADE rule");
	events_record(ev, a, b, 1002);
	assert_int_equal(seen_all(ev, s, 8), 3);
	assert_int_equal(s[0].time, 1002);
	assert_string_equal(s[0].check, "firewall.masquerade");
	assert_string_equal(s[0].from, "ok");
	assert_string_equal(s[0].to, "critical");
	assert_string_equal(s[0].summary, "no MASQUERADE rule");
	assert_string_equal(s[1].check, "memory.available");
	assert_string_equal(s[1].from, "null");
	assert_string_equal(s[1].to, "ok");
	assert_string_equal(s[2].check, "firewall.masquerade");
	assert_int_equal(s[2].time, 1000);
	/* A NULL previous verdict is a first round too. */
	events_record(ev, NULL, b, 1003);
	assert_int_equal(events_count(ev), 5);
	free(a);
	free(b);
	free(none);
	events_free(ev);
}

/* Past the capacity the oldest change goes; the newest 100 stay, in
 * order. */
static void test_oldest_give_way(void **state)
{
	struct events *ev = events_new(EVENTS_MAX);
	struct seen *s = calloc(EVENTS_MAX + 1, sizeof(*s));
	char id[32];

	(void)state;
	for (int i = 0; i < 250; i++) {
		snprintf(id, sizeof(id), "check.%d", i);
		events_add(ev, 5000 + i, id, true, i % 2 ? CHECK_CRITICAL : CHECK_OK,
		           i % 2 ? CHECK_OK : CHECK_CRITICAL, "flap");
	}
	assert_int_equal(events_count(ev), EVENTS_MAX);
	assert_int_equal(seen_all(ev, s, EVENTS_MAX + 1), EVENTS_MAX);
	for (int i = 0; i < EVENTS_MAX; i++) {
		snprintf(id, sizeof(id), "check.%d", 249 - i);
		assert_string_equal(s[i].check, id);
		assert_int_equal(s[i].time, 5000 + 249 - i);
	}
	assert_string_equal(s[0].from, "critical");
	assert_string_equal(s[0].to, "ok");
	free(s);
	events_free(ev);
}

/* A long summary is cut at a character boundary and marked; the JSON stays
 * valid UTF-8 (json-c refuses nothing, but the page would show garbage). */
static void test_long_summary_cut(void **state)
{
	struct events *ev = events_new(3);
	char summary[CHECK_TEXT_MAX];
	struct seen s[1];
	size_t len;

	(void)state;
	/* "é" is two bytes: an odd offset puts a cut inside one. */
	memset(summary, 0, sizeof(summary));
	summary[0] = 'x';
	for (size_t i = 1; i + 2 < sizeof(summary); i += 2)
		memcpy(summary + i, "\xc3\xa9", 2);
	events_add(ev, 1, "gpu.temperature", true, CHECK_OK, CHECK_WARNING, summary);
	assert_int_equal(seen_all(ev, s, 1), 1);
	len = strlen(s[0].summary);
	assert_true(len < EVENTS_SUMMARY_MAX);
	assert_string_equal(s[0].summary + len - 3, "...");
	/* Before the mark: whole two-byte characters after the "x". */
	assert_int_equal((len - 3 - 1) % 2, 0);
	assert_int_equal((unsigned char)s[0].summary[len - 4], 0xa9);
	events_free(ev);
}

/* A ring of one keeps the last change; a capacity of 0 is taken as 1; the
 * footprint is what the ring allocates, fixed whatever is recorded. */
static void test_small_and_footprint(void **state)
{
	struct events *ev = events_new(0);
	struct seen s[2];

	(void)state;
	events_add(ev, 1, "a.one", false, CHECK_OK, CHECK_OK, "first");
	events_add(ev, 2, "a.two", true, CHECK_OK, CHECK_UNKNOWN, "second");
	assert_int_equal(seen_all(ev, s, 2), 1);
	assert_string_equal(s[0].check, "a.two");
	assert_string_equal(s[0].to, "unknown");
	assert_true(events_footprint(EVENTS_MAX) < 32 * 1024);
	assert_true(events_footprint(EVENTS_MAX) >= EVENTS_MAX * EVENTS_SUMMARY_MAX);
	events_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_record_changes),
	    cmocka_unit_test(test_oldest_give_way),
	    cmocka_unit_test(test_long_summary_cut),
	    cmocka_unit_test(test_small_and_footprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
