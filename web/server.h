/* The HTTP server (libmicrohttpd): routes, access control, limits.
 *
 * Requests never touch probe state. The daemon renders its outputs after
 * each round and hands them over with server_publish_*(); a request only
 * queues the current, already-built response. */
#ifndef SPARKMON_SERVER_H
#define SPARKMON_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "monitor/config.h"
#include "monitor/netaddr.h"

struct prometheus_exposition;

struct server;

/* What the daemon provides besides the published outputs; called from the
 * server's threads. */
struct server_hooks {
	void *arg;
	/* 0 while the poll loop is alive; else -1 with a reason in why. */
	int (*health)(void *arg, char *why, size_t whylen);
	/* The history document for a "series" query value (NULL: list the
	 * series); a malloc'ed string, or NULL when out of memory. */
	char *(*history)(void *arg, const char *series, size_t *ret_len);
	/* The last changes of the checks' states (/api/events); a malloc'ed
	 * string, or NULL when out of memory. */
	char *(*events)(void *arg, size_t *ret_len);
};

/* Starts listening on cfg's [http] addresses. Returns 0, or a negative
 * errno with a reason in err. */
int server_start(const struct config *cfg, const struct server_hooks *hooks, struct server **ret,
                 char *err, size_t errlen);

/* Publish new outputs, each as soon as it is rendered (so that the old one
 * can go before the next is built). What is passed is taken over and
 * freed by the server once no response uses it any more. */
void server_publish_json(struct server *s, const char *text, size_t len, void (*release)(void *arg),
                         void *arg);
void server_publish_metrics(struct server *s, struct prometheus_exposition *metrics);

/* The WireGuard hook: the addresses to serve on besides the configured
 * ones (each interface address at the configured port) and the client
 * networks to allow besides the configured ones. Listeners are started for
 * new addresses and stopped for those gone; binding an address that is not
 * (yet) there is retried at the next call. */
void server_set_dynamic(struct server *s, const struct netaddr_endpoint *listen, size_t n_listen,
                        const struct netaddr_net *allow, size_t n_allow);

/* The port of the first configured listener (the actual one when the
 * configuration says port 0 is not allowed, so this is the configured one). */
unsigned server_port(const struct server *s);

/* "http://127.0.0.1:19586/" for the first listener. */
void server_url(const struct server *s, char *buf, size_t size);

/* Applies cfg's [http] keys (SIGHUP): allow-list, host names, limits and
 * authentication at once; listening addresses, TLS files (read again)
 * and per-connection settings by starting new listeners beside the old
 * ones. Logs what changed; on an error logs it and keeps [http] as it
 * was. Call it from the thread that calls server_set_dynamic(). */
void server_reload(struct server *s, const struct config *cfg);

void server_stop(struct server *s);

#endif
