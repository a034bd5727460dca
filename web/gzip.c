/* gzip for the published outputs.
 *
 * Why zlib and not libdeflate, measured with tests/bench/gzip.c on the
 * 1000-peer /metrics text (639 KB): libdeflate compresses it in 2.7 ms of
 * CPU at level 6 against zlib's 6.7 ms, to the same size (182 KB), but it
 * takes only whole buffers: the OpenMetrics body is pieces of the text
 * (web/prometheus.c), which it would need copied into one more 639 KB
 * buffer, and its compressor's state is 420 KB against zlib's 290 KB. The
 * daemon compresses once per round, so the few milliseconds do not count;
 * its memory budget does (README, Performance). zlib streams over the
 * pieces as they are. Level 6: level 1 saves 2 ms for 4% more bytes,
 * level 9 costs twice as much for 0.5% fewer. A 4 KiB window and memLevel
 * 7 make zlib's state 80 KiB instead of 256: the repeats in these texts
 * are near each other (label sets, a peer's lines), so /metrics grows by
 * 0.3% and /status.json by 1%, and both take a quarter less time (4.7 ms
 * and 1.7 ms). */
#include "web/gzip.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define GZIP_LEVEL     6
#define GZIP_WINDOW    12 /* 2^12 bytes */
#define GZIP_MEM_LEVEL 7
/* Added to windowBits: a gzip header and trailer around the deflate data. */
#define GZIP_WRAPPER 16

/* Feeds one piece (of at most UINT_MAX bytes, as zlib counts) to Z. */
static int feed(z_stream *z, const void *data, size_t len, int flush)
{
	z->next_in = (Bytef *)(uintptr_t)data;
	z->avail_in = (uInt)len;
	return deflate(z, flush);
}

int gzip_compress(const struct iovec *pieces, size_t n, void **ret_buf, size_t *ret_len)
{
	size_t total = 0, bound;
	void *out = NULL, *fit;
	z_stream z;
	int r = -ENOMEM, zr = Z_OK;

	for (size_t i = 0; i < n; i++) {
		if (pieces[i].iov_len > SIZE_MAX - total)
			return -EINVAL;
		total += pieces[i].iov_len;
	}
	if (total > UINT32_MAX / 2)
		return -EINVAL; /* never an output of ours */
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW + GZIP_WRAPPER, GZIP_MEM_LEVEL,
	                 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	/* The worst case; above the malloc mmap threshold, the pages not
	 * written are never resident, and the buffer is cut to size after. */
	bound = deflateBound(&z, (uLong)total);
	out = malloc(bound);
	if (!out)
		goto out;
	z.next_out = out;
	z.avail_out = (uInt)bound;
	/* An empty piece is skipped: deflate() answers Z_BUF_ERROR to one. */
	for (size_t i = 0; i < n && zr == Z_OK; i++)
		if (pieces[i].iov_len)
			zr = feed(&z, pieces[i].iov_base, pieces[i].iov_len, Z_NO_FLUSH);
	if (zr == Z_OK)
		zr = feed(&z, "", 0, Z_FINISH);
	if (zr != Z_STREAM_END)
		goto out;
	fit = realloc(out, z.total_out);
	*ret_buf = fit ? fit : out;
	*ret_len = z.total_out;
	out = NULL;
	r = 0;
out:
	free(out);
	deflateEnd(&z);
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
