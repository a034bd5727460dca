#include "probes/netlink.h"

#include <errno.h>
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
			st->done_error = err;
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
	errno = e->error < 0 ? -e->error : e->error;
	return MNL_CB_ERROR;
}

static int set_receive_timeout(struct mnl_socket *nl, long long left_ms)
{
	struct timeval tv = {.tv_sec = left_ms / 1000, .tv_usec = (left_ms % 1000) * 1000};

	return setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int receive_all(struct mnl_socket *nl, uint32_t seq, struct talk_state *st,
                       long long deadline)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = on_error, [NLMSG_DONE] = on_done};
	uint32_t portid = mnl_socket_get_portid(nl);
	char buf[NETLINK_RECV_BUFFER];
	int r;

	for (;;) {
		long long left = deadline - monotonic_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		set_receive_timeout(nl, left);
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			r = (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
			break;
		}
		errno = 0;
		r = mnl_cb_run2(buf, (size_t)n, seq, portid, on_data, st, ctl, NLMSG_MIN_TYPE);
		explicit_bzero(buf, (size_t)n);
		if (r == MNL_CB_ERROR) {
			r = errno ? -errno : -EBADMSG;
			break;
		}
		if (r == MNL_CB_STOP) {
			r = 0;
			break;
		}
	}
	return r;
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
	r = receive_all(nl, req->nlmsg_seq, &st, deadline);
	if (r == 0 && st.done_error)
		r = st.done_error;
	if (r == 0 && st.interrupted)
		r = -EINTR;
out:
	mnl_socket_close(nl);
	return r;
}
