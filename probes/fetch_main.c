/* sparkmon-fetch: one HTTP(S) GET with libcurl, for the endpoint probe, or
 * one POST (--post) of an alert notification (monitor/alertrun.c).
 *
 * A program of its own for two reasons. Memory: libcurl brings libcrypto,
 * libssl, Kerberos, libssh2, LDAP, nghttp2, ... whose pages would stay
 * resident in the daemon for a few GETs every few minutes; in a helper they
 * are loaded only while it runs. Exposure: TLS and HTTP answers from servers
 * on the internet are parsed here, in a short-lived process that holds
 * nothing of the daemon's (no configuration, no snapshot, no sockets),
 * under the daemon's deadline, and whose output the daemon validates
 * (endpoint_parse_fetch).
 *
 * It writes the answer format that probes/endpoint.h describes and exits 0
 * whenever it could attempt the request (whatever the request's outcome);
 * usage errors and a libcurl that cannot start exit nonzero with a message
 * on stderr. Not part of libsparkmon: only this program links libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/endpoint.h"

#define FETCH_EXIT_USAGE  2
#define FETCH_EXIT_BROKEN 1
#define STRING_(x)        #x
#define STRING(x)         STRING_(x)
#define BODY_MAX_TEXT     STRING(ENDPOINT_BODY_MAX)
/* Longer than any configured deadline (at most 120 s), but bounded. */
#define FETCH_TIMEOUT_MAX_MS 3600000L

static const char usage_text[] =
    "usage: sparkmon-fetch [--ipv4] [--body] --connect-timeout-ms N --timeout-ms N [--] URL\n"
    "       sparkmon-fetch --post [--body] --connect-timeout-ms N --timeout-ms N <REQUEST\n"
    "\n"
    "One GET of URL (http or https, at most 3 redirects) for sparkmon's endpoint\n"
    "probe. Writes to stdout:\n"
    "\n"
    "  " ENDPOINT_FETCH_MAGIC "\n"
    "  outcome ok|timeout|too-big|error\n"
    "  code HTTP-STATUS (0 when no response came)\n"
    "  seconds TOTAL-SECONDS\n"
    "  error ONE-LINE-MESSAGE (empty when ok)\n"
    "  body LENGTH\n"
    "followed by LENGTH bytes of the response body. The body is kept only with\n"
    "--body, at most " BODY_MAX_TEXT " bytes (a longer one is outcome too-big);\n"
    "--ipv4 resolves the host to IPv4 addresses only.\n"
    "\n"
    "--post sends one POST (no redirect followed) described on stdin: a line\n"
    "'url URL', up to 8 lines 'header NAME: VALUE', a line 'body LENGTH', then\n"
    "LENGTH bytes of body.\n"
    "\n"
    "Exit status: 0 when the request was attempted (see outcome), 1 when libcurl\n"
    "could not start, 2 for a usage error.\n";

struct options {
	bool ipv4;
	bool body;
	bool post;
	long connect_timeout_ms;
	long timeout_ms;
	const char *url;
};

struct body {
	char data[ENDPOINT_BODY_MAX];
	size_t len;
	bool keep;    /* keep the body (--body) or only drain it */
	bool too_big; /* the cap was hit and the transfer aborted */
};

static int usage(const char *problem)
{
	if (problem)
		fprintf(stderr, "sparkmon-fetch: %s\n", problem);
	fputs(usage_text, stderr);
	return FETCH_EXIT_USAGE;
}

static bool parse_ms(const char *text, long *ret)
{
	char *end;
	long v;

	if (!text || *text < '0' || *text > '9')
		return false;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < 1 || v > FETCH_TIMEOUT_MAX_MS)
		return false;
	*ret = v;
	return true;
}

/* Returns 0, or the exit code of a usage error (after saying why). */
static int parse_args(int argc, char **argv, struct options *ret)
{
	struct options o = {.connect_timeout_ms = 0, .timeout_ms = 0};
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			exit(0);
		} else if (strcmp(a, "--ipv4") == 0) {
			o.ipv4 = true;
		} else if (strcmp(a, "--body") == 0) {
			o.body = true;
		} else if (strcmp(a, "--post") == 0) {
			o.post = true;
		} else if (strcmp(a, "--connect-timeout-ms") == 0) {
			if (!parse_ms(i + 1 < argc ? argv[++i] : NULL, &o.connect_timeout_ms))
				return usage("--connect-timeout-ms takes 1 to 3600000 (ms)");
		} else if (strcmp(a, "--timeout-ms") == 0) {
			if (!parse_ms(i + 1 < argc ? argv[++i] : NULL, &o.timeout_ms))
				return usage("--timeout-ms takes 1 to 3600000 (ms)");
		} else {
			return usage("unknown option");
		}
	}
	if (!o.connect_timeout_ms || !o.timeout_ms)
		return usage("--connect-timeout-ms and --timeout-ms are required");
	if (o.post && argc - i != 0)
		return usage("--post reads the URL from stdin, not the command line");
	if (!o.post && argc - i != 1)
		return usage("one URL, please");
	o.url = o.post ? NULL : argv[i];
	*ret = o;
	return 0;
}

/* The request of --post, read from stdin (see probes/endpoint.h). */
struct post {
	char input[ENDPOINT_POST_INPUT_MAX + 1];
	char url[ENDPOINT_POST_URL_MAX];
	struct curl_slist *headers;
	const char *body;
	size_t body_len;
};

/* One line of the request: "<key> <value>\n" with no control character;
 * the value is copied into val. Returns the bytes consumed, 0 on error. */
static size_t request_line(const char *p, size_t left, const char *key, char *val, size_t size)
{
	size_t klen = strlen(key), i;

	if (left <= klen || memcmp(p, key, klen) != 0 || p[klen] != ' ')
		return 0;
	for (i = klen + 1; i < left && p[i] != '\n'; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	if (i == left || i - klen - 1 >= size)
		return 0;
	memcpy(val, p + klen + 1, i - klen - 1);
	val[i - klen - 1] = '\0';
	return i + 1;
}

static int read_request(struct post *req)
{
	char line[ENDPOINT_POST_HEADER_MAX], *end;
	size_t len = 0, used, n;
	unsigned long long blen;
	int headers = 0;

	while (len < sizeof(req->input) - 1) {
		ssize_t r = read(0, req->input + len, sizeof(req->input) - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return usage("cannot read the request on stdin");
		if (r == 0)
			break;
		len += (size_t)r;
	}
	used = request_line(req->input, len, "url", req->url, sizeof(req->url));
	if (!used ||
	    (strncmp(req->url, "http://", 7) != 0 && strncmp(req->url, "https://", 8) != 0))
		return usage("the request starts with 'url http(s)://...'");
	while ((n = request_line(req->input + used, len - used, "header", line, sizeof(line)))) {
		struct curl_slist *more;

		if (++headers > ENDPOINT_POST_HEADERS_MAX || !strchr(line, ':'))
			return usage("at most 8 'header NAME: VALUE' lines");
		more = curl_slist_append(req->headers, line);
		if (!more)
			return FETCH_EXIT_BROKEN;
		req->headers = more;
		used += n;
	}
	n = request_line(req->input + used, len - used, "body", line, sizeof(line));
	if (!n || line[0] < '0' || line[0] > '9')
		return usage("a 'body LENGTH' line follows the headers");
	errno = 0;
	blen = strtoull(line, &end, 10);
	used += n;
	if (errno || *end || blen > ENDPOINT_POST_BODY_MAX || blen != len - used)
		return usage("the body is not LENGTH bytes (at most " STRING(
		    ENDPOINT_POST_BODY_MAX) ") up to the end of stdin");
	req->body = req->input + used;
	req->body_len = (size_t)blen;
	return 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct body *b = user;
	size_t n = size * nmemb;

	if (!b->keep)
		return n;
	if (n > ENDPOINT_BODY_MAX - b->len) {
		b->too_big = true;
		return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	return n;
}

/* curl's messages quote what servers sent (host names, redirect targets):
 * one line without control characters (a run of them becomes one space),
 * cut to fit size. A character cut in two is the daemon's to mend: it
 * makes every text valid UTF-8 (text_sanitize_utf8), whatever its source. */
static void one_line(const char *src, char *dst, size_t size)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = 0;

	for (; *p && n + 1 < size; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			if (n > 0 && dst[n - 1] != ' ')
				dst[n++] = ' ';
			continue;
		}
		dst[n++] = (char)*p;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* Sets the options of the one request; false when libcurl refuses one (a
 * libcurl too old for the protocol restriction is broken for us). */
static bool set_options(CURL *curl, const struct options *o, struct body *body, char *errbuf)
{
	bool ok = true;

	ok = ok && curl_easy_setopt(curl, CURLOPT_URL, o->url) == CURLE_OK;
	/* A notification is posted where it was configured: a redirect would
	 * turn the POST into a GET, or carry the message elsewhere. */
	ok = ok && curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, o->post ? 0L : 1L) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok = ok &&
	     curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->timeout_ms) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L) == CURLE_OK;
	ok = ok &&
	     curl_easy_setopt(curl, CURLOPT_USERAGENT, "sparkmon/" SPARKMON_VERSION) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_WRITEDATA, body) == CURLE_OK;
	/* The address clients reach over IPv4 is the one that matters. */
	if (o->ipv4)
		ok = ok && curl_easy_setopt(curl, CURLOPT_IPRESOLVE, CURL_IPRESOLVE_V4) == CURLE_OK;
	return ok;
}

static bool set_post(CURL *curl, const struct post *req)
{
	bool ok = true;

	ok = ok && curl_easy_setopt(curl, CURLOPT_POST, 1L) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)req->body_len) == CURLE_OK;
	ok = ok && curl_easy_setopt(curl, CURLOPT_HTTPHEADER, req->headers) == CURLE_OK;
	return ok;
}

static int write_answer(const char *outcome, long code, double seconds, const char *error,
                        const struct body *body)
{
	size_t len = body->too_big ? 0 : body->len;

	if (!(seconds >= 0 && seconds < 1e6)) /* also NaN */
		seconds = 0;
	if (code < 0 || code > 999)
		code = 0;
	printf("%s\noutcome %s\ncode %ld\nseconds %.6f\nerror %s\nbody %zu\n", ENDPOINT_FETCH_MAGIC,
	       outcome, code, seconds, error, len);
	if (len && fwrite(body->data, 1, len, stdout) != len)
		return FETCH_EXIT_BROKEN;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sparkmon-fetch: cannot write the answer: %s\n", strerror(errno));
		return FETCH_EXIT_BROKEN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct body body;
	static struct post post;
	char errbuf[CURL_ERROR_SIZE] = "", error[ENDPOINT_ERROR_MAX] = "";
	const char *outcome = "ok";
	struct options o = {.url = NULL};
	long code = 0;
	double seconds = 0;
	CURLcode rc;
	CURL *curl;
	int r;

	r = parse_args(argc, argv, &o);
	if (r)
		return r;
	if (o.post) {
		r = read_request(&post);
		if (r) {
			curl_slist_free_all(post.headers);
			return r;
		}
		o.url = post.url;
	}
	body.keep = o.body;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		fprintf(stderr, "sparkmon-fetch: libcurl: %s\n", curl_easy_strerror(rc));
		return FETCH_EXIT_BROKEN;
	}
	curl = curl_easy_init();
	if (!curl || !set_options(curl, &o, &body, errbuf) || (o.post && !set_post(curl, &post))) {
		fprintf(stderr, "sparkmon-fetch: libcurl %s cannot set up the request\n",
		        curl_version_info(CURLVERSION_NOW)->version);
		curl_easy_cleanup(curl);
		curl_slist_free_all(post.headers);
		curl_global_cleanup();
		return FETCH_EXIT_BROKEN;
	}
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &seconds);
	if (body.too_big) {
		outcome = "too-big";
		snprintf(error, sizeof(error), "answer larger than %d bytes", ENDPOINT_BODY_MAX);
	} else if (rc != CURLE_OK) {
		outcome = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "error";
		one_line(errbuf[0] ? errbuf : curl_easy_strerror(rc), error, sizeof(error));
		if (!error[0])
			snprintf(error, sizeof(error), "libcurl error %d", (int)rc);
	}
	curl_easy_cleanup(curl);
	curl_slist_free_all(post.headers);
	explicit_bzero(post.url, sizeof(post.url));
	curl_global_cleanup();
	return write_answer(outcome, code, seconds, error, &body);
}
