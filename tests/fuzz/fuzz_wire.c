/* The collector's messages as the web process of `sparkmon serve` reads
 * them (monitor/serve.c): frames cut from a byte stream by their headers,
 * each applied to one snapshot that keeps what the earlier ones left. */
#include "monitor/probetab.h"
#include "monitor/wire.h"
#include "tests/fuzz/fuzz.h"

/* A configuration is handed on as the web process reloads it: the text
 * must lie within the frame, and is read to its end. */
static void read_config(const char *frame, size_t n)
{
	int read_result;
	const char *text;
	size_t len;
	volatile char sum = 0;

	wire_config_of(frame, &read_result, &text, &len);
	if (text < frame || len > n || (size_t)(text - frame) != n - len)
		abort();
	if (read_result < 0 && len)
		abort();
	for (size_t i = 0; i < len; i++)
		sum = (char)(sum ^ text[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));
	size_t used = 0;

	if (!snap)
		abort();
	while (used < size) {
		int64_t n = wire_frame_size(data + used, size - used);
		struct wire_heartbeat hb;
		enum wire_type type;
		char err[256], *frame;

		if (n <= 0 || (uint64_t)n > size - used)
			break;
		/* Exactly sized, as the web process's buffer holds no more. */
		frame = malloc((size_t)n);
		if (!frame)
			abort();
		memcpy(frame, data + used, (size_t)n);
		if (wire_apply(frame, (size_t)n, snap, &hb, &type, err, sizeof(err)) == 0 &&
		    type == WIRE_CONFIG)
			read_config(frame, (size_t)n);
		free(frame);
		used += (size_t)n;
	}
	probetab_release_all(snap);
	free(snap);
	return 0;
}
