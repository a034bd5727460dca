/* monitor/alert.c: what changed since the last report (new, changed,
 * recovered, reminded, gone), the state file's round trip and its refusal
 * of anything cut or corrupt, the pending queue's bound, and the body and
 * headers of a notification in each format. */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/alert.h"
#include "tests/unit/memstream.h"

#define T0     1760000000
#define REMIND 3600
#define MAX    (2 * VERDICT_CHECKS_MAX)

static struct alert_event events[MAX];

static void set(struct verdict *v, const char *id, enum check_status status, const char *summary,
                const char *hint)
{
	struct check *c = NULL;

	for (size_t i = 0; i < v->count; i++)
		if (strcmp(v->checks[i].id, id) == 0)
			c = &v->checks[i];
	if (!c)
		c = &v->checks[v->count++];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->status = status;
	snprintf(c->summary, sizeof(c->summary), "%s", summary);
	snprintf(c->hint, sizeof(c->hint), "%s", hint);
}

static struct verdict *healthy(void)
{
	struct verdict *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	set(v, "forwarding.ipv4", CHECK_OK, "IPv4 forwarding is on", "");
	set(v, "firewall.forward", CHECK_OK, "FORWARD accepts wg0", "");
	set(v, "memory.available", CHECK_OK, "12 GiB available", "");
	return v;
}

static char *printed(const struct alert_event *ev, size_t n)
{
	struct memstream *m = memstream_open();

	assert_non_null(m);
	alert_print_text(ev, n, m->f);
	return memstream_close(m);
}

/* Nothing reported yet and all OK: nothing to say, then or later. */
static void test_all_ok_is_quiet(void **state)
{
	struct alert_state *st = calloc(1, sizeof(*st));
	struct verdict *v = healthy();

	(void)state;
	assert_int_equal(alert_diff(st, v, true, T0, REMIND, events, MAX), 0);
	assert_int_equal(alert_diff(st, v, true, T0 + 10 * REMIND, REMIND, events, MAX), 0);
	free(st);
	free(v);
}

/* One break, one report; the same status again is silent, even when its
 * summary's numbers move; a status change is news; the recovery too. */
static void test_one_report_per_transition(void **state)
{
	struct alert_state *st = calloc(1, sizeof(*st));
	struct verdict *v = healthy();
	char *text;
	size_t n;

	(void)state;
	alert_diff(st, v, true, T0, REMIND, events, MAX);
	set(v, "forwarding.ipv4", CHECK_CRITICAL, "IPv4 forwarding is off",
	    "sysctl -w net.ipv4.ip_forward=1");
	n = alert_diff(st, v, true, T0 + 60, REMIND, events, MAX);
	assert_int_equal(n, 1);
	assert_int_equal(events[0].kind, ALERT_NEW);
	text = printed(events, n);
	assert_string_equal(text, "CRITICAL forwarding.ipv4: IPv4 forwarding is off "
	                          "(fix: sysctl -w net.ipv4.ip_forward=1)\n");
	free(text);
	assert_int_equal(alert_diff(st, v, true, T0 + 120, REMIND, events, MAX), 0);

	set(v, "memory.available", CHECK_WARNING, "1.1 GiB available", "close something");
	assert_int_equal(alert_diff(st, v, true, T0 + 180, REMIND, events, MAX), 1);
	set(v, "memory.available", CHECK_WARNING, "1.0 GiB available", "close something");
	assert_int_equal(alert_diff(st, v, true, T0 + 240, REMIND, events, MAX), 0);
	set(v, "memory.available", CHECK_CRITICAL, "0.2 GiB available", "close something");
	n = alert_diff(st, v, true, T0 + 300, REMIND, events, MAX);
	assert_int_equal(n, 1);
	assert_int_equal(events[0].kind, ALERT_CHANGED);
	text = printed(events, n);
	assert_string_equal(text, "CRITICAL memory.available (was WARNING): 0.2 GiB available "
	                          "(fix: close something)\n");
	free(text);

	set(v, "forwarding.ipv4", CHECK_OK, "IPv4 forwarding is on", "");
	n = alert_diff(st, v, true, T0 + 60 + 302, REMIND, events, MAX);
	assert_int_equal(n, 1);
	assert_int_equal(events[0].kind, ALERT_RECOVERED);
	text = printed(events, n);
	assert_string_equal(text, "RECOVERED forwarding.ipv4 (was CRITICAL for 5m 2s): "
	                          "IPv4 forwarding is on\n");
	free(text);
	assert_int_equal(alert_diff(st, v, true, T0 + 600, REMIND, events, MAX), 0);
	free(st);
	free(v);
}

/* Still broken after `remind`: every check not OK once more, then quiet
 * for another `remind`; a change in between moves nothing forward. */
static void test_reminder(void **state)
{
	struct alert_state *st = calloc(1, sizeof(*st));
	struct verdict *v = healthy();
	char *text;
	size_t n;

	(void)state;
	set(v, "forwarding.ipv4", CHECK_CRITICAL, "IPv4 forwarding is off", "sysctl -w x=1");
	set(v, "firewall.forward", CHECK_WARNING, "FORWARD policy DROP", "iptables -A ...");
	assert_int_equal(alert_diff(st, v, true, T0, REMIND, events, MAX), 2);
	assert_int_equal(alert_diff(st, v, true, T0 + REMIND - 1, REMIND, events, MAX), 0);
	n = alert_diff(st, v, true, T0 + REMIND, REMIND, events, MAX);
	assert_int_equal(n, 2);
	assert_int_equal(events[0].kind, ALERT_REMINDER);
	assert_int_equal(events[1].kind, ALERT_REMINDER);
	text = printed(events, n);
	assert_string_equal(text, "STILL CRITICAL forwarding.ipv4 (for 1h 0m): IPv4 forwarding is "
	                          "off (fix: sysctl -w x=1)\n"
	                          "STILL WARNING firewall.forward (for 1h 0m): FORWARD policy DROP "
	                          "(fix: iptables -A ...)\n");
	free(text);
	assert_int_equal(alert_diff(st, v, true, T0 + REMIND + 10, REMIND, events, MAX), 0);
	assert_int_equal(alert_diff(st, v, true, T0 + 2 * REMIND, REMIND, events, MAX), 2);
	/* The clock stepped back: no reminder storm, no crash. */
	assert_int_equal(alert_diff(st, v, true, T0 - 5 * REMIND, REMIND, events, MAX), 0);
	free(st);
	free(v);
}

/* A check not OK that is no longer evaluated: over when the verdict is
 * complete, kept when it was only a selection (--only). */
static void test_absent_checks(void **state)
{
	struct alert_state *st = calloc(1, sizeof(*st));
	struct verdict *v = healthy(), *only = calloc(1, sizeof(*only));
	size_t n;

	(void)state;
	set(v, "gpu.temperature", CHECK_CRITICAL, "GPU 0 at 97 C", "check the fans");
	assert_int_equal(alert_diff(st, v, true, T0, REMIND, events, MAX), 1);
	set(only, "memory.available", CHECK_OK, "12 GiB available", "");
	assert_int_equal(alert_diff(st, only, false, T0 + 1, REMIND, events, MAX), 0);
	n = alert_diff(st, only, true, T0 + 2, REMIND, events, MAX);
	assert_int_equal(n, 1);
	assert_int_equal(events[0].kind, ALERT_RECOVERED);
	assert_string_equal(events[0].id, "gpu.temperature");
	assert_string_equal(events[0].summary, "no longer checked");
	free(st);
	free(v);
	free(only);
}

/* What was last reported survives the file; a tab or newline in a
 * summary cannot break a line of it. */
static void test_state_round_trip(void **state)
{
	struct alert_state *st = calloc(1, sizeof(*st)), *back = calloc(1, sizeof(*back));
	struct verdict *v = healthy();
	uint64_t keys[2] = {alert_url_key("https://ntfy.example/a"), 42};
	char *text = NULL, *again = NULL;
	size_t len, len2, n;

	(void)state;
	set(v, "forwarding.ipv4", CHECK_CRITICAL, "off\tnow\nreally", "sysctl -w x=1");
	n = alert_diff(st, v, true, T0, REMIND, events, MAX);
	alert_queue(st, keys, 2, events, n);
	assert_int_equal(alert_state_format(st, &text, &len), 0);
	assert_int_equal(alert_state_parse(text, len, back), 0);
	assert_int_equal(back->n_checks, 1);
	assert_int_equal(back->checks[0].status, CHECK_CRITICAL);
	assert_int_equal(back->n_pending, 2);
	assert_string_equal(back->pending[0].event.summary, "off?now?really");
	assert_true(back->pending[1].to == 42);
	assert_int_equal(alert_state_format(back, &again, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(text, again, len);
	/* Nothing changes after a reload: quiet. */
	assert_int_equal(alert_diff(back, v, true, T0 + 5, REMIND, events, MAX), 0);
	free(text);
	free(again);
	free(st);
	free(back);
	free(v);
}

/* Anything but a whole file is refused, and *ret stays untouched. */
static void test_state_corrupt(void **state)
{
	static const char *const bad[] = {
	    "",
	    "sparkmon-alerts 1\n",                                         /* cut before "end" */
	    "sparkmon-alerts 2\nend\n",                                    /* another version */
	    "sparkmon-alerts 1\ncheck\tforwarding.ipv4\tcritical\t1\t2\n", /* cut */
	    "sparkmon-alerts 1\ncheck\tforwarding.ipv4\tbroken\t1\t2\nend\n",
	    "sparkmon-alerts 1\ncheck\tForwarding\tok\t1\t2\nend\n",
	    "sparkmon-alerts 1\ncheck\tx.y\tok\t-1\t2\nend\n",
	    "sparkmon-alerts 1\ncheck\tx.y\tok\t1\t99999999999999999999\nend\n",
	    "sparkmon-alerts 1\ncheck\tx.y\tok\t1\t2\ncheck\tx.y\tok\t1\t2\nend\n",
	    "sparkmon-alerts 1\npending\t00000000000000zz\tnew\tx.y\tok\tok\t1\t1\ts\th\t\nend\n",
	    "sparkmon-alerts 1\npending\t0000000000000001\tnew\tx.y\tok\tok\t1\t1\ts\th\nend\n",
	    "sparkmon-alerts 1\nsomething\telse\nend\n",
	    "sparkmon-alerts 1\nend\nend\n",
	};
	struct alert_state *st = calloc(1, sizeof(*st));

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st->n_checks = 7;
		assert_int_equal(alert_state_parse(bad[i], strlen(bad[i]), st), -EINVAL);
		assert_int_equal(st->n_checks, 7);
	}
	assert_int_equal(alert_state_parse("sparkmon-alerts 1\nend\0\n", 23, st), -EINVAL);
	assert_int_equal(alert_state_parse("sparkmon-alerts 1\nend\n", 22, st), 0);
	assert_int_equal(st->n_checks, 0);
	free(st);
}

/* A receiver down for long: the queue keeps the newest, counts the rest. */
static void test_queue_bounded(void **state)
{
	struct alert_state *st = calloc(1, sizeof(*st));
	uint64_t key = 7;

	(void)state;
	memset(events, 0, sizeof(events));
	for (int i = 0; i < ALERT_PENDING_MAX + 10; i++) {
		events[0].at = T0 + i;
		alert_queue(st, &key, 1, events, 1);
	}
	assert_int_equal(st->n_pending, ALERT_PENDING_MAX);
	assert_int_equal(st->dropped, 10);
	assert_int_equal(st->pending[0].event.at, T0 + 10);
	assert_int_equal(st->pending[ALERT_PENDING_MAX - 1].event.at, T0 + ALERT_PENDING_MAX + 9);
	free(st);
}

/* ---- rendering ----------------------------------------------------------- */

static size_t two_events(void)
{
	struct alert_state *st = calloc(1, sizeof(*st));
	struct verdict *v = healthy();
	size_t n;

	set(v, "firewall.forward", CHECK_CRITICAL, "FORWARD drops \"wg0\"", "iptables -I FORWARD");
	alert_diff(st, v, true, T0, REMIND, events, MAX);
	set(v, "firewall.forward", CHECK_OK, "FORWARD accepts wg0", "");
	set(v, "memory.available", CHECK_WARNING, "1 GiB available", "close something");
	n = alert_diff(st, v, true, T0 + 90, REMIND, events, MAX);
	assert_int_equal(n, 2);
	free(st);
	free(v);
	return n;
}

static const char *header(const struct alert_message *m, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < m->n_headers; i++)
		if (strncmp(m->headers[i], name, len) == 0 && m->headers[i][len] == ':')
			return m->headers[i] + len + 2;
	return NULL;
}

static const char *const lines = "RECOVERED firewall.forward (was CRITICAL for 1m 30s): FORWARD "
                                 "accepts wg0\nWARNING memory.available: 1 GiB available (fix: "
                                 "close something)\n";

static void test_render_text_and_ntfy(void **state)
{
	struct alert_message *m = calloc(1, sizeof(*m));
	size_t n = two_events();
	char want[1024];

	(void)state;
	assert_int_equal(alert_render(CONFIG_ALERT_TEXT, "dgx", events, n, m), 0);
	snprintf(want, sizeof(want), "sparkmon dgx: WARNING memory.available (+1 more)\n%s", lines);
	assert_string_equal(m->body, want);
	assert_int_equal(m->body_len, strlen(want));
	assert_string_equal(header(m, "Content-Type"), "text/plain; charset=utf-8");
	assert_null(header(m, "Title"));

	assert_int_equal(alert_render(CONFIG_ALERT_NTFY, "dgx", events, n, m), 0);
	assert_string_equal(m->body, lines);
	assert_string_equal(header(m, "Title"), "sparkmon dgx: WARNING memory.available (+1 more)");
	assert_string_equal(header(m, "Priority"), "high");
	assert_string_equal(header(m, "Tags"), "warning");

	/* A recovery alone is good news: default priority. */
	assert_int_equal(alert_render(CONFIG_ALERT_NTFY, "dgx", events, 1, m), 0);
	assert_string_equal(header(m, "Title"), "sparkmon dgx: RECOVERED firewall.forward");
	assert_string_equal(header(m, "Priority"), "default");
	assert_string_equal(header(m, "Tags"), "white_check_mark");
	free(m);
}

static struct json_object *parsed(const struct alert_message *m)
{
	struct json_object *doc = json_tokener_parse(m->body);

	assert_non_null(doc);
	assert_string_equal(header(m, "Content-Type"), "application/json");
	return doc;
}

static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static void test_render_json_formats(void **state)
{
	struct alert_message *m = calloc(1, sizeof(*m));
	struct json_object *doc, *arr, *first;
	size_t n = two_events();
	char want[1024];

	(void)state;
	assert_int_equal(alert_render(CONFIG_ALERT_GOTIFY, "dgx", events, n, m), 0);
	doc = parsed(m);
	assert_string_equal(field(doc, "title"),
	                    "sparkmon dgx: WARNING memory.available (+1 more)");
	assert_string_equal(field(doc, "message"), lines);
	assert_string_equal(field(doc, "priority"), "5");
	json_object_put(doc);

	assert_int_equal(alert_render(CONFIG_ALERT_SLACK, "dgx", events, n, m), 0);
	doc = parsed(m);
	snprintf(want, sizeof(want), "*sparkmon dgx: WARNING memory.available (+1 more)*\n%s",
	         lines);
	assert_string_equal(field(doc, "text"), want);
	json_object_put(doc);

	assert_int_equal(alert_render(CONFIG_ALERT_JSON, "dgx", events, n, m), 0);
	doc = parsed(m);
	assert_string_equal(field(doc, "host"), "dgx");
	assert_true(json_object_object_get_ex(doc, "changes", &arr));
	assert_int_equal(json_object_array_length(arr), 2);
	first = json_object_array_get_idx(arr, 0);
	assert_string_equal(field(first, "kind"), "recovered");
	assert_string_equal(field(first, "check"), "firewall.forward");
	assert_string_equal(field(first, "status"), "ok");
	assert_string_equal(field(first, "was"), "critical");
	assert_string_equal(field(json_object_array_get_idx(arr, 1), "fix"), "close something");
	assert_string_equal(field(doc, "not_shown"), "0");
	json_object_put(doc);
	free(m);
}

/* More events than the cap holds: the body stays under it, says how many
 * were left out, and is still valid JSON. */
static void test_render_capped(void **state)
{
	struct alert_message *m = calloc(1, sizeof(*m));
	struct json_object *doc, *arr;
	char big[CHECK_TEXT_MAX];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 0; i < MAX; i++) {
		memset(&events[i], 0, sizeof(events[i]));
		events[i].kind = ALERT_NEW;
		events[i].status = CHECK_CRITICAL;
		snprintf(events[i].id, sizeof(events[i].id), "check.n%zu", i);
		memcpy(events[i].summary, big, sizeof(big));
		memcpy(events[i].hint, big, sizeof(big));
	}
	for (int f = 0; f < CONFIG_ALERT__COUNT; f++) {
		assert_int_equal(alert_render((enum config_alert_format)f, "dgx", events, MAX, m),
		                 0);
		assert_true(m->body_len <= ALERT_BODY_MAX);
		assert_true(m->shown > 0 && m->shown < MAX);
		if (f == CONFIG_ALERT_JSON) {
			doc = parsed(m);
			assert_true(json_object_object_get_ex(doc, "changes", &arr));
			assert_int_equal(json_object_array_length(arr), m->shown);
			json_object_put(doc);
		} else {
			assert_non_null(strstr(m->body, "more changes not shown"));
		}
	}
	free(m);
}

/* What `sparkmon config` and the logs show of a URL: never its path,
 * query or password. */
static void test_redact_url(void **state)
{
	char buf[128];

	(void)state;
	config_redact_url("https://ntfy.example/mytopic", buf, sizeof(buf));
	assert_string_equal(buf, "https://ntfy.example/\xe2\x80\xa6");
	config_redact_url("https://u:pw@gotify.example:8443/message?token=T", buf, sizeof(buf));
	assert_string_equal(buf, "https://gotify.example:8443/\xe2\x80\xa6");
	config_redact_url("http://hooks.example?token=T", buf, sizeof(buf));
	assert_string_equal(buf, "http://hooks.example/\xe2\x80\xa6");
	config_redact_url("http://hooks.example/", buf, sizeof(buf));
	assert_string_equal(buf, "http://hooks.example/");
}

/* [alert] notify: repeatable, a format per URL or [alert] format's
 * (wherever that line is), printed by `sparkmon config` only redacted and
 * as comments; a bad value is refused without quoting it. */
static void test_config_notify(void **state)
{
	static const char text[] =
	    "[alert]\n"
	    "notify = https://ntfy.example/topic-SECRET1\n"
	    "notify = gotify https://u:pw@gotify.example/message?token=SECRET2\n"
	    "format = ntfy\n"
	    "remind = 90s\n";
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct config_errors errors = {0};
	struct memstream *m;
	char *out;

	(void)state;
	assert_int_equal(config_load_string(text, "t.conf", cfg, &errors), 0);
	assert_int_equal(cfg->n_alert_notify, 2);
	assert_string_equal(cfg->alert_notify[0], "https://ntfy.example/topic-SECRET1");
	assert_int_equal(cfg->alert_notify_format[0], CONFIG_ALERT_NTFY);
	assert_int_equal(cfg->alert_notify_format[1], CONFIG_ALERT_GOTIFY);
	assert_int_equal(cfg->alert_remind_ms, 90000);
	m = memstream_open();
	assert_non_null(m);
	config_print(cfg, m->f);
	out = memstream_close(m);
	assert_null(strstr(out, "SECRET"));
	assert_null(strstr(out, "pw"));
	assert_non_null(strstr(out, "# notify = ntfy https://ntfy.example/\xe2\x80\xa6"));
	assert_non_null(strstr(out, "# notify = gotify https://gotify.example/\xe2\x80\xa6"));
	free(out);

	config_forget_secrets(cfg);
	assert_string_equal(cfg->alert_notify[0], "https://ntfy.example/\xe2\x80\xa6");
	assert_int_equal(cfg->n_alert_notify, 2);

	assert_int_equal(config_load_string("[alert]\nnotify = ftp://x.example/SECRET3\n"
	                                    "notify = mail https://x.example/SECRET4\n"
	                                    "notify = https:///SECRET5\n"
	                                    "notify = https://x.example/SECRET6\n"
	                                    "notify = https://x.example/SECRET6\n",
	                                    "t.conf", cfg, &errors),
	                 -EINVAL);
	assert_int_equal(errors.count, 4);
	assert_non_null(strstr(errors.text, "t.conf:6: notify: the same URL as line 5"));
	assert_null(strstr(errors.text, "SECRET"));
	assert_non_null(strstr(errors.text, "t.conf:3: notify: the word before the URL"));
	config_errors_free(&errors);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_ok_is_quiet),
	    cmocka_unit_test(test_one_report_per_transition),
	    cmocka_unit_test(test_reminder),
	    cmocka_unit_test(test_absent_checks),
	    cmocka_unit_test(test_state_round_trip),
	    cmocka_unit_test(test_state_corrupt),
	    cmocka_unit_test(test_queue_bounded),
	    cmocka_unit_test(test_render_text_and_ntfy),
	    cmocka_unit_test(test_render_json_formats),
	    cmocka_unit_test(test_render_capped),
	    cmocka_unit_test(test_redact_url),
	    cmocka_unit_test(test_config_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
