#include "probes/routerhttp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

long long routerhttp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when fd is ready for events before the deadline, 0 at it, or -errno. */
static int ready(int fd, short events, long long deadline_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do {
		long long left = deadline_ms - routerhttp_now_ms();

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int open_connection(const struct routermsg_url *url, long long deadline_ms, int *ret_fd)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(url->port), .sin_addr = url->host};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int soerr = 0, r;
	socklen_t sl = sizeof(soerr);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS) {
			r = -errno;
			goto fail;
		}
		r = ready(fd, POLLOUT, deadline_ms);
		if (r == 0)
			r = -ETIMEDOUT;
		else if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			r = -errno;
		else if (r > 0 && soerr)
			r = -soerr;
		if (r <= 0)
			goto fail;
	}
	*ret_fd = fd;
	return 0;
fail:
	close(fd);
	return r;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline_ms)
{
	while (len) {
		ssize_t n;
		int r = ready(fd, POLLOUT, deadline_ms);

		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : r;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the peer closes; one byte past cap tells a long answer. */
static int read_all(int fd, char *buf, size_t cap, long long deadline_ms, size_t *ret_len)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;
		int r = ready(fd, POLLIN, deadline_ms);

		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : r;
		n = recv(fd, buf + len, cap + 1 - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > cap)
			return -E2BIG;
	}
	buf[len] = '\0';
	*ret_len = len;
	return 0;
}

static void explain(int r, const struct routermsg_url *url, size_t cap, char *err, size_t errlen)
{
	char host[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &url->host, host, sizeof(host));
	if (r == -E2BIG)
		snprintf(err, errlen,
		         "the answer of http://%s:%u%s is larger than %zu KiB: refused", host,
		         url->port, url->path, cap / 1024);
	else if (r == -ETIMEDOUT)
		snprintf(err, errlen, "no complete answer from http://%s:%u%s in time", host,
		         url->port, url->path);
	else
		snprintf(err, errlen, "http://%s:%u%s: %s", host, url->port, url->path,
		         strerror(-r));
}

int routerhttp_exchange(const struct routermsg_url *url, const char *request, size_t len,
                        long long deadline_ms, size_t cap, char **ret, size_t *ret_len, char *err,
                        size_t errlen)
{
	char *buf = malloc(cap + 2);
	int fd = -1, r;

	if (!buf)
		return -ENOMEM;
	r = open_connection(url, deadline_ms, &fd);
	if (r == 0)
		r = send_all(fd, request, len, deadline_ms);
	if (r == 0)
		r = read_all(fd, buf, cap, deadline_ms, ret_len);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		explain(r, url, cap, err, errlen);
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}
