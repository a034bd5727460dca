/* Kernel WireGuard devices over generic netlink (family "wireguard",
 * WG_CMD_GET_DEVICE). Parsing runs on one reply message at a time, so the
 * tests feed it messages built with libmnl. */
#ifndef SPARKMON_WGKERNEL_H
#define SPARKMON_WGKERNEL_H

#include <libmnl/libmnl.h>
#include <stdint.h>

#include "probes/netlink.h"
#include "probes/wireguard.h"

/* How often an interrupted dump (NLM_F_DUMP_INTR: the peer list changed
 * while it was being dumped) is redone before giving up with -EINTR. */
#define WGKERNEL_DUMP_TRIES 5

/* Peers and allowed IPs one device may make us allocate. */
#define WGKERNEL_PEERS_MAX       (1u << 20)
#define WGKERNEL_ALLOWED_IPS_MAX (1u << 20)

/* Resolves the generic netlink family id of "wireguard". -ENOENT when the
 * kernel has no WireGuard (module not loaded). */
int wgkernel_family(uint16_t *ret_id, unsigned timeout_ms);

/* Parses a CTRL_CMD_GETFAMILY reply message; 0 and *ret_id, or -EBADMSG. */
int wgkernel_parse_family(const struct nlmsghdr *nlh, uint16_t *ret_id);

/* Merges one WG_CMD_GET_DEVICE reply message into dev: device attributes
 * when present (continuation messages carry none), new peers appended, and
 * a peer that repeats the last one's public key (its allowed IPs did not
 * fit in the previous message) merged into it. Private and preshared keys
 * are length-checked and skipped. Unknown attributes are ignored.
 * Returns 0, -EBADMSG for a malformed message, -ENOMEM. Like the family
 * parser, it trusts nlmsg_len: the message's datagram has passed
 * netlink_check_datagram(), as netlink_talk() makes sure. */
int wgkernel_parse_device(const struct nlmsghdr *nlh, uint16_t family,
                          struct wireguard_device *dev);

/* Dumps the device named dev->name into dev, redoing an interrupted dump
 * up to WGKERNEL_DUMP_TRIES times (dev->interrupted_dumps counts them).
 * Returns 0 or a negative errno (-ENODEV when the interface went away,
 * -EPERM without CAP_NET_ADMIN, -EINTR when every dump was interrupted:
 * no peer of any of them is kept). */
int wgkernel_read_device(uint16_t family, struct wireguard_device *dev, unsigned timeout_ms);

/* The same over another transport with netlink_talk()'s contract (the
 * tests replay recorded replies through it). */
typedef netlink_talk_fn wgkernel_talk_fn;
int wgkernel_read_device_with(wgkernel_talk_fn talk, uint16_t family, struct wireguard_device *dev,
                              unsigned timeout_ms);

#endif
