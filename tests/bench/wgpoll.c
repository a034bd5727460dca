/* wgpoll: drives sparkmon's kernel WireGuard reader (probes/wgkernel.c)
 * directly, for the benchmark and for the kernel integration test. Links
 * build/libsparkmon.a; runs inside the test VM.
 *
 *   wgpoll poll IFNAME N
 *       N in-process polls of one device (one WG_CMD_GET_DEVICE dump and
 *       parse each); prints the CPU time per poll.
 *   wgpoll probe N
 *       N runs of the whole WireGuard probe (wireguard_read() with the
 *       default configuration: every interface of the namespace).
 *   wgpoll spawn N PROG [ARG...]
 *       runs PROG N times (stdout to /dev/null), one after the other; prints
 *       the CPU time per run of the child processes (exec, loading, work).
 *       Any exit status counts as a run; a signal or a failed exec fails.
 *   wgpoll race IFNAME FIFO
 *       finds the device, opens FIFO for reading (the writer, which deletes
 *       the device meanwhile, is released by that open), reads one line, then
 *       dumps the device; exits 0 when the dump reports -ENODEV. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor/config.h"
#include "probes/wgkernel.h"
#include "probes/wireguard.h"

#define TIMEOUT_MS 5000

static double now_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* User and system CPU time so far of `who` (RUSAGE_SELF, RUSAGE_CHILDREN).
 * The kernel splits its precise total between the two by tick samples, so
 * the split is an estimate; the sum is exact. */
static void cpu_s(int who, double *user, double *sys)
{
	struct rusage ru;

	getrusage(who, &ru);
	*user = tv_s(ru.ru_utime);
	*sys = tv_s(ru.ru_stime);
}

static size_t count_allowed_ips(const struct wireguard_device *dev)
{
	size_t n = 0;

	for (size_t i = 0; i < dev->n_peers; i++)
		n += dev->peers[i].n_allowed_ips;
	return n;
}

static int read_once(uint16_t family, const char *ifname, struct wireguard_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "%s", ifname);
	return wgkernel_read_device(family, dev, TIMEOUT_MS);
}

static int cmd_poll(const char *ifname, long n)
{
	struct wireguard_device dev;
	size_t peers = 0, allowed = 0;
	double cpu0, wall0, cpu, wall, user0, sys0, user, sys;
	uint16_t family;
	int r;

	r = wgkernel_family(&family, TIMEOUT_MS);
	if (r < 0) {
		fprintf(stderr, "wgpoll: wireguard family: %s\n", strerror(-r));
		return 1;
	}
	cpu_s(RUSAGE_SELF, &user0, &sys0);
	cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	wall0 = now_s(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++) {
		r = read_once(family, ifname, &dev);
		if (r < 0) {
			fprintf(stderr, "wgpoll: dump of %s: %s\n", ifname, strerror(-r));
			wireguard_device_free(&dev);
			return 1;
		}
		peers = dev.n_peers;
		allowed = count_allowed_ips(&dev);
		wireguard_device_free(&dev);
	}
	cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	wall = now_s(CLOCK_MONOTONIC) - wall0;
	cpu_s(RUSAGE_SELF, &user, &sys);
	printf("poll if=%s peers=%zu allowed_ips=%zu runs=%ld cpu_us=%.1f user_us=%.1f sys_us=%.1f "
	       "wall_us=%.1f\n",
	       ifname, peers, allowed, n, cpu / (double)n * 1e6, (user - user0) / (double)n * 1e6,
	       (sys - sys0) / (double)n * 1e6, wall / (double)n * 1e6);
	return 0;
}

/* The whole probe as the daemon runs it each interval: discovery over
 * rtnetlink, addresses, the dump of every device, names and states. */
static int cmd_probe(long n)
{
	double cpu0, wall0, cpu, wall, user0, sys0, user, sys;
	struct config cfg;
	size_t peers = 0;
	char err[256];

	config_defaults(&cfg);
	cpu_s(RUSAGE_SELF, &user0, &sys0);
	cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	wall0 = now_s(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++) {
		struct wireguard wg = {.devices = NULL};
		int r = wireguard_read(&cfg, &wg, err, sizeof(err));

		if (r < 0) {
			fprintf(stderr, "wgpoll: wireguard_read: %s (%s)\n", strerror(-r), err);
			wireguard_free(&wg);
			return 1;
		}
		peers = 0;
		for (size_t d = 0; d < wg.n_devices; d++) {
			if (wg.devices[d].error) {
				fprintf(stderr, "wgpoll: %s: %s\n", wg.devices[d].name,
				        wg.devices[d].error_text);
				wireguard_free(&wg);
				return 1;
			}
			peers += wg.devices[d].n_peers;
		}
		wireguard_free(&wg);
	}
	cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	wall = now_s(CLOCK_MONOTONIC) - wall0;
	cpu_s(RUSAGE_SELF, &user, &sys);
	printf("probe peers=%zu runs=%ld cpu_us=%.1f user_us=%.1f sys_us=%.1f wall_us=%.1f\n",
	       peers, n, cpu / (double)n * 1e6, (user - user0) / (double)n * 1e6,
	       (sys - sys0) / (double)n * 1e6, wall / (double)n * 1e6);
	return 0;
}

static int cmd_spawn(long n, char **argv)
{
	double wall0 = now_s(CLOCK_MONOTONIC), wall, user0, sys0, user, sys;

	cpu_s(RUSAGE_CHILDREN, &user0, &sys0);

	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("wgpoll: fork");
			return 1;
		}
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
				_exit(126);
			execvp(argv[0], argv);
			_exit(127);
		}
		/* Any exit status counts as a run (sparkmon check exits 0-3 by
		 * verdict); a signal or a failed exec does not. */
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) >= 126) {
			fprintf(stderr, "wgpoll: %s failed (status 0x%x)\n", argv[0], status);
			return 1;
		}
	}
	wall = now_s(CLOCK_MONOTONIC) - wall0;
	cpu_s(RUSAGE_CHILDREN, &user, &sys);
	user -= user0;
	sys -= sys0;
	printf("spawn prog=%s runs=%ld cpu_us=%.1f user_us=%.1f sys_us=%.1f wall_us=%.1f\n",
	       argv[0], n, (user + sys) / (double)n * 1e6, user / (double)n * 1e6,
	       sys / (double)n * 1e6, wall / (double)n * 1e6);
	return 0;
}

static int cmd_race(const char *ifname, const char *fifo)
{
	struct wireguard_device dev;
	uint16_t family;
	char line[16];
	FILE *f;
	int r;

	r = wgkernel_family(&family, TIMEOUT_MS);
	if (r < 0) {
		fprintf(stderr, "wgpoll: wireguard family: %s\n", strerror(-r));
		return 1;
	}
	if (if_nametoindex(ifname) == 0) {
		fprintf(stderr, "wgpoll: %s not found before the dump\n", ifname);
		return 1;
	}
	f = fopen(fifo, "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		fprintf(stderr, "wgpoll: %s: %s\n", fifo, strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	r = read_once(family, ifname, &dev);
	printf("race if=%s result=%d (%s) peers=%zu\n", ifname, r, r < 0 ? strerror(-r) : "ok",
	       dev.n_peers);
	wireguard_device_free(&dev);
	return r == -ENODEV ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "poll") == 0 && atol(argv[3]) > 0)
		return cmd_poll(argv[2], atol(argv[3]));
	if (argc == 3 && strcmp(argv[1], "probe") == 0 && atol(argv[2]) > 0)
		return cmd_probe(atol(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "spawn") == 0 && atol(argv[2]) > 0)
		return cmd_spawn(atol(argv[2]), argv + 3);
	if (argc == 4 && strcmp(argv[1], "race") == 0)
		return cmd_race(argv[2], argv[3]);
	fputs("usage: wgpoll poll IFNAME N | probe N | spawn N PROG [ARG...] | race IFNAME FIFO\n",
	      stderr);
	return 2;
}
