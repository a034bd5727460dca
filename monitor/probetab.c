#include "monitor/probetab.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int run_memory(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	return meminfo_read(cfg, &snap->memory, err, errlen);
}

static int run_forwarding(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	return forwarding_read(cfg, &snap->forwarding, err, errlen);
}

const struct probe_def probetab[PROBE__COUNT] = {
    [PROBE_MEMORY] = {"memory", run_memory},
    [PROBE_FORWARDING] = {"forwarding", run_forwarding},
};

static double elapsed_seconds(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

void probetab_run(enum probe_id id, const struct config *cfg, struct snapshot *snap)
{
	struct probe_outcome *out = &snap->probes[id];
	char err[SNAPSHOT_ERROR_MAX] = "";
	struct timespec start;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	r = probetab[id].run(cfg, snap, err, sizeof(err));
	out->duration_seconds = elapsed_seconds(&start);
	out->collected_at = time(NULL);
	if (r == 0) {
		out->status = PROBE_OK;
		out->last_success = out->collected_at;
		err[0] = '\0';
	} else if (r == PROBE_SKIP) {
		out->status = PROBE_SKIPPED;
	} else {
		out->status = r == -ETIMEDOUT ? PROBE_TIMED_OUT : PROBE_FAILED;
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(r < 0 ? -r : r));
	}
	snprintf(out->error, sizeof(out->error), "%s", err);
}

void probetab_run_all(const struct config *cfg, struct snapshot *snap, unsigned mask)
{
	for (int id = 0; id < PROBE__COUNT; id++)
		if (mask & (1u << id))
			probetab_run((enum probe_id)id, cfg, snap);
}

int probetab_find(const char *name)
{
	for (int id = 0; id < PROBE__COUNT; id++)
		if (strcmp(probetab[id].name, name) == 0)
			return id;
	return -1;
}
