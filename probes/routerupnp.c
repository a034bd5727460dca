#include "probes/routerupnp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probes/routerhttp.h"

/* SSDP (UPnP Device Architecture 1.1, 1.3.2): the multicast group and
 * port, and the device types a home router's IGD announces. */
#define SSDP_GROUP "239.255.255.250"
#define SSDP_PORT  1900
static const char *const ssdp_targets[] = {
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
};

static void refuse(struct router *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void refuse(struct router *r, const char *fmt, ...)
{
	va_list ap;

	r->upnp = ROUTER_REFUSED;
	va_start(ap, fmt);
	vsnprintf(r->upnp_error, sizeof(r->upnp_error), fmt, ap);
	va_end(ap);
}

/* ---- SSDP ------------------------------------------------------------------ */

static int ssdp_socket(struct in_addr local)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = local};
	unsigned char ttl = 2;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* From the uplink's address, out of the uplink only. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &local, sizeof(local)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static void ssdp_search(int fd)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(SSDP_PORT)};
	char msg[256];

	inet_pton(AF_INET, SSDP_GROUP, &to.sin_addr);
	for (size_t i = 0; i < sizeof(ssdp_targets) / sizeof(ssdp_targets[0]); i++) {
		int n = snprintf(msg, sizeof(msg),
		                 "M-SEARCH * HTTP/1.1\r\nHOST: " SSDP_GROUP ":1900\r\n"
		                 "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: %s\r\n\r\n",
		                 ssdp_targets[i]);

		(void)sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to));
	}
}

/* One SSDP answer: 1 when it names a description URL on the uplink's
 * network (copied to r->upnp_location), 0 when it is to be ignored or was
 * refused (r->upnp_error says why). */
static int ssdp_take(const char *buf, size_t len, struct in_addr from, struct in_addr net,
                     struct router *r)
{
	char location[ROUTERMSG_URL_MAX], src[INET_ADDRSTRLEN];
	struct routermsg_url url;
	int e;

	inet_ntop(AF_INET, &from, src, sizeof(src));
	if (!routermsg_in_network(from, net, r->prefix)) {
		refuse(r, "UPnP: an SSDP answer from %s, outside %s's network %s/%u: refused", src,
		       r->ifname, r->address, r->prefix);
		return 0;
	}
	e = routermsg_ssdp_location(buf, len, location, sizeof(location));
	if (e == -E2BIG) {
		refuse(r, "UPnP: the SSDP answer of %s names a URL longer than %d bytes: refused",
		       src, ROUTERMSG_URL_MAX - 1);
		return 0;
	}
	if (e < 0)
		return 0; /* not an answer to a search (another device's noise) */
	e = routermsg_parse_url(location, &url);
	if (e < 0 || !routermsg_in_network(url.host, net, r->prefix)) {
		refuse(r, "UPnP: the SSDP answer of %s points at %.80s, %s: refused", src, location,
		       e == -EPROTONOSUPPORT ? "not an http URL"
		       : e == -EADDRNOTAVAIL ? "not an IPv4 address"
		       : e < 0               ? "not a valid URL"
		                             : "outside the uplink's network");
		return 0;
	}
	snprintf(r->upnp_location, sizeof(r->upnp_location), "%s", location);
	return 1;
}

int routerupnp_search(const struct router *r)
{
	struct in_addr local;
	int fd;

	inet_pton(AF_INET, r->address, &local);
	fd = ssdp_socket(local);
	if (fd >= 0)
		ssdp_search(fd);
	return fd;
}

/* 1 when an IGD's description URL was found, 0 otherwise. */
static int ssdp_collect(int fd, long long deadline_ms, struct router *r)
{
	struct in_addr net;
	char buf[2048];
	int found = 0;

	inet_pton(AF_INET, r->address, &net);
	for (unsigned seen = 0; seen < ROUTERUPNP_REPLIES_MAX && !found;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		long long left = deadline_ms - routerhttp_now_ms();
		ssize_t n;

		if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0)
			break;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		seen++;
		found = ssdp_take(buf, (size_t)n, from.sin_addr, net, r);
	}
	return found;
}

/* ---- HTTP and SOAP ----------------------------------------------------------- */

/* A URL of the device, which must be on the uplink's network. */
static int device_url(const char *text, const char *what, struct router *r,
                      struct routermsg_url *ret)
{
	struct in_addr net;

	inet_pton(AF_INET, r->address, &net);
	if (routermsg_parse_url(text, ret) < 0 ||
	    !routermsg_in_network(ret->host, net, r->prefix)) {
		refuse(r,
		       "UPnP: the %s URL %.80s is not an http URL on the uplink's network %s/%u: "
		       "refused",
		       what, text, r->address, r->prefix);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/* Sends request, checks the answer's status, hands back its body. */
static int exchange(const struct routermsg_url *url, const char *request, size_t len,
                    long long deadline_ms, size_t cap, bool error_ok, char **ret_buf,
                    const char **ret_body, size_t *ret_body_len, struct router *r)
{
	char err[ROUTER_ERROR_MAX];
	char *buf = NULL;
	size_t n = 0;
	int status = 0, e;

	e = routerhttp_exchange(url, request, len, deadline_ms, cap, &buf, &n, err, sizeof(err));
	if (e < 0) {
		refuse(r, "UPnP: %s", err);
		return e;
	}
	e = routermsg_http(buf, n, &status, ret_body, ret_body_len);
	if (e < 0 || (status != 200 && !(error_ok && status == 500))) {
		if (e < 0)
			refuse(r, "UPnP: the answer of %s is not HTTP we read", url->path);
		else
			refuse(r, "UPnP: %s answered HTTP %d", url->path, status);
		free(buf);
		return e < 0 ? e : -EREMOTEIO;
	}
	*ret_buf = buf;
	return 0;
}

static int fetch_description(long long deadline_ms, struct router *r, struct routermsg_igd *ret)
{
	struct routermsg_url url;
	char request[512], host[INET_ADDRSTRLEN];
	const char *body;
	char *buf = NULL;
	size_t len;
	int n, e;

	if ((e = device_url(r->upnp_location, "description", r, &url)) < 0)
		return e;
	inet_ntop(AF_INET, &url.host, host, sizeof(host));
	n = snprintf(request, sizeof(request),
	             "GET %s HTTP/1.0\r\nHost: %s:%u\r\nConnection: close\r\n\r\n", url.path, host,
	             url.port);
	e = exchange(&url, request, (size_t)n, deadline_ms, ROUTERUPNP_DESC_MAX, false, &buf, &body,
	             &len, r);
	if (e < 0)
		return e;
	e = routermsg_igd(body, len, r->upnp_location, ret);
	if (e == -EBADMSG)
		refuse(r,
		       "UPnP: the description at %.80s holds a document type declaration or "
		       "NUL bytes: refused",
		       r->upnp_location);
	else if (e < 0)
		refuse(r, "UPnP: the description at %.80s lists no WAN connection service",
		       r->upnp_location);
	free(buf);
	return e;
}

/* One SOAP action: its answer (an HTTP 200, or a 500 that carries a UPnP
 * error) in *ret_buf (freed by the caller), the body at *ret_body. */
static int soap_call(const struct routermsg_url *ctl, const char *action, const char *const *names,
                     const char *const *values, size_t nargs, long long deadline_ms, char **ret_buf,
                     const char **ret_body, size_t *ret_len, struct router *r)
{
	char body[1024], request[2048], host[INET_ADDRSTRLEN];
	int blen, n;

	blen = routermsg_soap_request(r->upnp_service, action, names, values, nargs, body,
	                              sizeof(body));
	if (blen < 0)
		return blen;
	inet_ntop(AF_INET, &ctl->host, host, sizeof(host));
	n = snprintf(request, sizeof(request),
	             "POST %s HTTP/1.0\r\nHost: %s:%u\r\nContent-Type: text/xml; "
	             "charset=\"utf-8\"\r\nSOAPAction: \"%s#%s\"\r\nContent-Length: %d\r\n"
	             "Connection: close\r\n\r\n%s",
	             ctl->path, host, ctl->port, r->upnp_service, action, blen, body);
	if (n < 0 || (size_t)n >= sizeof(request))
		return -E2BIG;
	return exchange(ctl, request, (size_t)n, deadline_ms, ROUTERUPNP_SOAP_MAX, true, ret_buf,
	                ret_body, ret_len, r);
}

/* One value of a SOAP answer into out (size ROUTERMSG_VALUE_MAX).
 * Returns 0, -EREMOTEIO with the UPnP error code in *ret_code (the router
 * said no), or another negative errno with r->upnp_error set. */
static int soap_value(const char *action, const char *body, size_t len, const char *want, char *out,
                      int *ret_code, struct router *r)
{
	int e = routermsg_soap_value(body, len, want, out, ROUTERMSG_VALUE_MAX, ret_code);

	if (e == -EBADMSG)
		refuse(r,
		       "UPnP: the %s answer holds a document type declaration or NUL bytes: "
		       "refused",
		       action);
	else if (e == -E2BIG)
		refuse(r, "UPnP: the %s answer's %s is too long: refused", action, want);
	else if (e == -ENODATA)
		refuse(r, "UPnP: the %s answer has no %s", action, want);
	return e;
}

static int ask_external_ip(const struct routermsg_url *ctl, long long deadline_ms, struct router *r)
{
	static const char action[] = "GetExternalIPAddress";
	char value[ROUTERMSG_VALUE_MAX], *buf = NULL;
	const char *body;
	struct in_addr ip;
	size_t len;
	int code = 0, e;

	if ((e = soap_call(ctl, action, NULL, NULL, 0, deadline_ms, &buf, &body, &len, r)) < 0)
		return e;
	e = soap_value(action, body, len, "NewExternalIPAddress", value, &code, r);
	free(buf);
	if (e == -EREMOTEIO)
		refuse(r, "UPnP: %s failed with UPnP error %d", action, code);
	if (e < 0)
		return e;
	/* An empty address: the router has no WAN connection now. */
	if (value[0] && routermsg_ipv4(value, &ip) < 0) {
		refuse(r, "UPnP: the external address the router gave is not an IPv4 address: "
		          "refused");
		return -EINVAL;
	}
	r->upnp_ip[0] = '\0';
	if (value[0])
		inet_ntop(AF_INET, &ip, r->upnp_ip, sizeof(r->upnp_ip));
	return 0;
}

/* How many mappings the router lists (GetGenericPortMappingEntry from
 * index 0 until SpecifiedArrayIndexInvalid), at most ROUTER_MAPPINGS_MAX.
 * Errors here only end the count. */
static void count_mappings(const struct routermsg_url *ctl, long long deadline_ms, struct router *r)
{
	static const char *const names[] = {"NewPortMappingIndex"};
	struct router scratch = *r;

	for (uint32_t i = 0; i < ROUTER_MAPPINGS_MAX; i++) {
		char index[12], value[ROUTERMSG_VALUE_MAX], *buf = NULL;
		const char *values[] = {index}, *body;
		size_t len;
		int code = 0, e;

		snprintf(index, sizeof(index), "%u", i);
		e = soap_call(ctl, "GetGenericPortMappingEntry", names, values, 1, deadline_ms,
		              &buf, &body, &len, &scratch);
		if (e == 0)
			e = routermsg_soap_value(body, len, "NewExternalPort", value, sizeof(value),
			                         &code);
		free(buf);
		if (e < 0)
			break;
		r->mappings_listed = i + 1;
	}
}

/* The answer's values for the mapping; false (r->mapping_error) when one
 * is missing or not what it should be. */
static bool read_entry(const char *body, size_t len, struct router *r)
{
	static const char *const wants[] = {"NewInternalClient", "NewInternalPort", "NewEnabled",
	                                    "NewPortMappingDescription"};
	char v[4][ROUTERMSG_VALUE_MAX];
	struct in_addr client;
	unsigned long port;
	char *end;

	for (size_t i = 0; i < 4; i++) {
		int e = routermsg_soap_value(body, len, wants[i], v[i], sizeof(v[i]), NULL);

		/* A description is optional, and only shown: one that is
		 * missing or too long to keep whole is left out. */
		if ((e == -ENODATA || e == -E2BIG) && i == 3)
			v[i][0] = '\0';
		else if (e < 0) {
			snprintf(
			    r->mapping_error, sizeof(r->mapping_error),
			    "the GetSpecificPortMappingEntry answer's %s is missing or too long",
			    wants[i]);
			return false;
		}
	}
	port = strtoul(v[1], &end, 10);
	if (routermsg_ipv4(v[0], &client) < 0 || !v[1][0] || *end || port == 0 || port > 65535 ||
	    (strcmp(v[2], "0") != 0 && strcmp(v[2], "1") != 0)) {
		snprintf(r->mapping_error, sizeof(r->mapping_error),
		         "the GetSpecificPortMappingEntry answer's client, port or enabled flag is "
		         "not valid: refused");
		return false;
	}
	inet_ntop(AF_INET, &client, r->mapping_client, sizeof(r->mapping_client));
	r->mapping_port = (uint16_t)port;
	r->mapping_enabled = v[2][0] == '1';
	snprintf(r->mapping_description, sizeof(r->mapping_description), "%s", v[3]);
	for (char *c = r->mapping_description; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = '?';
	return true;
}

static void ask_mapping(const struct routermsg_url *ctl, long long deadline_ms, struct router *r)
{
	static const char action[] = "GetSpecificPortMappingEntry";
	static const char *const names[] = {"NewRemoteHost", "NewExternalPort", "NewProtocol"};
	char port[8], client[ROUTERMSG_VALUE_MAX], *buf = NULL;
	const char *values[] = {"", port, "UDP"}, *body;
	struct router scratch = *r;
	size_t len;
	int code = 0, e;

	snprintf(port, sizeof(port), "%u", r->port);
	e = soap_call(ctl, action, names, values, 3, deadline_ms, &buf, &body, &len, &scratch);
	if (e < 0) {
		snprintf(r->mapping_error, sizeof(r->mapping_error), "%s", scratch.upnp_error);
		return;
	}
	e = routermsg_soap_value(body, len, "NewInternalClient", client, sizeof(client), &code);
	if (e == -EREMOTEIO && code == ROUTERMSG_UPNP_NO_SUCH_ENTRY)
		r->mapping = ROUTER_MAPPING_NONE;
	else if (e == -EREMOTEIO)
		snprintf(r->mapping_error, sizeof(r->mapping_error), "%s failed with UPnP error %d",
		         action, code);
	else if (e == -EBADMSG)
		snprintf(r->mapping_error, sizeof(r->mapping_error),
		         "the %s answer holds a document type declaration or NUL bytes: refused",
		         action);
	else if (read_entry(body, len, r))
		r->mapping = ROUTER_MAPPING_FOUND;
	free(buf);
	if (r->mapping == ROUTER_MAPPING_NONE)
		count_mappings(ctl, deadline_ms, r);
}

void routerupnp_ask(int search_fd, long long search_deadline_ms, long long deadline_ms,
                    struct router *r)
{
	struct routermsg_igd igd;
	struct routermsg_url ctl;

	r->upnp = ROUTER_NO_ANSWER;
	r->mapping = ROUTER_MAPPING_UNKNOWN;
	if (search_fd < 0) {
		refuse(r, "UPnP: no SSDP socket on %s: %s", r->address, strerror(-search_fd));
		return;
	}
	if (!ssdp_collect(search_fd, search_deadline_ms, r))
		return;
	if (fetch_description(deadline_ms, r, &igd) < 0)
		return;
	snprintf(r->upnp_service, sizeof(r->upnp_service), "%s", igd.service_type);
	if (device_url(igd.control_url, "control", r, &ctl) < 0)
		return;
	if (ask_external_ip(&ctl, deadline_ms, r) < 0)
		return;
	r->upnp = ROUTER_ANSWERED;
	r->upnp_error[0] = '\0';
	ask_mapping(&ctl, deadline_ms, r);
}
