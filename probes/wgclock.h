/* Handshake times across steps of the wall clock.
 *
 * WireGuard implementations stamp a peer's last handshake with the wall
 * clock (CLOCK_REALTIME) at the time it happens. When the clock is stepped
 * later (NTP's first sync on a board without a real-time clock, an admin's
 * `date -s`), every handshake stamped before the step is off by the step:
 * a day forward makes every peer look a day old until its next handshake,
 * an hour back puts handshakes in the future.
 *
 * A step shows as a change of CLOCK_REALTIME - CLOCK_BOOTTIME (the
 * "offset"); slewing moves both clocks alike and leaves it, and so does a
 * suspend (CLOCK_MONOTONIC would stop during one, and a handshake from
 * before it would look younger by the time asleep). Per peer, the
 * offset when its handshake value was first seen is remembered; the value
 * reported is moved by how much the offset changed since, so that a
 * handshake keeps its true age across a step, and one stamped after the
 * step (a new value) is taken as is. */
#ifndef SPARKMON_WGCLOCK_H
#define SPARKMON_WGCLOCK_H

#include <stdint.h>

#include "probes/wireguard.h"

/* Offset changes smaller than this are left alone: ages are shown in
 * seconds, and two clocks are never read at the same instant. */
#define WGCLOCK_MIN_STEP_NS 1000000000LL

/* One peer's handshake as the implementation reported it, with the offset
 * when that value was first seen. */
struct wgclock_seen {
	char device[IF_NAMESIZE];
	char key[WIREGUARD_KEY_B64_LEN + 1];
	int64_t handshake, handshake_nsec;
	int64_t offset_ns;
};

/* What the previous read saw, in its order. Zero it before the first
 * use. Not thread-safe: the caller serializes. */
struct wgclock {
	struct wgclock_seen *seen;
	size_t n;
	size_t *sorted; /* seen's indices by device and key; NULL until needed */
};

/* CLOCK_REALTIME - CLOCK_BOOTTIME now, in nanoseconds. */
int64_t wgclock_offset_now(void);

/* Moves every peer's last_handshake in wg by the change of the offset
 * since its value was first seen (offset_ns is the offset now), and
 * remembers the peers of this read in place of the previous ones.
 * O(n) in the number of peers while the peer list stays as it was, else
 * O(n log n). Returns 0, or -ENOMEM when the peers
 * could not be remembered (the times are moved all the same, from what
 * was remembered before). */
int wgclock_apply(struct wgclock *clk, struct wireguard *wg, int64_t offset_ns);

/* wgclock_apply() with the process's own state and the offset now, for
 * the WireGuard probe. Thread-safe. */
int wgclock_apply_process(struct wireguard *wg);

void wgclock_free(struct wgclock *clk);

#endif
