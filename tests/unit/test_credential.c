#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "probes/credential.h"
#include "probes/wgquick.h"

#define GUIDE "tests/fixtures/wgquick/guide.conf"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void drop(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/sparkmon-cred-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	drop("wg0.conf");
	drop("wireguard_wg0.conf");
	drop("wireguard_wg-dgx-spark.conf");
	rmdir(dir);
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static void test_unset(void **state)
{
	char buf[256] = "untouched";

	(void)state;
	unsetenv("CREDENTIALS_DIRECTORY");
	assert_int_equal(credential_find("/etc/wireguard/wg0.conf", "wireguard", buf, sizeof(buf)),
	                 -ENOENT);
	setenv("CREDENTIALS_DIRECTORY", "", 1);
	assert_int_equal(credential_find("/etc/wireguard/wg0.conf", "wireguard", buf, sizeof(buf)),
	                 -ENOENT);
	assert_string_equal(buf, "untouched");
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
}

static void test_base_name_first(void **state)
{
	char buf[256], want[256];

	(void)state;
	put("wg0.conf", "a");
	put("wireguard_wg0.conf", "b");
	assert_int_equal(credential_find("/etc/wireguard/wg0.conf", "wireguard", buf, sizeof(buf)),
	                 0);
	snprintf(want, sizeof(want), "%s/wg0.conf", dir);
	assert_string_equal(buf, want);
	drop("wg0.conf");
	assert_int_equal(credential_find("/etc/wireguard/wg0.conf", "wireguard", buf, sizeof(buf)),
	                 0);
	snprintf(want, sizeof(want), "%s/wireguard_wg0.conf", dir);
	assert_string_equal(buf, want);
	/* Without a directory id only the plain base name counts. */
	assert_int_equal(credential_find("/etc/wireguard/wg0.conf", NULL, buf, sizeof(buf)),
	                 -ENOENT);
	drop("wireguard_wg0.conf");
}

static void test_missing_and_bad_names(void **state)
{
	char buf[256] = "untouched";

	(void)state;
	assert_int_equal(credential_find("/etc/wireguard/wg1.conf", "wireguard", buf, sizeof(buf)),
	                 -ENOENT);
	assert_int_equal(credential_find("/etc/wireguard/", "wireguard", buf, sizeof(buf)),
	                 -ENOENT);
	assert_int_equal(credential_find("/etc/wireguard/..", NULL, buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "untouched");
}

static void test_too_long(void **state)
{
	char buf[8] = "same";

	(void)state;
	put("wg0.conf", "a");
	assert_int_equal(credential_find("/etc/wireguard/wg0.conf", NULL, buf, sizeof(buf)),
	                 -ENAMETOOLONG);
	assert_string_equal(buf, "same");
	drop("wg0.conf");
}

/* wgquick_read() falls back to the credential when the file itself cannot
 * be read, and names the original path when neither can. */
static void test_wgquick_read_uses_credential(void **state)
{
	struct wgquick_file f;
	char err[256] = "";
	char *text;
	FILE *in;
	long n;

	(void)state;
	in = fopen(GUIDE, "r");
	assert_non_null(in);
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	rewind(in);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, in), (size_t)n);
	fclose(in);
	put("wireguard_wg-dgx-spark.conf", text);
	free(text);

	assert_int_equal(
	    wgquick_read("/nonexistent/wireguard/wg-dgx-spark.conf", &f, err, sizeof(err)), 0);
	assert_string_equal(f.address, "10.100.0.1/24");
	assert_int_equal(f.listen_port, 51820);
	wgquick_free(&f);

	assert_int_equal(wgquick_read("/nonexistent/wireguard/wg9.conf", &f, err, sizeof(err)),
	                 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/wireguard/wg9.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unset),
	    cmocka_unit_test(test_base_name_first),
	    cmocka_unit_test(test_missing_and_bad_names),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_wgquick_read_uses_credential),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
