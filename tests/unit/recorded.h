/* A netlink transport that replays one recorded reply (a buffer a test
 * built) through netlink_replay(), for the dump functions' _with forms. */
#ifndef SPARKMON_TEST_RECORDED_H
#define SPARKMON_TEST_RECORDED_H

#include <stddef.h>

#include "probes/netlink.h"

static const void *recorded;
static size_t recorded_len;

static inline int recorded_talk(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data,
                                unsigned timeout_ms)
{
	(void)bus;
	(void)req;
	(void)timeout_ms;
	return netlink_replay(recorded, recorded_len, cb, data);
}

/* Appends an NLMSG_DONE without error after the message at nlh; returns
 * the length of the two together. */
static inline size_t recorded_end(struct nlmsghdr *nlh)
{
	struct nlmsghdr *done = mnl_nlmsg_put_header((char *)nlh + MNL_ALIGN(nlh->nlmsg_len));

	done->nlmsg_type = NLMSG_DONE;
	mnl_nlmsg_put_extra_header(done, sizeof(int32_t));
	return MNL_ALIGN(nlh->nlmsg_len) + done->nlmsg_len;
}

#endif
