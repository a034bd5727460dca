/* One sshd_config file (Port, ListenAddress, Include, Match), its Include
 * patterns handed to a callback that reads nothing. */
#include "probes/sshdconf.h"
#include "tests/fuzz/fuzz.h"

static int no_include(const char *pattern, unsigned depth, void *ctx)
{
	(void)ctx;
	return strlen(pattern) > 0 && depth < SSHDCONF_DEPTH_MAX ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshdconf c = {.port = 0};
	char err[256];
	char *buf = malloc(size ? size : 1);

	if (!buf)
		abort();
	memcpy(buf, data, size);
	sshdconf_parse(buf, size, "/etc/ssh/sshd_config", 0, &c, no_include, NULL, err,
	               sizeof(err));
	free(buf);
	return 0;
}
