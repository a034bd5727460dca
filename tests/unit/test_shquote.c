#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/shquote.h"

/* What sh makes of a quoted word: the truth, not our idea of it. */
static void assert_sh_reads_back(const char *word)
{
	char quoted[512] = "", cmd[700], out[512] = "";
	size_t n;
	FILE *p;

	assert_int_equal(shquote_append(quoted, sizeof(quoted), word), 0);
	snprintf(cmd, sizeof(cmd), "printf '%%s' %s", quoted);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_string_equal(out, word);
}

static void test_plain_words_stay(void **state)
{
	char buf[64] = "";

	(void)state;
	assert_int_equal(shquote_append(buf, sizeof(buf), "wg-dgx_spark.0"), 0);
	assert_string_equal(buf, "wg-dgx_spark.0");
	buf[0] = '\0';
	assert_int_equal(shquote_append(buf, sizeof(buf), "10.100.0.0/24"), 0);
	assert_string_equal(buf, "10.100.0.0/24");
}

static void test_special_words_quoted(void **state)
{
	static const char *const words[] = {
	    "$(id)",     "`id`",      "a'b",      "a\"b",  "two words", "wg0;reboot", "x|y", "x&y",
	    "*",         "~root",     "#comment", "a\\b",  "$HOME",     "'",          "''",  "",
	    "tab\there", "new\nline", "!history", "{a,b}", "back\\`q`", "\"$(x)\"",
	};
	char buf[64] = "";

	(void)state;
	assert_int_equal(shquote_append(buf, sizeof(buf), "$(id)"), 0);
	assert_string_equal(buf, "'$(id)'");
	buf[0] = '\0';
	assert_int_equal(shquote_append(buf, sizeof(buf), "it's"), 0);
	assert_string_equal(buf, "'it'\\''s'");
	buf[0] = '\0';
	assert_int_equal(shquote_append(buf, sizeof(buf), ""), 0);
	assert_string_equal(buf, "''");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		assert_sh_reads_back(words[i]);
}

static void test_no_room_leaves_buffer(void **state)
{
	char buf[12] = "cmd ";

	(void)state;
	assert_int_equal(shquote_append(buf, sizeof(buf), "$(too long)"), -ENOSPC);
	assert_string_equal(buf, "cmd ");
	assert_int_equal(shquote_append(buf, sizeof(buf), "12345678"), -ENOSPC);
	assert_string_equal(buf, "cmd ");
	assert_int_equal(shquote_append(buf, sizeof(buf), "1234567"), 0);
	assert_string_equal(buf, "cmd 1234567");
	assert_int_equal(shquote_append_raw(buf, sizeof(buf), "x"), -ENOSPC);
	assert_string_equal(buf, "cmd 1234567");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_words_stay),
	    cmocka_unit_test(test_special_words_quoted),
	    cmocka_unit_test(test_no_room_leaves_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
