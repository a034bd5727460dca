#include "monitor/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills addr from $NOTIFY_SOCKET: a path, or "@name" for an abstract
 * socket. Returns the address length, 0 when unset, -EINVAL otherwise. */
static int notify_address(struct sockaddr_un *addr)
{
	const char *name = getenv("NOTIFY_SOCKET");
	size_t len;

	if (!name || !name[0])
		return 0;
	len = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || len >= sizeof(addr->sun_path))
		return -EINVAL;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, name, len);
	if (name[0] == '@') {
		addr->sun_path[0] = '\0';
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int notify_send(const char *fmt, ...)
{
	struct sockaddr_un addr;
	char text[512];
	va_list ap;
	int addrlen = notify_address(&addr), fd, n;
	ssize_t sent;

	if (addrlen <= 0)
		return addrlen;
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1; /* a long STATUS= is cut, not dropped */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent =
	    sendto(fd, text, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&addr, (socklen_t)addrlen);
	n = sent < 0 ? -errno : 1;
	close(fd);
	return n;
}

/* Parses a decimal unsigned number filling the whole string; 0 on error. */
static uint64_t env_u64(const char *name)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || *end ? 0 : (uint64_t)v;
}

uint64_t notify_watchdog_usec(void)
{
	/* WATCHDOG_PID names the process meant; a child that inherited the
	 * variables must not feed the watchdog. */
	if (getenv("WATCHDOG_PID") && env_u64("WATCHDOG_PID") != (uint64_t)getpid())
		return 0;
	return env_u64("WATCHDOG_USEC");
}
