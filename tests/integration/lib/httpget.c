/* httpget PORT PATH: one HTTP/1.0 GET of PATH from 127.0.0.1:PORT, the
 * body on stdout; exits 0 on a 200, 1 otherwise. For the test VM, whose
 * busybox has no working HTTP client and where curl would bring twenty
 * libraries along. Gives up after 5 s. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define REPLY_MAX (8 * 1024 * 1024)

static int connect_local(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static char reply[REPLY_MAX + 1];
	char request[4096];
	size_t len = 0;
	ssize_t n;
	const char *body;
	int fd, k;

	if (argc != 3) {
		fprintf(stderr, "usage: httpget PORT PATH\n");
		return 2;
	}
	fd = connect_local(atoi(argv[1]));
	if (fd < 0) {
		perror("httpget: connect");
		return 1;
	}
	k = snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n",
	             argv[2], argv[1]);
	if (k < 0 || (size_t)k >= sizeof(request) || write(fd, request, (size_t)k) != k) {
		fprintf(stderr, "httpget: request not sent\n");
		return 1;
	}
	while (len < REPLY_MAX && (n = read(fd, reply + len, REPLY_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	reply[len] = '\0';
	body = strstr(reply, "\r\n\r\n");
	if (strncmp(reply, "HTTP/1.", 7) != 0 || !body || strncmp(reply + 8, " 200 ", 5) != 0) {
		fprintf(stderr, "httpget: %.80s\n", reply);
		return 1;
	}
	body += 4;
	fwrite(body, 1, len - (size_t)(body - reply), stdout);
	return 0;
}
