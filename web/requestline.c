#include "web/requestline.h"

#include <stdbool.h>
#include <string.h>

/* RFC 9110, section 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A control byte or a space: what no request-target holds (bytes above
 * 0x7e are left to the library, which decides on them). */
static bool ends_target(unsigned char c)
{
	return c <= ' ' || c == 0x7f;
}

enum requestline_verdict requestline_classify(const char *buf, size_t len)
{
	static const char version[] = "HTTP/";
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	size_t n;

	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	/* method SP */
	for (n = 0; p < end && is_tchar(*p); p++)
		n++;
	if (p == end)
		return REQUESTLINE_MORE;
	if (n == 0 || *p++ != ' ')
		return REQUESTLINE_BAD;
	/* request-target SP */
	for (n = 0; p < end && !ends_target(*p); p++)
		n++;
	if (p == end)
		return REQUESTLINE_MORE;
	if (n == 0 || *p++ != ' ')
		return REQUESTLINE_BAD;
	/* HTTP-version begins */
	for (n = 0; n < sizeof(version) - 1; n++, p++) {
		if (p == end)
			return REQUESTLINE_MORE;
		if (*p != (unsigned char)version[n])
			return REQUESTLINE_BAD;
	}
	return REQUESTLINE_PLAUSIBLE;
}
