/* rtnetlink dumps (links, addresses, routes), replayed as the reply to
 * each of the probes' requests (tests/unit/recorded.h): datagrams laid
 * end to end, run by netlink_replay() as netlink_talk() runs what the
 * socket receives. */
#include <sys/socket.h>

#include "probes/netlink.h"
#include "probes/rtnl.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/recorded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtnl_links links = {.items = NULL};
	struct rtnl_addrs addrs = {.items = NULL};
	struct rtnl_route route;

	recorded = data;
	recorded_len = size;
	if (rtnl_dump_links_with(recorded_talk, &links, 100) == 0) {
		for (size_t i = 0; i < links.count; i++)
			rtnl_operstate_name(links.items[i].operstate);
		rtnl_links_find(&links, "wg0");
		rtnl_links_free(&links);
	}
	if (rtnl_dump_addrs_with(recorded_talk, AF_UNSPEC, 0, &addrs, 100) == 0)
		rtnl_addrs_free(&addrs);
	rtnl_dump_default_route_with(recorded_talk, AF_INET, &route, 100);
	rtnl_dump_default_route_with(recorded_talk, AF_INET6, &route, 100);
	return 0;
}
