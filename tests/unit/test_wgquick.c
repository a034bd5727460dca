#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/readfile.h"
#include "probes/wgquick.h"

#define FIXTURES "tests/fixtures/wgquick/"

/* Keys in tests/fixtures/wgquick/guide.conf that must not survive parsing. */
static const char private_b64[] = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
static const char preshared_b64[] = "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=";

static int parse_str(const char *text, struct wgquick_file *ret, char *err, size_t errlen)
{
	return wgquick_parse(text, strlen(text), ret, err, errlen);
}

static void test_guide(void **state)
{
	struct wgquick_file f;
	char err[256] = "";

	(void)state;
	assert_int_equal(wgquick_read(FIXTURES "guide.conf", &f, err, sizeof(err)), 0);
	assert_string_equal(f.address, "10.100.0.1/24");
	assert_int_equal(f.listen_port, 51820);
	assert_int_equal(f.n_post_up, 1);
	assert_string_equal(f.post_up[0], "iptables -A FORWARD -i wg-dgx-spark -j ACCEPT; iptables "
	                                  "-t nat -A POSTROUTING -o enP7s7 -j MASQUERADE");
	assert_int_equal(f.n_post_down, 1);
	assert_non_null(strstr(f.post_down[0], "-D POSTROUTING -o enP7s7"));
	assert_int_equal(f.n_peers, 2);
	assert_string_equal(f.peers[0].name, "laptop");
	assert_string_equal(f.peers[0].public_key, "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=");
	assert_string_equal(f.peers[0].allowed_ips, "10.100.0.2/32");
	assert_string_equal(f.peers[0].endpoint, "");
	assert_int_equal(f.peers[0].line, 9);
	assert_string_equal(f.peers[1].name, "phone");
	assert_string_equal(f.peers[1].allowed_ips, "10.100.0.3/32, fd00::3/128, 192.168.50.0/24");
	assert_string_equal(f.peers[1].endpoint, "phone.example.net:51820");
	assert_int_equal(f.peers[1].line, 15);
	wgquick_free(&f);
}

static int b64_value(char c)
{
	const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(alphabet, c);

	return p && c ? (int)(p - alphabet) : -1;
}

static void b64_decode_key(const char *b64, uint8_t out[32])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (const char *p = b64; *p && *p != '=' && n < 32; p++) {
		acc = (acc << 6) | (uint32_t)b64_value(*p);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
}

static bool region_contains(const void *hay, size_t len, const void *needle, size_t nlen)
{
	return len >= nlen && memmem(hay, len, needle, nlen) != NULL;
}

/* Searches every byte the parsed result owns: the struct, each command
 * string, the peers array. */
static bool result_contains(const struct wgquick_file *f, const void *needle, size_t nlen)
{
	if (region_contains(f, sizeof(*f), needle, nlen))
		return true;
	for (size_t i = 0; i < f->n_post_up; i++)
		if (region_contains(f->post_up[i], strlen(f->post_up[i]), needle, nlen))
			return true;
	for (size_t i = 0; i < f->n_post_down; i++)
		if (region_contains(f->post_down[i], strlen(f->post_down[i]), needle, nlen))
			return true;
	return region_contains(f->peers, f->n_peers * sizeof(f->peers[0]), needle, nlen);
}

static void test_secrets_not_kept(void **state)
{
	const char *keys[] = {private_b64, preshared_b64};
	struct wgquick_file f;
	char err[256] = "";
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(readfile_read(FIXTURES "guide.conf", 65536, &buf, &len), 0);
	assert_non_null(strstr(buf, private_b64)); /* the fixture does hold them */
	assert_int_equal(wgquick_parse(buf, len, &f, err, sizeof(err)), 0);
	for (size_t k = 0; k < 2; k++) {
		uint8_t raw[32] = {0};

		b64_decode_key(keys[k], raw);
		assert_false(result_contains(&f, keys[k], strlen(keys[k])));
		/* Not even a recognizable part of the text, nor the raw bytes. */
		assert_false(result_contains(&f, keys[k], 12));
		assert_false(result_contains(&f, keys[k] + 20, 12));
		assert_false(result_contains(&f, raw, sizeof(raw)));
		assert_false(result_contains(&f, raw, 8));
	}
	/* The input itself is the caller's: parsing leaves it as it was. */
	assert_non_null(strstr(buf, private_b64));
	free(buf);
	wgquick_free(&f);
}

static void test_unknown_keys_and_commands(void **state)
{
	struct wgquick_file f;
	char err[256] = "";

	(void)state;
	assert_int_equal(wgquick_read(FIXTURES "unknown-keys.conf", &f, err, sizeof(err)), 0);
	assert_string_equal(f.address, "10.100.0.1/24, fd00::1/64");
	assert_int_equal(f.listen_port, 51821);
	assert_int_equal(f.n_post_up, 3);
	assert_string_equal(f.post_up[0], "echo one");
	assert_string_equal(f.post_up[1], "echo two");
	assert_string_equal(f.post_up[2], "echo three");
	assert_int_equal(f.n_post_down, 1);
	assert_string_equal(f.post_down[0], "echo down");
	assert_int_equal(f.n_peers, 1);
	assert_string_equal(f.peers[0].name, "");
	wgquick_free(&f);
}

static void test_crlf(void **state)
{
	struct wgquick_file f;
	char err[256] = "";

	(void)state;
	assert_int_equal(wgquick_read(FIXTURES "crlf.conf", &f, err, sizeof(err)), 0);
	assert_string_equal(f.address, "10.100.0.1/24");
	assert_int_equal(f.listen_port, 51820);
	assert_int_equal(f.n_post_up, 2);
	assert_string_equal(f.post_up[1], "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE");
	assert_int_equal(f.n_peers, 1);
	assert_string_equal(f.peers[0].name, "windows box");
	assert_string_equal(f.peers[0].allowed_ips, "10.100.0.2/32");
	wgquick_free(&f);
}

static void test_comments(void **state)
{
	struct wgquick_file f;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_str("# leading comment\n"
	                           "   # indented comment\n"
	                           "[Interface] # header comment\n"
	                           "ListenPort = 51820 # the port\n"
	                           "# Name = not a peer name: we are in [Interface]\n"
	                           "[Peer]\n"
	                           "#Name=tight\n"
	                           "# Name = renamed: the last name comment wins\n"
	                           "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
	                           "AllowedIPs = 10.0.0.2/32 # inline\n",
	                           &f, err, sizeof(err)),
	                 0);
	assert_int_equal(f.listen_port, 51820);
	assert_int_equal(f.n_peers, 1);
	assert_string_equal(f.peers[0].name, "renamed: the last name comment wins");
	assert_string_equal(f.peers[0].allowed_ips, "10.0.0.2/32");
	wgquick_free(&f);

	assert_int_equal(parse_str("", &f, err, sizeof(err)), 0);
	assert_int_equal(f.listen_port, -1);
	assert_int_equal(f.n_peers, 0);
	assert_int_equal(f.n_post_up, 0);
	assert_string_equal(f.address, "");
	wgquick_free(&f);
}

static void test_hostile_names(void **state)
{
	struct wgquick_file f;
	char err[256] = "", text[1024], longname[200];

	(void)state;
	/* 63 bytes fit; "é" (2 bytes) straddles the cut at byte 63. */
	memset(longname, 'a', 62);
	strcpy(longname + 62, "\xc3\xa9tail");
	snprintf(text, sizeof(text),
	         "[Interface]\n"
	         "[Peer]\n# Name = \x1b[31mred\x1b[0m\a\n"
	         "[Peer]\n# Name = <script>alert(1)</script> \"q\" 'q' & | %%s\n"
	         "[Peer]\n# friendly_name = %s\n"
	         "[Peer]\n# Name =\n"
	         "[Peer]\n# Name = caf\xc3\xa9 \xff\xc0\xaf \xed\xa0\x80 \xe2\x82\n",
	         longname);
	assert_int_equal(parse_str(text, &f, err, sizeof(err)), 0);
	assert_int_equal(f.n_peers, 5);
	assert_string_equal(f.peers[0].name, "?[31mred?[0m?");
	/* Markup is kept as text: escaping is each renderer's job. */
	assert_string_equal(f.peers[1].name, "<script>alert(1)</script> \"q\" 'q' & | %s");
	assert_int_equal(strlen(f.peers[2].name), 62);
	assert_int_equal(strspn(f.peers[2].name, "a"), 62);
	assert_string_equal(f.peers[3].name, "");
	/* Bytes that are not UTF-8 (0xff, an overlong, a surrogate, a cut
	 * sequence): one '?' each; valid characters stay. */
	assert_string_equal(f.peers[4].name, "caf\xc3\xa9 ??? ??? ??");
	wgquick_free(&f);
}

static void test_many_peers(void **state)
{
	size_t n = 300, cap = n * 128 + 64, len = 0;
	char *text = malloc(cap);
	struct wgquick_file f;
	char err[256] = "";

	(void)state;
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "[Interface]\nListenPort = 1\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        "[Peer]\n# Name = peer%zu\nAllowedIPs = 10.1.%zu.%zu/32\n",
		                        i, i / 256, i % 256);
	assert_int_equal(wgquick_parse(text, len, &f, err, sizeof(err)), 0);
	assert_int_equal(f.n_peers, n);
	assert_string_equal(f.peers[299].name, "peer299");
	assert_string_equal(f.peers[299].allowed_ips, "10.1.1.43/32");
	wgquick_free(&f);
	free(text);
}

static void expect_error(const char *text, size_t len, const char *message)
{
	struct wgquick_file f = {.n_peers = 12345};
	char err[256] = "";

	assert_int_equal(wgquick_parse(text, len, &f, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, message);
	assert_int_equal(f.n_peers, 12345); /* untouched on error */
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("ListenPort = 1\n", 15,
	             "line 1: key outside of any [Interface] or [Peer] section");
	expect_error("[Interface]\nListenPort = 65536\n", 31,
	             "line 2: ListenPort: '65536' is not a port (0-65535)");
	expect_error("[Interface]\nListenPort = -1\n", 28,
	             "line 2: ListenPort: '-1' is not a port (0-65535)");
	expect_error("[Interface]\nListenPort = 5x\n", 28,
	             "line 2: ListenPort: '5x' is not a port (0-65535)");
	expect_error("[Peer]\nPublicKey = short=\n", 26,
	             "line 2: PublicKey: not a base64 32-byte key");
	/* 44 characters, but the last key character has padding bits set. */
	expect_error("[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dh=\n", 64,
	             "line 2: PublicKey: not a base64 32-byte key");
	expect_error("[Interface]\nnot a key value line\n", 33, "line 2: expected 'Key = Value'");
	expect_error("[Interface]\nAddress = 1\0\n", 25, "contains a NUL byte: not a text file");
}

static void test_errors_do_not_leak_keys(void **state)
{
	struct wgquick_file f;
	char err[256] = "";
	char text[256];

	(void)state;
	/* A malformed line right after the private key: the message names the
	 * line, never its content. */
	snprintf(text, sizeof(text), "[Interface]\nPrivateKey = %s\nListenPort = %s\n", private_b64,
	         private_b64);
	assert_int_equal(parse_str(text, &f, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, private_b64));
	assert_null(strstr(err, "yAnz5TF+lXXJte14tji3zlMNq+hd2"));
}

static void test_read_missing(void **state)
{
	struct wgquick_file f;
	char err[256] = "";

	(void)state;
	assert_int_equal(wgquick_read(FIXTURES "does-not-exist.conf", &f, err, sizeof(err)),
	                 -ENOENT);
	assert_non_null(strstr(err, "does-not-exist.conf"));
	wgquick_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guide),
	    cmocka_unit_test(test_secrets_not_kept),
	    cmocka_unit_test(test_unknown_keys_and_commands),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_comments),
	    cmocka_unit_test(test_hostile_names),
	    cmocka_unit_test(test_many_peers),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_errors_do_not_leak_keys),
	    cmocka_unit_test(test_read_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
