/* The configuration file, as config_load() hands its text to the parser
 * (a file holding a NUL is refused before parsing). */
#include "monitor/config.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errors = {0};
	struct config *cfg = malloc(sizeof(*cfg));
	char *text;

	if (!cfg || memchr(data, '\0', size)) {
		free(cfg);
		return 0;
	}
	text = fuzz_string(data, size);
	if (config_load_string(text, "fuzz.conf", cfg, &errors) == 0) {
		FILE *out = fopen("/dev/null", "w");

		/* What was accepted prints back (`sparkmon config`). */
		if (out) {
			config_print(cfg, out);
			fclose(out);
		}
	}
	config_errors_free(&errors);
	free(text);
	free(cfg);
	return 0;
}
