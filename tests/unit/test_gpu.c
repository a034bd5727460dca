#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/probetab.h"
#include "monitor/verdict.h"
#include "probes/gpu.h"
#include "probes/readfile.h"
#include "probes/text.h"
#include "probes/runner.h"
#include "tests/unit/children.h"
#include "tests/unit/deadline.h"
#include "tests/unit/find_check.h"
#include "web/json.h"
#include "web/prometheus.h"

#define FIXTURES "tests/fixtures/gpu/"
#define MIB      ((uint64_t)1 << 20)

/* ---- helpers ------------------------------------------------------------- */

/* The contents of tests/fixtures/gpu/<name>, NUL-terminated; the caller's
 * to free. */
static char *read_fixture(const char *name, size_t *len)
{
	char path[256], *buf = NULL;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	assert_int_equal(readfile_read(path, 1 << 20, &buf, len), 0);
	return buf;
}

static int parse_file(const char *name, struct gpu *ret, char *err, size_t errlen)
{
	size_t len;
	char *buf = read_fixture(name, &len);
	int r = gpu_parse(buf, len, ret, err, errlen);

	free(buf);
	return r;
}

static int parse_apps_file(const char *name, const struct gpu *devices, struct gpu_processes *ret)
{
	char err[256] = "";
	size_t len;
	char *buf = read_fixture(name, &len);
	int r = gpu_parse_processes(buf, len, devices, ret, err, sizeof(err));

	free(buf);
	return r;
}

static int parse_str(const char *text, struct gpu *ret)
{
	char err[256];

	return gpu_parse(text, strlen(text), ret, err, sizeof(err));
}

/* A fake nvidia-smi from tests/fixtures/gpu/bin, by absolute path (the
 * runner refuses relative ones); unit tests run from the project root. */
static void use_fake(struct config *cfg, const char *name)
{
	char cwd[128];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(cfg->gpu_nvidia_smi, sizeof(cfg->gpu_nvidia_smi), "%s/" FIXTURES "bin/%s", cwd,
	         name);
}

static struct snapshot *run_fake(struct config *cfg, const char *name)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));

	assert_non_null(snap);
	use_fake(cfg, name);
	probetab_run(PROBE_GPU, cfg, snap);
	return snap;
}

static void evaluate_gpu(const struct config *cfg, const struct snapshot *snap, struct verdict *v)
{
	char list[] = "gpu";
	struct check_filter filter;
	char bad[32];

	assert_int_equal(verdict_parse_filter(list, &filter, bad, sizeof(bad)), 0);
	verdict_evaluate(cfg, snap, &filter, v);
}

/* ---- --query-gpu parsing ------------------------------------------------- */

static void test_h100(void **state)
{
	struct gpu g;
	const struct gpu_device *d = &g.devices[0];
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("h100.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(g.count, 1);
	assert_int_equal(g.total, 1);
	assert_int_equal(g.unparsed_lines, 0);
	assert_false(g.unified_memory);
	assert_int_equal(g.taken_at, 0);
	assert_int_equal(d->index, 0);
	assert_string_equal(d->uuid, "GPU-5a1c9e3b-7f2d-4e8a-9c61-0b3d2f4e8a17");
	assert_string_equal(d->name, "NVIDIA H100 80GB HBM3");
	assert_string_equal(d->driver_version, "550.54.15");
	assert_string_equal(d->pstate, "P0");
	assert_true(d->has_temperature);
	assert_true(d->temperature_c == 34);
	assert_true(d->has_utilization_gpu && d->utilization_gpu_pct == 27);
	assert_true(d->has_utilization_memory && d->utilization_memory_pct == 3);
	assert_true(d->has_memory_total);
	assert_int_equal(d->memory_total_bytes, 81559 * MIB);
	assert_true(d->has_memory_used);
	assert_int_equal(d->memory_used_bytes, 61440 * MIB);
	assert_true(d->has_power_draw && d->power_draw_w > 312.449 && d->power_draw_w < 312.451);
	assert_true(d->has_power_limit && d->power_limit_w == 700);
	assert_true(d->has_clock_sm && d->clock_sm_mhz == 1980);
	assert_false(d->unified_memory);
	assert_int_equal(d->invalid_fields, 0);
}

static void test_eight(void **state)
{
	struct gpu g;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("eight.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(g.count, 8);
	assert_int_equal(g.total, 8);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(g.devices[i].index, i);
		assert_string_equal(g.devices[i].name, "NVIDIA A100-SXM4-80GB");
		assert_true(g.devices[i].has_temperature);
		assert_int_equal(g.devices[i].invalid_fields, 0);
	}
	assert_string_equal(g.devices[7].uuid, "GPU-72d58e7b-a3cc-41f5-9a8c-8e9dafb0c1d7");
	assert_int_equal(gpu_hottest(&g)->index, 5);
	assert_true(gpu_hottest(&g)->temperature_c == 88);
	assert_true(g.devices[4].has_memory_used);
	assert_int_equal(g.devices[4].memory_used_bytes, 4 * MIB);
}

/* DGX Spark: the GB10 has no memory of its own, nvidia-smi says [N/A]. */
static void test_gb10_unified_memory(void **state)
{
	struct gpu g;
	const struct gpu_device *d = &g.devices[0];
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("gb10.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(g.count, 1);
	assert_true(g.unified_memory);
	assert_true(d->unified_memory);
	assert_string_equal(d->name, "NVIDIA GB10");
	assert_false(d->has_memory_total);
	assert_false(d->has_memory_used);
	assert_false(d->has_utilization_memory);
	assert_false(d->has_power_limit);
	assert_true(d->has_power_draw && d->power_draw_w > 4.909 && d->power_draw_w < 4.911);
	assert_true(d->has_temperature && d->temperature_c == 41);
	assert_string_equal(d->pstate, "P8");
	/* Absent markers are not invalid values. */
	assert_int_equal(d->invalid_fields, 0);
}

static void test_mixed_absent_markers(void **state)
{
	struct gpu g;
	const struct gpu_device *a = &g.devices[0], *b = &g.devices[1];
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("mixed.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(g.count, 2);
	/* [N/A], [Not Supported], [Insufficient Permissions], [Unknown Error],
	 * empty and N/A: each absent on its own, the rest kept. */
	assert_false(a->has_temperature);
	assert_false(a->has_utilization_gpu);
	assert_false(a->has_utilization_memory);
	assert_true(a->has_memory_total);
	assert_int_equal(a->memory_total_bytes, 15360 * MIB);
	assert_false(a->has_memory_used);
	assert_false(a->has_power_draw);
	assert_true(a->has_power_limit && a->power_limit_w == 70);
	assert_false(a->has_clock_sm);
	assert_string_equal(a->pstate, "");
	assert_false(a->unified_memory);
	assert_int_equal(a->invalid_fields, 0);
	/* Empty text fields; a memory total we may not read is not unified. */
	assert_int_equal(b->index, 1);
	assert_string_equal(b->uuid, "");
	assert_string_equal(b->name, "");
	assert_string_equal(b->driver_version, "");
	assert_true(b->has_temperature && b->temperature_c == 52);
	assert_false(b->has_memory_total);
	assert_true(b->has_memory_used);
	assert_false(b->unified_memory);
	assert_false(g.unified_memory);
	assert_false(b->has_power_draw);
	assert_false(b->has_power_limit);
	assert_string_equal(b->pstate, "P2");
}

/* "45,30" is refused, not read as 45 or 4530, and the line's other fields
 * keep their places. */
static void test_localized_decimals_rejected(void **state)
{
	struct gpu g;
	const struct gpu_device *d = &g.devices[0];
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("localized.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(g.count, 1);
	assert_int_equal(g.unparsed_lines, 0);
	assert_false(d->has_power_draw);
	assert_false(d->has_power_limit);
	assert_int_equal(d->invalid_fields, 2);
	assert_true(d->has_temperature && d->temperature_c == 45);
	assert_true(d->has_utilization_gpu && d->utilization_gpu_pct == 30);
	assert_true(d->has_clock_sm && d->clock_sm_mhz == 1755);
	assert_string_equal(d->pstate, "P0");
}

static void test_extra_spaces_and_crlf(void **state)
{
	struct gpu g;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("spaces.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(g.count, 2);
	assert_int_equal(g.unparsed_lines, 0);
	assert_string_equal(g.devices[0].uuid, "GPU-5a1c9e3b-7f2d-4e8a-9c61-0b3d2f4e8a17");
	assert_string_equal(g.devices[0].name, "NVIDIA H100 80GB HBM3");
	assert_true(g.devices[0].temperature_c == 34);
	assert_true(g.devices[0].utilization_gpu_pct == 27);
	assert_true(g.devices[0].power_draw_w > 312.449 && g.devices[0].power_draw_w < 312.451);
	assert_string_equal(g.devices[0].pstate, "P0");
	assert_int_equal(g.devices[0].invalid_fields, 0);
	assert_int_equal(g.devices[1].index, 1);
	assert_string_equal(g.devices[1].pstate, "P0");
}

static void test_truncated_line(void **state)
{
	struct gpu g;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("truncated.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(g.count, 2);
	assert_int_equal(g.unparsed_lines, 1);
	assert_string_equal(g.first_unparsed,
	                    "2, GPU-2d803f2c-5e77-4ca0-8b3d-3f4e5a6b7c82, NVIDIA A100-SXM4-80GB, "
	                    "535.1");
}

/* On error nothing is written. */
static void test_garbage(void **state)
{
	struct gpu g, before;
	char err[256] = "";

	(void)state;
	memset(&g, 0xa5, sizeof(g));
	before = g;
	assert_int_equal(parse_file("garbage.txt", &g, err, sizeof(err)), -EINVAL);
	assert_memory_equal(&g, &before, sizeof(g));
	assert_string_equal(err, "<html><head><title>502 Bad Gateway</title></head>");
}

static void test_driver_messages(void **state)
{
	struct gpu g;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("no-driver.txt", &g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "NVIDIA-SMI has failed because it couldn't communicate with the "
	                         "NVIDIA driver. Make sure that the latest NVIDIA driver is "
	                         "installed and running.");
	assert_int_equal(parse_file("version-mismatch.txt", &g, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "Failed to initialize NVML: Driver/library version mismatch");
}

static void test_no_devices_and_empty(void **state)
{
	struct gpu g;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("no-devices.txt", &g, err, sizeof(err)), 0);
	assert_int_equal(g.total, 0);
	assert_int_equal(g.count, 0);
	assert_int_equal(gpu_parse("", 0, &g, err, sizeof(err)), 0);
	assert_int_equal(g.total, 0);
	assert_int_equal(parse_str("\n \r\n", &g), 0);
	assert_int_equal(g.total, 0);
	assert_null(gpu_hottest(&g));
}

#define LINE(idx, temp, util, power, pstate)                                                       \
	idx ", GPU-x" idx ", Card, 1.0, " temp ", " util ", 1, 100, 10, " power                    \
	    ", 300, 1000, " pstate "\n"

static void test_value_edges(void **state)
{
	struct gpu g;
	const struct gpu_device *d = g.devices;

	(void)state;
	assert_int_equal(
	    parse_str(LINE("0", "250", "101", "-5", "P16") LINE("1", "1e3", "5.", ".5", "p0") LINE(
	                  "2", "0", "100", "0.001", "P15") LINE("3", "12 C", "50%", "3.14.15", "P")
	                  LINE("4", "0x10", "7", "9999999999999999", "PP"),
	              &g),
	    0);
	assert_int_equal(g.count, 5);
	assert_false(d[0].has_temperature);
	assert_false(d[0].has_utilization_gpu);
	assert_false(d[0].has_power_draw);
	assert_string_equal(d[0].pstate, "");
	assert_int_equal(d[0].invalid_fields, 4);
	assert_false(d[1].has_temperature);
	assert_false(d[1].has_utilization_gpu);
	assert_false(d[1].has_power_draw);
	assert_int_equal(d[1].invalid_fields, 4);
	assert_true(d[2].has_temperature && d[2].temperature_c == 0);
	assert_true(d[2].has_utilization_gpu && d[2].utilization_gpu_pct == 100);
	assert_true(d[2].has_power_draw && d[2].power_draw_w > 0.0009 &&
	            d[2].power_draw_w < 0.0011);
	assert_string_equal(d[2].pstate, "P15");
	assert_int_equal(d[2].invalid_fields, 0);
	assert_int_equal(d[3].invalid_fields, 4);
	assert_int_equal(d[4].invalid_fields, 3);
	assert_true(d[4].has_utilization_gpu && d[4].utilization_gpu_pct == 7);
}

static void test_bad_lines(void **state)
{
	struct gpu g;

	(void)state;
	/* A duplicate index, a bad index, too many fields, a control
	 * character in a name (kept, made harmless). */
	assert_int_equal(parse_str("0, GPU-a, A, 1, 40, 1, 1, 100, 10, 50, 300, 1000, P0\n"
	                           "0, GPU-b, B, 1, 40, 1, 1, 100, 10, 50, 300, 1000, P0\n"
	                           "x, GPU-c, C, 1, 40, 1, 1, 100, 10, 50, 300, 1000, P0\n"
	                           "-1, GPU-d, D, 1, 40, 1, 1, 100, 10, 50, 300, 1000, P0\n"
	                           "2, GPU-e, E, 1, 40, 1, 1, 100, 10, 50, 300, 1000, P0, extra\n"
	                           "3, GPU-f, F\033[31m, 1, 40, 1, 1, 100, 10, 50, 300, 1000, P0\n",
	                           &g),
	                 0);
	assert_int_equal(g.count, 2);
	assert_int_equal(g.unparsed_lines, 4);
	assert_string_equal(g.devices[0].uuid, "GPU-a");
	assert_string_equal(g.first_unparsed,
	                    "0, GPU-b, B, 1, 40, 1, 1, 100, 10, 50, 300, 1000, P0");
	assert_string_equal(g.devices[1].name, "F?[31m");
}

static void test_more_gpus_than_kept(void **state)
{
	char buf[8192] = "";
	struct gpu g;

	(void)state;
	for (int i = 0; i < GPU_MAX + 4; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		         "%d, GPU-%d, Card, 1.0, %d, 1, 1, 100, 10, 50, 300, 1000, P0\n", i, i,
		         30 + i);
	assert_int_equal(parse_str(buf, &g), 0);
	assert_int_equal(g.count, GPU_MAX);
	assert_int_equal(g.total, GPU_MAX + 4);
	assert_int_equal(g.devices[GPU_MAX - 1].index, GPU_MAX - 1);
}

/* ---- --query-compute-apps parsing ---------------------------------------- */

static void test_processes_h100(void **state)
{
	struct gpu g;
	struct gpu_processes p;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("h100.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(parse_apps_file("h100-apps.csv", &g, &p), 0);
	assert_int_equal(p.total, 2);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.top[0].pid, 41234);
	assert_string_equal(p.top[0].name, "/usr/bin/python3");
	assert_int_equal(p.top[0].gpu_index, 0);
	assert_true(p.top[0].has_used_memory);
	assert_int_equal(p.top[0].used_memory_bytes, 40960 * MIB);
	assert_int_equal(p.top[1].pid, 51022);
	/* Without the device list the GPU stays unknown. */
	assert_int_equal(parse_apps_file("h100-apps.csv", NULL, &p), 0);
	assert_int_equal(p.top[0].gpu_index, -1);
}

static void test_processes_top_n(void **state)
{
	static const unsigned expected[GPU_PROCESSES_MAX] = {3105, 3101, 3102, 3103, 3104,
	                                                     3106, 3107, 4205, 4204, 4201};
	struct gpu g;
	struct gpu_processes p;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("eight.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(parse_apps_file("eight-apps.csv", &g, &p), 0);
	assert_int_equal(p.total, 12);
	assert_int_equal(p.count, GPU_PROCESSES_MAX);
	assert_int_equal(p.unparsed_lines, 0);
	for (unsigned i = 0; i < GPU_PROCESSES_MAX; i++)
		assert_int_equal(p.top[i].pid, expected[i]);
	/* A name with ", " in it stays whole. */
	assert_string_equal(p.top[0].name, "/home/ana/runs/exp 7, final/train");
	assert_int_equal(p.top[0].gpu_index, 5);
	assert_int_equal(p.top[0].used_memory_bytes, 80000 * MIB);
}

static void test_processes_unified(void **state)
{
	struct gpu g;
	struct gpu_processes p;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_file("gb10.csv", &g, err, sizeof(err)), 0);
	assert_int_equal(parse_apps_file("gb10-apps.csv", &g, &p), 0);
	assert_int_equal(p.count, 2);
	assert_false(p.top[0].has_used_memory);
	assert_false(p.top[1].has_used_memory);
	/* Without figures, nvidia-smi's order is kept. */
	assert_int_equal(p.top[0].pid, 2217);
	assert_int_equal(p.top[1].pid, 1984);
}

static void test_processes_bad(void **state)
{
	struct gpu_processes p, before;
	char err[256] = "";
	const char *garbage = "Failed to initialize NVML: Unknown Error\n";
	const char *mixed = "GPU-a, 0, bad pid, 10\nGPU-a, 12, ok, 1,5\nGPU-a, 13, fine, 7\n"
	                    "No running processes found\n";

	(void)state;
	memset(&p, 0x5a, sizeof(p));
	before = p;
	assert_int_equal(gpu_parse_processes(garbage, strlen(garbage), NULL, &p, err, sizeof(err)),
	                 -EINVAL);
	assert_memory_equal(&p, &before, sizeof(p));
	assert_string_equal(err, "Failed to initialize NVML: Unknown Error");
	assert_int_equal(gpu_parse_processes("", 0, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.total, 0);
	assert_int_equal(gpu_parse_processes(mixed, strlen(mixed), NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.total, 1);
	assert_int_equal(p.unparsed_lines, 2);
	assert_int_equal(p.top[0].pid, 13);
}

/* ---- fake nvidia-smi programs through the real runner -------------------- */

static void test_run_h100(void **state)
{
	struct config cfg;
	struct snapshot *snap;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-h100");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_OK);
	assert_string_equal(snap->probes[PROBE_GPU].error, "");
	assert_int_equal(snap->gpu.count, 1);
	assert_true(snap->gpu.taken_at > 0);
	assert_true(snap->gpu.processes_valid);
	assert_int_equal(snap->gpu.processes.total, 2);
	assert_int_equal(snap->gpu.processes.top[0].gpu_index, 0);
	free(snap);
}

/* A wedged driver: killed at the configured timeout, and the last good
 * reading is left in place for the daemon to serve as stale. */
static void test_run_hang_cut_at_timeout(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	double took, start, outside;

	(void)state;
	config_defaults(&cfg);
	cfg.gpu_timeout_ms = 1000;
	snap = run_fake(&cfg, "nvidia-smi-h100");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_OK);
	use_fake(&cfg, "nvidia-smi-hang");
	start = deadline_start(10);
	probetab_run(PROBE_GPU, &cfg, snap);
	outside = deadline_stop(start);
	took = snap->probes[PROBE_GPU].duration_seconds;
	print_message("hang: probe took %.3f s (%.3f s from outside) with a 1 s timeout\n", took,
	              outside);
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_TIMED_OUT);
	assert_true(took >= 0.99 && took < 1.5);
	assert_true(outside >= 0.99 && outside < 2.5);
	assert_non_null(strstr(snap->probes[PROBE_GPU].error, "timed out after 1."));
	assert_true(snap->gpu.taken_at > 0);
	assert_int_equal(snap->gpu.count, 1);
	assert_string_equal(snap->gpu.devices[0].name, "NVIDIA H100 80GB HBM3");
	free(snap);
}

/* nvidia-smi killed at its timeout but still there (a wedged driver keeps
 * it in the kernel): the next runs start no other one, and say since when
 * it hangs; once it is gone, the next run starts one again. */
static void test_run_wedged_not_started_again(void **state)
{
	struct config cfg;
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct verdict v;
	const struct check *c;
	double start, took;
	const char *e;
	int age;

	(void)state;
	assert_non_null(snap);
	config_defaults(&cfg);
	cfg.gpu_timeout_ms = 300;
	use_fake(&cfg, "nvidia-smi-wedged");
	start = deadline_start(20);
	probetab_run(PROBE_GPU, &cfg, snap);
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_TIMED_OUT);
	assert_non_null(strstr(snap->probes[PROBE_GPU].error, "timed out after "));
	assert_int_equal(count_children(), 1);
	assert_int_equal(runner_pending("nvidia-smi", NULL), 0);

	/* Again and again while it lives: at once, nothing new started. */
	for (int i = 0; i < 3; i++) {
		double t0 = deadline_now();

		probetab_run(PROBE_GPU, &cfg, snap);
		took = deadline_now() - t0;
		e = snap->probes[PROBE_GPU].error;
		assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_TIMED_OUT);
		assert_true(took < 0.25);
		/* Its age: 1.3 s at least (timeout, then the grace after SIGKILL). */
		if (sscanf(e, "nvidia-smi started %d s ago", &age) != 1 || age < 1 || age > 3 ||
		    !strstr(e, " s ago has not exited (killed, stuck in the kernel: a wedged "
		               "driver); not started again until it does"))
			fail_msg("error: %s", e);
		assert_int_equal(count_children(), 1);
	}
	evaluate_gpu(&cfg, snap, &v);
	c = find_check(&v, "gpu.available");
	assert_non_null(c);
	assert_int_equal(c->status, CHECK_UNKNOWN);
	assert_true(strncmp(c->summary, "nvidia-smi timed out: nvidia-smi started ", 41) == 0);
	assert_non_null(strstr(c->summary, " s ago has not exited"));

	/* Gone (after 2 s): reaped, and the next run starts it again. */
	while (runner_pending("nvidia-smi", NULL) == 0)
		usleep(50000);
	assert_int_equal(count_children(), 0);
	probetab_run(PROBE_GPU, &cfg, snap);
	assert_non_null(strstr(snap->probes[PROBE_GPU].error, "timed out after "));
	while (runner_pending("nvidia-smi", NULL) == 0)
		usleep(50000);
	deadline_stop(start);
	assert_int_equal(count_children(), 0);
	free(snap);
}

/* The process query gets what is left of the same timeout. */
static void test_run_apps_hang(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	double took, start, outside;

	(void)state;
	config_defaults(&cfg);
	cfg.gpu_timeout_ms = 1000;
	start = deadline_start(10);
	snap = run_fake(&cfg, "nvidia-smi-apps-hang");
	outside = deadline_stop(start);
	took = snap->probes[PROBE_GPU].duration_seconds;
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_OK);
	assert_true(took >= 0.9 && took < 1.5);
	assert_true(outside >= 0.9 && outside < 2.5);
	assert_int_equal(snap->gpu.count, 1);
	assert_false(snap->gpu.processes_valid);
	assert_non_null(strstr(snap->gpu.processes_error, "timed out"));
	free(snap);
}

static void test_run_flood(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	double start;

	(void)state;
	config_defaults(&cfg);
	start = deadline_start(20);
	snap = run_fake(&cfg, "nvidia-smi-flood");
	assert_true(deadline_stop(start) < 4);
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_FAILED);
	assert_non_null(strstr(snap->probes[PROBE_GPU].error, "output over"));
	assert_true(snap->probes[PROBE_GPU].duration_seconds < 4);
	assert_int_equal(snap->gpu.taken_at, 0);
	free(snap);
}

static void test_run_no_driver(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	struct verdict v;
	const struct check *c;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-no-driver");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_FAILED);
	assert_string_equal(snap->probes[PROBE_GPU].error,
	                    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA "
	                    "driver. Make sure that the latest NVIDIA driver is installed and "
	                    "running. (exit code 9)");
	/* Not expected: the driver is in trouble but we cannot tell more. */
	evaluate_gpu(&cfg, snap, &v);
	c = find_check(&v, "gpu.available");
	assert_non_null(c);
	assert_int_equal(c->status, CHECK_UNKNOWN);
	/* Expected: CRITICAL, the hint quotes the error and says what to run. */
	cfg.gpu_expected = true;
	evaluate_gpu(&cfg, snap, &v);
	c = find_check(&v, "gpu.available");
	assert_non_null(c);
	assert_int_equal(c->status, CHECK_CRITICAL);
	assert_non_null(strstr(c->hint, "NVIDIA-SMI has failed"));
	assert_non_null(strstr(c->hint, "nvidia-smi-no-driver by hand"));
	free(snap);
}

static void test_run_version_mismatch(void **state)
{
	struct config cfg;
	struct snapshot *snap;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-mismatch");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_FAILED);
	assert_string_equal(snap->probes[PROBE_GPU].error,
	                    "Failed to initialize NVML: Driver/library version mismatch (exit code "
	                    "18)");
	free(snap);
}

/* "No devices were found" with exit 6 is an answer: no GPU. */
static void test_run_no_devices(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	struct verdict v;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-no-devices");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_OK);
	assert_int_equal(snap->gpu.total, 0);
	evaluate_gpu(&cfg, snap, &v);
	assert_int_equal(v.count, 1);
	assert_int_equal(find_check(&v, "gpu.available")->status, CHECK_WARNING);
	assert_string_equal(find_check(&v, "gpu.available")->summary,
	                    "nvidia-smi answers but reports no GPU (none is expected: [gpu] "
	                    "expected = no)");
	free(snap);
}

/* No nvidia-smi: no GPU here, which is healthy unless one is expected. */
static void test_run_missing(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	struct verdict v;
	const struct check *c;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-not-installed");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_SKIPPED);
	assert_non_null(strstr(snap->probes[PROBE_GPU].error, "not found"));
	evaluate_gpu(&cfg, snap, &v);
	/* Only the GPU checks were asked for, and none applies: UNKNOWN, said. */
	assert_int_equal(v.count, 1);
	assert_string_equal(v.checks[0].id, "selection");
	assert_string_equal(v.checks[0].summary,
	                    "none of the selected checks applies here: gpu.available, "
	                    "gpu.temperature (each is absent: what it watches is not set up or "
	                    "not configured)");
	assert_string_equal(v.checks[0].hint,
	                    "run sparkmon check without --only to see the checks that apply here");
	assert_int_equal(v.overall, CHECK_UNKNOWN);
	cfg.gpu_expected = true;
	evaluate_gpu(&cfg, snap, &v);
	assert_int_equal(v.count, 1);
	c = find_check(&v, "gpu.available");
	assert_non_null(c);
	assert_int_equal(c->status, CHECK_CRITICAL);
	assert_non_null(strstr(c->summary, "not found"));
	assert_int_equal(v.overall, CHECK_CRITICAL);
	free(snap);
}

/* ---- checks --------------------------------------------------------------- */

static void test_checks_ok(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	struct verdict v;
	const struct check *c;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-h100");
	evaluate_gpu(&cfg, snap, &v);
	assert_int_equal(v.count, 2);
	c = find_check(&v, "gpu.available");
	assert_int_equal(c->status, CHECK_OK);
	assert_string_equal(c->summary, "1 GPU: NVIDIA H100 80GB HBM3, driver 550.54.15");
	c = find_check(&v, "gpu.temperature");
	assert_int_equal(c->status, CHECK_OK);
	assert_string_equal(c->summary, "GPU 0 at 34 C (WARNING at 85 C, CRITICAL at 95 C)");
	/* At the threshold counts. */
	cfg.gpu_temperature_warning = 30;
	cfg.gpu_temperature_critical = 34;
	evaluate_gpu(&cfg, snap, &v);
	assert_int_equal(find_check(&v, "gpu.temperature")->status, CHECK_CRITICAL);
	free(snap);
}

static void test_checks_eight_warm(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	struct verdict v;
	const struct check *c;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-eight");
	evaluate_gpu(&cfg, snap, &v);
	c = find_check(&v, "gpu.temperature");
	assert_int_equal(c->status, CHECK_WARNING);
	assert_string_equal(c->summary, "GPU 5 at 88 C (WARNING at 85 C, CRITICAL at 95 C)");
	assert_true(c->hint[0] != '\0');
	assert_int_equal(find_check(&v, "gpu.available")->status, CHECK_OK);
	assert_int_equal(v.overall, CHECK_WARNING);
	free(snap);
}

static void test_checks_partial_and_missing_readings(void **state)
{
	struct config cfg;
	struct snapshot snap;
	struct verdict v;
	const struct check *c;
	char err[256];

	(void)state;
	config_defaults(&cfg);
	memset(&snap, 0, sizeof(snap));
	snap.probes[PROBE_GPU].status = PROBE_OK;
	/* A truncated output: the GPUs read are judged, the loss is a WARNING. */
	assert_int_equal(parse_file("truncated.csv", &snap.gpu, err, sizeof(err)), 0);
	evaluate_gpu(&cfg, &snap, &v);
	c = find_check(&v, "gpu.available");
	assert_int_equal(c->status, CHECK_WARNING);
	assert_non_null(strstr(c->summary, "2 GPUs read, 1 line not: 2, GPU-2d80"));
	/* No temperature at all: UNKNOWN, never OK. */
	assert_int_equal(parse_file("mixed.csv", &snap.gpu, err, sizeof(err)), 0);
	snap.gpu.devices[1].has_temperature = false;
	evaluate_gpu(&cfg, &snap, &v);
	assert_int_equal(find_check(&v, "gpu.temperature")->status, CHECK_UNKNOWN);
	/* One reading missing: judged on the others, and said. */
	assert_int_equal(parse_file("mixed.csv", &snap.gpu, err, sizeof(err)), 0);
	evaluate_gpu(&cfg, &snap, &v);
	c = find_check(&v, "gpu.temperature");
	assert_int_equal(c->status, CHECK_OK);
	assert_non_null(strstr(c->summary, "no reading from GPU 0"));
	/* No GPU at all. */
	assert_int_equal(parse_file("no-devices.txt", &snap.gpu, err, sizeof(err)), 0);
	evaluate_gpu(&cfg, &snap, &v);
	assert_int_equal(v.count, 1);
	assert_int_equal(find_check(&v, "gpu.available")->status, CHECK_WARNING);
	cfg.gpu_expected = true;
	evaluate_gpu(&cfg, &snap, &v);
	assert_int_equal(find_check(&v, "gpu.available")->status, CHECK_CRITICAL);
}

/* The daemon keeps the last good reading when a run fails: JSON serves it
 * marked stale, with its age; metrics drop it. */
static void test_stale_reading(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	struct verdict v;
	struct json_object *doc, *gpu, *x;
	char *text;
	size_t len;
	double start;

	(void)state;
	config_defaults(&cfg);
	cfg.gpu_timeout_ms = 300;
	snap = run_fake(&cfg, "nvidia-smi-h100");
	use_fake(&cfg, "nvidia-smi-hang");
	start = deadline_start(10);
	probetab_run(PROBE_GPU, &cfg, snap);
	assert_true(deadline_stop(start) < 2);
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_TIMED_OUT);
	snap->generated_at = snap->gpu.taken_at + 42;
	evaluate_gpu(&cfg, snap, &v);
	doc = json_status_document(&cfg, snap, &v);
	assert_true(json_object_object_get_ex(doc, "gpu", &gpu));
	assert_non_null(gpu);
	assert_true(json_object_object_get_ex(gpu, "stale", &x));
	assert_true(json_object_get_boolean(x));
	assert_true(json_object_object_get_ex(gpu, "age_seconds", &x));
	assert_int_equal(json_object_get_int64(x), 42);
	assert_true(json_object_object_get_ex(gpu, "count", &x));
	assert_int_equal(json_object_get_int(x), 1);
	json_object_put(doc);
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_null(strstr(text, "nvidia_smi_temperature_gpu"));
	free(text);
	free(snap);
}

/* ---- metrics --------------------------------------------------------------- */

static void test_prometheus(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	struct verdict v;
	char *text;
	size_t len;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-h100");
	evaluate_gpu(&cfg, snap, &v);
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_non_null(strstr(text, "nvidia_smi_gpu_info{uuid=\"GPU-5a1c9e3b-7f2d-4e8a-9c61-"
	                             "0b3d2f4e8a17\",name=\"NVIDIA H100 80GB HBM3\","
	                             "driver_version=\"550.54.15\"} 1\n"));
	assert_non_null(strstr(text, "nvidia_smi_temperature_gpu{uuid=\"GPU-5a1c9e3b-7f2d-4e8a-"
	                             "9c61-0b3d2f4e8a17\"} 34\n"));
	assert_non_null(strstr(text, "nvidia_smi_utilization_gpu_ratio{uuid=\"GPU-5a1c9e3b-7f2d-"
	                             "4e8a-9c61-0b3d2f4e8a17\"} 0.27\n"));
	assert_non_null(strstr(text, "nvidia_smi_memory_total_bytes{uuid=\"GPU-5a1c9e3b-7f2d-"
	                             "4e8a-9c61-0b3d2f4e8a17\"} 85520809984\n"));
	assert_non_null(strstr(text, "nvidia_smi_power_draw_watts{uuid=\"GPU-5a1c9e3b-7f2d-4e8a-"
	                             "9c61-0b3d2f4e8a17\"} 312.45\n"));
	free(text);
	free(snap);

	/* GB10: no memory samples (nor headers), never a 0. */
	snap = run_fake(&cfg, "nvidia-smi-gb10");
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_non_null(strstr(text, "nvidia_smi_temperature_gpu{"));
	assert_null(strstr(text, "nvidia_smi_memory_used_bytes"));
	assert_null(strstr(text, "nvidia_smi_memory_total_bytes"));
	free(text);
	free(snap);

	/* Skipped: no GPU family at all. */
	snap = run_fake(&cfg, "nvidia-smi-not-installed");
	assert_int_equal(prometheus_render(&cfg, snap, &v, PROMETHEUS_TEXT, &text, &len), 0);
	assert_null(strstr(text, "nvidia_smi_"));
	free(text);
	free(snap);
}

/* ---- text that is not UTF-8 ------------------------------------------------ */

/* What the fixtures' names become: each byte that is not part of a UTF-8
 * character is one '?'; valid characters are kept. */
#define BAD_NAME     "NVIDIA ? H100 ?? X??"
#define BAD_PROCESS  "/opt/?evil????"
#define BAD_UUID     "GPU-?0e4c11-???"
#define BAD_DRIVER   "550????"
#define GOOD_NAME    "caf\xc3\xa9 \xe2\x82\xac GPU"
#define GOOD_PROCESS "/home/j\xc3\xbcrgen/train.py"

/* Parses text the way a strict reader does: json-c's tokener in strict
 * mode, refusing bytes that are not UTF-8. */
static struct json_object *parse_json_strict(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc;

	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	doc = json_tokener_parse_ex(tok, text, (int)strlen(text) + 1);
	if (!doc)
		fail_msg("not valid JSON: %s",
		         json_tokener_error_desc(json_tokener_get_error(tok)));
	json_tokener_free(tok);
	return doc;
}

static const char *json_path_string(struct json_object *doc, const char *area, const char *list,
                                    size_t i, const char *key)
{
	struct json_object *x;

	assert_true(json_object_object_get_ex(doc, area, &x));
	assert_true(json_object_object_get_ex(x, list, &x));
	x = json_object_array_get_idx(x, i);
	assert_non_null(x);
	assert_true(json_object_object_get_ex(x, key, &x));
	return json_object_get_string(x);
}

/* Renders JSON (plain and pretty) and both metrics formats, and checks that
 * each is valid: JSON that a strict parser reads, metrics that are UTF-8. */
static struct json_object *render_all(const struct config *cfg, const struct snapshot *snap,
                                      const struct verdict *v, char **metrics)
{
	struct json_object *doc;
	char *text;
	size_t len;

	text = json_status_string(cfg, snap, v, 1);
	assert_non_null(text);
	json_object_put(parse_json_strict(text));
	free(text);
	text = json_status_string(cfg, snap, v, 0);
	assert_non_null(text);
	doc = parse_json_strict(text);
	free(text);
	assert_int_equal(prometheus_render(cfg, snap, v, PROMETHEUS_OPENMETRICS, &text, &len), 0);
	assert_true(text_utf8_valid(text, len));
	free(text);
	assert_int_equal(prometheus_render(cfg, snap, v, PROMETHEUS_TEXT, metrics, &len), 0);
	assert_int_equal(strlen(*metrics), len);
	assert_true(text_utf8_valid(*metrics, len));
	return doc;
}

/* A process name is whatever a GPU user calls their program: bytes that
 * are not UTF-8 are kept out at the parser, whatever output follows. */
static void test_invalid_utf8_parsed(void **state)
{
	struct config cfg;
	struct snapshot *snap = calloc(1, sizeof(*snap));
	struct json_object *doc;
	struct verdict v;
	char err[256] = "", *metrics;

	(void)state;
	assert_non_null(snap);
	config_defaults(&cfg);
	assert_int_equal(parse_file("invalid-utf8.csv", &snap->gpu, err, sizeof(err)), 0);
	assert_int_equal(snap->gpu.count, 2);
	assert_string_equal(snap->gpu.devices[0].name, BAD_NAME);
	assert_string_equal(snap->gpu.devices[1].uuid, BAD_UUID);
	assert_string_equal(snap->gpu.devices[1].name, GOOD_NAME);
	assert_string_equal(snap->gpu.devices[1].driver_version, BAD_DRIVER);
	assert_int_equal(parse_apps_file("invalid-utf8-apps.csv", &snap->gpu, &snap->gpu.processes),
	                 0);
	assert_int_equal(snap->gpu.processes.count, 2);
	assert_string_equal(snap->gpu.processes.top[0].name, BAD_PROCESS);
	assert_string_equal(snap->gpu.processes.top[1].name, GOOD_PROCESS);
	snap->gpu.processes_valid = true;
	snap->gpu.taken_at = 1700000000;
	snap->generated_at = 1700000000;
	snap->probes[PROBE_GPU].status = PROBE_OK;
	evaluate_gpu(&cfg, snap, &v);

	doc = render_all(&cfg, snap, &v, &metrics);
	assert_string_equal(json_path_string(doc, "gpu", "gpus", 0, "name"), BAD_NAME);
	assert_string_equal(json_path_string(doc, "gpu", "gpus", 1, "name"), GOOD_NAME);
	assert_string_equal(json_path_string(doc, "gpu", "gpus", 1, "uuid"), BAD_UUID);
	assert_string_equal(json_path_string(doc, "gpu", "processes", 0, "name"), BAD_PROCESS);
	assert_string_equal(json_path_string(doc, "gpu", "processes", 1, "name"), GOOD_PROCESS);
	json_object_put(doc);
	assert_non_null(strstr(metrics, "name=\"" BAD_NAME "\""));
	assert_non_null(strstr(metrics, "name=\"" GOOD_NAME "\""));
	assert_non_null(strstr(metrics, "driver_version=\"" BAD_DRIVER "\""));
	free(metrics);
	free(snap);
}

/* The same through the real runner and a fake nvidia-smi, and a failing
 * one whose message quotes such bytes. */
static void test_invalid_utf8_run(void **state)
{
	struct config cfg;
	struct snapshot *snap;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-invalid-utf8");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_OK);
	assert_true(snap->gpu.processes_valid);
	assert_string_equal(snap->gpu.devices[0].name, BAD_NAME);
	assert_string_equal(snap->gpu.processes.top[0].name, BAD_PROCESS);
	free(snap);
	/* The error quotes nvidia-smi's first line, made valid. */
	snap = run_fake(&cfg, "nvidia-smi-invalid-utf8-error");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_FAILED);
	assert_string_equal(snap->probes[PROBE_GPU].error,
	                    "Failed to initialize NVML: ?? ?? error ?? (exit code 9)");
	free(snap);
}

/* Defence in depth: the renderers never write invalid UTF-8, even for
 * text a probe (or a cut in a summary) let through unchecked. Valid text
 * is written unchanged. */
static void test_invalid_utf8_renderers(void **state)
{
	struct config cfg;
	struct snapshot *snap;
	struct json_object *doc, *x;
	struct verdict v;
	char *metrics;

	(void)state;
	config_defaults(&cfg);
	snap = run_fake(&cfg, "nvidia-smi-h100");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_OK);
	strcpy(snap->gpu.devices[0].name, "raw\xff\xc0\xaf \xe2\x82");
	strcpy(snap->gpu.devices[0].driver_version, "\xed\xa0\x80\\\"");
	strcpy(snap->gpu.processes.top[0].name, "p\xf4\x90\x80\x80 \xc3\xa9");
	evaluate_gpu(&cfg, snap, &v);
	assert_true(v.count > 0);
	/* A summary cut inside "é". */
	strcpy(v.checks[0].summary, "cut \xc3");

	doc = render_all(&cfg, snap, &v, &metrics);
	assert_string_equal(json_path_string(doc, "gpu", "gpus", 0, "name"), "raw??? ??");
	assert_string_equal(json_path_string(doc, "gpu", "gpus", 0, "driver_version"), "???\\\"");
	assert_string_equal(json_path_string(doc, "gpu", "processes", 0, "name"), "p???? \xc3\xa9");
	assert_true(json_object_object_get_ex(doc, "checks", &x));
	x = json_object_array_get_idx(x, 0);
	assert_true(json_object_object_get_ex(x, "summary", &x));
	assert_string_equal(json_object_get_string(x), "cut ?");
	json_object_put(doc);
	assert_non_null(strstr(metrics, "name=\"raw??? ??\",driver_version=\"???\\\\\\\"\""));
	free(metrics);
	free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_h100),
	    cmocka_unit_test(test_eight),
	    cmocka_unit_test(test_gb10_unified_memory),
	    cmocka_unit_test(test_mixed_absent_markers),
	    cmocka_unit_test(test_localized_decimals_rejected),
	    cmocka_unit_test(test_extra_spaces_and_crlf),
	    cmocka_unit_test(test_truncated_line),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_driver_messages),
	    cmocka_unit_test(test_no_devices_and_empty),
	    cmocka_unit_test(test_value_edges),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_more_gpus_than_kept),
	    cmocka_unit_test(test_processes_h100),
	    cmocka_unit_test(test_processes_top_n),
	    cmocka_unit_test(test_processes_unified),
	    cmocka_unit_test(test_processes_bad),
	    cmocka_unit_test(test_run_h100),
	    cmocka_unit_test(test_run_hang_cut_at_timeout),
	    cmocka_unit_test(test_run_wedged_not_started_again),
	    cmocka_unit_test(test_run_apps_hang),
	    cmocka_unit_test(test_run_flood),
	    cmocka_unit_test(test_run_no_driver),
	    cmocka_unit_test(test_run_version_mismatch),
	    cmocka_unit_test(test_run_no_devices),
	    cmocka_unit_test(test_run_missing),
	    cmocka_unit_test(test_checks_ok),
	    cmocka_unit_test(test_checks_eight_warm),
	    cmocka_unit_test(test_checks_partial_and_missing_readings),
	    cmocka_unit_test(test_stale_reading),
	    cmocka_unit_test(test_prometheus),
	    cmocka_unit_test(test_invalid_utf8_parsed),
	    cmocka_unit_test(test_invalid_utf8_run),
	    cmocka_unit_test(test_invalid_utf8_renderers),
	};

	return cmocka_run_group_tests_name("gpu", tests, NULL, NULL);
}
