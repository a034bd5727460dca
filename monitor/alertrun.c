#include "monitor/alertrun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "monitor/alert.h"
#include "monitor/log.h"
#include "probes/endpoint.h"
#include "probes/readfile.h"
#include "probes/runner.h"
#include "probes/statefile.h"

#define ALERTRUN_CONNECT_MAX_MS 3000 /* connect timeout, when [alert] timeout is longer */
#define ALERTRUN_MARGIN_MS      1000 /* the runner's deadline past curl's own */
#define ALERTRUN_BACKOFF_MS     500  /* before the 2nd attempt; doubles for each next one */
#define ALERTRUN_EVENTS_MAX     (2 * VERDICT_CHECKS_MAX)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the state file, under its lock ----------------------------------------- */

struct files {
	char state[PATH_MAX];
	char lock[PATH_MAX];
	int lock_fd;
	bool writable; /* the lock is held: the state may be replaced */
};

/* Waits for the lock up to wait_ms: another round (the daemon's, or a
 * slow cron run) holds it at most while it sends: one attempt per URL,
 * retries within 3 timeouts (see send_pending). */
static int take_lock(struct files *f, long long wait_ms)
{
	long long until = now_ms() + wait_ms;

	/* Read-only and readable by all: root's cron and the daemon's user
	 * both lock the one file, whoever created it (flock needs no write
	 * access). */
	f->lock_fd = open(f->lock, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f->lock_fd < 0)
		return -errno;
	while (flock(f->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (now_ms() >= until)
			return -EWOULDBLOCK;
		usleep(50 * 1000);
	}
	f->writable = true;
	return 0;
}

static void drop_lock(struct files *f)
{
	if (f->lock_fd >= 0)
		close(f->lock_fd); /* releases the lock */
	f->lock_fd = -1;
}

/* Reads the state; a missing file is an empty state, a corrupt one is
 * logged and taken as empty: returns 1 then (it must be replaced). */
static int read_state(const struct files *f, struct alert_state *st)
{
	char *buf = NULL;
	size_t len = 0;
	int r = readfile_read(f->state, ALERT_STATE_MAX, &buf, &len);

	memset(st, 0, sizeof(*st));
	if (r == 0) {
		r = alert_state_parse(buf, len, st);
		free(buf);
	}
	if (r == -ENOENT)
		return 0;
	if (r == -EINVAL || r == -EFBIG) {
		log_warning(
		    "%s: not a sparkmon alert state (corrupt or cut); ignored and replaced: "
		    "what is not OK is reported again",
		    f->state);
		return 1;
	}
	if (r < 0)
		log_error("%s: %s; changes cannot be remembered", f->state, strerror(-r));
	return r;
}

static int write_state(const struct files *f, const struct alert_state *st)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (!f->writable)
		return -EWOULDBLOCK;
	r = alert_state_format(st, &text, &len);
	if (r == 0)
		r = statefile_write(f->state, text, len, 0600);
	free(text);
	if (r < 0)
		log_error("cannot write %s: %s; the same changes are reported again next time",
		          f->state, strerror(-r));
	return r;
}

/* ---- one POST, through sparkmon-fetch --------------------------------------- */

/* An error text that quotes the URL's path or query (where tokens are)
 * is replaced: it goes to logs. */
static void withhold_url(const char *url, char *error, size_t size)
{
	const char *sep = strstr(url, "://");
	const char *tail = sep ? sep + 3 + strcspn(sep + 3, "/?#") : url;

	if ((*tail && strcmp(tail, "/") != 0 && strstr(error, tail)) || strstr(error, url))
		snprintf(error, size, "request failed (the message quoted the URL; withheld)");
}

/* The request sparkmon-fetch --post reads on stdin (probes/endpoint.h). */
static char *request_text(const char *url, const struct alert_message *m, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "url %s\n", url);
	for (size_t i = 0; i < m->n_headers; i++)
		fprintf(f, "header %s\n", m->headers[i]);
	fprintf(f, "body %zu\n", m->body_len);
	fwrite(m->body, 1, m->body_len, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*ret_len = len;
	return buf;
}

enum post_result {
	POST_OK,
	POST_RETRY, /* worth another attempt in this round */
	POST_LATER, /* a timeout, or an answer that another attempt now would not change */
};

static enum post_result post(const char *helper, const struct config *cfg, const char *url,
                             const struct alert_message *m, char *error, size_t size)
{
	uint64_t connect = cfg->alert_timeout_ms < ALERTRUN_CONNECT_MAX_MS
	                       ? cfg->alert_timeout_ms
	                       : ALERTRUN_CONNECT_MAX_MS;
	char connect_ms[24], total_ms[24], why[128];
	const char *argv[] = {
	    helper, "--post", "--connect-timeout-ms", connect_ms, "--timeout-ms", total_ms, NULL};
	struct runner_options opts = {.timeout_ms =
	                                  (unsigned)(cfg->alert_timeout_ms + ALERTRUN_MARGIN_MS),
	                              .max_output = ENDPOINT_FETCH_OUTPUT_MAX,
	                              .tag = "sparkmon-fetch --post"};
	struct endpoint_fetch *answer = calloc(1, sizeof(*answer));
	struct runner_result res;
	enum post_result out = POST_LATER;
	size_t input_len = 0;
	char *input = request_text(url, m, &input_len);
	int r;

	snprintf(connect_ms, sizeof(connect_ms), "%llu", (unsigned long long)connect);
	snprintf(total_ms, sizeof(total_ms), "%llu", (unsigned long long)cfg->alert_timeout_ms);
	if (!answer || !input) {
		snprintf(error, size, "out of memory");
		goto out;
	}
	opts.input = input;
	opts.input_len = input_len;
	r = runner_run(argv, &opts, &res);
	if (r < 0) {
		snprintf(error, size, "cannot run %.150s: %s", helper, strerror(-r));
		goto out;
	}
	if (res.timed_out || res.truncated || !res.exited || res.exit_code != 0) {
		char how[64];

		runner_describe(&res, how, sizeof(how));
		snprintf(error, size, ENDPOINT_FETCH_NAME " %s: %.100s", how, res.err);
		error[strcspn(error, "\n")] = '\0';
	} else if (endpoint_parse_fetch(res.out, res.out_len, answer, why, sizeof(why)) < 0) {
		snprintf(error, size, ENDPOINT_FETCH_NAME " answered badly: %s", why);
	} else if (answer->outcome == ENDPOINT_OUTCOME_OK && answer->http_code / 100 == 2) {
		out = POST_OK;
	} else if (answer->outcome == ENDPOINT_OUTCOME_OK) {
		snprintf(error, size, "HTTP status %ld", answer->http_code);
		/* A server error or "too many requests" may pass; a refusal
		 * (a wrong token or topic) waits for the person to fix it. */
		out =
		    answer->http_code >= 500 || answer->http_code == 429 ? POST_RETRY : POST_LATER;
	} else {
		snprintf(error, size, "%s", answer->error);
		out = answer->outcome == ENDPOINT_OUTCOME_TIMEOUT ? POST_LATER : POST_RETRY;
	}
	runner_result_free(&res);
out:
	withhold_url(url, error, size);
	if (input)
		explicit_bzero(input, input_len);
	free(input);
	free(answer);
	return out;
}

/* ---- sending what is pending ------------------------------------------------- */

/* Removes the pending entries for key (delivered). */
static void delivered(struct alert_state *st, uint64_t key)
{
	size_t kept = 0;

	for (size_t i = 0; i < st->n_pending; i++)
		if (st->pending[i].to != key)
			st->pending[kept++] = st->pending[i];
	st->n_pending = kept;
}

/* Sends URL i what it has not received: one notification with every
 * pending event, tried up to ALERTRUN_ATTEMPTS times within the round's
 * deadline. Returns whether it was delivered. */
static bool send_one(const struct alertrun *run, const char *helper, uint32_t i,
                     struct alert_state *st, long long deadline)
{
	const struct config *cfg = run->cfg;
	uint64_t key = alert_url_key(cfg->alert_notify[i]);
	struct alert_event *events = malloc(ALERT_PENDING_MAX * sizeof(*events));
	struct alert_message *m = malloc(sizeof(*m));
	char shown[CONFIG_NOTIFY_URL_MAX + 8], error[256] = "";
	enum post_result res = POST_LATER;
	long long backoff = ALERTRUN_BACKOFF_MS;
	size_t n = 0;
	int attempt = 0;

	config_redact_url(cfg->alert_notify[i], shown, sizeof(shown));
	for (size_t p = 0; events && p < st->n_pending; p++)
		if (st->pending[p].to == key)
			events[n++] = st->pending[p].event;
	if (!events || !m || n == 0 ||
	    alert_render(cfg->alert_notify_format[i], run->host, events, n, m) < 0) {
		if (n)
			log_error("notification to %s: out of memory; kept for the next run",
			          shown);
		free(events);
		free(m);
		return n == 0;
	}
	/* The first attempt always, so that a receiver that hangs cannot
	 * starve the ones after it; more only within the round's deadline. */
	while (attempt == 0 ||
	       (attempt < ALERTRUN_ATTEMPTS &&
	        now_ms() + backoff + (long long)cfg->alert_timeout_ms + ALERTRUN_MARGIN_MS <=
	            deadline)) {
		if (attempt++ > 0) {
			usleep((useconds_t)backoff * 1000);
			backoff *= 2;
		}
		res = post(helper, cfg, cfg->alert_notify[i], m, error, sizeof(error));
		if (res != POST_RETRY)
			break;
	}
	if (res == POST_OK) {
		delivered(st, key);
		if (run->log_sent)
			log_info("notification sent to %s (%zu change%s)", shown, n,
			         n == 1 ? "" : "s");
	} else {
		log_warning("notification to %s failed after %d attempt%s (%s); its %zu change%s "
		            "kept for the next run",
		            shown, attempt, attempt == 1 ? "" : "s", error, n, n == 1 ? "" : "s");
	}
	free(events);
	free(m);
	return res == POST_OK;
}

/* Pending entries for a URL no longer configured have nowhere to go. */
static void drop_orphans(const struct config *cfg, struct alert_state *st)
{
	size_t kept = 0, dropped = 0;

	for (size_t p = 0; p < st->n_pending; p++) {
		bool known = false;

		for (uint32_t i = 0; i < cfg->n_alert_notify && !known; i++)
			known = st->pending[p].to == alert_url_key(cfg->alert_notify[i]);
		if (known)
			st->pending[kept++] = st->pending[p];
		else
			dropped++;
	}
	st->n_pending = kept;
	if (dropped)
		log_warning("%zu undelivered notification%s for a URL no longer in [alert] notify "
		            "dropped",
		            dropped, dropped == 1 ? "" : "s");
}

/* Returns whether the state changed. */
static bool send_pending(const struct alertrun *run, struct alert_state *st)
{
	const struct config *cfg = run->cfg;
	long long deadline =
	    now_ms() + 3 * (long long)cfg->alert_timeout_ms + 2 * ALERTRUN_MARGIN_MS;
	char helper[PATH_MAX], err[256];
	size_t before = st->n_pending;

	drop_orphans(cfg, st);
	if (st->n_pending == 0)
		return before != 0;
	if (endpoint_find_helper(helper, sizeof(helper), err, sizeof(err)) < 0) {
		log_error("notifications cannot be sent: %s; kept for the next run", err);
		return before != st->n_pending;
	}
	for (uint32_t i = 0; i < cfg->n_alert_notify; i++)
		send_one(run, helper, i, st, deadline);
	return before != st->n_pending;
}

/* ---- the round ------------------------------------------------------------------ */

static int file_paths(const struct config *cfg, struct files *f)
{
	f->lock_fd = -1;
	f->writable = false;
	if (snprintf(f->state, sizeof(f->state), "%s/" ALERT_STATE_FILE, cfg->state_dir) >=
	        (int)sizeof(f->state) ||
	    snprintf(f->lock, sizeof(f->lock), "%s/" ALERT_STATE_FILE ".lock", cfg->state_dir) >=
	        (int)sizeof(f->lock))
		return -ENAMETOOLONG;
	return 0;
}

int alertrun_round(const struct alertrun *run)
{
	const struct config *cfg = run->cfg;
	struct alert_state *st = calloc(1, sizeof(*st));
	struct alert_event *events = calloc(ALERTRUN_EVENTS_MAX, sizeof(*events));
	uint64_t keys[CONFIG_NOTIFY_MAX];
	uint64_t dropped;
	bool corrupt;
	struct files f;
	size_t n;
	int r;

	if (!st || !events) {
		log_error("alerts: out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = file_paths(cfg, &f);
	if (r < 0) {
		log_error("alerts: state_dir path too long");
		goto out;
	}
	r = take_lock(&f, (CONFIG_NOTIFY_MAX + 1) *
	                      ((long long)cfg->alert_timeout_ms + ALERTRUN_MARGIN_MS));
	if (r < 0)
		log_error("%s: %s; the changes below are reported again next time", f.lock,
		          r == -EWOULDBLOCK ? "held by another run for too long" : strerror(-r));
	r = read_state(&f, st);
	if (r < 0)
		f.writable = false;
	corrupt = r > 0;
	n = alert_diff(st, run->verdict, run->complete, run->now, cfg->alert_remind_ms / 1000,
	               events, ALERTRUN_EVENTS_MAX);
	for (uint32_t i = 0; i < cfg->n_alert_notify; i++)
		keys[i] = alert_url_key(cfg->alert_notify[i]);
	dropped = st->dropped;
	alert_queue(st, keys, cfg->n_alert_notify, events, n);
	if (st->dropped != dropped)
		log_warning(
		    "alerts: %llu undelivered notification%s dropped, the oldest: more than "
		    "%d are never kept",
		    (unsigned long long)(st->dropped - dropped),
		    st->dropped - dropped == 1 ? "" : "s", ALERT_PENDING_MAX);
	/* Recorded before anything is printed or sent: a run killed while
	 * sending leaves the changes pending, not forgotten. */
	r = n || corrupt ? write_state(&f, st) : 0;
	if (run->out && n) {
		alert_print_text(events, n, run->out);
		fflush(run->out);
	}
	if (f.writable && (n || run->retry) && send_pending(run, st)) {
		int w = write_state(&f, st);

		r = r < 0 ? r : w;
	}
	if (r == 0)
		r = (int)st->n_pending;
	drop_lock(&f);
out:
	free(st);
	free(events);
	return r;
}
