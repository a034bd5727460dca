/* /proc/meminfo. */
#include "probes/meminfo.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct meminfo m;
	char err[256];

	meminfo_parse((const char *)data, size, &m, err, sizeof(err));
	return 0;
}
