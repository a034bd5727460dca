/* The first bytes of a connection, as the acceptor peeks at them while
 * they arrive: every prefix is judged in turn, and a verdict once given
 * never changes with more bytes. */
#include "tests/fuzz/fuzz.h"
#include "web/requestline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum requestline_verdict first = REQUESTLINE_MORE;
	char *buf;

	/* Exactly sized: a read past the bytes peeked is caught. */
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	for (size_t n = 0; n <= size; n++) {
		enum requestline_verdict v = requestline_classify(buf, n);

		if (first == REQUESTLINE_MORE)
			first = v;
		else if (v != first)
			abort();
	}
	free(buf);
	return 0;
}
