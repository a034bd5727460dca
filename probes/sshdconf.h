/* sshd_config: the keywords that say where sshd listens (Port,
 * ListenAddress) and the Include lines that pull in more files, as
 * sshd(8) reads them. The parser takes one file's text; the reader follows
 * the includes below the configured root. */
#ifndef SPARKMON_SSHDCONF_H
#define SPARKMON_SSHDCONF_H

#include <stddef.h>
#include <stdint.h>

struct config;

#define SSHDCONF_FILE_MAX   288 /* a file name as people find it, with room for the root */
#define SSHDCONF_VALUE_MAX  80  /* a ListenAddress value ("[fe80::1%eth0]:2222") */
#define SSHDCONF_LISTEN_MAX 8   /* ListenAddress lines kept */
#define SSHDCONF_DEPTH_MAX  16  /* sshd's own limit on nested Include */
#define SSHDCONF_FILE_SIZE  (256 * 1024)

struct sshdconf_listen {
	char value[SSHDCONF_VALUE_MAX]; /* as written: "127.0.0.1", "10.0.0.1:2222" */
	char file[SSHDCONF_FILE_MAX];
	int line;
};

/* What the files say, accumulated over the files in the order sshd reads
 * them. Port and ListenAddress may repeat: sshd listens on each. */
struct sshdconf {
	uint16_t port; /* the first Port; 0 when no file sets one (sshd then uses 22) */
	char port_file[SSHDCONF_FILE_MAX];
	int port_line;
	unsigned n_ports; /* Port lines seen */
	struct sshdconf_listen listen[SSHDCONF_LISTEN_MAX];
	unsigned n_listen; /* ListenAddress lines seen (only the first SSHDCONF_LISTEN_MAX kept) */
	unsigned files_read;
};

/* Called at an Include line with one of its patterns (as written: relative
 * ones are relative to /etc/ssh), at the depth of the including file. */
typedef int (*sshdconf_include_fn)(const char *pattern, unsigned depth, void *ctx);

/* Parses one file's text into *acc (which the caller zeroed before the
 * first file). Keywords are case-insensitive, "Keyword value" or
 * "Keyword=value"; lines after a Match line belong to it and sshd allows
 * neither keyword there. Include patterns are handed to `inc` in place, so
 * that the files they name count before the lines that follow. Returns 0,
 * -EINVAL for a Port that is not 1..65535 or an empty value (with the
 * reason, "file:line: ...", in err), or what `inc` returned. */
int sshdconf_parse(const char *buf, size_t len, const char *file, unsigned depth,
                   struct sshdconf *acc, sshdconf_include_fn inc, void *ctx, char *err,
                   size_t errlen);

/* Reads <root>/etc/ssh/sshd_config and the files its Include lines name
 * (glob patterns, sorted, as sshd expands them). -ENOENT when the main file
 * is missing; a missing included file is no error (sshd skips it). */
int sshdconf_read(const struct config *cfg, struct sshdconf *ret, char *err, size_t errlen);

#endif
