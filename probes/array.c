#include "probes/array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int array_grow(void **array, size_t *cap, size_t count, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *n;

	if (count < *cap)
		return 0;
	if (ncap < *cap || ncap > SIZE_MAX / size)
		return -ENOMEM;
	n = realloc(*array, ncap * size);
	if (!n)
		return -ENOMEM;
	*array = n;
	*cap = ncap;
	return 0;
}
