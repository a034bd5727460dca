/* `sparkmon serve`: the daemon.
 *
 * Threads:
 * - one per probe (monitor/scheduler.c), each on its own interval; a probe
 *   that hangs holds up only its own thread;
 * - this one, the poll loop: after probes finish it evaluates the verdict
 *   on the shared snapshot, logs changes, records history, renders the
 *   status document and both metrics formats, and publishes them to the
 *   HTTP server as finished, immutable responses;
 * - libmicrohttpd's, one per listening address: they only queue those
 *   finished responses, so a request never waits on a probe and never sees
 *   a half-updated snapshot. */
#include "monitor/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor/history.h"
#include "monitor/log.h"
#include "monitor/netaddr.h"
#include "monitor/notify.h"
#include "monitor/probetab.h"
#include "monitor/scheduler.h"
#include "monitor/verdict.h"
#include "web/json.h"
#include "web/prometheus.h"
#include "web/server.h"

/* How often the loop wakes at the least: bounds how late it notices a
 * signal (stop within a second) and keeps the heartbeat fresh. */
#define SERVE_TICK_MS        200
#define SERVE_HISTORY_POINTS 720 /* at most this many points per series in a reply */
#define SERVE_DYNAMIC_MAX    64

static volatile sig_atomic_t serve_stop;
static volatile sig_atomic_t serve_reload;

struct serve_state {
	struct config cfg;
	struct scheduler *sched;
	struct server *server;
	struct verdict *prev, *now;
	enum probe_status probe_status[PROBE__COUNT];
	bool probe_seen[PROBE__COUNT];

	pthread_mutex_t history_lock;
	struct history *history;

	/* Read by HTTP threads for /healthz. */
	_Atomic uint64_t heartbeat_ms;
	_Atomic int overdue_probe; /* -1 none */
	_Atomic uint64_t stall_limit_ms;
};

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		serve_reload = 1;
	else
		serve_stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A client that goes away mid-response must not kill the daemon. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- logging of changes -------------------------------------------------- */

/* Logs each check whose status changed since the last round, once. */
static void log_changes(const struct verdict *old, const struct verdict *now)
{
	for (size_t i = 0; i < now->count; i++) {
		const struct check *c = &now->checks[i];
		enum check_status before = CHECK_OK;
		bool known = false;

		for (size_t j = 0; j < old->count && !known; j++) {
			if (strcmp(old->checks[j].id, c->id) == 0) {
				before = old->checks[j].status;
				known = true;
			}
		}
		if (known && before == c->status)
			continue;
		log_msg(c->status == CHECK_OK         ? LOG_LEVEL_INFO
		        : c->status == CHECK_CRITICAL ? LOG_LEVEL_ERR
		                                      : LOG_LEVEL_WARNING,
		        "%s %s: %s", c->id, verdict_status_upper(c->status), c->summary);
	}
}

/* Logs a probe's outcome when it changes (ok → failed, failed → ok, ...). */
static void log_probe_changes(struct serve_state *st, const struct snapshot *snap)
{
	for (int id = 0; id < PROBE__COUNT; id++) {
		const struct probe_outcome *p = &snap->probes[id];

		if (p->status == PROBE_NOT_RUN ||
		    (st->probe_seen[id] && st->probe_status[id] == p->status))
			continue;
		if (p->status == PROBE_OK || p->status == PROBE_SKIPPED)
			log_msg(st->probe_seen[id] ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
			        "probe %s: %s", probetab[id].name,
			        snapshot_probe_status_name(p->status));
		else
			log_warning("probe %s: %s: %s", probetab[id].name,
			            snapshot_probe_status_name(p->status), p->error);
		st->probe_seen[id] = true;
		st->probe_status[id] = p->status;
	}
}

/* ---- the WireGuard hook -------------------------------------------------- */

/* Addresses to serve on and client networks to allow, from the watched
 * WireGuard interfaces of the snapshot: each interface address at the
 * configured port, and the subnet it belongs to. Nothing else (never the
 * uplink). */
static void wireguard_dynamic(const struct config *cfg, const struct snapshot *snap, unsigned port,
                              struct netaddr_endpoint *eps, size_t *n_eps, struct netaddr_net *nets,
                              size_t *n_nets)
{
	const struct wireguard *wg = &snap->wireguard;

	(void)cfg;
	*n_eps = 0;
	*n_nets = 0;
	if (snap->probes[PROBE_WIREGUARD].status != PROBE_OK)
		return;
	for (size_t d = 0; d < wg->n_devices; d++) {
		const struct wireguard_device *dev = &wg->devices[d];

		if (!dev->link_up)
			continue;
		for (size_t a = 0; a < dev->n_addresses; a++) {
			const struct wireguard_ip *ip = &dev->addresses[a];
			struct netaddr_endpoint *ep = &eps[*n_eps];

			if (*n_eps >= SERVE_DYNAMIC_MAX || *n_nets >= SERVE_DYNAMIC_MAX)
				return;
			memset(ep, 0, sizeof(*ep));
			if (ip->family == AF_INET) {
				struct sockaddr_in *in = (struct sockaddr_in *)&ep->sa;

				in->sin_family = AF_INET;
				in->sin_addr = ip->addr.v4;
				in->sin_port = htons((uint16_t)port);
				ep->len = sizeof(*in);
			} else {
				struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep->sa;

				/* Link-local addresses would need a scope: skipped. */
				if (IN6_IS_ADDR_LINKLOCAL(&ip->addr.v6))
					continue;
				in6->sin6_family = AF_INET6;
				in6->sin6_addr = ip->addr.v6;
				in6->sin6_port = htons((uint16_t)port);
				ep->len = sizeof(*in6);
			}
			(*n_eps)++;
			netaddr_net_from(&nets[(*n_nets)++], ip->family, &ip->addr, ip->cidr);
		}
	}
}

/* ---- one round ----------------------------------------------------------- */

static void release_json(void *holder)
{
	json_object_put(holder);
}

static void publish_round(struct serve_state *st)
{
	struct netaddr_endpoint eps[SERVE_DYNAMIC_MAX];
	struct netaddr_net nets[SERVE_DYNAMIC_MAX];
	size_t n_eps = 0, n_nets = 0;
	struct prometheus_exposition metrics;
	struct json_object *holder;
	const char *json;
	size_t json_len;
	struct snapshot *snap;
	struct verdict *tmp;

	snap = scheduler_lock(st->sched);
	snap->generated_at = time(NULL);
	if (!snap->host[0])
		gethostname(snap->host, sizeof(snap->host) - 1);
	verdict_evaluate(&st->cfg, snap, NULL, st->now);
	log_probe_changes(st, snap);
	log_changes(st->prev, st->now);
	pthread_mutex_lock(&st->history_lock);
	if (st->history)
		history_record(st->history, &st->cfg, snap, st->now, (double)snap->generated_at);
	pthread_mutex_unlock(&st->history_lock);
	/* Each output is handed over as soon as it is built, so that the
	 * previous one can be freed before the next is rendered. */
	json = json_status_text(&st->cfg, snap, st->now, 0, &holder, &json_len);
	if (json)
		server_publish_json(st->server, json, json_len, release_json, holder);
	if (prometheus_expose(&st->cfg, snap, st->now, &metrics) == 0)
		server_publish_metrics(st->server, &metrics);
	if (st->cfg.http_listen_wireguard || st->cfg.http_allow_wireguard) {
		wireguard_dynamic(&st->cfg, snap, server_port(st->server), eps, &n_eps, nets,
		                  &n_nets);
		if (!st->cfg.http_listen_wireguard)
			n_eps = 0;
		if (!st->cfg.http_allow_wireguard)
			n_nets = 0;
	}
	scheduler_unlock(st->sched);

	malloc_trim(0);
	server_set_dynamic(st->server, eps, n_eps, nets, n_nets);
	notify_send("STATUS=%s: %zu checks", verdict_status_upper(st->now->overall),
	            st->now->count);
	tmp = st->prev;
	st->prev = st->now;
	st->now = tmp;
}

/* ---- hooks for the HTTP threads ------------------------------------------ */

static int health(void *arg, char *why, size_t whylen)
{
	struct serve_state *st = arg;
	uint64_t age = monotonic_ms() - atomic_load(&st->heartbeat_ms);
	int overdue = atomic_load(&st->overdue_probe);

	if (age > atomic_load(&st->stall_limit_ms)) {
		snprintf(why, whylen, "poll loop silent for %llu ms", (unsigned long long)age);
		return -1;
	}
	if (overdue >= 0) {
		snprintf(why, whylen, "probe %s has been running far past its interval",
		         probetab[overdue].name);
		return -1;
	}
	return 0;
}

static char *history_doc(void *arg, const char *series, size_t *ret_len)
{
	struct serve_state *st = arg;
	char *doc = NULL;

	pthread_mutex_lock(&st->history_lock);
	if (st->history)
		doc = history_reply(st->history, series, SERVE_HISTORY_POINTS, ret_len);
	pthread_mutex_unlock(&st->history_lock);
	return doc;
}

/* ---- configuration ------------------------------------------------------- */

static struct history *make_history(const struct config *cfg)
{
	/* Peers get series only when configured or among the busiest few, so
	 * the number of series, and the memory, does not grow with peers. */
	size_t max_series = history_series_for(cfg);
	struct history *h = history_new(cfg->history_retention_ms, cfg->interval_ms,
	                                (size_t)cfg->history_memory, max_series);

	if (!h)
		log_warning("history: %llu bytes cannot hold %zu series; history is off",
		            (unsigned long long)cfg->history_memory, max_series);
	else
		log_debug("history: %zu series of %zu points every %.0f s in %zu bytes", max_series,
		          history_capacity(h), history_step_seconds(h), history_footprint(h));
	return h;
}

static void apply_limits(struct serve_state *st)
{
	/* Stalled: no loop iteration for 3 intervals and 10 s. */
	atomic_store(&st->stall_limit_ms, 3 * st->cfg.interval_ms + 10000);
}

/* One log line per problem: journald gives each line its own priority and
 * timestamp only when it is a line of its own. */
static void log_config_errors(const struct config_errors *errors)
{
	const char *p = errors->text;

	while (p && *p) {
		size_t len = strcspn(p, "\n");

		log_error("  %.*s", (int)len, p);
		p += len + (p[len] == '\n');
	}
}
static void reload(struct serve_state *st, const char *path)
{
	struct config *fresh = malloc(sizeof(*fresh));
	struct config_errors errors = {0};

	if (!fresh) {
		log_error("reload: out of memory, keeping the old configuration");
		return;
	}
	if (config_load(path, fresh, &errors) < 0) {
		log_error("reload: configuration has errors, keeping the old one:");
		log_config_errors(&errors);
		goto out;
	}
	if (memcmp(fresh->http_listen, st->cfg.http_listen, sizeof(fresh->http_listen)) != 0 ||
	    memcmp(fresh->http_allow, st->cfg.http_allow, sizeof(fresh->http_allow)) != 0 ||
	    strcmp(fresh->http_auth_bcrypt, st->cfg.http_auth_bcrypt) != 0 ||
	    strcmp(fresh->http_tls_cert, st->cfg.http_tls_cert) != 0)
		log_warning("reload: [http] changes take effect at the next restart");
	if (fresh->history_memory != st->cfg.history_memory ||
	    fresh->history_retention_ms != st->cfg.history_retention_ms ||
	    fresh->history_peers != st->cfg.history_peers || fresh->n_peers != st->cfg.n_peers ||
	    fresh->interval_ms != st->cfg.interval_ms) {
		struct history *h = make_history(fresh);

		pthread_mutex_lock(&st->history_lock);
		history_free(st->history);
		st->history = h;
		pthread_mutex_unlock(&st->history_lock);
		log_info("reload: history restarted with the new sizes");
	}
	/* [http] is kept as it was started: the server holds its own copy. */
	memcpy(fresh->http_listen, st->cfg.http_listen, sizeof(fresh->http_listen));
	st->cfg = *fresh;
	apply_limits(st);
	scheduler_set_config(st->sched, &st->cfg);
	log_info("reload: configuration reloaded");
out:
	config_errors_free(&errors);
	free(fresh);
}

/* The daemon's resident memory, measured with tests/bench/http.sh (1000
 * peers), was largely glibc malloc's, not data: each thread that allocates
 * gets its own arena (probe threads, libmicrohttpd's), and after the first
 * large output buffer is freed glibc raises its mmap threshold, so later
 * outputs (hundreds of KiB each round) land in the heap and the heap keeps
 * its high-water mark. A fixed threshold keeps large buffers in mmap (given
 * back on free; 64 KiB, above the 32 KiB buffer libmicrohttpd allocates for
 * every request, which must stay a cheap heap allocation), one arena is
 * plenty for threads that mostly sleep, and malloc_trim() after each round
 * returns freed heap pages. What stays is the data, the outputs being
 * served, and the shared libraries' pages. */
static void tune_malloc(void)
{
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
}

int serve_run(const char *config_path)
{
	struct config_errors errors = {0};
	struct server_hooks hooks = {0};
	struct serve_state *st = calloc(1, sizeof(*st));
	uint64_t gen = 0, watchdog_usec = 0, last_watchdog = 0;
	char err[256], url[128];
	int code = 0, r;

	if (!st) {
		log_error("out of memory");
		return 1;
	}
	pthread_mutex_init(&st->history_lock, NULL);
	atomic_store(&st->overdue_probe, -1);
	st->prev = calloc(1, sizeof(*st->prev));
	st->now = calloc(1, sizeof(*st->now));
	if (!st->prev || !st->now) {
		log_error("out of memory");
		code = 1;
		goto out;
	}
	if (config_load(config_path, &st->cfg, &errors) < 0) {
		log_error("configuration has errors:");
		log_config_errors(&errors);
		code = 3;
		goto out;
	}
	install_signals();
	tune_malloc();
	apply_limits(st);
	atomic_store(&st->heartbeat_ms, monotonic_ms());
	st->history = make_history(&st->cfg);
	hooks.arg = st;
	hooks.health = health;
	hooks.history = history_doc;
	r = server_start(&st->cfg, &hooks, &st->server, err, sizeof(err));
	if (r < 0) {
		log_error("http: %s", err);
		code = 1;
		goto out;
	}
	r = scheduler_start(&st->cfg, &st->sched);
	if (r < 0) {
		log_error("cannot start the probe threads: %s", strerror(-r));
		code = 1;
		goto out;
	}
	server_url(st->server, url, sizeof(url));
	log_info("sparkmon %s serving on %s (cheap probes every %llu ms)", SPARKMON_VERSION, url,
	         (unsigned long long)st->cfg.interval_ms);
	watchdog_usec = notify_watchdog_usec();
	notify_send("READY=1\nSTATUS=serving on %s", url);

	while (!serve_stop) {
		uint64_t next = scheduler_wait(st->sched, gen, SERVE_TICK_MS);
		double overdue_s;
		int overdue;

		if (serve_stop)
			break;
		if (serve_reload) {
			serve_reload = 0;
			notify_send("RELOADING=1");
			reload(st, config_path);
			notify_send("READY=1");
		}
		if (next != gen) {
			/* Let probes that finish together land in one round. */
			usleep(20 * 1000);
			gen = scheduler_wait(st->sched, next, 0);
			publish_round(st);
		}
		scheduler_lock(st->sched);
		overdue = scheduler_overdue_probe(st->sched, 3.0, &overdue_s);
		scheduler_unlock(st->sched);
		if (overdue != atomic_load(&st->overdue_probe) && overdue >= 0)
			log_error("probe %s has been running for %.0f s; /healthz reports it",
			          probetab[overdue].name, overdue_s);
		atomic_store(&st->overdue_probe, overdue);
		atomic_store(&st->heartbeat_ms, monotonic_ms());
		/* The watchdog is fed only while the loop is healthy. */
		if (watchdog_usec && overdue < 0 &&
		    monotonic_ms() - last_watchdog >= watchdog_usec / 2000) {
			notify_send("WATCHDOG=1");
			last_watchdog = monotonic_ms();
		}
	}
	notify_send("STOPPING=1");
	log_info("stopping");
out:
	/* The server first: no request may run while the rest goes away. */
	server_stop(st->server);
	scheduler_stop(st->sched, 600);
	history_free(st->history);
	pthread_mutex_destroy(&st->history_lock);
	config_errors_free(&errors);
	free(st->prev);
	free(st->now);
	free(st);
	return code;
}
