#include "monitor/serve.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor/log.h"
#include "monitor/probetab.h"
#include "monitor/verdict.h"

static volatile sig_atomic_t serve_stop;
static volatile sig_atomic_t serve_reload;

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
}

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

static void reload(const char *path, struct config *cfg)
{
	struct config fresh;
	struct config_errors errors = {0};

	if (config_load(path, &fresh, &errors) < 0) {
		log_error("reload: configuration has errors, keeping the old one:\n%s",
		          errors.text ? errors.text : "");
	} else {
		*cfg = fresh;
		log_info("reload: configuration reloaded");
	}
	config_errors_free(&errors);
}

/* Sleeps up to ms, waking early for a signal. */
static void pause_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000};

	for (uint64_t waited = 0; waited < ms && !serve_stop && !serve_reload; waited += 50)
		nanosleep(&ts, NULL);
}

int serve_run(const char *config_path)
{
	struct config cfg;
	struct config_errors errors = {0};
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct verdict *prev = calloc(1, sizeof(*prev)), *now = calloc(1, sizeof(*now));
	int code = 0;

	if (!snap || !prev || !now) {
		log_error("out of memory");
		code = 1;
		goto out;
	}
	if (config_load(config_path, &cfg, &errors) < 0) {
		log_error("configuration has errors:\n%s", errors.text ? errors.text : "");
		code = 3;
		goto out;
	}
	install_signals();
	gethostname(snap->host, sizeof(snap->host) - 1);
	log_info("sparkmon %s polling every %llu ms", SPARKMON_VERSION,
	         (unsigned long long)cfg.interval_ms);
	while (!serve_stop) {
		struct verdict *tmp;

		if (serve_reload) {
			serve_reload = 0;
			reload(config_path, &cfg);
		}
		snap->generated_at = time(NULL);
		probetab_run_all(&cfg, snap, ~0u);
		verdict_evaluate(&cfg, snap, NULL, now);
		log_changes(prev, now);
		tmp = prev;
		prev = now;
		now = tmp;
		pause_ms(cfg.interval_ms);
	}
	log_info("stopping");
out:
	config_errors_free(&errors);
	free(snap);
	free(prev);
	free(now);
	return code;
}
