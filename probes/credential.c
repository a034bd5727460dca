#include "probes/credential.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Joins dir, prefix and base into out; -ENAMETOOLONG when it does not fit. */
static int join(char *out, size_t size, const char *dir, const char *prefix, const char *base)
{
	int n =
	    snprintf(out, size, "%s/%s%s%s", dir, prefix ? prefix : "", prefix ? "_" : "", base);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int credential_find(const char *path, const char *dir_id, char *buf, size_t size)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	const char *base = strrchr(path, '/');
	char candidate[4096];
	int r;

	base = base ? base + 1 : path;
	/* A credential id is a file name: no empty name, no "." or "..". */
	if (!dir || !*dir || !*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -ENOENT;
	for (int i = 0; i < (dir_id ? 2 : 1); i++) {
		r = join(candidate, sizeof(candidate), dir, i ? dir_id : NULL, base);
		if (r < 0)
			return r;
		if (access(candidate, F_OK) == 0) {
			if (strlen(candidate) >= size)
				return -ENAMETOOLONG;
			memcpy(buf, candidate, strlen(candidate) + 1);
			return 0;
		}
	}
	return -ENOENT;
}
