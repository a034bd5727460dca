/* Capabilities of the processes sparkmon starts. The daemon may hold
 * CAP_NET_ADMIN (the unit's ambient capability, or root's full set); a
 * program it runs gets none of it unless it needs it (an nf_tables dump),
 * and can never gain any back. */
#ifndef SPARKMON_CAPS_H
#define SPARKMON_CAPS_H

#include <linux/capability.h>
#include <stdint.h>

#define CAPS_BIT(cap) ((uint64_t)1 << (cap))

/* What a ruleset dump needs: the kernel answers an nf_tables dump only to
 * CAP_NET_ADMIN; the legacy xtables tools also open a raw socket
 * (CAP_NET_RAW) and read root-only /proc/net files (CAP_DAC_OVERRIDE). */
#define CAPS_RULESET_DUMP                                                                          \
	(CAPS_BIT(CAP_NET_ADMIN) | CAPS_BIT(CAP_NET_RAW) | CAPS_BIT(CAP_DAC_OVERRIDE))

/* Limits the calling process, and every program it executes from then on,
 * to the capabilities of keep (CAPS_BIT(...)) that it holds now, none when
 * keep is 0: the bounding set cut to keep (when CAP_SETPCAP allows; it is
 * what a root program gets at exec), the ambient set cleared, the
 * effective, permitted and inheritable sets cut to keep, and no_new_privs
 * set, so that neither setuid bits nor file capabilities give any back.
 * Only system calls: safe between fork and exec. Returns 0 or a negative
 * errno. */
int caps_limit(uint64_t keep);

#endif
