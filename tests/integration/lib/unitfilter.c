/* Runs a program under a system call allow-list, as systemd does for a
 * unit's SystemCallFilter= (with SystemCallErrorNumber=EPERM): every call
 * named in FILE (one name a line) is allowed, every other one fails with
 * EPERM. The caller sets no_new_privs (setpriv --no-new-privs).
 *   unitfilter FILE PROGRAM [ARG...] */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	char name[128];
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: unitfilter FILE PROGRAM [ARG...]\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!f || !ctx) {
		perror(argv[1]);
		return 2;
	}
	while (fscanf(f, "%127s", name) == 1) {
		int nr = seccomp_syscall_resolve_name(name);

		if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0) {
			fprintf(stderr, "unitfilter: %s: cannot allow\n", name);
			return 2;
		}
	}
	fclose(f);
	if (seccomp_load(ctx) < 0) {
		fprintf(stderr, "unitfilter: cannot load the filter\n");
		return 2;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "unitfilter: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
