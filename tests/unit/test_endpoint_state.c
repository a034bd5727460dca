/* probes/endpoint.c, the remembered public IP (<state_dir>/public-ip)
 * under faults: a truncated or corrupt file (reported, never trusted,
 * replaced), a read-only and a full state directory (small tmpfs mounts
 * in a private mount namespace: needs root, as make test runs). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "probes/endpoint.h"

#define NOW   1760000000
#define IP    "198.51.100.23"
#define OLDIP "203.0.113.7"

static char dir[64];

static void write_file(const char *name, const char *text, size_t len)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* The state file's content, "" when absent. */
static const char *state_text(void)
{
	static char text[512];
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/" ENDPOINT_STATE_FILE, dir);
	text[0] = '\0';
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return text;
	n = read(fd, text, sizeof(text) - 1);
	assert_true(n >= 0);
	text[n] = '\0';
	close(fd);
	return text;
}

static bool tmp_left(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/" ENDPOINT_STATE_FILE ".tmp", dir);
	return access(path, F_OK) == 0;
}

static void remember(struct endpoint *ep, bool have_ip)
{
	memset(ep, 0, sizeof(*ep));
	ep->have_ip = have_ip;
	snprintf(ep->public_ip, sizeof(ep->public_ip), "%s", IP);
	endpoint_remember(dir, ep, NOW);
}

/* A tmpfs of `size` at a fresh directory; "ro" mounts it read-only after
 * `seed` (when not NULL) is written as the state file. */
static void mount_dir(const char *size, bool ro, const char *seed)
{
	char opts[64];

	snprintf(dir, sizeof(dir), "/tmp/sm-test-state-%d-XXXXXX", (int)getpid());
	assert_non_null(mkdtemp(dir));
	snprintf(opts, sizeof(opts), "size=%s,mode=0755", size);
	assert_int_equal(mount("sm-test-state", dir, "tmpfs", 0, opts), 0);
	if (seed)
		write_file(ENDPOINT_STATE_FILE, seed, strlen(seed));
	if (ro)
		assert_int_equal(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
}

static int unmount_dir(void **state)
{
	(void)state;
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	return 0;
}

/* The first address seen is written whole, nothing else left behind. */
static void test_first_written(void **state)
{
	struct endpoint ep;

	(void)state;
	mount_dir("64k", false, NULL);
	remember(&ep, true);
	assert_true(ep.have_remembered && ep.remembered_now);
	assert_string_equal(ep.state_error, "");
	assert_string_equal(state_text(), IP "\n1760000000\n");
	assert_false(tmp_left());
	/* Next run: read back, not rewritten. */
	remember(&ep, true);
	assert_true(ep.have_remembered && !ep.remembered_now);
	assert_string_equal(ep.remembered_ip, IP);
	assert_int_equal(ep.remembered_since, NOW);
}

/* Truncated, corrupt, too large: each reported, none trusted, each
 * replaced by the current address (read back by the next run); without a
 * current address, left alone. */
static void test_corrupt_replaced(void **state)
{
	static const char *const bad[] = {
	    OLDIP "\n", OLDIP "\n17000", "203.0.1",        "garbage\n\n",
	    "\n\n",     OLDIP "\n-5\n",  "999.1.1.1\n1\n", OLDIP "\n1\nmore\n",
	};
	char big[400];
	struct endpoint ep;

	(void)state;
	mount_dir("64k", false, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) + 2; i++) {
		if (i < sizeof(bad) / sizeof(bad[0])) {
			write_file(ENDPOINT_STATE_FILE, bad[i], strlen(bad[i]));
		} else if (i == sizeof(bad) / sizeof(bad[0])) {
			memset(big, '1', sizeof(big));
			write_file(ENDPOINT_STATE_FILE, big, sizeof(big));
		} else {
			write_file(ENDPOINT_STATE_FILE, "1.2.3.4\0\n1\n", 11);
		}
		remember(&ep, false);
		assert_false(ep.have_remembered);
		assert_non_null(strstr(ep.state_error, "ignored"));
		remember(&ep, true);
		assert_false(ep.have_remembered);
		assert_non_null(strstr(ep.state_error, "replaced"));
		assert_string_equal(state_text(), IP "\n1760000000\n");
		assert_false(tmp_left());
		/* The next run reads what replaced it. */
		remember(&ep, true);
		assert_true(ep.have_remembered && !ep.remembered_now);
		assert_string_equal(ep.remembered_ip, IP);
		assert_string_equal(ep.state_error, "");
	}
}

/* A read-only directory: a good file is read; no file, or a corrupt one,
 * is reported with the system's reason and nothing is trusted. */
static void test_read_only(void **state)
{
	struct endpoint ep;

	(void)state;
	mount_dir("64k", true, OLDIP "\n1700000000\n");
	remember(&ep, true);
	assert_true(ep.have_remembered && !ep.remembered_now);
	assert_string_equal(ep.remembered_ip, OLDIP);
	unmount_dir(NULL);

	mount_dir("64k", true, NULL);
	remember(&ep, true);
	assert_false(ep.have_remembered);
	assert_non_null(strstr(ep.state_error, "cannot write"));
	assert_non_null(strstr(ep.state_error, strerror(EROFS)));
	assert_string_equal(state_text(), "");
	unmount_dir(NULL);

	mount_dir("64k", true, OLDIP "\n");
	remember(&ep, true);
	assert_false(ep.have_remembered);
	assert_non_null(strstr(ep.state_error, "cannot replace corrupt"));
	assert_string_equal(state_text(), OLDIP "\n");
}

/* Fills the directory's file system to the last byte. */
static void fill(void)
{
	static char block[4096];
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	while (write(fd, block, sizeof(block)) > 0)
		;
	while (write(fd, block, 1) > 0)
		;
	assert_int_equal(errno, ENOSPC);
	close(fd);
}

/* A full directory: nothing half-written is left, an old file (good or
 * corrupt) stays as it was, and the reason is the system's. */
static void test_full(void **state)
{
	struct endpoint ep;

	(void)state;
	mount_dir("16k", false, NULL);
	fill();
	remember(&ep, true);
	assert_false(ep.have_remembered);
	assert_non_null(strstr(ep.state_error, strerror(ENOSPC)));
	assert_string_equal(state_text(), "");
	assert_false(tmp_left());
	unmount_dir(NULL);

	mount_dir("16k", false, "203.0.11");
	fill();
	remember(&ep, true);
	assert_false(ep.have_remembered);
	assert_non_null(strstr(ep.state_error, "cannot replace corrupt"));
	assert_string_equal(state_text(), "203.0.11");
	assert_false(tmp_left());
	unmount_dir(NULL);

	mount_dir("16k", false, OLDIP "\n1700000000\n");
	fill();
	remember(&ep, true);
	assert_true(ep.have_remembered);
	assert_string_equal(ep.remembered_ip, OLDIP);
}

/* Mounts made here stay in this process's own mount namespace. */
static int private_mounts(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "test_endpoint_state: needs root (tmpfs mounts)\n");
		return -1;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("test_endpoint_state: private mount namespace");
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_first_written, unmount_dir),
	    cmocka_unit_test_teardown(test_corrupt_replaced, unmount_dir),
	    cmocka_unit_test_teardown(test_read_only, unmount_dir),
	    cmocka_unit_test_teardown(test_full, unmount_dir),
	};

	return cmocka_run_group_tests(tests, private_mounts, NULL);
}
