/* wg-quick(8) configuration files (/etc/wireguard/<if>.conf): what the
 * user set up by hand, read as expectations. The file holds the private key
 * (and maybe preshared keys): those lines are parsed into nothing, and the
 * read buffer is wiped. Unknown keys are tolerated: it is wg-quick's file. */
#ifndef SPARKMON_WGQUICK_H
#define SPARKMON_WGQUICK_H

#include <stdbool.h>
#include <stddef.h>

#define WGQUICK_KEY_B64_LEN 44 /* base64 of a 32-byte key */
#define WGQUICK_NAME_MAX    64
#define WGQUICK_TEXT_MAX    512

struct wgquick_peer {
	char public_key[WGQUICK_KEY_B64_LEN + 1];
	char name[WGQUICK_NAME_MAX]; /* from "# Name = …" or "# friendly_name = …", "" if none */
	char allowed_ips[WGQUICK_TEXT_MAX]; /* as written, comma-separated */
	char endpoint[WGQUICK_TEXT_MAX];
	int line; /* of the [Peer] header */
};

struct wgquick_file {
	char address[WGQUICK_TEXT_MAX]; /* [Interface] Address, as written */
	int listen_port;                /* -1 when not set */
	char **post_up;                 /* each PostUp value, in order */
	size_t n_post_up;
	char **post_down;
	size_t n_post_down;
	struct wgquick_peer *peers;
	size_t n_peers;
};

/* Parses the text of a wg-quick file. Returns 0, or -EINVAL with
 * "line N: reason" in err for what wg-quick itself would refuse (a key
 * outside any section, a bad ListenPort, a malformed PublicKey). *ret is
 * written only on success; free it with wgquick_free(). */
int wgquick_parse(const char *buf, size_t len, struct wgquick_file *ret, char *err, size_t errlen);

/* Reads and parses a file (size-capped; the buffer is wiped after parsing).
 * A file that cannot be read is looked up in $CREDENTIALS_DIRECTORY by its
 * base name (probes/credential.h), so LoadCredential= can pass it. */
int wgquick_read(const char *path, struct wgquick_file *ret, char *err, size_t errlen);

void wgquick_free(struct wgquick_file *file);

#endif
