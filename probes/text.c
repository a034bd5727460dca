#include "probes/text.h"

#include <string.h>

char *text_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* RFC 3629, section 4: the second byte's range depends on the first (this
 * rules out overlongs, surrogates and code points above U+10FFFF); every
 * other continuation byte is 0x80..0xbf. */
size_t text_utf8_char(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (n == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		len = 2;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		len = 3;
		if (u[0] == 0xe0)
			lo = 0xa0; /* below: overlong */
		else if (u[0] == 0xed)
			hi = 0x9f; /* above: surrogates */
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		len = 4;
		if (u[0] == 0xf0)
			lo = 0x90; /* below: overlong */
		else if (u[0] == 0xf4)
			hi = 0x8f; /* above: beyond U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
	return len;
}

bool text_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = text_utf8_char(s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* A C0 control, DEL, or a C1 control (U+0080..U+009F: 0xc2 0x80..0x9f). */
static bool is_control(const unsigned char *u, size_t n)
{
	return u[0] < 0x20 || u[0] == 0x7f || (n == 2 && u[0] == 0xc2 && u[1] <= 0x9f);
}

/* Sanitizes src[0..len) into dst, writing at most size - 1 bytes and a NUL;
 * dst may be src (the output never outgrows the input). Returns the number
 * of replacements. */
static size_t sanitize(char *dst, size_t size, const char *src, size_t len)
{
	size_t r = 0, w = 0, replaced = 0;

	while (r < len && src[r]) {
		size_t n = text_utf8_char(src + r, len - r);

		if (n == 0 || is_control((const unsigned char *)src + r, n)) {
			if (w + 1 >= size)
				break;
			dst[w++] = '?';
			r += n ? n : 1;
			replaced++;
			continue;
		}
		if (w + n >= size)
			break;
		memmove(dst + w, src + r, n);
		w += n;
		r += n;
	}
	dst[w] = '\0';
	return replaced;
}

size_t text_sanitize_utf8(char *s)
{
	size_t len = strlen(s);

	return sanitize(s, len + 1, s, len);
}

void text_copy_utf8(char *dst, size_t size, const char *src, size_t len)
{
	sanitize(dst, size, src, len);
}
