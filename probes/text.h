/* Text helpers shared by the line parsers (sysctl.d files, wg-quick files)
 * and by every probe that keeps text it did not write. */
#ifndef SPARKMON_TEXT_H
#define SPARKMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Trims a NUL-terminated string in place: spaces and tabs at the start,
 * spaces, tabs and a CR (a file written on Windows) at the end. Returns a
 * pointer into s; the end is cut by writing NULs. */
char *text_trim(char *s);

/* The length (1 to 4) of the UTF-8 character that starts s, of which n
 * bytes may be read; 0 when the bytes there are not one: a stray
 * continuation byte, 0xc0, 0xc1 or 0xf5..0xff, an overlong form, a
 * surrogate (U+D800..U+DFFF), a code point above U+10FFFF, or a sequence
 * cut short. */
size_t text_utf8_char(const char *s, size_t n);

/* True when s[0..len) is valid UTF-8 in full (NUL bytes included). */
bool text_utf8_valid(const char *s, size_t len);

/* Makes a NUL-terminated string safe for every output, in place: each byte
 * that is not part of a valid UTF-8 character becomes '?', and so does each
 * control character (C0, DEL, and C1, whose two bytes give one '?'). The
 * string never grows. Returns how many replacements were made. */
size_t text_sanitize_utf8(char *s);

/* Copies at most len bytes of src (which need not be NUL-terminated) into
 * dst, sanitized as text_sanitize_utf8() does. When dst (size > 0 bytes)
 * is too small, the copy is cut between characters, never inside one. */
void text_copy_utf8(char *dst, size_t size, const char *src, size_t len);

#endif
