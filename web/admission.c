/* Who is served: the allow-list, checked in the accept callback before a
 * byte is read, and basic authentication. */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/log.h"
#include "web/serverimpl.h"

enum MHD_Result admission_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct server *s = cls;
	bool ok = false;

	(void)addrlen;
	pthread_rwlock_rdlock(&s->acl_lock);
	for (size_t i = 0; i < s->n_nets && !ok; i++)
		ok = netaddr_net_contains(&s->nets[i], addr);
	for (size_t i = 0; i < s->n_dyn_nets && !ok; i++)
		ok = netaddr_net_contains(&s->dyn_nets[i], addr);
	pthread_rwlock_unlock(&s->acl_lock);
	if (!ok) {
		char who[80];

		netaddr_format_endpoint(addr, who, sizeof(who));
		log_debug("http: refused connection from %s (not in the allow-list)", who);
	}
	return ok ? MHD_YES : MHD_NO;
}

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

/* Compares in time that depends only on the lengths' maximum. */
static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la > lb ? la : lb;
	unsigned char diff = la != lb;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)((i < la ? a[i] : 0) ^ (i < lb ? b[i] : 0));
	return diff == 0;
}

bool admission_authorized(struct server *s, struct MHD_Connection *c)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	struct crypt_data *data = NULL;
	time_t now = time(NULL);
	unsigned char buf[2 * CONFIG_TEXT_MAX + 2];
	bool ok = false, hit = false;
	uint64_t tag;
	size_t ul, pl;

	if (!user || !pass)
		goto out;
	ul = strlen(user);
	pl = strlen(pass);
	if (ul >= CONFIG_TEXT_MAX || pl >= CONFIG_TEXT_MAX)
		goto out;
	memcpy(buf, user, ul + 1);
	memcpy(buf + ul + 1, pass, pl);
	tag = siphash(s->auth_key, buf, ul + 1 + pl);
	explicit_bzero(buf, sizeof(buf));
	pthread_mutex_lock(&s->auth_lock);
	for (size_t i = 0; i < SERVER_AUTH_CACHE; i++)
		hit |= (s->auth_cache[i].expires > now) & (s->auth_cache[i].tag == tag);
	pthread_mutex_unlock(&s->auth_lock);
	if (hit) {
		ok = true;
		goto out;
	}
	/* bcrypt runs for a wrong user too: timing does not tell users apart. */
	data = calloc(1, sizeof(*data));
	if (data) {
		const char *hashed = crypt_r(pass, s->cfg.http_auth_bcrypt, data);
		bool user_ok = equal_ct(user, s->cfg.http_auth_user);
		bool pass_ok =
		    hashed && hashed[0] != '*' && equal_ct(hashed, s->cfg.http_auth_bcrypt);

		ok = user_ok & pass_ok;
		explicit_bzero(data, sizeof(*data));
		free(data);
	}
	if (ok) {
		pthread_mutex_lock(&s->auth_lock);
		s->auth_cache[s->auth_next].tag = tag;
		s->auth_cache[s->auth_next].expires = now + SERVER_AUTH_CACHE_SECONDS;
		s->auth_next = (s->auth_next + 1) % SERVER_AUTH_CACHE;
		pthread_mutex_unlock(&s->auth_lock);
	}
out:
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok;
}
