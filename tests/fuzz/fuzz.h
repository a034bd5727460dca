/* What the libFuzzer harnesses share. Each harness (fuzz_<name>.c) hands
 * the input to the function the product calls on the same bytes; its
 * corpus lives in tests/fuzz/corpus/<name>/. */
#ifndef SPARKMON_FUZZ_H
#define SPARKMON_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string, for parsers that the product hands a string
 * (they see the text up to its first NUL). Exactly sized on the heap, so
 * that AddressSanitizer sees a read past its end. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
