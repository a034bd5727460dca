/* One netlink request/dump over a fresh libmnl socket, with a deadline.
 * Shared by the probes that talk to the kernel (rtnetlink for links,
 * addresses and routes; generic netlink for WireGuard). */
#ifndef SPARKMON_NETLINK_H
#define SPARKMON_NETLINK_H

#include <libmnl/libmnl.h>
#include <stdint.h>

#define NETLINK_DEFAULT_TIMEOUT_MS 2000

/* Sends `req` (its nlmsg_seq and nlmsg_pid are filled in here) on a new
 * socket of the given bus (NETLINK_ROUTE, NETLINK_GENERIC) and passes every
 * data message of the reply to `cb` until the reply ends.
 *
 * Returns 0 on success; -EINTR when the kernel marked the dump
 * NLM_F_DUMP_INTR (it changed while being dumped: the caller redoes it, a
 * bounded number of times); the kernel's error from NLMSG_ERROR or from the
 * NLMSG_DONE payload as a negative errno (-ENODEV, -EPERM, ...);
 * -ETIMEDOUT past the deadline; the callback's error when it returns
 * MNL_CB_ERROR (its errno, or -EBADMSG).
 *
 * Every receive buffer is wiped with explicit_bzero() after use, because
 * some replies carry secrets (WireGuard's private and preshared keys). */
int netlink_talk(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data, unsigned timeout_ms);

#endif
