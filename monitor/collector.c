#include "monitor/collector.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/alerter.h"
#include "monitor/log.h"
#include "monitor/scheduler.h"
#include "monitor/wire.h"

static volatile sig_atomic_t collector_stop;
static volatile sig_atomic_t collector_reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		collector_reload = 1;
	else
		collector_stop = 1;
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
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the configuration once and sends the bytes to the web process,
 * which parses the same bytes (and logs their errors): the two processes
 * never apply two versions of a file an editor is rewriting. The read is
 * here, not in the web process, so that the process facing the network
 * gives nothing to the one with capabilities (a configuration names
 * programs it runs) and needs no read access to the configuration's folder
 * after start. The collector applies a valid one quietly. */
static void reload(struct scheduler *sched, struct alerter *alerter, const char *path, int fd)
{
	struct config *fresh = malloc(sizeof(*fresh));
	struct config_errors errors = {0};
	char *text = NULL, *frame = NULL;
	size_t len = 0, frame_len = 0;
	int r = config_read(path, &text, &len);

	if (fresh && config_load_read(path, r, text, len, fresh, &errors) == 0) {
		scheduler_set_config(sched, fresh);
		if (alerter)
			alerter_set_config(alerter, fresh);
	}
	config_errors_free(&errors);
	free(fresh);
	r = wire_encode_config(r, text, len, &frame, &frame_len);
	free(text);
	if (r < 0) {
		log_error("reload: the configuration cannot be sent: %s", strerror(-r));
		return;
	}
	/* A failure here is the web process gone: the next batch says so. */
	(void)send_all(fd, frame, frame_len);
	free(frame);
}

/* The frames of the probes that finished a run since the last call. */
struct batch {
	char *frame[PROBE__COUNT];
	size_t len[PROBE__COUNT];
	struct wire_heartbeat hb;
};

/* Whether every probe has run once: before that, a check whose probe has
 * not run is UNKNOWN, which is no news to send anyone. */
static bool all_reported(const struct snapshot *snap)
{
	for (int id = 0; id < PROBE__COUNT; id++)
		if (snap->probes[id].status == PROBE_NOT_RUN)
			return false;
	return true;
}

static void collect_batch(struct scheduler *sched, struct alerter *alerter,
                          uint64_t sent[PROBE__COUNT], struct batch *b)
{
	const struct snapshot *snap = scheduler_lock(sched);
	double overdue_s = 0;
	bool changed = false;

	for (int id = 0; id < PROBE__COUNT; id++) {
		uint64_t runs = scheduler_probe_runs(sched, (enum probe_id)id);
		int r;

		b->frame[id] = NULL;
		if (runs == sent[id])
			continue;
		r = wire_encode_result(snap, (enum probe_id)id, &b->frame[id], &b->len[id]);
		if (r < 0)
			log_error("probe %d: its facts cannot be sent: %s", id, strerror(-r));
		else
			sent[id] = runs;
		changed = true;
	}
	/* The same facts the web process gets, the same verdict, so the same
	 * transitions it logs. */
	if (changed && alerter && all_reported(snap))
		alerter_offer(alerter, snap);
	b->hb.overdue_probe = scheduler_overdue_probe(sched, 3.0, &overdue_s);
	b->hb.overdue_seconds = overdue_s;
	scheduler_unlock(sched);
}

static int send_batch(int fd, struct batch *b)
{
	char hb[WIRE_HEARTBEAT_SIZE];
	int r = 0;

	for (int id = 0; id < PROBE__COUNT; id++) {
		if (b->frame[id] && r == 0)
			r = send_all(fd, b->frame[id], b->len[id]);
		free(b->frame[id]);
		b->frame[id] = NULL;
	}
	wire_encode_heartbeat(&b->hb, hb);
	return r < 0 ? r : send_all(fd, hb, sizeof(hb));
}

int collector_run(const struct config *cfg, const char *config_path, int fd)
{
	uint64_t sent[PROBE__COUNT] = {0}, gen = 0;
	struct alerter *alerter = NULL;
	struct scheduler *sched;
	struct batch b;
	int r;

	install_signals();
	r = scheduler_start(cfg, &sched);
	if (r < 0) {
		log_error("cannot start the probe threads: %s", strerror(-r));
		return 1;
	}
	r = alerter_start(cfg, &alerter);
	if (r < 0)
		log_error("alerts: cannot start their thread (%s); no notifications will be sent",
		          strerror(-r));
	while (!collector_stop) {
		uint64_t next = scheduler_wait(sched, gen, COLLECTOR_TICK_MS);

		if (collector_reload) {
			collector_reload = 0;
			reload(sched, alerter, config_path, fd);
		}
		if (next != gen) {
			/* Let probes that finish together go out together. */
			usleep(20 * 1000);
			gen = scheduler_wait(sched, next, 0);
		}
		collect_batch(sched, alerter, sent, &b);
		r = send_batch(fd, &b);
		if (r < 0) {
			/* The web process is gone: so is the service. */
			if (!collector_stop)
				log_error("the web process stopped listening (%s); stopping",
				          strerror(-r));
			break;
		}
	}
	alerter_stop(alerter);
	scheduler_stop(sched, 600);
	return 0;
}
