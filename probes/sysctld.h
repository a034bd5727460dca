/* sysctl.d(5) files as two tools apply them at boot, for the forwarding
 * keys only: systemd-sysctl (what a systemd boot runs) and procps'
 * `sysctl --system` (what people run by hand). The caller lists and reads
 * the files; this module only models what each tool makes of them. */
#ifndef SPARKMON_SYSCTLD_H
#define SPARKMON_SYSCTLD_H

#include <stdbool.h>
#include <stddef.h>

#define SYSCTLD_ENTRIES_MAX 64 /* distinct forwarding keys and patterns kept */
#define SYSCTLD_KEY_MAX     256
#define SYSCTLD_VALUE_MAX   64
#define SYSCTLD_WRITES_MAX  256 /* forwarding assignments `sysctl --system` replays */

enum sysctld_family { SYSCTLD_IPV4, SYSCTLD_IPV6, SYSCTLD__FAMILIES };

/* Which tool reads a file: Debian's /etc/sysctl.conf is read by
 * `sysctl --system` on its own (last), and by systemd-sysctl only through
 * the /etc/sysctl.d/99-sysctl.conf link, like any other file. */
enum sysctld_reader {
	SYSCTLD_SYSTEMD = 1 << 0,
	SYSCTLD_PROCPS = 1 << 1,
};

/* Where one tool leaves a family's forwarding after all files. */
struct sysctld_result {
	int value;        /* 1 on, 0 off, -1 no file sets it (the kernel's default: off) */
	int file;         /* the caller's index of the deciding file, -1 when none */
	int line;         /* its line */
	int refused_file; /* the last assignment, a value the kernel refuses; -1 none */
	int refused_line;
	char refused_value[SYSCTLD_VALUE_MAX];
};

/* One assignment as `sysctl --system` meets it. */
struct sysctld_write {
	unsigned keys; /* the forwarding keys it names, SYSCTLD_KEY_* */
	bool pattern;  /* a glob: skips the keys a plain assignment names */
	int value;     /* 1, 0, or -1 when the kernel refuses it */
	int file, line;
};

struct sysctld_entry {
	char key[SYSCTLD_KEY_MAX]; /* "net/ipv4/ip_forward" form; may be a glob */
	char value[SYSCTLD_VALUE_MAX];
	int file, line;
};

struct sysctld {
	/* systemd-sysctl keeps one assignment per key, ordered by when that
	 * assignment was made; only keys that can touch forwarding are kept. */
	struct sysctld_entry entries[SYSCTLD_ENTRIES_MAX];
	size_t n_entries;
	bool overflow; /* more forwarding assignments than fit: the result is unsure */
	/* `sysctl --system` writes each line as it reads it: every assignment,
	 * in order, by the forwarding keys it names (SYSCTLD_KEY_* bits). */
	struct sysctld_write procps[SYSCTLD_WRITES_MAX];
	size_t n_procps;
};

void sysctld_init(struct sysctld *s);

/* Feeds one file's text, in the order the tools read them; `file` is the
 * caller's index for it, given back in results; `readers` says which tools
 * read it. */
void sysctld_feed(struct sysctld *s, int file, unsigned readers, const char *buf, size_t len);

/* What systemd-sysctl leaves after every file fed: it applies the kept
 * assignments in order; a pattern (net.ipv4.conf.*.forwarding) writes
 * every key it matches that no plain assignment names; a value the kernel
 * refuses changes nothing, and the earlier assignments it replaced are
 * gone. */
void sysctld_systemd(const struct sysctld *s, enum sysctld_family family,
                     struct sysctld_result *ret);

/* What `sysctl --system` leaves after every file fed. */
void sysctld_procps(const struct sysctld *s, enum sysctld_family family,
                    struct sysctld_result *ret);

/* One assignment as `sysctl -w KEY=VALUE` makes it: 1 when it turns the
 * family's forwarding on, 0 when off, -1 when it is about something else
 * or the kernel refuses the value. */
int sysctld_assignment(const char *key, const char *value, enum sysctld_family family);

/* Parses a value as the kernel parses an integer sysctl (base 0, an
 * optional '-', whitespace after it); returns 0 and writes 1 (nonzero) or 0,
 * or -EINVAL for a value the kernel refuses. */
int sysctld_parse_value(const char *value, int *ret);

#endif
