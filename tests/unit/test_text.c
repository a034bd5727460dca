#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probes/text.h"

static void test_trim(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"key", "key"},
	    {" \t key = value \t", "key = value"},
	    {"value\r", "value"},
	    {"value \r \t", "value"},
	    /* A CR is only an end-of-line artefact: at the start it stays. */
	    {"\rvalue", "\rvalue"},
	    {" \t\r ", ""},
	    {"", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];

		strcpy(buf, cases[i].in);
		assert_string_equal(text_trim(buf), cases[i].out);
	}
}

/* The result points into the buffer: the start is skipped, the end cut. */
static void test_trim_in_place(void **state)
{
	char buf[] = "  a b  ";

	(void)state;
	assert_ptr_equal(text_trim(buf), buf + 2);
	assert_string_equal(buf + 2, "a b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trim),
	    cmocka_unit_test(test_trim_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
