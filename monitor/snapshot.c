#include "monitor/snapshot.h"

const char *snapshot_probe_status_name(enum probe_status status)
{
	switch (status) {
	case PROBE_NOT_RUN:
		return "not_run";
	case PROBE_OK:
		return "ok";
	case PROBE_FAILED:
		return "failed";
	case PROBE_TIMED_OUT:
		return "timed_out";
	case PROBE_SKIPPED:
		return "skipped";
	}
	return "unknown";
}
