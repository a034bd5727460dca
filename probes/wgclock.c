#include "probes/wgclock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000LL

/* Names and keys are copied whole from the peer list. */
_Static_assert(sizeof(((struct wgclock_seen *)0)->device) ==
                   sizeof(((struct wireguard_device *)0)->name),
               "device name sizes differ");
_Static_assert(sizeof(((struct wgclock_seen *)0)->key) ==
                   sizeof(((struct wireguard_peer *)0)->public_key),
               "key sizes differ");

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
	struct timespec real, boot;
	int64_t offset;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &real);
	if (__builtin_sub_overflow(timespec_ns(&real), timespec_ns(&boot), &offset))
		return real.tv_sec < 0 ? INT64_MIN : INT64_MAX;
	return offset;
}

static int compare_to(const struct wgclock_seen *s, const char *device, const char *key)
{
	int c = strcmp(s->device, device);

	return c ? c : strcmp(s->key, key);
}

static int compare_indices(const void *a, const void *b, void *arg)
{
	const struct wgclock_seen *seen = arg, *y = &seen[*(const size_t *)b];

	return compare_to(&seen[*(const size_t *)a], y->device, y->key);
}

/* The previous read's entries by device and key, sorted once per read
 * at most, and only when a peer is not where it was. */
static int sort_seen(struct wgclock *clk)
{
	if (clk->sorted || !clk->n)
		return 0;
	clk->sorted = malloc(clk->n * sizeof(*clk->sorted));
	if (!clk->sorted)
		return -ENOMEM;
	for (size_t i = 0; i < clk->n; i++)
		clk->sorted[i] = i;
	qsort_r(clk->sorted, clk->n, sizeof(*clk->sorted), compare_indices, clk->seen);
	return 0;
}

/* The previous read's entry of this peer, or NULL. Implementations list
 * peers in a stable order, so the entry is usually at the same position
 * (pos, among the peers with a handshake): a read of an unchanged device
 * costs O(n), one whose peers changed O(n log n). */
static const struct wgclock_seen *find_seen(struct wgclock *clk, size_t pos, const char *device,
                                            const char *key)
{
	size_t lo = 0, hi = clk->n;

	if (pos < clk->n && compare_to(&clk->seen[pos], device, key) == 0)
		return &clk->seen[pos];
	if (sort_seen(clk) < 0)
		return NULL; /* taken as a new handshake: not moved */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct wgclock_seen *s = &clk->seen[clk->sorted[mid]];
		int c = compare_to(s, device, key);

		if (c == 0)
			return s;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The offset to measure this handshake from: the one when its value was
 * first seen, or now for a value not seen before. */
static int64_t offset_then(struct wgclock *clk, size_t pos, const char *device,
                           const struct wireguard_peer *p, int64_t offset_ns)
{
	const struct wgclock_seen *s = find_seen(clk, pos, device, p->public_key);

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
	size_t total = count_handshakes(wg), n = 0, pos = 0;
	struct wgclock_seen *next = total ? malloc(total * sizeof(*next)) : NULL;

	for (size_t i = 0; i < wg->n_devices; i++) {
		struct wireguard_device *dev = &wg->devices[i];

		for (size_t j = 0; j < dev->n_peers; j++) {
			struct wireguard_peer *p = &dev->peers[j];
			int64_t then, shift;

			if (p->last_handshake <= 0)
				continue;
			then = offset_then(clk, pos++, dev->name, p, offset_ns);
			if (next) {
				struct wgclock_seen *s = &next[n++];

				memcpy(s->device, dev->name, sizeof(s->device));
				memcpy(s->key, p->public_key, sizeof(s->key));
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
	wgclock_free(clk);
	clk->seen = next;
	clk->n = n;
	return 0;
}

void wgclock_free(struct wgclock *clk)
{
	if (!clk)
		return;
	free(clk->seen);
	free(clk->sorted);
	clk->seen = NULL;
	clk->sorted = NULL;
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
