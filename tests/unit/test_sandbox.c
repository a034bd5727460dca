#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "web/sandbox.h"

static char dir[64], conf[128], creds[128], key[192];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/sparkmon-sandbox-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(conf, sizeof(conf), "%s/sparkmon.conf", dir);
	snprintf(creds, sizeof(creds), "%s/credentials", dir);
	snprintf(key, sizeof(key), "%s/wireguard_wg0.conf", creds);
	if (mkdir(creds, 0700) < 0)
		return -1;
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fputs("[general]\n", f);
	fclose(f);
	f = fopen(key, "w");
	if (!f)
		return -1;
	fputs("[Interface]\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(key);
	rmdir(creds);
	unlink(conf);
	rmdir(dir);
	return 0;
}

/* What the child found, one bit per expectation that failed. */
enum {
	BAD_ENTER = 1 << 0,
	BAD_CONF = 1 << 1,
	BAD_CREDS_DIR = 1 << 2,
	BAD_CREDS_FILE = 1 << 3,
	BAD_NETLINK = 1 << 4,
	BAD_INET = 1 << 5,
	BAD_EXEC = 1 << 6,
	BAD_STATUS = 1 << 7,
	BAD_FDS = 1 << 8,
};

/* The sandbox keeps /proc from its process: the parent reads it. */
static bool status_has(pid_t pid, const char *line)
{
	char path[64], buf[4096];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, line) != NULL;
}

static int probe_sandbox(int spare_fd, int keep_fd)
{
	struct sandbox_policy policy = {.readable = {conf}, .keep_fd = keep_fd};
	char note[160], err[256];
	int bad = 0, fd;

	if (sandbox_enter(&policy, note, sizeof(note), err, sizeof(err)) < 0)
		return BAD_ENTER;
	fd = open(conf, O_RDONLY);
	if (fd < 0)
		bad |= BAD_CONF;
	else
		close(fd);
	/* The credentials: not even their folder. */
	if (open(creds, O_RDONLY | O_DIRECTORY) >= 0 || errno != EACCES)
		bad |= BAD_CREDS_DIR;
	if (open(key, O_RDONLY) >= 0 || errno != EACCES)
		bad |= BAD_CREDS_FILE;
	/* No netlink: the WireGuard and nf_tables dumps are the collector's. */
	if (socket(AF_NETLINK, SOCK_RAW, 0) >= 0 || errno != EPERM)
		bad |= BAD_NETLINK;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		bad |= BAD_INET;
	else
		close(fd);
	execl("/bin/true", "true", (char *)NULL);
	if (errno != EPERM)
		bad |= BAD_EXEC;
	if (fcntl(keep_fd, F_GETFD) < 0 || fcntl(spare_fd, F_GETFD) >= 0)
		bad |= BAD_FDS;
	return bad;
}

/* In the child: the checks, their result to the parent, and a wait until
 * the parent has read the child's /proc status. */
static void child(int spare, int sock)
{
	int bad = probe_sandbox(spare, sock);
	char c;

	if (write(sock, &bad, sizeof(bad)) != sizeof(bad))
		_exit(1);
	while (read(sock, &c, 1) > 0)
		;
	_exit(0);
}

static void test_sandbox(void **state)
{
	int spare = open("/dev/null", O_RDONLY), sv[2], st, bad = -1;
	pid_t pid;

	(void)state;
	assert_true(spare >= 3);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		child(spare, sv[1]);
	}
	close(spare);
	close(sv[1]);
	assert_int_equal(read(sv[0], &bad, sizeof(bad)), sizeof(bad));
	if (!status_has(pid, "CapEff:\t0000000000000000") || !status_has(pid, "NoNewPrivs:\t1") ||
	    !status_has(pid, "Seccomp:\t2"))
		bad |= BAD_STATUS;
	close(sv[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	if (bad != 0)
		fail_msg("sandboxed child: failed checks 0x%x (1 enter, 2 conf, 4 creds dir, "
		         "8 creds file, 16 netlink, 32 inet, 64 exec, 128 status, 256 fds)",
		         bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sandbox, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
