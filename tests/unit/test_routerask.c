/* probes/routerask.c: the frame the router conversation's child writes,
 * checked before the daemon uses it; and the child's usage errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/routerask.h"

static struct routerask_frame *good_frame(void)
{
	struct routerask_frame *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memcpy(f->magic, ROUTERASK_MAGIC, sizeof(f->magic));
	strcpy(f->router.ifname, "enP7s7");
	strcpy(f->router.address, "192.168.1.20");
	f->router.prefix = 24;
	f->router.upnp = ROUTER_ANSWERED;
	f->router.mapping = ROUTER_MAPPING_FOUND;
	return f;
}

static void test_good(void **state)
{
	struct routerask_frame *f = good_frame(), *out = calloc(1, sizeof(*out));

	(void)state;
	assert_non_null(out);
	assert_int_equal(routerask_parse(f, sizeof(*f), out), 0);
	assert_string_equal(out->router.address, "192.168.1.20");
	/* A failed conversation carries no facts to check, only its reason. */
	f->code = -EHOSTUNREACH;
	memset(&f->router, 0xff, sizeof(f->router));
	strcpy(f->error, "no router answered");
	assert_int_equal(routerask_parse(f, sizeof(*f), out), 0);
	assert_int_equal(out->code, -EHOSTUNREACH);
	free(out);
	free(f);
}

static void test_bad(void **state)
{
	struct routerask_frame *f = good_frame(), *out = calloc(1, sizeof(*out));

	(void)state;
	assert_non_null(out);
	out->code = 77;
	assert_int_equal(routerask_parse(f, sizeof(*f) - 1, out), -EBADMSG);
	f->magic[0] = 'S';
	assert_int_equal(routerask_parse(f, sizeof(*f), out), -EBADMSG);
	free(f);

	f = good_frame();
	f->code = 5;
	assert_int_equal(routerask_parse(f, sizeof(*f), out), -EBADMSG);
	f->code = 0;
	memset(f->error, 'x', sizeof(f->error));
	assert_int_equal(routerask_parse(f, sizeof(*f), out), -EBADMSG);
	free(f);

	f = good_frame();
	f->router.prefix = 33;
	assert_int_equal(routerask_parse(f, sizeof(*f), out), -EBADMSG);
	f->router.prefix = 24;
	f->router.mapping = (enum router_mapping)7;
	assert_int_equal(routerask_parse(f, sizeof(*f), out), -EBADMSG);
	f->router.mapping = ROUTER_MAPPING_NONE;
	memset(f->router.upnp_error, 'x', sizeof(f->router.upnp_error));
	assert_int_equal(routerask_parse(f, sizeof(*f), out), -EBADMSG);
	assert_int_equal(out->code, 77);
	free(out);
	free(f);
}

static void test_usage(void **state)
{
	char *no_args[] = {"router-ask", NULL};
	char *bad_port[] = {"router-ask", "--port", "65536", "--timeout-ms", "100", NULL};
	char *bad_timeout[] = {"router-ask", "--port", "51820", "--timeout-ms", "1s", NULL};

	(void)state;
	assert_int_equal(routerask_main(1, no_args), 2);
	assert_int_equal(routerask_main(5, bad_port), 2);
	assert_int_equal(routerask_main(5, bad_timeout), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
