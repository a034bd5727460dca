#include "probes/wgclock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000LL

static int64_t timespec_ns(const struct timespec *ts)
{
	int64_t ns;

	/* Past 2262 a time no longer fits: saturate rather than wrap. */
	if (__builtin_mul_overflow((int64_t)ts->tv_sec, NS_PER_S, &ns) ||
	    __builtin_add_overflow(ns, (int64_t)ts->tv_nsec, &ns))
		return ts->tv_sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

int64_t wgclock_offset_now(void)
{
	struct timespec real, mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return timespec_ns(&real) - timespec_ns(&mono);
}

static int compare_seen(const void *a, const void *b)
{
	const struct wgclock_seen *x = a, *y = b;
	int c = strcmp(x->device, y->device);

	return c ? c : strcmp(x->key, y->key);
}

static const struct wgclock_seen *find_seen(const struct wgclock *clk, const char *device,
                                            const char *key)
{
	struct wgclock_seen probe;

	if (!clk->n)
		return NULL;
	snprintf(probe.device, sizeof(probe.device), "%s", device);
	snprintf(probe.key, sizeof(probe.key), "%s", key);
	return bsearch(&probe, clk->seen, clk->n, sizeof(*clk->seen), compare_seen);
}

/* The offset to measure this handshake from: the one when its value was
 * first seen, or now for a value not seen before. */
static int64_t offset_then(const struct wgclock *clk, const char *device,
                           const struct wireguard_peer *p, int64_t offset_ns)
{
	const struct wgclock_seen *s = find_seen(clk, device, p->public_key);

	if (s && s->handshake == p->last_handshake && s->handshake_nsec == p->last_handshake_nsec)
		return s->offset_ns;
	return offset_ns;
}

/* Moves the handshake by shift_ns, rounded to whole seconds (the
 * nanoseconds the implementation reported stay as they are). A handshake
 * stays a handshake: never moved to 0 ("never") or before. */
static void shift_handshake(struct wireguard_peer *p, int64_t shift_ns)
{
	int64_t s = shift_ns / NS_PER_S, rest = shift_ns % NS_PER_S, t;

	if (rest >= NS_PER_S / 2)
		s++;
	else if (rest <= -NS_PER_S / 2)
		s--;
	if (__builtin_add_overflow(p->last_handshake, s, &t))
		return;
	p->last_handshake = t > 0 ? t : 1;
}

static size_t count_handshakes(const struct wireguard *wg)
{
	size_t n = 0;

	for (size_t i = 0; i < wg->n_devices; i++)
		for (size_t j = 0; j < wg->devices[i].n_peers; j++)
			n += wg->devices[i].peers[j].last_handshake > 0;
	return n;
}

int wgclock_apply(struct wgclock *clk, struct wireguard *wg, int64_t offset_ns)
{
	size_t total = count_handshakes(wg), n = 0;
	struct wgclock_seen *next = total ? malloc(total * sizeof(*next)) : NULL;

	for (size_t i = 0; i < wg->n_devices; i++) {
		struct wireguard_device *dev = &wg->devices[i];

		for (size_t j = 0; j < dev->n_peers; j++) {
			struct wireguard_peer *p = &dev->peers[j];
			int64_t then, shift;

			if (p->last_handshake <= 0)
				continue;
			then = offset_then(clk, dev->name, p, offset_ns);
			if (next) {
				struct wgclock_seen *s = &next[n++];

				snprintf(s->device, sizeof(s->device), "%s", dev->name);
				snprintf(s->key, sizeof(s->key), "%s", p->public_key);
				s->handshake = p->last_handshake;
				s->handshake_nsec = p->last_handshake_nsec;
				s->offset_ns = then;
			}
			if (!__builtin_sub_overflow(offset_ns, then, &shift) &&
			    (shift >= WGCLOCK_MIN_STEP_NS || shift <= -WGCLOCK_MIN_STEP_NS))
				shift_handshake(p, shift);
		}
	}
	if (total && !next)
		return -ENOMEM;
	if (n > 1)
		qsort(next, n, sizeof(*next), compare_seen);
	free(clk->seen);
	clk->seen = next;
	clk->n = n;
	return 0;
}

void wgclock_free(struct wgclock *clk)
{
	if (!clk)
		return;
	free(clk->seen);
	clk->seen = NULL;
	clk->n = 0;
}

/* The collector reads WireGuard from one worker thread, one read at a
 * time; the lock only makes that an invariant rather than an assumption. */
static pthread_mutex_t process_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wgclock process_clock;

int wgclock_apply_process(struct wireguard *wg)
{
	int r;

	pthread_mutex_lock(&process_lock);
	r = wgclock_apply(&process_clock, wg, wgclock_offset_now());
	pthread_mutex_unlock(&process_lock);
	return r;
}
