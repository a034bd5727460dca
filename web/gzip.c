/* gzip for the published outputs.
 *
 * Why libdeflate and not zlib: the outputs are whole buffers, compressed
 * once per round, which is what libdeflate is made for (no streaming
 * state). tests/bench/gzip.c on the 1000-peer /metrics text (639 KB):
 * level 6 takes 2.7 ms of CPU with libdeflate against 6.7 ms with zlib, for
 * 182.4 KB against 183.2 KB; on /status.json (308 KB) 1.3 ms against
 * 2.4 ms, for the same size. Level 6: level 1 saves 0.7 ms for 1% more
 * bytes, level 9 costs four times as much for 0.4% fewer. */
#include "web/gzip.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GZIP_LEVEL 6

/* The pieces, contiguous: PIECES[0] itself when there is one, else a copy
 * in *ret_copy (the caller frees it). */
static const void *gather(const struct iovec *pieces, size_t n, size_t total, void **ret_copy)
{
	unsigned char *copy, *at;

	*ret_copy = NULL;
	if (n == 1)
		return pieces[0].iov_base;
	copy = malloc(total ? total : 1);
	if (!copy)
		return NULL;
	at = copy;
	for (size_t i = 0; i < n; i++) {
		memcpy(at, pieces[i].iov_base, pieces[i].iov_len);
		at += pieces[i].iov_len;
	}
	*ret_copy = copy;
	return copy;
}

int gzip_compress(const struct iovec *pieces, size_t n, void **ret_buf, size_t *ret_len)
{
	struct libdeflate_compressor *c = NULL;
	size_t total = 0, bound, len = 0;
	const void *in;
	void *copy = NULL, *out = NULL, *fit;
	int r = -ENOMEM;

	for (size_t i = 0; i < n; i++) {
		if (pieces[i].iov_len > SIZE_MAX - total)
			return -EINVAL;
		total += pieces[i].iov_len;
	}
	in = n ? gather(pieces, n, total, &copy) : "";
	if (!in)
		goto out;
	c = libdeflate_alloc_compressor(GZIP_LEVEL);
	if (!c)
		goto out;
	/* The worst case; above the malloc mmap threshold, the pages not
	 * written are never resident, and the buffer is cut to size after. */
	bound = libdeflate_gzip_compress_bound(c, total);
	out = malloc(bound);
	if (!out)
		goto out;
	len = libdeflate_gzip_compress(c, in, total, out, bound);
	if (len == 0)
		goto out;
	fit = realloc(out, len);
	*ret_buf = fit ? fit : out;
	*ret_len = len;
	out = NULL;
	r = 0;
out:
	free(out);
	libdeflate_free_compressor(c);
	free(copy);
	return r;
}

/* The quality of one list element's parameters (";q=0.5"): 1 without one,
 * -1 when it cannot be read (the element is then ignored). */
static double element_quality(const char *params, size_t len)
{
	const char *q = NULL;
	char buf[8];
	char *end;
	double v;
	size_t n;

	for (size_t i = 0; i + 1 < len; i++) {
		if (params[i] == ';') {
			size_t j = i + 1;

			while (j < len && (params[j] == ' ' || params[j] == '\t'))
				j++;
			if (j + 1 < len && (params[j] == 'q' || params[j] == 'Q') &&
			    params[j + 1] == '=') {
				q = params + j + 2;
				break;
			}
		}
	}
	if (!q)
		return 1;
	n = (size_t)(params + len - q);
	while (n && (q[n - 1] == ' ' || q[n - 1] == '\t'))
		n--;
	/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
	if (n == 0 || n >= sizeof(buf) || (q[0] != '0' && q[0] != '1'))
		return -1;
	memcpy(buf, q, n);
	buf[n] = '\0';
	v = strtod(buf, &end);
	if (*end != '\0' || v < 0 || v > 1)
		return -1;
	return v;
}

bool gzip_accepted(const char *accept_encoding)
{
	double gzip = -1, any = -1;
	const char *p = accept_encoding;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p), name;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		name = strcspn(p, ";, \t");
		if (name > len)
			name = len;
		if ((name == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (name == 6 && strncasecmp(p, "x-gzip", 6) == 0))
			gzip = element_quality(p + name, len - name);
		else if (name == 1 && *p == '*')
			any = element_quality(p + name, len - name);
		p = end ? end + 1 : NULL;
	}
	return gzip >= 0 ? gzip > 0 : any > 0;
}
