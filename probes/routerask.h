/* The router conversation in a process of its own: `sparkmon router-ask
 * --port N --timeout-ms N` (started by the daemon through the subprocess
 * runner, never by a person) asks the router and writes one frame on
 * stdout; the daemon checks the frame before it uses a byte of it. So the
 * XML and datagrams of devices on the LAN are parsed in a short-lived
 * process with no capability, a fresh memory image (an exec, not a fork
 * of the daemon) and the runner's deadline. */
#ifndef SPARKMON_ROUTERASK_H
#define SPARKMON_ROUTERASK_H

#include <stddef.h>
#include <stdint.h>

#include "probes/router.h"

#define ROUTERASK_COMMAND   "router-ask"
#define ROUTERASK_MAGIC     "sparkmon-router1"
#define ROUTERASK_ERROR_MAX 256

/* The frame, written whole by the child of the same build. */
struct routerask_frame {
	char magic[16]; /* ROUTERASK_MAGIC, not terminated */
	int32_t code;   /* router_converse()'s return */
	char error[ROUTERASK_ERROR_MAX];
	struct router router; /* valid when code is 0 */
};

/* The child: parses its arguments, converses, writes the frame. Returns
 * the process's exit status (0; 2 for a usage error). */
int routerask_main(int argc, char **argv);

/* Checks a frame (len bytes) and copies it to *ret. Returns 0; -EBADMSG
 * when its size, magic, code, error text or router facts are not what
 * the child writes. */
int routerask_parse(const void *buf, size_t len, struct routerask_frame *ret);

/* The daemon's side: runs this program's router-ask with the runner (no
 * capability, a deadline of three timeouts and 2 s) and returns the
 * child's code with its facts in *ret (on 0) and its text in err; or
 * -ETIMEDOUT, -EBADMSG, or the runner's error, with the reason in err. */
int routerask_run(uint16_t port, unsigned timeout_ms, struct router *ret, char *err, size_t errlen);

#endif
