/* The first line of an HTTP request (RFC 9112, section 3), judged from its
 * first bytes before the HTTP library reads them: whether it can be a
 * request line at all. Only what no request line can hold is refused;
 * every finer judgement (version, URL length, headers) stays the
 * library's. */
#ifndef SPARKMON_REQUESTLINE_H
#define SPARKMON_REQUESTLINE_H

#include <stddef.h>

enum requestline_verdict {
	REQUESTLINE_MORE,      /* no verdict yet: more bytes may decide */
	REQUESTLINE_PLAUSIBLE, /* "method SP target SP HTTP/": the library's */
	REQUESTLINE_BAD,       /* never a request line: answer 400 */
};

/* Judges buf[0..len) (not NUL-terminated), the first bytes a client sent.
 * Empty lines (CR, LF) before the request line are skipped. BAD: a byte
 * that is not a token character in the method, a control byte in the
 * target, a line that ends before its second space, or anything but
 * "HTTP/" after it. */
enum requestline_verdict requestline_classify(const char *buf, size_t len);

#endif
