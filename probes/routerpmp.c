#include "probes/routerpmp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <natpmp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probes/routerhttp.h"

/* RFC 6886 3.1: the first resend after 250 ms, each wait twice the last. */
#define ROUTERPMP_FIRST_WAIT_MS 250

/* Reads one datagram whole: MSG_TRUNC gives its real length, so that one
 * larger than the buffer is told from a 12-byte one. Returns false when
 * nothing listens on the gateway's port (no use asking again). */
static bool take_answer(int fd, struct router *r)
{
	uint8_t buf[64];
	struct in_addr ip;
	uint16_t result = 0;
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	int e;

	if (n < 0) {
		/* A closed port on the gateway: ICMP unreachable, ECONNREFUSED. */
		if (errno == ECONNREFUSED)
			return false;
		if (errno != EAGAIN && errno != EINTR) {
			r->natpmp = ROUTER_REFUSED;
			snprintf(r->natpmp_error, sizeof(r->natpmp_error), "NAT-PMP: recv: %s",
			         strerror(errno));
		}
		return true;
	}
	e = (size_t)n > sizeof(buf) ? -EMSGSIZE
	                            : routermsg_natpmp_public(buf, (size_t)n, &ip, &result);
	if (e == 0) {
		r->natpmp = ROUTER_ANSWERED;
		inet_ntop(AF_INET, &ip, r->natpmp_ip, sizeof(r->natpmp_ip));
		r->natpmp_error[0] = '\0';
		return true;
	}
	r->natpmp = ROUTER_REFUSED;
	if (e == -EMSGSIZE)
		snprintf(r->natpmp_error, sizeof(r->natpmp_error),
		         "NAT-PMP: an answer of %zd bytes from %s, not %d: refused", n, r->gateway,
		         ROUTERMSG_NATPMP_ANSWER_SIZE);
	else if (e == -EREMOTEIO)
		snprintf(r->natpmp_error, sizeof(r->natpmp_error),
		         "NAT-PMP: %s answered with result code %u%s", r->gateway, result,
		         result == 3 ? " (network failure: it has no usable external address)"
		                     : "");
	else
		snprintf(r->natpmp_error, sizeof(r->natpmp_error),
		         "NAT-PMP: an answer from %s of version %u, opcode %u: refused", r->gateway,
		         buf[0], buf[1]);
	return true;
}

void routerpmp_ask(struct in_addr gateway, long long deadline_ms, struct router *r)
{
	natpmp_t pmp;
	long long next_send = 0, wait_ms = ROUTERPMP_FIRST_WAIT_MS;
	int e;

	r->natpmp = ROUTER_NO_ANSWER;
	e = initnatpmp(&pmp, 1, gateway.s_addr);
	if (e < 0) {
		r->natpmp = ROUTER_REFUSED;
		snprintf(r->natpmp_error, sizeof(r->natpmp_error),
		         "NAT-PMP: no socket (libnatpmp %d)", e);
		return;
	}
	for (;;) {
		long long now = routerhttp_now_ms(), until;
		struct pollfd p = {.fd = pmp.s, .events = POLLIN};
		int n;

		if (now >= deadline_ms)
			break;
		if (now >= next_send) {
			/* A send refused by an earlier ICMP error is retried later. */
			(void)sendpublicaddressrequest(&pmp);
			next_send = now + wait_ms;
			wait_ms *= 2;
		}
		until = next_send < deadline_ms ? next_send : deadline_ms;
		n = poll(&p, 1, (int)(until - now));
		if (n > 0 && !take_answer(pmp.s, r))
			break;
		if (r->natpmp != ROUTER_NO_ANSWER)
			break;
	}
	closenatpmp(&pmp);
}
