#include "probes/endpoint.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/config.h"
#include "probes/readfile.h"
#include "probes/text.h"

#define ENDPOINT_STATE_MAX 256

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
	if (errno || end == nl + 1 || (*end && strcmp(end, "\n") != 0) || since < 0)
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

/* ---- HTTP ------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct body {
	char data[ENDPOINT_BODY_MAX + 1];
	size_t len;
	bool keep;    /* keep the body (IP discovery) or only count it */
	bool too_big; /* the cap was hit and the transfer aborted */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct body *b = user;
	size_t n = size * nmemb;

	if (!b->keep)
		return n;
	if (b->len + n > ENDPOINT_BODY_MAX) {
		b->too_big = true;
		return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* One GET with the configured deadlines; fills req and, for IP discovery,
 * the body. Returns 0 when an HTTP response arrived in full. */
static int http_get(const struct config *cfg, const char *url, bool ipv4_only, struct body *body,
                    struct endpoint_request *req)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *curl;
	CURLcode rc;
	int r = 0;

	snprintf(req->url, sizeof(req->url), "%s", url);
	curl = curl_easy_init();
	if (!curl) {
		snprintf(req->error, sizeof(req->error), "libcurl could not start a request");
		return -ENOMEM;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	/* Threads: no signals for DNS timeouts. */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->endpoint_connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)cfg->endpoint_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "sparkmon/" SPARKMON_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	/* The address clients reach over IPv4 is the one that matters. */
	if (ipv4_only)
		curl_easy_setopt(curl, CURLOPT_IPRESOLVE, CURL_IPRESOLVE_V4);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &req->http_code);
	curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &req->total_seconds);
	if (body->too_big) {
		snprintf(req->error, sizeof(req->error), "answer larger than %d bytes",
		         ENDPOINT_BODY_MAX);
		r = -EFBIG;
	} else if (rc != CURLE_OK) {
		snprintf(req->error, sizeof(req->error), "%s",
		         errbuf[0] ? errbuf : curl_easy_strerror(rc));
		r = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	curl_easy_cleanup(curl);
	return r;
}

/* ---- the public address ------------------------------------------------------ */

static void discover_ip(const struct config *cfg, struct endpoint *ep)
{
	char urls[ENDPOINT_URLS_MAX][ENDPOINT_URL_MAX];
	size_t n = endpoint_split_urls(cfg->endpoint_ip_urls, urls, ENDPOINT_URLS_MAX);

	for (size_t i = 0; i < n && !ep->have_ip; i++) {
		struct endpoint_request *req = &ep->attempts[ep->n_attempts++];
		struct body *body = calloc(1, sizeof(*body));

		if (!body) {
			snprintf(req->error, sizeof(req->error), "out of memory");
			return;
		}
		body->keep = true;
		if (http_get(cfg, urls[i], true, body, req) == 0) {
			if (req->http_code != 200)
				snprintf(req->error, sizeof(req->error), "HTTP status %ld",
				         req->http_code);
			else if (endpoint_parse_ip(body->data, body->len, ep->public_ip, req->error,
			                           sizeof(req->error)) == 0)
				req->ok = true;
		}
		if (req->ok) {
			ep->have_ip = true;
			snprintf(ep->source_url, sizeof(ep->source_url), "%s", urls[i]);
		}
		free(body);
	}
}

/* Reads the remembered address, or remembers this one when there is none.
 * A remembered address is kept until someone removes the file: a change
 * stays visible until it is dealt with. */
static void remember_ip(const struct config *cfg, struct endpoint *ep)
{
	char tmp[300], text[64];
	char *buf = NULL;
	size_t len;
	int r, fd, n;

	if (snprintf(ep->state_path, sizeof(ep->state_path), "%s/%s", cfg->state_dir,
	             ENDPOINT_STATE_FILE) >= (int)sizeof(ep->state_path)) {
		snprintf(ep->state_error, sizeof(ep->state_error), "state_dir path too long");
		return;
	}
	r = readfile_read(ep->state_path, ENDPOINT_STATE_MAX, &buf, &len);
	if (r == 0) {
		if (endpoint_parse_state(buf, len, ep->remembered_ip, &ep->remembered_since) == 0)
			ep->have_remembered = true;
		else
			snprintf(ep->state_error, sizeof(ep->state_error),
			         "%.150s: not '<IPv4 address>\\n<time>\\n'", ep->state_path);
		free(buf);
		return;
	}
	if (r != -ENOENT) {
		snprintf(ep->state_error, sizeof(ep->state_error), "%.150s: %s", ep->state_path,
		         strerror(-r));
		return;
	}
	if (!ep->have_ip)
		return;
	/* Written to a temporary file and renamed: never half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", ep->state_path);
	n = snprintf(text, sizeof(text), "%s\n%lld\n", ep->public_ip, (long long)time(NULL));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, ep->state_path) < 0) {
		snprintf(ep->state_error, sizeof(ep->state_error), "cannot write %.150s: %s",
		         ep->state_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return;
	}
	snprintf(ep->remembered_ip, sizeof(ep->remembered_ip), "%s", ep->public_ip);
	ep->remembered_since = time(NULL);
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
static void run_probes(const struct config *cfg, struct endpoint *ep)
{
	char urls[ENDPOINT_URLS_MAX][ENDPOINT_URL_MAX];
	size_t n = endpoint_split_urls(cfg->endpoint_probes, urls, ENDPOINT_URLS_MAX);

	for (size_t i = 0; i < n; i++) {
		struct endpoint_request *req = &ep->probes[ep->n_probes++];
		struct body body = {.keep = false};

		if (http_get(cfg, urls[i], false, &body, req) == 0) {
			if (req->http_code >= 400)
				snprintf(req->error, sizeof(req->error), "HTTP status %ld",
				         req->http_code);
			else
				req->ok = true;
		}
	}
}

/* curl's messages quote what servers sent (names, redirect targets), and
 * errors may be cut inside a character: make every text valid UTF-8. */
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
	struct endpoint *ep;

	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(curl_init_result));
		return -EIO;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	discover_ip(cfg, ep);
	if (!cfg->endpoint_expected_ip[0])
		remember_ip(cfg, ep);
	resolve_hostname(cfg, ep);
	run_probes(cfg, ep);
	sanitize_facts(ep);
	*ret = *ep;
	free(ep);
	return 0;
}
