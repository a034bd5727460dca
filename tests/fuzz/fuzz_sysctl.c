/* /proc/sys/net/ipv4/ip_forward and a sysctl.d(5) file: the same bytes to
 * both parsers of the forwarding probe. */
#include <stdbool.h>

#include "probes/forwarding.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool on;
	int value, line;

	forwarding_parse_runtime((const char *)data, size, &on);
	forwarding_scan_sysctl((const char *)data, size, &value, &line);
	return 0;
}
