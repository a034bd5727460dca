/* Shell quoting for the commands that hints and fixes print: every piece
 * of outside text (an interface name, a rule's text) becomes one word that
 * sh reads back as it was, with nothing expanded. */
#ifndef SPARKMON_SHQUOTE_H
#define SPARKMON_SHQUOTE_H

#include <stddef.h>

/* Appends word to the NUL-terminated buf (of size bytes) as one shell word:
 * as it is when it holds only characters sh takes literally, else in
 * single quotes (a ' inside becomes '\''); "" for the empty word. Returns
 * 0, or -ENOSPC with buf unchanged when it does not fit. */
int shquote_append(char *buf, size_t size, const char *word);

/* Appends text as it is (the caller's own words, never outside text).
 * Returns 0, or -ENOSPC with buf unchanged. */
int shquote_append_raw(char *buf, size_t size, const char *text);

#endif
