#include "probes/wguapi.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nettle/curve25519.h>

#include "probes/scrub.h"
#include "probes/text.h"

/* Room for the longest line a reply can have (an IPv6 endpoint with a
 * scope, a 64-digit key) many times over; a longer line is refused. */
#define WGUAPI_LINE_MAX 4096

struct span {
	const char *p;
	size_t len;
};

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* Messages may quote the reply, which may hold any bytes. */
	text_sanitize_utf8(err);
	return r;
}

static bool span_is(struct span s, const char *word)
{
	size_t n = strlen(word);

	return s.len == n && memcmp(s.p, word, n) == 0;
}

static int parse_u64(struct span s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (s.len == 0 || s.len > 20)
		return -EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		uint64_t digit;

		if (s.p[i] < '0' || s.p[i] > '9')
			return -EINVAL;
		digit = (uint64_t)(s.p[i] - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes 64 hex digits straight from the reply, so that a secret is
 * never copied as text. */
static int parse_key(struct span s, uint8_t key[WIREGUARD_KEY_LEN])
{
	if (s.len != 2 * WIREGUARD_KEY_LEN)
		return -EINVAL;
	for (size_t i = 0; i < WIREGUARD_KEY_LEN; i++) {
		int hi = hex_nibble(s.p[2 * i]), lo = hex_nibble(s.p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* "1.2.3.4:51820" or "[fe80::1%eth0]:51820", numeric only (no lookup). */
static int parse_endpoint(struct span s, struct wireguard_peer *peer)
{
	char text[WIREGUARD_ENDPOINT_MAX], *host, *port, *zone;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_DGRAM,
	                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int r;

	if (s.len == 0 || s.len >= sizeof(text))
		return -EINVAL;
	memcpy(text, s.p, s.len);
	text[s.len] = '\0';
	if (text[0] == '[') {
		char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		*close = '\0';
		host = text + 1;
		port = close + 2;
	} else {
		port = strrchr(text, ':');
		if (!port)
			return -EINVAL;
		*port++ = '\0';
		host = text;
	}
	r = getaddrinfo(host, port, &hints, &res);
	zone = strchr(host, '%');
	if (r != 0 && zone) {
		/* A zone naming an interface this namespace lacks: keep the
		 * address, without its scope. */
		*zone = '\0';
		r = getaddrinfo(host, port, &hints, &res);
	}
	if (r != 0)
		return -EINVAL;
	if (res->ai_family == AF_INET && res->ai_addrlen == sizeof(peer->endpoint.in))
		memcpy(&peer->endpoint.in, res->ai_addr, sizeof(peer->endpoint.in));
	else if (res->ai_family == AF_INET6 && res->ai_addrlen == sizeof(peer->endpoint.in6))
		memcpy(&peer->endpoint.in6, res->ai_addr, sizeof(peer->endpoint.in6));
	else
		r = -EINVAL;
	freeaddrinfo(res);
	return r;
}

/* "10.0.0.2/32", "fd00::/64". */
static int parse_allowed_ip(struct span s, struct wireguard_ip *ret)
{
	char text[INET6_ADDRSTRLEN + 8], *slash;
	struct wireguard_ip ip = {.family = AF_INET};
	uint64_t cidr;

	if (s.len == 0 || s.len >= sizeof(text))
		return -EINVAL;
	memcpy(text, s.p, s.len);
	text[s.len] = '\0';
	slash = strchr(text, '/');
	if (!slash)
		return -EINVAL;
	*slash++ = '\0';
	if (inet_pton(AF_INET, text, &ip.addr.v4) != 1) {
		ip.family = AF_INET6;
		if (inet_pton(AF_INET6, text, &ip.addr.v6) != 1)
			return -EINVAL;
	}
	if (parse_u64((struct span){slash, strlen(slash)}, ip.family == AF_INET ? 32 : 128, &cidr) <
	    0)
		return -EINVAL;
	ip.cidr = (uint8_t)cidr;
	*ret = ip;
	return 0;
}

/* How deep X25519 may write below its caller: nettle copies and clamps the
 * scalar into a local and keeps its scratch on the stack (a few hundred
 * bytes); the scrub covers far more. */
#define WGUAPI_SCRUB_BYTES (16 * 1024)

/* The public key of a private one, as wg(8) derives it (X25519 of the base
 * point; nettle clamps the scalar per RFC 7748), leaving no copy of the
 * private key behind: neither in ours nor in nettle's stack frames. */
__attribute__((noinline)) static void derive_public(uint8_t pub[WIREGUARD_KEY_LEN],
                                                    const uint8_t secret[WIREGUARD_KEY_LEN])
{
	curve25519_mul_g(pub, secret);
}

/* One device-level line (before the first public_key). */
static int device_line(struct span key, struct span value, struct wireguard_device *dev)
{
	uint64_t n;

	if (span_is(key, "private_key")) {
		uint8_t secret[WIREGUARD_KEY_LEN], pub[WIREGUARD_KEY_LEN];
		static const uint8_t zero[WIREGUARD_KEY_LEN];
		int r = parse_key(value, secret);

		/* The reply has no public key: derive it, and forget the secret
		 * at once. */
		if (r == 0 && memcmp(secret, zero, sizeof(zero)) != 0) {
			derive_public(pub, secret);
			scrub_stack(WGUAPI_SCRUB_BYTES);
			wireguard_key_to_base64(dev->public_key, pub);
			dev->has_public_key = true;
		}
		explicit_bzero(secret, sizeof(secret));
		return r;
	}
	if (span_is(key, "listen_port")) {
		if (parse_u64(value, UINT16_MAX, &n) < 0)
			return -EINVAL;
		dev->listen_port = (uint16_t)n;
		return 0;
	}
	if (span_is(key, "fwmark")) {
		if (parse_u64(value, UINT32_MAX, &n) < 0)
			return -EINVAL;
		dev->fwmark = (uint32_t)n;
		return 0;
	}
	return 0;
}

static int peer_line(struct span key, struct span value, struct wireguard_device *dev,
                     struct wireguard_peer *peer)
{
	uint64_t n;
	int r = 0;

	if (span_is(key, "preshared_key"))
		return 0; /* secret: not even decoded */
	if (span_is(key, "endpoint"))
		return parse_endpoint(value, peer);
	if (span_is(key, "allowed_ip")) {
		struct wireguard_ip ip;

		r = parse_allowed_ip(value, &ip);
		return r < 0 ? r : wireguard_device_add_allowed_ip(dev, &ip); /* peer is the last */
	}
	if (span_is(key, "last_handshake_time_sec")) {
		r = parse_u64(value, INT64_MAX, &n);
		peer->last_handshake = r == 0 ? (int64_t)n : peer->last_handshake;
	} else if (span_is(key, "last_handshake_time_nsec")) {
		r = parse_u64(value, 999999999, &n);
		peer->last_handshake_nsec = r == 0 ? (int64_t)n : peer->last_handshake_nsec;
	} else if (span_is(key, "rx_bytes")) {
		r = parse_u64(value, UINT64_MAX, &peer->rx_bytes);
	} else if (span_is(key, "tx_bytes")) {
		r = parse_u64(value, UINT64_MAX, &peer->tx_bytes);
	} else if (span_is(key, "persistent_keepalive_interval")) {
		r = parse_u64(value, UINT16_MAX, &n);
		peer->persistent_keepalive = r == 0 ? (uint16_t)n : 0;
	} else if (span_is(key, "protocol_version")) {
		r = parse_u64(value, UINT32_MAX, &n);
		peer->protocol_version = r == 0 ? (uint32_t)n : 0;
	}
	return r;
}

/* The parser's state between lines: the reply is parsed as it arrives,
 * a line at a time, so that reading it never holds more than a line. */
struct uapi_parser {
	struct wireguard_device *dev;
	struct wireguard_peer *peer; /* the peer lines belong to; NULL before any */
	int line;
	int result; /* UAPI_MORE until the errno line or an error */
	char *err;
	size_t errlen;
};

#define UAPI_MORE 1

static void parser_start(struct uapi_parser *ps, struct wireguard_device *dev, char *err,
                         size_t errlen)
{
	*ps = (struct uapi_parser){.dev = dev, .result = UAPI_MORE, .err = err, .errlen = errlen};
	wireguard_device_reset(dev);
}

/* One line without its newline. Sets ps->result when the reply ends. */
static void parse_line(struct uapi_parser *ps, const char *p, size_t len)
{
	const char *eq = memchr(p, '=', len);
	struct span key, value;
	int r;

	ps->line++;
	if (len == 0) {
		/* The empty line ends a reply; without errno it is refused. */
		ps->result =
		    fail(ps->err, ps->errlen, -EBADMSG, "the reply ended without an errno line");
		return;
	}
	if (!eq) {
		ps->result =
		    fail(ps->err, ps->errlen, -EBADMSG, "line %d: no '=' in the reply", ps->line);
		return;
	}
	key = (struct span){p, (size_t)(eq - p)};
	value = (struct span){eq + 1, (size_t)(p + len - eq - 1)};
	if (span_is(key, "errno")) {
		uint64_t n;

		if (parse_u64(value, 4095, &n) < 0)
			ps->result = fail(ps->err, ps->errlen, -EBADMSG, "line %d: bad errno value",
			                  ps->line);
		else if (n != 0)
			ps->result = fail(ps->err, ps->errlen, -(int)n,
			                  "the implementation answered errno=%d", (int)n);
		else
			ps->result = 0;
		return;
	}
	if (span_is(key, "public_key")) {
		uint8_t pub[WIREGUARD_KEY_LEN];

		if (parse_key(value, pub) < 0) {
			ps->result = fail(ps->err, ps->errlen, -EBADMSG, "line %d: bad public_key",
			                  ps->line);
			return;
		}
		ps->peer = wireguard_device_add_peer(ps->dev);
		if (!ps->peer)
			ps->result = fail(ps->err, ps->errlen, -ENOMEM, "out of memory");
		else
			wireguard_key_to_base64(ps->peer->public_key, pub);
		return;
	}
	r = ps->peer ? peer_line(key, value, ps->dev, ps->peer) : device_line(key, value, ps->dev);
	if (r == -ENOMEM)
		ps->result = fail(ps->err, ps->errlen, -ENOMEM, "out of memory");
	else if (r < 0)
		/* The key is ours to name, the value may be a secret. */
		ps->result = fail(ps->err, ps->errlen, -EBADMSG, "line %d: bad value for %.*s",
		                  ps->line, (int)(key.len > 40 ? 40 : key.len), key.p);
}

/* Parses the complete lines in buf; returns the bytes they took (a last
 * partial line is left for the next call). */
static size_t parse_lines(struct uapi_parser *ps, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	while (ps->result == UAPI_MORE && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		parse_line(ps, p, (size_t)(nl - p));
		p = nl + 1;
	}
	return (size_t)(p - buf);
}

/* The result; a reply that stopped before its errno line was cut. */
static int parser_finish(struct uapi_parser *ps)
{
	if (ps->result == UAPI_MORE)
		ps->result =
		    fail(ps->err, ps->errlen, -EBADMSG, "the reply ended without an errno line");
	if (ps->result < 0)
		wireguard_device_reset(ps->dev);
	return ps->result;
}

int wguapi_parse(const char *buf, size_t len, struct wireguard_device *dev, char *err,
                 size_t errlen)
{
	struct uapi_parser ps;

	parser_start(&ps, dev, err, errlen);
	parse_lines(&ps, buf, len);
	return parser_finish(&ps);
}

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the deadline. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	long long left = deadline - monotonic_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, (int)left);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

/* Sends the request; returns 0 or a negative errno. */
static int send_request(int fd, long long deadline)
{
	static const char request[] = "get=1\n\n";
	size_t sent = 0;
	int r;

	while (sent < sizeof(request) - 1) {
		ssize_t n = send(fd, request + sent, sizeof(request) - 1 - sent, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		sent += (size_t)n;
	}
	return 0;
}

/* Reads the reply and parses it as it comes: only a partial line is kept
 * between reads (and wiped at the end: it may have held the private key),
 * so the memory does not grow with the peers. The reply ends with the
 * errno line; the implementation then waits for the next request, so the
 * end is recognised, not waited for. Returns 0 when the parser has its
 * answer, a negative errno for an I/O failure. */
static int receive_reply(int fd, long long deadline, struct uapi_parser *ps)
{
	char buf[WGUAPI_LINE_MAX];
	size_t len = 0, total = 0, used;
	int r = 0;

	while (ps->result == UAPI_MORE) {
		ssize_t n;

		if (len == sizeof(buf)) {
			ps->result =
			    fail(ps->err, ps->errlen, -EBADMSG, "line %d: longer than %d bytes",
			         ps->line + 1, WGUAPI_LINE_MAX);
			break;
		}
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0)
				break;
			continue;
		}
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break; /* closed early: the parser says what is missing */
		total += (size_t)n;
		if (total > WGUAPI_REPLY_MAX) {
			r = -EFBIG;
			break;
		}
		len += (size_t)n;
		used = parse_lines(ps, buf, len);
		memmove(buf, buf + used, len - used);
		len -= used;
	}
	explicit_bzero(buf, sizeof(buf));
	return r;
}

int wguapi_read_device(const char *path, struct wireguard_device *dev, unsigned timeout_ms,
                       char *err, size_t errlen)
{
	long long deadline = monotonic_ms() + timeout_ms;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct uapi_parser ps;
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return fail(err, errlen, -ENAMETOOLONG, "socket path too long");
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		if (r == -EAGAIN || r == -EINPROGRESS)
			r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0) {
			r = fail(err, errlen, r, "connect %s: %s", path, strerror(-r));
			goto out;
		}
	}
	r = send_request(fd, deadline);
	if (r == 0) {
		parser_start(&ps, dev, err, errlen);
		r = receive_reply(fd, deadline, &ps);
		if (r == 0) {
			r = parser_finish(&ps);
			goto out;
		}
		wireguard_device_reset(dev);
	}
	r = fail(err, errlen, r, "%s: %s", path,
	         r == -EFBIG ? "reply larger than the size cap" : strerror(-r));
out:
	close(fd);
	return r;
}
