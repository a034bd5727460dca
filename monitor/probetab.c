#include "monitor/probetab.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "probes/text.h"

static int run_memory(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	return meminfo_read(cfg, &snap->memory, err, errlen);
}

static int run_forwarding(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	return forwarding_read(cfg, &snap->forwarding, err, errlen);
}

/* A missing nvidia-smi means no NVIDIA GPU here: not a failure. Whether
 * that is fine ([gpu] expected) is the verdict's call. */
static int run_gpu(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	int r = gpu_read(cfg, &snap->gpu, err, errlen);

	return r == -ENOENT ? PROBE_SKIP : r;
}

static uint64_t gpu_interval(const struct config *cfg)
{
	return cfg->gpu_interval_ms;
}

/* The area is replaced whole: a fresh read, then the old one freed. */
static int run_wireguard(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	struct wireguard fresh = {.devices = NULL};
	int r = wireguard_read(cfg, &fresh, err, errlen);

	wireguard_free(&snap->wireguard);
	if (r == 0)
		snap->wireguard = fresh;
	return r;
}

static void release_wireguard(struct snapshot *snap)
{
	wireguard_free(&snap->wireguard);
}

static int run_firewall(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	return firewall_read(cfg, &snap->firewall, err, errlen);
}

static int run_endpoint(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	return endpoint_read(cfg, &snap->endpoint, err, errlen);
}

/* HTTP requests to outside services: on their own, slower schedule. */
static uint64_t endpoint_interval(const struct config *cfg)
{
	return cfg->endpoint_interval_ms;
}

/* sshd not installed (enabled = auto) or turned off: its checks are absent. */
static int run_ssh(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	int r = ssh_read(cfg, &snap->ssh, err, errlen);

	return r == -ENOENT ? PROBE_SKIP : r;
}

/* Each run is a connection in sshd's log: on a slower schedule. */
static uint64_t ssh_interval(const struct config *cfg)
{
	return cfg->ssh_interval_ms;
}

/* The port the router should forward: [wireguard] listen_port, else
 * WireGuard's usual 51820 (each probe runs on its own copy of the
 * snapshot: the wireguard probe's reading is not at hand here). */
static uint16_t router_port(const struct config *cfg)
{
	return cfg->wireguard_listen_port ? (uint16_t)cfg->wireguard_listen_port : 51820;
}

/* No router answering (enabled = auto) leaves its checks absent; the
 * probe's line says so. */
static int run_router(const struct config *cfg, struct snapshot *snap, char *err, size_t errlen)
{
	int r = router_read(cfg, router_port(cfg), &snap->router, err, errlen);

	return r == -ENOENT ? PROBE_SKIP : r;
}

/* The router's answers change rarely, and each asks it a few questions. */
static uint64_t router_interval(const struct config *cfg)
{
	return cfg->router_interval_ms;
}

const struct probe_def probetab[PROBE__COUNT] = {
    [PROBE_MEMORY] = {.name = "memory", .run = run_memory, PROBE_AREA(memory)},
    [PROBE_FORWARDING] = {.name = "forwarding", .run = run_forwarding, PROBE_AREA(forwarding)},
    [PROBE_GPU] = {.name = "gpu", .run = run_gpu, PROBE_AREA(gpu), .interval_ms = gpu_interval},
    [PROBE_WIREGUARD] = {.name = "wireguard",
                         .run = run_wireguard,
                         PROBE_AREA(wireguard),
                         .release = release_wireguard},
    [PROBE_FIREWALL] = {.name = "firewall", .run = run_firewall, PROBE_AREA(firewall)},
    [PROBE_ENDPOINT] = {.name = "endpoint",
                        .run = run_endpoint,
                        PROBE_AREA(endpoint),
                        .interval_ms = endpoint_interval},
    [PROBE_SSH] = {.name = "ssh", .run = run_ssh, PROBE_AREA(ssh), .interval_ms = ssh_interval},
    [PROBE_ROUTER] = {.name = "router",
                      .run = run_router,
                      PROBE_AREA(router),
                      .interval_ms = router_interval},
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
	/* Errors quote what programs, files and servers said, and may have
	 * been cut inside a character: every output needs valid UTF-8. */
	text_sanitize_utf8(err);
	snprintf(out->error, sizeof(out->error), "%s", err);
}

void probetab_run_all(const struct config *cfg, struct snapshot *snap, unsigned mask)
{
	for (int id = 0; id < PROBE__COUNT; id++)
		if (mask & (1u << id))
			probetab_run((enum probe_id)id, cfg, snap);
}

void probetab_release_all(struct snapshot *snap)
{
	for (int id = 0; id < PROBE__COUNT; id++)
		if (probetab[id].release)
			probetab[id].release(snap);
}

int probetab_find(const char *name)
{
	for (int id = 0; id < PROBE__COUNT; id++)
		if (strcmp(probetab[id].name, name) == 0)
			return id;
	return -1;
}
