/* The public side of the VPN: the public IPv4 address that every client's
 * `Endpoint =` points at (asked of "what is my IP" services over HTTP(S)),
 * what the endpoint's DNS name resolves to, and the URLs this server must
 * reach. The HTTP requests run in a helper program, sparkmon-fetch
 * (probes/fetch_main.c, the only code that links libcurl), through the
 * subprocess runner. */
#ifndef SPARKMON_ENDPOINT_H
#define SPARKMON_ENDPOINT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "probes/endpoint6.h"

struct config;

#define ENDPOINT_URLS_MAX  8
#define ENDPOINT_URL_MAX   256
#define ENDPOINT_ERROR_MAX 192
#define ENDPOINT_IPS_MAX   4
/* A plain-text address is 15 bytes; anything much larger is not one. */
#define ENDPOINT_BODY_MAX       1024
#define ENDPOINT_STATE_FILE     "public-ip"
#define ENDPOINT_STATE_PATH_MAX 256

/* sparkmon-fetch's answer on stdout: these lines, in this order, each
 * ended by '\n', with no control characters,
 *
 *     sparkmon-fetch 1
 *     outcome ok|timeout|too-big|error
 *     code <HTTP status, 100 to 999; 0 when no response came>
 *     seconds <total time: digits '.' digits>
 *     error <text, under ENDPOINT_ERROR_MAX bytes; empty exactly when ok>
 *     body <length, 0 to ENDPOINT_BODY_MAX; 0 unless the outcome is ok>
 *
 * then exactly <length> bytes of the response body (any bytes), then the
 * end of the output. "ok" means that an HTTP response arrived in full,
 * whatever its status. */
#define ENDPOINT_FETCH_NAME  "sparkmon-fetch"
#define ENDPOINT_FETCH_MAGIC ENDPOINT_FETCH_NAME " 1"
/* The most the answer can be, with room to spare. */
#define ENDPOINT_FETCH_OUTPUT_MAX 4096

/* With --post, sparkmon-fetch reads its request from stdin rather than
 * taking a URL argument (argv is readable by every user in /proc, and a
 * notification URL may carry a token):
 *
 *     url <http:// or https:// URL, under ENDPOINT_POST_URL_MAX bytes>
 *     header <Name: value>           (0 to ENDPOINT_POST_HEADERS_MAX lines)
 *     body <length, 0 to ENDPOINT_POST_BODY_MAX>
 *
 * each line ended by '\n' and free of control characters, then exactly
 * <length> bytes sent as the body of one POST (no redirect followed). The
 * answer is the one above. */
#define ENDPOINT_POST_URL_MAX     1024
#define ENDPOINT_POST_HEADERS_MAX 8
#define ENDPOINT_POST_HEADER_MAX  256
#define ENDPOINT_POST_BODY_MAX    16384
#define ENDPOINT_POST_INPUT_MAX                                                                    \
	(ENDPOINT_POST_URL_MAX + ENDPOINT_POST_HEADERS_MAX * (ENDPOINT_POST_HEADER_MAX + 8) +      \
	 ENDPOINT_POST_BODY_MAX + 64)

enum endpoint_outcome {
	ENDPOINT_OUTCOME_OK,
	ENDPOINT_OUTCOME_TIMEOUT,
	ENDPOINT_OUTCOME_TOO_BIG,
	ENDPOINT_OUTCOME_ERROR,
};

/* One parsed answer of sparkmon-fetch. */
struct endpoint_fetch {
	enum endpoint_outcome outcome;
	long http_code;
	double total_seconds;
	char error[ENDPOINT_ERROR_MAX];
	size_t body_len;
	char body[ENDPOINT_BODY_MAX + 1]; /* NUL-terminated; may hold NULs too */
};

/* How endpoint_fetch() asks: IPv4 addresses only, and keep the body. */
#define ENDPOINT_FETCH_IPV4 0x1u
#define ENDPOINT_FETCH_BODY 0x2u

struct endpoint_request {
	char url[ENDPOINT_URL_MAX];
	bool ok;
	long http_code; /* 0 when no HTTP response came */
	double total_seconds;
	char error[ENDPOINT_ERROR_MAX]; /* "" when ok */
};

struct endpoint {
	/* Public IPv4 discovery: the URLs tried, in order, until one answered. */
	bool have_ip;
	char public_ip[INET_ADDRSTRLEN];
	char source_url[ENDPOINT_URL_MAX];
	size_t n_attempts;
	struct endpoint_request attempts[ENDPOINT_URLS_MAX];

	/* The address remembered in <state_dir>/public-ip. */
	char state_path[ENDPOINT_STATE_PATH_MAX];
	bool have_remembered;
	char remembered_ip[INET_ADDRSTRLEN];
	time_t remembered_since;
	bool remembered_now; /* the file was written in this run */
	char state_error[ENDPOINT_ERROR_MAX];

	/* The DNS name clients use, resolved. */
	char hostname[256];
	size_t n_hostname_ips;
	char hostname_ips[ENDPOINT_IPS_MAX][INET_ADDRSTRLEN];
	char hostname_error[ENDPOINT_ERROR_MAX];

	/* The IPv6 way in. */
	struct endpoint6 v6;

	size_t n_probes;
	struct endpoint_request probes[ENDPOINT_URLS_MAX];
};

/* ---- endpoint.c ------------------------------------------------------------ */

/* Validates a "what is my IP" answer: one IPv4 address in dotted-decimal
 * form, surrounded by nothing but blanks and line ends. Returns 0 with the
 * normalized address, -EAFNOSUPPORT for an IPv6 address, -EINVAL else; a
 * reason goes to err. */
int endpoint_parse_ip(const char *body, size_t len, char ret[INET_ADDRSTRLEN], char *err,
                      size_t errlen);

/* Parses the state file: "<address>\n<unix time first seen>\n". */
int endpoint_parse_state(const char *buf, size_t len, char ret_ip[INET_ADDRSTRLEN],
                         time_t *ret_since);

/* Reads the address remembered in <state_dir>/public-ip into ep, or, when
 * there is none, remembers ep->public_ip there (if ep->have_ip) as first
 * seen at `now`. The file is written whole or not at all (a temporary
 * file, fsync, rename, fsync of the directory). A file that does not
 * parse (truncated, corrupt, too large) is never trusted: it is reported
 * in ep->state_error (nothing is remembered in this run) and replaced by
 * the current address when there is one. A directory that cannot be written (read-only, full) is
 * reported in ep->state_error and leaves the old file as it was. */
void endpoint_remember(const char *state_dir, struct endpoint *ep, time_t now);

/* Splits a blank-separated list into at most max URLs; returns the count. */
size_t endpoint_split_urls(const char *list, char (*ret)[ENDPOINT_URL_MAX], size_t max);

/* Parses sparkmon-fetch's answer (the format above) in buf[0..len).
 * Returns 0 and fills *ret, or -EBADMSG with the reason in err (truncated
 * output, a missing or misplaced line, a bad number, a control character or
 * NUL outside the body, a body longer than allowed or than what follows);
 * *ret is written only on success. */
int endpoint_parse_fetch(const char *buf, size_t len, struct endpoint_fetch *ret, char *err,
                         size_t errlen);

/* One GET of url by the helper program at helper (an absolute path), with
 * cfg's connect and total timeouts and the runner's deadline a little past
 * them; flags are ENDPOINT_FETCH_*. Always fills req (url, http_code,
 * total_seconds, and error unless the request succeeded). Returns 0 when an
 * HTTP response arrived in full (any status: the caller judges it), else
 * -ETIMEDOUT, -EFBIG (a body over ENDPOINT_BODY_MAX), -EIO (the request
 * failed), -EBADMSG (the helper's output is not an answer), -ECHILD (the
 * helper exited nonzero, was killed or wrote too much) or the runner's
 * error (the helper could not be started), with the reason in req->error.
 * *ret holds the helper's answer (with the body) whenever it gave a valid
 * one, whatever the outcome. */
int endpoint_fetch(const char *helper, const struct config *cfg, const char *url, unsigned flags,
                   struct endpoint_request *req, struct endpoint_fetch *ret);

/* The path of sparkmon-fetch: next to the running program (a build
 * folder, or wherever the two were copied together), else where `make
 * install` puts it. Returns 0, or -ENOENT with the reason in err. */
int endpoint_find_helper(char *ret, size_t size, char *err, size_t errlen);

/* The probe. Failures of single requests are recorded in *ret, not returned:
 * only out-of-memory or a missing sparkmon-fetch (when there is a URL to
 * fetch) fail it. */
int endpoint_read(const struct config *cfg, struct endpoint *ret, char *err, size_t errlen);

#endif
