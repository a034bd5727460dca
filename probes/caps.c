#include "probes/caps.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The capability numbers the kernel may know: PR_CAPBSET_DROP answers
 * EINVAL past the last one. */
#define CAPS_MAX 64

static int drop_bounding(uint64_t keep)
{
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if (keep & CAPS_BIT(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break;
		/* Without CAP_SETPCAP (the unit's dynamic user) the set stays
		 * as systemd left it; no_new_privs and the empty permitted
		 * set below still keep every capability out of the child. */
		if (errno != EPERM)
			return -errno;
	}
	return 0;
}

int caps_limit(uint64_t keep)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	int r;

	r = drop_bounding(keep);
	if (r < 0)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	keep &= (uint64_t)data[1].permitted << 32 | data[0].permitted;
	for (int i = 0; i < 2; i++)
		data[i].effective = data[i].permitted = data[i].inheritable =
		    (uint32_t)(keep >> (32 * i));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	/* A program of a user other than root gets a capability across exec
	 * only through the ambient set. */
	for (int cap = 0; cap < CAPS_MAX; cap++) {
		if ((keep & CAPS_BIT(cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return -errno;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
