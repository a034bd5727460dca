/* Field arithmetic after TweetNaCl (public domain): 16 limbs of 16 bits in
 * signed 64-bit integers. Small and constant-time; speed does not matter
 * here (one multiplication per userspace device and poll). */
#include "probes/curve25519.h"

#include <string.h>

typedef int64_t gf[16];

static const gf gf_121665 = {0xDB41, 1};

static void carry(gf o)
{
	for (int i = 0; i < 16; i++) {
		int64_t c;

		o[i] += (int64_t)1 << 16;
		c = o[i] >> 16;
		o[(i + 1) * (i < 15)] += c - 1 + 37 * (c - 1) * (i == 15);
		/* A multiplication, not a shift: c may be negative. */
		o[i] -= c * ((int64_t)1 << 16);
	}
}

/* Swaps p and q when b is 1, without a branch. */
static void cswap(gf p, gf q, int b)
{
	int64_t mask = ~((int64_t)b - 1);

	for (int i = 0; i < 16; i++) {
		int64_t t = mask & (p[i] ^ q[i]);

		p[i] ^= t;
		q[i] ^= t;
	}
}

static void pack(uint8_t *o, const gf n)
{
	gf m, t;

	memcpy(t, n, sizeof(t));
	carry(t);
	carry(t);
	carry(t);
	for (int j = 0; j < 2; j++) {
		int b;

		m[0] = t[0] - 0xffed;
		for (int i = 1; i < 15; i++) {
			m[i] = t[i] - 0xffff - ((m[i - 1] >> 16) & 1);
			m[i - 1] &= 0xffff;
		}
		m[15] = t[15] - 0x7fff - ((m[14] >> 16) & 1);
		b = (int)((m[15] >> 16) & 1);
		m[14] &= 0xffff;
		cswap(t, m, 1 - b);
	}
	for (int i = 0; i < 16; i++) {
		o[2 * i] = (uint8_t)(t[i] & 0xff);
		o[2 * i + 1] = (uint8_t)(t[i] >> 8);
	}
	explicit_bzero(m, sizeof(m));
	explicit_bzero(t, sizeof(t));
}

static void add(gf o, const gf a, const gf b)
{
	for (int i = 0; i < 16; i++)
		o[i] = a[i] + b[i];
}

static void sub(gf o, const gf a, const gf b)
{
	for (int i = 0; i < 16; i++)
		o[i] = a[i] - b[i];
}

static void mul(gf o, const gf a, const gf b)
{
	int64_t t[31] = {0};

	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			t[i + j] += a[i] * b[j];
	for (int i = 0; i < 15; i++)
		t[i] += 38 * t[i + 16];
	memcpy(o, t, sizeof(gf));
	carry(o);
	carry(o);
	explicit_bzero(t, sizeof(t));
}

static void invert(gf o, const gf in)
{
	gf c;

	memcpy(c, in, sizeof(c));
	for (int a = 253; a >= 0; a--) {
		mul(c, c, c);
		if (a != 2 && a != 4)
			mul(c, c, in);
	}
	memcpy(o, c, sizeof(c));
	explicit_bzero(c, sizeof(c));
}

void curve25519_public_key(uint8_t pub[CURVE25519_KEY_LEN],
                           const uint8_t secret[CURVE25519_KEY_LEN])
{
	uint8_t z[32];
	gf x = {9}, a = {1}, b = {9}, c = {0}, d = {1}, e, f;

	memcpy(z, secret, sizeof(z));
	z[31] = (uint8_t)((z[31] & 127) | 64);
	z[0] &= 248;
	for (int i = 254; i >= 0; --i) {
		int r = (z[i >> 3] >> (i & 7)) & 1;

		cswap(a, b, r);
		cswap(c, d, r);
		add(e, a, c);
		sub(a, a, c);
		add(c, b, d);
		sub(b, b, d);
		mul(d, e, e);
		mul(f, a, a);
		mul(a, c, a);
		mul(c, b, e);
		add(e, a, c);
		sub(a, a, c);
		mul(b, a, a);
		sub(c, d, f);
		mul(a, c, gf_121665);
		add(a, a, d);
		mul(c, c, a);
		mul(a, d, f);
		mul(d, b, x);
		mul(b, e, e);
		cswap(a, b, r);
		cswap(c, d, r);
	}
	invert(c, c);
	mul(a, a, c);
	pack(pub, a);
	explicit_bzero(z, sizeof(z));
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	explicit_bzero(c, sizeof(c));
	explicit_bzero(d, sizeof(d));
	explicit_bzero(e, sizeof(e));
	explicit_bzero(f, sizeof(f));
}
