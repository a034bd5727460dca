#include "monitor/shquote.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Characters sh never treats specially inside a word (also not at its
 * start: '-' and '=' are plain to sh; '%', '@', ':', ',' too). */
static bool is_plain(const char *word)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                            "0123456789@%+=:,./_-";

	return *word && strspn(word, plain) == strlen(word);
}

int shquote_append_raw(char *buf, size_t size, const char *text)
{
	size_t n = strlen(buf), len = strlen(text);

	if (n + len + 1 > size)
		return -ENOSPC;
	memcpy(buf + n, text, len + 1);
	return 0;
}

int shquote_append(char *buf, size_t size, const char *word)
{
	size_t n = strlen(buf), need = 2;
	char *p;

	if (is_plain(word))
		return shquote_append_raw(buf, size, word);
	for (const char *s = word; *s; s++)
		need += *s == '\'' ? 4 : 1;
	if (n + need + 1 > size)
		return -ENOSPC;
	p = buf + n;
	*p++ = '\'';
	for (const char *s = word; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return 0;
}
