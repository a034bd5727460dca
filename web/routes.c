/* What each path answers, and the fixed responses.
 *
 * Why pre-built responses: the daemon renders the status document and both
 * metrics formats once per round and publishes them as libmicrohttpd
 * response objects (web/server.c), which are reference-counted by the
 * library itself. A request takes the current response under a short lock
 * and queues it; it never reads the snapshot, never waits on a probe, and
 * allocates nothing. Only the history (rarely asked for) is rendered per
 * request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/gzip.h"
#include "web/page.h"
#include "web/prometheus.h"
#include "web/serverimpl.h"

/* Headers every response carries: nothing is cached, nothing embeds the
 * page, and the page loads nothing from anywhere but here. */
#define CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* ---- responses ----------------------------------------------------------- */

void routes_add_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
}

static struct MHD_Response *static_response(const char *text, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);

	if (r)
		routes_add_headers(r, type);
	return r;
}

/* Takes over a malloc'ed buffer: freed with the response. */
static struct MHD_Response *owned_response(char *buf, size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, buf, free);

	if (!r) {
		free(buf);
		return NULL;
	}
	routes_add_headers(r, type);
	return r;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned code, struct MHD_Response *r)
{
	return r ? MHD_queue_response(c, code, r) : MHD_NO;
}

/* ---- routes -------------------------------------------------------------- */

enum route {
	ROUTE_NONE,
	ROUTE_METRICS,
	ROUTE_STATUS,
	ROUTE_HISTORY,
	ROUTE_EVENTS,
	ROUTE_HEALTHZ,
	ROUTE_ASSET,
};

static enum route find_route(const char *url, size_t *asset)
{
	static const struct {
		const char *path;
		enum route route;
	} routes[] = {
	    {"/metrics", ROUTE_METRICS},     {"/status.json", ROUTE_STATUS},
	    {"/api/history", ROUTE_HISTORY}, {"/api/events", ROUTE_EVENTS},
	    {"/healthz", ROUTE_HEALTHZ},
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(url, routes[i].path) == 0)
			return routes[i].route;
	for (size_t i = 0; i < page_asset_count; i++) {
		if (strcmp(url, page_assets[i].path) == 0) {
			*asset = i;
			return ROUTE_ASSET;
		}
	}
	return ROUTE_NONE;
}

/* The published output in SLOT, or its gzip copy in GZ_SLOT when the
 * client accepts gzip and the copy is there. A client that accepts gzip
 * sets WANTED: from the next rendering on, the copy is made. */
static enum MHD_Result serve_published(struct server *s, struct MHD_Connection *c,
                                       struct MHD_Response *const *slot,
                                       struct MHD_Response *const *gz_slot, atomic_bool *wanted)
{
	bool gz = gzip_accepted(
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (gz && !atomic_load_explicit(wanted, memory_order_relaxed))
		atomic_store_explicit(wanted, true, memory_order_relaxed);

	/* Queued under the lock: publishing cannot drop the response between
	 * reading the pointer and the library taking its own reference. */
	pthread_mutex_lock(&s->out_lock);
	r = gz && *slot && *gz_slot ? *gz_slot : *slot;
	ret = r ? MHD_queue_response(c, MHD_HTTP_OK, r)
	        : queue(c, MHD_HTTP_SERVICE_UNAVAILABLE, s->r_no_data);
	pthread_mutex_unlock(&s->out_lock);
	return ret;
}

static enum MHD_Result serve_healthz(struct server *s, struct MHD_Connection *c)
{
	char why[256], *text;
	int n;

	if (!s->hooks.health || s->hooks.health(s->hooks.arg, why, sizeof(why)) == 0)
		return queue(c, MHD_HTTP_OK, s->r_ok);
	n = asprintf(&text, "stalled: %s\n", why);
	if (n < 0)
		return MHD_NO;
	return queue(c, MHD_HTTP_SERVICE_UNAVAILABLE,
	             owned_response(text, (size_t)n, "text/plain; charset=utf-8"));
}

/* A document rendered for this request (NULL: 503, no data). */
static enum MHD_Result serve_rendered(struct server *s, struct MHD_Connection *c, char *doc,
                                      size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!doc)
		return queue(c, MHD_HTTP_SERVICE_UNAVAILABLE, s->r_no_data);
	r = owned_response(doc, len, "application/json");
	ret = queue(c, MHD_HTTP_OK, r);
	if (r)
		MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve_history(struct server *s, struct MHD_Connection *c)
{
	const char *series = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "series");
	size_t len = 0;
	char *doc = s->hooks.history ? s->hooks.history(s->hooks.arg, series, &len) : NULL;

	return serve_rendered(s, c, doc, len);
}

static enum MHD_Result serve_events(struct server *s, struct MHD_Connection *c)
{
	size_t len = 0;
	char *doc = s->hooks.events ? s->hooks.events(s->hooks.arg, &len) : NULL;

	return serve_rendered(s, c, doc, len);
}

/* 429 with the seconds to wait. */
static enum MHD_Result too_many(struct server *s, struct MHD_Connection *c, unsigned retry)
{
	static const char text[] = "too many password attempts; retry later\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    sizeof(text) - 1, (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;
	char seconds[16];

	(void)s;
	if (!r)
		return MHD_NO;
	routes_add_headers(r, "text/plain; charset=utf-8");
	snprintf(seconds, sizeof(seconds), "%u", retry);
	MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
	ret = MHD_queue_response(c, MHD_HTTP_TOO_MANY_REQUESTS, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result routes_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	const char *length, *encoding;
	enum route route;
	size_t asset = 0;

	(void)version;
	(void)upload_data;
	connlimit_headers_done(&s->conns, c);
	/* No route takes a body: refuse one before reading it. */
	length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	encoding =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if ((length && strcmp(length, "0") != 0) || encoding || *upload_data_size)
		return queue(c, MHD_HTTP_CONTENT_TOO_LARGE, s->r_body);
	if (!admission_host_ok(s, c))
		return queue(c, MHD_HTTP_MISDIRECTED_REQUEST, s->r_misdirected);
	if (s->auth) {
		unsigned retry = 0;

		switch (admission_authorize(s, c, con_cls, &retry)) {
		case ADMISSION_AUTH_OK:
			break;
		case ADMISSION_AUTH_WAIT:
			return MHD_YES;
		case ADMISSION_AUTH_LATER:
			return too_many(s, c, retry);
		case ADMISSION_AUTH_DENIED:
			return MHD_queue_basic_auth_fail_response(c, "sparkmon", s->r_auth);
		}
	}
	route = find_route(url, &asset);
	if (route == ROUTE_NONE)
		return queue(c, MHD_HTTP_NOT_FOUND, s->r_not_found);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, s->r_method);
	switch (route) {
	case ROUTE_METRICS: {
		const char *accept =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

		enum prometheus_format f = prometheus_negotiate(accept);

		return serve_published(s, c, &s->metrics[f], &s->metrics_gz[f],
		                       &s->metrics_gz_wanted[f]);
	}
	case ROUTE_STATUS:
		return serve_published(s, c, &s->status_json, &s->status_json_gz,
		                       &s->status_json_gz_wanted);
	case ROUTE_HISTORY:
		return serve_history(s, c);
	case ROUTE_EVENTS:
		return serve_events(s, c);
	case ROUTE_HEALTHZ:
		return serve_healthz(s, c);
	case ROUTE_ASSET:
		return queue(c, MHD_HTTP_OK, s->assets[asset]);
	case ROUTE_NONE:
		break;
	}
	return queue(c, MHD_HTTP_NOT_FOUND, s->r_not_found);
}

/* ---- fixed responses ----------------------------------------------------- */

int routes_build(struct server *s)
{
	const char *text = "text/plain; charset=utf-8";

	s->r_not_found = static_response("not found\n", text);
	s->r_method = static_response("method not allowed\n", text);
	s->r_body = static_response("request bodies are not accepted\n", text);
	s->r_auth = static_response("authentication required\n", text);
	s->r_ok = static_response("ok\n", text);
	s->r_no_data = static_response("no data yet\n", text);
	s->r_misdirected = static_response("unknown host name\n", text);
	if (!s->r_not_found || !s->r_method || !s->r_body || !s->r_auth || !s->r_ok ||
	    !s->r_no_data || !s->r_misdirected)
		return -ENOMEM;
	MHD_add_response_header(s->r_method, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	MHD_add_response_header(s->r_body, MHD_HTTP_HEADER_CONNECTION, "close");
	for (size_t i = 0; i < page_asset_count && i < sizeof(s->assets) / sizeof(s->assets[0]);
	     i++) {
		const struct page_asset *a = &page_assets[i];

		s->assets[i] = MHD_create_response_from_buffer(
		    (size_t)(a->end - a->data), (void *)(uintptr_t)a->data, MHD_RESPMEM_PERSISTENT);
		if (!s->assets[i])
			return -ENOMEM;
		routes_add_headers(s->assets[i], a->content_type);
	}
	return 0;
}

void routes_free(struct server *s)
{
	struct MHD_Response *fixed[] = {s->r_not_found, s->r_method,  s->r_body,       s->r_auth,
	                                s->r_ok,        s->r_no_data, s->r_misdirected};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i])
			MHD_destroy_response(fixed[i]);
	for (size_t i = 0; i < sizeof(s->assets) / sizeof(s->assets[0]); i++)
		if (s->assets[i])
			MHD_destroy_response(s->assets[i]);
}
