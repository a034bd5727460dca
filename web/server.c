/* The HTTP server.
 *
 * Why pre-built responses: the daemon renders the status document and both
 * metrics formats once per round and publishes them here as libmicrohttpd
 * response objects, which are reference-counted by the library itself. A
 * request takes the current response under a short lock and queues it; it
 * never reads the snapshot, never waits on a probe, and allocates nothing.
 * Publishing swaps the pointers and drops the old responses, which the
 * library frees once the last connection sending them is done. Only the
 * history (rarely asked for) is rendered per request.
 *
 * One libmicrohttpd daemon (one epoll thread) per listening address, so
 * that WireGuard addresses can come and go without touching the others.
 * The allow-list is checked in the accept callback, before a byte is read. */
#include "web/server.h"

#include <crypt.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "monitor/log.h"
#include "probes/readfile.h"
#include "web/page.h"
#include "web/prometheus.h"

#define SERVER_LISTENERS_MAX      (CONFIG_LIST_MAX + 32)
#define SERVER_DYNAMIC_NETS_MAX   64
#define SERVER_AUTH_CACHE         8
#define SERVER_AUTH_CACHE_SECONDS 600
#define SERVER_PEM_MAX            (64 * 1024)

/* Headers every response carries: nothing is cached, nothing embeds the
 * page, and the page loads nothing from anywhere but here. */
#define CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct listener {
	struct netaddr_endpoint ep;
	struct MHD_Daemon *daemon;
	bool dynamic;
};

struct auth_entry {
	uint64_t tag;
	time_t expires;
};

struct server {
	struct server_hooks hooks;
	struct config cfg;
	char *tls_cert, *tls_key;

	/* Current outputs; swapped by server_publish_json/_metrics(). */
	pthread_mutex_t out_lock;
	struct MHD_Response *status_json;
	struct MHD_Response *metrics[2]; /* by enum prometheus_format */

	/* Allowed client networks: configured, and from WireGuard. */
	pthread_rwlock_t acl_lock;
	struct netaddr_net nets[CONFIG_LIST_MAX];
	size_t n_nets;
	struct netaddr_net dyn_nets[SERVER_DYNAMIC_NETS_MAX];
	size_t n_dyn_nets;

	pthread_mutex_t listen_lock;
	struct listener listeners[SERVER_LISTENERS_MAX];
	size_t n_listeners;
	struct netaddr_endpoint failed[SERVER_LISTENERS_MAX]; /* logged bind failures */
	size_t n_failed;

	/* Basic authentication: successes are remembered as keyed hashes. */
	bool auth;
	pthread_mutex_t auth_lock;
	uint64_t auth_key[2];
	struct auth_entry auth_cache[SERVER_AUTH_CACHE];
	size_t auth_next;

	/* Fixed responses, built once. */
	struct MHD_Response *r_not_found, *r_method, *r_body, *r_auth, *r_ok, *r_no_data;
	struct MHD_Response *assets[8];
};

/* ---- responses ----------------------------------------------------------- */

static void add_common_headers(struct MHD_Response *r, const char *type)
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
		add_common_headers(r, type);
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
	add_common_headers(r, type);
	return r;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned code, struct MHD_Response *r)
{
	return r ? MHD_queue_response(c, code, r) : MHD_NO;
}

/* ---- access control ------------------------------------------------------ */

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct server *s = cls;
	bool ok = false;

	(void)addrlen;
	pthread_rwlock_rdlock(&s->acl_lock);
	for (size_t i = 0; i < s->n_nets && !ok; i++)
		ok = netaddr_net_contains(&s->nets[i], addr);
	for (size_t i = 0; i < s->n_dyn_nets && !ok; i++)
		ok = netaddr_net_contains(&s->dyn_nets[i], addr);
	pthread_rwlock_unlock(&s->acl_lock);
	if (!ok) {
		char who[80];

		netaddr_format_endpoint(addr, who, sizeof(who));
		log_debug("http: refused connection from %s (not in the allow-list)", who);
	}
	return ok ? MHD_YES : MHD_NO;
}

/* SipHash-2-4: a keyed hash, so the cache of successful logins holds
 * nothing an attacker who reads memory could replay as a password. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t siphash(const uint64_t key[2], const unsigned char *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0], v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0], v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)
			m = (m << 8) | in[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Compares in time that depends only on the lengths' maximum. */
static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
	unsigned char diff = la != lb;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)((i < la ? a[i] : 0) ^ (i < lb ? b[i] : 0));
	return diff == 0;
}

static bool authorized(struct server *s, struct MHD_Connection *c)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	struct crypt_data *data = NULL;
	time_t now = time(NULL);
	unsigned char buf[2 * CONFIG_TEXT_MAX + 2];
	bool ok = false, hit = false;
	uint64_t tag;
	size_t ul, pl;

	if (!user || !pass)
		goto out;
	ul = strlen(user);
	pl = strlen(pass);
	if (ul >= CONFIG_TEXT_MAX || pl >= CONFIG_TEXT_MAX)
		goto out;
	memcpy(buf, user, ul + 1);
	memcpy(buf + ul + 1, pass, pl);
	tag = siphash(s->auth_key, buf, ul + 1 + pl);
	explicit_bzero(buf, sizeof(buf));
	pthread_mutex_lock(&s->auth_lock);
	for (size_t i = 0; i < SERVER_AUTH_CACHE; i++)
		hit |= (s->auth_cache[i].expires > now) & (s->auth_cache[i].tag == tag);
	pthread_mutex_unlock(&s->auth_lock);
	if (hit) {
		ok = true;
		goto out;
	}
	/* bcrypt runs for a wrong user too: timing does not tell users apart. */
	data = calloc(1, sizeof(*data));
	if (data) {
		const char *hashed = crypt_r(pass, s->cfg.http_auth_bcrypt, data);
		bool user_ok = equal_ct(user, s->cfg.http_auth_user);
		bool pass_ok =
		    hashed && hashed[0] != '*' && equal_ct(hashed, s->cfg.http_auth_bcrypt);

		ok = user_ok & pass_ok;
		explicit_bzero(data, sizeof(*data));
		free(data);
	}
	if (ok) {
		pthread_mutex_lock(&s->auth_lock);
		s->auth_cache[s->auth_next].tag = tag;
		s->auth_cache[s->auth_next].expires = now + SERVER_AUTH_CACHE_SECONDS;
		s->auth_next = (s->auth_next + 1) % SERVER_AUTH_CACHE;
		pthread_mutex_unlock(&s->auth_lock);
	}
out:
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok;
}

/* ---- routes -------------------------------------------------------------- */

enum route {
	ROUTE_NONE,
	ROUTE_METRICS,
	ROUTE_STATUS,
	ROUTE_HISTORY,
	ROUTE_HEALTHZ,
	ROUTE_ASSET,
};

static enum route find_route(const char *url, size_t *asset)
{
	static const struct {
		const char *path;
		enum route route;
	} routes[] = {
	    {"/metrics", ROUTE_METRICS},
	    {"/status.json", ROUTE_STATUS},
	    {"/api/history", ROUTE_HISTORY},
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

static enum MHD_Result serve_published(struct server *s, struct MHD_Connection *c,
                                       struct MHD_Response *const *slot)
{
	enum MHD_Result r;

	/* Queued under the lock: publishing cannot drop the response between
	 * reading the pointer and the library taking its own reference. */
	pthread_mutex_lock(&s->out_lock);
	r = *slot ? MHD_queue_response(c, MHD_HTTP_OK, *slot)
	          : queue(c, MHD_HTTP_SERVICE_UNAVAILABLE, s->r_no_data);
	pthread_mutex_unlock(&s->out_lock);
	return r;
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

static enum MHD_Result serve_history(struct server *s, struct MHD_Connection *c)
{
	const char *series = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "series");
	size_t len = 0;
	char *doc = s->hooks.history ? s->hooks.history(s->hooks.arg, series, &len) : NULL;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	const char *length, *encoding;
	enum route route;
	size_t asset = 0;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	/* No route takes a body: refuse one before reading it. */
	length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	encoding =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if ((length && strcmp(length, "0") != 0) || encoding || *upload_data_size)
		return queue(c, MHD_HTTP_CONTENT_TOO_LARGE, s->r_body);
	if (s->auth && !authorized(s, c))
		return MHD_queue_basic_auth_fail_response(c, "sparkmon", s->r_auth);
	route = find_route(url, &asset);
	if (route == ROUTE_NONE)
		return queue(c, MHD_HTTP_NOT_FOUND, s->r_not_found);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, s->r_method);
	switch (route) {
	case ROUTE_METRICS: {
		const char *accept =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

		return serve_published(s, c, &s->metrics[prometheus_negotiate(accept)]);
	}
	case ROUTE_STATUS:
		return serve_published(s, c, &s->status_json);
	case ROUTE_HISTORY:
		return serve_history(s, c);
	case ROUTE_HEALTHZ:
		return serve_healthz(s, c);
	case ROUTE_ASSET:
		return queue(c, MHD_HTTP_OK, s->assets[asset]);
	case ROUTE_NONE:
		break;
	}
	return queue(c, MHD_HTTP_NOT_FOUND, s->r_not_found);
}

/* ---- listeners ----------------------------------------------------------- */

/* fmt is libmicrohttpd's own format string. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t len;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	log_debug("http: %s", line);
}

static struct MHD_Daemon *start_daemon(struct server *s, const struct netaddr_endpoint *ep)
{
	struct MHD_OptionItem opts[16];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	size_t n = 0;
	uint16_t port;

	if (ep->sa.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		port = ntohs(((const struct sockaddr_in6 *)&ep->sa)->sin6_port);
	} else {
		port = ntohs(((const struct sockaddr_in *)&ep->sa)->sin_port);
	}
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){o, (intptr_t)(v), p}
	OPT(MHD_OPTION_SOCK_ADDR, 0, (void *)(uintptr_t)&ep->sa);
	/* libmicrohttpd's defaults are "unlimited" or "never": set them all. */
	OPT(MHD_OPTION_CONNECTION_LIMIT, s->cfg.http_max_connections, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.http_max_connections_per_ip, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, (s->cfg.http_timeout_ms + 999) / 1000, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->cfg.http_memory_limit, NULL);
	OPT(MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL);
	OPT(MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL);
	if (s->tls_cert) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags, port, on_accept, s, on_request, s, MHD_OPTION_ARRAY, opts,
	                        MHD_OPTION_END);
}

static bool same_endpoint(const struct netaddr_endpoint *a, const struct netaddr_endpoint *b)
{
	return a->len == b->len && memcmp(&a->sa, &b->sa, a->len) == 0;
}

void server_set_dynamic(struct server *s, const struct netaddr_endpoint *listen, size_t n_listen,
                        const struct netaddr_net *allow, size_t n_allow)
{
	char where[80];

	if (n_allow > SERVER_DYNAMIC_NETS_MAX)
		n_allow = SERVER_DYNAMIC_NETS_MAX;
	pthread_rwlock_wrlock(&s->acl_lock);
	memcpy(s->dyn_nets, allow, n_allow * sizeof(*allow));
	s->n_dyn_nets = n_allow;
	pthread_rwlock_unlock(&s->acl_lock);

	pthread_mutex_lock(&s->listen_lock);
	/* Release addresses that went away. */
	for (size_t i = 0; i < s->n_listeners;) {
		struct listener *l = &s->listeners[i];
		bool wanted = !l->dynamic;

		for (size_t j = 0; j < n_listen && !wanted; j++)
			wanted = same_endpoint(&l->ep, &listen[j]);
		if (wanted) {
			i++;
			continue;
		}
		netaddr_format_endpoint((const struct sockaddr *)&l->ep.sa, where, sizeof(where));
		MHD_stop_daemon(l->daemon);
		log_info("http: stopped listening on %s (address gone)", where);
		*l = s->listeners[--s->n_listeners];
	}
	/* Bind new ones; an address not assigned yet is retried next round. */
	for (size_t j = 0; j < n_listen; j++) {
		bool have = false, logged = false;
		struct MHD_Daemon *d;

		for (size_t i = 0; i < s->n_listeners && !have; i++)
			have = same_endpoint(&s->listeners[i].ep, &listen[j]);
		if (have || s->n_listeners == SERVER_LISTENERS_MAX)
			continue;
		netaddr_format_endpoint((const struct sockaddr *)&listen[j].sa, where,
		                        sizeof(where));
		d = start_daemon(s, &listen[j]);
		for (size_t i = 0; i < s->n_failed && !logged; i++)
			logged = same_endpoint(&s->failed[i], &listen[j]);
		if (!d) {
			if (!logged && s->n_failed < SERVER_LISTENERS_MAX) {
				log_warning("http: cannot listen on %s yet; retrying", where);
				s->failed[s->n_failed++] = listen[j];
			}
			continue;
		}
		s->listeners[s->n_listeners++] = (struct listener){listen[j], d, true};
		log_info("http: listening on %s", where);
	}
	/* Forget failures for addresses no longer wanted or now bound. */
	for (size_t i = 0; i < s->n_failed;) {
		bool keep = false;

		for (size_t j = 0; j < n_listen && !keep; j++)
			keep = same_endpoint(&s->failed[i], &listen[j]);
		for (size_t k = 0; k < s->n_listeners && keep; k++)
			keep = !same_endpoint(&s->failed[i], &s->listeners[k].ep);
		if (keep)
			i++;
		else
			s->failed[i] = s->failed[--s->n_failed];
	}
	pthread_mutex_unlock(&s->listen_lock);
}

/* ---- lifecycle ----------------------------------------------------------- */

static int build_fixed_responses(struct server *s)
{
	const char *text = "text/plain; charset=utf-8";

	s->r_not_found = static_response("not found\n", text);
	s->r_method = static_response("method not allowed\n", text);
	s->r_body = static_response("request bodies are not accepted\n", text);
	s->r_auth = static_response("authentication required\n", text);
	s->r_ok = static_response("ok\n", text);
	s->r_no_data = static_response("no data yet\n", text);
	if (!s->r_not_found || !s->r_method || !s->r_body || !s->r_auth || !s->r_ok ||
	    !s->r_no_data)
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
		add_common_headers(s->assets[i], a->content_type);
	}
	return 0;
}

static int load_tls(struct server *s, char *err, size_t errlen)
{
	size_t len;
	int r;

	if (!s->cfg.http_tls_cert[0] && !s->cfg.http_tls_key[0])
		return 0;
	if (!s->cfg.http_tls_cert[0] || !s->cfg.http_tls_key[0]) {
		snprintf(err, errlen, "[http] tls_cert and tls_key go together");
		return -EINVAL;
	}
	if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(err, errlen, "this libmicrohttpd was built without TLS");
		return -ENOTSUP;
	}
	r = readfile_read(s->cfg.http_tls_cert, SERVER_PEM_MAX, &s->tls_cert, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", s->cfg.http_tls_cert, strerror(-r));
		return r;
	}
	r = readfile_read(s->cfg.http_tls_key, SERVER_PEM_MAX, &s->tls_key, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", s->cfg.http_tls_key, strerror(-r));
		return r;
	}
	return 0;
}

static void server_free(struct server *s)
{
	struct MHD_Response *fixed[] = {s->r_not_found, s->r_method,   s->r_body,
	                                s->r_auth,      s->r_ok,       s->r_no_data,
	                                s->status_json, s->metrics[0], s->metrics[1]};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i])
			MHD_destroy_response(fixed[i]);
	for (size_t i = 0; i < sizeof(s->assets) / sizeof(s->assets[0]); i++)
		if (s->assets[i])
			MHD_destroy_response(s->assets[i]);
	if (s->tls_key) {
		explicit_bzero(s->tls_key, strlen(s->tls_key));
		free(s->tls_key);
	}
	free(s->tls_cert);
	pthread_mutex_destroy(&s->out_lock);
	pthread_mutex_destroy(&s->listen_lock);
	pthread_mutex_destroy(&s->auth_lock);
	pthread_rwlock_destroy(&s->acl_lock);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

int server_start(const struct config *cfg, const struct server_hooks *hooks, struct server **ret,
                 char *err, size_t errlen)
{
	struct netaddr_endpoint eps[CONFIG_LIST_MAX];
	struct server *s = calloc(1, sizeof(*s));
	int n, r;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&s->out_lock, NULL);
	pthread_mutex_init(&s->listen_lock, NULL);
	pthread_mutex_init(&s->auth_lock, NULL);
	pthread_rwlock_init(&s->acl_lock, NULL);
	s->cfg = *cfg;
	s->hooks = *hooks;
	r = build_fixed_responses(s);
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n = netaddr_parse_nets(cfg->http_allow, s->nets, CONFIG_LIST_MAX);
	if (n < 0) {
		snprintf(err, errlen, "[http] allow: bad network list");
		r = n;
		goto fail;
	}
	s->n_nets = (size_t)n;
	if (cfg->http_auth_user[0] || cfg->http_auth_bcrypt[0]) {
		if (!cfg->http_auth_user[0] || strncmp(cfg->http_auth_bcrypt, "$2", 2) != 0) {
			snprintf(err, errlen,
			         "[http] auth_user needs auth_bcrypt, a bcrypt hash ($2b$...)");
			r = -EINVAL;
			goto fail;
		}
		if (getrandom(s->auth_key, sizeof(s->auth_key), 0) != sizeof(s->auth_key)) {
			snprintf(err, errlen, "getrandom failed");
			r = -EIO;
			goto fail;
		}
		s->auth = true;
	}
	r = load_tls(s, err, errlen);
	if (r < 0)
		goto fail;
	n = netaddr_parse_endpoints(cfg->http_listen, eps, CONFIG_LIST_MAX);
	if (n <= 0) {
		snprintf(err, errlen, "[http] listen: no address to listen on");
		r = -EINVAL;
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		char where[80];
		struct MHD_Daemon *d = start_daemon(s, &eps[i]);

		netaddr_format_endpoint((const struct sockaddr *)&eps[i].sa, where, sizeof(where));
		if (!d) {
			snprintf(err, errlen,
			         "cannot listen on %s (in use, or not an address here?)", where);
			r = -EADDRNOTAVAIL;
			goto fail;
		}
		s->listeners[s->n_listeners++] = (struct listener){eps[i], d, false};
	}
	*ret = s;
	return 0;
fail:
	for (size_t i = 0; i < s->n_listeners; i++)
		MHD_stop_daemon(s->listeners[i].daemon);
	server_free(s);
	return r;
}

/* Swaps in a fresh response; the old one is freed by libmicrohttpd once
 * the last connection sending it is done. A NULL fresh response (out of
 * memory) keeps the previous output being served. */
static void swap_in(struct server *s, struct MHD_Response **slot, struct MHD_Response *fresh)
{
	struct MHD_Response *old;

	if (!fresh)
		return;
	pthread_mutex_lock(&s->out_lock);
	old = *slot;
	*slot = fresh;
	pthread_mutex_unlock(&s->out_lock);
	if (old)
		MHD_destroy_response(old);
}

void server_publish_json(struct server *s, const char *text, size_t len, void (*release)(void *arg),
                         void *arg)
{
	struct MHD_Response *r;

	if (!text)
		return;
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)(uintptr_t)text,
	                                                           release, arg);
	if (!r) {
		release(arg);
		return;
	}
	add_common_headers(r, "application/json");
	swap_in(s, &s->status_json, r);
}

/* Both metrics responses send the one exposition; it goes when both have. */
struct shared_exposition {
	atomic_int refs;
	struct prometheus_exposition x;
};

static void shared_exposition_release(void *arg)
{
	struct shared_exposition *sx = arg;

	if (atomic_fetch_sub(&sx->refs, 1) == 1) {
		prometheus_exposition_free(&sx->x);
		free(sx);
	}
}

static struct MHD_Response *openmetrics_response(struct shared_exposition *sx)
{
	size_t max = PROMETHEUS_PIECES_MAX(&sx->x), n;
	struct iovec *pieces = malloc(max * sizeof(*pieces));
	struct MHD_IoVec *iov = malloc(max * sizeof(*iov));
	struct MHD_Response *r = NULL;

	if (pieces && iov) {
		n = prometheus_openmetrics_pieces(&sx->x, pieces);
		for (size_t i = 0; i < n; i++)
			iov[i] = (struct MHD_IoVec){pieces[i].iov_base, pieces[i].iov_len};
		/* libmicrohttpd copies the array, not the memory it points to. */
		r = MHD_create_response_from_iovec(iov, (unsigned)n, shared_exposition_release, sx);
	}
	free(pieces);
	free(iov);
	if (r)
		add_common_headers(r, PROMETHEUS_OPENMETRICS_CONTENT_TYPE);
	return r;
}

void server_publish_metrics(struct server *s, struct prometheus_exposition *x)
{
	struct shared_exposition *sx = malloc(sizeof(*sx));
	struct MHD_Response *text, *om;

	if (!sx) {
		prometheus_exposition_free(x);
		return;
	}
	sx->x = *x;
	memset(x, 0, sizeof(*x));
	atomic_init(&sx->refs, 2);
	text = MHD_create_response_from_buffer_with_free_callback_cls(
	    sx->x.text_len, sx->x.text, shared_exposition_release, sx);
	if (text)
		add_common_headers(text, PROMETHEUS_TEXT_CONTENT_TYPE);
	else
		shared_exposition_release(sx);
	om = openmetrics_response(sx);
	if (!om)
		shared_exposition_release(sx);
	swap_in(s, &s->metrics[PROMETHEUS_TEXT], text);
	swap_in(s, &s->metrics[PROMETHEUS_OPENMETRICS], om);
}

unsigned server_port(const struct server *s)
{
	const struct sockaddr_storage *sa = &s->listeners[0].ep.sa;

	return sa->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
	                                 : ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

void server_url(const struct server *s, char *buf, size_t size)
{
	char where[80];

	netaddr_format_endpoint((const struct sockaddr *)&s->listeners[0].ep.sa, where,
	                        sizeof(where));
	snprintf(buf, size, "%s://%s/", s->tls_cert ? "https" : "http", where);
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_listeners; i++)
		MHD_stop_daemon(s->listeners[i].daemon);
	server_free(s);
}
