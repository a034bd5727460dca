/* probes/routermsg.c: what routers answer (SSDP, URLs, HTTP, the IGD
 * description, SOAP, NAT-PMP) parsed on good and hostile input; outputs
 * untouched on error. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/routermsg.h"

#define ENVELOPE(inner)                                                                            \
	"<?xml version=\"1.0\"?>\r\n<s:Envelope "                                                  \
	"xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>" inner                     \
	"</s:Body></s:Envelope>\r\n"

static const char miniupnpd_ssdp[] =
    "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
    "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
    "USN: uuid:3ef0f5a2::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\n"
    "SERVER: Debian UPnP/1.1 MiniUPnPd/2.3.1\r\n"
    "LOCATION: http://192.168.1.1:5000/rootDesc.xml\r\n\r\n";

static void test_ssdp(void **state)
{
	char url[ROUTERMSG_URL_MAX], small[16];
	const char notify[] = "NOTIFY * HTTP/1.1\r\nLOCATION: http://192.168.1.1/\r\n\r\n";
	const char lower[] = "HTTP/1.1 200 OK\nlocation:   http://10.0.0.1:80/d.xml  \n\n";
	const char none[] = "HTTP/1.1 200 OK\r\nST: x\r\n\r\n";

	(void)state;
	assert_int_equal(
	    routermsg_ssdp_location(miniupnpd_ssdp, strlen(miniupnpd_ssdp), url, sizeof(url)), 0);
	assert_string_equal(url, "http://192.168.1.1:5000/rootDesc.xml");
	assert_int_equal(routermsg_ssdp_location(lower, strlen(lower), url, sizeof(url)), 0);
	assert_string_equal(url, "http://10.0.0.1:80/d.xml");
	strcpy(small, "untouched");
	assert_int_equal(
	    routermsg_ssdp_location(miniupnpd_ssdp, strlen(miniupnpd_ssdp), small, sizeof(small)),
	    -E2BIG);
	assert_string_equal(small, "untouched");
	assert_int_equal(routermsg_ssdp_location(notify, strlen(notify), url, sizeof(url)),
	                 -EBADMSG);
	assert_int_equal(routermsg_ssdp_location(none, strlen(none), url, sizeof(url)), -ENODATA);
	assert_int_equal(routermsg_ssdp_location("", 0, url, sizeof(url)), -EBADMSG);
	/* Cut inside the header: what is there is read, no further. */
	assert_int_equal(routermsg_ssdp_location(miniupnpd_ssdp, 30, url, sizeof(url)), -ENODATA);
}

static void test_url(void **state)
{
	struct routermsg_url u;

	(void)state;
	assert_int_equal(routermsg_parse_url("http://192.168.1.1:5000/rootDesc.xml", &u), 0);
	assert_string_equal(inet_ntoa(u.host), "192.168.1.1");
	assert_int_equal(u.port, 5000);
	assert_string_equal(u.path, "/rootDesc.xml");
	assert_int_equal(routermsg_parse_url("HTTP://10.0.0.1", &u), 0);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "/");

	memset(&u, 0xa5, sizeof(u));
	assert_int_equal(routermsg_parse_url("https://192.168.1.1/", &u), -EPROTONOSUPPORT);
	assert_int_equal(routermsg_parse_url("http://router.lan/desc.xml", &u), -EADDRNOTAVAIL);
	assert_int_equal(routermsg_parse_url("http://0300.0250.1.1/", &u), -EADDRNOTAVAIL);
	assert_int_equal(routermsg_parse_url("http://[fe80::1]/", &u), -EADDRNOTAVAIL);
	assert_int_equal(routermsg_parse_url("http://192.168.1.1:0/", &u), -EINVAL);
	assert_int_equal(routermsg_parse_url("http://192.168.1.1:65536/", &u), -EINVAL);
	assert_int_equal(routermsg_parse_url("http://192.168.1.1:80x/", &u), -EINVAL);
	assert_int_equal(routermsg_parse_url("http://192.168.1.1/a b", &u), -EINVAL);
	assert_int_equal(routermsg_parse_url("http://192.168.1.1?x", &u), -EINVAL);
	assert_int_equal(routermsg_parse_url("http://", &u), -EINVAL);
	{
		char long_url[400] = "http://192.168.1.1/";

		memset(long_url + strlen(long_url), 'a', 300);
		long_url[319] = '\0';
		assert_int_equal(routermsg_parse_url(long_url, &u), -E2BIG);
	}
	assert_int_equal(u.port, 0xa5a5);
}

static void test_network(void **state)
{
	struct in_addr a, net;

	(void)state;
	inet_pton(AF_INET, "192.168.1.20", &net);
	inet_pton(AF_INET, "192.168.1.1", &a);
	assert_true(routermsg_in_network(a, net, 24));
	inet_pton(AF_INET, "192.168.2.1", &a);
	assert_false(routermsg_in_network(a, net, 24));
	assert_true(routermsg_in_network(a, net, 16));
	assert_true(routermsg_in_network(a, net, 0));
	assert_false(routermsg_in_network(a, net, 32));
}

static void test_http(void **state)
{
	const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello and more";
	const char err[] = "HTTP/1.0 500 Internal Server Error\r\n\r\n<x/>";
	const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello";
	const char open[] = "HTTP/1.1 200 OK\r\nServer: x\r\n";
	const char badlen[] = "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n";
	const char *body = NULL;
	size_t len = 0;
	int status = 0;

	(void)state;
	assert_int_equal(routermsg_http(ok, strlen(ok), &status, &body, &len), 0);
	assert_int_equal(status, 200);
	assert_int_equal(len, 5);
	assert_memory_equal(body, "hello", 5);
	assert_int_equal(routermsg_http(err, strlen(err), &status, &body, &len), 0);
	assert_int_equal(status, 500);
	assert_int_equal(len, 4);
	status = 7;
	assert_int_equal(routermsg_http(chunked, strlen(chunked), &status, &body, &len),
	                 -EPROTONOSUPPORT);
	assert_int_equal(routermsg_http(open, strlen(open), &status, &body, &len), -EBADMSG);
	assert_int_equal(routermsg_http(badlen, strlen(badlen), &status, &body, &len), -EBADMSG);
	assert_int_equal(routermsg_http("HTTP/1.1 2000 OK\r\n\r\n", 20, &status, &body, &len),
	                 -EBADMSG);
	assert_int_equal(routermsg_http("SSH-2.0-x\r\n\r\n", 13, &status, &body, &len), -EBADMSG);
	assert_int_equal(status, 7);
}

static const char igd_desc[] =
    "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device>"
    "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><deviceList>"
    "<device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><serviceList>"
    "<service><serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
    "</serviceType><controlURL>/ctl/CmnIfCfg</controlURL></service></serviceList><deviceList>"
    "<device><serviceList><service>"
    "<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
    "<controlURL>/ctl/IPConn</controlURL></service></serviceList></device></deviceList>"
    "</device></deviceList></device></root>";

static void test_igd(void **state)
{
	static const char doctype[] = "<?xml version=\"1.0\"?><!DOCTYPE root [<!ENTITY a \"b\">]>"
	                              "<root/>";
	static const char no_wan[] = "<root><device><serviceList><service><serviceType>"
	                             "urn:schemas-upnp-org:service:Layer3Forwarding:1"
	                             "</serviceType><controlURL>/l3f</controlURL></service>"
	                             "</serviceList></device></root>";
	struct routermsg_igd igd;
	char *base;

	(void)state;
	assert_int_equal(
	    routermsg_igd(igd_desc, strlen(igd_desc), "http://192.168.1.1:5000/rootDesc.xml", &igd),
	    0);
	assert_string_equal(igd.control_url, "http://192.168.1.1:5000/ctl/IPConn");
	assert_string_equal(igd.service_type, "urn:schemas-upnp-org:service:WANIPConnection:1");

	/* URLBase, when given, is the base of relative URLs. */
	base = malloc(sizeof(igd_desc) + 64);
	assert_non_null(base);
	strcpy(base, "<root><URLBase>http://192.168.1.254:49000</URLBase>");
	strcat(base, strstr(igd_desc, "<device>"));
	assert_int_equal(routermsg_igd(base, strlen(base), "http://192.168.1.1:5000/d.xml", &igd),
	                 0);
	assert_string_equal(igd.control_url, "http://192.168.1.254:49000/ctl/IPConn");
	free(base);

	memset(&igd, 0xa5, sizeof(igd));
	assert_int_equal(routermsg_igd(doctype, strlen(doctype), "http://192.168.1.1/", &igd),
	                 -EBADMSG);
	assert_int_equal(routermsg_igd(no_wan, strlen(no_wan), "http://192.168.1.1/", &igd),
	                 -ENODATA);
	assert_int_equal(routermsg_igd("", 0, "http://192.168.1.1/", &igd), -ENODATA);
	assert_int_equal(routermsg_igd("<a>\0</a>", 8, "http://192.168.1.1/", &igd), -EBADMSG);
	assert_int_equal((unsigned char)igd.control_url[0], 0xa5);
}

static void test_soap(void **state)
{
	static const char ip[] = ENVELOPE("<u:GetExternalIPAddressResponse xmlns:u=\"urn:x\">"
	                                  "<NewExternalIPAddress>203.0.113.7</NewExternalIPAddress>"
	                                  "</u:GetExternalIPAddressResponse>");
	static const char fault[] =
	    ENVELOPE("<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
	             "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>714"
	             "</errorCode><errorDescription>NoSuchEntryInArray</errorDescription>"
	             "</UPnPError></detail></s:Fault>");
	static const char entity[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY a \"1.2.3.4\">]>" ENVELOPE(
	        "<NewExternalIPAddress>&a;</NewExternalIPAddress>");
	char value[ROUTERMSG_VALUE_MAX], small[8], *huge;
	int code = 0;

	(void)state;
	assert_int_equal(routermsg_soap_value(ip, strlen(ip), "NewExternalIPAddress", value,
	                                      sizeof(value), &code),
	                 0);
	assert_string_equal(value, "203.0.113.7");
	assert_int_equal(routermsg_soap_value(fault, strlen(fault), "NewInternalClient", value,
	                                      sizeof(value), &code),
	                 -EREMOTEIO);
	assert_int_equal(code, ROUTERMSG_UPNP_NO_SUCH_ENTRY);
	strcpy(small, "keep");
	assert_int_equal(routermsg_soap_value(ip, strlen(ip), "NewExternalIPAddress", small,
	                                      sizeof(small), NULL),
	                 -E2BIG);
	assert_string_equal(small, "keep");
	assert_int_equal(
	    routermsg_soap_value(ip, strlen(ip), "NewInternalPort", value, sizeof(value), NULL),
	    -ENODATA);
	assert_int_equal(routermsg_soap_value(entity, strlen(entity), "NewExternalIPAddress", value,
	                                      sizeof(value), NULL),
	                 -EBADMSG);

	/* A value longer than libminiupnpc keeps would be cut: refused. */
	huge = malloc(8192);
	assert_non_null(huge);
	strcpy(huge, "<r><NewExternalIPAddress>");
	memset(huge + strlen(huge), '1', 4000);
	strcpy(huge + 25 + 4000, "</NewExternalIPAddress></r>");
	assert_int_equal(routermsg_soap_value(huge, strlen(huge), "NewExternalIPAddress", value,
	                                      sizeof(value), NULL),
	                 -E2BIG);
	free(huge);
}

static void test_ipv4(void **state)
{
	struct in_addr a = {.s_addr = 7};

	(void)state;
	assert_int_equal(routermsg_ipv4("100.64.0.2", &a), 0);
	assert_string_equal(inet_ntoa(a), "100.64.0.2");
	a.s_addr = 7;
	assert_int_equal(routermsg_ipv4("", &a), -EINVAL);
	assert_int_equal(routermsg_ipv4("1.2.3", &a), -EINVAL);
	assert_int_equal(routermsg_ipv4("1.2.3.4 ", &a), -EINVAL);
	assert_int_equal(routermsg_ipv4("::1", &a), -EINVAL);
	assert_int_equal(a.s_addr, 7);
}

static void test_natpmp(void **state)
{
	static const uint8_t good[12] = {0, 128, 0, 0, 0, 0, 1, 0, 203, 0, 113, 7};
	static const uint8_t refused[12] = {0, 128, 0, 3, 0, 0, 1, 0, 0, 0, 0, 0};
	static const uint8_t pcp[12] = {2, 128, 0, 0, 0, 0, 1, 0, 203, 0, 113, 7};
	static const uint8_t map[12] = {0, 129, 0, 0, 0, 0, 1, 0, 203, 0, 113, 7};
	struct in_addr a = {.s_addr = 7};
	uint16_t result = 0;

	(void)state;
	assert_int_equal(routermsg_natpmp_public(good, sizeof(good), &a, &result), 0);
	assert_string_equal(inet_ntoa(a), "203.0.113.7");
	a.s_addr = 7;
	assert_int_equal(routermsg_natpmp_public(good, 8, &a, &result), -EMSGSIZE);
	assert_int_equal(routermsg_natpmp_public(good, 16, &a, &result), -EMSGSIZE);
	assert_int_equal(routermsg_natpmp_public(good, 0, &a, &result), -EMSGSIZE);
	assert_int_equal(routermsg_natpmp_public(refused, 12, &a, &result), -EREMOTEIO);
	assert_int_equal(result, 3);
	assert_int_equal(routermsg_natpmp_public(pcp, 12, &a, &result), -EBADMSG);
	assert_int_equal(routermsg_natpmp_public(map, 12, &a, &result), -EBADMSG);
	assert_int_equal(a.s_addr, 7);
}

static void test_soap_request(void **state)
{
	static const char *const names[] = {"NewRemoteHost", "NewExternalPort", "NewProtocol"};
	static const char *const values[] = {"", "51820", "UDP"};
	char buf[1024], small[64];
	int n;

	(void)state;
	n = routermsg_soap_request("urn:schemas-upnp-org:service:WANIPConnection:1",
	                           "GetSpecificPortMappingEntry", names, values, 3, buf,
	                           sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_non_null(strstr(buf, "<u:GetSpecificPortMappingEntry "
	                            "xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
	                            "<NewRemoteHost></NewRemoteHost><NewExternalPort>51820"
	                            "</NewExternalPort><NewProtocol>UDP</NewProtocol>"
	                            "</u:GetSpecificPortMappingEntry>"));
	assert_int_equal(routermsg_soap_request("urn:x", "GetExternalIPAddress", NULL, NULL, 0,
	                                        small, sizeof(small)),
	                 -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ssdp),         cmocka_unit_test(test_url),
	    cmocka_unit_test(test_network),      cmocka_unit_test(test_http),
	    cmocka_unit_test(test_igd),          cmocka_unit_test(test_soap),
	    cmocka_unit_test(test_ipv4),         cmocka_unit_test(test_natpmp),
	    cmocka_unit_test(test_soap_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
