/* Listening sockets, one libmicrohttpd daemon (one epoll thread) per
 * address, so that WireGuard addresses can come and go without touching
 * the others; and the limits each connection is held to. A plain-HTTP
 * address's socket is accepted on by web/acceptor.c, which hands the
 * daemon its connections; a TLS daemon accepts on its own. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "monitor/log.h"
#include "web/serverimpl.h"

/* GnuTLS's defaults, but only TLS 1.3 and 1.2, and the server's order of
 * preference. */
#define LISTENERS_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"

/* How long a replaced listener's connections may take to finish. */
#define LISTENERS_DRAIN_MS 2000

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

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		connlimit_started(&s->conns, c, socket_context);
	else
		connlimit_closed(&s->conns, c, socket_context);
}

/* Called once a request line has arrived; the URI is not looked at (and
 * never logged: nothing a client sends is echoed anywhere). */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct server *s = cls;

	(void)uri;
	connlimit_request_line(&s->conns, c);
	return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;

	/* A request that ended between its check and its answer. */
	if (*con_cls)
		authpool_finish(&s->auth_pool, *con_cls, connlimit_now_ms());
	*con_cls = NULL;
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		connlimit_answered(&s->conns, c);
}

/* A listening socket on ep as libmicrohttpd would make it: beside others
 * on the same address (SO_REUSEPORT, for a replacement), IPv6 only on an
 * IPv6 address. Returns it, or -1. */
static int listen_on(const struct netaddr_endpoint *ep)
{
	int fd = socket(ep->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int on = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0 ||
	    (ep->sa.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) ||
	    bind(fd, (const struct sockaddr *)&ep->sa, ep->len) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct MHD_Daemon *listeners_start(struct server *s, const struct netaddr_endpoint *ep)
{
	struct MHD_OptionItem opts[20];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	                 MHD_ALLOW_SUSPEND_RESUME;
	size_t n = 0;
	uint16_t port = 0;
	struct MHD_Daemon *d;
	int fd = -1;

#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){o, (intptr_t)(v), p}
	/* libmicrohttpd's defaults are "unlimited" or "never": set them all. */
	/* The caps are the connection table's, across all listeners
	 * (web/connlimit.c); this one is never reached before them. */
	OPT(MHD_OPTION_CONNECTION_LIMIT, CONNLIMIT_SLOTS, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, (s->cfg.http_timeout_ms + 999) / 1000, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->cfg.http_memory_limit, NULL);
	OPT(MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, s);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, s);
	if (s->tls_cert) {
		flags |= MHD_USE_TLS;
		if (ep->sa.ss_family == AF_INET6) {
			flags |= MHD_USE_IPv6;
			port = ntohs(((const struct sockaddr_in6 *)&ep->sa)->sin6_port);
		} else {
			port = ntohs(((const struct sockaddr_in *)&ep->sa)->sin_port);
		}
		OPT(MHD_OPTION_SOCK_ADDR, 0, (void *)(uintptr_t)&ep->sa);
		OPT(MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL);
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, LISTENERS_TLS_PRIORITIES);
	} else {
		fd = listen_on(ep);
		if (fd < 0)
			return NULL;
		/* Connections come from web/acceptor.c, signalled to the
		 * daemon's thread through its inter-thread channel. */
		flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	d = MHD_start_daemon(flags, port, admission_on_accept, s, routes_on_request, s,
	                     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (fd >= 0 && (!d || acceptor_add(&s->acceptor, fd, d) < 0)) {
		close(fd);
		if (d)
			MHD_stop_daemon(d);
		return NULL;
	}
	return d;
}

/* Stops a daemon; its listening socket (if the acceptor's) goes first,
 * with the connections the acceptor had not handed over yet. */
static void stop_daemon(struct server *s, struct MHD_Daemon *d)
{
	acceptor_remove(&s->acceptor, d);
	MHD_stop_daemon(d);
}

static bool same_endpoint(const struct netaddr_endpoint *a, const struct netaddr_endpoint *b)
{
	return a->len == b->len && memcmp(&a->sa, &b->sa, a->len) == 0;
}

void listeners_set_dynamic(struct server *s, const struct netaddr_endpoint *listen, size_t n_listen)
{
	char where[80];

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
		stop_daemon(s, l->daemon);
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
		d = listeners_start(s, &listen[j]);
		for (size_t i = 0; i < s->n_failed && !logged; i++)
			logged = same_endpoint(&s->failed[i], &listen[j]);
		if (!d) {
			if (!logged && s->n_failed < SERVER_LISTENERS_MAX) {
				log_warning("http: cannot listen on %s yet; retrying", where);
				s->failed[s->n_failed++] = listen[j];
			}
			continue;
		}
		s->listeners[s->n_listeners++] = (struct listener){listen[j], d, true, false};
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

void listeners_stop_all(struct server *s)
{
	for (size_t i = 0; i < s->n_listeners; i++)
		stop_daemon(s, s->listeners[i].daemon);
	s->n_listeners = 0;
}

/* Stops a replaced daemon: it stops accepting at once (its listening
 * socket closed, so that the kernel hands every new connection to the
 * daemon that replaces it), and the requests it is answering may finish. */
static void retire(struct server *s, struct MHD_Daemon *old)
{
	struct timespec step = {0, 50 * 1000 * 1000};
	MHD_socket fd;

	/* A plain-HTTP listening socket is the acceptor's, a TLS one the
	 * daemon's. Connections just handed over count once its thread has
	 * taken them. */
	if (acceptor_remove(&s->acceptor, old))
		nanosleep(&step, NULL);
	fd = MHD_quiesce_daemon(old);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	for (int waited = 0; waited < LISTENERS_DRAIN_MS; waited += 50) {
		const union MHD_DaemonInfo *info =
		    MHD_get_daemon_info(old, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		if (!info || info->num_connections == 0)
			break;
		nanosleep(&step, NULL);
	}
	MHD_stop_daemon(old);
}

/* A new daemon with the current settings, listening beside the old one on
 * the same address (SO_REUSEPORT) before that one stops: the address is
 * served throughout. */
static void replace(struct server *s, struct listener *l)
{
	struct MHD_Daemon *d = listeners_start(s, &l->ep);
	char where[80];

	netaddr_format_endpoint((const struct sockaddr *)&l->ep.sa, where, sizeof(where));
	if (!d) {
		log_error(
		    "reload: cannot listen on %s with the new settings; it keeps the old ones",
		    where);
		return;
	}
	retire(s, l->daemon);
	l->daemon = d;
	log_info("http: listening on %s with the new settings", where);
}

void listeners_reload(struct server *s, const struct netaddr_endpoint *eps, size_t n, bool relisten)
{
	char where[80];

	pthread_mutex_lock(&s->listen_lock);
	/* New addresses first, so that a moved listener is never absent. */
	for (size_t j = 0; j < n; j++) {
		bool have = false;
		struct MHD_Daemon *d;

		for (size_t i = 0; i < s->n_listeners && !have; i++)
			have =
			    !s->listeners[i].dynamic && same_endpoint(&s->listeners[i].ep, &eps[j]);
		if (have || s->n_listeners == SERVER_LISTENERS_MAX)
			continue;
		netaddr_format_endpoint((const struct sockaddr *)&eps[j].sa, where, sizeof(where));
		d = listeners_start(s, &eps[j]);
		if (!d) {
			log_error("reload: cannot listen on %s (in use, or not an address here?)",
			          where);
			continue;
		}
		s->listeners[s->n_listeners++] = (struct listener){eps[j], d, false, true};
		log_info("http: listening on %s", where);
	}
	for (size_t i = 0; i < s->n_listeners;) {
		struct listener *l = &s->listeners[i];
		bool wanted = l->dynamic;

		for (size_t j = 0; j < n && !wanted; j++)
			wanted = same_endpoint(&l->ep, &eps[j]);
		if (wanted) {
			/* Those just started have the new settings already. */
			if (relisten && !l->started_by_reload)
				replace(s, l);
			l->started_by_reload = false;
			i++;
			continue;
		}
		netaddr_format_endpoint((const struct sockaddr *)&l->ep.sa, where, sizeof(where));
		retire(s, l->daemon);
		log_info("http: stopped listening on %s (no longer in [http] listen)", where);
		*l = s->listeners[--s->n_listeners];
	}
	pthread_mutex_unlock(&s->listen_lock);
}
