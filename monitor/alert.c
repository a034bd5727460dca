#include "monitor/alert.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/human.h"

/* ---- the state file ------------------------------------------------------ */

/* The file, line by line, fields separated by tabs:
 *
 *     sparkmon-alerts 1
 *     dropped <count>
 *     check <id> <status> <since> <reported>
 *     pending <to: 16 hex digits> <kind> <id> <status> <before> <at> <since> <summary> <hint>
 *     end
 *
 * statuses and kinds by name, times in Unix seconds, texts free of control
 * characters (alert events hold no tab or newline). "end" tells a whole
 * file from a cut one. */

static const char *const kind_names[] = {
    [ALERT_NEW] = "new",
    [ALERT_CHANGED] = "changed",
    [ALERT_RECOVERED] = "recovered",
    [ALERT_REMINDER] = "reminder",
};

static int parse_status(const char *s, enum check_status *ret)
{
	for (int i = CHECK_OK; i <= CHECK_UNKNOWN; i++) {
		if (strcmp(s, verdict_status_lower((enum check_status)i)) == 0) {
			*ret = (enum check_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_kind(const char *s, enum alert_kind *ret)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*ret = (enum alert_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal, no sign, no leading blank, fits in 63 bits. */
static int parse_u63(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

static int parse_time(const char *s, time_t *ret)
{
	uint64_t v;

	if (parse_u63(s, &v) < 0)
		return -EINVAL;
	*ret = (time_t)v;
	return 0;
}

static int parse_key(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (strlen(s) != 16)
		return -EINVAL;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9'   ? *s - '0'
		        : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
		                                 : -1;

		if (d < 0)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*ret = v;
	return 0;
}

/* A check id as the verdict names them. */
static int copy_id(const char *s, char *ret)
{
	size_t len = strlen(s);

	if (len == 0 || len >= CHECK_ID_MAX ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") != len)
		return -EINVAL;
	memcpy(ret, s, len + 1);
	return 0;
}

static int copy_text(const char *s, char *ret, size_t size)
{
	size_t len = strlen(s);

	if (len >= size)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	memcpy(ret, s, len + 1);
	return 0;
}

/* Splits a line (NUL-terminated, modified) at tabs into at most max fields;
 * returns their count. */
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;

	for (char *p = line; n < max;) {
		fields[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			return n;
		*p++ = '\0';
	}
	return max + 1; /* more fields than any line has */
}

static int parse_check(char **f, size_t n, struct alert_state *st)
{
	struct alert_check c;

	if (n != 5 || st->n_checks == ALERT_CHECKS_MAX || copy_id(f[1], c.id) < 0 ||
	    parse_status(f[2], &c.status) < 0 || parse_time(f[3], &c.since) < 0 ||
	    parse_time(f[4], &c.reported) < 0)
		return -EINVAL;
	for (size_t i = 0; i < st->n_checks; i++)
		if (strcmp(st->checks[i].id, c.id) == 0)
			return -EINVAL;
	st->checks[st->n_checks++] = c;
	return 0;
}

static int parse_pending(char **f, size_t n, struct alert_state *st)
{
	struct alert_pending *p = &st->pending[st->n_pending];
	struct alert_event *e = &p->event;

	if (n != 11 || st->n_pending == ALERT_PENDING_MAX || parse_key(f[1], &p->to) < 0 ||
	    parse_kind(f[2], &e->kind) < 0 || copy_id(f[3], e->id) < 0 ||
	    parse_status(f[4], &e->status) < 0 || parse_status(f[5], &e->before) < 0 ||
	    parse_time(f[6], &e->at) < 0 || parse_time(f[7], &e->since) < 0 ||
	    copy_text(f[8], e->summary, sizeof(e->summary)) < 0 ||
	    copy_text(f[9], e->hint, sizeof(e->hint)) < 0 || f[10][0])
		return -EINVAL;
	st->n_pending++;
	return 0;
}

static int parse_line(char *line, struct alert_state *st)
{
	char *f[12];
	size_t n = split(line, f, 12);

	if (strcmp(f[0], "check") == 0)
		return parse_check(f, n, st);
	if (strcmp(f[0], "pending") == 0)
		return parse_pending(f, n, st);
	if (strcmp(f[0], "dropped") == 0 && n == 2)
		return parse_u63(f[1], &st->dropped);
	return -EINVAL;
}

int alert_state_parse(const char *buf, size_t len, struct alert_state *ret)
{
	static const char magic[] = ALERT_STATE_MAGIC "\n", end[] = "end\n";
	struct alert_state *st;
	char *text;
	size_t pos;
	int r = 0;

	if (len < sizeof(magic) - 1 + sizeof(end) - 1 || memcmp(buf, magic, sizeof(magic) - 1) ||
	    memcmp(buf + len - (sizeof(end) - 1), end, sizeof(end) - 1) || memchr(buf, '\0', len))
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	text = strndup(buf, len);
	if (!st || !text) {
		free(st);
		free(text);
		return -ENOMEM;
	}
	pos = sizeof(magic) - 1;
	while (r == 0 && pos < len - (sizeof(end) - 1)) {
		char *line = text + pos, *nl = strchr(line, '\n');

		*nl = '\0'; /* there is one: the text ends in "end\n" */
		pos += (size_t)(nl - line) + 1;
		r = parse_line(line, st);
	}
	if (r == 0 && pos != len - (sizeof(end) - 1))
		r = -EINVAL;
	if (r == 0)
		*ret = *st;
	free(st);
	free(text);
	return r;
}

int alert_state_format(const struct alert_state *st, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, ALERT_STATE_MAGIC "\ndropped\t%" PRIu64 "\n", st->dropped);
	for (size_t i = 0; i < st->n_checks; i++) {
		const struct alert_check *c = &st->checks[i];

		fprintf(f, "check\t%s\t%s\t%lld\t%lld\n", c->id, verdict_status_lower(c->status),
		        (long long)c->since, (long long)c->reported);
	}
	for (size_t i = 0; i < st->n_pending; i++) {
		const struct alert_event *e = &st->pending[i].event;

		fprintf(f, "pending\t%016" PRIx64 "\t%s\t%s\t%s\t%s\t%lld\t%lld\t%s\t%s\t\n",
		        st->pending[i].to, kind_names[e->kind], e->id,
		        verdict_status_lower(e->status), verdict_status_lower(e->before),
		        (long long)e->at, (long long)e->since, e->summary, e->hint);
	}
	fputs("end\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* ---- what changed -------------------------------------------------------- */

/* One line of text: control characters become '?'. */
static void one_line(const char *src, char *dst, size_t size)
{
	size_t i = 0;

	for (; *src && i + 1 < size; src++)
		dst[i++] = (unsigned char)*src < 0x20 || *src == 0x7f ? '?' : *src;
	dst[i] = '\0';
}

static struct alert_check *find_check(struct alert_state *st, const char *id)
{
	for (size_t i = 0; i < st->n_checks; i++)
		if (strcmp(st->checks[i].id, id) == 0)
			return &st->checks[i];
	return NULL;
}

static void add_event(struct alert_event *ret, size_t max, size_t *n, enum alert_kind kind,
                      const struct check *c, const struct alert_check *was, time_t now)
{
	struct alert_event *e;

	if (*n >= max)
		return;
	e = &ret[(*n)++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	snprintf(e->id, sizeof(e->id), "%s", was ? was->id : c->id);
	e->status = c ? c->status : CHECK_OK;
	e->before = was ? was->status : CHECK_OK;
	e->at = now;
	e->since = kind == ALERT_REMINDER || kind == ALERT_RECOVERED ? was->since : now;
	if (c) {
		one_line(c->summary, e->summary, sizeof(e->summary));
		if (c->status != CHECK_OK)
			one_line(c->hint, e->hint, sizeof(e->hint));
	} else {
		snprintf(e->summary, sizeof(e->summary), "no longer checked");
	}
}

/* Records check c as reported now (its state entry is created when
 * missing; one that does not fit is not remembered). */
static void remember(struct alert_state *st, struct alert_check *was, const struct check *c,
                     time_t now)
{
	if (!was) {
		if (st->n_checks == ALERT_CHECKS_MAX)
			return;
		was = &st->checks[st->n_checks++];
		snprintf(was->id, sizeof(was->id), "%s", c->id);
	}
	was->status = c->status;
	was->since = now;
	was->reported = now;
}

static void forget(struct alert_state *st, size_t i)
{
	memmove(&st->checks[i], &st->checks[i + 1], (st->n_checks - i - 1) * sizeof(st->checks[0]));
	st->n_checks--;
}

static bool in_verdict(const struct verdict *v, const char *id)
{
	for (size_t i = 0; i < v->count; i++)
		if (strcmp(v->checks[i].id, id) == 0)
			return true;
	return false;
}

/* Every check still not OK, when one of them was last reported remind_s
 * ago or more. */
static void remind(struct alert_state *st, const struct verdict *v, time_t now, uint64_t remind_s,
                   struct alert_event *ret, size_t max, size_t *n)
{
	bool due = false;

	for (size_t i = 0; i < v->count; i++) {
		struct alert_check *was = find_check(st, v->checks[i].id);

		if (was && was->status != CHECK_OK && now >= was->reported &&
		    (uint64_t)(now - was->reported) >= remind_s)
			due = true;
	}
	for (size_t i = 0; due && i < v->count; i++) {
		struct alert_check *was = find_check(st, v->checks[i].id);

		if (!was || was->status == CHECK_OK)
			continue;
		add_event(ret, max, n, ALERT_REMINDER, &v->checks[i], was, now);
		was->reported = now;
	}
}

size_t alert_diff(struct alert_state *st, const struct verdict *v, bool complete, time_t now,
                  uint64_t remind_s, struct alert_event *ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < v->count; i++) {
		const struct check *c = &v->checks[i];
		struct alert_check *was = find_check(st, c->id);
		enum check_status before = was ? was->status : CHECK_OK;

		if (c->status == before)
			continue;
		if (c->status == CHECK_OK)
			add_event(ret, max, &n, ALERT_RECOVERED, c, was, now);
		else
			add_event(ret, max, &n, before == CHECK_OK ? ALERT_NEW : ALERT_CHANGED, c,
			          was, now);
		remember(st, was, c, now);
	}
	for (size_t i = 0; complete && i < st->n_checks;) {
		if (in_verdict(v, st->checks[i].id)) {
			i++;
			continue;
		}
		if (st->checks[i].status != CHECK_OK)
			add_event(ret, max, &n, ALERT_RECOVERED, NULL, &st->checks[i], now);
		forget(st, i);
	}
	/* A change is news enough: the reminder waits for a quiet run. */
	if (n == 0)
		remind(st, v, now, remind_s, ret, max, &n);
	return n;
}

uint64_t alert_url_key(const char *url)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

void alert_queue(struct alert_state *st, const uint64_t *keys, size_t n_keys,
                 const struct alert_event *events, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < n_keys; k++) {
			if (st->n_pending == ALERT_PENDING_MAX) {
				memmove(&st->pending[0], &st->pending[1],
				        (ALERT_PENDING_MAX - 1) * sizeof(st->pending[0]));
				st->n_pending--;
				st->dropped++;
			}
			st->pending[st->n_pending].to = keys[k];
			st->pending[st->n_pending++].event = events[i];
		}
	}
}

/* ---- rendering ------------------------------------------------------------ */

static void print_event(const struct alert_event *e, FILE *out)
{
	char age[32];

	human_age(e->at > e->since ? (uint64_t)(e->at - e->since) : 0, age, sizeof(age));
	switch (e->kind) {
	case ALERT_NEW:
		fprintf(out, "%s %s: %s", verdict_status_upper(e->status), e->id, e->summary);
		break;
	case ALERT_CHANGED:
		fprintf(out, "%s %s (was %s): %s", verdict_status_upper(e->status), e->id,
		        verdict_status_upper(e->before), e->summary);
		break;
	case ALERT_RECOVERED:
		fprintf(out, "RECOVERED %s (was %s for %s): %s", e->id,
		        verdict_status_upper(e->before), age, e->summary);
		break;
	case ALERT_REMINDER:
		fprintf(out, "STILL %s %s (for %s): %s", verdict_status_upper(e->status), e->id,
		        age, e->summary);
		break;
	}
	if (e->hint[0])
		fprintf(out, " (fix: %s)", e->hint);
	fputc('\n', out);
}

void alert_print_text(const struct alert_event *events, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++)
		print_event(&events[i], out);
}

/* The worst news among the events: a problem outranks a reminder, which
 * outranks a recovery; then by severity. */
static const struct alert_event *headline(const struct alert_event *events, size_t n)
{
	const struct alert_event *best = &events[0];

	for (size_t i = 1; i < n; i++) {
		const struct alert_event *e = &events[i];
		int eb = e->kind == ALERT_RECOVERED ? 0 : e->kind == ALERT_REMINDER ? 1 : 2;
		int bb = best->kind == ALERT_RECOVERED ? 0 : best->kind == ALERT_REMINDER ? 1 : 2;

		if (eb > bb ||
		    (eb == bb && verdict_severity(e->status) > verdict_severity(best->status)))
			best = e;
	}
	return best;
}

/* "sparkmon dgx: CRITICAL forwarding.ipv4 (+2 more)"; ASCII (host names
 * and check ids are), so it can be a header. */
static void title(const char *host, const struct alert_event *events, size_t n, char *buf,
                  size_t size)
{
	const struct alert_event *h = headline(events, n);
	char more[32] = "", name[64];

	one_line(host, name, sizeof(name));
	for (char *p = name; *p; p++)
		if ((unsigned char)*p >= 0x7f)
			*p = '?';
	if (n > 1)
		snprintf(more, sizeof(more), " (+%zu more)", n - 1);
	snprintf(buf, size, "sparkmon %s: %s%s %s%s", name,
	         h->kind == ALERT_REMINDER ? "STILL " : "",
	         h->kind == ALERT_RECOVERED ? "RECOVERED" : verdict_status_upper(h->status), h->id,
	         more);
}

/* 0 for news that all is well again, 1 for a reminder or a warning, 2
 * for a problem that is CRITICAL or UNKNOWN. */
static int urgency(const struct alert_event *events, size_t n)
{
	const struct alert_event *h = headline(events, n);

	if (h->kind == ALERT_RECOVERED)
		return 0;
	if (h->kind == ALERT_REMINDER || h->status == CHECK_WARNING)
		return 1;
	return 2;
}

/* The lines of alert_print_text, and a last line for events left out. */
static char *text_lines(const struct alert_event *events, size_t shown, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	alert_print_text(events, shown, f);
	if (shown < n)
		fprintf(f, "(%zu more changes not shown)\n", n - shown);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static struct json_object *event_object(const struct alert_event *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(kind_names[e->kind]));
	json_object_object_add(o, "check", json_object_new_string(e->id));
	json_object_object_add(o, "status",
	                       json_object_new_string(verdict_status_lower(e->status)));
	json_object_object_add(o, "was", json_object_new_string(verdict_status_lower(e->before)));
	json_object_object_add(o, "summary", json_object_new_string(e->summary));
	json_object_object_add(o, "fix", json_object_new_string(e->hint));
	json_object_object_add(o, "at", json_object_new_int64((int64_t)e->at));
	json_object_object_add(o, "since", json_object_new_int64((int64_t)e->since));
	return o;
}

/* Sets the body from a JSON document (consumed). */
static int json_body(struct json_object *doc, struct alert_message *m)
{
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	size_t len = s ? strlen(s) : 0;
	int r = 0;

	if (!s)
		r = -ENOMEM;
	else if (len > ALERT_BODY_MAX)
		r = -EFBIG;
	else
		memcpy(m->body, s, len + 1);
	m->body_len = len;
	json_object_put(doc);
	return r;
}

/* "Name: value"; value is ASCII without control characters (title()). */
static void add_header(struct alert_message *m, const char *name, const char *value)
{
	if (m->n_headers < ALERT_HEADERS_MAX)
		snprintf(m->headers[m->n_headers++], ALERT_HEADER_MAX, "%s: %s", name, value);
}

/* One try with the first `shown` events: -EFBIG when the body is over
 * the cap. */
static int render_some(enum config_alert_format format, const char *host,
                       const struct alert_event *events, size_t shown, size_t n,
                       struct alert_message *m)
{
	static const char *const ntfy_priority[] = {"default", "high", "urgent"};
	static const char *const ntfy_tags[] = {"white_check_mark", "warning", "rotating_light"};
	static const int gotify_priority[] = {2, 5, 8};
	char head[160], *lines = text_lines(events, shown, n);
	struct json_object *doc;
	int u = urgency(events, n), r = 0;

	if (!lines)
		return -ENOMEM;
	memset(m, 0, offsetof(struct alert_message, body));
	m->shown = shown;
	title(host, events, n, head, sizeof(head));
	switch (format) {
	case CONFIG_ALERT_TEXT:
	case CONFIG_ALERT_NTFY: {
		size_t len = strlen(head) + 1 + strlen(lines);

		add_header(m, "Content-Type", "text/plain; charset=utf-8");
		if (format == CONFIG_ALERT_NTFY) {
			add_header(m, "Title", head);
			add_header(m, "Priority", ntfy_priority[u]);
			add_header(m, "Tags", ntfy_tags[u]);
			len = strlen(lines);
		}
		if (len > ALERT_BODY_MAX) {
			r = -EFBIG;
			break;
		}
		snprintf(m->body, sizeof(m->body), "%s%s%s",
		         format == CONFIG_ALERT_TEXT ? head : "",
		         format == CONFIG_ALERT_TEXT ? "\n" : "", lines);
		m->body_len = len;
		break;
	}
	case CONFIG_ALERT_GOTIFY:
		add_header(m, "Content-Type", "application/json");
		doc = json_object_new_object();
		json_object_object_add(doc, "title", json_object_new_string(head));
		json_object_object_add(doc, "message", json_object_new_string(lines));
		json_object_object_add(doc, "priority", json_object_new_int(gotify_priority[u]));
		r = json_body(doc, m);
		break;
	case CONFIG_ALERT_SLACK: {
		size_t len = strlen(head) + strlen(lines) + 8;
		char *text = malloc(len);

		add_header(m, "Content-Type", "application/json");
		if (!text) {
			r = -ENOMEM;
			break;
		}
		snprintf(text, len, "*%s*\n%s", head, lines);
		doc = json_object_new_object();
		json_object_object_add(doc, "text", json_object_new_string(text));
		free(text);
		r = json_body(doc, m);
		break;
	}
	case CONFIG_ALERT_JSON:
	default: {
		struct json_object *arr = json_object_new_array();

		add_header(m, "Content-Type", "application/json");
		doc = json_object_new_object();
		json_object_object_add(doc, "host", json_object_new_string(host));
		json_object_object_add(doc, "title", json_object_new_string(head));
		for (size_t i = 0; i < shown; i++)
			json_object_array_add(arr, event_object(&events[i]));
		json_object_object_add(doc, "changes", arr);
		json_object_object_add(doc, "not_shown",
		                       json_object_new_int64((int64_t)(n - shown)));
		r = json_body(doc, m);
		break;
	}
	}
	free(lines);
	return r;
}

int alert_render(enum config_alert_format format, const char *host,
                 const struct alert_event *events, size_t n, struct alert_message *ret)
{
	int r = -EINVAL;

	if (n == 0)
		return -EINVAL;
	/* Fewer events until the body fits; one always does (texts are
	 * bounded far below the cap). */
	for (size_t shown = n; shown > 0; shown--) {
		r = render_some(format, host, events, shown, n, ret);
		if (r != -EFBIG)
			return r;
	}
	return r;
}
