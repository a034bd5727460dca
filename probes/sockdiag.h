/* Listening TCP sockets, from the kernel's socket diagnostics
 * (NETLINK_SOCK_DIAG, inet_diag), as ss(8) reads them: IPv4 and IPv6, in
 * the probe's network namespace. The parser works on one message; the
 * dump does the I/O with netlink_talk(). */
#ifndef SPARKMON_SOCKDIAG_H
#define SPARKMON_SOCKDIAG_H

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/netlink.h"

/* One TCP socket in LISTEN. */
struct sockdiag_listener {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t address[16]; /* bound address, 4 or 16 bytes, network order; zero: the wildcard */
	uint16_t port;       /* host order */
	uint32_t ifindex;    /* SO_BINDTODEVICE's interface, 0 when none */
	int8_t v6only;       /* IPv6: 1 when it takes no IPv4 (IPV6_V6ONLY), 0, -1 unknown */
};

/* Parses one SOCK_DIAG_BY_FAMILY message (struct inet_diag_msg and its
 * attributes). Returns 0 and fills *ret, or, leaving *ret untouched:
 * -ENOMSG for another message type; -EAFNOSUPPORT for a family other than
 * AF_INET/AF_INET6; -EBADMSG for a short header, an attribute running past
 * the message, or an INET_DIAG_SKV6ONLY that is not one byte. Like the
 * rtnetlink parsers it trusts nlmsg_len (netlink_check_datagram()). */
int sockdiag_parse(const struct nlmsghdr *nlh, struct sockdiag_listener *ret);

/* Dumps the TCP sockets in LISTEN on `port` (0: every port), IPv4 then
 * IPv6, keeping at most max in ret[]; *ret_count is how many there are
 * (possibly more than max). Malformed messages fail the dump (-EBADMSG).
 * Returns 0 or netlink_talk()'s error. */
int sockdiag_dump_listeners(uint16_t port, struct sockdiag_listener *ret, size_t max,
                            size_t *ret_count, unsigned timeout_ms);
int sockdiag_dump_listeners_with(netlink_talk_fn talk, uint16_t port, struct sockdiag_listener *ret,
                                 size_t max, size_t *ret_count, unsigned timeout_ms);

#endif
