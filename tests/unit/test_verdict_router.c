/* The router.* checks of the verdict (monitor/routercheck.c), each status,
 * on built snapshots; the address kinds; the metrics' and JSON's states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/routercheck.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
