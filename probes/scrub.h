/* Zeroing the stack below the caller: what a function called before left
 * there (copies of a key in nettle's frames, a wg-quick line in a parser's
 * buffers) is gone once it returns and this runs. */
#ifndef SPARKMON_SCRUB_H
#define SPARKMON_SCRUB_H

#include <stddef.h>

/* Zeroes `bytes` of stack below the caller's frame. Not inlined, so that its
 * frame lies where the frames of the functions called before did. */
void scrub_stack(size_t bytes);

#endif
