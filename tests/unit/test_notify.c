/* The sd_notify protocol against a real AF_UNIX datagram socket, as
 * systemd listens on one: path and abstract names, what is received, and
 * the environment the watchdog is read from. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/notify.h"

/* Binds a datagram socket to name ("@..." = abstract); returns its fd. */
static int listen_on(const char *name)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(addr.sun_path, name, strlen(name));
	if (name[0] == '@')
		addr.sun_path[0] = '\0';
	else
		len++;
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, len), 0);
	return fd;
}

static void receive(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
}

static void test_path_socket(void **state)
{
	char path[64], buf[1024];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/sparkmon-notify-%d.sock", (int)getpid());
	unlink(path);
	fd = listen_on(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_send("READY=1\nSTATUS=serving on %s", "http://127.0.0.1:1/"), 1);
	receive(fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1\nSTATUS=serving on http://127.0.0.1:1/");
	/* One datagram per call. */
	assert_int_equal(notify_send("WATCHDOG=1"), 1);
	receive(fd, buf, sizeof(buf));
	assert_string_equal(buf, "WATCHDOG=1");
	close(fd);
	unlink(path);
	/* Nobody listening any more: an error, not a crash or a hang. */
	assert_int_equal(notify_send("STOPPING=1"), -ENOENT);
	unsetenv("NOTIFY_SOCKET");
}

static void test_abstract_socket(void **state)
{
	char name[64], buf[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@sparkmon-notify-%d", (int)getpid());
	fd = listen_on(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_send("STATUS=%s: %zu checks", "OK", (size_t)9), 1);
	receive(fd, buf, sizeof(buf));
	assert_string_equal(buf, "STATUS=OK: 9 checks");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

/* A STATUS longer than the buffer arrives cut, not lost. */
static void test_long_status_is_cut(void **state)
{
	char name[64], buf[2048], status[1500];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@sparkmon-notify-long-%d", (int)getpid());
	fd = listen_on(name);
	setenv("NOTIFY_SOCKET", name, 1);
	memset(status, 'x', sizeof(status) - 1);
	status[sizeof(status) - 1] = '\0';
	assert_int_equal(notify_send("STATUS=%s", status), 1);
	receive(fd, buf, sizeof(buf));
	assert_true(strncmp(buf, "STATUS=xxx", 10) == 0);
	assert_int_equal(strlen(buf), 511);
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_unset_or_unusable(void **state)
{
	char longname[200];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(notify_send("READY=1"), 0);
	/* Neither a path nor an abstract name (systemd's vsock form is
	 * not spoken here). */
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog(void **state)
{
	char pid[32];

	(void)state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "2000000", 1);
	assert_int_equal(notify_watchdog_usec(), 2000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 2000000);
	/* Meant for another process (inherited from a parent). */
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_PID", "garbage", 1);
	assert_int_equal(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	for (size_t i = 0; i < 4; i++) {
		static const char *const bad[] = {"", "-5", "12abc", "99999999999999999999999"};

		setenv("WATCHDOG_USEC", bad[i], 1);
		assert_int_equal(notify_watchdog_usec(), 0);
	}
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_socket),        cmocka_unit_test(test_abstract_socket),
	    cmocka_unit_test(test_long_status_is_cut), cmocka_unit_test(test_unset_or_unusable),
	    cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
