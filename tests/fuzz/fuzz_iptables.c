/* iptables-save output, and the ruleset questions the probe asks of it. */
#include "probes/firewall.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct firewall_ruleset rs;
	char err[256];

	if (firewall_parse((const char *)data, size, &rs, err, sizeof(err)) == 0)
		firewall_ruleset_free(&rs);
	return 0;
}
