/* A wg-quick configuration file. */
#include "probes/wgquick.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgquick_file file;
	char err[256];

	if (wgquick_parse((const char *)data, size, &file, err, sizeof(err)) == 0)
		wgquick_free(&file);
	return 0;
}
