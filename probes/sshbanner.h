/* The SSH server's identification line (RFC 4253, section 4.2): read
 * after the TCP handshake, before anything is sent. sparkmon never sends a
 * byte on the connection: no key exchange, no login. */
#ifndef SPARKMON_SSHBANNER_H
#define SPARKMON_SSHBANNER_H

#include <stddef.h>
#include <sys/socket.h>

/* RFC 4253: at most 255 bytes with its CR LF. */
#define SSHBANNER_LINE_MAX 255
/* Lines the server may send before it; more than this is not an SSH server. */
#define SSHBANNER_READ_MAX 8192

struct sshbanner {
	char line[SSHBANNER_LINE_MAX + 1];     /* "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3" */
	char proto[16];                        /* "2.0" or "1.99" */
	char software[SSHBANNER_LINE_MAX + 1]; /* "OpenSSH_9.2p1" */
	unsigned lines_before;                 /* other lines the server sent first */
};

/* Parses what the server sent so far (len bytes, not NUL-terminated).
 * Returns 0 and fills *ret when an identification line is there; -EAGAIN
 * when more bytes may complete one; -EBADMSG, with the reason in err and
 * *ret untouched, when they never will: an "SSH-" line longer than 255
 * bytes, a byte that is not printable ASCII in it, a protocol version other
 * than 2.0 or 1.99, a NUL in a line before it, or SSHBANNER_READ_MAX bytes
 * without one. Lines may end in CR LF or LF alone. */
int sshbanner_parse(const char *buf, size_t len, struct sshbanner *ret, char *err, size_t errlen);

/* Connects to addr (nonblocking, with the deadline) and reads until the
 * identification line is complete, the peer closes, or timeout_ms have
 * passed in all. Returns 0; -ECONNREFUSED and other connect errors;
 * -ETIMEDOUT (err says whether the handshake or the line was missing);
 * -ECONNRESET when the server closed first; -EBADMSG from the parser.
 * err always says what happened. */
int sshbanner_fetch(const struct sockaddr *addr, socklen_t addrlen, unsigned timeout_ms,
                    struct sshbanner *ret, char *err, size_t errlen);

#endif
