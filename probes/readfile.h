/* Reading small files (procfs, sysctl.d, configuration) with a size cap. */
#ifndef SPARKMON_READFILE_H
#define SPARKMON_READFILE_H

#include <stddef.h>

/* Reads all of `path` into a fresh NUL-terminated buffer (*ret, *ret_len
 * without the NUL). Files larger than `max` give -EFBIG. Returns 0 or a
 * negative errno; *ret is written only on success and is the caller's to
 * free(). procfs files report size 0, so the file is read until EOF. */
int readfile_read(const char *path, size_t max, char **ret, size_t *ret_len);

#endif
