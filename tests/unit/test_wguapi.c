#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "probes/wguapi.h"

/* RFC 7748 section 6.1: Alice's private key and the public key it gives. */
#define ALICE_PRIVATE_HEX "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUBLIC_HEX  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define PEER_HEX          "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define PSK_HEX           "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"

static const char reply[] = "private_key=" ALICE_PRIVATE_HEX "\n"
                            "listen_port=51820\n"
                            "fwmark=66\n"
                            "public_key=" PEER_HEX "\n"
                            "preshared_key=" PSK_HEX "\n"
                            "protocol_version=1\n"
                            "endpoint=[fe80::1%4242]:51821\n"
                            "last_handshake_time_sec=1700000000\n"
                            "last_handshake_time_nsec=5\n"
                            "tx_bytes=300\n"
                            "rx_bytes=200\n"
                            "persistent_keepalive_interval=25\n"
                            "allowed_ip=10.100.0.2/32\n"
                            "allowed_ip=fd00::2/128\n"
                            "some_future_key=whatever\n"
                            "public_key=" ALICE_PUBLIC_HEX "\n"
                            "endpoint=198.51.100.9:4500\n"
                            "allowed_ip=10.100.0.3/32\n"
                            "errno=0\n"
                            "\n";

static void b64_of_hex(const char *hex, char out[45])
{
	uint8_t key[32];

	assert_int_equal(wireguard_key_from_hex(key, hex), 0);
	wireguard_key_to_base64(out, key);
}

static void test_parse_reply(void **state)
{
	struct wireguard_device dev = {.name = "wg0"};
	char err[128] = "", b64[45], text[64];

	(void)state;
	assert_int_equal(wguapi_parse(reply, strlen(reply), &dev, err, sizeof(err)), 0);
	/* The device's public key is derived from the private key. */
	assert_true(dev.has_public_key);
	b64_of_hex(ALICE_PUBLIC_HEX, b64);
	assert_string_equal(dev.public_key, b64);
	assert_int_equal(dev.listen_port, 51820);
	assert_int_equal(dev.fwmark, 66);
	assert_int_equal(dev.n_peers, 2);
	b64_of_hex(PEER_HEX, b64);
	assert_string_equal(dev.peers[0].public_key, b64);
	assert_int_equal(dev.peers[0].protocol_version, 1);
	assert_int_equal(dev.peers[0].last_handshake, 1700000000);
	assert_int_equal(dev.peers[0].last_handshake_nsec, 5);
	assert_int_equal(dev.peers[0].rx_bytes, 200);
	assert_int_equal(dev.peers[0].tx_bytes, 300);
	assert_int_equal(dev.peers[0].persistent_keepalive, 25);
	wireguard_format_endpoint(&dev.peers[0].endpoint.sa, text, sizeof(text));
	assert_string_equal(text, "[fe80::1%4242]:51821");
	assert_int_equal(dev.peers[0].n_allowed_ips, 2);
	wireguard_format_ip(&dev.peers[0].allowed_ips[1], text, sizeof(text));
	assert_string_equal(text, "fd00::2/128");
	wireguard_format_endpoint(&dev.peers[1].endpoint.sa, text, sizeof(text));
	assert_string_equal(text, "198.51.100.9:4500");
	assert_int_equal(dev.peers[1].last_handshake, 0);
	wireguard_device_free(&dev);
}

static int parse(const char *text, char *err, size_t errlen)
{
	struct wireguard_device dev = {.name = "wg0"};
	int r = wguapi_parse(text, strlen(text), &dev, err, errlen);

	if (r < 0) {
		/* Nothing half-parsed is left behind. */
		assert_int_equal(dev.n_peers, 0);
		assert_false(dev.has_public_key);
	}
	wireguard_device_free(&dev);
	return r;
}

static void test_parse_errors(void **state)
{
	char err[160];

	(void)state;
	assert_int_equal(parse("errno=19\n\n", err, sizeof(err)), -ENODEV);
	assert_int_equal(parse("listen_port=1\n", err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "the reply ended without an errno line");
	assert_int_equal(parse("listen_port=1\nerrno=0", err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse("", err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse("listen_port\nerrno=0\n\n", err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse("listen_port=70000\nerrno=0\n\n", err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 1: bad value for listen_port");
	assert_int_equal(parse("public_key=12\nerrno=0\n\n", err, sizeof(err)), -EBADMSG);
	assert_int_equal(
	    parse("public_key=" PEER_HEX "\nallowed_ip=10.0.0.1/33\nerrno=0\n\n", err, sizeof(err)),
	    -EBADMSG);
	assert_int_equal(
	    parse("public_key=" PEER_HEX "\nendpoint=nohost\nerrno=0\n\n", err, sizeof(err)),
	    -EBADMSG);
	assert_int_equal(
	    parse("public_key=" PEER_HEX "\nrx_bytes=-1\nerrno=0\n\n", err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse("errno=x\n\n", err, sizeof(err)), -EBADMSG);
	/* A malformed secret is reported by its key only, never its value. */
	assert_int_equal(parse("private_key=" PSK_HEX "zz\nerrno=0\n\n", err, sizeof(err)),
	                 -EBADMSG);
	assert_null(strstr(err, PSK_HEX));
	assert_string_equal(err, "line 1: bad value for private_key");
	/* An empty device is fine. */
	assert_int_equal(parse("errno=0\n\n", err, sizeof(err)), 0);
}

/* ---- over a real socket ---------------------------------------------------- */

/* Serves one connection like wireguard-go: reads the request, answers in
 * pieces of `chunk` bytes, then waits for the next request instead of
 * closing (or closes, when asked to). */
static pid_t serve_chunks(const char *path, const char *answer, bool answer_at_all, size_t chunk,
                          bool close_after)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	assert_true(fd >= 0);
	strcpy(addr.sun_path, path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char req[64];
		int c = accept(fd, NULL, NULL);
		size_t len = strlen(answer);
		ssize_t n = read(c, req, sizeof(req));

		if (n != 7 || memcmp(req, "get=1\n\n", 7) != 0)
			_exit(1);
		for (size_t off = 0; answer_at_all && off < len; off += chunk) {
			if (write(c, answer + off, len - off < chunk ? len - off : chunk) < 0)
				_exit(1);
			if (chunk < 16)
				usleep(100);
		}
		if (close_after)
			_exit(0);
		pause();
		_exit(0);
	}
	close(fd);
	return pid;
}

static pid_t serve(const char *path, const char *answer, bool answer_at_all)
{
	return serve_chunks(path, answer, answer_at_all, 5, false);
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_read_socket(void **state)
{
	char path[64], err[160] = "";
	struct wireguard_device dev = {.name = "wg0"};
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/sparkmon-test-wguapi-%d.sock", (int)getpid());
	pid = serve(path, reply, true);
	assert_int_equal(wguapi_read_device(path, &dev, 2000, err, sizeof(err)), 0);
	assert_int_equal(dev.n_peers, 2);
	assert_int_equal(dev.listen_port, 51820);
	stop(pid);
	wireguard_device_free(&dev);

	/* An implementation that never answers: cut at the deadline. */
	pid = serve(path, reply, false);
	assert_int_equal(wguapi_read_device(path, &dev, 200, err, sizeof(err)), -ETIMEDOUT);
	stop(pid);
	unlink(path);

	/* A socket nobody listens on: the implementation died. */
	assert_int_equal(wguapi_read_device(path, &dev, 200, err, sizeof(err)), -ENOENT);
	wireguard_device_free(&dev);
}

/* The reply is parsed as it arrives: its size does not matter (a
 * 3000-peer reply in 64 KiB writes), but one line longer than the line
 * buffer is refused, and so is a reply cut off in the middle of a line. */
static void test_read_socket_streamed(void **state)
{
	char path[64], err[160] = "";
	struct wireguard_device dev = {.name = "wg0"};
	size_t cap = 3000 * 200 + 64, len = 0;
	char *big = malloc(cap), *longline = malloc(8192);
	pid_t pid;

	(void)state;
	assert_non_null(big);
	assert_non_null(longline);
	snprintf(path, sizeof(path), "/tmp/sparkmon-test-wguapi-s%d.sock", (int)getpid());
	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(big + len, cap - len,
		                        "public_key=%064x\nendpoint=192.0.2.%d:%d\n"
		                        "rx_bytes=%d\nallowed_ip=10.1.%d.%d/32\n",
		                        i + 1, i % 250, 1000 + i, i, i / 250, i % 250);
	snprintf(big + len, cap - len, "errno=0\n\n");
	pid = serve_chunks(path, big, true, 65536, false);
	assert_int_equal(wguapi_read_device(path, &dev, 5000, err, sizeof(err)), 0);
	assert_int_equal(dev.n_peers, 3000);
	assert_int_equal(dev.peers[2999].rx_bytes, 2999);
	assert_int_equal(dev.n_all_allowed_ips, 3000);
	stop(pid);
	wireguard_device_free(&dev);

	memset(longline, 0, 8192);
	memcpy(longline, "fwmark=", 7);
	memset(longline + 7, '1', 5000);
	strcat(longline, "\nerrno=0\n\n");
	pid = serve_chunks(path, longline, true, 1024, false);
	assert_int_equal(wguapi_read_device(path, &dev, 2000, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 1: longer than 4096 bytes");
	assert_int_equal(dev.n_peers, 0);
	stop(pid);

	pid =
	    serve_chunks(path, "listen_port=51820\npublic_key=" PEER_HEX "\ntx_by", true, 7, true);
	assert_int_equal(wguapi_read_device(path, &dev, 2000, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "the reply ended without an errno line");
	assert_int_equal(dev.n_peers, 0);
	stop(pid);
	unlink(path);
	wireguard_device_free(&dev);
	free(big);
	free(longline);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_reply),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_read_socket),
	    cmocka_unit_test(test_read_socket_streamed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
