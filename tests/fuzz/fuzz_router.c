/* What a device on the LAN answers the router probe, through each parser
 * of probes/routermsg.c: the first byte picks the parser, the rest is the
 * answer (an SSDP reply, a URL, an HTTP answer, an IGD description, a SOAP
 * reply, a NAT-PMP datagram), exactly sized. */
#include "probes/routermsg.h"
#include "tests/fuzz/fuzz.h"

static void parse_http_then_xml(const char *buf, size_t len)
{
	char value[ROUTERMSG_VALUE_MAX];
	struct routermsg_igd igd;
	const char *body;
	size_t body_len;
	int status, code;

	if (routermsg_http(buf, len, &status, &body, &body_len) < 0)
		return;
	(void)routermsg_igd(body, body_len, "http://192.168.1.1:5000/rootDesc.xml", &igd);
	(void)routermsg_soap_value(body, body_len, "NewExternalIPAddress", value, sizeof(value),
	                           &code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char url[ROUTERMSG_URL_MAX], value[ROUTERMSG_VALUE_MAX];
	struct routermsg_url u;
	struct routermsg_igd igd;
	struct in_addr a;
	uint16_t result;
	char *buf, *s;
	int code;

	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		abort();
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		if (routermsg_ssdp_location(buf, size - 1, url, sizeof(url)) == 0)
			(void)routermsg_parse_url(url, &u);
		break;
	case 1:
		s = fuzz_string(data + 1, size - 1);
		(void)routermsg_parse_url(s, &u);
		(void)routermsg_ipv4(s, &a);
		free(s);
		break;
	case 2:
		parse_http_then_xml(buf, size - 1);
		break;
	case 3:
		(void)routermsg_igd(buf, size - 1, "http://192.168.1.1:5000/rootDesc.xml", &igd);
		break;
	case 4:
		(void)routermsg_soap_value(buf, size - 1, "NewInternalClient", value, sizeof(value),
		                           &code);
		break;
	default:
		(void)routermsg_natpmp_public((const uint8_t *)buf, size - 1, &a, &result);
		break;
	}
	free(buf);
	return 0;
}
