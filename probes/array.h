/* Growing heap arrays, shared by the probes that collect a list of unknown
 * length (links, addresses, peers, allowed IPs). */
#ifndef SPARKMON_ARRAY_H
#define SPARKMON_ARRAY_H

#include <stddef.h>

/* Makes room in *array for one more element of `size` bytes when it holds
 * `count` of `*cap`: doubles the capacity (starting at `first`). Returns 0,
 * or -ENOMEM with *array and *cap unchanged. New room is not zeroed: every
 * caller writes a whole element as it adds one. */
int array_grow(void **array, size_t *cap, size_t count, size_t size, size_t first);

#endif
