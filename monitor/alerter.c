#include "monitor/alerter.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/alertrun.h"
#include "monitor/log.h"
#include "monitor/verdict.h"

/* Undelivered notifications are tried again after this, doubled after
 * each failed round up to ALERTER_RETRY_MAX_S; a new change goes out at
 * once (and takes what is pending along). */
#define ALERTER_RETRY_MIN_S 5
#define ALERTER_RETRY_MAX_S 300

struct alerter {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	bool fresh;           /* `next` holds a verdict not yet taken */
	struct config cfg;    /* the latest configuration */
	struct verdict *next; /* handed over by alerter_offer */
	char host[256];
};

/* Takes the latest verdict and runs a round on it, until told to stop. */
static void *alerter_main(void *arg)
{
	struct alerter *a = arg;
	struct verdict *v = malloc(sizeof(*v));
	struct config *cfg = malloc(sizeof(*cfg));
	time_t retry_at = 0, backoff = ALERTER_RETRY_MIN_S;

	if (!v || !cfg) {
		log_error("alerts: out of memory; no notifications will be sent");
		free(v);
		free(cfg);
		return NULL;
	}
	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->stop && !a->fresh)
			pthread_cond_wait(&a->wake, &a->lock);
		if (a->stop)
			break;
		*v = *a->next;
		*cfg = a->cfg;
		a->fresh = false;
		pthread_mutex_unlock(&a->lock);
		{
			time_t now = time(NULL);
			struct alertrun run = {.cfg = cfg,
			                       .verdict = v,
			                       .complete = true,
			                       .host = a->host,
			                       .now = now,
			                       .log_sent = true,
			                       .retry = now >= retry_at};
			int left = alertrun_round(&run);

			if (left > 0 && (run.retry || retry_at == 0)) {
				retry_at = now + backoff;
				backoff = backoff * 2 > ALERTER_RETRY_MAX_S ? ALERTER_RETRY_MAX_S
				                                            : backoff * 2;
			} else if (left == 0) {
				retry_at = 0;
				backoff = ALERTER_RETRY_MIN_S;
			}
		}
		explicit_bzero(cfg->alert_notify, sizeof(cfg->alert_notify));
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	explicit_bzero(cfg->alert_notify, sizeof(cfg->alert_notify));
	free(v);
	free(cfg);
	return NULL;
}

int alerter_start(const struct config *cfg, struct alerter **ret)
{
	struct alerter *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->next = calloc(1, sizeof(*a->next));
	if (!a->next) {
		free(a);
		return -ENOMEM;
	}
	a->cfg = *cfg;
	gethostname(a->host, sizeof(a->host) - 1);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	r = pthread_create(&a->thread, NULL, alerter_main, a);
	if (r) {
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->wake);
		free(a->next);
		free(a);
		return -r;
	}
	*ret = a;
	return 0;
}

void alerter_set_config(struct alerter *a, const struct config *cfg)
{
	pthread_mutex_lock(&a->lock);
	a->cfg = *cfg;
	pthread_mutex_unlock(&a->lock);
}

void alerter_offer(struct alerter *a, const struct snapshot *snap)
{
	pthread_mutex_lock(&a->lock);
	if (a->cfg.n_alert_notify > 0) {
		verdict_evaluate(&a->cfg, snap, NULL, a->next);
		a->fresh = true;
		pthread_cond_signal(&a->wake);
	}
	pthread_mutex_unlock(&a->lock);
}

void alerter_stop(struct alerter *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	explicit_bzero(a->cfg.alert_notify, sizeof(a->cfg.alert_notify));
	free(a->next);
	free(a);
}
