/* What an SSH server sends before its identification line and the line
 * itself, as sshbanner_fetch() hands it to the parser after each read:
 * every prefix of the input is parsed in turn. */
#include <errno.h>

#include "probes/sshbanner.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshbanner b;
	char err[256];
	char *buf;

	if (size > SSHBANNER_READ_MAX)
		size = SSHBANNER_READ_MAX;
	/* Exactly sized: a read past the bytes received is caught. */
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	for (size_t n = 0; n <= size; n += 1 + n / 8)
		if (sshbanner_parse(buf, n, &b, err, sizeof(err)) != -EAGAIN)
			break;
	free(buf);
	return 0;
}
