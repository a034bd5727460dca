/* NETLINK_SOCK_DIAG dumps of listening sockets, replayed as the reply to
 * both of the probe's requests (IPv4, IPv6) as netlink_talk() runs what
 * the socket receives. */
#include <errno.h>

#include "probes/netlink.h"
#include "probes/sockdiag.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/recorded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockdiag_listener found[4];
	size_t count;

	recorded = data;
	recorded_len = size;
	sockdiag_dump_listeners_with(recorded_talk, 22, found, 4, &count, 100);
	sockdiag_dump_listeners_with(recorded_talk, 0, found, 4, &count, 100);
	return 0;
}
