/* Connection limits across every listener: a global cap, a cap per client
 * address, and a deadline for each request's headers.
 *
 * Why not libmicrohttpd's own limits: they are per daemon (one per
 * listening address, so they multiply with each WireGuard address), its
 * idle timeout is reset by every byte a slow client trickles in, and at
 * its cap it stops accepting, so that a crowd of slow clients keeps
 * everyone else waiting in the kernel's backlog. Here every connection
 * has a slot from accept to close; the accept callback refuses a client
 * over its address's cap, and at the global cap makes room by closing the
 * oldest connection that has not been answered yet, from an address that
 * holds more connections than the newcomer's. A thread closes connections
 * whose headers are late, and those whose client has gone while no
 * request of theirs is being answered: libmicrohttpd 0.9.75 (epoll, edge
 * triggered) takes a read shorter than its buffer for "nothing more", so
 * a client's close that came with its last bytes (as on a connection
 * handed over by web/acceptor.c with its first bytes waiting) would go
 * unseen until a deadline. Closing is shutdown(2) on the socket, which
 * libmicrohttpd's event loop sees at once and follows with its own
 * close; the slot is free from that moment. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "monitor/log.h"
#include "web/serverimpl.h"

/* How often late headers are looked for: the deadline is kept to within
 * this much. */
#define CONNLIMIT_TICK_MS 100

uint64_t connlimit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* An IPv4-mapped IPv6 address counts as the IPv4 address: one client
 * reaching a dual-stack listener and an IPv4 one is one address. */
void connlimit_addr_key(const struct sockaddr *sa, struct conn_addr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (sa->sa_family == AF_INET) {
		ret->family = AF_INET;
		memcpy(ret->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			ret->family = AF_INET;
			memcpy(ret->bytes, &a6->s6_addr[12], 4);
		} else {
			ret->family = AF_INET6;
			memcpy(ret->bytes, a6, 16);
		}
	}
}

static bool same_addr(const struct conn_addr *a, const struct conn_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* Open connections from addr; the caller holds the lock. */
static size_t count_from(const struct connlimit *cl, const struct conn_addr *addr)
{
	size_t n = 0;

	for (size_t i = 0; i < cl->top; i++)
		n += cl->slots[i].c && same_addr(&cl->slots[i].addr, addr);
	return n;
}

/* What a slot holds between the admission of a connection and its start:
 * libmicrohttpd starts it later, on another thread when web/acceptor.c
 * handed it over, and it counts toward the caps from its admission. */
static char pending_mark;
#define PENDING ((struct MHD_Connection *)(void *)&pending_mark)

static void release(struct connlimit *cl, struct conn_slot *slot)
{
	slot->c = NULL;
	cl->used--;
	while (cl->top && !cl->slots[cl->top - 1].c)
		cl->top--;
}

/* Closes the slot's connection and frees the slot; the caller holds the
 * lock (so libmicrohttpd, which tells of a close before closing the
 * socket, cannot have closed it yet). */
static void drop(struct connlimit *cl, struct conn_slot *slot)
{
	if (slot->c != PENDING)
		shutdown(slot->fd, SHUT_RDWR);
	release(cl, slot);
}

/* A free slot, or NULL; the caller holds the lock. */
static struct conn_slot *free_slot(struct connlimit *cl)
{
	for (size_t i = 0; i < cl->top; i++)
		if (!cl->slots[i].c)
			return &cl->slots[i];
	return cl->top < cl->cap ? &cl->slots[cl->top++] : NULL;
}

/* The oldest connection not answered yet from an address with more open
 * connections than `mine`; NULL when there is none. */
static struct conn_slot *victim(struct connlimit *cl, size_t mine)
{
	struct conn_slot *best = NULL;

	for (size_t i = 0; i < cl->top; i++) {
		struct conn_slot *s = &cl->slots[i];

		if (!s->c || s->c == PENDING || s->served ||
		    (best && s->accepted_ms >= best->accepted_ms))
			continue;
		if (count_from(cl, &s->addr) > mine)
			best = s;
	}
	return best;
}

bool connlimit_admit(struct connlimit *cl, const struct sockaddr *sa)
{
	struct conn_addr addr;
	struct conn_slot *v, *slot;
	size_t mine;
	bool ok = true;

	connlimit_addr_key(sa, &addr);
	pthread_mutex_lock(&cl->lock);
	mine = count_from(cl, &addr);
	if (mine >= cl->max_per_addr) {
		ok = false;
	} else if (cl->used >= cl->max) {
		v = victim(cl, mine);
		if (v)
			drop(cl, v);
		else
			ok = false;
	}
	slot = ok ? free_slot(cl) : NULL;
	if (slot) {
		uint64_t now = connlimit_now_ms();

		*slot = (struct conn_slot){.c = PENDING,
		                           .fd = -1,
		                           .accepted_ms = now,
		                           .deadline_ms = now + cl->request_ms,
		                           .addr = addr};
		cl->used++;
	}
	pthread_mutex_unlock(&cl->lock);
	return slot != NULL;
}

/* The oldest slot reserved for a connection from addr; the caller holds
 * the lock. */
static struct conn_slot *reserved(struct connlimit *cl, const struct conn_addr *addr)
{
	struct conn_slot *best = NULL;

	for (size_t i = 0; i < cl->top; i++) {
		struct conn_slot *s = &cl->slots[i];

		if (s->c == PENDING && same_addr(&s->addr, addr) &&
		    (!best || s->accepted_ms < best->accepted_ms))
			best = s;
	}
	return best;
}

void connlimit_started(struct connlimit *cl, struct MHD_Connection *c, void **socket_context)
{
	const union MHD_ConnectionInfo *fd =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *who =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct conn_slot *slot;
	struct conn_addr addr;
	uint64_t now = connlimit_now_ms();

	*socket_context = NULL;
	if (!fd || !who)
		return;
	connlimit_addr_key(who->client_addr, &addr);
	pthread_mutex_lock(&cl->lock);
	/* The slot its admission reserved (its request deadline runs from
	 * then), or one of its own when that one's time ran out. */
	slot = reserved(cl, &addr);
	if (!slot) {
		slot = free_slot(cl);
		if (slot) {
			*slot = (struct conn_slot){
			    .accepted_ms = now, .deadline_ms = now + cl->request_ms, .addr = addr};
			cl->used++;
		}
	}
	if (slot) {
		slot->c = c;
		slot->fd = fd->connect_fd;
		*socket_context = slot;
	} else {
		/* Its reservation ran out and the table is full: not this one. */
		shutdown(fd->connect_fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&cl->lock);
}

void connlimit_closed(struct connlimit *cl, struct MHD_Connection *c, void **socket_context)
{
	struct conn_slot *slot = *socket_context;

	if (!slot)
		return;
	pthread_mutex_lock(&cl->lock);
	/* An evicted or late connection's slot may already be another's. */
	if (slot->c == c)
		release(cl, slot);
	pthread_mutex_unlock(&cl->lock);
	*socket_context = NULL;
}

/* The slot of c, locked; NULL (unlocked) when it has none. */
static struct conn_slot *lock_slot(struct connlimit *cl, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_slot *slot = info ? info->socket_context : NULL;

	if (!slot)
		return NULL;
	pthread_mutex_lock(&cl->lock);
	if (slot->c == c)
		return slot;
	pthread_mutex_unlock(&cl->lock);
	return NULL;
}

void connlimit_request_line(struct connlimit *cl, struct MHD_Connection *c)
{
	struct conn_slot *slot = lock_slot(cl, c);
	uint64_t by;

	if (!slot)
		return;
	by = connlimit_now_ms() + cl->request_ms;
	if (by < slot->deadline_ms)
		slot->deadline_ms = by;
	pthread_mutex_unlock(&cl->lock);
}

void connlimit_headers_done(struct connlimit *cl, struct MHD_Connection *c)
{
	struct conn_slot *slot = lock_slot(cl, c);

	if (!slot)
		return;
	/* Sending the answer is held to the idle timeout alone. */
	slot->deadline_ms = UINT64_MAX;
	pthread_mutex_unlock(&cl->lock);
}

void connlimit_answered(struct connlimit *cl, struct MHD_Connection *c)
{
	struct conn_slot *slot = lock_slot(cl, c);

	if (!slot)
		return;
	/* The next request on this connection: its headers within one idle
	 * timeout, however slowly they come. */
	slot->served = true;
	slot->deadline_ms = connlimit_now_ms() + cl->idle_ms;
	pthread_mutex_unlock(&cl->lock);
}

/* Closes connections whose client has closed its side, has nothing
 * unread, and is not being answered (its headers not whole yet, or its
 * answer sent): no request can come of them. Seen twice, a tick apart,
 * so that bytes the event loop has just read are looked at first. The
 * caller holds the lock, so that every descriptor polled is open. */
static void drop_departed(struct connlimit *cl)
{
	size_t n = 0;

	for (size_t i = 0; i < cl->top; i++) {
		if (!cl->slots[i].c || cl->slots[i].c == PENDING ||
		    cl->slots[i].deadline_ms == UINT64_MAX)
			continue;
		cl->polls[n] = (struct pollfd){.fd = cl->slots[i].fd, .events = POLLRDHUP};
		cl->polled[n++] = i;
	}
	if (n == 0 || poll(cl->polls, n, 0) <= 0)
		return;
	for (size_t k = 0; k < n; k++) {
		struct conn_slot *s = &cl->slots[cl->polled[k]];
		int unread = 0;
		bool gone = cl->polls[k].revents & (POLLRDHUP | POLLHUP | POLLERR);

		if (gone && ioctl(s->fd, FIONREAD, &unread) == 0 && unread == 0) {
			if (s->departed) {
				log_debug("http: closed a connection whose client had left");
				drop(cl, s);
				continue;
			}
			s->departed = true;
		} else {
			s->departed = false;
		}
	}
}

static void *reaper(void *arg)
{
	struct connlimit *cl = arg;
	struct timespec ts;

	pthread_mutex_lock(&cl->lock);
	while (!cl->stopping) {
		uint64_t now = connlimit_now_ms();

		for (size_t i = 0; i < cl->top; i++) {
			struct conn_slot *s = &cl->slots[i];

			if (s->c && s->deadline_ms <= now) {
				/* A reservation never taken: nothing to close. */
				if (s->c != PENDING)
					log_debug(
					    "http: closed a connection whose request was late");
				drop(cl, s);
			}
		}
		drop_departed(cl);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += CONNLIMIT_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cl->wake, &cl->lock, &ts);
	}
	pthread_mutex_unlock(&cl->lock);
	return NULL;
}

void connlimit_apply(struct connlimit *cl, const struct config *cfg)
{
	pthread_mutex_lock(&cl->lock);
	cl->max = cfg->http_max_connections;
	cl->max_per_addr = cfg->http_max_connections_per_ip;
	cl->request_ms = cfg->http_request_timeout_ms;
	cl->idle_ms = cfg->http_timeout_ms;
	pthread_mutex_unlock(&cl->lock);
}

static void free_tables(struct connlimit *cl)
{
	free(cl->slots);
	free(cl->polls);
	free(cl->polled);
	cl->slots = NULL;
	cl->polls = NULL;
	cl->polled = NULL;
}

int connlimit_start(struct connlimit *cl, const struct config *cfg)
{
	pthread_condattr_t attr;
	int r;

	memset(cl, 0, sizeof(*cl));
	/* Room for the largest cap a reload may set, plus those admitted by
	 * two listeners at once; only the slots used are touched. */
	cl->cap = CONNLIMIT_SLOTS;
	cl->slots = calloc(cl->cap, sizeof(*cl->slots));
	cl->polls = calloc(cl->cap, sizeof(*cl->polls));
	cl->polled = calloc(cl->cap, sizeof(*cl->polled));
	if (!cl->slots || !cl->polls || !cl->polled) {
		free_tables(cl);
		return -ENOMEM;
	}
	pthread_mutex_init(&cl->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cl->wake, &attr);
	pthread_condattr_destroy(&attr);
	connlimit_apply(cl, cfg);
	r = pthread_create(&cl->reaper, NULL, reaper, cl);
	if (r != 0) {
		pthread_cond_destroy(&cl->wake);
		pthread_mutex_destroy(&cl->lock);
		free_tables(cl);
		return -r;
	}
	cl->running = true;
	return 0;
}

void connlimit_stop(struct connlimit *cl)
{
	if (!cl->slots)
		return;
	if (cl->running) {
		pthread_mutex_lock(&cl->lock);
		cl->stopping = true;
		pthread_cond_signal(&cl->wake);
		pthread_mutex_unlock(&cl->lock);
		pthread_join(cl->reaper, NULL);
	}
	pthread_cond_destroy(&cl->wake);
	pthread_mutex_destroy(&cl->lock);
	free_tables(cl);
}
