/* The messages from the collector to the web process of `sparkmon serve`
 * (DESIGN.md, trust boundaries): one probe's outcome and facts, or a
 * heartbeat. Only facts cross; the probes' parts of the snapshot hold no
 * key and no raw wg-quick text (public keys, names, counters, parsed rules,
 * states, error reasons). Both ends are the same binary on the same
 * machine, so numbers travel in host byte order and fixed-size parts as
 * they lie in memory; every length, count, string and enum is checked on
 * arrival all the same, as for any outside input.
 *
 * A frame: struct wire_header, then `length` bytes of payload.
 *   WIRE_RESULT:    u32 probe id, struct probe_outcome, the probe's part:
 *                   its bytes (plain parts), or for WireGuard the struct,
 *                   each device followed by its peers, allowed IPs and
 *                   addresses, then the missing required peers.
 *   WIRE_HEARTBEAT: struct wire_heartbeat.
 *   WIRE_CONFIG:    i32 config_read()'s result (0 or -errno), then the
 *                   configuration file's bytes as the collector read them
 *                   on a reload (none when absent or unreadable). */
#ifndef SPARKMON_WIRE_H
#define SPARKMON_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/snapshot.h"

#define WIRE_MAGIC     0x534d5746u /* "FWMS" in memory on little-endian */
#define WIRE_VERSION   2
#define WIRE_FRAME_MAX (64u * 1024 * 1024)
/* Far above what a host has, low enough that a count cannot overflow. */
#define WIRE_DEVICES_MAX 256
#define WIRE_PEERS_MAX   (1u << 20)

enum wire_type {
	WIRE_RESULT = 1,
	WIRE_HEARTBEAT = 2,
	WIRE_CONFIG = 3,
};

struct wire_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length; /* of the payload */
};

struct wire_heartbeat {
	int32_t overdue_probe; /* the probe running far past its interval, -1 none */
	double overdue_seconds;
};

/* Encodes one probe's outcome and part of snap as a frame, in a buffer of
 * its own (free() it). Returns 0, -ENOMEM, or -E2BIG past WIRE_FRAME_MAX. */
int wire_encode_result(const struct snapshot *snap, enum probe_id id, char **ret, size_t *ret_len);

/* Encodes a heartbeat into buf (at least WIRE_HEARTBEAT_SIZE bytes). */
#define WIRE_HEARTBEAT_SIZE (sizeof(struct wire_header) + sizeof(struct wire_heartbeat))
void wire_encode_heartbeat(const struct wire_heartbeat *hb, char buf[WIRE_HEARTBEAT_SIZE]);

/* Encodes the outcome of config_read() as a frame, in a buffer of its own
 * (free() it). Returns 0, -ENOMEM, or -E2BIG past CONFIG_FILE_MAX. */
int wire_encode_config(int read_result, const char *text, size_t len, char **ret, size_t *ret_len);

/* The read result and the text (pointing into the frame, no NUL) of a
 * WIRE_CONFIG frame that wire_apply() accepted. */
void wire_config_of(const void *frame, int *ret_read_result, const char **ret_text,
                    size_t *ret_len);

/* The size of the frame that starts at buf: 0 while fewer than a header's
 * bytes are there; -EBADMSG for a bad magic or an unknown type,
 * -EPROTONOSUPPORT for another version, -E2BIG past WIRE_FRAME_MAX. */
int64_t wire_frame_size(const void *buf, size_t len);

/* Applies one whole frame (wire_frame_size bytes): a result replaces the
 * probe's outcome and part in snap (freeing what the old part owned), a
 * heartbeat fills *ret_hb, a configuration is only checked (read it with
 * wire_config_of()). *ret_type says which. Returns 0, or -EBADMSG
 * (with the reason in err) for a frame that is cut, too long, or holds a
 * bad count, string or value: then snap is left as it was. */
int wire_apply(const void *frame, size_t len, struct snapshot *snap, struct wire_heartbeat *ret_hb,
               enum wire_type *ret_type, char *err, size_t errlen);

#endif
