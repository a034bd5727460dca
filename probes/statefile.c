#include "probes/statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Opens the folder that holds path; -1 when it cannot be. */
static int open_folder(const char *path)
{
	char dir[PATH_MAX], *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -1;
	slash = strrchr(dir, '/');
	if (!slash)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*slash = '\0';
	return open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Root (cron's `sparkmon check`) writing into the folder of the daemon's
 * user (systemd's StateDirectory under DynamicUser) gives the file to
 * that user, so that the daemon can still read and replace it. A file it
 * could not give away is not written: the daemon would be locked out. */
static int give_to_folder_owner(int fd, int dir_fd)
{
	struct stat st;

	if (geteuid() == 0 && dir_fd >= 0 && fstat(dir_fd, &st) == 0 && st.st_uid != 0 &&
	    fchown(fd, st.st_uid, st.st_gid) < 0)
		return -errno;
	return 0;
}

int statefile_write(const char *path, const char *buf, size_t len, unsigned mode)
{
	char tmp[PATH_MAX];
	int fd, dir_fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	dir_fd = open_folder(path);
	/* O_NOFOLLOW: a link planted at the temporary name is refused, not
	 * written through. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode ? mode : 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = give_to_folder_owner(fd, dir_fd);
	if (r == 0)
		r = write_all(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		goto out;
	}
	/* The rename is durable only once the folder holding it is synced. */
	if (dir_fd >= 0)
		fsync(dir_fd);
out:
	if (dir_fd >= 0)
		close(dir_fd);
	return r;
}
