#include "probes/routermsg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <miniupnpc/igd_desc_parse.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpreplyparse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libminiupnpc's parsers take an int length. */
#define ROUTERMSG_XML_MAX (1 << 20)

/* The line at *pos (up to CRLF or LF, not included), advancing *pos past
 * its end; false at the end of the buffer. */
static bool next_line(const char *buf, size_t len, size_t *pos, const char **ret_line,
                      size_t *ret_len)
{
	const char *nl;
	size_t n;

	if (*pos >= len)
		return false;
	nl = memchr(buf + *pos, '\n', len - *pos);
	n = nl ? (size_t)(nl - (buf + *pos)) : len - *pos;
	*ret_line = buf + *pos;
	*pos += n + (nl ? 1 : 0);
	if (n && (*ret_line)[n - 1] == '\r')
		n--;
	*ret_len = n;
	return true;
}

/* "HTTP/1.x NNN": the status code, or -1. */
static int status_code(const char *line, size_t n)
{
	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
	    !isdigit((unsigned char)line[9]) || !isdigit((unsigned char)line[10]) ||
	    !isdigit((unsigned char)line[11]) || (n > 12 && line[12] != ' '))
		return -1;
	return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

/* The value of a header line "Name: value" when its name is `name`
 * (case-insensitive), spaces trimmed; NULL otherwise. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *ret_len)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return NULL;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	*ret_len = n;
	return line;
}

int routermsg_ssdp_location(const char *buf, size_t len, char *ret, size_t size)
{
	const char *line, *v;
	size_t pos = 0, n, vn;

	if (!next_line(buf, len, &pos, &line, &n) || status_code(line, n) != 200)
		return -EBADMSG;
	while (next_line(buf, len, &pos, &line, &n) && n) {
		if (!(v = header_value(line, n, "location", &vn)))
			continue;
		if (vn == 0)
			return -ENODATA;
		if (vn >= size || memchr(v, '\0', vn))
			return -E2BIG;
		memcpy(ret, v, vn);
		ret[vn] = '\0';
		return 0;
	}
	return -ENODATA;
}

int routermsg_ipv4(const char *text, struct in_addr *ret)
{
	struct in_addr a;

	/* inet_pton takes exactly a dotted quad: no octal, no short forms. */
	if (inet_pton(AF_INET, text, &a) != 1)
		return -EINVAL;
	*ret = a;
	return 0;
}

int routermsg_parse_url(const char *url, struct routermsg_url *ret)
{
	struct routermsg_url u = {.port = 80};
	char host[INET_ADDRSTRLEN];
	const char *p, *end;
	size_t hn;

	if (strncasecmp(url, "http://", 7) != 0)
		return -EPROTONOSUPPORT;
	p = url + 7;
	hn = strcspn(p, ":/?#");
	if (hn == 0)
		return -EINVAL;
	if (hn >= sizeof(host))
		return -EADDRNOTAVAIL;
	memcpy(host, p, hn);
	host[hn] = '\0';
	if (routermsg_ipv4(host, &u.host) < 0)
		return -EADDRNOTAVAIL;
	p += hn;
	if (*p == ':') {
		unsigned long port;
		char *e;

		if (!isdigit((unsigned char)p[1]))
			return -EINVAL;
		errno = 0;
		port = strtoul(p + 1, &e, 10);
		if (errno || port == 0 || port > 65535 || (*e && *e != '/'))
			return -EINVAL;
		u.port = (uint16_t)port;
		p = e;
	}
	if (*p && *p != '/')
		return -EINVAL;
	end = *p ? p + strlen(p) : p;
	if ((size_t)(end - p) + 2 > sizeof(u.path))
		return -E2BIG;
	for (const char *c = p; c < end; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return -EINVAL;
	snprintf(u.path, sizeof(u.path), "%s", *p ? p : "/");
	*ret = u;
	return 0;
}

bool routermsg_in_network(struct in_addr addr, struct in_addr net, unsigned prefix)
{
	uint32_t mask = prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);

	return (ntohl(addr.s_addr) & mask) == (ntohl(net.s_addr) & mask);
}

int routermsg_http(const char *buf, size_t len, int *ret_status, const char **ret_body,
                   size_t *ret_body_len)
{
	const char *line, *v;
	size_t pos = 0, n, vn, body_len;
	long long content_length = -1;
	int status;

	if (!next_line(buf, len, &pos, &line, &n) || (status = status_code(line, n)) < 0)
		return -EBADMSG;
	for (;;) {
		if (!next_line(buf, len, &pos, &line, &n))
			return -EBADMSG; /* no blank line: the headers never ended */
		if (n == 0)
			break;
		if ((v = header_value(line, n, "transfer-encoding", &vn)) && vn &&
		    strncasecmp(v, "identity", vn) != 0)
			return -EPROTONOSUPPORT;
		if ((v = header_value(line, n, "content-length", &vn))) {
			char digits[24];

			if (vn == 0 || vn >= sizeof(digits))
				return -EBADMSG;
			memcpy(digits, v, vn);
			digits[vn] = '\0';
			if (strspn(digits, "0123456789") != vn)
				return -EBADMSG;
			content_length = strtoll(digits, NULL, 10);
		}
	}
	body_len = len - pos;
	if (content_length >= 0 && (unsigned long long)content_length < body_len)
		body_len = (size_t)content_length;
	*ret_status = status;
	*ret_body = buf + pos;
	*ret_body_len = body_len;
	return 0;
}

int routermsg_xml_plain(const char *body, size_t len)
{
	if (len > ROUTERMSG_XML_MAX || memchr(body, '\0', len) || memmem(body, len, "<!", 2))
		return -EBADMSG;
	return 0;
}

/* ref joined to the base URL (scheme, host and port of base; ref's path),
 * or ref itself when it is absolute. */
static int join_url(const char *base, const char *ref, char *ret, size_t size)
{
	size_t hostlen;
	int n;

	if (strncasecmp(ref, "http://", 7) == 0)
		n = snprintf(ret, size, "%s", ref);
	else {
		if (strncasecmp(base, "http://", 7) != 0)
			return -EINVAL;
		hostlen = 7 + strcspn(base + 7, "/?#");
		n = snprintf(ret, size, "%.*s%s%s", (int)hostlen, base, ref[0] == '/' ? "" : "/",
		             ref);
	}
	return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

/* Of parserootdesc's services, the first that is a WAN connection (IP or
 * PPP) with a control URL. */
static const struct IGDdatas_service *wan_service(const struct IGDdatas *d)
{
	const struct IGDdatas_service *cands[] = {&d->first, &d->second};

	for (size_t i = 0; i < 2; i++)
		if (cands[i]->controlurl[0] &&
		    (strstr(cands[i]->servicetype, ":service:WANIPConnection:") ||
		     strstr(cands[i]->servicetype, ":service:WANPPPConnection:")))
			return cands[i];
	return NULL;
}

int routermsg_igd(const char *body, size_t len, const char *desc_url, struct routermsg_igd *ret)
{
	struct routermsg_igd igd;
	const struct IGDdatas_service *s;
	struct IGDdatas *d;
	int r;

	if ((r = routermsg_xml_plain(body, len)) < 0)
		return r;
	/* Large (a few KiB): on the heap. */
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	parserootdesc(body, (int)len, d);
	s = wan_service(d);
	if (!s) {
		r = -ENODATA;
		goto out;
	}
	r = join_url(d->urlbase[0] ? d->urlbase : desc_url, s->controlurl, igd.control_url,
	             sizeof(igd.control_url));
	if (r < 0)
		goto out;
	if (strlen(s->servicetype) >= sizeof(igd.service_type)) {
		r = -E2BIG;
		goto out;
	}
	snprintf(igd.service_type, sizeof(igd.service_type), "%s", s->servicetype);
	*ret = igd;
out:
	free(d);
	return r;
}

int routermsg_soap_value(const char *body, size_t len, const char *name, char *ret, size_t size,
                         int *ret_upnp_error)
{
	struct NameValueParserData data;
	const char *v, *code;
	size_t n;
	int r;

	if ((r = routermsg_xml_plain(body, len)) < 0)
		return r;
	memset(&data, 0, sizeof(data));
	ParseNameValue(body, (int)len, &data);
	code = GetValueFromNameValueList(&data, "errorCode");
	if (code) {
		if (ret_upnp_error)
			*ret_upnp_error = atoi(code);
		r = -EREMOTEIO;
		goto out;
	}
	v = GetValueFromNameValueList(&data, name);
	if (!v) {
		r = -ENODATA;
		goto out;
	}
	n = strlen(v);
	if (n >= size || n + 1 >= ROUTERMSG_VALUE_MAX) {
		r = -E2BIG;
		goto out;
	}
	memcpy(ret, v, n + 1);
out:
	ClearNameValueList(&data);
	return r;
}

int routermsg_natpmp_public(const uint8_t *buf, size_t len, struct in_addr *ret,
                            uint16_t *ret_result)
{
	uint16_t result;

	if (len != ROUTERMSG_NATPMP_ANSWER_SIZE)
		return -EMSGSIZE;
	if (buf[0] != 0 || buf[1] != 128)
		return -EBADMSG;
	result = (uint16_t)(buf[2] << 8 | buf[3]);
	if (result != 0) {
		if (ret_result)
			*ret_result = result;
		return -EREMOTEIO;
	}
	memcpy(&ret->s_addr, buf + 8, 4);
	return 0;
}

int routermsg_soap_request(const char *service, const char *action, const char *const *names,
                           const char *const *values, size_t n, char *buf, size_t size)
{
	size_t used;
	int w;

	w = snprintf(buf, size,
	             "<?xml version=\"1.0\"?>\r\n"
	             "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	             "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
	             "<s:Body><u:%s xmlns:u=\"%s\">",
	             action, service);
	if (w < 0 || (size_t)w >= size)
		return -E2BIG;
	used = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		w = snprintf(buf + used, size - used, "<%s>%s</%s>", names[i], values[i], names[i]);
		if (w < 0 || (size_t)w >= size - used)
			return -E2BIG;
		used += (size_t)w;
	}
	w = snprintf(buf + used, size - used, "</u:%s></s:Body></s:Envelope>\r\n", action);
	if (w < 0 || (size_t)w >= size - used)
		return -E2BIG;
	return (int)(used + (size_t)w);
}
