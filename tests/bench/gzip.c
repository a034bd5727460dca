/* zlib against libdeflate on the bodies sparkmon compresses: for each file
 * and level, the gzip size and the CPU time of one whole-buffer
 * compression (the median of the runs, each with a fresh compressor, as
 * the daemon compresses once per round). "zlib-4k" is zlib as web/gzip.c
 * sets it up: a 4 KiB window and memLevel 7 (80 KiB of state).
 * Usage: gzip FILE [RUNS] */
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define MAX_IN (16u << 20)

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One gzip stream of IN with zlib; its size, or 0 on failure. */
static size_t zlib_gzip(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                        int level, int window, int mem_level)
{
	z_stream z;
	size_t n = 0;

	memset(&z, 0, sizeof(z));
	/* + 16: a gzip header and trailer around the deflate stream. */
	if (deflateInit2(&z, level, Z_DEFLATED, window + 16, mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) == Z_STREAM_END)
		n = z.total_out;
	deflateEnd(&z);
	return n;
}

static size_t libdeflate_gzip(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                              int level)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	size_t n;

	if (!c)
		return 0;
	n = libdeflate_gzip_compress(c, in, len, out, cap);
	libdeflate_free_compressor(c);
	return n;
}

int main(int argc, char **argv)
{
	static const int levels[] = {1, 6, 9};
	unsigned char *in = malloc(MAX_IN), *out = malloc(MAX_IN + 65536);
	int runs = argc > 2 ? atoi(argv[2]) : 21;
	double *t = malloc((size_t)(runs > 0 ? runs : 1) * sizeof(*t));
	size_t len;
	FILE *f;

	if (argc < 2 || runs < 1 || !in || !out || !t || !(f = fopen(argv[1], "rb")))
		return 2;
	len = fread(in, 1, MAX_IN, f);
	fclose(f);
	printf("%-10s %5s %10s %10s %8s %10s\n", "library", "level", "in_bytes", "gz_bytes",
	       "ratio", "cpu_ms");
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		static const char *const names[] = {"zlib", "zlib-4k", "libdeflate"};

		for (int lib = 0; lib < 3; lib++) {
			size_t n = 0;

			for (int i = 0; i < runs; i++) {
				double start = cpu_ms();

				n = lib == 2
				        ? libdeflate_gzip(in, len, out, MAX_IN + 65536, levels[l])
				    : lib == 1
				        ? zlib_gzip(in, len, out, MAX_IN + 65536, levels[l], 12, 7)
				        : zlib_gzip(in, len, out, MAX_IN + 65536, levels[l], 15, 8);
				t[i] = cpu_ms() - start;
			}
			if (!n)
				return 1;
			qsort(t, (size_t)runs, sizeof(*t), by_value);
			printf("%-10s %5d %10zu %10zu %8.3f %10.3f\n", names[lib], levels[l], len,
			       n, (double)n / (double)len, t[runs / 2]);
		}
	}
	free(in);
	free(out);
	free(t);
	return 0;
}
