/* Who is served: the allow-list, checked in the accept callback before a
 * byte is read, and basic authentication. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "monitor/log.h"
#include "web/serverimpl.h"

bool admission_allowed(struct server *s, const struct sockaddr *addr)
{
	bool ok = false;

	pthread_rwlock_rdlock(&s->acl_lock);
	for (size_t i = 0; i < s->n_nets && !ok; i++)
		ok = netaddr_net_contains(&s->nets[i], addr);
	for (size_t i = 0; i < s->n_dyn_nets && !ok; i++)
		ok = netaddr_net_contains(&s->dyn_nets[i], addr);
	pthread_rwlock_unlock(&s->acl_lock);
	return ok;
}

enum MHD_Result admission_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct server *s = cls;
	bool ok = admission_allowed(s, addr);

	(void)addrlen;
	if (!ok) {
		char who[80];

		netaddr_format_endpoint(addr, who, sizeof(who));
		log_debug("http: refused connection from %s (not in the allow-list)", who);
	}
	return ok && connlimit_admit(&s->conns, addr) ? MHD_YES : MHD_NO;
}

/* ---- Host ------------------------------------------------------------------ */

/* Whether text[0..len) is one of the names in list (comma or space
 * separated), ignoring case. */
static bool name_in_list(const char *text, size_t len, const char *list)
{
	while (*list) {
		size_t n = strcspn(list, ", ");

		if (n == len && strncasecmp(text, list, len) == 0)
			return true;
		list += n;
		list += strspn(list, ", ");
	}
	return false;
}

/* Whether the IP literal (text, no brackets) is the local address. */
static bool is_local_literal(const char *text, const struct sockaddr *local)
{
	unsigned char addr[16];

	if (!local)
		return false;
	if (inet_pton(AF_INET, text, addr) == 1) {
		const struct in6_addr *l6 = &((const struct sockaddr_in6 *)local)->sin6_addr;

		if (local->sa_family == AF_INET)
			return memcmp(addr, &((const struct sockaddr_in *)local)->sin_addr, 4) == 0;
		return local->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(l6) &&
		       memcmp(addr, &l6->s6_addr[12], 4) == 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1)
		return local->sa_family == AF_INET6 &&
		       memcmp(addr, &((const struct sockaddr_in6 *)local)->sin6_addr, 16) == 0;
	return false;
}

/* Whether text is empty or ":" and 1 to 5 digits. */
static bool is_port_suffix(const char *text)
{
	size_t digits;

	if (!*text)
		return true;
	digits = strspn(text + 1, "0123456789");
	return text[0] == ':' && digits >= 1 && digits <= 5 && !text[1 + digits];
}

bool admission_host_allowed(const char *host, const struct sockaddr *local, const char *hostnames)
{
	char literal[INET6_ADDRSTRLEN];
	const char *end;
	size_t len;

	if (!host)
		return true; /* HTTP/1.0: no browser leaves it out */
	if (host[0] == '[') {
		end = strchr(host, ']');
		len = end ? (size_t)(end - host - 1) : 0;
		if (!end || len == 0 || len >= sizeof(literal) || !is_port_suffix(end + 1))
			return false;
		memcpy(literal, host + 1, len);
		literal[len] = '\0';
		return strchr(literal, ':') && is_local_literal(literal, local);
	}
	len = strcspn(host, ":");
	if (!is_port_suffix(host + len) || len == 0)
		return false;
	if (len < sizeof(literal)) {
		memcpy(literal, host, len);
		literal[len] = '\0';
		if (is_local_literal(literal, local))
			return true;
	}
	/* A fully qualified name may end with a dot. */
	if (host[len - 1] == '.')
		len--;
	return name_in_list(host, len, "localhost") || name_in_list(host, len, hostnames);
}

bool admission_host_ok(struct server *s, struct MHD_Connection *c)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const union MHD_ConnectionInfo *fd =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	bool ok;

	memset(&local, 0, sizeof(local));
	if (!fd || getsockname(fd->connect_fd, (struct sockaddr *)&local, &len) < 0)
		local.ss_family = AF_UNSPEC;
	pthread_rwlock_rdlock(&s->acl_lock);
	ok = admission_host_allowed(host, (const struct sockaddr *)&local, s->hostnames);
	pthread_rwlock_unlock(&s->acl_lock);
	if (!ok)
		log_debug("http: refused a request for another host name");
	return ok;
}

/* ---- basic authentication ---------------------------------------------------- */

/* SipHash-2-4: a keyed hash, so the cache of successful logins holds
 * nothing an attacker who reads memory could replay as a password. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t siphash(const uint64_t key[2], const unsigned char *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0], v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0], v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)
			m = (m << 8) | in[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Whether tag is a remembered login; a hit keeps it for another while,
 * so that a client asking regularly (Prometheus) pays bcrypt only after
 * the password changed. */
static bool cached(struct server *s, uint64_t tag)
{
	time_t now = time(NULL);
	bool hit = false;

	pthread_mutex_lock(&s->auth_lock);
	for (size_t i = 0; i < SERVER_AUTH_CACHE; i++)
		hit |= (s->auth_cache[i].expires > now) & (s->auth_cache[i].tag == tag);
	for (size_t i = 0; i < SERVER_AUTH_CACHE && hit; i++)
		if (s->auth_cache[i].tag == tag)
			s->auth_cache[i].expires = now + SERVER_AUTH_CACHE_SECONDS;
	pthread_mutex_unlock(&s->auth_lock);
	return hit;
}

static void remember(struct server *s, uint64_t tag)
{
	pthread_mutex_lock(&s->auth_lock);
	s->auth_cache[s->auth_next].tag = tag;
	s->auth_cache[s->auth_next].expires = time(NULL) + SERVER_AUTH_CACHE_SECONDS;
	s->auth_next = (s->auth_next + 1) % SERVER_AUTH_CACHE;
	pthread_mutex_unlock(&s->auth_lock);
}

/* The keyed hash of user and password, or 0 when they are too long. */
static uint64_t login_tag(struct server *s, const char *user, const char *pass)
{
	unsigned char buf[2 * CONFIG_TEXT_MAX + 2];
	size_t ul = strlen(user), pl = strlen(pass);
	uint64_t tag;

	if (ul >= CONFIG_TEXT_MAX || pl >= CONFIG_TEXT_MAX)
		return 0;
	memcpy(buf, user, ul + 1);
	memcpy(buf + ul + 1, pass, pl);
	tag = siphash(s->auth_key, buf, ul + 1 + pl);
	explicit_bzero(buf, sizeof(buf));
	return tag | 1; /* never 0, the cache's empty value */
}

/* A check a worker finished: its answer, recorded. */
static enum admission_auth finished(struct server *s, struct MHD_Connection *c,
                                    struct auth_job *job)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	bool ok = authpool_finish(&s->auth_pool, job, connlimit_now_ms());

	if (ok && user && pass)
		remember(s, login_tag(s, user, pass));
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok ? ADMISSION_AUTH_OK : ADMISSION_AUTH_DENIED;
}

enum admission_auth admission_authorize(struct server *s, struct MHD_Connection *c, void **con_cls,
                                        unsigned *retry_after)
{
	const union MHD_ConnectionInfo *who =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char *pass = NULL, *user;
	enum admission_auth verdict = ADMISSION_AUTH_DENIED;
	uint64_t now = connlimit_now_ms(), tag;
	struct conn_addr addr;
	struct auth_job *job;

	if (*con_cls) {
		job = *con_cls;
		*con_cls = NULL;
		return finished(s, c, job);
	}
	user = MHD_basic_auth_get_username_password(c, &pass);
	/* No credentials (a browser's first try): nothing to check or count. */
	if (!user || !pass || !who)
		goto out;
	tag = login_tag(s, user, pass);
	if (!tag)
		goto out;
	connlimit_addr_key(who->client_addr, &addr);
	/* Remembered credentials are right: no check, no waiting. */
	if (cached(s, tag)) {
		authpool_forgive(&s->auth_pool, &addr);
		verdict = ADMISSION_AUTH_OK;
		goto out;
	}
	job = authpool_reserve(&s->auth_pool, &addr, user, pass, now);
	if (!job) {
		*retry_after = authpool_retry_after(&s->auth_pool, &addr, now);
		if (*retry_after == 0)
			*retry_after = 1; /* the queue is full */
		verdict = ADMISSION_AUTH_LATER;
		goto out;
	}
	MHD_suspend_connection(c);
	authpool_submit(&s->auth_pool, job, c);
	*con_cls = job;
	verdict = ADMISSION_AUTH_WAIT;
out:
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return verdict;
}
