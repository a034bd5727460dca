#include "probes/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/config.h"
#include "probes/readfile.h"
#include "probes/runner.h"
#include "probes/statefile.h"
#include "probes/text.h"

#define ENDPOINT_STATE_MAX 256
/* The runner's deadline for sparkmon-fetch is the request's total timeout
 * plus this: time to start the program and load libcurl. libcurl enforces
 * the timeout itself; the runner's deadline catches a helper that hangs. */
#define ENDPOINT_FETCH_MARGIN_MS 1000

/* Where `make install` puts sparkmon-fetch ($(PREFIX)/lib/sparkmon). */
#ifndef SPARKMON_FETCH_PATH
#error "SPARKMON_FETCH_PATH: the installed sparkmon-fetch's path (the Makefile defines it)"
#endif

/* ---- parsing --------------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int endpoint_parse_ip(const char *body, size_t len, char ret[INET_ADDRSTRLEN], char *err,
                      size_t errlen)
{
	char text[64];
	struct in_addr a;
	struct in6_addr a6;
	size_t start = 0, end = len;

	while (start < end && is_blank(body[start]))
		start++;
	while (end > start && is_blank(body[end - 1]))
		end--;
	if (start == end) {
		snprintf(err, errlen, "empty answer");
		return -EINVAL;
	}
	if (end - start >= sizeof(text) || memchr(body + start, '\0', end - start)) {
		snprintf(err, errlen, "not an IPv4 address (%zu bytes of text)", end - start);
		return -EINVAL;
	}
	memcpy(text, body + start, end - start);
	text[end - start] = '\0';
	/* inet_pton takes dotted decimal only: no "0x7f.1", no "127.1". */
	if (inet_pton(AF_INET, text, &a) == 1) {
		inet_ntop(AF_INET, &a, ret, INET_ADDRSTRLEN);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		snprintf(err, errlen, "answered an IPv6 address, not the IPv4 one");
		return -EAFNOSUPPORT;
	}
	snprintf(err, errlen, "not an IPv4 address");
	return -EINVAL;
}

int endpoint_parse_state(const char *buf, size_t len, char ret_ip[INET_ADDRSTRLEN],
                         time_t *ret_since)
{
	char text[ENDPOINT_STATE_MAX], ip[INET_ADDRSTRLEN], *nl, *end;
	struct in_addr a;
	long long since;

	if (len == 0 || len >= sizeof(text) || memchr(buf, '\0', len))
		return -EINVAL;
	memcpy(text, buf, len);
	text[len] = '\0';
	nl = strchr(text, '\n');
	if (!nl || (size_t)(nl - text) >= sizeof(ip))
		return -EINVAL;
	*nl = '\0';
	if (inet_pton(AF_INET, text, &a) != 1)
		return -EINVAL;
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	errno = 0;
	since = strtoll(nl + 1, &end, 10);
	/* Both lines whole: a file cut after a digit of the time is no time. */
	if (errno || end == nl + 1 || strcmp(end, "\n") != 0 || since < 0)
		return -EINVAL;
	memcpy(ret_ip, ip, sizeof(ip));
	*ret_since = (time_t)since;
	return 0;
}

size_t endpoint_split_urls(const char *list, char (*ret)[ENDPOINT_URL_MAX], size_t max)
{
	size_t n = 0;
	const char *p = list;

	while (*p && n < max) {
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		len = strcspn(p, " \t,");
		if (len == 0)
			break;
		if (len < ENDPOINT_URL_MAX) {
			memcpy(ret[n], p, len);
			ret[n][len] = '\0';
			n++;
		}
		p += len;
	}
	return n;
}

/* ---- sparkmon-fetch's answer ------------------------------------------------ */

static const char *const outcome_names[] = {
    [ENDPOINT_OUTCOME_OK] = "ok",
    [ENDPOINT_OUTCOME_TIMEOUT] = "timeout",
    [ENDPOINT_OUTCOME_TOO_BIG] = "too-big",
    [ENDPOINT_OUTCOME_ERROR] = "error",
};

/* Takes the next line from *p..end, which must be "<key>" or "<key> <value>"
 * without control characters; the value goes to value (size bytes). */
static int take_line(const char **p, const char *end, const char *key, char *value, size_t size,
                     char *err, size_t errlen)
{
	const char *line = *p, *nl;
	size_t klen = strlen(key), len;

	if (line == end) {
		snprintf(err, errlen, "truncated: no '%s' line", key);
		return -EBADMSG;
	}
	nl = memchr(line, '\n', (size_t)(end - line));
	if (!nl) {
		snprintf(err, errlen, "truncated in the '%s' line", key);
		return -EBADMSG;
	}
	len = (size_t)(nl - line);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f) {
			snprintf(err, errlen, "%s in the '%s' line",
			         c ? "control character" : "NUL byte", key);
			return -EBADMSG;
		}
	}
	if (len < klen || memcmp(line, key, klen) != 0 || (len > klen && line[klen] != ' ')) {
		snprintf(err, errlen, "expected the '%s' line", key);
		return -EBADMSG;
	}
	line += klen;
	len -= klen;
	if (len > 0) {
		line++;
		len--;
	}
	if (len >= size) {
		snprintf(err, errlen, "'%s' line too long", key);
		return -EBADMSG;
	}
	memcpy(value, line, len);
	value[len] = '\0';
	*p = nl + 1;
	return 0;
}

/* 1 to max_digits decimal digits and nothing else. */
static int parse_digits(const char *text, size_t max_digits, unsigned long *ret)
{
	size_t n = strspn(text, "0123456789");
	unsigned long v = 0;

	if (n == 0 || n > max_digits || text[n])
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(text[i] - '0');
	*ret = v;
	return 0;
}

/* digits '.' digits: at most 6 before the point, 1 to 9 after it. */
static int parse_seconds(const char *text, double *ret)
{
	char whole[8], frac[10];
	const char *dot = strchr(text, '.');
	unsigned long w, f;
	size_t wlen, flen;
	double scale = 1;

	if (!dot)
		return -EINVAL;
	wlen = (size_t)(dot - text);
	flen = strlen(dot + 1);
	if (wlen == 0 || wlen >= sizeof(whole) || flen == 0 || flen >= sizeof(frac))
		return -EINVAL;
	memcpy(whole, text, wlen);
	whole[wlen] = '\0';
	memcpy(frac, dot + 1, flen + 1);
	if (parse_digits(whole, sizeof(whole) - 2, &w) < 0 ||
	    parse_digits(frac, sizeof(frac) - 1, &f) < 0)
		return -EINVAL;
	for (size_t i = 0; i < flen; i++)
		scale *= 10;
	*ret = (double)w + (double)f / scale;
	return 0;
}

static int parse_header(const char **p, const char *end, struct endpoint_fetch *f, char *err,
                        size_t errlen)
{
	char value[32];
	unsigned long n;
	size_t i;
	int r;

	r = take_line(p, end, ENDPOINT_FETCH_NAME, value, sizeof(value), err, errlen);
	if (r < 0 || strcmp(value, &ENDPOINT_FETCH_MAGIC[sizeof(ENDPOINT_FETCH_NAME)]) != 0) {
		snprintf(err, errlen, "not the answer of " ENDPOINT_FETCH_MAGIC);
		return -EBADMSG;
	}
	if ((r = take_line(p, end, "outcome", value, sizeof(value), err, errlen)) < 0)
		return r;
	for (i = 0; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++)
		if (strcmp(value, outcome_names[i]) == 0)
			break;
	if (i == sizeof(outcome_names) / sizeof(outcome_names[0])) {
		snprintf(err, errlen, "unknown outcome '%s'", value);
		return -EBADMSG;
	}
	f->outcome = (enum endpoint_outcome)i;
	if ((r = take_line(p, end, "code", value, sizeof(value), err, errlen)) < 0)
		return r;
	if (parse_digits(value, 3, &n) < 0 || (n > 0 && n < 100)) {
		snprintf(err, errlen, "bad HTTP code '%s'", value);
		return -EBADMSG;
	}
	f->http_code = (long)n;
	if ((r = take_line(p, end, "seconds", value, sizeof(value), err, errlen)) < 0)
		return r;
	if (parse_seconds(value, &f->total_seconds) < 0) {
		snprintf(err, errlen, "bad seconds '%s'", value);
		return -EBADMSG;
	}
	if ((r = take_line(p, end, "error", f->error, sizeof(f->error), err, errlen)) < 0)
		return r;
	if ((r = take_line(p, end, "body", value, sizeof(value), err, errlen)) < 0)
		return r;
	if (parse_digits(value, 9, &n) < 0) {
		snprintf(err, errlen, "bad body length '%s'", value);
		return -EBADMSG;
	}
	f->body_len = (size_t)n;
	return 0;
}

int endpoint_parse_fetch(const char *buf, size_t len, struct endpoint_fetch *ret, char *err,
                         size_t errlen)
{
	struct endpoint_fetch f;
	const char *p = buf, *end = buf + len;
	size_t rest;
	int r;

	memset(&f, 0, sizeof(f));
	r = parse_header(&p, end, &f, err, errlen);
	if (r < 0)
		return r;
	rest = (size_t)(end - p);
	if (f.body_len > ENDPOINT_BODY_MAX) {
		snprintf(err, errlen, "a body of %zu bytes, more than %d", f.body_len,
		         ENDPOINT_BODY_MAX);
		return -EBADMSG;
	}
	if (rest < f.body_len) {
		snprintf(err, errlen, "truncated in the body (%zu of %zu bytes)", rest, f.body_len);
		return -EBADMSG;
	}
	if (rest > f.body_len) {
		snprintf(err, errlen, "%zu bytes after the body", rest - f.body_len);
		return -EBADMSG;
	}
	if ((f.outcome == ENDPOINT_OUTCOME_OK) != (f.error[0] == '\0')) {
		snprintf(err, errlen, "outcome %s %s an error text", outcome_names[f.outcome],
		         f.error[0] ? "with" : "without");
		return -EBADMSG;
	}
	if (f.outcome == ENDPOINT_OUTCOME_OK && f.http_code < 100) {
		snprintf(err, errlen, "outcome ok without an HTTP status");
		return -EBADMSG;
	}
	if (f.outcome != ENDPOINT_OUTCOME_OK && f.body_len) {
		snprintf(err, errlen, "a body with outcome %s", outcome_names[f.outcome]);
		return -EBADMSG;
	}
	memcpy(f.body, p, f.body_len);
	f.body[f.body_len] = '\0';
	*ret = f;
	return 0;
}

/* ---- HTTP, through sparkmon-fetch ----------------------------------------------- */

/* Copies a URL into a request's field. The bound is explicit so that the
 * compiler knows it whatever it inlines: through "%s" it may only see the
 * whole array of URLs endpoint_split_urls() filled, and warn. */
static void copy_url(char (*dst)[ENDPOINT_URL_MAX], const char *url)
{
	size_t len = strnlen(url, ENDPOINT_URL_MAX - 1);

	memcpy(*dst, url, len);
	(*dst)[len] = '\0';
}

/* The first non-empty line of the helper's stderr. */
static void first_line(const char *text, char *buf, size_t size)
{
	size_t len;

	text += strspn(text, "\n");
	len = strcspn(text, "\n");
	snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), text);
}

int endpoint_fetch(const char *helper, const struct config *cfg, const char *url, unsigned flags,
                   struct endpoint_request *req, struct endpoint_fetch *ret)
{
	char connect_ms[24], total_ms[24], how[64], line[96], why[128];
	const char *argv[10];
	struct runner_options opts = {
	    .timeout_ms = (unsigned)(cfg->endpoint_timeout_ms + ENDPOINT_FETCH_MARGIN_MS),
	    .max_output = ENDPOINT_FETCH_OUTPUT_MAX};
	struct runner_result res;
	size_t n = 0;
	int r;

	copy_url(&req->url, url);
	req->http_code = 0;
	req->total_seconds = 0;
	req->error[0] = '\0';
	snprintf(connect_ms, sizeof(connect_ms), "%llu",
	         (unsigned long long)cfg->endpoint_connect_timeout_ms);
	snprintf(total_ms, sizeof(total_ms), "%llu", (unsigned long long)cfg->endpoint_timeout_ms);
	argv[n++] = helper;
	if (flags & ENDPOINT_FETCH_IPV4)
		argv[n++] = "--ipv4";
	if (flags & ENDPOINT_FETCH_BODY)
		argv[n++] = "--body";
	argv[n++] = "--connect-timeout-ms";
	argv[n++] = connect_ms;
	argv[n++] = "--timeout-ms";
	argv[n++] = total_ms;
	argv[n++] = "--"; /* a URL is never taken for an option */
	argv[n++] = url;
	argv[n] = NULL;
	r = runner_run(argv, &opts, &res);
	if (r < 0) {
		snprintf(req->error, sizeof(req->error), "cannot run %s: %s", helper, strerror(-r));
		return r;
	}
	req->total_seconds = res.duration_seconds;
	if (res.timed_out || res.truncated || !res.exited || res.exit_code != 0) {
		runner_describe(&res, how, sizeof(how));
		first_line(res.err, line, sizeof(line));
		snprintf(req->error, sizeof(req->error), ENDPOINT_FETCH_NAME " %s%s%s", how,
		         line[0] ? ": " : "", line);
		r = res.timed_out ? -ETIMEDOUT : -ECHILD;
		goto out;
	}
	r = endpoint_parse_fetch(res.out, res.out_len, ret, why, sizeof(why));
	if (r < 0) {
		snprintf(req->error, sizeof(req->error), ENDPOINT_FETCH_NAME " answered badly: %s",
		         why);
		goto out;
	}
	req->http_code = ret->http_code;
	req->total_seconds = ret->total_seconds;
	snprintf(req->error, sizeof(req->error), "%s", ret->error);
	r = ret->outcome == ENDPOINT_OUTCOME_OK        ? 0
	    : ret->outcome == ENDPOINT_OUTCOME_TIMEOUT ? -ETIMEDOUT
	    : ret->outcome == ENDPOINT_OUTCOME_TOO_BIG ? -EFBIG
	                                               : -EIO;
out:
	runner_result_free(&res);
	return r;
}

static bool is_program(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int endpoint_find_helper(char *ret, size_t size, char *err, size_t errlen)
{
	char exe[PATH_MAX], here[PATH_MAX + sizeof(ENDPOINT_FETCH_NAME)] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(here, sizeof(here), "%s/" ENDPOINT_FETCH_NAME, exe);
		}
	}
	if (here[0] && strlen(here) < size && is_program(here)) {
		memcpy(ret, here, strlen(here) + 1);
		return 0;
	}
	if (is_program(SPARKMON_FETCH_PATH)) {
		snprintf(ret, size, "%s", SPARKMON_FETCH_PATH);
		return 0;
	}
	snprintf(err, errlen,
	         ENDPOINT_FETCH_NAME " not found: neither %s nor %s is an executable file",
	         here[0] ? here : "(no /proc/self/exe)", SPARKMON_FETCH_PATH);
	return -ENOENT;
}

/* ---- the public address ------------------------------------------------------ */

static void discover_ip(const struct config *cfg, const char *helper, struct endpoint *ep)
{
	char urls[ENDPOINT_URLS_MAX][ENDPOINT_URL_MAX];
	size_t n = endpoint_split_urls(cfg->endpoint_ip_urls, urls, ENDPOINT_URLS_MAX);

	for (size_t i = 0; i < n && !ep->have_ip; i++) {
		struct endpoint_request *req = &ep->attempts[ep->n_attempts++];
		struct endpoint_fetch *answer = calloc(1, sizeof(*answer));

		if (!answer) {
			copy_url(&req->url, urls[i]);
			snprintf(req->error, sizeof(req->error), "out of memory");
			return;
		}
		if (endpoint_fetch(helper, cfg, urls[i], ENDPOINT_FETCH_IPV4 | ENDPOINT_FETCH_BODY,
		                   req, answer) == 0) {
			if (req->http_code != 200)
				snprintf(req->error, sizeof(req->error), "HTTP status %ld",
				         req->http_code);
			else if (endpoint_parse_ip(answer->body, answer->body_len, ep->public_ip,
			                           req->error, sizeof(req->error)) == 0)
				req->ok = true;
		}
		if (req->ok) {
			ep->have_ip = true;
			copy_url(&ep->source_url, urls[i]);
		}
		free(answer);
	}
}

/* The state file: "<address>\n<unix time first seen>\n", whole or not at
 * all (statefile_write). */
static int write_state(const char *path, const char *ip, time_t now)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "%s\n%lld\n", ip, (long long)now);

	return statefile_write(path, text, (size_t)n, 0644);
}

void endpoint_remember(const char *state_dir, struct endpoint *ep, time_t now)
{
	static const char format[] = "not '<IPv4 address>\\n<time>\\n'";
	char *buf = NULL;
	bool corrupt = false;
	size_t len;
	int r;

	if (snprintf(ep->state_path, sizeof(ep->state_path), "%s/%s", state_dir,
	             ENDPOINT_STATE_FILE) >= (int)sizeof(ep->state_path)) {
		snprintf(ep->state_error, sizeof(ep->state_error), "state_dir path too long");
		return;
	}
	r = readfile_read(ep->state_path, ENDPOINT_STATE_MAX, &buf, &len);
	if (r == 0) {
		r = endpoint_parse_state(buf, len, ep->remembered_ip, &ep->remembered_since);
		free(buf);
		if (r == 0) {
			ep->have_remembered = true;
			return;
		}
	}
	/* Truncated, corrupt or too large: reported, never trusted, replaced. */
	corrupt = r == -EINVAL || r == -EFBIG;
	if (r < 0 && r != -ENOENT && !corrupt) {
		snprintf(ep->state_error, sizeof(ep->state_error), "%.150s: %s", ep->state_path,
		         strerror(-r));
		return;
	}
	if (corrupt)
		snprintf(ep->state_error, sizeof(ep->state_error), "%.140s: %s, ignored",
		         ep->state_path, format);
	if (!ep->have_ip)
		return;
	r = write_state(ep->state_path, ep->public_ip, now);
	if (r < 0) {
		snprintf(ep->state_error, sizeof(ep->state_error), "%s %.150s: %s",
		         corrupt ? "cannot replace corrupt" : "cannot write", ep->state_path,
		         strerror(-r));
		return;
	}
	if (corrupt) {
		/* Reported in this run; the next one reads the new file. */
		snprintf(ep->state_error, sizeof(ep->state_error), "%.140s: was %s, replaced",
		         ep->state_path, format);
		return;
	}
	snprintf(ep->remembered_ip, sizeof(ep->remembered_ip), "%s", ep->public_ip);
	ep->remembered_since = now;
	ep->have_remembered = true;
	ep->remembered_now = true;
}

/* The DNS name as clients use it; a ":port" suffix is dropped. getaddrinfo
 * blocks up to the resolver's own timeouts (resolv.conf); the probe runs
 * on its own thread, so nothing else waits for it. */
static void resolve_hostname(const struct config *cfg, struct endpoint *ep)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	char *colon;
	int r;

	snprintf(ep->hostname, sizeof(ep->hostname), "%s", cfg->endpoint_hostname);
	colon = strrchr(ep->hostname, ':');
	if (colon)
		*colon = '\0';
	if (!ep->hostname[0])
		return;
	r = getaddrinfo(ep->hostname, NULL, &hints, &res);
	if (r != 0) {
		snprintf(ep->hostname_error, sizeof(ep->hostname_error), "%s",
		         r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return;
	}
	for (struct addrinfo *ai = res; ai && ep->n_hostname_ips < ENDPOINT_IPS_MAX;
	     ai = ai->ai_next) {
		char ip[INET_ADDRSTRLEN];
		bool dup = false;

		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, ip,
		          sizeof(ip));
		for (size_t i = 0; i < ep->n_hostname_ips; i++)
			dup = dup || strcmp(ep->hostname_ips[i], ip) == 0;
		if (!dup)
			memcpy(ep->hostname_ips[ep->n_hostname_ips++], ip, sizeof(ip));
	}
	freeaddrinfo(res);
}

/* A reachability URL counts as reached when it answers below 400. */
static void run_probes(const struct config *cfg, const char *helper, struct endpoint *ep)
{
	char urls[ENDPOINT_URLS_MAX][ENDPOINT_URL_MAX];
	size_t n = endpoint_split_urls(cfg->endpoint_probes, urls, ENDPOINT_URLS_MAX);
	struct endpoint_fetch *answer = n ? calloc(1, sizeof(*answer)) : NULL;

	for (size_t i = 0; i < n; i++) {
		struct endpoint_request *req = &ep->probes[ep->n_probes++];

		if (!answer) {
			copy_url(&req->url, urls[i]);
			snprintf(req->error, sizeof(req->error), "out of memory");
			continue;
		}
		if (endpoint_fetch(helper, cfg, urls[i], 0, req, answer) == 0) {
			if (req->http_code >= 400)
				snprintf(req->error, sizeof(req->error), "HTTP status %ld",
				         req->http_code);
			else
				req->ok = true;
		}
	}
	free(answer);
}

/* curl's messages (relayed by sparkmon-fetch) quote what servers sent
 * (names, redirect targets), and errors may be cut inside a character: make
 * every text valid UTF-8. */
static void sanitize_requests(struct endpoint_request *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		text_sanitize_utf8(reqs[i].url);
		text_sanitize_utf8(reqs[i].error);
	}
}

static void sanitize_facts(struct endpoint *ep)
{
	char *texts[] = {ep->source_url, ep->state_path, ep->state_error, ep->hostname,
	                 ep->hostname_error};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		text_sanitize_utf8(texts[i]);
	sanitize_requests(ep->attempts, ep->n_attempts);
	sanitize_requests(ep->probes, ep->n_probes);
}

int endpoint_read(const struct config *cfg, struct endpoint *ret, char *err, size_t errlen)
{
	char helper[PATH_MAX] = "", one[1][ENDPOINT_URL_MAX];
	struct endpoint *ep;
	int r;

	/* No URL to fetch, no helper needed. */
	if (endpoint_split_urls(cfg->endpoint_ip_urls, one, 1) ||
	    endpoint_split_urls(cfg->endpoint_probes, one, 1)) {
		r = endpoint_find_helper(helper, sizeof(helper), err, errlen);
		if (r < 0)
			return r;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	discover_ip(cfg, helper, ep);
	if (!cfg->endpoint_expected_ip[0])
		endpoint_remember(cfg->state_dir, ep, time(NULL));
	resolve_hostname(cfg, ep);
	endpoint6_read(cfg, &ep->v6);
	run_probes(cfg, helper, ep);
	sanitize_facts(ep);
	*ret = *ep;
	free(ep);
	return 0;
}
