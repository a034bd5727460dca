#include "probes/sshbanner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- parsing ------------------------------------------------------------- */

static bool printable(const char *s, size_t n, size_t *bad)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* "SSH-protoversion-softwareversion[ SP comments]", n bytes without CR LF. */
static int parse_ident(const char *s, size_t n, unsigned before, struct sshbanner *ret, char *err,
                       size_t errlen)
{
	struct sshbanner b = {.lines_before = before};
	const char *proto = s + 4, *dash, *soft, *space;
	size_t bad;

	if (n + 2 > SSHBANNER_LINE_MAX) {
		snprintf(err, errlen, "identification line of %zu bytes, more than 255", n + 2);
		return -EBADMSG;
	}
	if (!printable(s, n, &bad)) {
		snprintf(err, errlen, "identification line holds byte 0x%02x at offset %zu",
		         (unsigned char)s[bad], bad);
		return -EBADMSG;
	}
	dash = memchr(proto, '-', n - 4);
	if (!dash || !((dash - proto == 3 && memcmp(proto, "2.0", 3) == 0) ||
	               (dash - proto == 4 && memcmp(proto, "1.99", 4) == 0))) {
		snprintf(err, errlen, "identification line without protocol 2.0: %.*s", (int)n, s);
		return -EBADMSG;
	}
	soft = dash + 1;
	space = memchr(soft, ' ', (size_t)(s + n - soft));
	memcpy(b.line, s, n);
	memcpy(b.proto, proto, (size_t)(dash - proto));
	memcpy(b.software, soft, (size_t)((space ? space : s + n) - soft));
	*ret = b;
	return 0;
}

int sshbanner_parse(const char *buf, size_t len, struct sshbanner *ret, char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned before = 0;

	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		bool ident = n >= 4 && memcmp(line, "SSH-", 4) == 0;

		if (!nl) {
			/* Cut: wait for the rest, unless it already cannot be one. */
			if (ident && n > SSHBANNER_LINE_MAX - 1)
				return parse_ident(line, n, before, ret, err, errlen);
			break;
		}
		if (n && line[n - 1] == '\r')
			n--;
		if (ident)
			return parse_ident(line, n, before, ret, err, errlen);
		if (memchr(line, '\0', n)) {
			snprintf(err, errlen,
			         "binary bytes (NUL) in line %u, before any identification "
			         "line: not an SSH server",
			         before + 1);
			return -EBADMSG;
		}
		before++;
		pos = (size_t)(nl - buf) + 1;
	}
	if (len >= SSHBANNER_READ_MAX) {
		snprintf(err, errlen,
		         "no identification line in the first %zu bytes: not an SSH server", len);
		return -EBADMSG;
	}
	return -EAGAIN;
}

/* ---- the connection ------------------------------------------------------ */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 1 when ready, 0 at the
 * deadline, or -errno. */
static int wait_for(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_by(int fd, const struct sockaddr *addr, socklen_t addrlen, long long deadline,
                      unsigned timeout_ms, char *err, size_t errlen)
{
	int soerr = 0, r;
	socklen_t sl = sizeof(soerr);

	if (connect(fd, addr, addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		r = -errno;
		snprintf(err, errlen, "connect: %s", strerror(-r));
		return r;
	}
	r = wait_for(fd, POLLOUT, deadline);
	if (r == 0) {
		snprintf(err, errlen, "no answer to the TCP handshake within %u ms", timeout_ms);
		return -ETIMEDOUT;
	}
	if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
		return 0;
	r = r < 0 ? r : -(soerr ? soerr : EIO);
	snprintf(err, errlen, "connect: %s", strerror(-r));
	return r;
}

static int read_banner(int fd, long long deadline, unsigned timeout_ms, struct sshbanner *ret,
                       char *err, size_t errlen)
{
	char buf[SSHBANNER_READ_MAX];
	size_t len = 0;

	for (;;) {
		ssize_t n;
		int r = wait_for(fd, POLLIN, deadline);

		if (r == 0) {
			snprintf(
			    err, errlen,
			    "connected, but no identification line within %u ms (%zu bytes read)",
			    timeout_ms, len);
			return -ETIMEDOUT;
		}
		if (r < 0)
			return r;
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "read: %s", strerror(-r));
			return r;
		}
		if (n == 0) {
			snprintf(err, errlen,
			         "the server closed the connection before its identification line "
			         "(%zu bytes read)",
			         len);
			return -ECONNRESET;
		}
		len += (size_t)n;
		r = sshbanner_parse(buf, len, ret, err, errlen);
		if (r != -EAGAIN)
			return r;
	}
}

int sshbanner_fetch(const struct sockaddr *addr, socklen_t addrlen, unsigned timeout_ms,
                    struct sshbanner *ret, char *err, size_t errlen)
{
	long long deadline = now_ms() + timeout_ms;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-r));
		return r;
	}
	r = connect_by(fd, addr, addrlen, deadline, timeout_ms, err, errlen);
	if (r == 0)
		r = read_banner(fd, deadline, timeout_ms, ret, err, errlen);
	close(fd);
	return r;
}
