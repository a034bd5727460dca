#include "probes/bootfwd.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "probes/text.h"

#define BOOTFWD_LINE_MAX 1024

static bool only_space(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]))
			return false;
	return true;
}

/* A key dockerd reads as a boolean: absent gives the default, any other
 * type makes dockerd refuse the file. */
static int docker_bool(struct json_object *root, const char *key, bool def, bool *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(root, key, &v)) {
		*ret = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*ret = json_object_get_boolean(v);
	return 0;
}

int bootfwd_parse_docker(const char *buf, size_t len, struct bootfwd_docker *ret)
{
	struct bootfwd_docker d = {.ip_forward = true, .ipv6 = false};
	struct json_tokener *tok;
	struct json_object *root;
	int r = -EINVAL;

	if (only_space(buf, len)) {
		*ret = d;
		return 0;
	}
	if (len > INT32_MAX)
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, buf, (int)len);
	if (root && json_tokener_get_error(tok) == json_tokener_success &&
	    only_space(buf + tok->char_offset, len - (size_t)tok->char_offset) &&
	    json_object_is_type(root, json_type_object) &&
	    docker_bool(root, "ip-forward", true, &d.ip_forward) == 0 &&
	    docker_bool(root, "ipv6", false, &d.ipv6) == 0) {
		*ret = d;
		r = 0;
	}
	json_object_put(root);
	json_tokener_free(tok);
	return r;
}

/* ---- wg-quick PostUp ------------------------------------------------------ */

#define WORDS_MAX 32

/* Splits one command into words; quotes are dropped (a value is never
 * quoted in a way that matters here). Returns the word count. */
static size_t split_words(char *cmd, char *words[], size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *q = cmd; *q; q++)
		if (*q == '\'' || *q == '"')
			*q = ' ';
	for (char *w = strtok_r(cmd, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	return n;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* sysctl [-w] [-q] ... key=value ...: 1 on, 0 off, -1 not about it. */
static int sysctl_sets(char *words[], size_t n, enum sysctld_family family)
{
	int on = -1;

	for (size_t i = 1; i < n; i++) {
		char *eq = strchr(words[i], '=');
		int v;

		if (words[i][0] == '-' || !eq)
			continue;
		*eq = '\0';
		v = sysctld_assignment(words[i], eq + 1, family);
		if (v >= 0)
			on = v;
		*eq = '=';
	}
	return on;
}

/* echo [-n] VALUE > /proc/sys/KEY (also ">/proc/...", ">>"). */
static int echo_sets(char *words[], size_t n, enum sysctld_family family)
{
	const char *value = NULL, *target = NULL;

	for (size_t i = 1; i < n; i++) {
		if (words[i][0] == '>') {
			const char *t = words[i] + strspn(words[i], ">");

			target = *t ? t : (i + 1 < n ? words[i + 1] : NULL);
			break;
		}
		if (words[i][0] != '-' && !value)
			value = words[i];
	}
	if (!value || !target || strncmp(target, "/proc/sys/", 10) != 0)
		return -1;
	/* The slash form: dots in it are literal, as in the proc path. */
	return sysctld_assignment(target + 9, value, family);
}

static int command_sets(char *cmd, enum sysctld_family family)
{
	char *words[WORDS_MAX];
	size_t n = split_words(cmd, words, WORDS_MAX);

	if (n == 0)
		return -1;
	if (strcmp(base_name(words[0]), "sysctl") == 0)
		return sysctl_sets(words, n, family);
	if (strcmp(base_name(words[0]), "echo") == 0)
		return echo_sets(words, n, family);
	return -1;
}

bool bootfwd_command_sets(const char *line, enum sysctld_family family)
{
	char buf[BOOTFWD_LINE_MAX];
	char *p = buf;
	bool on = false;

	if (strlen(line) >= sizeof(buf))
		return false;
	strcpy(buf, line);
	/* Commands run in order: the last one about the key decides. */
	while (p) {
		char *sep = strpbrk(p, ";&|\n");
		int v;

		if (sep)
			*sep = '\0';
		v = command_sets(p, family);

		if (v >= 0)
			on = v == 1;
		p = sep ? sep + 1 : NULL;
	}
	return on;
}

/* ---- systemd-networkd ----------------------------------------------------- */

static int networkd_bool(const char *v)
{
	static const char *const yes[] = {"yes", "true", "on", "1", "y", "t"};
	static const char *const no[] = {"no", "false", "off", "0", "n", "f"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* IPForward= takes a boolean or "ipv4"/"ipv6"; "kernel" leaves it. */
static int ipforward_value(const char *v, enum sysctld_family family)
{
	if (strcasecmp(v, "ipv4") == 0)
		return family == SYSCTLD_IPV4;
	if (strcasecmp(v, "ipv6") == 0)
		return family == SYSCTLD_IPV6;
	return networkd_bool(v);
}

static int networkd_line(char *key, const char *value, enum sysctld_family family)
{
	key = text_trim(key);
	if (strcmp(key, "IPForward") == 0)
		return ipforward_value(value, family);
	if (strcmp(key, family == SYSCTLD_IPV4 ? "IPv4Forwarding" : "IPv6Forwarding") == 0)
		return networkd_bool(value);
	return -1;
}

int bootfwd_networkd_sets(const char *buf, size_t len, enum sysctld_family family)
{
	const char *p = buf, *end = buf + len;
	bool in_network = false;
	int line = 0, found = 0;

	while (p < end) {
		const char *start = p, *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - start);
		char text[BOOTFWD_LINE_MAX], *t, *eq;
		int v;

		line++;
		p = nl ? nl + 1 : end;
		if (n >= sizeof(text))
			continue;
		memcpy(text, start, n);
		text[n] = '\0';
		t = text_trim(text);
		if (*t == '[') {
			in_network = strcmp(t, "[Network]") == 0;
			continue;
		}
		eq = strchr(t, '=');
		if (!in_network || *t == '#' || *t == ';' || !eq)
			continue;
		*eq = '\0';
		v = networkd_line(t, text_trim(eq + 1), family);
		if (v == 1)
			found = line;
		else if (v == 0)
			found = 0;
	}
	return found;
}
