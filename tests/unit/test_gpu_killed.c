/* nvidia-smi killed by SIGKILL halfway through its answer: what it printed
 * before is never taken as a reading. The GPU checks say so (UNKNOWN, or
 * CRITICAL when a GPU is expected), an earlier good reading is left as it
 * was, and a process list cut the same way is marked invalid with the
 * reason while the GPU reading stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/probetab.h"
#include "monitor/verdict.h"
#include "tests/unit/deadline.h"
#include "tests/unit/find_check.h"

#define FIXTURES "tests/fixtures/gpu/bin/"

#include "tests/unit/fixture.h"

static struct snapshot *new_snapshot(void)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));

	assert_non_null(snap);
	return snap;
}

/* Runs the GPU probe with fake `name`, under an outside deadline. */
static void run_gpu(struct config *cfg, struct snapshot *snap, const char *name)
{
	const char *path = fixture(name);
	double start;

	if (strlen(path) >= sizeof(cfg->gpu_nvidia_smi))
		fail_msg("fixture path too long: %s", path);
	memcpy(cfg->gpu_nvidia_smi, path, strlen(path) + 1);
	start = deadline_start(20);
	probetab_run(PROBE_GPU, cfg, snap);
	deadline_stop(start);
}

/* The check `id` of the GPU area has this status and its summary holds
 * `text`. */
static void gpu_check_is(const struct config *cfg, const struct snapshot *snap, const char *id,
                         enum check_status status, const char *text)
{
	char list[] = "gpu", bad[32];
	struct check_filter filter;
	struct verdict v;
	const struct check *c;

	assert_int_equal(verdict_parse_filter(list, &filter, bad, sizeof(bad)), 0);
	verdict_evaluate(cfg, snap, &filter, &v);
	c = find_check(&v, id);
	if (!c)
		fail_msg("%s: absent", id);
	if (c->status != status || !strstr(c->summary, text))
		fail_msg("%s: %s '%s', expected %s with '%s'", id, verdict_status_upper(c->status),
		         c->summary, verdict_status_upper(status), text);
}

static void test_killed_first_run(void **state)
{
	struct snapshot *snap = new_snapshot();
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	run_gpu(&cfg, snap, "nvidia-smi-killed");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_FAILED);
	assert_non_null(strstr(snap->probes[PROBE_GPU].error, "killed by signal 9"));
	/* The three whole lines printed before the kill are no reading. */
	assert_int_equal(snap->gpu.taken_at, 0);
	assert_int_equal(snap->gpu.count, 0);
	gpu_check_is(&cfg, snap, "gpu.available", CHECK_UNKNOWN, "killed by signal 9");
	cfg.gpu_expected = true;
	gpu_check_is(&cfg, snap, "gpu.available", CHECK_CRITICAL, "killed by signal 9");
	free(snap);
}

/* After a good reading (one H100), a killed run leaves that reading, not
 * a mix with the killed run's A100 lines. */
static void test_killed_after_good_reading(void **state)
{
	struct snapshot *snap = new_snapshot();
	struct config cfg;
	time_t good_at;

	(void)state;
	config_defaults(&cfg);
	run_gpu(&cfg, snap, "nvidia-smi-h100");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_OK);
	good_at = snap->gpu.taken_at;
	assert_true(good_at > 0);
	run_gpu(&cfg, snap, "nvidia-smi-killed");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_FAILED);
	assert_non_null(strstr(snap->probes[PROBE_GPU].error, "killed by signal 9"));
	assert_int_equal(snap->gpu.taken_at, good_at);
	assert_int_equal(snap->gpu.count, 1);
	assert_int_equal(snap->gpu.total, 1);
	assert_string_equal(snap->gpu.devices[0].name, "NVIDIA H100 80GB HBM3");
	gpu_check_is(&cfg, snap, "gpu.available", CHECK_UNKNOWN, "killed by signal 9");
	free(snap);
}

/* The process query killed halfway: the GPU reading stands, the process
 * list is invalid with the reason, and none of its half line is kept. */
static void test_process_query_killed(void **state)
{
	struct snapshot *snap = new_snapshot();
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	run_gpu(&cfg, snap, "nvidia-smi-apps-killed");
	assert_int_equal(snap->probes[PROBE_GPU].status, PROBE_OK);
	assert_int_equal(snap->gpu.count, 1);
	assert_false(snap->gpu.processes_valid);
	assert_non_null(strstr(snap->gpu.processes_error, "killed by signal 9"));
	assert_int_equal(snap->gpu.processes.total, 0);
	gpu_check_is(&cfg, snap, "gpu.available", CHECK_OK, "1 GPU");
	free(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_killed_first_run),
	    cmocka_unit_test(test_killed_after_good_reading),
	    cmocka_unit_test(test_process_query_killed),
	};

	return cmocka_run_group_tests_name("gpu_killed", tests, fixture_setup, NULL);
}
