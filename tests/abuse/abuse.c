/* A hostile HTTP client for the abuse tests (tests/abuse/) and the
 * HTTP attack benchmark (tests/bench/http_abuse.sh). It speaks only to the
 * address it is given, from loopback source addresses it binds (many
 * 127.x.y.z, each a different client to the server), and every loop in it
 * is bounded in count and in time.
 *
 *   abuse slow   HOST PORT SRC NADDR PER SECONDS STEP_MS
 *       NADDR*PER slowloris connections (PER from each of NADDR addresses
 *       SRC.0.1, SRC.0.2, ...): a partial request, then one header line
 *       every STEP_MS; a closed one is opened again; for SECONDS.
 *   abuse churn  HOST PORT SRC N
 *       N connect-and-close, each from its own address.
 *   abuse raw    HOST PORT SRC TIMEOUT_MS [bytewise]
 *       sends stdin (one byte per packet with bytewise), prints the status
 *       code of each response read within TIMEOUT_MS, then "closed" when
 *       the server closed the connection or "open"; with dump instead of
 *       bytewise, prints what was read as it is.
 *   abuse get    HOST PORT SRC COUNT TIMEOUT_MS [HEADER]
 *       COUNT requests for /metrics one after another, each on its own
 *       connection; prints each status and milliseconds; exits 1 unless
 *       each was 200 within TIMEOUT_MS.
 *   abuse bench  HOST PORT SRC SECONDS [HEADER]
 *       requests for /metrics one after another for SECONDS; prints
 *       "requests N ok N rps R p50_us X p99_us Y max_us Z" (microseconds).
 *   abuse guess  HOST PORT SRC PARALLEL SECONDS HEADER
 *       PARALLEL connections at once, each sending requests with HEADER
 *       (wrong credentials) for SECONDS; prints how many got each status. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define RESP_MAX  (1 << 20)

static const char *host;
static int port;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The i-th source address under prefix "127.N": 127.N.(i/250).(i%250+1). */
static void source(const char *prefix, unsigned i, char *buf, size_t size)
{
	snprintf(buf, size, "%s.%u.%u", prefix, i / 250, i % 250 + 1);
}

/* A TCP connection from src to host:port; nonblocking when asked (then
 * the connection may still be under way). Returns the socket or -1. */
static int dial(const char *src, int nonblock)
{
	struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
	    inet_pton(AF_INET, host, &to.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0) {
		close(fd);
		return -1;
	}
	to.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads until the server closes or the deadline; returns bytes read and
 * sets *closed. */
static size_t read_until(int fd, char *buf, size_t cap, uint64_t deadline, int *closed)
{
	size_t len = 0;

	*closed = 0;
	while (len < cap - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ms();
		ssize_t n;

		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
			break;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0) {
			*closed = 1;
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

/* The status of each response in buf ("HTTP/1.x NNN" at a line start). */
static void print_statuses(const char *buf)
{
	for (const char *p = buf; (p = strstr(p, "HTTP/1.")) != NULL; p += 7)
		if ((p == buf || p[-1] == '\n') && p[8] == ' ')
			printf("%.3s ", p + 9);
}

/* One request on its own connection; returns the status (0: none) and
 * the time taken in *ms. */
static int one_request(const char *src, const char *header, int timeout_ms, uint64_t *ms)
{
	static char buf[RESP_MAX];
	char req[1024];
	uint64_t start = now_ms();
	int fd = dial(src, 0), closed, code = 0;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

	if (fd < 0) {
		*ms = now_ms() - start;
		return 0;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req),
	         "GET /metrics HTTP/1.1\r\nHost: %s:%d\r\n%s%sConnection: close\r\n\r\n", host,
	         port, header ? header : "", header ? "\r\n" : "");
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req)) {
		read_until(fd, buf, sizeof(buf), start + (uint64_t)timeout_ms, &closed);
		if (strncmp(buf, "HTTP/1.1 ", 9) == 0)
			code = atoi(buf + 9);
		if (!closed && code == 200)
			code = -code; /* not whole within the time */
	}
	close(fd);
	*ms = now_ms() - start;
	return code;
}

static int cmd_slow(char **argv)
{
	static int fds[MAX_CONNS];
	static uint64_t next[MAX_CONNS];
	static char first[MAX_CONNS];
	const char *line;
	unsigned naddr = (unsigned)atoi(argv[0]), per = (unsigned)atoi(argv[1]);
	uint64_t end = now_ms() + (uint64_t)atoi(argv[2]) * 1000, step = (uint64_t)atoi(argv[3]);
	const char *prefix = argv[-1];
	unsigned n = naddr * per, opened = 0, reopened = 0;
	char src[32];

	if (n > MAX_CONNS)
		return 2;
	for (unsigned i = 0; i < n; i++)
		fds[i] = -1;
	while (now_ms() < end) {
		uint64_t now = now_ms();

		for (unsigned i = 0; i < n; i++) {
			char probe;

			/* Closed by the server: open it again. */
			if (fds[i] >= 0 && recv(fds[i], &probe, 1, MSG_DONTWAIT) == 0) {
				close(fds[i]);
				fds[i] = -1;
				reopened++;
				next[i] = now + 100; /* a reconnect flood is not this test */
			}
			if (fds[i] < 0 && now < next[i])
				continue;
			if (fds[i] < 0) {
				source(prefix, i / per, src, sizeof(src));
				fds[i] = dial(src, 1);
				opened += fds[i] >= 0;
				first[i] = 0;
				next[i] = now + 50;
				continue;
			}
			if (now < next[i])
				continue;
			/* The request line once, then one header line a step. */
			line = first[i] ? "X-a: b\r\n" : "GET /metrics HTTP/1.1\r\nX-a: b\r\n";
			first[i] = 1;
			next[i] = now + step;
			if (send(fds[i], line, strlen(line), MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
			    errno != ENOTCONN) {
				close(fds[i]);
				fds[i] = -1;
			}
		}
		usleep(20 * 1000);
	}
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	printf("slow: %u connections opened, %u closed by the server\n", opened, reopened);
	return 0;
}

static int cmd_churn(char **argv)
{
	unsigned n = (unsigned)atoi(argv[0]), done = 0;
	const char *prefix = argv[-1];
	uint64_t end = now_ms() + 120 * 1000;
	char src[32];

	for (unsigned i = 0; i < n && now_ms() < end; i++) {
		int fd;

		source(prefix, i, src, sizeof(src));
		fd = dial(src, 0);
		if (fd >= 0) {
			done++;
			close(fd);
		}
	}
	printf("churn: %u of %u connected and closed\n", done, n);
	return done == n ? 0 : 1;
}

static int cmd_raw(char **argv)
{
	static char req[2 << 20], buf[RESP_MAX];
	const char *src = argv[-1];
	int timeout = atoi(argv[0]), bytewise = argv[1] && strcmp(argv[1], "bytewise") == 0;
	int dump = argv[1] && strcmp(argv[1], "dump") == 0;
	size_t len = fread(req, 1, sizeof(req), stdin);
	int fd = dial(src, 0), closed;
	uint64_t deadline;

	if (fd < 0)
		return 2;
	for (size_t off = 0; off < len;) {
		size_t chunk = bytewise ? 1 : len - off;
		ssize_t n = send(fd, req + off, chunk, MSG_NOSIGNAL);

		if (n <= 0)
			break; /* the server may close before reading it all */
		off += (size_t)n;
		if (bytewise)
			usleep(2000);
	}
	deadline = now_ms() + (uint64_t)timeout;
	len = read_until(fd, buf, sizeof(buf), deadline, &closed);
	if (dump) {
		fwrite(buf, 1, len, stdout);
	} else {
		print_statuses(buf);
		printf("%s\n", closed ? "closed" : "open");
	}
	close(fd);
	return 0;
}

static int cmd_get(char **argv)
{
	const char *src = argv[-1];
	int count = atoi(argv[0]), timeout = atoi(argv[1]), bad = 0;

	for (int i = 0; i < count && i < 1000; i++) {
		uint64_t ms;
		int code = one_request(src, argv[2], timeout, &ms);

		printf("%d %llu\n", code, (unsigned long long)ms);
		bad += code != 200 || ms > (uint64_t)timeout;
	}
	return bad ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmd_bench(char **argv)
{
	static uint64_t lat[400000];
	const char *src = argv[-1];
	uint64_t start = now_ms(), end = start + (uint64_t)atoi(argv[0]) * 1000;
	size_t n = 0, ok = 0;

	while (now_ms() < end && n < sizeof(lat) / sizeof(lat[0])) {
		uint64_t t0 = now_us(), ms;
		int code = one_request(src, argv[1], 5000, &ms);

		lat[n++] = now_us() - t0;
		ok += code == 200;
	}
	qsort(lat, n, sizeof(lat[0]), cmp_u64);
	printf("requests %zu ok %zu rps %.0f p50_us %llu p99_us %llu max_us %llu\n", n, ok,
	       (double)n * 1000.0 / (double)(now_ms() - start),
	       n ? (unsigned long long)lat[n / 2] : 0ULL,
	       n ? (unsigned long long)lat[(n * 99) / 100] : 0ULL,
	       n ? (unsigned long long)lat[n - 1] : 0ULL);
	return 0;
}

static int cmd_guess(char **argv)
{
	static int fds[256];
	static unsigned counts[600];
	const char *src = argv[-1];
	int par = atoi(argv[0]);
	uint64_t end = now_ms() + (uint64_t)atoi(argv[1]) * 1000;
	char req[1024];

	if (par > 256)
		return 2;
	snprintf(req, sizeof(req),
	         "GET /metrics HTTP/1.1\r\nHost: %s:%d\r\n%s\r\nConnection: close\r\n\r\n", host,
	         port, argv[2]);
	while (now_ms() < end) {
		static char buf[4096];

		for (int i = 0; i < par; i++) {
			fds[i] = dial(src, 0);
			if (fds[i] >= 0)
				send(fds[i], req, strlen(req), MSG_NOSIGNAL);
		}
		for (int i = 0; i < par; i++) {
			int closed, code;

			if (fds[i] < 0)
				continue;
			read_until(fds[i], buf, sizeof(buf), end + 5000, &closed);
			code = strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
			counts[code >= 0 && code < 600 ? code : 0]++;
			close(fds[i]);
		}
	}
	for (int c = 0; c < 600; c++)
		if (counts[c])
			printf("%d %u\n", c, counts[c]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args; /* after SRC */
		int (*run)(char **argv);
	} cmds[] = {
	    {"slow", 4, cmd_slow}, {"churn", 1, cmd_churn}, {"raw", 1, cmd_raw},
	    {"get", 2, cmd_get},   {"bench", 1, cmd_bench}, {"guess", 3, cmd_guess},
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc >= 5 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (argc < 5 + cmds[i].args)
			break;
		host = argv[2];
		port = atoi(argv[3]);
		return cmds[i].run(argv + 5);
	}
	fprintf(stderr, "usage: see the comment at the top of tests/abuse/abuse.c\n");
	return 2;
}
