/* The kernel's WireGuard dump (generic netlink), replayed as the reply to
 * the probe's request (tests/unit/recorded.h): one or more datagrams laid end to end, run by
 * netlink_replay() as netlink_talk() runs what the socket receives. The
 * same bytes also go to the family lookup's reply parser. */
#include <errno.h>

#include "probes/netlink.h"
#include "probes/wgkernel.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/recorded.h"

/* What tests/unit/wgmsg.h builds messages with. */
#define FAMILY 0x1f

/* The family id the kernel gave WireGuard: the first message's type in a
 * reply captured from a kernel (tests/fuzz/capture-seeds.sh), FAMILY when
 * that is a control message (an error, the end) or there is none. */
static uint16_t family_of(const uint8_t *data, size_t size)
{
	struct nlmsghdr nlh;

	if (size < sizeof(nlh))
		return FAMILY;
	memcpy(&nlh, data, sizeof(nlh));
	return nlh.nlmsg_type >= NLMSG_MIN_TYPE ? nlh.nlmsg_type : FAMILY;
}

static int on_family(const struct nlmsghdr *nlh, void *data)
{
	if (wgkernel_parse_family(nlh, data) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wireguard_device dev = {.name = "wg0"};
	uint16_t id;

	recorded = data;
	recorded_len = size;
	wgkernel_read_device_with(recorded_talk, family_of(data, size), &dev, 100);
	wireguard_device_free(&dev);
	netlink_replay(data, size, on_family, &id);
	return 0;
}
