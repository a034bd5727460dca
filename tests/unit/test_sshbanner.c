/* probes/sshbanner.c: the identification line parser on hostile input, and
 * the connection against servers on loopback that answer, stay silent,
 * refuse or send garbage. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "probes/sshbanner.h"

static int parse(const char *buf, size_t len, struct sshbanner *b, char *err, size_t errlen)
{
	memset(b, 0xa5, sizeof(*b));
	err[0] = '\0';
	return sshbanner_parse(buf, len, b, err, errlen);
}

static void test_openssh(void **state)
{
	const char *s = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
	struct sshbanner b;
	char err[256];

	(void)state;
	assert_int_equal(parse(s, strlen(s), &b, err, sizeof(err)), 0);
	assert_string_equal(b.line, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
	assert_string_equal(b.proto, "2.0");
	assert_string_equal(b.software, "OpenSSH_9.2p1");
	assert_int_equal(b.lines_before, 0);
}

/* RFC 4253: other lines may come first; LF alone is accepted as well. */
static void test_lines_before(void **state)
{
	const char *s = "Welcome\r\n\nauthorized use only\nSSH-1.99-dropbear_2022.83\n";
	struct sshbanner b;
	char err[256];

	(void)state;
	assert_int_equal(parse(s, strlen(s), &b, err, sizeof(err)), 0);
	assert_string_equal(b.proto, "1.99");
	assert_string_equal(b.software, "dropbear_2022.83");
	assert_int_equal(b.lines_before, 3);
}

/* Every prefix of a good line asks for more. */
static void test_incomplete(void **state)
{
	const char *s = "hello\r\nSSH-2.0-OpenSSH_9.2p1\r\n";
	struct sshbanner b;
	char err[256];

	(void)state;
	for (size_t n = 0; n < strlen(s) - 1; n++)
		assert_int_equal(parse(s, n, &b, err, sizeof(err)), -EAGAIN);
}

static void expect_bad(const char *buf, size_t len, const char *reason)
{
	struct sshbanner b, before;
	char err[256];

	memset(&before, 0xa5, sizeof(before));
	assert_int_equal(parse(buf, len, &b, err, sizeof(err)), -EBADMSG);
	assert_memory_equal(&b, &before, sizeof(b));
	if (!strstr(err, reason))
		fail_msg("error \"%s\" does not say \"%s\"", err, reason);
}

static void test_hostile(void **state)
{
	static char big[100 * 1024];
	const char nul_line[] = "SSH-2.0-Open\0SSH\r\n";
	const char binary[] = "\x01\x02\xff\xfe\0\0garbage\n";

	(void)state;
	/* A 100 KB identification line, with and without its newline. */
	memcpy(big, "SSH-2.0-", 8);
	memset(big + 8, 'x', sizeof(big) - 9);
	big[sizeof(big) - 1] = '\n';
	expect_bad(big, sizeof(big), "more than 255");
	expect_bad(big, sizeof(big) - 1, "more than 255");
	expect_bad(big, 300, "more than 255");
	/* 254 bytes with CR LF is too long by one, 253 fits. */
	memset(big + 8, 'x', 300);
	memcpy(big + 254, "\r\n", 2);
	expect_bad(big, 256, "more than 255");
	{
		struct sshbanner b;
		char err[256];

		memcpy(big + 253, "\r\n", 2);
		assert_int_equal(parse(big, 255, &b, err, sizeof(err)), 0);
		assert_int_equal(strlen(b.line), 253);
	}
	/* 100 KB of other lines, or of one line without a newline. */
	memset(big, 'y', sizeof(big));
	expect_bad(big, sizeof(big), "no identification line in the first");
	for (size_t i = 0; i < sizeof(big); i += 80)
		big[i] = '\n';
	expect_bad(big, sizeof(big), "no identification line in the first");
	/* Binary bytes. */
	expect_bad(nul_line, sizeof(nul_line) - 1, "byte 0x00");
	expect_bad("SSH-2.0-a\x1b[2Jb\n", 15, "byte 0x1b");
	expect_bad("SSH-2.0-caf\xc3\xa9\n", 14, "byte 0xc3");
	expect_bad(binary, sizeof(binary) - 1, "binary bytes");
	/* Not protocol 2. */
	expect_bad("SSH-1.5-old\n", 12, "protocol 2.0");
	expect_bad("SSH-2.0\n", 8, "protocol 2.0");
	expect_bad("SSH-\n", 5, "protocol 2.0");
}

/* ---- live, on loopback --------------------------------------------------- */

static int listen_loopback(struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &sl), 0);
	return fd;
}

/* A child that accepts one connection, writes len bytes and closes after
 * linger_ms; it fails when the client sent anything. */
static pid_t serve(int lfd, const char *buf, size_t len, int linger_ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);
		char got;

		alarm(10);
		if (c < 0 || write(c, buf, len) != (ssize_t)len)
			_exit(2);
		usleep((useconds_t)linger_ms * 1000);
		_exit(recv(c, &got, 1, MSG_DONTWAIT) > 0 ? 3 : 0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static int fetch(const struct sockaddr_in *sa, unsigned timeout_ms, struct sshbanner *b, char *err,
                 size_t errlen)
{
	return sshbanner_fetch((const struct sockaddr *)sa, sizeof(*sa), timeout_ms, b, err,
	                       errlen);
}

static void test_live_answers(void **state)
{
	const char *s = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
	struct sockaddr_in sa;
	struct sshbanner b;
	char err[256];
	int lfd = listen_loopback(&sa), status;
	pid_t pid = serve(lfd, s, strlen(s), 300);

	(void)state;
	assert_int_equal(fetch(&sa, 2000, &b, err, sizeof(err)), 0);
	assert_string_equal(b.software, "OpenSSH_9.2p1");
	/* The client sent nothing: the server saw no byte. */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(lfd);
}

/* Accepted by the kernel, never a byte: cut at the deadline. */
static void test_live_silent(void **state)
{
	struct sockaddr_in sa;
	struct sshbanner b;
	char err[256];
	int lfd = listen_loopback(&sa);

	(void)state;
	assert_int_equal(fetch(&sa, 300, &b, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "connected, but no identification line within 300 ms"));
	close(lfd);
}

/* A line without its newline, then the server closes. */
static void test_live_closed(void **state)
{
	struct sockaddr_in sa;
	struct sshbanner b;
	char err[256];
	int lfd = listen_loopback(&sa);
	pid_t pid = serve(lfd, "SSH-2.0-half", 12, 0);

	(void)state;
	assert_int_equal(fetch(&sa, 2000, &b, err, sizeof(err)), -ECONNRESET);
	assert_non_null(strstr(err, "closed the connection before its identification line"));
	reap(pid);
	close(lfd);
}

static void test_live_garbage(void **state)
{
	static char big[20000];
	struct sockaddr_in sa;
	struct sshbanner b;
	char err[256];
	int lfd = listen_loopback(&sa);
	pid_t pid;

	(void)state;
	memset(big, '\xff', sizeof(big));
	pid = serve(lfd, big, sizeof(big), 500);
	assert_int_equal(fetch(&sa, 2000, &b, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "no identification line in the first 8192 bytes"));
	reap(pid);
	close(lfd);
}

static void test_live_refused(void **state)
{
	struct sockaddr_in sa;
	struct sshbanner b;
	char err[256];
	int lfd = listen_loopback(&sa);

	(void)state;
	close(lfd);
	assert_int_equal(fetch(&sa, 2000, &b, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "refused"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_openssh),      cmocka_unit_test(test_lines_before),
	    cmocka_unit_test(test_incomplete),   cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_live_answers), cmocka_unit_test(test_live_silent),
	    cmocka_unit_test(test_live_closed),  cmocka_unit_test(test_live_garbage),
	    cmocka_unit_test(test_live_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
