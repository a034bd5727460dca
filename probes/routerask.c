#include "probes/routerask.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/runner.h"

/* What the child may return (router_converse()'s codes). */
static bool known_code(int32_t code)
{
	return code == 0 || code == -EPROTO || code == -EHOSTUNREACH || code == -ENETUNREACH ||
	       code == -EADDRNOTAVAIL || code == -ENOENT || (code < 0 && code > -4096);
}

int routerask_parse(const void *buf, size_t len, struct routerask_frame *ret)
{
	struct routerask_frame *f;

	if (len != sizeof(*f))
		return -EBADMSG;
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	memcpy(f, buf, sizeof(*f));
	if (memcmp(f->magic, ROUTERASK_MAGIC, sizeof(f->magic)) != 0 || !known_code(f->code) ||
	    !memchr(f->error, '\0', sizeof(f->error)) ||
	    (f->code == 0 && !router_valid(&f->router))) {
		free(f);
		return -EBADMSG;
	}
	*ret = *f;
	free(f);
	return 0;
}

static int parse_number(const char *text, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int routerask_main(int argc, char **argv)
{
	struct routerask_frame *f = calloc(1, sizeof(*f));
	unsigned long port = 0, timeout = 0;
	size_t off = 0;

	if (!f)
		return 1;
	if (argc != 5 || strcmp(argv[1], "--port") != 0 || strcmp(argv[3], "--timeout-ms") != 0 ||
	    parse_number(argv[2], 65535, &port) < 0 || parse_number(argv[4], 60000, &timeout) < 0) {
		fputs("usage: sparkmon " ROUTERASK_COMMAND " --port N --timeout-ms N\n", stderr);
		free(f);
		return 2;
	}
	memcpy(f->magic, ROUTERASK_MAGIC, sizeof(f->magic));
	f->code = router_converse((uint16_t)port, (unsigned)timeout, &f->router, f->error,
	                          sizeof(f->error));
	while (off < sizeof(*f)) {
		ssize_t n = write(STDOUT_FILENO, (const char *)f + off, sizeof(*f) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(f);
	return off == sizeof(struct routerask_frame) ? 0 : 1;
}

static int self_path(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n <= 0 || (size_t)n >= size - 1)
		return -ENOENT;
	buf[n] = '\0';
	return 0;
}

int routerask_run(uint16_t port, unsigned timeout_ms, struct router *ret, char *err, size_t errlen)
{
	char exe[PATH_MAX], port_text[8], timeout_text[16], how[128];
	const char *argv[] = {
	    exe, ROUTERASK_COMMAND, "--port", port_text, "--timeout-ms", timeout_text, NULL};
	struct runner_options opts = {.timeout_ms = 3 * timeout_ms + 2000,
	                              .max_output = sizeof(struct routerask_frame),
	                              .tag = ROUTERASK_COMMAND};
	struct routerask_frame *f = malloc(sizeof(*f));
	struct runner_result res;
	int r;

	if (!f)
		return -ENOMEM;
	if ((r = self_path(exe, sizeof(exe))) < 0) {
		snprintf(err, errlen,
		         "cannot find this program (/proc/self/exe) to ask the router");
		goto out;
	}
	snprintf(port_text, sizeof(port_text), "%u", port);
	snprintf(timeout_text, sizeof(timeout_text), "%u", timeout_ms);
	if ((r = runner_run(argv, &opts, &res)) < 0) {
		snprintf(err, errlen, "cannot run %s " ROUTERASK_COMMAND ": %s", exe, strerror(-r));
		goto out;
	}
	if (res.timed_out || !res.exited || res.exit_code != 0) {
		runner_describe(&res, how, sizeof(how));
		snprintf(err, errlen, "the router conversation (%s " ROUTERASK_COMMAND ") %s", exe,
		         how);
		r = res.timed_out ? -ETIMEDOUT : -EIO;
	} else if ((r = routerask_parse(res.out, res.out_len, f)) < 0) {
		snprintf(err, errlen, "the router conversation's answer is malformed (%zu bytes)",
		         res.out_len);
	} else {
		r = f->code;
		snprintf(err, errlen, "%s", f->error);
		if (r == 0)
			*ret = f->router;
	}
	runner_result_free(&res);
out:
	free(f);
	return r;
}
