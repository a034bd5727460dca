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
 *   wgpoll reads N
 *       N runs of the whole WireGuard probe, as `probe` does; after each,
 *       per device, a line "read RUN dev=NAME interrupted=K peers=P
 *       error=TEXT" (error=- when it was read) and one "peer KEY" line per
 *       peer, for a test that checks each peer list against the states a
 *       device went through (tests/integration/kernel/scenario-wireguard.sh).
 *   wgpoll churn IFNAME PEERS PAUSE_US STOPFILE
 *       changes the device until STOPFILE exists (at most 5 minutes): for
 *       each line "peer KEY allowed-ips A.B.C.D/32" of the file PEERS in
 *       turn, over and over, removes that peer, adds it back with that
 *       allowed IP (at the tail of the device's list), then sleeps PAUSE_US
 *       microseconds; one WG_CMD_SET_DEVICE each, as `wg set` sends, but
 *       without a process per change. Prints the number of changes.
 *   wgpoll capture IFNAME FILE MAX
 *       one read of the device, as the probe does it, with every message the
 *       reader's callback gets written to FILE as it came (the last try's,
 *       when the kernel interrupted a dump), at most MAX of them (0: all),
 *       then an NLMSG_DONE carrying NLM_F_DUMP_INTR when the dump was:
 *       a reply that netlink_replay() and the wgkernel fuzzing harness
 *       run. Prints the result.
 *   wgpoll race IFNAME FIFO
 *       finds the device, opens FIFO for reading (the writer, which deletes
 *       the device meanwhile, is released by that open), reads one line, then
 *       dumps the device; exits 0 when the dump reports -ENODEV. */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

/* The generic netlink family of WireGuard, or a message and -1. */
static int family_or_say(uint16_t *family)
{
	int r = wgkernel_family(family, TIMEOUT_MS);

	if (r < 0)
		fprintf(stderr, "wgpoll: wireguard family: %s\n", strerror(-r));
	return r < 0 ? -1 : 0;
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

	if (family_or_say(&family) < 0)
		return 1;
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

/* One run of the whole WireGuard probe into wg; on an error, says so and
 * frees wg. */
static int probe_once(const struct config *cfg, struct wireguard *wg)
{
	char err[256];
	int r = wireguard_read(cfg, wg, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "wgpoll: wireguard_read: %s (%s)\n", strerror(-r), err);
		wireguard_free(wg);
	}
	return r;
}

/* The whole probe as the daemon runs it each interval: discovery over
 * rtnetlink, addresses, the dump of every device, names and states. */
static int cmd_probe(long n)
{
	double cpu0, wall0, cpu, wall, user0, sys0, user, sys;
	struct config cfg;
	size_t peers = 0;

	config_defaults(&cfg);
	cpu_s(RUSAGE_SELF, &user0, &sys0);
	cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	wall0 = now_s(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++) {
		struct wireguard wg = {.devices = NULL};

		if (probe_once(&cfg, &wg) < 0)
			return 1;
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

static int cmd_reads(long n)
{
	struct config cfg;

	config_defaults(&cfg);
	for (long i = 0; i < n; i++) {
		struct wireguard wg = {.devices = NULL};

		if (probe_once(&cfg, &wg) < 0)
			return 1;
		for (size_t d = 0; d < wg.n_devices; d++) {
			const struct wireguard_device *dev = &wg.devices[d];

			printf("read %ld dev=%s interrupted=%u peers=%zu error=%s\n", i, dev->name,
			       dev->interrupted_dumps, dev->n_peers,
			       dev->error ? dev->error_text : "-");
			for (size_t p = 0; p < dev->n_peers; p++)
				printf("peer %s\n", dev->peers[p].public_key);
		}
		wireguard_free(&wg);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

struct churn_peer {
	uint8_t key[WIREGUARD_KEY_LEN];
	struct in_addr ip;
};

/* One WG_CMD_SET_DEVICE on ifname: peer removed, or added with ip/32. */
static int churn_set(struct mnl_socket *nl, uint16_t family, const char *ifname,
                     const struct churn_peer *p, bool remove, uint32_t seq)
{
	char buf[512], ack[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *peers, *peer, *ips, *ip;
	struct genlmsghdr *genl;
	ssize_t n;
	int r;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = WG_CMD_SET_DEVICE;
	genl->version = WG_GENL_VERSION;
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, ifname);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, sizeof(p->key), p->key);
	if (remove) {
		mnl_attr_put_u32(nlh, WGPEER_A_FLAGS, WGPEER_F_REMOVE_ME);
	} else {
		ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
		ip = mnl_attr_nest_start(nlh, 0);
		mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
		mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, sizeof(p->ip), &p->ip);
		mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 32);
		mnl_attr_nest_end(nlh, ip);
		mnl_attr_nest_end(nlh, ips);
	}
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, ack, sizeof(ack));
	if (n < 0)
		return -errno;
	r = mnl_cb_run(ack, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL);
	return r < 0 ? -errno : 0;
}

static size_t churn_load(const char *path, struct churn_peer **ret)
{
	char line[256], key[64];
	struct churn_peer *peers = NULL;
	size_t n = 0, cap = 0;
	unsigned a, b, c, d;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			peers = realloc(peers, cap * sizeof(*peers));
			if (!peers)
				abort();
		}
		if (sscanf(line, "peer %63s allowed-ips %u.%u.%u.%u/32", key, &a, &b, &c, &d) !=
		        5 ||
		    wireguard_key_from_base64(peers[n].key, key) < 0) {
			fprintf(stderr, "wgpoll: %s: bad line: %s", path, line);
			exit(1);
		}
		peers[n++].ip.s_addr = htonl(a << 24 | b << 16 | c << 8 | d);
	}
	if (f)
		fclose(f);
	*ret = peers;
	return n;
}

static int cmd_churn(const char *ifname, const char *path, long pause_us, const char *stop)
{
	double end = now_s(CLOCK_MONOTONIC) + 300;
	struct churn_peer *peers;
	size_t n = churn_load(path, &peers);
	struct mnl_socket *nl;
	unsigned long changes = 0;
	uint16_t family;
	int r = 0;

	if (n == 0) {
		fprintf(stderr, "wgpoll: no peers in %s\n", path);
		return 1;
	}
	if (family_or_say(&family) < 0)
		return 1;
	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("wgpoll: netlink");
		return 1;
	}
	for (size_t i = 0; access(stop, F_OK) < 0 && now_s(CLOCK_MONOTONIC) < end;
	     i = (i + 1) % n) {
		r = churn_set(nl, family, ifname, &peers[i], true, (uint32_t)changes);
		if (r == 0)
			r = churn_set(nl, family, ifname, &peers[i], false, (uint32_t)changes + 1);
		if (r < 0) {
			fprintf(stderr, "wgpoll: set %s: %s\n", ifname, strerror(-r));
			break;
		}
		changes += 2;
		if (pause_us > 0)
			usleep((useconds_t)pause_us);
	}
	mnl_socket_close(nl);
	free(peers);
	printf("churn if=%s changes=%lu\n", ifname, changes);
	return r < 0 ? 1 : 0;
}

/* The messages of one try, as the reader's callback got them. */
static struct {
	char *buf;
	size_t len, cap;
	long max, count;
	bool interrupted;
	mnl_cb_t cb;
} capture;

static void capture_put(const void *p, size_t len)
{
	if (capture.len + len > capture.cap) {
		capture.cap = (capture.len + len) * 2;
		capture.buf = realloc(capture.buf, capture.cap);
		if (!capture.buf)
			abort();
	}
	memcpy(capture.buf + capture.len, p, len);
	capture.len += len;
}

static int capture_message(const struct nlmsghdr *nlh, void *data)
{
	static const char pad[MNL_ALIGNTO];

	if (capture.max == 0 || capture.count < capture.max) {
		capture_put(nlh, nlh->nlmsg_len);
		capture_put(pad, MNL_ALIGN(nlh->nlmsg_len) - nlh->nlmsg_len);
		capture.interrupted |= (nlh->nlmsg_flags & NLM_F_DUMP_INTR) != 0;
		capture.count++;
	}
	return capture.cb(nlh, data);
}

static int capture_talk(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data, unsigned timeout_ms)
{
	int r;

	capture.len = 0;
	capture.count = 0;
	capture.interrupted = false;
	capture.cb = cb;
	r = netlink_talk(bus, req, capture_message, data, timeout_ms);
	/* The kernel may flag only its NLMSG_DONE, which no callback gets. */
	capture.interrupted |= r == -EINTR;
	return r;
}

static int cmd_capture(const char *ifname, const char *path, long max)
{
	struct nlmsghdr done = {.nlmsg_len = NLMSG_HDRLEN + sizeof(int32_t),
	                        .nlmsg_type = NLMSG_DONE};
	struct wireguard_device dev;
	int32_t ok = 0;
	uint16_t family;
	FILE *f;
	int r;

	if (family_or_say(&family) < 0)
		return 1;
	capture.max = max;
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.name, sizeof(dev.name), "%s", ifname);
	r = wgkernel_read_device_with(capture_talk, family, &dev, TIMEOUT_MS);
	done.nlmsg_flags = NLM_F_MULTI | (capture.interrupted ? NLM_F_DUMP_INTR : 0);
	capture_put(&done, sizeof(done));
	capture_put(&ok, sizeof(ok));
	f = fopen(path, "w");
	if (!f || fwrite(capture.buf, 1, capture.len, f) != capture.len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	printf(
	    "capture if=%s result=%d interrupted=%u peers=%zu messages=%ld flagged=%d bytes=%zu\n",
	    ifname, r, dev.interrupted_dumps, dev.n_peers, capture.count, capture.interrupted,
	    capture.len);
	wireguard_device_free(&dev);
	free(capture.buf);
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

	if (family_or_say(&family) < 0)
		return 1;
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
	if (argc == 3 && strcmp(argv[1], "reads") == 0 && atol(argv[2]) > 0)
		return cmd_reads(atol(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "spawn") == 0 && atol(argv[2]) > 0)
		return cmd_spawn(atol(argv[2]), argv + 3);
	if (argc == 6 && strcmp(argv[1], "churn") == 0)
		return cmd_churn(argv[2], argv[3], atol(argv[4]), argv[5]);
	if (argc == 5 && strcmp(argv[1], "capture") == 0)
		return cmd_capture(argv[2], argv[3], atol(argv[4]));
	if (argc == 4 && strcmp(argv[1], "race") == 0)
		return cmd_race(argv[2], argv[3]);
	fputs("usage: wgpoll poll IFNAME N | probe N | reads N | spawn N PROG [ARG...] |"
	      " churn IFNAME PEERS PAUSE_US STOPFILE | capture IFNAME FILE MAX |"
	      " race IFNAME FIFO\n",
	      stderr);
	return 2;
}
