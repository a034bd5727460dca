/* The router.* checks of the verdict (monitor/routercheck.c), each status,
 * on built snapshots; the address kinds; the metrics' and JSON's states;
 * endpoint.public_ip6, the IPv6 way in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/routercheck.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
#include "probes/endpoint6.h"
#include "tests/unit/verdict_eval.h"
#include "web/json.h"
#include "web/prometheus.h"

#define FORWARD_HINT                                                                               \
	"in the router's web page, forward UDP 51820 to 192.168.1.20 port 51820 (upnpc -l lists "  \
	"what the router shows over UPnP)"
#define CGNAT_HINT                                                                                 \
	"ask the ISP for a public IPv4 address; or let clients use the server's IPv6 address "     \
	"(when the line has IPv6); or use a relay: a small server with a public address that "     \
	"the server and the clients both connect to"

/* A router that answered UPnP and NAT-PMP with a public address and maps
 * UDP 51820 to this host. */
static struct snapshot *new_snapshot(struct config *cfg)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct router *r;

	assert_non_null(s);
	config_defaults(cfg);
	r = &s->router;
	s->probes[PROBE_ROUTER].status = PROBE_OK;
	strcpy(r->ifname, "enP7s7");
	strcpy(r->address, "192.168.1.20");
	r->prefix = 24;
	strcpy(r->gateway, "192.168.1.1");
	r->port = 51820;
	r->natpmp = ROUTER_ANSWERED;
	strcpy(r->natpmp_ip, "203.0.113.7");
	r->upnp = ROUTER_ANSWERED;
	strcpy(r->upnp_ip, "203.0.113.7");
	strcpy(r->external_ip, "203.0.113.7");
	r->mapping = ROUTER_MAPPING_FOUND;
	strcpy(r->mapping_client, "192.168.1.20");
	r->mapping_port = 51820;
	r->mapping_enabled = true;
	return s;
}

static void seen_from_outside(struct snapshot *s, const char *ip)
{
	s->probes[PROBE_ENDPOINT].status = PROBE_OK;
	s->endpoint.have_ip = true;
	strcpy(s->endpoint.public_ip, ip);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_int_equal(routercheck_kind("203.0.113.7"), ROUTERCHECK_PUBLIC);
	assert_int_equal(routercheck_kind("11.0.0.2"), ROUTERCHECK_PUBLIC);
	assert_int_equal(routercheck_kind("10.1.2.3"), ROUTERCHECK_PRIVATE);
	assert_int_equal(routercheck_kind("172.16.0.1"), ROUTERCHECK_PRIVATE);
	assert_int_equal(routercheck_kind("172.31.255.255"), ROUTERCHECK_PRIVATE);
	assert_int_equal(routercheck_kind("172.32.0.1"), ROUTERCHECK_PUBLIC);
	assert_int_equal(routercheck_kind("192.168.0.1"), ROUTERCHECK_PRIVATE);
	assert_int_equal(routercheck_kind("100.64.0.1"), ROUTERCHECK_SHARED);
	assert_int_equal(routercheck_kind("100.127.255.254"), ROUTERCHECK_SHARED);
	assert_int_equal(routercheck_kind("100.128.0.1"), ROUTERCHECK_PUBLIC);
	assert_int_equal(routercheck_kind("100.63.255.255"), ROUTERCHECK_PUBLIC);
	assert_int_equal(routercheck_kind("127.0.0.1"), ROUTERCHECK_LOOPBACK);
	assert_int_equal(routercheck_kind("169.254.1.1"), ROUTERCHECK_LINK_LOCAL);
	assert_int_equal(routercheck_kind("0.0.0.0"), ROUTERCHECK_UNSPECIFIED);
	assert_int_equal(routercheck_kind(""), ROUTERCHECK_INVALID);
	assert_string_equal(routercheck_kind_name(ROUTERCHECK_SHARED), "shared");
}

static void test_forward_ok(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	verdict_is(&cfg, s, "router.port_forward", CHECK_OK,
	           "the router forwards UDP 51820 to this host (192.168.1.20:51820)", "");
	assert_int_equal(routercheck_mapping_ok(&s->router), 1);
	free(s);
}

static void test_forward_elsewhere(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	strcpy(s->router.mapping_client, "192.168.1.30");
	verdict_is(&cfg, s, "router.port_forward", CHECK_CRITICAL,
	           "the router forwards UDP 51820 to 192.168.1.30:51820, not to this host "
	           "(192.168.1.20:51820)",
	           FORWARD_HINT);
	assert_int_equal(routercheck_mapping_ok(&s->router), 0);
	strcpy(s->router.mapping_client, "192.168.1.20");
	s->router.mapping_port = 51821;
	verdict_is(&cfg, s, "router.port_forward", CHECK_CRITICAL,
	           "the router forwards UDP 51820 to 192.168.1.20:51821, not to this host "
	           "(192.168.1.20:51820)",
	           FORWARD_HINT);
	s->router.mapping_port = 51820;
	s->router.mapping_enabled = false;
	verdict_is(&cfg, s, "router.port_forward", CHECK_CRITICAL,
	           "the router's forward of UDP 51820 to 192.168.1.20:51820 is turned off",
	           FORWARD_HINT);
	assert_int_equal(routercheck_mapping_ok(&s->router), 0);
	free(s);
}

static void test_forward_none(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	s->router.mapping = ROUTER_MAPPING_NONE;
	s->router.mappings_listed = 2;
	verdict_is(&cfg, s, "router.port_forward", CHECK_WARNING,
	           "the router lists 2 port mappings over UPnP, none for UDP 51820",
	           "a port forward made in the router's web page is often not listed over UPnP: "
	           "if clients connect, it is there; otherwise: " FORWARD_HINT);
	assert_int_equal(routercheck_mapping_ok(&s->router), 0);
	free(s);
}

/* NAT-PMP cannot list mappings: without UPnP the check is absent; a
 * refused UPnP answer makes it UNKNOWN with the reason. */
static void test_forward_without_upnp(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	s->router.upnp = ROUTER_NO_ANSWER;
	s->router.mapping = ROUTER_MAPPING_UNKNOWN;
	verdict_absent(&cfg, s, "router.port_forward");
	assert_int_equal(routercheck_mapping_ok(&s->router), -1);
	s->router.upnp = ROUTER_REFUSED;
	strcpy(s->router.upnp_error, "UPnP: the answer of http://192.168.1.1:5000/ctl/IPConn is "
	                             "larger than 16 KiB: refused");
	verdict_is(&cfg, s, "router.port_forward", CHECK_UNKNOWN, s->router.upnp_error,
	           FORWARD_HINT);
	free(s);
}

static void test_absent_without_router(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	s->probes[PROBE_ROUTER].status = PROBE_SKIPPED;
	verdict_absent(&cfg, s, "router.port_forward");
	verdict_absent(&cfg, s, "router.cgnat");
	assert_int_equal(routercheck_cgnat_state(s), -1);
	s->probes[PROBE_ROUTER].status = PROBE_FAILED;
	strcpy(s->probes[PROBE_ROUTER].error, "NAT-PMP: an answer of 8 bytes");
	verdict_is(&cfg, s, "router.cgnat", CHECK_UNKNOWN,
	           "router probe failed: NAT-PMP: an answer of 8 bytes",
	           "ask the router by hand: upnpc -s (UPnP), natpmpc (NAT-PMP)");
	free(s);
}

static void test_cgnat(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	verdict_is(&cfg, s, "router.cgnat", CHECK_OK,
	           "the router's external address 203.0.113.7 is public", "");
	seen_from_outside(s, "203.0.113.7");
	verdict_is(&cfg, s, "router.cgnat", CHECK_OK,
	           "the router's external address 203.0.113.7 is public and the one the internet "
	           "sees",
	           "");
	assert_int_equal(routercheck_cgnat_state(s), 0);

	strcpy(s->router.external_ip, "100.64.3.4");
	verdict_is(&cfg, s, "router.cgnat", CHECK_CRITICAL,
	           "the router's external address 100.64.3.4 is in the shared range "
	           "100.64.0.0/10: the ISP puts the line behind carrier-grade NAT; inbound "
	           "connections cannot reach this router",
	           CGNAT_HINT);
	assert_int_equal(routercheck_cgnat_state(s), 1);
	strcpy(s->router.external_ip, "192.168.178.2");
	verdict_is(&cfg, s, "router.cgnat", CHECK_CRITICAL,
	           "the router's external address 192.168.178.2 is private (RFC 1918): another "
	           "router or the ISP's NAT is in front of this one; inbound connections cannot "
	           "reach this router",
	           CGNAT_HINT);

	/* Public, but not what the internet sees: a NAT in front. */
	strcpy(s->router.external_ip, "198.51.100.9");
	verdict_is(&cfg, s, "router.cgnat", CHECK_CRITICAL,
	           "the router's external address 198.51.100.9 is not the public IP 203.0.113.7 "
	           "the internet sees: another NAT is in front of it; inbound connections cannot "
	           "reach this router",
	           CGNAT_HINT);
	assert_int_equal(routercheck_cgnat_state(s), 1);
	free(s);
}

/* A router that names no external address: a hidden private one when the
 * internet is reachable, unknown otherwise. */
static void test_cgnat_hidden(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	s->router.external_ip[0] = '\0';
	verdict_is(&cfg, s, "router.cgnat", CHECK_UNKNOWN,
	           "the router answered but gave no external address",
	           "look at the router's status page: is its internet connection up?");
	assert_int_equal(routercheck_cgnat_state(s), -1);
	seen_from_outside(s, "203.0.113.7");
	verdict_is(&cfg, s, "router.cgnat", CHECK_CRITICAL,
	           "the router gives no external address while this host reaches the internet "
	           "from 203.0.113.7: routers hide a WAN address that is private or shared "
	           "(carrier-grade NAT, or a second router in front); inbound connections cannot "
	           "reach this router",
	           CGNAT_HINT);
	assert_int_equal(routercheck_cgnat_state(s), 1);
	free(s);
}

static void test_global6(void **state)
{
	static const char *const global[] = {"2001:db8::5", "2a01:4f8::1", "3fff::1"};
	static const char *const other[] = {"fe80::1", "fd00::1", "fc00::1",         "::1",
	                                    "ff02::1", "::",      "::ffff:192.0.2.1"};
	uint8_t a[16];

	(void)state;
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, global[i], a), 1);
		assert_true(endpoint6_is_global(a));
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, other[i], a), 1);
		assert_false(endpoint6_is_global(a));
	}
}

static struct snapshot *new_snapshot6(struct config *cfg)
{
	struct snapshot *s = new_snapshot(cfg);
	struct endpoint6 *e = &s->endpoint.v6;

	s->probes[PROBE_ENDPOINT].status = PROBE_OK;
	strcpy(e->ifname, "enP7s7");
	strcpy(e->addresses[e->n_addresses++], "2001:db8:1::20");
	return s;
}

static void test_public_ip6(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot6(&cfg);
	struct endpoint6 *e = &s->endpoint.v6;

	(void)state;
	verdict_is(&cfg, s, "endpoint.public_ip6", CHECK_OK,
	           "this host's global IPv6 address is 2001:db8:1::20 (enP7s7): clients with IPv6 "
	           "can use Endpoint = [2001:db8:1::20]:51820 (no port forward; the router's IPv6 "
	           "firewall must let UDP 51820 in)",
	           "");
	strcpy(s->endpoint.hostname, "home.example.org");
	strcpy(e->hostname_ips[e->n_hostname_ips++], "2001:db8:1::99");
	verdict_is(&cfg, s, "endpoint.public_ip6", CHECK_CRITICAL,
	           "home.example.org resolves to 2001:db8:1::99 over IPv6, not to this host's "
	           "2001:db8:1::20: clients using IPv6 cannot connect",
	           "update the AAAA record of home.example.org to 2001:db8:1::20");
	strcpy(e->hostname_ips[e->n_hostname_ips++], "2001:db8:1::20");
	verdict_is(&cfg, s, "endpoint.public_ip6", CHECK_OK,
	           "home.example.org resolves to this host's IPv6 address 2001:db8:1::20: clients "
	           "with IPv6 connect to it directly (no port forward; the router's IPv6 firewall "
	           "must let UDP 51820 in)",
	           "");
	e->n_addresses = 0;
	verdict_is(&cfg, s, "endpoint.public_ip6", CHECK_WARNING,
	           "home.example.org has the AAAA record 2001:db8:1::99, 2001:db8:1::20, but this "
	           "host has no global IPv6 address: clients that try IPv6 first cannot connect "
	           "over it",
	           "remove the AAAA record, or give this host a global IPv6 address (is IPv6 on "
	           "at the router?)");
	e->n_hostname_ips = 0;
	verdict_absent(&cfg, s, "endpoint.public_ip6");
	strcpy(e->hostname_error, "Temporary failure in name resolution");
	verdict_is(&cfg, s, "endpoint.public_ip6", CHECK_WARNING,
	           "the AAAA lookup of home.example.org failed: Temporary failure in name "
	           "resolution",
	           "check the DNS record: getent ahostsv6 home.example.org");
	free(s);
}

/* What the metrics and the JSON area carry of it; nothing when no router
 * answered. */
static void test_outputs(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);
	struct prometheus_exposition x;
	struct verdict v;
	char *json;

	(void)state;
	seen_from_outside(s, "203.0.113.7");
	verdict_evaluate(&cfg, s, NULL, &v);
	assert_int_equal(prometheus_expose(&cfg, s, &v, &x), 0);
	assert_non_null(strstr(x.text, "\nsparkmon_router_external_ip_info{address=\"203.0.113.7\","
	                               "kind=\"public\"} 1\n"));
	assert_non_null(strstr(x.text, "\nsparkmon_router_port_mapping_ok{port=\"51820\"} 1\n"));
	assert_non_null(strstr(x.text, "\nsparkmon_router_cgnat 0\n"));
	prometheus_exposition_free(&x);
	json = json_status_string(&cfg, s, &v, 0);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"external_ip\":\"203.0.113.7\",\"external_ip_kind\":"
	                             "\"public\",\"port_mapping_ok\":true,\"cgnat\":false"));
	assert_non_null(strstr(json, "\"mapping\":{\"state\":\"found\",\"internal_client\":"
	                             "\"192.168.1.20\",\"internal_port\":51820"));
	free(json);

	s->probes[PROBE_ROUTER].status = PROBE_SKIPPED;
	verdict_evaluate(&cfg, s, NULL, &v);
	assert_int_equal(prometheus_expose(&cfg, s, &v, &x), 0);
	assert_null(strstr(x.text, "sparkmon_router_"));
	prometheus_exposition_free(&x);
	json = json_status_string(&cfg, s, &v, 0);
	assert_non_null(strstr(json, "\"router\":null"));
	free(json);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_forward_ok),
	    cmocka_unit_test(test_forward_elsewhere),
	    cmocka_unit_test(test_forward_none),
	    cmocka_unit_test(test_forward_without_upnp),
	    cmocka_unit_test(test_absent_without_router),
	    cmocka_unit_test(test_cgnat),
	    cmocka_unit_test(test_cgnat_hidden),
	    cmocka_unit_test(test_outputs),
	    cmocka_unit_test(test_global6),
	    cmocka_unit_test(test_public_ip6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
