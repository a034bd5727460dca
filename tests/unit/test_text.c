#include <setjmp.h>
#include <stdbool.h>
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

/* One character or one ill-formed sequence, and what text_utf8_char() says
 * of its first byte: the character's length, or 0. */
static const struct {
	const char *s;
	size_t len;
	size_t want;
} utf8_cases[] = {
    {"A", 1, 1},
    {"\x7f", 1, 1},
    {"\xc2\x80", 2, 2},         /* U+0080, the first 2-byte character */
    {"\xc3\xa9", 2, 2},         /* é */
    {"\xdf\xbf", 2, 2},         /* U+07FF */
    {"\xe0\xa0\x80", 3, 3},     /* U+0800, the first 3-byte character */
    {"\xe2\x82\xac", 3, 3},     /* € */
    {"\xed\x9f\xbf", 3, 3},     /* U+D7FF, just below the surrogates */
    {"\xee\x80\x80", 3, 3},     /* U+E000, just above them */
    {"\xef\xbf\xbd", 3, 3},     /* U+FFFD */
    {"\xf0\x90\x80\x80", 4, 4}, /* U+10000 */
    {"\xf0\x9f\x9a\x80", 4, 4}, /* 🚀 */
    {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF, the last code point */
    {"\x80", 1, 0},             /* a continuation byte alone */
    {"\xbf", 1, 0},
    {"\xff", 1, 0},
    {"\xfe", 1, 0},
    {"\xc0\xaf", 2, 0},         /* overlong '/' */
    {"\xc1\xbf", 2, 0},         /* overlong DEL */
    {"\xe0\x80\xaf", 3, 0},     /* overlong '/' in 3 bytes */
    {"\xe0\x9f\xbf", 3, 0},     /* overlong U+07FF */
    {"\xf0\x80\x80\xaf", 4, 0}, /* overlong '/' in 4 bytes */
    {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong U+FFFF */
    {"\xed\xa0\x80", 3, 0},     /* U+D800, a surrogate */
    {"\xed\xbf\xbf", 3, 0},     /* U+DFFF */
    {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
    {"\xf5\x80\x80\x80", 4, 0},
    {"\xf8\x88\x80\x80\x80", 5, 0}, /* the old 5-byte form */
    {"\xc3", 1, 0},                 /* cut short */
    {"\xe2\x82", 2, 0},
    {"\xf0\x9f\x9a", 3, 0},
    {"\xc3"
     "A",
     2, 0}, /* a lead byte without its continuation */
    {"\xe2\x82"
     "A",
     3, 0},
    {"\xe2\x28\xa1", 3, 0},
};

static void test_utf8_char(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		size_t got = text_utf8_char(utf8_cases[i].s, utf8_cases[i].len);

		if (got != utf8_cases[i].want)
			fail_msg("case %zu: %zu, want %zu", i, got, utf8_cases[i].want);
		assert_int_equal(text_utf8_valid(utf8_cases[i].s, utf8_cases[i].len),
		                 utf8_cases[i].want == utf8_cases[i].len);
	}
	/* The length limit is honoured: a valid character cut by it is not one. */
	assert_int_equal(text_utf8_char("\xe2\x82\xac", 2), 0);
	assert_int_equal(text_utf8_char("A", 0), 0);
	assert_true(text_utf8_valid("", 0));
	assert_true(text_utf8_valid("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x9a\x80", 15));
	assert_false(text_utf8_valid("ok \xff ok", 7));
}

static void test_sanitize(void **state)
{
	static const struct {
		const char *in, *out;
		size_t replaced;
	} cases[] = {
	    {"", "", 0},
	    {"NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3", 0},
	    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80",
	     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80", 0},
	    {"a\xff"
	     "b",
	     "a?b", 1},
	    {"\xc0\xaf", "??", 2},           /* each byte of an overlong */
	    {"x\xe2\x82", "x??", 2},         /* a truncated sequence at the end */
	    {"\xe2\x82y", "??y", 2},         /* and in the middle */
	    {"\xed\xa0\x80", "???", 3},      /* a surrogate */
	    {"\xf4\x90\x80\x80", "????", 4}, /* above U+10FFFF */
	    {"\x80\x80", "??", 2},
	    {"line\nforged\r", "line?forged?", 2},
	    {"tab\there", "tab?here", 1},
	    {"del\x7f", "del?", 1},
	    {"c1\xc2\x85.", "c1?.", 1},          /* NEL: one '?' for two bytes */
	    {"\xc2\xa0nbsp", "\xc2\xa0nbsp", 0}, /* U+00A0 is no control */
	    {"\xc3\xa9\xff\xc3\xa9", "\xc3\xa9?\xc3\xa9", 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		size_t n;

		strcpy(buf, cases[i].in);
		n = text_sanitize_utf8(buf);
		if (strcmp(buf, cases[i].out) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, buf, cases[i].out);
		assert_int_equal(n, cases[i].replaced);
		assert_true(strlen(buf) <= strlen(cases[i].in));
		assert_true(text_utf8_valid(buf, strlen(buf)));
	}
}

/* Every two-byte string comes out valid and no longer than it went in. */
static void test_sanitize_all_pairs(void **state)
{
	(void)state;
	for (unsigned a = 1; a < 256; a++) {
		for (unsigned b = 0; b < 256; b++) {
			char buf[3] = {(char)a, (char)b, '\0'};

			text_sanitize_utf8(buf);
			assert_true(strlen(buf) <= 2);
			assert_true(text_utf8_valid(buf, strlen(buf)));
		}
	}
}

static void test_copy(void **state)
{
	char buf[8];

	(void)state;
	/* Reads no further than len, and stops at a NUL. */
	text_copy_utf8(buf, sizeof(buf), "abcdef", 3);
	assert_string_equal(buf, "abc");
	text_copy_utf8(buf, sizeof(buf), "ab\0cd", 5);
	assert_string_equal(buf, "ab");
	/* Sanitized like text_sanitize_utf8(). */
	text_copy_utf8(buf, sizeof(buf), "a\xff\n\xc0\xaf", 5);
	assert_string_equal(buf, "a????");
	/* Cut between characters: 7 bytes of room, "€€€" needs 9. */
	text_copy_utf8(buf, sizeof(buf), "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 9);
	assert_string_equal(buf, "\xe2\x82\xac\xe2\x82\xac");
	text_copy_utf8(buf, 3, "\xc3\xa9\xc3\xa9", 4);
	assert_string_equal(buf, "\xc3\xa9");
	text_copy_utf8(buf, 2, "\xc3\xa9", 2);
	assert_string_equal(buf, "");
	text_copy_utf8(buf, 1, "abc", 3);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trim),
	    cmocka_unit_test(test_trim_in_place),
	    cmocka_unit_test(test_utf8_char),
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_sanitize_all_pairs),
	    cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
