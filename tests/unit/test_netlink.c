/* netlink_talk against this machine's real kernel: a dump that succeeds,
 * and requests the kernel refuses, whose NLMSG_ERROR must come back as the
 * kernel's errno at once (not as a timeout). */
#include <errno.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_link_dump_sees_loopback),
	    cmocka_unit_test(test_refused_request_returns_kernel_errno),
	    cmocka_unit_test(test_unknown_genl_family_is_enoent),
	    cmocka_unit_test(test_ack_ends_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
