/*
 * fuzz_jwt.c - libFuzzer target for jwt_verify (RFC 7515/7519, HS256). The first byte of
 * an input picks what the rest is:
 *   0: a token, verified as it is;
 *   1: "<header JSON>\n<payload JSON>", encoded and signed here with the ring's key, so
 *      that the JSON and claim checks behind the MAC are reached;
 *   2: (position, byte) pairs that edit a valid token.
 * Properties, not only "no crash": an accepted token's claims are well formed, in date,
 * and re-signed by jwt_sign verify again to the same claims; no accepted token verifies
 * under another key with the same kid, or with a MAC bit flipped; a token signed here is
 * never a bad signature; an edited token verifies only if the edits changed nothing.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "jwt.h"
#include "keys.h"

#define NOW 1700000000

static struct keyring ring;  /* k1 */
static struct keyring other; /* k1, other bytes */
static struct arena *arena;
static char base[MAX_JWT + 1]; /* a valid token for mode 2 */
static size_t base_len;

static void
init(void)
{
    struct jwt_claims c;
    const char *t;
    size_t i;

    memcpy(ring.keys[0].kid, "k1", 3);
    memcpy(other.keys[0].kid, "k1", 3);
    for (i = 0; i < 32; i++) {
        ring.keys[0].key[i] = (unsigned char)(i + 1);
        other.keys[0].key[i] = (unsigned char)(i + 201);
    }
    ring.keys[0].len = other.keys[0].len = 32;
    ring.n = other.n = 1;
    arena = arena_new(MAX_REQ_ARENA);
    assert(arena != NULL);
    memset(&c, 0, sizeof(c));
    memcpy(c.sub, "5f0c1a2b3c4d5e6f70819203", 25);
    memcpy(c.role, "user", 5);
    memcpy(c.sid, "6a1b2c3d4e5f60718293a4b5", 25);
    memcpy(c.jti, "Zq3_x-9", 8);
    c.iat = NOW;
    c.exp = NOW + JWT_ACCESS_TTL;
    t = jwt_sign(arena, &ring.keys[0], &c);
    assert(t != NULL);
    base_len = strlen(t);
    memcpy(base, t, base_len + 1);
    arena_reset(arena);
}

static int
is_hex24(const char *s)
{
    size_t i;

    for (i = 0; i < 24; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return s[24] == '\0';
}

static int
is_token(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1), i;

    if (n == 0 || n > max) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[i]) ==
            NULL) {
            return 0;
        }
    }
    return 1;
}

static int
same_claims(const struct jwt_claims *a, const struct jwt_claims *b)
{
    return strcmp(a->sub, b->sub) == 0 && strcmp(a->role, b->role) == 0 &&
           strcmp(a->sid, b->sid) == 0 && strcmp(a->jti, b->jti) == 0 && a->iat == b->iat &&
           a->exp == b->exp;
}

/* What must hold for every token jwt_verify accepted with claims c. */
static void
check_accepted(struct str token, const struct jwt_claims *c)
{
    struct jwt_claims again;
    const char *re;
    char *flipped;

    assert(token.len <= MAX_JWT);
    assert(is_hex24(c->sub) && is_hex24(c->sid));
    assert(is_token(c->role, sizeof(c->role) - 1) && is_token(c->jti, sizeof(c->jti) - 1));
    assert(c->exp + JWT_LEEWAY >= NOW && c->iat - JWT_LEEWAY <= NOW);

    re = jwt_sign(arena, &ring.keys[0], c);
    assert(re != NULL);
    assert(jwt_verify(&ring, str_from(re), NOW, &again) == JWT_OK);
    assert(same_claims(c, &again));

    assert(jwt_verify(&other, token, NOW, &again) != JWT_OK);
    flipped = arena_strndup(arena, token.p, token.len);
    assert(flipped != NULL);
    flipped[token.len - 1] = flipped[token.len - 1] == 'A' ? 'E' : 'A';
    assert(jwt_verify(&ring, (struct str){flipped, token.len}, NOW, &again) != JWT_OK);
}

/* Mode 1: sign header and payload bytes by hand and verify the result. */
static void
sign_and_verify(const uint8_t *p, size_t n)
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    const uint8_t *nl = memchr(p, '\n', n);
    size_t hn = nl != NULL ? (size_t)(nl - p) : n, pn = nl != NULL ? n - hn - 1 : 0;
    char *h64, *p64, *tok;
    struct jwt_claims c;
    enum jwt_status st;

    if ((h64 = crypto_b64url(arena, p, hn)) == NULL ||
        (p64 = crypto_b64url(arena, p + n - pn, pn)) == NULL) {
        return;
    }
    tok = arena_sprintf(arena, "%s.%s.", h64, p64);
    assert(tok != NULL);
    crypto_hmac_sha256(ring.keys[0].key, ring.keys[0].len, tok, strlen(tok) - 1, mac);
    tok = arena_sprintf(arena, "%s%s", tok, crypto_b64url(arena, mac, sizeof(mac)));
    assert(tok != NULL);
    st = jwt_verify(&ring, str_from(tok), NOW, &c);
    assert(st != JWT_BAD_SIGNATURE);
    if (st == JWT_OK) {
        check_accepted(str_from(tok), &c);
    }
}

/* Mode 2: edit a valid token; it may verify only if it is unchanged. */
static void
edit_and_verify(const uint8_t *p, size_t n)
{
    char tok[MAX_JWT + 1];
    struct jwt_claims c;
    size_t i, len = base_len;

    memcpy(tok, base, base_len);
    if (n % 2 == 1) { /* an odd byte cuts the token short */
        len = base_len - (size_t)p[--n] % (base_len + 1);
    }
    for (i = 0; len > 0 && i + 1 < n; i += 2) {
        tok[(size_t)p[i] % len] = (char)p[i + 1];
    }
    if (jwt_verify(&ring, (struct str){tok, len}, NOW, &c) == JWT_OK) {
        assert(len == base_len && memcmp(tok, base, len) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jwt_claims c;

    if (arena == NULL) {
        init();
    }
    if (size == 0) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        if (jwt_verify(&ring, (struct str){(const char *)data + 1, size - 1}, NOW, &c) == JWT_OK) {
            check_accepted((struct str){(const char *)data + 1, size - 1}, &c);
        }
        break;
    case 1:
        sign_and_verify(data + 1, size - 1);
        break;
    default:
        edit_and_verify(data + 1, size - 1);
        break;
    }
    arena_reset(arena);
    return 0;
}
