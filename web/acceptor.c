/* Accepting plain-HTTP connections, and answering those whose first line
 * can never be a request line.
 *
 * Why not let libmicrohttpd accept: version 0.9.75 closes a request line
 * it cannot split without a word to the client, reads a line that starts
 * with a NUL as an empty one (so only the request deadline ends it), and
 * offers no callback for either. So this thread accepts on the listening
 * sockets, peeks (MSG_PEEK: nothing is consumed) at the first bytes, and
 * hands every connection whose first line looks like one, or is not whole
 * within a short window or a few KiB, to its listener's daemon unchanged
 * with MHD_add_connection() (the daemon's accept callback and connection
 * notifications run for it as for one it accepted). A line that is never
 * a request line (web/requestline.c) gets a fixed 400 and is closed: what
 * arrived is read away, the answer sent, the sending side shut down, and
 * the socket closed once the client has closed too, or after a moment
 * (a close with unread data would send a reset that may destroy the
 * answer before the client reads it).
 *
 * What is peeked at is bounded: few connections at once, fewer per client
 * address; past that a connection goes to its daemon at once, so this
 * stage never makes anyone wait. Clients outside the allow-list are never
 * peeked at or answered: the daemon's accept callback refuses them. TLS
 * listeners are not here: garbage fails their handshake. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/log.h"
#include "web/requestline.h"
#include "web/serverimpl.h"

/* How long, and how many bytes, the first line may take to be judged. */
#define ACCEPTOR_SNIFF_MS 200
#define ACCEPTOR_PEEK_MAX 4096
/* How long an answered connection waits for its client to close. */
#define ACCEPTOR_LINGER_MS 1000
/* Connections accepted from one listening socket per wake-up. */
#define ACCEPTOR_BATCH 64
/* After running out of descriptors, accepting pauses this long. */
#define ACCEPTOR_PAUSE_MS 100

enum { TAG_WAKE = 1, TAG_PORT, TAG_CONN };

static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\n"
                                  "Connection: close\r\n"
                                  "Content-Type: text/plain; charset=utf-8\r\n"
                                  "Content-Length: 12\r\n"
                                  "Cache-Control: no-store\r\n"
                                  "X-Content-Type-Options: nosniff\r\n"
                                  "\r\n"
                                  "bad request\n";

static uint64_t tag(unsigned kind, size_t index)
{
	return (uint64_t)kind << 32 | (uint64_t)index;
}

static int watch(struct acceptor *a, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};

	return epoll_ctl(a->epfd, op, fd, &ev);
}

static void release(struct acceptor *a, struct acceptor_conn *c)
{
	c->fd = -1;
	a->n_conns--;
}

/* Gives the connection, unread, to its daemon (which closes it on any
 * failure). */
static void hand_over(struct acceptor *a, struct acceptor_conn *c)
{
	if (c->watched)
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	MHD_add_connection(c->daemon, c->fd, (const struct sockaddr *)&c->addr, c->addrlen);
	release(a, c);
}

static void close_conn(struct acceptor *a, struct acceptor_conn *c)
{
	close(c->fd); /* leaves the epoll set with it */
	release(a, c);
}

/* Reads away what the client sent, at most a bounded amount; whether it
 * has closed its side (or the connection failed). */
static bool drain(int fd)
{
	char buf[ACCEPTOR_PEEK_MAX];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return true;
		if (n < 0)
			return false;
	}
	return false;
}

static void answer_bad(struct acceptor *a, struct acceptor_conn *c, uint64_t now)
{
	log_debug("http: answered 400 to a first line that is no request line");
	drain(c->fd);
	/* The answer fits any socket's send buffer: it is sent whole or the
	 * connection is gone. */
	send(c->fd, bad_request, sizeof(bad_request) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(c->fd, SHUT_WR);
	if (!c->watched && watch(a, EPOLL_CTL_ADD, c->fd, EPOLLIN | EPOLLRDHUP | EPOLLET,
	                         tag(TAG_CONN, (size_t)(c - a->conns))) < 0) {
		close_conn(a, c);
		return;
	}
	c->watched = true;
	c->answered = true;
	c->deadline_ms = now + ACCEPTOR_LINGER_MS;
}

/* Looks at what arrived so far; hung_up: the client will send no more. */
static void sniff(struct acceptor *a, struct acceptor_conn *c, bool hung_up, uint64_t now)
{
	char buf[ACCEPTOR_PEEK_MAX];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	enum requestline_verdict v;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		if (hung_up)
			hand_over(a, c);
		return;
	}
	if (n <= 0) {
		/* Closed (or reset) before a byte came: nothing to answer. */
		close_conn(a, c);
		return;
	}
	v = requestline_classify(buf, (size_t)n);
	if (v == REQUESTLINE_BAD)
		answer_bad(a, c, now);
	else if (v == REQUESTLINE_PLAUSIBLE || (size_t)n == sizeof(buf) || hung_up)
		hand_over(a, c);
	/* else more bytes will come, or the window will end */
}

static size_t sniffing_from(const struct acceptor *a, const struct conn_addr *key)
{
	size_t n = 0;

	for (size_t i = 0; i < ACCEPTOR_CONNS_MAX; i++)
		n += a->conns[i].fd >= 0 && a->conns[i].key.family == key->family &&
		     memcmp(a->conns[i].key.bytes, key->bytes, sizeof(key->bytes)) == 0;
	return n;
}

static struct acceptor_conn *free_conn(struct acceptor *a)
{
	for (size_t i = 0; i < ACCEPTOR_CONNS_MAX; i++)
		if (a->conns[i].fd < 0)
			return &a->conns[i];
	return NULL;
}

/* A connection just accepted on port. */
static void admit(struct acceptor *a, struct acceptor_port *port, int fd,
                  const struct sockaddr_storage *sa, socklen_t len, uint64_t now)
{
	struct acceptor_conn *c = a->n_conns < ACCEPTOR_CONNS_MAX ? free_conn(a) : NULL;
	struct conn_addr key;

	connlimit_addr_key((const struct sockaddr *)sa, &key);
	if (!c || !admission_allowed(a->server, (const struct sockaddr *)sa) ||
	    sniffing_from(a, &key) >= ACCEPTOR_CONNS_PER_ADDR) {
		MHD_add_connection(port->daemon, fd, (const struct sockaddr *)sa, len);
		return;
	}
	*c = (struct acceptor_conn){.fd = fd,
	                            .daemon = port->daemon,
	                            .addr = *sa,
	                            .addrlen = len,
	                            .key = key,
	                            .deadline_ms = now + ACCEPTOR_SNIFF_MS};
	a->n_conns++;
	/* On loopback the request is often there already: no epoll needed. */
	sniff(a, c, false, now);
	if (c->fd != fd || c->watched)
		return;
	if (watch(a, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP | EPOLLET,
	          tag(TAG_CONN, (size_t)(c - a->conns))) < 0) {
		hand_over(a, c);
		return;
	}
	c->watched = true;
}

static void pause_accepting(struct acceptor *a, uint64_t now)
{
	log_warning("http: out of file descriptors; accepting pauses for %d ms", ACCEPTOR_PAUSE_MS);
	a->paused_until_ms = now + ACCEPTOR_PAUSE_MS;
	for (size_t i = 0; i < SERVER_LISTENERS_MAX; i++)
		if (a->ports[i].fd >= 0)
			watch(a, EPOLL_CTL_MOD, a->ports[i].fd, 0, tag(TAG_PORT, i));
}

static void resume_accepting(struct acceptor *a)
{
	a->paused_until_ms = 0;
	for (size_t i = 0; i < SERVER_LISTENERS_MAX; i++)
		if (a->ports[i].fd >= 0)
			watch(a, EPOLL_CTL_MOD, a->ports[i].fd, EPOLLIN, tag(TAG_PORT, i));
}

static void accept_some(struct acceptor *a, struct acceptor_port *port, uint64_t now)
{
	for (int i = 0; i < ACCEPTOR_BATCH && port->fd >= 0; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd =
		    accept4(port->fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			admit(a, port, fd, &sa, len, now);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			pause_accepting(a, now);
		/* EAGAIN: all taken; ECONNABORTED and the like: the next one. */
		if (errno != ECONNABORTED && errno != EINTR && errno != EPROTO)
			return;
	}
}

static void on_event(struct acceptor *a, const struct epoll_event *ev, uint64_t now)
{
	size_t index = (size_t)(ev->data.u64 & 0xffffffffu);
	uint64_t count;

	switch (ev->data.u64 >> 32) {
	case TAG_WAKE:
		if (read(a->wakefd, &count, sizeof(count)) < 0)
			break; /* another read took it */
		break;
	case TAG_PORT:
		if (a->ports[index].fd >= 0 && !a->paused_until_ms)
			accept_some(a, &a->ports[index], now);
		break;
	case TAG_CONN:
		/* A connection handed over while this event waited is gone. */
		if (a->conns[index].fd < 0)
			break;
		if (a->conns[index].answered) {
			if (drain(a->conns[index].fd))
				close_conn(a, &a->conns[index]);
		} else {
			sniff(a, &a->conns[index], ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR),
			      now);
		}
		break;
	default:
		break;
	}
}

/* Ends what is due; milliseconds until the next thing is (-1: none). */
static int expire(struct acceptor *a, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if (a->paused_until_ms && a->paused_until_ms <= now)
		resume_accepting(a);
	if (a->paused_until_ms)
		next = a->paused_until_ms;
	for (size_t i = 0; i < ACCEPTOR_CONNS_MAX; i++) {
		struct acceptor_conn *c = &a->conns[i];

		if (c->fd < 0)
			continue;
		if (c->deadline_ms > now) {
			next = c->deadline_ms < next ? c->deadline_ms : next;
			continue;
		}
		/* Not whole in time: the daemon's request deadline takes over. */
		if (c->answered)
			close_conn(a, c);
		else
			hand_over(a, c);
	}
	return next == UINT64_MAX ? -1 : (int)(next - now);
}

static void *run(void *arg)
{
	struct acceptor *a = arg;
	struct epoll_event evs[32];
	int timeout = -1;

	for (;;) {
		int n = epoll_wait(a->epfd, evs, sizeof(evs) / sizeof(evs[0]), timeout);
		uint64_t now = connlimit_now_ms();

		pthread_mutex_lock(&a->lock);
		if (a->stopping) {
			pthread_mutex_unlock(&a->lock);
			return NULL;
		}
		for (int i = 0; i < n; i++)
			on_event(a, &evs[i], now);
		timeout = expire(a, connlimit_now_ms());
		pthread_mutex_unlock(&a->lock);
	}
}

int acceptor_start(struct acceptor *a, struct server *s)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->server = s;
	for (size_t i = 0; i < SERVER_LISTENERS_MAX; i++)
		a->ports[i].fd = -1;
	for (size_t i = 0; i < ACCEPTOR_CONNS_MAX; i++)
		a->conns[i].fd = -1;
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	a->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->epfd < 0 || a->wakefd < 0 ||
	    watch(a, EPOLL_CTL_ADD, a->wakefd, EPOLLIN, tag(TAG_WAKE, 0)) < 0) {
		r = -errno;
		goto fail;
	}
	pthread_mutex_init(&a->lock, NULL);
	r = -pthread_create(&a->thread, NULL, run, a);
	if (r < 0) {
		pthread_mutex_destroy(&a->lock);
		goto fail;
	}
	a->running = true;
	return 0;
fail:
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->wakefd >= 0)
		close(a->wakefd);
	return r;
}

int acceptor_add(struct acceptor *a, int fd, struct MHD_Daemon *d)
{
	int r = -ENOSPC;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < SERVER_LISTENERS_MAX && r == -ENOSPC; i++) {
		if (a->ports[i].fd >= 0)
			continue;
		r = watch(a, EPOLL_CTL_ADD, fd, a->paused_until_ms ? 0 : EPOLLIN, tag(TAG_PORT, i));
		if (r < 0) {
			r = -errno;
			break;
		}
		a->ports[i] = (struct acceptor_port){fd, d};
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

size_t acceptor_remove(struct acceptor *a, struct MHD_Daemon *d)
{
	size_t n = 0;

	if (!a->running)
		return 0;
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < SERVER_LISTENERS_MAX; i++) {
		if (a->ports[i].fd >= 0 && a->ports[i].daemon == d) {
			close(a->ports[i].fd);
			a->ports[i].fd = -1;
		}
	}
	/* The daemon is still running: those peeked at go to it unread;
	 * those answered need no daemon. */
	for (size_t i = 0; i < ACCEPTOR_CONNS_MAX; i++)
		if (a->conns[i].fd >= 0 && a->conns[i].daemon == d && !a->conns[i].answered) {
			hand_over(a, &a->conns[i]);
			n++;
		}
	pthread_mutex_unlock(&a->lock);
	return n;
}

void acceptor_stop(struct acceptor *a)
{
	uint64_t one = 1;

	if (!a->running)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_mutex_unlock(&a->lock);
	if (write(a->wakefd, &one, sizeof(one)) < 0)
		log_warning("http: cannot wake the accepting thread: %s", strerror(errno));
	pthread_join(a->thread, NULL);
	/* The listeners are gone, and with them what they were handed. */
	for (size_t i = 0; i < ACCEPTOR_CONNS_MAX; i++)
		if (a->conns[i].fd >= 0)
			close_conn(a, &a->conns[i]);
	for (size_t i = 0; i < SERVER_LISTENERS_MAX; i++)
		if (a->ports[i].fd >= 0)
			close(a->ports[i].fd);
	close(a->epfd);
	close(a->wakefd);
	pthread_mutex_destroy(&a->lock);
	a->running = false;
}
