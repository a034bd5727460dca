/* iptables-save and ip6tables-save output: the same bytes as each. */
#include "probes/iptsave.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwrules_ruleset rs;
	char err[256];

	for (int family = 4; family <= 6; family += 2)
		if (iptsave_parse((const char *)data, size, family, &rs, err, sizeof(err)) == 0)
			fwrules_ruleset_free(&rs);
	return 0;
}
