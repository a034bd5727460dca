#include "probes/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Grows buf to hold cap + 1 bytes without realloc(): realloc may move the
 * data and leave the old copy in freed memory, and some files read here
 * (the wg-quick file) hold private keys. The old buffer is wiped. */
static char *grow(char *buf, size_t len, size_t cap)
{
	char *grown = malloc(cap + 1);

	if (!grown)
		return NULL;
	memcpy(grown, buf, len);
	explicit_bzero(buf, len);
	free(buf);
	return grown;
}

int readfile_read(const char *path, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted at a config path must not hang the probe. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *grown;

			if (cap > max) {
				r = -EFBIG;
				goto out;
			}
			cap *= 2;
			grown = grow(buf, len, cap);
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		r = -EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	if (buf)
		explicit_bzero(buf, len);
	free(buf);
	close(fd);
	return r;
}
