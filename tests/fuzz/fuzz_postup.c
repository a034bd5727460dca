/* One PostUp command of a wg-quick file, with %i replaced. */
#include "probes/firewall.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct firewall_expectation e;
	char *command = fuzz_string(data, size);

	firewall_parse_command(command, "wg0", &e);
	free(command);
	return 0;
}
