/* NVIDIA GPUs as nvidia-smi reports them: one CSV line per GPU from
 * --query-gpu, one per process from --query-compute-apps.
 *
 * The result is a plain fixed-size struct (no pointers), so that a reading
 * can be copied whole and served again later, marked with its age.
 *
 * Field rules, shared by both parsers:
 * - Fields are separated by a comma followed by whitespace, as nvidia-smi
 *   writes them (", "). Spaces and tabs around a field and a trailing CR are
 *   ignored.
 * - "", "N/A" and any bracketed value ("[N/A]", "[Not Supported]",
 *   "[Insufficient Permissions]", "[Unknown Error]", ...) mean absent.
 * - Numbers are plain decimals: digits with at most one '.' and digits
 *   after it. Anything else is absent and counted in invalid_fields; in
 *   particular a localized decimal such as "45,30" (a comma with no space
 *   after it stays inside its field) is rejected rather than read as 45 or
 *   4530. Values outside a plausible range are absent too.
 * - Each field is judged on its own: a bad power reading does not lose the
 *   temperature of the same GPU. */
#ifndef SPARKMON_GPU_H
#define SPARKMON_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct config;

#define GPU_MAX           16 /* GPUs kept per reading; a DGX has 8 */
#define GPU_PROCESSES_MAX 10 /* processes kept, the largest users of memory */
#define GPU_UUID_MAX      96
#define GPU_NAME_MAX      96
#define GPU_DRIVER_MAX    32
#define GPU_PSTATE_MAX    8
#define GPU_PROCNAME_MAX  128
#define GPU_LINE_MAX      160 /* the first line that could not be read, kept as evidence */

/* The --query-gpu fields, in the order the parser expects them. */
#define GPU_QUERY_FIELDS                                                                           \
	"index,uuid,name,driver_version,temperature.gpu,utilization.gpu,utilization.memory,"       \
	"memory.total,memory.used,power.draw,power.limit,clocks.sm,pstate"
#define GPU_APPS_FIELDS "gpu_uuid,pid,process_name,used_memory"

struct gpu_device {
	unsigned index;
	char uuid[GPU_UUID_MAX];             /* "" when absent */
	char name[GPU_NAME_MAX];             /* "" when absent */
	char driver_version[GPU_DRIVER_MAX]; /* "" when absent */
	char pstate[GPU_PSTATE_MAX];         /* "P0".."P15"; "" when absent */

	/* Each value is meaningful only when its has_ flag is set. */
	bool has_temperature;
	double temperature_c;
	bool has_utilization_gpu;
	double utilization_gpu_pct;
	bool has_utilization_memory;
	double utilization_memory_pct;
	bool has_memory_total;
	uint64_t memory_total_bytes;
	bool has_memory_used;
	uint64_t memory_used_bytes;
	bool has_power_draw;
	double power_draw_w;
	bool has_power_limit;
	double power_limit_w;
	bool has_clock_sm;
	double clock_sm_mhz;

	/* memory.total is "[N/A]": the GPU has no memory of its own and shares
	 * the system's (DGX Spark / GB10); the memory probe has the figure. */
	bool unified_memory;
	unsigned invalid_fields; /* fields present but unreadable (see above) */
};

struct gpu_process {
	char gpu_uuid[GPU_UUID_MAX];
	int gpu_index; /* index of the GPU with that uuid, -1 if none matches */
	unsigned pid;
	char name[GPU_PROCNAME_MAX]; /* "" when absent */
	bool has_used_memory;
	uint64_t used_memory_bytes;
};

struct gpu_processes {
	struct gpu_process top[GPU_PROCESSES_MAX]; /* largest used memory first */
	unsigned count;                            /* entries in top[] */
	unsigned total;                            /* processes nvidia-smi listed */
	unsigned unparsed_lines;
};

struct gpu {
	time_t taken_at; /* wall clock of this reading; 0 = never read */

	struct gpu_device devices[GPU_MAX]; /* in nvidia-smi's order */
	unsigned count;                     /* entries in devices[] */
	unsigned total;                     /* GPUs nvidia-smi listed, beyond GPU_MAX too */
	unsigned unparsed_lines;            /* lines that were not a GPU */
	char first_unparsed[GPU_LINE_MAX];  /* the first such line, for the hint */
	bool unified_memory;                /* some GPU has unified memory */

	/* The process list is a second nvidia-smi call: when it fails the GPUs
	 * are still valid and processes_valid is false with the reason. */
	bool processes_valid;
	char processes_error[128];
	struct gpu_processes processes;
};

/* Parses --query-gpu=GPU_QUERY_FIELDS --format=csv,noheader,nounits output
 * into *ret (taken_at and the processes left zero). Lines with the wrong number of fields or
 * without a valid index are counted in unparsed_lines. "No devices were found" is a valid answer
 * with no GPU. Returns 0; -EINVAL when there is output but not one GPU line in it (garbage, or an
 * error such as "Failed to initialize NVML: Driver/library version mismatch"), with its first line
 * in err; -ENOMEM. *ret is written only on success. */
int gpu_parse(const char *buf, size_t len, struct gpu *ret, char *err, size_t errlen);

/* Parses --query-compute-apps=GPU_APPS_FIELDS output, keeping the
 * GPU_PROCESSES_MAX largest users of memory. `devices` (may be NULL) maps
 * uuids to indexes. The process name may contain ", ": the name is whatever
 * lies between the second field and the last. Returns 0, or -EINVAL when
 * there is output but not one process line in it (err says why). *ret is
 * written only on success. */
int gpu_parse_processes(const char *buf, size_t len, const struct gpu *devices,
                        struct gpu_processes *ret, char *err, size_t errlen);

/* Runs cfg->gpu_nvidia_smi twice (GPUs, then processes) through the shared
 * runner, both within cfg->gpu_timeout_ms in total. Returns 0 and fills *ret
 * (taken_at set); -ENOENT when nvidia-smi is not installed; -ETIMEDOUT when
 * it was killed at the deadline; another negative errno when it failed,
 * with nvidia-smi's own first line in err. *ret is written only on
 * success. */
int gpu_read(const struct config *cfg, struct gpu *ret, char *err, size_t errlen);

/* The hottest GPU with a temperature, or NULL. */
const struct gpu_device *gpu_hottest(const struct gpu *gpu);

#endif
