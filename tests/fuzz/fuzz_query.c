/* The query of /api/history (?series=NAME,NAME,..., as libmicrohttpd
 * hands it over, decoded) against a history fed with points at times the
 * input picks, near 1970 included: a board without a real-time clock. The
 * input is 5-byte records (flags, then a 32-bit time in seconds) up to a
 * '?' or its end; what follows the '?' is the query. */
#include "monitor/history.h"
#include "tests/fuzz/fuzz.h"

static void feed(struct history *h, const uint8_t *rec)
{
	static const char *const names[] = {"status", "memory.used_bytes", "gpu.0.temperature",
	                                    "wg.wg0.x.rx_bytes_per_second"};
	uint32_t secs =
	    (uint32_t)rec[1] << 24 | (uint32_t)rec[2] << 16 | (uint32_t)rec[3] << 8 | rec[4];
	/* Half the records near 1970 (within the retention), half today. */
	double t = (rec[0] & 0x04) ? 1.7e9 + secs : (double)(secs & 0x3ffff);
	const char *name = names[rec[0] & 0x03];

	if (rec[0] & 0x80)
		history_add_counter(h, name, NULL, t, (double)(rec[0] >> 3) * 1000.0);
	else
		history_add(h, name, NULL, t, (double)(rec[0] >> 3));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A day at 5 s: a coarse ring of wider steps and a fine one. */
	struct history *h = history_new(86400000, 5000, 64 * 1024, 6);
	size_t at = 0, len = 0;
	char *query, *doc;

	if (!h)
		abort();
	while (at + 5 <= size && data[at] != '?') {
		feed(h, data + at);
		at += 5;
	}
	query = at < size && data[at] == '?' ? fuzz_string(data + at + 1, size - at - 1) : NULL;
	doc = history_reply(h, query, 720, &len);
	free(doc);
	doc = history_reply(h, query, 7, &len);
	free(doc);
	free(query);
	history_free(h);
	return 0;
}
