#include "probes/scrub.h"

#include <string.h>

__attribute__((noinline)) void scrub_stack(size_t bytes)
{
	unsigned char area[bytes];

	explicit_bzero(area, bytes);
	/* Keeps the array, and its wipe, in this frame. */
	__asm__ __volatile__("" : : "r"(area) : "memory");
}
