#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/nftjson.h"
#include "probes/readfile.h"

#define FIXTURES "tests/fixtures/firewall/"

static const struct fwrules_table *table(const struct fwrules_tables *ts, const char *family,
                                         const char *name)
{
	for (size_t i = 0; i < ts->count; i++)
		if (strcmp(ts->items[i].family, family) == 0 &&
		    strcmp(ts->items[i].name, name) == 0)
			return &ts->items[i];
	return NULL;
}

static void test_native_ruleset(void **state)
{
	struct fwrules_tables ts;
	const struct fwrules_table *t;
	const struct fwrules_chain *c;
	char *buf, err[256] = "";
	size_t len;

	(void)state;
	assert_int_equal(readfile_read(FIXTURES "nft-native.json", 1 << 20, &buf, &len), 0);
	assert_int_equal(nftjson_parse(buf, len, &ts, err, sizeof(err)), 0);
	assert_int_equal(ts.count, 2);
	t = table(&ts, "inet", "hostfw");
	assert_non_null(t);
	c = fwrules_find_chain(t, "gate");
	assert_non_null(c);
	assert_int_equal(c->hook, FWRULES_HOOK_FORWARD);
	assert_int_equal(c->priority, 0);
	assert_string_equal(c->policy, "DROP");
	assert_false(c->nat);
	assert_int_equal(c->n_rules, 4);
	/* udp dport 53 accept comment "DNS only" */
	assert_string_equal(c->rules[0].target, "ACCEPT");
	assert_string_equal(c->rules[0].comment, "DNS only");
	/* ip6 saddr ... iifname "wg0" accept */
	assert_false(c->rules[1].conditional);
	assert_int_equal(c->rules[1].family, 6);
	assert_string_equal(c->rules[1].src, "fd00:100::/64");
	assert_string_equal(c->rules[1].in, "wg0");
	assert_int_equal(c->rules[2].ct_states, FWRULES_CT_ESTABLISHED | FWRULES_CT_RELATED);
	assert_string_equal(c->rules[2].text, "ct state established,related accept");
	/* iifname "wg*": a prefix, as xtables writes it */
	assert_string_equal(c->rules[3].in, "wg+");
	assert_string_equal(c->rules[3].target, "vpn");
	assert_false(c->rules[3].is_goto);
	c = fwrules_find_chain(t, "vpn");
	assert_int_equal(c->hook, FWRULES_HOOK_NONE);
	assert_string_equal(c->policy, "");
	assert_true(c->rules[0].src_neg);
	assert_string_equal(c->rules[0].src, "10.100.0.0/24");
	assert_string_equal(c->rules[2].target, "RETURN");
	c = fwrules_find_chain(t, "outnat");
	assert_true(c->nat);
	assert_int_equal(c->hook, FWRULES_HOOK_POSTROUTING);
	assert_int_equal(c->priority, 100);
	assert_string_equal(c->rules[0].target, "MASQUERADE");
	t = table(&ts, "ip", "late");
	c = fwrules_find_chain(t, "post");
	assert_int_equal(c->priority, 300);
	assert_string_equal(c->rules[0].out, "wg0");
	assert_string_equal(c->rules[0].target, "DROP");
	fwrules_tables_free(&ts);
	free(buf);
}

/* What iptables-nft writes: xt matches and targets nft can only name. */
static void test_xt_expressions(void **state)
{
	struct fwrules_tables ts;
	const struct fwrules_chain *c;
	char *buf, err[256] = "";
	size_t len;

	(void)state;
	assert_int_equal(readfile_read(FIXTURES "nft-iptables-nft.json", 1 << 20, &buf, &len), 0);
	assert_int_equal(nftjson_parse(buf, len, &ts, err, sizeof(err)), 0);
	c = fwrules_find_chain(table(&ts, "ip", "filter"), "FORWARD");
	assert_non_null(c);
	assert_int_equal(c->hook, FWRULES_HOOK_FORWARD);
	assert_string_equal(c->policy, "DROP");
	assert_true(c->rules[2].conditional); /* xt match conntrack */
	c = fwrules_find_chain(table(&ts, "ip", "nat"), "POSTROUTING");
	assert_non_null(c);
	assert_string_equal(c->rules[c->n_rules - 1].target, "MASQUERADE");
	fwrules_tables_free(&ts);
	free(buf);
}

/* iifname { "wg0", "wg1" } accept: one rule per name, in order. */
static void test_name_sets(void **state)
{
	static const char text[] =
	    "{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}, "
	    "{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"c\"}}, "
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"expr\": "
	    "[{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"iifname\"}}, "
	    "\"right\": {\"set\": [\"wg0\", \"wg1\"]}}}, {\"accept\": null}]}}, "
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\", \"expr\": "
	    "[{\"match\": {\"op\": \"!=\", \"left\": {\"meta\": {\"key\": \"oifname\"}}, "
	    "\"right\": {\"set\": [\"wg0\", \"wg1\"]}}}, {\"drop\": null}]}}]}";
	struct fwrules_tables ts;
	const struct fwrules_chain *c;
	char err[256] = "";

	(void)state;
	assert_int_equal(nftjson_parse(text, strlen(text), &ts, err, sizeof(err)), 0);
	c = fwrules_find_chain(table(&ts, "inet", "t"), "c");
	assert_int_equal(c->n_rules, 3);
	assert_string_equal(c->rules[0].in, "wg0");
	assert_string_equal(c->rules[1].in, "wg1");
	assert_false(c->rules[1].conditional);
	assert_string_equal(c->rules[1].text, "iifname \"wg1\" accept");
	/* A negated set is not one rule per name: some packets only. */
	assert_true(c->rules[2].conditional);
	assert_string_equal(c->rules[2].target, "DROP");
	fwrules_tables_free(&ts);
}

/* Bad input: a clear error, nothing written. */
static void test_bad_input(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
	    {"", "JSON ends early: truncated"},
	    {"{\"nftables\": [{\"table\": {\"family\": \"inet\"", "JSON ends early: truncated"},
	    {"nft: command not found", "not JSON: "},
	    {"<html>", "not JSON: "},
	    {"{\"tables\": []}", "no \"nftables\" array: not an nft ruleset"},
	    {"{\"nftables\": []} {}", "text after the JSON document"},
	    {"{\"nftables\": [{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": "
	     "\"c\"}}]}",
	     "chain c of unknown table inet t"},
	    {"{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}, {\"rule\": "
	     "{\"family\": \"inet\", \"table\": \"t\", \"chain\": \"nosuch\", \"expr\": []}}]}",
	     "rule of unknown chain inet t nosuch"},
	    {"{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}, {\"chain\": "
	     "{\"family\": \"inet\", \"table\": \"t\", \"name\": "
	     "\"a-chain-name-much-longer-than-the-sixty-three-bytes-kept-for-names-x\"}}]}",
	     "chain name too long: "
	     "a-chain-name-much-longer-than-the-sixty-three-bytes-kept-for-nam"},
	    {"{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}, {\"chain\": "
	     "{\"family\": \"inet\", \"table\": \"t\", \"name\": \"c\"}}, {\"rule\": {\"family\": "
	     "\"inet\", \"table\": \"t\", \"chain\": \"c\"}}]}",
	     "rule of c without expressions"},
	    {"{\"nftables\": [42]}", "element 0 is not {\"kind\": {...}}"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fwrules_tables ts = {.count = 4242};
		char err[256] = "";

		assert_int_equal(
		    nftjson_parse(cases[i].text, strlen(cases[i].text), &ts, err, sizeof(err)),
		    -EINVAL);
		if (strncmp(err, cases[i].message, strlen(cases[i].message)) != 0)
			fail_msg("case %zu: '%s', expected '%s'", i, err, cases[i].message);
		assert_int_equal(ts.count, 4242); /* untouched on error */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_native_ruleset),
	    cmocka_unit_test(test_xt_expressions),
	    cmocka_unit_test(test_name_sets),
	    cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
