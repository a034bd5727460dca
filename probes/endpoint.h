/* The public side of the VPN: the public IPv4 address that every client's
 * `Endpoint =` points at (asked of "what is my IP" services over HTTP(S),
 * libcurl), what the endpoint's DNS name resolves to, and the URLs this
 * server must reach. */
#ifndef SPARKMON_ENDPOINT_H
#define SPARKMON_ENDPOINT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct config;

#define ENDPOINT_URLS_MAX  8
#define ENDPOINT_URL_MAX   256
#define ENDPOINT_ERROR_MAX 192
#define ENDPOINT_IPS_MAX   4
/* A plain-text address is 15 bytes; anything much larger is not one. */
#define ENDPOINT_BODY_MAX   1024
#define ENDPOINT_STATE_FILE "public-ip"

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
	char state_path[256];
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

/* Splits a blank-separated list into at most max URLs; returns the count. */
size_t endpoint_split_urls(const char *list, char (*ret)[ENDPOINT_URL_MAX], size_t max);

/* The probe. Failures of single requests are recorded in *ret, not returned:
 * only out-of-memory or a broken libcurl fail it. */
int endpoint_read(const struct config *cfg, struct endpoint *ret, char *err, size_t errlen);

#endif
