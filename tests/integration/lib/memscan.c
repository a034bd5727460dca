/* Looks for keys in live processes' memory, where no Python runs (the
 * kernel test's VM); tests/integration/lib/secretscan.py does the same on
 * the host. A hit is any 8-byte window of a key's 32 bytes, raw, as hex
 * (either case), or as 11 characters of its base64 at each of the three
 * byte alignments. Every readable mapping of /proc/PID/maps is read through
 * /proc/PID/mem.
 *   memscan KEYFILE... -- PID...
 * Each KEYFILE holds one base64 key. Prints each hit and the bytes read;
 * exits 1 when there is a hit, 2 on a usage or read error. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW   8
#define B64_RUN  11
#define PATS_MAX 4096
#define CHUNK    (1 << 20)

struct pattern {
	unsigned char bytes[2 * 32 + 1];
	size_t len;
	const char *key;
};

static struct pattern pats[PATS_MAX];
static size_t n_pats;
static unsigned char first2[65536 / 8]; /* the patterns' first two bytes */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void add(const unsigned char *p, size_t len, const char *key)
{
	unsigned v = (unsigned)p[0] << 8 | p[1];

	if (n_pats == PATS_MAX)
		exit(2);
	memcpy(pats[n_pats].bytes, p, len);
	pats[n_pats].len = len;
	pats[n_pats++].key = key;
	first2[v / 8] |= (unsigned char)(1u << (v % 8));
}

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
		             (i + 2 < n ? in[i + 2] : 0);
		size_t chars = n - i >= 3 ? 4 : n - i + 1;

		for (size_t k = 0; k < chars; k++)
			out[o++] = b64[(v >> (18 - 6 * k)) & 63];
	}
	return o;
}

static int b64_decode(const char *s, unsigned char *out)
{
	uint32_t acc = 0;
	int bits = 0, n = 0;

	for (; *s && *s != '=' && *s != '\n'; s++) {
		const char *p = strchr(b64, *s);

		if (!p || n >= 32 + 2)
			return -1;
		acc = acc << 6 | (uint32_t)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static void add_key(const char *path)
{
	char text[128], enc[64], hex[3];
	unsigned char key[40];
	FILE *f = fopen(path, "r");

	if (!f || !fgets(text, sizeof(text), f) || b64_decode(text, key) != 32) {
		fprintf(stderr, "memscan: %s: not a base64 32-byte key\n", path);
		exit(2);
	}
	fclose(f);
	for (size_t i = 0; i + WINDOW <= 32; i++) {
		unsigned char lo[2 * WINDOW], up[2 * WINDOW];

		add(key + i, WINDOW, path);
		for (size_t k = 0; k < WINDOW; k++) {
			snprintf(hex, sizeof(hex), "%02x", key[i + k]);
			memcpy(lo + 2 * k, hex, 2);
			snprintf(hex, sizeof(hex), "%02X", key[i + k]);
			memcpy(up + 2 * k, hex, 2);
		}
		add(lo, sizeof(lo), path);
		add(up, sizeof(up), path);
	}
	for (size_t shift = 0; shift < 3; shift++) {
		/* The last character of an encoding can hold padding bits. */
		size_t n = b64_encode(key + shift, 32 - shift, enc) - 1;

		for (size_t i = 0; i + B64_RUN <= n; i++)
			add((const unsigned char *)enc + i, B64_RUN, path);
	}
}

static const struct pattern *match(const unsigned char *p, size_t left)
{
	unsigned v = (unsigned)p[0] << 8 | p[1];

	if (!(first2[v / 8] & (1u << (v % 8))))
		return NULL;
	for (size_t i = 0; i < n_pats; i++)
		if (pats[i].len <= left && memcmp(p, pats[i].bytes, pats[i].len) == 0)
			return &pats[i];
	return NULL;
}

/* Scans one mapping; returns the number of hits. */
static int scan_range(FILE *mem, const char *pid, uint64_t start, uint64_t end, const char *what,
                      unsigned char *buf, uint64_t *scanned)
{
	int hits = 0;

	for (uint64_t at = start; at < end; at += CHUNK - 2 * 32) {
		size_t want = end - at < CHUNK ? (size_t)(end - at) : CHUNK, got;

		if (fseeko(mem, (off_t)at, SEEK_SET) != 0)
			return hits;
		got = fread(buf, 1, want, mem);
		*scanned += got;
		for (size_t i = 0; i + 1 < got; i++) {
			const struct pattern *m = match(buf + i, got - i);

			if (m) {
				printf("pid %s %s: at 0x%" PRIx64 ": a window of %s\n", pid, what,
				       at + i, m->key);
				hits++;
				break;
			}
		}
		if (got < want || want < CHUNK)
			break;
	}
	return hits;
}

static int scan_pid(const char *pid, unsigned char *buf, uint64_t *scanned)
{
	char path[64], line[512];
	FILE *maps, *mem;
	int hits = 0;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	mem = fopen(path, "rb");
	if (!maps || !mem) {
		fprintf(stderr, "memscan: cannot read process %s\n", pid);
		exit(2);
	}
	setvbuf(mem, NULL, _IONBF, 0);
	while (fgets(line, sizeof(line), maps)) {
		uint64_t start, end;
		char perms[8], name[256] = "[anon]";

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s %255s", &start, &end,
		           perms, name) < 3)
			continue;
		if (perms[0] != 'r' || strcmp(name, "[vvar]") == 0 ||
		    strcmp(name, "[vsyscall]") == 0 || strcmp(name, "[vvar_vclock]") == 0)
			continue;
		hits += scan_range(mem, pid, start, end, name, buf, scanned);
	}
	fclose(maps);
	fclose(mem);
	return hits;
}

int main(int argc, char **argv)
{
	unsigned char *buf = malloc(CHUNK);
	uint64_t scanned = 0;
	int i = 1, hits = 0;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++)
		add_key(argv[i]);
	if (!buf || i >= argc - 1 || n_pats == 0) {
		fprintf(stderr, "usage: memscan KEYFILE... -- PID...\n");
		return 2;
	}
	for (i++; i < argc; i++)
		hits += scan_pid(argv[i], buf, &scanned);
	printf("scanned %" PRIu64 " bytes\n", scanned);
	return hits ? 1 : 0;
}
