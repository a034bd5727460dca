#include "probes/netlink.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The kernel sizes dump datagrams to at most 32 KiB; a larger datagram
 * would be reported as truncated (ENOSPC) by libmnl, never cut silently. */
#define NETLINK_RECV_BUFFER 32768

struct talk_state {
	mnl_cb_t cb;
	void *data;
	bool interrupted;
	int done_error; /* errno carried in NLMSG_DONE, 0 if none */
};

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A kernel error number as a positive errno: the kernel's are 1..4095
 * (MAX_ERRNO); anything else (INT_MIN, whose negation overflows, or a
 * positive value) is no error it sends, and reads as a malformed message. */
static int kernel_errno(int64_t err)
{
	return err < 0 && err >= -NETLINK_ERRNO_MAX ? (int)-err : EBADMSG;
}

static int on_data(const struct nlmsghdr *nlh, void *arg)
{
	struct talk_state *st = arg;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		st->interrupted = true;
	return st->cb ? st->cb(nlh, st->data) : MNL_CB_OK;
}

/* A dump that failed part-way ends with NLMSG_DONE carrying a negative errno
 * as its payload (libmnl's default handler ignores it). */
static int on_done(const struct nlmsghdr *nlh, void *arg)
{
	struct talk_state *st = arg;
	int32_t err;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		st->interrupted = true;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0)
			st->done_error = -kernel_errno(err);
	}
	return MNL_CB_STOP;
}

/* With a control table, libmnl hands every control message to it and
 * ignores those it has no entry for: without this entry an NLMSG_ERROR (the
 * acknowledgement, or the kernel refusing the request with EPERM, ENODEV,
 * ENOENT) would be dropped and the receive would wait for the deadline. */
static int on_error(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	(void)arg;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	errno = kernel_errno(e->error);
	return MNL_CB_ERROR;
}

int netlink_check_datagram(const void *buf, size_t len)
{
	const char *p = buf;
	size_t left = len;

	if (len > INT_MAX)
		return -EBADMSG;
	while (left > 0) {
		struct nlmsghdr nlh;
		size_t step;

		if (left < sizeof(nlh))
			return -EBADMSG;
		memcpy(&nlh, p, sizeof(nlh));
		if (nlh.nlmsg_len < sizeof(nlh) || nlh.nlmsg_len > left)
			return -EBADMSG;
		step = MNL_ALIGN(nlh.nlmsg_len);
		if (step >= left)
			break; /* the last message, its alignment padding left off */
		p += step;
		left -= step;
	}
	return 0;
}

/* Runs the messages of one datagram: 1 when the reply goes on in another
 * datagram, 0 when it ended, or a negative errno. Lengths are checked
 * first: libmnl 1.0.4 (Debian 12) compares nlmsg_len as a signed int, so
 * a length above INT_MAX passes mnl_nlmsg_ok() and its walk leaves the
 * buffer; and the parsers trust nlmsg_len once a message reaches them. */
static int receive_datagram(struct talk_state *st, const void *buf, size_t len, uint32_t seq,
                            uint32_t portid)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = on_error, [NLMSG_DONE] = on_done};
	int r = netlink_check_datagram(buf, len);

	if (r < 0)
		return r;
	errno = 0;
	r = mnl_cb_run2(buf, len, seq, portid, on_data, st, ctl, NLMSG_MIN_TYPE);
	if (r == MNL_CB_ERROR)
		return errno > 0 && errno <= NETLINK_ERRNO_MAX ? -errno : -EBADMSG;
	return r == MNL_CB_STOP ? 0 : 1;
}

/* What netlink_talk() returns once the reply's datagrams are in. */
static int talk_result(const struct talk_state *st, int r)
{
	if (r == 0 && st->done_error)
		return st->done_error;
	if (r == 0 && st->interrupted)
		return -EINTR;
	return r;
}

static int set_receive_timeout(struct mnl_socket *nl, long long left_ms)
{
	struct timeval tv = {.tv_sec = left_ms / 1000, .tv_usec = (left_ms % 1000) * 1000};

	return setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int receive_all(struct mnl_socket *nl, uint32_t seq, struct talk_state *st,
                       long long deadline)
{
	uint32_t portid = mnl_socket_get_portid(nl);
	char buf[NETLINK_RECV_BUFFER];
	int r;

	do {
		long long left = deadline - monotonic_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		set_receive_timeout(nl, left);
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
		r = receive_datagram(st, buf, (size_t)n, seq, portid);
		/* n is at most sizeof(buf); the compiler cannot know it. */
		explicit_bzero(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
	} while (r == 1);
	return r;
}

int netlink_replay(const void *buf, size_t len, mnl_cb_t cb, void *data)
{
	struct talk_state st = {.cb = cb, .data = data};
	int r = receive_datagram(&st, buf, len, 0, 0);

	/* A reply that has not ended would leave the socket waiting. */
	return talk_result(&st, r == 1 ? -ETIMEDOUT : r);
}

int netlink_talk(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data, unsigned timeout_ms)
{
	struct talk_state st = {.cb = cb, .data = data};
	long long deadline =
	    monotonic_ms() + (timeout_ms ? timeout_ms : NETLINK_DEFAULT_TIMEOUT_MS);
	struct mnl_socket *nl;
	int r;

	nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	req->nlmsg_seq = (uint32_t)time(NULL);
	req->nlmsg_pid = 0;
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	r = talk_result(&st, receive_all(nl, req->nlmsg_seq, &st, deadline));
out:
	mnl_socket_close(nl);
	return r;
}
