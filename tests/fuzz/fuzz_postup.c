/* One PostUp command of a wg-quick file: the rule it adds (with %i
 * replaced), whether it is only iptables, and the substitution itself. */
#include "probes/postup.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct postup_expectation e;
	char *command = fuzz_string(data, size), buf[POSTUP_TEXT_MAX];

	postup_parse_command(command, "wg0", &e);
	postup_only_iptables(command);
	postup_substitute_iface(command, "wg-dgx-spark", buf, sizeof(buf));
	free(command);
	return 0;
}
