/* The HTTP server: its lifecycle and the outputs it publishes.
 *
 * Publishing swaps the response pointers and drops the old responses,
 * which libmicrohttpd frees once the last connection sending them is done.
 * The other concerns live beside this file: listening and connection
 * limits in web/listeners.c, who is served in web/admission.c, and what
 * each path answers in web/routes.c. */
#include "web/server.h"

#include <errno.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "monitor/log.h"
#include "probes/readfile.h"
#include "web/gzip.h"
#include "web/prometheus.h"
#include "web/serverimpl.h"

void server_set_dynamic(struct server *s, const struct netaddr_endpoint *listen, size_t n_listen,
                        const struct netaddr_net *allow, size_t n_allow)
{
	if (n_allow > SERVER_DYNAMIC_NETS_MAX)
		n_allow = SERVER_DYNAMIC_NETS_MAX;
	pthread_rwlock_wrlock(&s->acl_lock);
	memcpy(s->dyn_nets, allow, n_allow * sizeof(*allow));
	s->n_dyn_nets = n_allow;
	pthread_rwlock_unlock(&s->acl_lock);
	listeners_set_dynamic(s, listen, n_listen);
}

/* ---- lifecycle ----------------------------------------------------------- */

/* Reads the PEM files cfg names into *cert and *key (both NULL when it
 * names none). */
static int load_tls(const struct config *cfg, char **cert, char **key, char *err, size_t errlen)
{
	size_t len;
	int r;

	*cert = *key = NULL;
	if (!cfg->http_tls_cert[0] && !cfg->http_tls_key[0])
		return 0;
	if (!cfg->http_tls_cert[0] || !cfg->http_tls_key[0]) {
		snprintf(err, errlen, "[http] tls_cert and tls_key go together");
		return -EINVAL;
	}
	if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(err, errlen, "this libmicrohttpd was built without TLS");
		return -ENOTSUP;
	}
	r = readfile_read(cfg->http_tls_cert, SERVER_PEM_MAX, cert, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", cfg->http_tls_cert, strerror(-r));
		return r;
	}
	r = readfile_read(cfg->http_tls_key, SERVER_PEM_MAX, key, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", cfg->http_tls_key, strerror(-r));
		free(*cert);
		*cert = NULL;
		return r;
	}
	return 0;
}

static void free_key(char *key)
{
	if (key) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
}

static void server_free(struct server *s)
{
	struct MHD_Response *published[] = {s->status_json,    s->metrics[0],    s->metrics[1],
	                                    s->status_json_gz, s->metrics_gz[0], s->metrics_gz[1]};

	authpool_free(&s->auth_pool);
	acceptor_stop(&s->acceptor);
	connlimit_stop(&s->conns);
	routes_free(s);
	for (size_t i = 0; i < sizeof(published) / sizeof(published[0]); i++)
		if (published[i])
			MHD_destroy_response(published[i]);
	free_key(s->tls_key);
	free(s->tls_cert);
	pthread_mutex_destroy(&s->out_lock);
	pthread_mutex_destroy(&s->listen_lock);
	pthread_mutex_destroy(&s->auth_lock);
	pthread_rwlock_destroy(&s->acl_lock);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

/* Basic authentication as cfg says (s->cfg holds what it said before):
 * on (the check threads started once), off, or with other credentials. */
static int apply_auth(struct server *s, const struct config *cfg, char *err, size_t errlen)
{
	bool on = cfg->http_auth_user[0] || cfg->http_auth_bcrypt[0];
	int r;

	if (on && (!cfg->http_auth_user[0] || strncmp(cfg->http_auth_bcrypt, "$2", 2) != 0)) {
		snprintf(err, errlen,
		         "[http] auth_user needs auth_bcrypt, a bcrypt hash ($2b$...)");
		return -EINVAL;
	}
	if (on && !s->auth_pool.initialized) {
		r = authpool_start(&s->auth_pool, cfg);
		if (r < 0) {
			snprintf(err, errlen, "cannot start: %s", strerror(-r));
			return r;
		}
	}
	if (s->auth_pool.initialized)
		authpool_apply(&s->auth_pool, cfg);
	/* Logins remembered for other credentials are forgotten. */
	if (strcmp(s->cfg.http_auth_user, cfg->http_auth_user) != 0 ||
	    strcmp(s->cfg.http_auth_bcrypt, cfg->http_auth_bcrypt) != 0) {
		pthread_mutex_lock(&s->auth_lock);
		memset(s->auth_cache, 0, sizeof(s->auth_cache));
		pthread_mutex_unlock(&s->auth_lock);
	}
	atomic_store(&s->auth, on);
	return 0;
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
	memcpy(s->hostnames, cfg->http_hostnames, sizeof(s->hostnames));
	r = connlimit_start(&s->conns, cfg);
	if (r < 0) {
		snprintf(err, errlen, "cannot start: %s", strerror(-r));
		goto fail;
	}
	r = acceptor_start(&s->acceptor, s);
	if (r < 0) {
		snprintf(err, errlen, "cannot start: %s", strerror(-r));
		goto fail;
	}
	r = routes_build(s);
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
	if (getrandom(s->auth_key, sizeof(s->auth_key), 0) != sizeof(s->auth_key)) {
		snprintf(err, errlen, "getrandom failed");
		r = -EIO;
		goto fail;
	}
	r = apply_auth(s, cfg, err, errlen);
	if (r < 0)
		goto fail;
	r = load_tls(cfg, &s->tls_cert, &s->tls_key, err, errlen);
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
		struct MHD_Daemon *d = listeners_start(s, &eps[i]);

		netaddr_format_endpoint((const struct sockaddr *)&eps[i].sa, where, sizeof(where));
		if (!d) {
			snprintf(err, errlen,
			         "cannot listen on %s (in use, or not an address here?)", where);
			r = -EADDRNOTAVAIL;
			goto fail;
		}
		s->listeners[s->n_listeners++] = (struct listener){eps[i], d, false, false};
	}
	*ret = s;
	return 0;
fail:
	/* Waiting checks are answered before the daemons go. */
	authpool_stop(&s->auth_pool);
	listeners_stop_all(s);
	server_free(s);
	return r;
}

/* ---- reload --------------------------------------------------------------- */

/* Logs each [http] key whose value differs (never the values: auth_bcrypt
 * is a secret's hash). */
static void log_changes(const struct config *old, const struct config *cfg, bool tls_files)
{
	static const struct {
		const char *name;
		size_t offset, size;
	} keys[] = {
#define KEY(name, field) {name, offsetof(struct config, field), sizeof(((struct config *)0)->field)}
	    KEY("listen", http_listen),
	    KEY("allow", http_allow),
	    KEY("hostnames", http_hostnames),
	    KEY("max_connections", http_max_connections),
	    KEY("max_connections_per_ip", http_max_connections_per_ip),
	    KEY("timeout", http_timeout_ms),
	    KEY("request_timeout", http_request_timeout_ms),
	    KEY("memory_limit", http_memory_limit),
	    KEY("auth_user", http_auth_user),
	    KEY("auth_bcrypt", http_auth_bcrypt),
	    KEY("tls_cert", http_tls_cert),
	    KEY("tls_key", http_tls_key),
#undef KEY
	};
	char line[512];
	size_t len = 0;

	line[0] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (memcmp((const char *)old + keys[i].offset, (const char *)cfg + keys[i].offset,
		           keys[i].size) != 0 &&
		    len < sizeof(line))
			len +=
			    (size_t)snprintf(line + len, sizeof(line) - len, " %s", keys[i].name);
	if (tls_files && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len, " (certificate files)");
	if (len)
		log_info("reload: [http] changed:%s", line);
	if (old->http_listen_wireguard != cfg->http_listen_wireguard ||
	    old->http_allow_wireguard != cfg->http_allow_wireguard)
		log_info(
		    "reload: [http] listen_wireguard, allow_wireguard apply at the next round");
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void server_reload(struct server *s, const struct config *cfg)
{
	struct netaddr_endpoint eps[CONFIG_LIST_MAX];
	struct netaddr_net nets[CONFIG_LIST_MAX];
	char err[256], *cert = NULL, *key = NULL, *old_cert, *old_key;
	int n_nets = netaddr_parse_nets(cfg->http_allow, nets, CONFIG_LIST_MAX);
	int n_eps = netaddr_parse_endpoints(cfg->http_listen, eps, CONFIG_LIST_MAX);
	bool tls_changed, relisten;

	/* The file was checked when loaded: these fail only on a bug. */
	if (n_nets < 0 || n_eps <= 0) {
		log_error("reload: [http] listen or allow unusable; [http] kept as it was");
		return;
	}
	if (load_tls(cfg, &cert, &key, err, sizeof(err)) < 0) {
		log_error("reload: %s; [http] kept as it was", err);
		return;
	}
	if (apply_auth(s, cfg, err, sizeof(err)) < 0) {
		log_error("reload: %s; [http] kept as it was", err);
		free(cert);
		free_key(key);
		return;
	}
	tls_changed = !same_text(cert, s->tls_cert) || !same_text(key, s->tls_key);
	log_changes(&s->cfg, cfg,
	            tls_changed && strcmp(s->cfg.http_tls_cert, cfg->http_tls_cert) == 0);
	pthread_rwlock_wrlock(&s->acl_lock);
	memcpy(s->nets, nets, (size_t)n_nets * sizeof(nets[0]));
	s->n_nets = (size_t)n_nets;
	memcpy(s->hostnames, cfg->http_hostnames, sizeof(s->hostnames));
	pthread_rwlock_unlock(&s->acl_lock);
	connlimit_apply(&s->conns, cfg);

	/* What a listening daemon is started with: a change means new ones,
	 * each started beside the one it replaces before that one stops. */
	relisten = tls_changed || cfg->http_memory_limit != s->cfg.http_memory_limit ||
	           cfg->http_timeout_ms != s->cfg.http_timeout_ms;
	pthread_mutex_lock(&s->listen_lock);
	s->cfg = *cfg;
	old_cert = s->tls_cert;
	old_key = s->tls_key;
	s->tls_cert = cert;
	s->tls_key = key;
	pthread_mutex_unlock(&s->listen_lock);
	listeners_reload(s, eps, (size_t)n_eps, relisten);
	free(old_cert);
	free_key(old_key);
}

/* Puts FRESH (NULL: nothing) in SLOT; the old response is freed by
 * libmicrohttpd once the last connection sending it is done. */
static void swap(struct server *s, struct MHD_Response **slot, struct MHD_Response *fresh)
{
	struct MHD_Response *old;

	pthread_mutex_lock(&s->out_lock);
	old = *slot;
	*slot = fresh;
	pthread_mutex_unlock(&s->out_lock);
	if (old)
		MHD_destroy_response(old);
}

/* Swaps in a fresh response. A NULL one (out of memory) keeps the
 * previous output being served. */
static void swap_in(struct server *s, struct MHD_Response **slot, struct MHD_Response *fresh)
{
	if (fresh)
		swap(s, slot, fresh);
}

/* Publishes in SLOT the gzip copy of the N pieces of an output just
 * published, when a client has asked for one (WANTED): no memory nor time
 * goes to copies nobody reads. The previous copy goes first, so that two
 * are never kept at once, nor one older than the plain text; meanwhile,
 * and when the copy cannot be made, clients get the plain text, which is
 * always allowed. */
static void publish_gzip(struct server *s, struct MHD_Response **slot, const atomic_bool *wanted,
                         const struct iovec *pieces, size_t n, const char *type)
{
	struct MHD_Response *r;
	size_t len;
	void *buf;

	swap(s, slot, NULL);
	if (!atomic_load_explicit(wanted, memory_order_relaxed) || !pieces ||
	    gzip_compress(pieces, n, &buf, &len) < 0)
		return;
	r = MHD_create_response_from_buffer_with_free_callback(len, buf, free);
	if (!r) {
		free(buf);
		return;
	}
	routes_add_headers(r, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	swap(s, slot, r);
}

void server_publish_json(struct server *s, const char *text, size_t len, void (*release)(void *arg),
                         void *arg)
{
	struct iovec whole = {(void *)(uintptr_t)text, len};
	struct MHD_Response *r;

	if (!text)
		return;
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)(uintptr_t)text,
	                                                           release, arg);
	if (!r) {
		release(arg);
		return;
	}
	routes_add_headers(r, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	swap_in(s, &s->status_json, r);
	/* The text lives as long as the response in the slot, which only this
	 * thread replaces. */
	publish_gzip(s, &s->status_json_gz, &s->status_json_gz_wanted, &whole, 1,
	             "application/json");
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

/* The OpenMetrics body's pieces (malloc'ed, *ret_n of them), or NULL. */
static struct iovec *openmetrics_pieces(const struct shared_exposition *sx, size_t *ret_n)
{
	struct iovec *pieces = malloc(PROMETHEUS_PIECES_MAX(&sx->x) * sizeof(*pieces));

	if (pieces)
		*ret_n = prometheus_openmetrics_pieces(&sx->x, pieces);
	return pieces;
}

static struct MHD_Response *openmetrics_response(struct shared_exposition *sx,
                                                 const struct iovec *pieces, size_t n)
{
	struct MHD_IoVec *iov = malloc((n ? n : 1) * sizeof(*iov));
	struct MHD_Response *r = NULL;

	if (pieces && iov) {
		for (size_t i = 0; i < n; i++)
			iov[i] = (struct MHD_IoVec){pieces[i].iov_base, pieces[i].iov_len};
		/* libmicrohttpd copies the array, not the memory it points to. */
		r = MHD_create_response_from_iovec(iov, (unsigned)n, shared_exposition_release, sx);
	}
	free(iov);
	if (r) {
		routes_add_headers(r, PROMETHEUS_OPENMETRICS_CONTENT_TYPE);
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	}
	return r;
}

void server_publish_metrics(struct server *s, struct prometheus_exposition *x)
{
	struct shared_exposition *sx = malloc(sizeof(*sx));
	struct MHD_Response *text, *om;
	struct iovec whole, *pieces;
	size_t n = 0;

	if (!sx) {
		prometheus_exposition_free(x);
		return;
	}
	sx->x = *x;
	memset(x, 0, sizeof(*x));
	atomic_init(&sx->refs, 2);
	whole = (struct iovec){sx->x.text, sx->x.text_len};
	pieces = openmetrics_pieces(sx, &n);
	text = MHD_create_response_from_buffer_with_free_callback_cls(
	    sx->x.text_len, sx->x.text, shared_exposition_release, sx);
	if (text) {
		routes_add_headers(text, PROMETHEUS_TEXT_CONTENT_TYPE);
		MHD_add_response_header(text, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	} else {
		shared_exposition_release(sx);
	}
	om = openmetrics_response(sx, pieces, n);
	if (!om)
		shared_exposition_release(sx);
	swap_in(s, &s->metrics[PROMETHEUS_TEXT], text);
	swap_in(s, &s->metrics[PROMETHEUS_OPENMETRICS], om);
	/* The exposition lives as long as a response in a slot sends it, and
	 * only this thread replaces them. */
	if (text)
		publish_gzip(s, &s->metrics_gz[PROMETHEUS_TEXT],
		             &s->metrics_gz_wanted[PROMETHEUS_TEXT], &whole, 1,
		             PROMETHEUS_TEXT_CONTENT_TYPE);
	if (om)
		publish_gzip(s, &s->metrics_gz[PROMETHEUS_OPENMETRICS],
		             &s->metrics_gz_wanted[PROMETHEUS_OPENMETRICS], pieces, n,
		             PROMETHEUS_OPENMETRICS_CONTENT_TYPE);
	free(pieces);
}

/* The first configured listener's address (a reload may have moved it). */
static const struct sockaddr_storage *first_address(const struct server *s)
{
	for (size_t i = 0; i < s->n_listeners; i++)
		if (!s->listeners[i].dynamic)
			return &s->listeners[i].ep.sa;
	return &s->listeners[0].ep.sa;
}

unsigned server_port(const struct server *s)
{
	const struct sockaddr_storage *sa = first_address(s);

	return sa->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
	                                 : ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

void server_url(const struct server *s, char *buf, size_t size)
{
	char where[80];

	netaddr_format_endpoint((const struct sockaddr *)first_address(s), where, sizeof(where));
	snprintf(buf, size, "%s://%s/", s->tls_cert ? "https" : "http", where);
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	/* Waiting checks are answered before the daemons go. */
	authpool_stop(&s->auth_pool);
	listeners_stop_all(s);
	server_free(s);
}
