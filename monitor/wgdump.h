/* `sparkmon wireguard`: what the WireGuard probe read, in the layout of
 * `wg show all dump`, so that the two can be compared line by line. The
 * private and preshared key columns say "(hidden)": sparkmon never has
 * those keys. */
#ifndef SPARKMON_WGDUMP_H
#define SPARKMON_WGDUMP_H

#include <stdio.h>

#include "probes/wireguard.h"

/* One tab-separated line per interface:
 *   name (hidden) public-key listen-port fwmark
 * then one per peer:
 *   name public-key (hidden) endpoint allowed-ips latest-handshake
 *   rx-bytes tx-bytes persistent-keepalive
 * with wg's spellings: "(none)" for no key, endpoint or allowed IPs,
 * "off" for a zero fwmark or keepalive. Interfaces that could not be read
 * are left out and reported on `err`; returns how many were. */
size_t wgdump_print(const struct wireguard *wg, FILE *out, FILE *err);

#endif
