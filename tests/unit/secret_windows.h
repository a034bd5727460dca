/* Looks for any piece of a secret key in an output: every 8-byte window of
 * the key's 32 bytes, as raw bytes, as hex (either case), and as base64 at
 * each of the three byte alignments (any 11 characters, which always hold
 * 8 whole bytes; also with '/' written "\/" as JSON may write it). A whole
 * key, a prefix, or a piece cut from the middle of any of its spellings is
 * found. */
#ifndef SPARKMON_TEST_SECRET_WINDOWS_H
#define SPARKMON_TEST_SECRET_WINDOWS_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_WINDOW  8
#define SECRET_B64_RUN 11

static void secret_base64(const uint8_t *in, size_t len, char *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
}

/* A base64 run, as it is and with '/' escaped; true when found. */
static bool secret_b64_found(const char *text, size_t len, const char *run)
{
	char escaped[2 * SECRET_B64_RUN + 1];
	size_t n = 0;

	if (memmem(text, len, run, SECRET_B64_RUN))
		return true;
	for (size_t i = 0; i < SECRET_B64_RUN; i++) {
		if (run[i] == '/')
			escaped[n++] = '\\';
		escaped[n++] = run[i];
	}
	return n > SECRET_B64_RUN && memmem(text, len, escaped, n);
}

/* True when any window of key is in text[0..len); `which` then says
 * where and in which spelling. */
static bool key_window_found(const char *text, size_t len, const uint8_t key[32], char *which,
                             size_t size)
{
	char *lower = malloc(len + 1), hex[65], enc[64];
	bool found = false;

	assert_non_null(lower);
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)text[i]);
	lower[len] = '\0';
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	for (size_t i = 0; i + SECRET_WINDOW <= 32 && !found; i++) {
		if (memmem(text, len, key + i, SECRET_WINDOW)) {
			snprintf(which, size, "bytes %zu-%zu raw", i, i + SECRET_WINDOW - 1);
			found = true;
		} else if (memmem(lower, len, hex + 2 * i, 2 * SECRET_WINDOW)) {
			snprintf(which, size, "bytes %zu-%zu in hex", i, i + SECRET_WINDOW - 1);
			found = true;
		}
	}
	for (size_t shift = 0; shift < 3 && !found; shift++) {
		size_t n;

		secret_base64(key + shift, 32 - shift, enc);
		/* The last character can hold padding bits. */
		n = strcspn(enc, "=") - 1;
		for (size_t i = 0; i + SECRET_B64_RUN <= n && !found; i++) {
			if (secret_b64_found(text, len, enc + i)) {
				snprintf(which, size, "base64 '%.11s'", enc + i);
				found = true;
			}
		}
	}
	free(lower);
	return found;
}

/* Fails the test, naming `what` and the key, when any window of key is in
 * text[0..len). */
static void assert_no_key_window(const char *what, const char *text, size_t len,
                                 const uint8_t key[32], const char *key_name)
{
	char which[64];

	if (key_window_found(text, len, key, which, sizeof(which)))
		fail_msg("%s: a piece of %s appears (%s)", what, key_name, which);
}

#endif
