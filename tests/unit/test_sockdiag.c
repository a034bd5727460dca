/* probes/sockdiag.c: the parser on messages built as the kernel lays them
 * out (net/ipv4/inet_diag.c), lying lengths, and a dump of this machine's
 * listening sockets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "probes/netlink.h"
#include "probes/sockdiag.h"
#include "tests/unit/recorded.h"

union msgbuf {
	struct nlmsghdr nlh;
	char buf[4096];
};

static struct nlmsghdr *listener_msg(union msgbuf *m, int family, const char *addr, uint16_t port)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->buf);
	struct inet_diag_msg *msg;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI;
	msg = mnl_nlmsg_put_extra_header(nlh, sizeof(*msg));
	msg->idiag_family = (uint8_t)family;
	msg->idiag_state = 10;
	msg->id.idiag_sport = htons(port);
	inet_pton(family, addr, msg->id.idiag_src);
	msg->idiag_inode = 4242;
	mnl_attr_put_u8(nlh, INET_DIAG_SHUTDOWN, 0);
	if (family == AF_INET6)
		mnl_attr_put_u8(nlh, INET_DIAG_SKV6ONLY, 1);
	return nlh;
}

static void expect_error(const struct nlmsghdr *nlh, int want)
{
	struct sockdiag_listener l, before;

	memset(&l, 0xa5, sizeof(l));
	before = l;
	assert_int_equal(sockdiag_parse(nlh, &l), want);
	assert_memory_equal(&l, &before, sizeof(l));
}

static void test_ipv4(void **state)
{
	union msgbuf m;
	struct sockdiag_listener l;
	struct nlmsghdr *nlh = listener_msg(&m, AF_INET, "10.100.0.1", 22);

	(void)state;
	assert_int_equal(sockdiag_parse(nlh, &l), 0);
	assert_int_equal(l.family, AF_INET);
	assert_int_equal(l.port, 22);
	assert_memory_equal(l.address, "\x0a\x64\x00\x01", 4);
	assert_int_equal(l.v6only, -1);
}

static void test_ipv6(void **state)
{
	union msgbuf m;
	struct sockdiag_listener l;
	struct nlmsghdr *nlh = listener_msg(&m, AF_INET6, "::", 2222);

	(void)state;
	assert_int_equal(sockdiag_parse(nlh, &l), 0);
	assert_int_equal(l.family, AF_INET6);
	assert_int_equal(l.port, 2222);
	assert_int_equal(l.v6only, 1);
	for (int i = 0; i < 16; i++)
		assert_int_equal(l.address[i], 0);
}

static void test_errors(void **state)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	struct inet_diag_msg *msg;
	struct nlattr *attr;
	uint32_t len;

	(void)state;
	nlh = listener_msg(&m, AF_INET, "10.0.0.1", 22);
	nlh->nlmsg_type = 16; /* RTM_NEWLINK */
	expect_error(nlh, -ENOMSG);
	nlh = listener_msg(&m, AF_INET, "10.0.0.1", 22);
	msg = mnl_nlmsg_get_payload(nlh);
	msg->idiag_family = AF_UNIX;
	expect_error(nlh, -EAFNOSUPPORT);
	/* A message too short for its header. */
	nlh = listener_msg(&m, AF_INET, "10.0.0.1", 22);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 8;
	expect_error(nlh, -EBADMSG);
	/* An attribute whose length runs past the message. */
	nlh = listener_msg(&m, AF_INET, "10.0.0.1", 22);
	attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct inet_diag_msg));
	attr->nla_len = 200;
	expect_error(nlh, -EBADMSG);
	/* Or shorter than its own header. */
	attr->nla_len = 2;
	expect_error(nlh, -EBADMSG);
	/* A message cut inside an attribute. */
	nlh = listener_msg(&m, AF_INET, "10.0.0.1", 22);
	len = nlh->nlmsg_len;
	nlh->nlmsg_len = len - 6;
	expect_error(nlh, -EBADMSG);
	/* INET_DIAG_SKV6ONLY of the wrong size. */
	nlh = listener_msg(&m, AF_INET, "10.0.0.1", 22);
	mnl_attr_put_u32(nlh, INET_DIAG_SKV6ONLY, 1);
	expect_error(nlh, -EBADMSG);
}

/* A recorded dump: other ports are left out, every listener counted, at
 * most max kept; a lying nlmsg_len fails the dump. */
static void test_dump_recorded(void **state)
{
	union msgbuf m;
	struct nlmsghdr *a = listener_msg(&m, AF_INET, "127.0.0.1", 22), *b, *c;
	struct sockdiag_listener got[4];
	size_t count = 99;

	(void)state;
	b = (struct nlmsghdr *)(void *)(m.buf + MNL_ALIGN(a->nlmsg_len));
	{
		union msgbuf t;
		struct nlmsghdr *x = listener_msg(&t, AF_INET, "0.0.0.0", 80);

		memcpy(b, x, x->nlmsg_len);
	}
	c = (struct nlmsghdr *)(void *)((char *)b + MNL_ALIGN(b->nlmsg_len));
	{
		union msgbuf t;
		struct nlmsghdr *x = listener_msg(&t, AF_INET6, "::", 22);

		memcpy(c, x, x->nlmsg_len);
	}
	recorded = m.buf;
	recorded_len = (size_t)((char *)c - m.buf) + recorded_end(c);
	/* The recorded reply answers both the IPv4 and the IPv6 dump. */
	assert_int_equal(sockdiag_dump_listeners_with(recorded_talk, 22, got, 4, &count, 0), 0);
	assert_int_equal(count, 4);
	assert_int_equal(got[0].family, AF_INET);
	assert_int_equal(got[1].family, AF_INET6);
	assert_int_equal(sockdiag_dump_listeners_with(recorded_talk, 22, got, 1, &count, 0), 0);
	assert_int_equal(count, 4);
	count = 99;
	b->nlmsg_len = 0xfffffff0u;
	assert_int_equal(sockdiag_dump_listeners_with(recorded_talk, 22, got, 4, &count, 0),
	                 -EBADMSG);
	assert_int_equal(count, 99);
}

/* This machine's kernel: a socket listening on loopback is found. */
static void test_live(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	struct sockdiag_listener got[8];
	size_t count = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)state;
	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(sockdiag_dump_listeners(ntohs(sa.sin_port), got, 8, &count, 2000), 0);
	assert_int_equal(count, 1);
	assert_int_equal(got[0].family, AF_INET);
	assert_memory_equal(got[0].address, "\x7f\x00\x00\x01", 4);
	assert_int_equal(got[0].port, ntohs(sa.sin_port));
	close(fd);
	assert_int_equal(sockdiag_dump_listeners(ntohs(sa.sin_port), got, 8, &count, 2000), 0);
	assert_int_equal(count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4),   cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_errors), cmocka_unit_test(test_dump_recorded),
	    cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
