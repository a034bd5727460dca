/* The gpu.* and memory.* checks of the verdict, each status, on built
 * snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
#include "tests/unit/verdict_eval.h"

#define DRIVER_HINT                                                                                \
	"after a driver upgrade a reboot loads the new kernel module; look for NVRM and Xid "      \
	"lines: dmesg | grep -i -e nvrm -e xid"
#define TEMP_HINT                                                                                  \
	"check cooling and load: nvidia-smi -q -d TEMPERATURE,PERFORMANCE (clocks slow down "      \
	"near the slowdown temperature)"
#define MEMORY_HINT                                                                                \
	"find what holds memory: ps -eo pid,rss,comm --sort=-rss | head; GPU jobs share it on "    \
	"unified-memory machines (nvidia-smi)"

/* n GPUs at the given temperatures (below 0: no reading). */
static struct snapshot *gpu_snapshot(struct config *cfg, unsigned n, const double *temps)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	config_defaults(cfg);
	strcpy(cfg->gpu_nvidia_smi, "/usr/bin/nvidia-smi");
	s->probes[PROBE_GPU].status = PROBE_OK;
	s->gpu.taken_at = 1700000000;
	s->gpu.count = n;
	s->gpu.total = n;
	for (unsigned i = 0; i < n; i++) {
		struct gpu_device *d = &s->gpu.devices[i];

		d->index = i;
		strcpy(d->name, "NVIDIA H100 80GB HBM3");
		strcpy(d->driver_version, "550.54.15");
		d->has_temperature = temps[i] >= 0;
		d->temperature_c = temps[i];
	}
	return s;
}

static void test_available_ok(void **state)
{
	static const double temps[] = {40, 41};
	struct config cfg;
	struct snapshot *s = gpu_snapshot(&cfg, 2, temps);

	(void)state;
	verdict_is(&cfg, s, "gpu.available", CHECK_OK,
	           "2 GPUs: NVIDIA H100 80GB HBM3, driver 550.54.15", "");
	s->gpu.count = s->gpu.total = 1;
	s->gpu.unified_memory = true;
	strcpy(s->gpu.devices[0].name, "NVIDIA GB10");
	verdict_is(&cfg, s, "gpu.available", CHECK_OK,
	           "1 GPU: NVIDIA GB10, driver 550.54.15, unified memory", "");
	s->gpu.devices[0].name[0] = '\0';
	s->gpu.devices[0].driver_version[0] = '\0';
	s->gpu.unified_memory = false;
	verdict_is(&cfg, s, "gpu.available", CHECK_OK, "1 GPU: (no name), driver unknown", "");
	free(s);
}

static void test_available_no_gpu(void **state)
{
	struct config cfg;
	struct snapshot *s = gpu_snapshot(&cfg, 0, NULL);

	(void)state;
	verdict_is(&cfg, s, "gpu.available", CHECK_WARNING,
	           "nvidia-smi answers but reports no GPU (none is expected: [gpu] expected = no)",
	           "run /usr/bin/nvidia-smi by hand; " DRIVER_HINT);
	cfg.gpu_expected = true;
	verdict_is(&cfg, s, "gpu.available", CHECK_CRITICAL,
	           "nvidia-smi answers but reports no GPU",
	           "run /usr/bin/nvidia-smi by hand; " DRIVER_HINT);
	/* No GPU: no temperature to judge. */
	verdict_absent(&cfg, s, "gpu.temperature");
	free(s);
}

static void test_available_unparsed(void **state)
{
	static const double temps[] = {40, 41};
	struct config cfg;
	struct snapshot *s = gpu_snapshot(&cfg, 2, temps);

	(void)state;
	s->gpu.total = 3;
	s->gpu.unparsed_lines = 1;
	strcpy(s->gpu.first_unparsed, "2, GPU-2d80, [Unknown Error]");
	verdict_is(
	    &cfg, s, "gpu.available", CHECK_WARNING,
	    "3 GPUs read, 1 line not: 2, GPU-2d80, [Unknown Error]",
	    "run /usr/bin/nvidia-smi by hand and look for the GPU it leaves out; " DRIVER_HINT);
	s->gpu.unparsed_lines = 2;
	verdict_is(
	    &cfg, s, "gpu.available", CHECK_WARNING,
	    "3 GPUs read, 2 lines not: 2, GPU-2d80, [Unknown Error]",
	    "run /usr/bin/nvidia-smi by hand and look for the GPU it leaves out; " DRIVER_HINT);
	free(s);
}

/* The probe gave no data: what that means depends on [gpu] expected. */
static void test_available_no_data(void **state)
{
	struct config cfg;
	struct snapshot *s = gpu_snapshot(&cfg, 0, NULL);

	(void)state;
	s->probes[PROBE_GPU].status = PROBE_SKIPPED;
	strcpy(s->probes[PROBE_GPU].error, "/usr/bin/nvidia-smi not found");
	verdict_absent(&cfg, s, "gpu.available");
	cfg.gpu_expected = true;
	verdict_is(&cfg, s, "gpu.available", CHECK_CRITICAL,
	           "/usr/bin/nvidia-smi not found, but a GPU is expected ([gpu] expected = yes)",
	           "install the NVIDIA driver and its utilities (nvidia-smi), or set [gpu] "
	           "nvidia_smi to where nvidia-smi is");

	s->probes[PROBE_GPU].status = PROBE_FAILED;
	strcpy(s->probes[PROBE_GPU].error,
	       "Failed to initialize NVML: Unknown Error (exit code 255)");
	verdict_is(&cfg, s, "gpu.available", CHECK_CRITICAL,
	           "nvidia-smi failed: Failed to initialize NVML: Unknown Error (exit code 255)",
	           "nvidia-smi said: Failed to initialize NVML: Unknown Error (exit code 255); run "
	           "/usr/bin/nvidia-smi by hand; " DRIVER_HINT);
	cfg.gpu_expected = false;
	verdict_is(&cfg, s, "gpu.available", CHECK_UNKNOWN,
	           "nvidia-smi failed: Failed to initialize NVML: Unknown Error (exit code 255)",
	           "nvidia-smi said: Failed to initialize NVML: Unknown Error (exit code 255); run "
	           "/usr/bin/nvidia-smi by hand; " DRIVER_HINT);
	s->probes[PROBE_GPU].status = PROBE_TIMED_OUT;
	strcpy(s->probes[PROBE_GPU].error, "timed out after 10.0 s");
	verdict_is(&cfg, s, "gpu.available", CHECK_UNKNOWN,
	           "nvidia-smi timed out: timed out after 10.0 s",
	           "nvidia-smi said: timed out after 10.0 s; run /usr/bin/nvidia-smi by hand; "
	           "" DRIVER_HINT);
	/* The temperature is the probe's generic UNKNOWN. */
	verdict_is(&cfg, s, "gpu.temperature", CHECK_UNKNOWN,
	           "gpu probe timed out: timed out after 10.0 s", "run nvidia-smi by hand");
	free(s);
}

static void test_temperature_ok(void **state)
{
	static const double temps[] = {34, 61, 50};
	struct config cfg;
	struct snapshot *s = gpu_snapshot(&cfg, 1, temps);

	(void)state;
	verdict_is(&cfg, s, "gpu.temperature", CHECK_OK,
	           "GPU 0 at 34 C (WARNING at 85 C, CRITICAL at 95 C)", "");
	free(s);
	s = gpu_snapshot(&cfg, 3, temps);
	verdict_is(&cfg, s, "gpu.temperature", CHECK_OK,
	           "hottest of 3 GPUs: GPU 1 at 61 C (WARNING at 85 C, CRITICAL at 95 C)", "");
	/* One GPU gives no reading: judged on the others, and said. */
	s->gpu.devices[0].has_temperature = false;
	s->gpu.devices[2].has_temperature = false;
	verdict_is(&cfg, s, "gpu.temperature", CHECK_OK,
	           "hottest of 3 GPUs: GPU 1 at 61 C (WARNING at 85 C, CRITICAL at 95 C); no "
	           "reading from GPU 0, 2",
	           "");
	free(s);
}

/* At a threshold counts; every hot GPU is named, the hottest status wins. */
static void test_temperature_hot(void **state)
{
	static const double temps[] = {85, 84.4, 95, 90};
	struct config cfg;
	struct snapshot *s = gpu_snapshot(&cfg, 4, temps);

	(void)state;
	s->gpu.count = s->gpu.total = 2;
	verdict_is(&cfg, s, "gpu.temperature", CHECK_WARNING,
	           "GPU 0 at 85 C (WARNING at 85 C, CRITICAL at 95 C)", TEMP_HINT);
	s->gpu.count = s->gpu.total = 4;
	verdict_is(&cfg, s, "gpu.temperature", CHECK_CRITICAL,
	           "GPU 0 at 85 C, GPU 2 at 95 C, GPU 3 at 90 C (WARNING at 85 C, CRITICAL at 95 "
	           "C)",
	           TEMP_HINT);
	/* The thresholds come from the config. */
	cfg.gpu_temperature_warning = 60;
	cfg.gpu_temperature_critical = 86;
	verdict_is(&cfg, s, "gpu.temperature", CHECK_CRITICAL,
	           "GPU 0 at 85 C, GPU 1 at 84 C, GPU 2 at 95 C, GPU 3 at 90 C (WARNING at 60 C, "
	           "CRITICAL at 86 C)",
	           TEMP_HINT);
	free(s);
}

static void test_temperature_no_reading(void **state)
{
	static const double temps[] = {-1, -1};
	struct config cfg;
	struct snapshot *s = gpu_snapshot(&cfg, 2, temps);

	(void)state;
	verdict_is(&cfg, s, "gpu.temperature", CHECK_UNKNOWN, "no GPU reports its temperature",
	           "nvidia-smi -q -d TEMPERATURE");
	free(s);
}

/* ---- memory.available ----------------------------------------------------- */

static void memory_is(const struct config *cfg, uint64_t total, uint64_t available,
                      enum check_status status, const char *summary)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->probes[PROBE_MEMORY].status = PROBE_OK;
	s->memory.total = total;
	s->memory.available = available;
	s->memory.used = total - available;
	verdict_is(cfg, s, "memory.available", status, summary,
	           status == CHECK_OK ? "" : MEMORY_HINT);
	free(s);
}

static void test_memory_statuses(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	memory_is(&cfg, 128ull << 30, 96ull << 30, CHECK_OK,
	          "96.0 GiB available of 128.0 GiB (75.0%)");
	memory_is(&cfg, 128ull << 30, 12ull << 30, CHECK_WARNING,
	          "12.0 GiB available of 128.0 GiB (9.4%)");
	memory_is(&cfg, 128ull << 30, 1ull << 30, CHECK_CRITICAL,
	          "1.0 GiB available of 128.0 GiB (0.8%)");
	memory_is(&cfg, 0, 0, CHECK_OK, "0 B available of 0 B (0.0%)");
	/* Thresholds from the config, in hundredths of a percent. */
	cfg.memory_warning_bp = 8000;
	cfg.memory_critical_bp = 7600;
	memory_is(&cfg, 128ull << 30, 96ull << 30, CHECK_CRITICAL,
	          "96.0 GiB available of 128.0 GiB (75.0%)");
	cfg.memory_critical_bp = 7500;
	memory_is(&cfg, 128ull << 30, 96ull << 30, CHECK_WARNING,
	          "96.0 GiB available of 128.0 GiB (75.0%)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_available_ok),           cmocka_unit_test(test_available_no_gpu),
	    cmocka_unit_test(test_available_unparsed),     cmocka_unit_test(test_available_no_data),
	    cmocka_unit_test(test_temperature_ok),         cmocka_unit_test(test_temperature_hot),
	    cmocka_unit_test(test_temperature_no_reading), cmocka_unit_test(test_memory_statuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
