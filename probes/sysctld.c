#include "probes/sysctld.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/text.h"

/* The forwarding keys: IPv4's two first (writing either sets both, the
 * kernel keeps them equal), then IPv6's. As bits, what a key names. */
static const char *const all_keys[] = {"net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding",
                                       "net/ipv6/conf/all/forwarding"};

struct family_keys {
	const char *const *keys;
	size_t n;
};

static struct family_keys family_keys(enum sysctld_family family)
{
	if (family == SYSCTLD_IPV6)
		return (struct family_keys){all_keys + 2, 1};
	return (struct family_keys){all_keys, 2};
}

void sysctld_init(struct sysctld *s)
{
	memset(s, 0, sizeof(*s));
}

int sysctld_parse_value(const char *value, int *ret)
{
	const char *p = value;
	unsigned long long v;
	bool neg = false;
	char *end;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '-') {
		neg = true;
		p++;
	}
	/* strtoull would also take a '+' or spaces here; the kernel does not. */
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &end, 0);
	if (errno || v > (neg ? (unsigned long long)INT_MAX + 1 : (unsigned long long)INT_MAX))
		return -EINVAL;
	if (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n')
		return -EINVAL;
	*ret = v != 0;
	return 0;
}

static bool is_glob(const char *key)
{
	return strpbrk(key, "*?[") != NULL;
}

/* systemd's sysctl_normalize(): when the first separator is a dot, dots
 * and slashes swap; with a slash first, dots are literal (an interface
 * named eth0.100). A leading slash goes. */
static void normalize_key(char *key)
{
	char *n = strpbrk(key, "/.");

	if (n && *n == '.')
		for (; n; n = strpbrk(n + 1, "/."))
			*n = *n == '.' ? '/' : '.';
	if (key[0] == '/' && key[1])
		memmove(key, key + 1, strlen(key));
}

static bool key_matches(const char *key, const char *target)
{
	if (is_glob(key))
		return fnmatch(key, target, FNM_PATHNAME) == 0;
	return strcmp(key, target) == 0;
}

static bool key_touches(const char *key, enum sysctld_family family)
{
	struct family_keys fk = family_keys(family);

	for (size_t i = 0; i < fk.n; i++)
		if (key_matches(key, fk.keys[i]))
			return true;
	return false;
}

int sysctld_assignment(const char *key, const char *value, enum sysctld_family family)
{
	char norm[SYSCTLD_KEY_MAX];
	int v;

	if (snprintf(norm, sizeof(norm), "%s", key) >= (int)sizeof(norm))
		return -1;
	normalize_key(norm);
	if (!key_touches(norm, family) || sysctld_parse_value(value, &v) < 0)
		return -1;
	return v;
}

/* One "key = value" line, split as systemd-sysctl splits it; false for
 * comments, blank lines and lines without '='. *ret_spaced tells a
 * "- key" (blank after the dash), which `sysctl --system` takes as a key
 * starting with a blank, one that does not exist. */
static bool split_line(char *text, char **ret_key, char **ret_value, bool *ret_spaced)
{
	char *key = text_trim(text), *eq;

	if (*key == '\0' || *key == '#' || *key == ';')
		return false;
	eq = strchr(key, '=');
	if (!eq)
		return false;
	*eq = '\0';
	*ret_spaced = false;
	if (*key == '-') { /* "-key = value": a failure to write it is not logged */
		key++;
		*ret_spaced = *key == ' ' || *key == '\t';
	}
	key = text_trim(key);
	if (*key == '\0' || strlen(key) >= SYSCTLD_KEY_MAX)
		return false;
	normalize_key(key);
	*ret_key = key;
	*ret_value = text_trim(eq + 1);
	return true;
}

static unsigned family_bits(enum sysctld_family family)
{
	return family == SYSCTLD_IPV6 ? 1u << 2 : (1u << 0) | (1u << 1);
}

static unsigned key_bits(const char *key)
{
	unsigned bits = 0;

	for (size_t i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++)
		if (key_matches(key, all_keys[i]))
			bits |= 1u << i;
	return bits;
}

static void procps_record(struct sysctld *s, const char *key, const char *value, int file, int line)
{
	struct sysctld_write *w;
	int v;

	if (s->n_procps == SYSCTLD_WRITES_MAX) {
		s->overflow = true;
		return;
	}
	w = &s->procps[s->n_procps++];
	w->keys = key_bits(key);
	w->pattern = is_glob(key);
	w->value = sysctld_parse_value(value, &v) == 0 ? v : -1;
	w->file = file;
	w->line = line;
}

/* systemd-sysctl's ordered map: a new value for a key replaces the old
 * one and moves to the end; the same value again changes nothing. */
static void systemd_apply(struct sysctld *s, const char *key, const char *value, int file, int line)
{
	struct sysctld_entry *e;

	for (size_t i = 0; i < s->n_entries; i++) {
		e = &s->entries[i];
		if (strcmp(e->key, key) != 0)
			continue;
		if (strncmp(e->value, value, sizeof(e->value) - 1) == 0)
			return;
		memmove(e, e + 1, (s->n_entries - i - 1) * sizeof(*e));
		s->n_entries--;
		break;
	}
	if (s->n_entries == SYSCTLD_ENTRIES_MAX) {
		s->overflow = true;
		return;
	}
	e = &s->entries[s->n_entries++];
	snprintf(e->key, sizeof(e->key), "%s", key);
	snprintf(e->value, sizeof(e->value), "%s", value);
	e->file = file;
	e->line = line;
}

void sysctld_feed(struct sysctld *s, int file, unsigned readers, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	int line = 0;

	while (p < end) {
		const char *start = p, *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - start);
		char text[1024], *key, *value;
		bool spaced;

		line++;
		p = nl ? nl + 1 : end;
		if (n >= sizeof(text))
			continue; /* longer than any forwarding assignment */
		memcpy(text, start, n);
		text[n] = '\0';
		if (!split_line(text, &key, &value, &spaced))
			continue;
		if (!key_touches(key, SYSCTLD_IPV4) && !key_touches(key, SYSCTLD_IPV6))
			continue;
		if (readers & SYSCTLD_SYSTEMD)
			systemd_apply(s, key, value, file, line);
		if ((readers & SYSCTLD_PROCPS) && !spaced)
			procps_record(s, key, value, file, line);
	}
}

/* A pattern skips the keys that a plain assignment names anywhere. */
static bool named_plainly(const struct sysctld *s, const char *target)
{
	for (size_t i = 0; i < s->n_entries; i++)
		if (!is_glob(s->entries[i].key) && strcmp(s->entries[i].key, target) == 0)
			return true;
	return false;
}

static bool entry_writes(const struct sysctld *s, const struct sysctld_entry *e,
                         enum sysctld_family family)
{
	struct family_keys fk = family_keys(family);

	for (size_t k = 0; k < fk.n; k++) {
		if (!key_matches(e->key, fk.keys[k]))
			continue;
		if (!is_glob(e->key) || !named_plainly(s, fk.keys[k]))
			return true;
	}
	return false;
}

void sysctld_systemd(const struct sysctld *s, enum sysctld_family family,
                     struct sysctld_result *ret)
{
	struct sysctld_result r = {.value = -1, .file = -1, .refused_file = -1};

	for (size_t i = 0; i < s->n_entries; i++) {
		const struct sysctld_entry *e = &s->entries[i];
		int v;

		if (!entry_writes(s, e, family))
			continue;
		if (sysctld_parse_value(e->value, &v) < 0) {
			r.refused_file = e->file;
			r.refused_line = e->line;
			/* Shown to people: the file may hold any bytes. */
			text_copy_utf8(r.refused_value, sizeof(r.refused_value), e->value,
			               strlen(e->value));
			continue;
		}
		r.value = v;
		r.file = e->file;
		r.line = e->line;
		r.refused_file = -1;
		r.refused_line = 0;
		r.refused_value[0] = '\0';
	}
	*ret = r;
}

/* Each write in order; a pattern, like systemd-sysctl's, skips the keys
 * that a plain assignment names anywhere; a refused value changes
 * nothing, and the value before it stays. */
void sysctld_procps(const struct sysctld *s, enum sysctld_family family, struct sysctld_result *ret)
{
	struct sysctld_result r = {.value = -1, .file = -1, .refused_file = -1};
	unsigned named = 0;

	for (size_t i = 0; i < s->n_procps; i++)
		if (!s->procps[i].pattern)
			named |= s->procps[i].keys;
	for (size_t i = 0; i < s->n_procps; i++) {
		const struct sysctld_write *w = &s->procps[i];
		unsigned keys = w->keys & family_bits(family);

		if (w->pattern)
			keys &= ~named;
		if (!keys || w->value < 0)
			continue;
		r.value = w->value;
		r.file = w->file;
		r.line = w->line;
	}
	*ret = r;
}
