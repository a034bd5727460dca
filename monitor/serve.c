/* `sparkmon serve`: the daemon, two processes (DESIGN.md, trust
 * boundaries).
 *
 * The collector (a child, monitor/collector.c) keeps the capabilities and
 * runs the probes, one thread each on its own interval, and sends each
 * probe's facts over a socketpair (monitor/wire.h).
 *
 * The web process (this one, the service's main process) gives up every
 * capability and most system calls (web/sandbox.h) before it listens, and
 * keeps its own copy of the snapshot from those messages. Threads:
 * - this one, the poll loop: when facts arrive it evaluates the verdict,
 *   logs changes, records history, renders the status document and both
 *   metrics formats, and publishes them to the HTTP server as finished,
 *   immutable responses;
 * - libmicrohttpd's, one per listening address: they only queue those
 *   finished responses, so a request never waits on a probe and never sees
 *   a half-updated snapshot.
 * Either process ends the other: the collector dies with its parent
 * (PR_SET_PDEATHSIG), and the web process stops when the socket closes. */
#include "monitor/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/collector.h"
#include "monitor/events.h"
#include "monitor/history.h"
#include "monitor/log.h"
#include "monitor/netaddr.h"
#include "monitor/notify.h"
#include "monitor/probetab.h"
#include "monitor/verdict.h"
#include "monitor/wire.h"
#include "probes/caps.h"
#include "web/json.h"
#include "web/prometheus.h"
#include "web/sandbox.h"
#include "web/server.h"

/* How often the loop wakes at the least: bounds how late it notices a
 * signal (stop within a second) and keeps the heartbeat fresh. */
#define SERVE_TICK_MS        200
#define SERVE_HISTORY_POINTS 720 /* at most this many points per series in a reply */
#define SERVE_DYNAMIC_MAX    64
#define SERVE_FIRST_ROUND_MS 2000        /* the first round waits this long for slow probes */
#define SERVE_RX_KEEP        (64 * 1024) /* a larger receive buffer is freed when empty */

static volatile sig_atomic_t serve_stop;
static volatile sig_atomic_t serve_reload;

struct serve_state {
	struct config cfg;
	const char *config_path; /* NULL: the default */
	struct server *server;
	struct snapshot *snap; /* from the collector's messages */

	/* The collector: its process and our end of the socketpair, with the
	 * bytes of a frame not yet whole. */
	pid_t collector;
	int fd;
	char *rx;
	size_t rx_len, rx_cap;
	char bad_message[256]; /* the last reason a message was refused */
	struct verdict *prev, *now;
	enum probe_status probe_status[PROBE__COUNT];
	bool probe_seen[PROBE__COUNT];

	pthread_mutex_t history_lock;
	struct history *history;
	struct events *events; /* under history_lock too */

	/* Read by HTTP threads for /healthz. */
	_Atomic uint64_t heartbeat_ms;
	_Atomic uint64_t collector_heard_ms; /* the last message from the collector */
	_Atomic int overdue_probe;           /* -1 none */
	_Atomic uint64_t stall_limit_ms;
	_Atomic uint64_t collector_limit_ms;
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
	struct snapshot *snap = st->snap;
	struct verdict *tmp;

	snap->generated_at = time(NULL);
	if (!snap->host[0])
		gethostname(snap->host, sizeof(snap->host) - 1);
	verdict_evaluate(&st->cfg, snap, NULL, st->now);
	log_probe_changes(st, snap);
	log_changes(st->prev, st->now);
	pthread_mutex_lock(&st->history_lock);
	if (st->history)
		history_record(st->history, &st->cfg, snap, st->now, (double)snap->generated_at);
	events_record(st->events, st->prev, st->now, (double)snap->generated_at);
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
	uint64_t silent = monotonic_ms() - atomic_load(&st->collector_heard_ms);
	int overdue = atomic_load(&st->overdue_probe);

	if (age > atomic_load(&st->stall_limit_ms)) {
		snprintf(why, whylen, "poll loop silent for %llu ms", (unsigned long long)age);
		return -1;
	}
	if (silent > atomic_load(&st->collector_limit_ms)) {
		snprintf(why, whylen, "collector silent for %llu ms", (unsigned long long)silent);
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

static char *events_doc(void *arg, size_t *ret_len)
{
	struct serve_state *st = arg;
	char *doc;

	pthread_mutex_lock(&st->history_lock);
	doc = events_reply(st->events, ret_len);
	pthread_mutex_unlock(&st->history_lock);
	return doc;
}

/* ---- configuration ------------------------------------------------------- */

static struct history *make_history(const struct config *cfg)
{
	/* Peers get series only when configured or among the busiest few, so
	 * the number of series, and the memory, does not grow with peers. */
	size_t max_series = history_series_for(cfg);
	/* The timeline of state changes takes its share of the budget first. */
	size_t budget = (size_t)cfg->history_memory, events = events_footprint(EVENTS_MAX);
	struct history *h = history_new(cfg->history_retention_ms, cfg->interval_ms,
	                                budget > events ? budget - events : 0, max_series);

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
	/* The collector sends a heartbeat every tick, whatever its probes do:
	 * two poll intervals without one is a collector that hangs. */
	atomic_store(&st->collector_limit_ms, 2 * st->cfg.interval_ms);
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
/* Applies the configuration the collector read on SIGHUP (WIRE_CONFIG):
 * the same bytes it applied itself. */
static void reload(struct serve_state *st, int read_result, const char *text, size_t len)
{
	struct config *fresh = malloc(sizeof(*fresh));
	struct config_errors errors = {0};

	if (!fresh) {
		log_error("reload: out of memory, keeping the old configuration");
		return;
	}
	if (config_load_read(st->config_path, read_result, text, len, fresh, &errors) < 0) {
		log_error("reload: configuration has errors, keeping the old one:");
		log_config_errors(&errors);
		goto out;
	}
	/* The collector sends the notifications (monitor/alerter.h). */
	config_forget_secrets(fresh);
	server_reload(st->server, fresh);
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
	st->cfg = *fresh;
	apply_limits(st);
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

/* ---- the two processes --------------------------------------------------- */

/* Forks the collector, which keeps this process's privileges; it dies with
 * us. Returns 0 in the parent with st->collector and st->fd set; never
 * returns in the child. */
static int start_collector(struct serve_state *st, const char *config_path)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		int code;

		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		/* ps and top show it apart from the web process ("sparkmon"). */
		prctl(PR_SET_NAME, "sparkmon-probes");
		log_set_origin("collector: ");
		/* What the unit grants, and what its documented drop-ins add,
		 * even when started as root: nothing more. */
		code = caps_limit(CAPS_RULESET_DUMP);
		if (code < 0)
			log_error("cannot limit the capabilities: %s", strerror(-code));
		code = code < 0 ? 1 : collector_run(&st->cfg, config_path, sv[1]);
		close(sv[1]);
		free(st->prev);
		free(st->now);
		free(st);
		exit(code);
	}
	close(sv[1]);
	st->collector = pid;
	st->fd = sv[0];
	return 0;
}

static void stop_collector(struct serve_state *st)
{
	int status;

	if (st->collector <= 0)
		return;
	kill(st->collector, SIGTERM);
	/* It stops its probe threads within a second; then it is killed. */
	for (int i = 0; i < 100; i++) {
		if (waitpid(st->collector, &status, WNOHANG) != 0)
			return;
		usleep(10 * 1000);
	}
	kill(st->collector, SIGKILL);
	waitpid(st->collector, &status, 0);
}

/* The folder a file lies in, its links followed: "" for no file. */
static void folder_of(const char *path, char *buf, size_t size)
{
	char *real = *path ? realpath(path, NULL) : NULL;
	const char *p = real ? real : path;
	const char *slash = strrchr(p, '/');

	if (!*p)
		buf[0] = '\0';
	else if (!slash)
		snprintf(buf, size, ".");
	else
		snprintf(buf, size, "%.*s", slash == p ? 1 : (int)(slash - p), p);
	free(real);
}

/* What stays readable: the folders of the TLS files, so that a reload
 * reads them again even when they were replaced by new files (a renewed
 * certificate moved into place), and nothing else. Not the configuration:
 * on a reload the collector reads it and sends the bytes. */
static int enter_sandbox(struct serve_state *st)
{
	struct sandbox_policy policy = {.keep_fd = st->fd};
	char note[160], err[256], dirs[2][CONFIG_PATH_MAX];
	int r;

	folder_of(st->cfg.http_tls_cert, dirs[0], sizeof(dirs[0]));
	folder_of(st->cfg.http_tls_key, dirs[1], sizeof(dirs[1]));
	for (int i = 0; i < 2; i++)
		policy.readable[i] = dirs[i];
	r = sandbox_enter(&policy, note, sizeof(note), err, sizeof(err));
	if (r < 0) {
		log_error("sandbox: %s", err);
		return r;
	}
	if (note[0])
		log_warning("sandbox: %s", note);
	return 0;
}

/* ---- messages from the collector ------------------------------------------- */

static void on_heartbeat(struct serve_state *st, const struct wire_heartbeat *hb)
{
	if (hb->overdue_probe != atomic_load(&st->overdue_probe) && hb->overdue_probe >= 0)
		log_error("probe %s has been running for %.0f s; /healthz reports it",
		          probetab[hb->overdue_probe].name, hb->overdue_seconds);
	atomic_store(&st->overdue_probe, hb->overdue_probe);
}

/* A refused message is logged when its reason changes, not every round. */
static void log_bad_message(struct serve_state *st, const char *err)
{
	if (strcmp(err, st->bad_message) == 0)
		return;
	log_error("collector: a message refused, its facts dropped: %s", err);
	snprintf(st->bad_message, sizeof(st->bad_message), "%s", err);
}

/* Applies the whole frames at the start of the receive buffer. Returns
 * whether facts changed, or a negative errno for a stream that cannot be
 * read on (a bad header). */
static int apply_frames(struct serve_state *st)
{
	size_t used = 0;
	int changed = 0;

	for (;;) {
		int64_t size = wire_frame_size(st->rx + used, st->rx_len - used);
		const char *frame;
		struct wire_heartbeat hb;
		enum wire_type type;
		char err[256];
		int r;

		if (size < 0) {
			log_error("collector: %s", strerror((int)-size));
			return (int)size;
		}
		if (size == 0 || (uint64_t)size > st->rx_len - used)
			break;
		frame = st->rx + used;
		r = wire_apply(frame, (size_t)size, st->snap, &hb, &type, err, sizeof(err));
		used += (size_t)size;
		if (r < 0) {
			/* A whole frame whose facts are refused: it is dropped
			 * (the probe's last facts stay), the stream goes on. */
			log_bad_message(st, err);
			continue;
		}
		if (type == WIRE_HEARTBEAT) {
			on_heartbeat(st, &hb);
		} else if (type == WIRE_CONFIG) {
			int read_result;
			const char *text;
			size_t len;

			wire_config_of(frame, &read_result, &text, &len);
			reload(st, read_result, text, len);
			/* Its notify URLs must not linger in the buffer. */
			if (len)
				explicit_bzero(st->rx + (text - st->rx), len);
			notify_send("READY=1");
		} else {
			changed = 1;
		}
	}
	memmove(st->rx, st->rx + used, st->rx_len - used);
	st->rx_len -= used;
	return changed;
}

/* Room for the rest of the frame being received (or 64 KiB more). */
static int rx_reserve(struct serve_state *st)
{
	int64_t size = wire_frame_size(st->rx, st->rx_len);
	size_t want = st->rx_len + SERVE_RX_KEEP;
	char *grown;

	if (size > 0 && (uint64_t)size > want)
		want = (size_t)size;
	if (want <= st->rx_cap)
		return 0;
	grown = realloc(st->rx, want);
	if (!grown)
		return -ENOMEM;
	st->rx = grown;
	st->rx_cap = want;
	return 0;
}

/* Reads what the collector sent. Returns whether facts changed; -EPIPE
 * when the collector is gone, another negative errno for a bad message. */
static int receive(struct serve_state *st)
{
	int changed = 0, r;

	for (;;) {
		ssize_t n;

		r = rx_reserve(st);
		if (r < 0)
			return r;
		n = recv(st->fd, st->rx + st->rx_len, st->rx_cap - st->rx_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		st->rx_len += (size_t)n;
		atomic_store(&st->collector_heard_ms, monotonic_ms());
		r = apply_frames(st);
		if (r < 0)
			return r;
		changed |= r;
	}
	/* A large WireGuard message is not kept for the next one. */
	if (st->rx_len == 0 && st->rx_cap > SERVE_RX_KEEP) {
		free(st->rx);
		st->rx = NULL;
		st->rx_cap = 0;
	}
	return changed;
}

static void collector_ended(struct serve_state *st, int r)
{
	int status = 0;
	pid_t gone = 0;

	/* Its socket closes a moment before it can be reaped. */
	for (int i = 0; r == -EPIPE && gone == 0 && i < 100; i++) {
		gone = waitpid(st->collector, &status, WNOHANG);
		if (gone == 0)
			usleep(10 * 1000);
	}
	if (gone == st->collector) {
		st->collector = 0;
		if (WIFSIGNALED(status))
			log_error("the collector was killed by signal %d; stopping",
			          WTERMSIG(status));
		else
			log_error("the collector exited with status %d; stopping",
			          WEXITSTATUS(status));
	} else {
		log_error("the collector stopped talking (%s); stopping", strerror(-r));
	}
}

/* ---- the web process ------------------------------------------------------- */

static bool healthy(struct serve_state *st)
{
	char why[128];

	return health(st, why, sizeof(why)) == 0;
}

/* Whether every probe has reported once: the first round is published
 * whole, not probe by probe as the collector's messages arrive. */
static bool all_reported(const struct snapshot *snap)
{
	for (int id = 0; id < PROBE__COUNT; id++)
		if (snap->probes[id].status == PROBE_NOT_RUN)
			return false;
	return true;
}

static int web_loop(struct serve_state *st)
{
	uint64_t watchdog_usec = notify_watchdog_usec(), last_watchdog = 0;
	uint64_t first_by = monotonic_ms() + SERVE_FIRST_ROUND_MS;
	bool published = false, pending = false;

	while (!serve_stop) {
		struct pollfd pfd = {.fd = st->fd, .events = POLLIN};
		int n = poll(&pfd, 1, SERVE_TICK_MS), r;

		if (serve_stop)
			break;
		/* The collector reads the file and sends it (WIRE_CONFIG). */
		if (serve_reload) {
			serve_reload = 0;
			notify_send("RELOADING=1");
			kill(st->collector, SIGHUP);
		}
		if (n > 0) {
			r = receive(st);
			if (r < 0) {
				collector_ended(st, r);
				return 1;
			}
			pending |= r > 0;
		}
		if (pending &&
		    (published || all_reported(st->snap) || monotonic_ms() >= first_by)) {
			publish_round(st);
			published = true;
			pending = false;
		}
		atomic_store(&st->heartbeat_ms, monotonic_ms());
		/* The watchdog is fed only while both processes are healthy. */
		if (watchdog_usec && healthy(st) &&
		    monotonic_ms() - last_watchdog >= watchdog_usec / 2000) {
			notify_send("WATCHDOG=1");
			last_watchdog = monotonic_ms();
		}
	}
	return 0;
}

int serve_run(const char *config_path)
{
	struct config_errors errors = {0};
	struct server_hooks hooks = {0};
	struct serve_state *st = calloc(1, sizeof(*st));
	char err[256], url[128];
	int code = 0, r;

	if (!st) {
		log_error("out of memory");
		return 1;
	}
	pthread_mutex_init(&st->history_lock, NULL);
	atomic_store(&st->overdue_probe, -1);
	st->fd = -1;
	st->prev = calloc(1, sizeof(*st->prev));
	st->now = calloc(1, sizeof(*st->now));
	st->snap = calloc(1, sizeof(*st->snap));
	if (!st->prev || !st->now || !st->snap) {
		log_error("out of memory");
		code = 1;
		goto out;
	}
	st->config_path = config_path;
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
	atomic_store(&st->collector_heard_ms, monotonic_ms());
	r = start_collector(st, config_path);
	if (r < 0) {
		log_error("cannot start the collector: %s", strerror(-r));
		code = 1;
		goto out;
	}
	/* The collector has its copy; the process facing the network keeps
	 * no notify URL (monitor/alerter.h). */
	config_forget_secrets(&st->cfg);
	/* Before the first thread: capabilities belong to each thread. */
	if (enter_sandbox(st) < 0) {
		code = 1;
		goto out;
	}
	st->history = make_history(&st->cfg);
	st->events = events_new(EVENTS_MAX);
	hooks.arg = st;
	hooks.health = health;
	hooks.history = history_doc;
	hooks.events = events_doc;
	r = server_start(&st->cfg, &hooks, &st->server, err, sizeof(err));
	if (r < 0) {
		log_error("http: %s", err);
		code = 1;
		goto out;
	}
	server_url(st->server, url, sizeof(url));
	log_info("sparkmon %s serving on %s (cheap probes every %llu ms; collector pid %d)",
	         SPARKMON_VERSION, url, (unsigned long long)st->cfg.interval_ms,
	         (int)st->collector);
	notify_send("READY=1\nSTATUS=serving on %s", url);
	code = web_loop(st);
	if (code == 0) {
		notify_send("STOPPING=1");
		log_info("stopping");
	}
out:
	/* The server first: no request may run while the rest goes away. */
	server_stop(st->server);
	stop_collector(st);
	if (st->fd >= 0)
		close(st->fd);
	history_free(st->history);
	events_free(st->events);
	pthread_mutex_destroy(&st->history_lock);
	config_errors_free(&errors);
	if (st->snap)
		probetab_release_all(st->snap);
	free(st->snap);
	free(st->rx);
	free(st->prev);
	free(st->now);
	free(st);
	return code;
}
