/* The HTTP server's parts, shared by its files and nothing else:
 * web/server.c (lifecycle, publishing), web/listeners.c (listening sockets
 * and connection limits), web/admission.c (allow-list, Host, basic
 * authentication) and web/routes.c (what each path answers). */
#ifndef SPARKMON_SERVERIMPL_H
#define SPARKMON_SERVERIMPL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "monitor/config.h"
#include "monitor/netaddr.h"
#include "web/server.h"

#define SERVER_LISTENERS_MAX      (CONFIG_LIST_MAX + 32)
#define SERVER_DYNAMIC_NETS_MAX   64
#define SERVER_AUTH_CACHE         8
#define SERVER_AUTH_CACHE_SECONDS 600
#define SERVER_PEM_MAX            (64 * 1024)

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

/* web/routes.c */
void routes_add_headers(struct MHD_Response *r, const char *type);
int routes_build(struct server *s);
void routes_free(struct server *s);
enum MHD_Result routes_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls);

/* web/admission.c */
enum MHD_Result admission_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* Whether the request carries the configured credentials. */
bool admission_authorized(struct server *s, struct MHD_Connection *c);

/* web/listeners.c */
struct MHD_Daemon *listeners_start(struct server *s, const struct netaddr_endpoint *ep);
void listeners_set_dynamic(struct server *s, const struct netaddr_endpoint *listen,
                           size_t n_listen);
void listeners_stop_all(struct server *s);

#endif
