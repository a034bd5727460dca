/* wgclock: the CPU cost of carrying handshake times across wall-clock
 * steps (probes/wgclock.c) per WireGuard read, for devices of 100 to 20000
 * peers that have all handshaken: what the probe adds to each poll on top
 * of the dump (tests/bench/wireguard_kernel.sh measures that). Every other
 * read sees the clock stepped a day, so that every handshake is moved.
 * "same": the device lists its peers as in the read before (the usual
 * case); "moved": every peer is somewhere else in the list.
 *
 *   make BUILD=build-bench build-bench/bench/wgclock && build-bench/bench/wgclock [READS]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probes/wgclock.h"
#include "probes/wireguard.h"

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* A device of n peers with distinct keys in no particular order, each
 * with a handshake; raw[] keeps the stamps as the kernel reported them. */
static int make_device(struct wireguard_device *dev, size_t n, int64_t *raw)
{
	uint8_t key[WIREGUARD_KEY_LEN] = {0};

	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "wg0");
	for (size_t i = 0; i < n; i++) {
		struct wireguard_peer *p = wireguard_device_add_peer(dev);
		uint32_t h = (uint32_t)i * 2654435761u; /* scatter the order */

		if (!p)
			return -1;
		memcpy(key, &h, sizeof(h));
		memcpy(key + 4, &i, sizeof(i));
		wireguard_key_to_base64(p->public_key, key);
		raw[i] = p->last_handshake = 1700000000 - (int64_t)(i % 120);
	}
	return 0;
}

/* Reverses the peer list (and the stamps with it): every peer moves. */
static void reverse(struct wireguard_device *dev, int64_t *raw)
{
	for (size_t i = 0, j = dev->n_peers - 1; i < j; i++, j--) {
		struct wireguard_peer p = dev->peers[i];
		int64_t r = raw[i];

		dev->peers[i] = dev->peers[j];
		dev->peers[j] = p;
		raw[i] = raw[j];
		raw[j] = r;
	}
}

/* CPU µs per read of a device of n peers; with `moved`, the list is
 * reversed before each read. */
static double measure(size_t n, int reads, bool moved)
{
	int64_t *raw = malloc(n * sizeof(*raw)), offset = 1000000000000000000LL;
	struct wireguard_device dev;
	struct wireguard wg = {.devices = &dev, .n_devices = 1};
	struct wgclock clk = {.seen = NULL};
	double start, us = -1;

	if (!raw || make_device(&dev, n, raw) < 0)
		goto out;
	wgclock_apply(&clk, &wg, offset); /* the first sighting */
	start = cpu_us();
	for (int r = 0; r < reads; r++) {
		if (moved)
			reverse(&dev, raw);
		for (size_t i = 0; i < n; i++)
			dev.peers[i].last_handshake = raw[i];
		if (wgclock_apply(&clk, &wg, offset + (r % 2) * 86400000000000LL) < 0)
			goto out;
	}
	us = (cpu_us() - start) / reads;
out:
	wgclock_free(&clk);
	wireguard_device_free(&dev);
	free(raw);
	return us;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {100, 1000, 5000, 20000};
	int reads = argc > 1 ? atoi(argv[1]) : 200;

	if (reads < 2)
		reads = 2;
	printf("%8s %14s %14s %14s %14s\n", "peers", "same us/read", "ns/peer", "moved us/read",
	       "ns/peer");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		double same = measure(sizes[s], reads, false),
		       moved = measure(sizes[s], reads, true);

		if (same < 0 || moved < 0) {
			fprintf(stderr, "wgclock: out of memory\n");
			return 1;
		}
		printf("%8zu %14.1f %14.1f %14.1f %14.1f\n", sizes[s], same,
		       same * 1e3 / (double)sizes[s], moved, moved * 1e3 / (double)sizes[s]);
	}
	return 0;
}
