/* nvidia-smi's CSV: the same bytes as the GPU query's answer and as the
 * process query's, the latter against GPUs of a known answer (their uuids
 * map processes to GPU indexes). */
#include "probes/gpu.h"
#include "tests/fuzz/fuzz.h"

static const char devices_csv[] =
    "0, GPU-11111111-2222-3333-4444-555555555555, NVIDIA GB10, 45, 30, 12, [N/A], [N/A], "
    "11.20, [N/A], P0, 580.95.05\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gpu known;
	static int have_known = -1;
	struct gpu *gpu = malloc(sizeof(*gpu));
	struct gpu_processes *procs = malloc(sizeof(*procs));
	char err[256];

	if (!gpu || !procs)
		abort();
	if (have_known < 0)
		have_known =
		    gpu_parse(devices_csv, sizeof(devices_csv) - 1, &known, err, sizeof(err)) == 0;
	gpu_parse((const char *)data, size, gpu, err, sizeof(err));
	gpu_parse_processes((const char *)data, size, have_known ? &known : NULL, procs, err,
	                    sizeof(err));
	free(gpu);
	free(procs);
	return 0;
}
