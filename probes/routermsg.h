/* What routers answer, parsed without I/O: SSDP search replies, the http
 * URLs they point at, HTTP answers, UPnP IGD descriptions and SOAP replies
 * (the XML itself through libminiupnpc's parsers), NAT-PMP datagrams.
 *
 * Everything here comes from a machine on the LAN that sparkmon does not
 * trust: sizes are capped before parsing, XML with a document type
 * declaration is refused (an entity is never expanded), and addresses
 * must be IPv4 literals. */
#ifndef SPARKMON_ROUTERMSG_H
#define SPARKMON_ROUTERMSG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTERMSG_URL_MAX     256
#define ROUTERMSG_PATH_MAX    192
#define ROUTERMSG_SERVICE_MAX 128
#define ROUTERMSG_VALUE_MAX   128 /* libminiupnpc keeps at most this of a value */

/* NAT-PMP (RFC 6886): the answer to a public address request is exactly
 * 12 bytes: version 0, opcode 128, result, seconds since epoch, address. */
#define ROUTERMSG_NATPMP_ANSWER_SIZE 12

/* UPnP error codes of the port mapping actions (WANIPConnection:1). */
#define ROUTERMSG_UPNP_INVALID_INDEX 713 /* SpecifiedArrayIndexInvalid */
#define ROUTERMSG_UPNP_NO_SUCH_ENTRY 714 /* NoSuchEntryInArray */

/* An http URL with an IPv4 literal host. */
struct routermsg_url {
	struct in_addr host;
	uint16_t port;
	char path[ROUTERMSG_PATH_MAX]; /* begins with '/' */
};

/* The part of an IGD description sparkmon uses. */
struct routermsg_igd {
	char control_url[ROUTERMSG_URL_MAX];      /* of the WAN connection service, absolute */
	char service_type[ROUTERMSG_SERVICE_MAX]; /* urn:schemas-upnp-org:service:WANIPConnection:1
	                                           */
};

/* The LOCATION header of one SSDP search reply ("HTTP/1.1 200 OK" and
 * headers). Returns 0 and copies it to ret (NUL-terminated); -EBADMSG when
 * it is not a 200 reply; -ENODATA without LOCATION; -E2BIG when the URL
 * does not fit size. */
int routermsg_ssdp_location(const char *buf, size_t len, char *ret, size_t size);

/* Parses "http://a.b.c.d[:port][/path]". Returns 0; -EPROTONOSUPPORT for
 * another scheme; -EADDRNOTAVAIL when the host is not an IPv4 literal (a
 * name would need a DNS lookup of what the LAN said); -EINVAL when
 * malformed; -E2BIG when the path is too long. */
int routermsg_parse_url(const char *url, struct routermsg_url *ret);

/* Whether addr is in net/prefix (network order addresses). */
bool routermsg_in_network(struct in_addr addr, struct in_addr net, unsigned prefix);

/* Splits an HTTP/1.x answer: the status code and the body (after the
 * blank line, cut to Content-Length when given). Returns 0; -EBADMSG when
 * there is no status line or no end of the headers; -EPROTONOSUPPORT for
 * a chunked body (an HTTP/1.0 request is never answered chunked). */
int routermsg_http(const char *buf, size_t len, int *ret_status, const char **ret_body,
                   size_t *ret_body_len);

/* XML sparkmon parses must not declare a document type: no DOCTYPE, no
 * ENTITY (libminiupnpc would not expand them, but such a reply is not a
 * router's). Also refuses NUL bytes. Returns 0 or -EBADMSG. */
int routermsg_xml_plain(const char *body, size_t len);

/* The WAN connection service of an IGD description fetched from desc_url
 * (which gives the base of relative URLs when there is no URLBase).
 * Returns 0; -EBADMSG (see routermsg_xml_plain); -ENODATA when it lists
 * no WANIPConnection or WANPPPConnection service with a control URL;
 * -E2BIG when a URL does not fit. */
int routermsg_igd(const char *body, size_t len, const char *desc_url, struct routermsg_igd *ret);

/* One value of a SOAP reply (NewExternalIPAddress, ...). Returns 0 and
 * copies it; -EBADMSG (see routermsg_xml_plain); -EREMOTEIO when the reply
 * is a UPnP error (its code in *ret_upnp_error, which may be NULL);
 * -ENODATA when the value is absent; -E2BIG when it does not fit size or
 * fills libminiupnpc's buffer (it would have been cut). */
int routermsg_soap_value(const char *body, size_t len, const char *name, char *ret, size_t size,
                         int *ret_upnp_error);

/* An IPv4 address in dotted quad, nothing else. Returns 0 or -EINVAL. */
int routermsg_ipv4(const char *text, struct in_addr *ret);

/* A NAT-PMP public address answer. Returns 0 with the address; -EMSGSIZE
 * when it is not 12 bytes; -EBADMSG for another version or opcode;
 * -EREMOTEIO when the result code is not 0 (in *ret_result). */
int routermsg_natpmp_public(const uint8_t *buf, size_t len, struct in_addr *ret,
                            uint16_t *ret_result);

/* The body of a SOAP request for action of service with arguments
 * (names and values, n of each), into buf. Returns its length or -E2BIG. */
int routermsg_soap_request(const char *service, const char *action, const char *const *names,
                           const char *const *values, size_t n, char *buf, size_t size);

#endif
