/* The HTTP server's parts, shared by its files and nothing else:
 * web/server.c (lifecycle, publishing), web/listeners.c (listening sockets
 * and connection limits), web/acceptor.c (accepting plain-HTTP
 * connections, answering garbage), web/admission.c (allow-list, Host,
 * basic authentication) and web/routes.c (what each path answers). */
#ifndef SPARKMON_SERVERIMPL_H
#define SPARKMON_SERVERIMPL_H

#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
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
	bool started_by_reload; /* during listeners_reload() only */
};

/* Slots for the largest connection cap a configuration may set, and for
 * the few that listeners admitting at the same moment may add. */
#define CONNLIMIT_SLOTS (10000 + SERVER_LISTENERS_MAX)

/* A client address, IPv4-mapped IPv6 as IPv4. */
struct conn_addr {
	unsigned char family;
	unsigned char bytes[16];
};

struct conn_slot {
	struct MHD_Connection *c; /* NULL: free */
	int fd;
	bool served;          /* a request was answered on it */
	bool departed;        /* its client had closed, with nothing unread, at the last look */
	uint64_t accepted_ms; /* CLOCK_MONOTONIC */
	uint64_t deadline_ms; /* its request's headers by then, or it is closed */
	struct conn_addr addr;
};

struct connlimit {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct conn_slot *slots;
	size_t cap, top, used; /* slots in use lie below top */
	struct pollfd *polls;  /* the reaper's, one per slot */
	size_t *polled;        /* the slot of each of polls */
	uint32_t max, max_per_addr;
	uint64_t request_ms, idle_ms;
	pthread_t reaper;
	bool running, stopping;
};

/* A password check handed to a worker: the request waits suspended. */
struct auth_job {
	struct auth_job *next;
	struct MHD_Connection *c;
	struct conn_addr addr;
	bool ok; /* the worker's answer */
	char user[CONFIG_TEXT_MAX], pass[CONFIG_TEXT_MAX];
};

/* What is known of one client address's password attempts. */
struct auth_backoff {
	struct conn_addr addr;
	bool used, pending; /* pending: a check queued or running */
	unsigned failures;  /* wrong passwords since the last right one */
	uint64_t until_ms;  /* no check before then (CLOCK_MONOTONIC) */
	uint64_t seen_ms;
};

#define AUTHPOOL_WORKERS   2
#define AUTHPOOL_ADDRESSES 256

struct authpool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct auth_job *head, *tail;
	size_t queued;
	pthread_t workers[AUTHPOOL_WORKERS];
	size_t n_workers;
	bool initialized, stopping;
	char user[CONFIG_TEXT_MAX], hash[CONFIG_TEXT_MAX];
	struct auth_backoff table[AUTHPOOL_ADDRESSES];
};

/* Connections whose first line web/acceptor.c is looking at, in all and
 * from one client address. */
#define ACCEPTOR_CONNS_MAX      64
#define ACCEPTOR_CONNS_PER_ADDR 4

struct acceptor_port {
	int fd; /* a listening socket; -1: free */
	struct MHD_Daemon *daemon;
};

struct acceptor_conn {
	int fd;        /* -1: free */
	bool watched;  /* in the epoll set */
	bool answered; /* 400 sent: waits for the client to close */
	struct MHD_Daemon *daemon;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct conn_addr key;
	uint64_t deadline_ms; /* handed over (or closed, when answered) then */
};

struct acceptor {
	pthread_mutex_t lock;
	pthread_t thread;
	int epfd, wakefd;
	bool running, stopping;
	struct server *server;
	uint64_t paused_until_ms; /* out of descriptors: not accepting */
	struct acceptor_port ports[SERVER_LISTENERS_MAX];
	struct acceptor_conn conns[ACCEPTOR_CONNS_MAX];
	size_t n_conns;
};

struct auth_entry {
	uint64_t tag;
	time_t expires;
};

struct server {
	struct server_hooks hooks;
	struct config cfg;
	char *tls_cert, *tls_key;

	/* Current outputs; swapped by server_publish_json/_metrics(). Each
	 * has its gzip copy beside it once a client has asked for that output
	 * gzip'ed (the flag; NULL until then or when it could not be made). */
	pthread_mutex_t out_lock;
	struct MHD_Response *status_json, *status_json_gz;
	struct MHD_Response *metrics[2], *metrics_gz[2]; /* by enum prometheus_format */
	atomic_bool status_json_gz_wanted, metrics_gz_wanted[2];

	/* Allowed client networks: configured, and from WireGuard. */
	pthread_rwlock_t acl_lock;
	struct netaddr_net nets[CONFIG_LIST_MAX];
	size_t n_nets;
	struct netaddr_net dyn_nets[SERVER_DYNAMIC_NETS_MAX];
	size_t n_dyn_nets;
	char hostnames[CONFIG_TEXT_MAX]; /* [http] hostnames */

	pthread_mutex_t listen_lock;
	struct listener listeners[SERVER_LISTENERS_MAX];
	size_t n_listeners;
	struct netaddr_endpoint failed[SERVER_LISTENERS_MAX]; /* logged bind failures */
	size_t n_failed;

	struct connlimit conns;
	struct acceptor acceptor;

	/* Basic authentication: successes are remembered as keyed hashes. */
	atomic_bool auth;
	pthread_mutex_t auth_lock;
	uint64_t auth_key[2];
	struct auth_entry auth_cache[SERVER_AUTH_CACHE];
	size_t auth_next;
	struct authpool auth_pool;

	/* Fixed responses, built once. */
	struct MHD_Response *r_not_found, *r_method, *r_body, *r_auth, *r_ok, *r_no_data,
	    *r_misdirected;
	struct MHD_Response *assets[8];
};

/* web/routes.c */
void routes_add_headers(struct MHD_Response *r, const char *type);
int routes_build(struct server *s);
void routes_free(struct server *s);
enum MHD_Result routes_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls);

/* web/connlimit.c: the connection table and its deadline thread. */
int connlimit_start(struct connlimit *cl, const struct config *cfg);
void connlimit_apply(struct connlimit *cl, const struct config *cfg);
void connlimit_stop(struct connlimit *cl);
/* Whether a client may connect now (at the cap, another may be closed). */
bool connlimit_admit(struct connlimit *cl, const struct sockaddr *sa);
/* libmicrohttpd's moments of a connection. */
void connlimit_started(struct connlimit *cl, struct MHD_Connection *c, void **socket_context);
void connlimit_closed(struct connlimit *cl, struct MHD_Connection *c, void **socket_context);
void connlimit_request_line(struct connlimit *cl, struct MHD_Connection *c);
void connlimit_headers_done(struct connlimit *cl, struct MHD_Connection *c);
void connlimit_answered(struct connlimit *cl, struct MHD_Connection *c);
void connlimit_addr_key(const struct sockaddr *sa, struct conn_addr *ret);
uint64_t connlimit_now_ms(void);

/* web/authpool.c: password checks on worker threads, backoff by address. */
int authpool_start(struct authpool *p, const struct config *cfg);
void authpool_apply(struct authpool *p, const struct config *cfg);
/* Stops the workers once the queue is empty (before the daemons stop). */
void authpool_stop(struct authpool *p);
void authpool_free(struct authpool *p);
/* Seconds addr must wait before its next check; 0: none. */
unsigned authpool_retry_after(struct authpool *p, const struct conn_addr *addr, uint64_t now);
/* A job for a check, or NULL when addr must wait or the queue is full;
 * then authpool_submit() once the connection is suspended. */
struct auth_job *authpool_reserve(struct authpool *p, const struct conn_addr *addr,
                                  const char *user, const char *pass, uint64_t now);
void authpool_submit(struct authpool *p, struct auth_job *job, struct MHD_Connection *c);
/* Right credentials from addr (remembered, so not checked): its backoff
 * is over. */
void authpool_forgive(struct authpool *p, const struct conn_addr *addr);
/* The answer of a job the worker resumed; records it and frees the job. */
bool authpool_finish(struct authpool *p, struct auth_job *job, uint64_t now);

/* web/acceptor.c: the thread that accepts on plain-HTTP listeners. */
int acceptor_start(struct acceptor *a, struct server *s);
/* Joins the thread; the listeners were removed before. */
void acceptor_stop(struct acceptor *a);
/* Accepts on the listening socket fd (taken over) for daemon d. */
int acceptor_add(struct acceptor *a, int fd, struct MHD_Daemon *d);
/* Closes d's listening socket and hands d the connections not judged
 * yet (returns how many); after it returns, nothing more is handed to d. */
size_t acceptor_remove(struct acceptor *a, struct MHD_Daemon *d);

/* web/admission.c */
/* Whether addr is in the allow-list (configured or from WireGuard). */
bool admission_allowed(struct server *s, const struct sockaddr *addr);
enum MHD_Result admission_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* Whether the Host header names this server (anti DNS rebinding): absent,
 * localhost, a configured name, or the IP address the client connected
 * to (local), with or without a port. */
bool admission_host_allowed(const char *host, const struct sockaddr *local, const char *hostnames);
bool admission_host_ok(struct server *s, struct MHD_Connection *c);
enum admission_auth {
	ADMISSION_AUTH_OK,
	ADMISSION_AUTH_DENIED,
	ADMISSION_AUTH_WAIT,  /* suspended for a check: answer nothing yet */
	ADMISSION_AUTH_LATER, /* 429, Retry-After *retry_after seconds */
};

/* Whether the request carries the configured credentials; called again
 * with the same *con_cls when a check it started is done. */
enum admission_auth admission_authorize(struct server *s, struct MHD_Connection *c, void **con_cls,
                                        unsigned *retry_after);

/* web/listeners.c */
struct MHD_Daemon *listeners_start(struct server *s, const struct netaddr_endpoint *ep);
void listeners_set_dynamic(struct server *s, const struct netaddr_endpoint *listen,
                           size_t n_listen);
void listeners_stop_all(struct server *s);
/* The configured addresses become eps: new ones are listened on before
 * those no longer listed stop; with relisten (TLS, memory or timeout
 * changed) each that stays gets a new daemon beside its old one. */
void listeners_reload(struct server *s, const struct netaddr_endpoint *eps, size_t n,
                      bool relisten);

#endif
