/*
 * crypto.c - the primitives of crypto.h over OpenSSL 3 (RAND_bytes, EVP_Digest, HMAC,
 * CRYPTO_memcmp, OPENSSL_cleanse), plus hex and base64url (RFC 4648 section 5) written
 * here so that decoding can be strict: no padding, no whitespace, no length of 1 mod 4,
 * no non-zero trailing bits, so every byte string has exactly one accepted encoding.
 * Invariant: a digest or MAC that OpenSSL fails to compute is never left predictable
 * (all zeros would let a forged MAC of zeros through); see unpredictable().
 */
#include "crypto.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "arena.h"
#include "log.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of a base64url character, or -1. */
static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/*
 * Called when OpenSSL could not compute a digest (it fails only when it cannot allocate).
 * The caller's output must not be a value an attacker can send, so it gets fresh random
 * bytes, from getrandom(2) if RAND_bytes fails too (a system call that allocates nothing).
 * If both fail this process can neither sign nor verify safely, and stopping is the only
 * answer that fails closed.
 */
static void
unpredictable(const char *what, unsigned char out[CRYPTO_SHA256_LEN])
{
    log_ev(LOG_ERROR, "crypto_failed", "%s failed", what);
    if (RAND_bytes(out, CRYPTO_SHA256_LEN) == 1 ||
        getrandom(out, CRYPTO_SHA256_LEN, 0) == CRYPTO_SHA256_LEN) {
        return;
    }
    log_errno("getrandom", what);
    abort();
}

int
crypto_random(void *buf, size_t n)
{
    if (n > INT_MAX || RAND_bytes(buf, (int)n) != 1) {
        log_ev(LOG_ERROR, "crypto_random_failed", "RAND_bytes failed for %zu bytes", n);
        return -1;
    }
    return 0;
}

void
crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
    if (EVP_Digest(n > 0 ? p : "", n, out, NULL, EVP_sha256(), NULL) != 1) {
        unpredictable("EVP_Digest(SHA-256)", out);
    }
}

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
                   unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int len = 0;

    /* HMAC() wants a non-NULL key even when it is empty. */
    if (keylen > INT_MAX ||
        HMAC(EVP_sha256(), keylen > 0 ? key : "", (int)keylen, n > 0 ? p : (const void *)"", n, out,
             &len) == NULL ||
        len != CRYPTO_SHA256_LEN) {
        unpredictable("HMAC(SHA-256)", out);
    }
}

bool
crypto_eq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void
crypto_wipe(void *p, size_t n)
{
    if (n > 0) {
        OPENSSL_cleanse(p, n);
    }
}

void
crypto_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

size_t
crypto_b64url_len(size_t n)
{
    static const size_t tail[3] = {0, 2, 3};

    return n / 3 * 4 + tail[n % 3];
}

void
crypto_b64url_encode(const unsigned char *p, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 3 <= n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];

        out[o++] = b64url_alphabet[v >> 18];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        out[o++] = b64url_alphabet[p[i] >> 2];
        out[o++] = b64url_alphabet[(p[i] & 3) << 4];
    } else if (n - i == 2) {
        unsigned long v = (unsigned long)p[i] << 8 | p[i + 1];

        out[o++] = b64url_alphabet[v >> 10];
        out[o++] = b64url_alphabet[(v >> 4) & 63];
        out[o++] = b64url_alphabet[(v & 15) << 2];
    }
    out[o] = '\0';
}

char *
crypto_b64url(struct arena *a, const unsigned char *p, size_t n)
{
    char *out;

    if (n > (SIZE_MAX - 1) / 4 * 3) { /* crypto_b64url_len(n) + 1 would overflow */
        return NULL;
    }
    if ((out = arena_alloc(a, crypto_b64url_len(n) + 1)) == NULL) {
        return NULL;
    }
    crypto_b64url_encode(p, n, out);
    return out;
}

int
crypto_b64url_decode(struct str s, unsigned char *out, size_t cap, size_t *outlen)
{
    const unsigned char *in = (const unsigned char *)s.p;
    size_t rem = s.len % 4, n = s.len / 4 * 3 + (rem > 0 ? rem - 1 : 0);
    size_t i, o = 0;
    unsigned long v = 0;
    int d;

    if (rem == 1 || n > cap) {
        return -1;
    }
    for (i = 0; i < s.len; i++) {
        if ((d = b64url_value(in[i])) < 0) {
            return -1;
        }
        v = v << 6 | (unsigned long)d;
        if (i % 4 == 3) {
            out[o++] = (unsigned char)(v >> 16);
            out[o++] = (unsigned char)(v >> 8);
            out[o++] = (unsigned char)v;
            v = 0;
        }
    }
    /* The bits past the last whole byte must be zero, or two strings would decode alike. */
    if (rem == 2) {
        if ((v & 15) != 0) {
            return -1;
        }
        out[o++] = (unsigned char)(v >> 4);
    } else if (rem == 3) {
        if ((v & 3) != 0) {
            return -1;
        }
        out[o++] = (unsigned char)(v >> 10);
        out[o++] = (unsigned char)(v >> 2);
    }
    *outlen = o;
    return 0;
}

struct crypto_sha256 {
    EVP_MD_CTX *ctx;
    bool failed; /* an update failed: the digest would be of other bytes */
};

static void
md_ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

struct crypto_sha256 *
crypto_sha256_begin(struct arena *a)
{
    struct crypto_sha256 *h = arena_alloc(a, sizeof(*h));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (h == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        arena_defer(a, md_ctx_free, ctx) == -1) {
        EVP_MD_CTX_free(ctx);
        log_ev(LOG_ERROR, "sha256_failed", "cannot start a SHA-256");
        return NULL;
    }
    h->ctx = ctx;
    h->failed = false;
    return h;
}

void
crypto_sha256_add(struct crypto_sha256 *h, const void *p, size_t n)
{
    if (!h->failed && EVP_DigestUpdate(h->ctx, p, n) != 1) {
        h->failed = true;
    }
}

int
crypto_sha256_end(struct crypto_sha256 *h, unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int len = CRYPTO_SHA256_LEN;

    if (h->failed || EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != CRYPTO_SHA256_LEN) {
        memset(out, 0, CRYPTO_SHA256_LEN);
        log_ev(LOG_ERROR, "sha256_failed", "a streamed SHA-256 failed");
        return -1;
    }
    return 0;
}
