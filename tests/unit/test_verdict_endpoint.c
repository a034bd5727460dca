/* The endpoint.* checks of the verdict, each status, on built snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "monitor/snapshot.h"
#include "monitor/verdict.h"
#include "tests/unit/verdict_eval.h"

#define STATE "/var/lib/sparkmon/public-ip"
/* 2023-11-14 22:13 UTC */
#define SINCE 1700000000

static struct snapshot *new_snapshot(struct config *cfg)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	config_defaults(cfg);
	cfg->endpoint_expected_ip[0] = '\0';
	s->probes[PROBE_ENDPOINT].status = PROBE_OK;
	s->endpoint.have_ip = true;
	strcpy(s->endpoint.public_ip, "203.0.113.7");
	strcpy(s->endpoint.source_url, "https://ip.example/");
	strcpy(s->endpoint.state_path, STATE);
	return s;
}

static void add_request(struct endpoint_request *r, const char *url, const char *error,
                        double seconds)
{
	strcpy(r->url, url);
	r->ok = !error;
	r->http_code = error ? 0 : 200;
	r->total_seconds = seconds;
	strcpy(r->error, error ? error : "");
}

static void test_public_ip_unknown(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	s->endpoint.have_ip = false;
	/* An empty [endpoint] ip_urls: nothing was asked, the check is off. */
	cfg.endpoint_ip_urls[0] = '\0';
	verdict_absent(&cfg, s, "endpoint.public_ip");
	strcpy(cfg.endpoint_ip_urls, "https://a.example/ https://b.example/");
	add_request(&s->endpoint.attempts[0], "https://a.example/", "HTTP 503", 0.1);
	s->endpoint.n_attempts = 1;
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_UNKNOWN,
	           "public IP unknown: 1 URL failed, last https://a.example/: HTTP 503",
	           "check that this host reaches it: curl -4 -sS https://a.example/");
	add_request(&s->endpoint.attempts[1], "https://b.example/",
	            "Could not resolve host: b.example", 0.2);
	s->endpoint.n_attempts = 2;
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_UNKNOWN,
	           "public IP unknown: 2 URLs failed, last https://b.example/: Could not resolve "
	           "host: b.example",
	           "check that this host reaches it: curl -4 -sS https://b.example/");
	free(s);
}

static void test_public_ip_expected(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	strcpy(cfg.endpoint_expected_ip, "203.0.113.7");
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_OK, "public IP is 203.0.113.7, as expected",
	           "");
	/* An expected address outranks what the state file remembers. */
	s->endpoint.have_remembered = true;
	strcpy(s->endpoint.remembered_ip, "198.51.100.1");
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_OK, "public IP is 203.0.113.7, as expected",
	           "");
	strcpy(cfg.endpoint_expected_ip, "203.0.113.8");
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_CRITICAL,
	           "public IP is 203.0.113.7, expected 203.0.113.8: clients' Endpoint no longer "
	           "points home",
	           "the ISP changed the address: set Endpoint = 203.0.113.7:<port> in every client "
	           "(or update the DNS name), then expected_public_ip = 203.0.113.7 in "
	           "sparkmon.conf");
	free(s);
}

static void test_public_ip_hostname(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	strcpy(cfg.endpoint_expected_ip, "203.0.113.7");
	strcpy(s->endpoint.hostname, "home.example.net");
	strcpy(s->endpoint.hostname_ips[0], "198.51.100.9");
	strcpy(s->endpoint.hostname_ips[1], "203.0.113.7");
	s->endpoint.n_hostname_ips = 2;
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_OK,
	           "public IP is 203.0.113.7, as expected; so does home.example.net", "");

	s->endpoint.n_hostname_ips = 1;
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_CRITICAL,
	           "home.example.net resolves to 198.51.100.9, but the public IP is 203.0.113.7: "
	           "clients using the name cannot connect",
	           "update the DNS record of home.example.net to 203.0.113.7 (is the dynamic DNS "
	           "client running?)");

	s->endpoint.n_hostname_ips = 0;
	strcpy(s->endpoint.hostname_error, "Name or service not known");
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_WARNING,
	           "public IP is 203.0.113.7; home.example.net does not resolve: Name or service "
	           "not known",
	           "check the DNS record: getent ahostsv4 home.example.net");
	free(s);
}

/* Without an expected address, the first one seen is remembered and a
 * change is a WARNING until acknowledged. */
static void test_public_ip_remembered(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_OK,
	           "public IP is 203.0.113.7 (not remembered: no state file)", "");
	strcpy(s->endpoint.state_error, "/var/lib/sparkmon: Read-only file system");
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_OK,
	           "public IP is 203.0.113.7 (not remembered: /var/lib/sparkmon: Read-only file "
	           "system)",
	           "");

	s->endpoint.state_error[0] = '\0';
	s->endpoint.have_remembered = true;
	s->endpoint.remembered_now = true;
	s->endpoint.remembered_since = SINCE;
	strcpy(s->endpoint.remembered_ip, "203.0.113.7");
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_OK,
	           "public IP is 203.0.113.7, remembered now in 2023-11-14 22:13", "");
	s->endpoint.remembered_now = false;
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_OK,
	           "public IP is 203.0.113.7, unchanged since 2023-11-14 22:13", "");

	strcpy(s->endpoint.remembered_ip, "198.51.100.1");
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_WARNING,
	           "public IP changed from 198.51.100.1 (seen since 2023-11-14 22:13) to "
	           "203.0.113.7: clients' Endpoint may point to the old one",
	           "set Endpoint = 203.0.113.7:<port> in every client (or update the DNS name); "
	           "then acknowledge: rm " STATE);
	free(s);
}

static void test_probes(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	verdict_absent(&cfg, s, "endpoint.probes");
	add_request(&s->endpoint.probes[0], "https://registry.example/v2/", NULL, 0.25);
	s->endpoint.n_probes = 1;
	verdict_is(&cfg, s, "endpoint.probes", CHECK_OK, "1 URL reached, slowest in 0.25 s", "");
	add_request(&s->endpoint.probes[1], "https://pypi.example/", NULL, 1.5);
	s->endpoint.n_probes = 2;
	verdict_is(&cfg, s, "endpoint.probes", CHECK_OK, "2 URLs reached, slowest in 1.50 s", "");

	add_request(&s->endpoint.probes[1], "https://pypi.example/", "HTTP 502", 1.5);
	add_request(&s->endpoint.probes[2], "https://hub.example/", "Connection timed out", 5);
	s->endpoint.n_probes = 3;
	verdict_is(&cfg, s, "endpoint.probes", CHECK_WARNING,
	           "2 of 3 URLs not reached: https://pypi.example/: HTTP 502; "
	           "https://hub.example/: Connection timed out",
	           "try it by hand: curl -sS -o /dev/null -w '%{http_code}\\n' "
	           "https://pypi.example/");
	free(s);
}

static void test_probe_failed(void **state)
{
	struct config cfg;
	struct snapshot *s = new_snapshot(&cfg);

	(void)state;
	s->probes[PROBE_ENDPOINT].status = PROBE_TIMED_OUT;
	strcpy(s->probes[PROBE_ENDPOINT].error, "sparkmon-fetch: killed after 10 s");
	verdict_is(&cfg, s, "endpoint.public_ip", CHECK_UNKNOWN,
	           "endpoint probe timed out: sparkmon-fetch: killed after 10 s",
	           "check the network and [endpoint] in sparkmon.conf");
	s->probes[PROBE_ENDPOINT].status = PROBE_NOT_RUN;
	verdict_is(&cfg, s, "endpoint.probes", CHECK_UNKNOWN, "endpoint probe did not run",
	           "check the network and [endpoint] in sparkmon.conf");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_public_ip_unknown),
	    cmocka_unit_test(test_public_ip_expected),
	    cmocka_unit_test(test_public_ip_hostname),
	    cmocka_unit_test(test_public_ip_remembered),
	    cmocka_unit_test(test_probes),
	    cmocka_unit_test(test_probe_failed),
	};

	/* The remembered date is printed in local time. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
