#include "probes/wgquick.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/credential.h"
#include "probes/readfile.h"
#include "probes/text.h"

/* A wg-quick file is a few kilobytes; a megabyte is certainly not one. */
#define WGQUICK_FILE_MAX (1024 * 1024)
/* Bounds on what one file may make us allocate. */
#define WGQUICK_PEERS_MAX    65536
#define WGQUICK_COMMANDS_MAX 256

enum section { SECTION_NONE, SECTION_INTERFACE, SECTION_PEER, SECTION_OTHER };

struct parser {
	struct wgquick_file file;
	size_t peers_cap;
	enum section section;
	int line;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line > 0)
		snprintf(p->err, p->errlen, "line %d: %s", p->line, msg);
	else
		snprintf(p->err, p->errlen, "%s", msg);
	/* Messages quote the file, which may hold any bytes. */
	text_sanitize_utf8(p->err);
	return r;
}

/* Copies text that will be shown to people (peer names): control bytes
 * and bytes that are not UTF-8 become '?', and a cut never splits a UTF-8
 * sequence. */
static void copy_display(char *dst, size_t size, const char *src)
{
	text_copy_utf8(dst, size, src, strlen(src));
}

/* Appends ", value" to a fixed field; values that do not fit are refused
 * rather than cut, because a cut address list would be a wrong one. */
static int append_list(struct parser *p, char *field, size_t size, const char *key,
                       const char *value)
{
	size_t have = strlen(field), add = strlen(value);

	if (have + (have ? 2 : 0) + add + 1 > size)
		return fail(p, -EINVAL, "%s: value too long (at most %zu bytes in all)", key,
		            size - 1);
	if (have) {
		memcpy(field + have, ", ", 2);
		have += 2;
	}
	memcpy(field + have, value, add + 1);
	return 0;
}

static int push_command(struct parser *p, char ***list, size_t *n, const char *key,
                        const char *value)
{
	char **grown, *copy;

	if (*n >= WGQUICK_COMMANDS_MAX)
		return fail(p, -EINVAL, "%s: more than %d lines", key, WGQUICK_COMMANDS_MAX);
	copy = strdup(value);
	if (!copy)
		return fail(p, -ENOMEM, "out of memory");
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown) {
		free(copy);
		return fail(p, -ENOMEM, "out of memory");
	}
	grown[(*n)++] = copy;
	*list = grown;
	return 0;
}

static bool is_b64(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/';
}

/* A 32-byte key in base64 is 43 characters and one '='; the last character
 * carries 2 padding bits, so it is one of A, E, I, ..., w (step 4). */
static bool valid_public_key(const char *s)
{
	if (strlen(s) != WGQUICK_KEY_B64_LEN || s[43] != '=')
		return false;
	for (int i = 0; i < 43; i++)
		if (!is_b64(s[i]))
			return false;
	return strchr("AEIMQUYcgkosw048", s[42]) != NULL;
}

static int parse_port(struct parser *p, const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (!isdigit((unsigned char)*value) || errno || *end || v < 0 || v > 65535) {
		/* Echo short values only: a key pasted on the wrong line must
		 * not end up in a message. */
		if (strlen(value) <= 8)
			return fail(p, -EINVAL, "ListenPort: '%s' is not a port (0-65535)", value);
		return fail(p, -EINVAL, "ListenPort: not a port (0-65535)");
	}
	p->file.listen_port = (int)v;
	return 0;
}

static int new_peer(struct parser *p)
{
	struct wgquick_peer *peer;

	if (p->file.n_peers >= WGQUICK_PEERS_MAX)
		return fail(p, -EINVAL, "more than %d peers", WGQUICK_PEERS_MAX);
	if (p->file.n_peers == p->peers_cap) {
		size_t cap = p->peers_cap ? p->peers_cap * 2 : 8;
		struct wgquick_peer *grown = realloc(p->file.peers, cap * sizeof(*grown));

		if (!grown)
			return fail(p, -ENOMEM, "out of memory");
		p->file.peers = grown;
		p->peers_cap = cap;
	}
	peer = &p->file.peers[p->file.n_peers++];
	memset(peer, 0, sizeof(*peer));
	peer->line = p->line;
	return 0;
}

/* "# Name = laptop" or "# friendly_name = laptop" inside a [Peer]: the
 * names that wg-easy, wireguard-ui and hand-written files use. */
static void comment_name(struct parser *p, char *comment)
{
	char *eq, *key;

	if (p->section != SECTION_PEER || p->file.n_peers == 0)
		return;
	eq = strchr(comment, '=');
	if (!eq)
		return;
	*eq = '\0';
	key = text_trim(comment);
	if (strcasecmp(key, "Name") != 0 && strcasecmp(key, "friendly_name") != 0)
		return;
	copy_display(p->file.peers[p->file.n_peers - 1].name, WGQUICK_NAME_MAX, text_trim(eq + 1));
}

static int interface_key(struct parser *p, const char *key, const char *value)
{
	if (strcasecmp(key, "Address") == 0)
		return append_list(p, p->file.address, sizeof(p->file.address), "Address", value);
	if (strcasecmp(key, "ListenPort") == 0)
		return parse_port(p, value);
	if (strcasecmp(key, "PostUp") == 0)
		return push_command(p, &p->file.post_up, &p->file.n_post_up, "PostUp", value);
	if (strcasecmp(key, "PostDown") == 0)
		return push_command(p, &p->file.post_down, &p->file.n_post_down, "PostDown", value);
	/* PrivateKey and everything else (DNS, MTU, Table, PreUp, SaveConfig,
	 * FwMark, ...): nothing is kept. */
	return 0;
}

static int peer_key(struct parser *p, const char *key, const char *value)
{
	struct wgquick_peer *peer = &p->file.peers[p->file.n_peers - 1];

	if (strcasecmp(key, "PublicKey") == 0) {
		if (!valid_public_key(value))
			return fail(p, -EINVAL, "PublicKey: not a base64 32-byte key");
		memcpy(peer->public_key, value, WGQUICK_KEY_B64_LEN + 1);
		return 0;
	}
	if (strcasecmp(key, "AllowedIPs") == 0)
		return append_list(p, peer->allowed_ips, sizeof(peer->allowed_ips), "AllowedIPs",
		                   value);
	if (strcasecmp(key, "Endpoint") == 0) {
		if (strlen(value) >= sizeof(peer->endpoint))
			return fail(p, -EINVAL, "Endpoint: value too long");
		strcpy(peer->endpoint, value);
		return 0;
	}
	/* PresharedKey, PersistentKeepalive, ...: nothing is kept. */
	return 0;
}

/* One line, NUL-terminated and writable (the caller wipes it). */
static int parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#'), *text, *eq, *key, *value;

	/* wg-quick cuts every line at its first '#', values included. */
	if (hash) {
		*hash = '\0';
		comment_name(p, hash + 1);
	}
	text = text_trim(line);
	if (!*text)
		return 0;
	if (*text == '[') {
		if (strcasecmp(text, "[Interface]") == 0) {
			p->section = SECTION_INTERFACE;
		} else if (strcasecmp(text, "[Peer]") == 0) {
			p->section = SECTION_PEER;
			return new_peer(p);
		} else {
			p->section = SECTION_OTHER;
		}
		return 0;
	}
	eq = strchr(text, '=');
	if (!eq)
		return fail(p, -EINVAL, "expected 'Key = Value'");
	*eq = '\0';
	key = text_trim(text);
	value = text_trim(eq + 1);
	switch (p->section) {
	case SECTION_NONE:
		return fail(p, -EINVAL, "key outside of any [Interface] or [Peer] section");
	case SECTION_INTERFACE:
		return interface_key(p, key, value);
	case SECTION_PEER:
		return peer_key(p, key, value);
	case SECTION_OTHER:
		return 0;
	}
	return 0;
}

static void free_wiped(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

void wgquick_free(struct wgquick_file *file)
{
	if (!file)
		return;
	/* PostUp lines can carry a preshared key ("wg set ... preshared-key"). */
	for (size_t i = 0; i < file->n_post_up; i++)
		free_wiped(file->post_up[i]);
	for (size_t i = 0; i < file->n_post_down; i++)
		free_wiped(file->post_down[i]);
	free(file->post_up);
	free(file->post_down);
	free(file->peers);
	memset(file, 0, sizeof(*file));
	file->listen_port = -1;
}

int wgquick_parse(const char *buf, size_t len, struct wgquick_file *ret, char *err, size_t errlen)
{
	struct parser p = {.err = err, .errlen = errlen};
	const char *pos = buf, *end = buf + len;
	char *line = NULL;
	size_t line_cap = 0;
	int r = 0;

	p.file.listen_port = -1;
	if (memchr(buf, '\0', len)) {
		r = fail(&p, -EINVAL, "contains a NUL byte: not a text file");
		goto out;
	}
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = (size_t)((nl ? nl : end) - pos);

		p.line++;
		if (n + 1 > line_cap) {
			char *grown = malloc(n + 1);

			if (!grown) {
				r = fail(&p, -ENOMEM, "out of memory");
				goto out;
			}
			if (line) {
				explicit_bzero(line, line_cap);
				free(line);
			}
			line = grown;
			line_cap = n + 1;
		}
		memcpy(line, pos, n);
		line[n] = '\0';
		r = parse_line(&p, line);
		/* The line may have held a private or preshared key. */
		explicit_bzero(line, line_cap);
		if (r < 0)
			goto out;
		pos = nl ? nl + 1 : end;
	}
	*ret = p.file;
	p.file = (struct wgquick_file){.listen_port = -1};
out:
	if (line) {
		explicit_bzero(line, line_cap);
		free(line);
	}
	wgquick_free(&p.file);
	return r;
}

int wgquick_read(const char *path, struct wgquick_file *ret, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = readfile_read(path, WGQUICK_FILE_MAX, &buf, &len);
	if (r == -EACCES || r == -EPERM || r == -ENOENT) {
		/* Under systemd the root-only file arrives as a credential. */
		char cred[4096];

		if (credential_find(path, "wireguard", cred, sizeof(cred)) == 0)
			r = readfile_read(cred, WGQUICK_FILE_MAX, &buf, &len);
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path,
		         r == -EFBIG ? "file too large" : strerror(-r));
		return r;
	}
	r = wgquick_parse(buf, len, ret, err, errlen);
	explicit_bzero(buf, len);
	free(buf);
	if (r < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "%s: %s", path, msg);
	}
	return r;
}
