/* `nft -j list ruleset` output. */
#include "probes/nftjson.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwrules_tables ts;
	char err[256];

	if (nftjson_parse((const char *)data, size, &ts, err, sizeof(err)) == 0)
		fwrules_tables_free(&ts);
	return 0;
}
