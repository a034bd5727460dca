/* The snapshot: everything the probes observed in one round, as plain
 * structs. Renderers and the verdict read it; only probes write it. */
#ifndef SPARKMON_SNAPSHOT_H
#define SPARKMON_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "probes/endpoint.h"
#include "probes/firewall.h"
#include "probes/forwarding.h"
#include "probes/gpu.h"
#include "probes/meminfo.h"
#include "probes/router.h"
#include "probes/ssh.h"
#include "probes/wireguard.h"

/* One slot per probe, in the order of the probe table. */
enum probe_id {
	PROBE_MEMORY,
	PROBE_FORWARDING,
	PROBE_GPU,
	PROBE_WIREGUARD,
	PROBE_FIREWALL,
	PROBE_ENDPOINT,
	PROBE_SSH,
	PROBE_ROUTER,
	PROBE__COUNT,
};

enum probe_status {
	PROBE_NOT_RUN,   /* not run in this snapshot (e.g. `check --only`) */
	PROBE_OK,        /* ran and its data is valid */
	PROBE_FAILED,    /* ran and failed; error says why */
	PROBE_TIMED_OUT, /* cut at its deadline */
	PROBE_SKIPPED,   /* not applicable here (e.g. no GPU tool installed) */
};

#define SNAPSHOT_ERROR_MAX 256

struct probe_outcome {
	enum probe_status status;
	char error[SNAPSHOT_ERROR_MAX];
	double duration_seconds;
	time_t collected_at; /* wall clock of the last run, 0 = never */
	time_t last_success; /* wall clock of the last OK run, 0 = never */
};

struct snapshot {
	time_t generated_at;
	char host[256];
	struct probe_outcome probes[PROBE__COUNT];

	struct meminfo memory;
	struct forwarding forwarding;
	struct gpu gpu;
	struct wireguard wireguard; /* owns its arrays: wireguard_free() */
	struct firewall firewall;
	struct endpoint endpoint;
	struct ssh ssh;
	struct router router;
};

const char *snapshot_probe_status_name(enum probe_status status);

#endif
