/*
 * crypto.h - the few primitives Stremora builds on, over OpenSSL: random bytes, SHA-256,
 * HMAC-SHA256, constant-time compare, hex and base64url (RFC 4648 section 5, no padding,
 * strict: padding, whitespace and non-zero trailing bits are refused).
 */
#ifndef STREMORA_CRYPTO_H
#define STREMORA_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

struct arena;

#define CRYPTO_SHA256_LEN 32

/* Fills buf with n bytes from the CSPRNG. Returns 0, or -1 (logged). */
int crypto_random(void *buf, size_t n);
void crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
                        unsigned char out[CRYPTO_SHA256_LEN]);
/* Constant-time equality of two n-byte buffers. */
bool crypto_eq(const void *a, const void *b, size_t n);
/* Wipes n bytes at p so the compiler cannot drop it. */
void crypto_wipe(void *p, size_t n);

/* Writes 2n lowercase hex digits and a NUL to out (2n + 1 bytes). */
void crypto_hex(const unsigned char *p, size_t n, char *out);
/* Returns the base64url length (no padding) of n bytes. */
size_t crypto_b64url_len(size_t n);
/* Writes the base64url of p (n bytes) and a NUL to out (crypto_b64url_len(n) + 1 bytes). */
void crypto_b64url_encode(const unsigned char *p, size_t n, char *out);
/* Returns the base64url of p in a, or NULL if a is full. */
char *crypto_b64url(struct arena *a, const unsigned char *p, size_t n);
/* Decodes s into out (room for cap bytes); *outlen gets the decoded length. Returns 0, or
 * -1 for bad characters, padding, a length of 1 mod 4, non-zero trailing bits, or too
 * little room. */
int crypto_b64url_decode(struct str s, unsigned char *out, size_t cap, size_t *outlen);

/* Streaming SHA-256 for data that arrives in pieces (uploads). */
struct crypto_sha256;
/* Returns a running hash released with the arena, or NULL (logged). */
struct crypto_sha256 *crypto_sha256_begin(struct arena *a);
void crypto_sha256_add(struct crypto_sha256 *h, const void *p, size_t n);
/* Writes the digest; the hash takes no more input. Returns 0, or -1 (logged; out zeroed)
 * if OpenSSL failed on any update or on the final step: never use a digest then. */
int crypto_sha256_end(struct crypto_sha256 *h, unsigned char out[CRYPTO_SHA256_LEN]);

#endif
