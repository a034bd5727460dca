/* NAT-PMP (RFC 6886) with libnatpmp: the gateway's external address, the
 * one question of the protocol that changes nothing on the router. PCP
 * servers (RFC 6887) answer it too: version 0 is part of PCP. */
#ifndef SPARKMON_ROUTERPMP_H
#define SPARKMON_ROUTERPMP_H

#include <stddef.h>

#include "probes/router.h"

/* Asks gateway (network order) for its external address until an answer
 * or deadline_ms (CLOCK_MONOTONIC, see routerhttp_now_ms), resending as
 * RFC 6886 says (250 ms, then doubling). Fills r->natpmp, r->natpmp_ip and
 * r->natpmp_error; an answer that is not 12 bytes, of another version or
 * opcode, or with a result code is refused. */
void routerpmp_ask(struct in_addr gateway, long long deadline_ms, struct router *r);

#endif
