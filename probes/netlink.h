/* One netlink request/dump over a fresh libmnl socket, with a deadline.
 * Shared by the probes that talk to the kernel (rtnetlink for links,
 * addresses and routes; generic netlink for WireGuard). */
#ifndef SPARKMON_NETLINK_H
#define SPARKMON_NETLINK_H

#include <libmnl/libmnl.h>
#include <stdint.h>

#define NETLINK_DEFAULT_TIMEOUT_MS 2000
/* The largest errno the kernel sends (MAX_ERRNO). */
#define NETLINK_ERRNO_MAX 4095

/* Sends `req` (its nlmsg_seq and nlmsg_pid are filled in here) on a new
 * socket of the given bus (NETLINK_ROUTE, NETLINK_GENERIC) and passes every
 * data message of the reply to `cb` until the reply ends.
 *
 * Returns 0 on success; -EINTR when the kernel marked the dump
 * NLM_F_DUMP_INTR (it changed while being dumped: the caller redoes it, a
 * bounded number of times); the kernel's error from NLMSG_ERROR or from the
 * NLMSG_DONE payload as a negative errno (-ENODEV, -EPERM, ...);
 * -ETIMEDOUT past the deadline; -EBADMSG for a malformed datagram (a
 * message length that lies, an error number no kernel sends); the
 * callback's error when it returns MNL_CB_ERROR (its errno, or -EBADMSG).
 *
 * Every receive buffer is wiped with explicit_bzero() after use, because
 * some replies carry secrets (WireGuard's private and preshared keys). */
int netlink_talk(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data, unsigned timeout_ms);

/* netlink_talk()'s signature, for code that replays recorded replies. */
typedef int (*netlink_talk_fn)(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data,
                               unsigned timeout_ms);

/* Runs a recorded reply (one datagram, or several laid end to end) as
 * netlink_talk() runs what it receives, with its return values; a reply
 * that does not end (no NLMSG_DONE, no acknowledgement) gives -ETIMEDOUT,
 * as it would on a socket. Sequence numbers and port ids are not checked. */
int netlink_replay(const void *buf, size_t len, mnl_cb_t cb, void *data);

/* Checks that the messages of a datagram tile it: each has a whole header
 * and an nlmsg_len of at least the header that does not run past the
 * datagram (alignment padding after the last one may be left off).
 * Returns 0 or -EBADMSG. Message parsers trust nlmsg_len: this is what
 * makes that safe, and netlink_talk() and netlink_replay() check every
 * datagram before a message reaches a callback. */
int netlink_check_datagram(const void *buf, size_t len);

#endif
