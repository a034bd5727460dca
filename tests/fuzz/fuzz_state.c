/* The remembered state file (<state_dir>/public-ip). */
#include "probes/endpoint.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ip[INET_ADDRSTRLEN];
	time_t since;

	endpoint_parse_state((const char *)data, size, ip, &since);
	return 0;
}
