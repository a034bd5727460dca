#include "monitor/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/probetab.h"
#include "probes/scrub.h"

/* Below the worker's frame: deeper than any probe's calls go. */
#define SCHEDULER_SCRUB_BYTES (64 * 1024)

struct worker {
	struct scheduler *sched;
	enum probe_id id;
	pthread_t thread;
	bool started, exited;
	struct snapshot *scratch;  /* private: the probe writes here */
	uint64_t next_due_ms;      /* monotonic */
	uint64_t running_since_ms; /* monotonic; 0 = not running */
	uint64_t interval_ms;
	uint64_t runs; /* finished runs, published */
};

struct scheduler {
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* workers: stop, reload */
	pthread_cond_t changed; /* readers: a probe finished */
	struct config cfg;
	struct snapshot *shared;
	uint64_t generation;
	bool stopping;
	unsigned running; /* worker threads not exited */
	struct worker workers[PROBE__COUNT];
};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Absolute CLOCK_MONOTONIC time for pthread_cond_timedwait (the condition
 * variables are created on that clock: wall-clock steps do not matter). */
static struct timespec deadline_after(uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static uint64_t probe_interval(enum probe_id id, const struct config *cfg)
{
	uint64_t ms = probetab[id].interval_ms ? probetab[id].interval_ms(cfg) : cfg->interval_ms;

	return ms ? ms : 1000;
}

/* Before a run: a part that is plain data starts as the published one, so
 * that a run which fails (and, by the probes' contract, writes nothing)
 * leaves the last good reading in place rather than whatever the scratch
 * held from an older run. Parts that own memory cannot be copied; for
 * those publish_area() keeps the published part when the run fails. */
static void prepare_area(struct snapshot *scratch, const struct snapshot *shared, enum probe_id id)
{
	if (probetab[id].release)
		return;
	memcpy((unsigned char *)scratch + probetab[id].area_offset,
	       (const unsigned char *)shared + probetab[id].area_offset, probetab[id].area_size);
}

/* Exchanges the probe's part of the two snapshots. */
static void swap_area(struct snapshot *a, struct snapshot *b, enum probe_id id)
{
	unsigned char *pa = (unsigned char *)a + probetab[id].area_offset;
	unsigned char *pb = (unsigned char *)b + probetab[id].area_offset;
	unsigned char tmp[256];

	for (size_t done = 0, n; done < probetab[id].area_size; done += n) {
		n = probetab[id].area_size - done;
		if (n > sizeof(tmp))
			n = sizeof(tmp);
		memcpy(tmp, pa + done, n);
		memcpy(pa + done, pb + done, n);
		memcpy(pb + done, tmp, n);
	}
	a->probes[id] = b->probes[id];
}

/* After a run: its outcome always goes out; its part only when the run did
 * not fail, so that the last good reading stays published (the renderers
 * mark it stale with its age from the outcome and the part's own time). */
static void publish_area(struct snapshot *shared, struct snapshot *scratch, enum probe_id id)
{
	enum probe_status st = scratch->probes[id].status;

	if (st == PROBE_FAILED || st == PROBE_TIMED_OUT)
		shared->probes[id] = scratch->probes[id];
	else
		swap_area(shared, scratch, id);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct scheduler *s = w->sched;
	struct config *cfg = malloc(sizeof(*cfg));

	pthread_mutex_lock(&s->lock);
	while (cfg && !s->stopping) {
		uint64_t now = monotonic_ms();

		if (now < w->next_due_ms) {
			struct timespec until = deadline_after(w->next_due_ms - now);

			pthread_cond_timedwait(&s->wake, &s->lock, &until);
			continue;
		}
		*cfg = s->cfg;
		w->running_since_ms = now;
		w->interval_ms = probe_interval(w->id, cfg);
		prepare_area(w->scratch, s->shared, w->id);
		pthread_mutex_unlock(&s->lock);

		probetab_run(w->id, cfg, w->scratch);
		/* The probe's deepest frames may have held a key or a line of a
		 * wg-quick file: none of it waits on this stack for the next run. */
		scrub_stack(SCHEDULER_SCRUB_BYTES);

		pthread_mutex_lock(&s->lock);
		w->running_since_ms = 0;
		publish_area(s->shared, w->scratch, w->id);
		w->runs++;
		/* What the swap left in the scratch is the previous reading:
		 * freed now, not held until the next run (the peers of a
		 * large device would otherwise be kept three times over). */
		if (probetab[w->id].release)
			probetab[w->id].release(w->scratch);
		s->generation++;
		pthread_cond_broadcast(&s->changed);
		/* Keep the cadence; a run longer than the interval starts the
		 * next one right away, never a burst of catch-up runs. */
		w->next_due_ms = now + w->interval_ms;
		if (w->next_due_ms < monotonic_ms())
			w->next_due_ms = monotonic_ms();
	}
	w->exited = true;
	s->running--;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	free(cfg);
	return NULL;
}

static void scheduler_free(struct scheduler *s)
{
	for (int id = 0; id < PROBE__COUNT; id++) {
		if (s->workers[id].scratch && probetab[id].release)
			probetab[id].release(s->workers[id].scratch);
		free(s->workers[id].scratch);
	}
	if (s->shared)
		for (int id = 0; id < PROBE__COUNT; id++)
			if (probetab[id].release)
				probetab[id].release(s->shared);
	free(s->shared);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int scheduler_start(const struct config *cfg, struct scheduler **ret)
{
	struct scheduler *s = calloc(1, sizeof(*s));
	pthread_condattr_t attr;
	int r = 0;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &attr);
	pthread_cond_init(&s->changed, &attr);
	pthread_condattr_destroy(&attr);
	s->cfg = *cfg;
	s->shared = calloc(1, sizeof(*s->shared));
	if (!s->shared) {
		scheduler_free(s);
		return -ENOMEM;
	}
	for (int id = 0; id < PROBE__COUNT; id++) {
		s->workers[id].sched = s;
		s->workers[id].id = (enum probe_id)id;
		s->workers[id].scratch = calloc(1, sizeof(struct snapshot));
		if (!s->workers[id].scratch) {
			r = -ENOMEM;
			break;
		}
	}
	pthread_mutex_lock(&s->lock);
	for (int id = 0; id < PROBE__COUNT && r == 0; id++) {
		r = -pthread_create(&s->workers[id].thread, NULL, worker_main, &s->workers[id]);
		if (r == 0) {
			s->workers[id].started = true;
			s->running++;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		scheduler_stop(s, 10000);
		return r;
	}
	*ret = s;
	return 0;
}

void scheduler_set_config(struct scheduler *s, const struct config *cfg)
{
	pthread_mutex_lock(&s->lock);
	s->cfg = *cfg;
	for (int id = 0; id < PROBE__COUNT; id++)
		s->workers[id].next_due_ms = 0;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

uint64_t scheduler_wait(struct scheduler *s, uint64_t seen, uint64_t timeout_ms)
{
	struct timespec until = deadline_after(timeout_ms);
	uint64_t gen;

	pthread_mutex_lock(&s->lock);
	while (s->generation == seen && !s->stopping &&
	       pthread_cond_timedwait(&s->changed, &s->lock, &until) != ETIMEDOUT)
		;
	gen = s->generation;
	pthread_mutex_unlock(&s->lock);
	return gen;
}

struct snapshot *scheduler_lock(struct scheduler *s)
{
	pthread_mutex_lock(&s->lock);
	return s->shared;
}

void scheduler_unlock(struct scheduler *s)
{
	pthread_mutex_unlock(&s->lock);
}

int scheduler_overdue_probe(struct scheduler *s, double grace, double *ret_seconds)
{
	uint64_t now = monotonic_ms();
	double worst = 0;
	int found = -1;

	for (int id = 0; id < PROBE__COUNT; id++) {
		const struct worker *w = &s->workers[id];
		double ran, limit;

		if (!w->running_since_ms)
			continue;
		ran = (double)(now - w->running_since_ms) / 1000.0;
		limit = grace * (double)w->interval_ms / 1000.0 + 30.0;
		if (ran > limit && ran > worst) {
			worst = ran;
			found = id;
		}
	}
	if (found >= 0)
		*ret_seconds = worst;
	return found;
}

void scheduler_stop(struct scheduler *s, uint64_t wait_ms)
{
	struct timespec until = deadline_after(wait_ms);
	bool all;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->wake);
	pthread_cond_broadcast(&s->changed);
	while (s->running > 0 && pthread_cond_timedwait(&s->changed, &s->lock, &until) != ETIMEDOUT)
		;
	all = s->running == 0;
	pthread_mutex_unlock(&s->lock);
	for (int id = 0; id < PROBE__COUNT; id++) {
		if (!s->workers[id].started)
			continue;
		if (s->workers[id].exited)
			pthread_join(s->workers[id].thread, NULL);
		else
			pthread_detach(s->workers[id].thread);
	}
	if (all)
		scheduler_free(s);
}

uint64_t scheduler_probe_runs(struct scheduler *s, enum probe_id id)
{
	return s->workers[id].runs;
}
