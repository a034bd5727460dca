/* X25519 scalar multiplication by the base point: the public key that
 * belongs to a WireGuard private key. A userspace implementation's UAPI
 * reply carries the private key but not the public key; wg(8) derives it
 * the same way. */
#ifndef SPARKMON_CURVE25519_H
#define SPARKMON_CURVE25519_H

#include <stdint.h>

#define CURVE25519_KEY_LEN 32

/* Writes the public key of `secret` into `pub`. Every intermediate value
 * on the stack is wiped before returning. */
void curve25519_public_key(uint8_t pub[CURVE25519_KEY_LEN],
                           const uint8_t secret[CURVE25519_KEY_LEN]);

#endif
