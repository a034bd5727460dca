/* netlink_talk against this machine's real kernel: a dump that succeeds,
 * and requests the kernel refuses, whose NLMSG_ERROR must come back as the
 * kernel's errno at once (not as a timeout). Then replies no kernel sends,
 * replayed from built buffers: lengths that lie, error numbers out of
 * range. */
#include <errno.h>
#include <limits.h>
#include <linux/genetlink.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "probes/netlink.h"

#define TIMEOUT_MS 2000

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_links(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		(*(int *)data)++;
	return MNL_CB_OK;
}

static struct nlmsghdr *link_request(char *buf, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

static void test_link_dump_sees_loopback(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int links = 0;

	(void)state;
	assert_int_equal(netlink_talk(NETLINK_ROUTE, link_request(buf, NLM_F_DUMP, 0), count_links,
	                              &links, TIMEOUT_MS),
	                 0);
	assert_true(links >= 1); /* every namespace has lo */
}

static void test_refused_request_returns_kernel_errno(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	double start = now_seconds();
	int links = 0;

	(void)state;
	/* No interface has this index: the kernel answers NLMSG_ERROR ENODEV. */
	assert_int_equal(netlink_talk(NETLINK_ROUTE, link_request(buf, 0, 0x7ffffff0), count_links,
	                              &links, TIMEOUT_MS),
	                 -ENODEV);
	assert_int_equal(links, 0);
	assert_true(now_seconds() - start < TIMEOUT_MS / 2000.0);
}

static void test_unknown_genl_family_is_enoent(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;
	double start = now_seconds();

	(void)state;
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	/* Shorter than GENL_NAMSIZ, or the kernel refuses it as EINVAL. */
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "sm_no_family");
	assert_int_equal(netlink_talk(NETLINK_GENERIC, nlh, NULL, NULL, TIMEOUT_MS), -ENOENT);
	assert_true(now_seconds() - start < TIMEOUT_MS / 2000.0);
}

/* The acknowledgement of a request that succeeded ends the exchange. */
static void test_ack_ends_request(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	double start = now_seconds();
	int links = 0;

	(void)state;
	/* Index 1 is lo in every namespace. */
	assert_int_equal(netlink_talk(NETLINK_ROUTE, link_request(buf, NLM_F_ACK, 1), count_links,
	                              &links, TIMEOUT_MS),
	                 0);
	assert_int_equal(links, 1);
	assert_true(now_seconds() - start < TIMEOUT_MS / 2000.0);
}

/* ---- replayed replies ------------------------------------------------------ */

static char reply[4096] __attribute__((aligned(4)));

/* Appends a message of `type` with `payload` bytes of zeros at *off. */
static struct nlmsghdr *put_message(size_t *off, uint16_t type, uint16_t flags, size_t payload)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(reply + *off);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	mnl_nlmsg_put_extra_header(nlh, payload);
	*off += MNL_ALIGN(nlh->nlmsg_len);
	return nlh;
}

static struct nlmsghdr *put_link(size_t *off, uint16_t flags)
{
	return put_message(off, RTM_NEWLINK, NLM_F_MULTI | flags, sizeof(struct ifinfomsg));
}

static void put_done(size_t *off, int32_t err)
{
	struct nlmsghdr *nlh = put_message(off, NLMSG_DONE, NLM_F_MULTI, sizeof(err));

	memcpy(mnl_nlmsg_get_payload(nlh), &err, sizeof(err));
}

static void put_error(size_t *off, int error)
{
	struct nlmsghdr *nlh = put_message(off, NLMSG_ERROR, 0, sizeof(struct nlmsgerr));
	struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	e->error = error;
}

static void test_replay_dump(void **state)
{
	size_t off = 0;
	int links = 0;

	(void)state;
	put_link(&off, 0);
	put_link(&off, 0);
	put_done(&off, 0);
	assert_int_equal(netlink_replay(reply, off, count_links, &links), 0);
	assert_int_equal(links, 2);
	/* No end: a socket would wait for the rest until the deadline. */
	links = 0;
	assert_int_equal(netlink_replay(reply, off - MNL_NLMSG_HDRLEN - 4, count_links, &links),
	                 -ETIMEDOUT);
	assert_int_equal(links, 2);
	/* The kernel's errors, in NLMSG_DONE and NLMSG_ERROR; an ack ends it. */
	off = 0;
	put_link(&off, 0);
	put_done(&off, -ENOBUFS);
	assert_int_equal(netlink_replay(reply, off, count_links, &links), -ENOBUFS);
	off = 0;
	put_error(&off, -EPERM);
	assert_int_equal(netlink_replay(reply, off, count_links, &links), -EPERM);
	off = 0;
	put_error(&off, 0);
	assert_int_equal(netlink_replay(reply, off, count_links, &links), 0);
	/* A dump the kernel marked interrupted. */
	off = 0;
	put_link(&off, NLM_F_DUMP_INTR);
	put_done(&off, 0);
	assert_int_equal(netlink_replay(reply, off, count_links, &links), -EINTR);
}

/* A length above INT_MAX passes libmnl 1.0.4's signed check; lengths
 * below a header, past the datagram, or a datagram that ends inside a
 * header: the whole datagram is refused before any message is used. */
static void test_replay_lengths_that_lie(void **state)
{
	const uint32_t lies[] = {0x80000010u, 0xfffffff0u, 0xffffffffu, 0, 8, 4096};
	struct nlmsghdr *second;
	size_t off;
	int links;

	(void)state;
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		off = 0;
		links = 0;
		put_link(&off, 0);
		second = put_link(&off, 0);
		put_done(&off, 0);
		second->nlmsg_len = lies[i];
		assert_int_equal(netlink_check_datagram(reply, off), -EBADMSG);
		assert_int_equal(netlink_replay(reply, off, count_links, &links), -EBADMSG);
		assert_int_equal(links, 0);
	}
	off = 0;
	put_link(&off, 0);
	assert_int_equal(netlink_check_datagram(reply, off + 8), -EBADMSG);
	/* The last message's alignment padding may be left off. */
	off = 0;
	put_message(&off, RTM_NEWLINK, 0, 4)->nlmsg_len = MNL_NLMSG_HDRLEN + 1;
	assert_int_equal(netlink_check_datagram(reply, MNL_NLMSG_HDRLEN + 1), 0);
	assert_int_equal(netlink_check_datagram(reply, 0), 0);
}

/* Error numbers no kernel sends (INT_MIN, whose negation overflows; a
 * positive one; one past MAX_ERRNO) read as a malformed reply. */
static void test_replay_error_numbers(void **state)
{
	const int bad[] = {INT_MIN, INT_MIN + 1, -NETLINK_ERRNO_MAX - 1, 5, INT_MAX};
	size_t off;
	int links = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		off = 0;
		put_error(&off, bad[i]);
		assert_int_equal(netlink_replay(reply, off, count_links, &links), -EBADMSG);
		off = 0;
		put_link(&off, 0);
		put_done(&off, bad[i] < 0 ? bad[i] : 0);
		if (bad[i] < 0)
			assert_int_equal(netlink_replay(reply, off, count_links, &links), -EBADMSG);
	}
	off = 0;
	put_error(&off, -NETLINK_ERRNO_MAX);
	assert_int_equal(netlink_replay(reply, off, count_links, &links), -NETLINK_ERRNO_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_link_dump_sees_loopback),
	    cmocka_unit_test(test_refused_request_returns_kernel_errno),
	    cmocka_unit_test(test_unknown_genl_family_is_enoent),
	    cmocka_unit_test(test_ack_ends_request),
	    cmocka_unit_test(test_replay_dump),
	    cmocka_unit_test(test_replay_lengths_that_lie),
	    cmocka_unit_test(test_replay_error_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
