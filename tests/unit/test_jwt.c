/*
 * test_jwt.c - HS256 access tokens. Most rejections are proved with tokens forged by hand
 * (forge() encodes any header and payload bytes and signs them with the right key), so a
 * passing case shows the check under test fired, not merely the signature check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "jwt.h"
#include "keys.h"

#include "fixtures.h"

#define NOW 1700000000

#define HDR     "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"
#define SUB     "\"sub\":\"5f0c1a2b3c4d5e6f70819203\""
#define ROLE    "\"role\":\"user\""
#define SID     "\"sid\":\"6a1b2c3d4e5f60718293a4b5\""
#define JTI     "\"jti\":\"Zq3_x-9\""
#define IAT     "\"iat\":1700000000"
#define EXP     "\"exp\":1700000900"
#define FULL    "{" SUB "," ROLE "," SID "," JTI "," IAT "," EXP
#define PAYLOAD FULL "}"
/* The full payload with one more member "x". */
#define PAYLOAD_X(v)    FULL ",\"x\":" v "}"
#define PAYLOAD_DUP_EXP FULL ",\"exp\":9999999999}"
/* The payload without one claim, for replacing it. */
#define NO_SUB  "{" ROLE "," SID "," JTI "," IAT "," EXP
#define NO_ROLE "{" SUB "," SID "," JTI "," IAT "," EXP
#define NO_SID  "{" SUB "," ROLE "," JTI "," IAT "," EXP
#define NO_JTI  "{" SUB "," ROLE "," SID "," IAT "," EXP
#define NO_IAT  "{" SUB "," ROLE "," SID "," JTI "," EXP
#define NO_EXP  "{" SUB "," ROLE "," SID "," JTI "," IAT

static struct keyring ring;  /* k1 and k2 */
static struct keyring other; /* k1 with different bytes */
static struct arena *arena;

static int
setup(void **state)
{
    (void)state;
    fixture_rings(&ring, &other);
    return (arena = arena_new(MAX_REQ_ARENA)) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    arena_free(arena);
    keys_fini(&ring);
    keys_fini(&other);
    return 0;
}

static const struct key *
k1(void)
{
    return &ring.keys[0];
}

/* Returns b64(h) "." b64(p) "." b64(HMAC(k, those two)), built without jwt_sign. */
static struct str
forge_with(const struct key *k, struct str h, struct str p)
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    char *hb = crypto_b64url(arena, (const unsigned char *)h.p, h.len);
    char *pb = crypto_b64url(arena, (const unsigned char *)p.p, p.len);
    char *signed_part, *sig, *tok;

    assert_non_null(hb);
    assert_non_null(pb);
    signed_part = arena_sprintf(arena, "%s.%s", hb, pb);
    assert_non_null(signed_part);
    crypto_hmac_sha256(k->key, k->len, signed_part, strlen(signed_part), mac);
    sig = crypto_b64url(arena, mac, sizeof(mac));
    tok = arena_sprintf(arena, "%s.%s", signed_part, sig);
    assert_non_null(tok);
    return str_from(tok);
}

static struct str
forge(const char *h, const char *p)
{
    return forge_with(k1(), str_from(h), str_from(p));
}

static enum jwt_status
verify_at(struct str tok, int64_t now)
{
    struct jwt_claims c;

    return jwt_verify(&ring, tok, now, &c);
}

static enum jwt_status
verify(struct str tok)
{
    return verify_at(tok, NOW);
}

static void
claims_init(struct jwt_claims *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->sub, sizeof(c->sub), "5f0c1a2b3c4d5e6f70819203");
    snprintf(c->role, sizeof(c->role), "user");
    snprintf(c->sid, sizeof(c->sid), "6a1b2c3d4e5f60718293a4b5");
    snprintf(c->jti, sizeof(c->jti), "Zq3_x-9");
    c->iat = NOW;
    c->exp = NOW + JWT_ACCESS_TTL;
}

static void
assert_claims_equal(const struct jwt_claims *a, const struct jwt_claims *b)
{
    assert_string_equal(a->sub, b->sub);
    assert_string_equal(a->role, b->role);
    assert_string_equal(a->sid, b->sid);
    assert_string_equal(a->jti, b->jti);
    assert_int_equal(a->iat, b->iat);
    assert_int_equal(a->exp, b->exp);
}

/* Replaces the character at i of a copy of tok with c. */
static struct str
with_char(struct str tok, size_t i, char c)
{
    char *s = arena_strndup(arena, tok.p, tok.len);

    assert_non_null(s);
    s[i] = c;
    return (struct str){s, tok.len};
}

static void
test_jwt_sign_round_trip(void **state)
{
    struct jwt_claims c, out;
    char *tok;

    (void)state;
    claims_init(&c);
    tok = jwt_sign(arena, k1(), &c);
    assert_non_null(tok);
    assert_int_equal(jwt_verify(&ring, str_from(tok), NOW, &out), JWT_OK);
    assert_claims_equal(&out, &c);
}

static void
test_jwt_sign_with_second_key(void **state)
{
    struct jwt_claims c, out;
    char *tok;

    (void)state;
    claims_init(&c);
    tok = jwt_sign(arena, &ring.keys[1], &c);
    assert_non_null(tok);
    assert_int_equal(jwt_verify(&ring, str_from(tok), NOW, &out), JWT_OK);
    assert_string_equal(out.sub, c.sub);
}

static void
test_jwt_sign_header_is_exact(void **state)
{
    unsigned char h[128];
    struct jwt_claims c;
    struct str head;
    size_t n;
    char *tok;

    (void)state;
    claims_init(&c);
    tok = jwt_sign(arena, k1(), &c);
    assert_non_null(tok);
    str_cut(str_from(tok), '.', &head);
    assert_int_equal(crypto_b64url_decode(head, h, sizeof(h), &n), 0);
    assert_int_equal(n, strlen(HDR));
    assert_memory_equal(h, HDR, n);
}

/* forge() and jwt_sign() agree, so forged tokens in the other cases differ only where meant. */
static void
test_jwt_verify_forged_token_ok(void **state)
{
    struct jwt_claims want, out;

    (void)state;
    claims_init(&want);
    assert_int_equal(jwt_verify(&ring, forge(HDR, PAYLOAD), NOW, &out), JWT_OK);
    assert_claims_equal(&out, &want);
    /* Whitespace inside the JSON, other member order, and unknown claims are fine. */
    assert_int_equal(verify(forge("{ \"kid\" : \"k1\",\n\"alg\":\"HS256\" }",
                                  "{" EXP ", " IAT "," JTI "," SID "," ROLE "," SUB
                                  ",\"aud\":[1,{\"x\":null}],\"n\":-1.5e+3}")),
                     JWT_OK);
}

static void
test_jwt_sign_rejects_bad_claims(void **state)
{
    struct jwt_claims c;

    (void)state;
    claims_init(&c);
    c.sub[0] = 'G';
    assert_null(jwt_sign(arena, k1(), &c));
    claims_init(&c);
    c.role[0] = '\0';
    assert_null(jwt_sign(arena, k1(), &c));
    claims_init(&c);
    snprintf(c.role, sizeof(c.role), "a\"b");
    assert_null(jwt_sign(arena, k1(), &c));
    claims_init(&c);
    memset(c.jti, 'a', sizeof(c.jti)); /* no NUL */
    assert_null(jwt_sign(arena, k1(), &c));
    claims_init(&c);
    c.exp = -1;
    assert_null(jwt_sign(arena, k1(), &c));
    claims_init(&c);
    assert_non_null(jwt_sign(arena, k1(), &c));
}

static void
test_jwt_sign_rejects_short_key(void **state)
{
    struct jwt_claims c;
    struct key k = ring.keys[0];

    (void)state;
    claims_init(&c);
    k.len = MIN_KEY_BYTES - 1;
    assert_null(jwt_sign(arena, &k, &c));
    assert_null(jwt_sign(arena, NULL, &c));
}

static void
test_jwt_sign_arena_full(void **state)
{
    struct arena *small = arena_new(64);
    struct jwt_claims c;

    (void)state;
    assert_non_null(small);
    claims_init(&c);
    assert_null(jwt_sign(small, k1(), &c));
    arena_free(small);
}

/* Returns head (an object without its closing brace) plus a member "x" padded so that
 * the whole is exactly n bytes. */
static const char *
padded(const char *head, size_t n)
{
    size_t base = strlen(head) + strlen(",\"x\":\"\"}");
    char *s;

    assert_true(n >= base);
    s = arena_sprintf(arena, "%s,\"x\":\"%*s\"}", head, (int)(n - base), "");
    assert_non_null(s);
    assert_int_equal(strlen(s), n);
    return s;
}

/* base64url lengths: 479 bytes -> 639, 1023 -> 1364; with two dots and 43 that is 2048. */
static void
test_jwt_verify_rejects_over_max_jwt(void **state)
{
    const char *h = "{\"alg\":\"HS256\",\"kid\":\"k1\"";
    struct str tok;

    (void)state;
    tok = forge(padded(h, 479), padded(FULL, 1023));
    assert_int_equal(tok.len, MAX_JWT);
    assert_int_equal(verify(tok), JWT_OK);
    tok = forge(padded(h, 480), padded(FULL, 1023));
    assert_int_equal(tok.len, MAX_JWT + 1);
    assert_int_equal(verify(tok), JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_part_over_max(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, padded(FULL, MAX_JWT_PART))), JWT_OK);
    assert_int_equal(verify(forge(HDR, padded(FULL, MAX_JWT_PART + 1))), JWT_MALFORMED);
    assert_int_equal(
        verify(forge(padded("{\"alg\":\"HS256\",\"kid\":\"k1\"", MAX_JWT_PART + 1), PAYLOAD)),
        JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_wrong_part_count(void **state)
{
    struct str tok = forge(HDR, PAYLOAD);
    struct str two = {tok.p, tok.len - 44}; /* "header.payload" */
    char *four;

    (void)state;
    assert_int_equal(tok.p[two.len], '.');
    assert_int_equal(verify(two), JWT_MALFORMED);
    four = arena_sprintf(arena, "%.*s.", (int)tok.len, tok.p);
    assert_int_equal(verify(str_from(four)), JWT_MALFORMED);
    four = arena_sprintf(arena, "%.*s.AAAA", (int)tok.len, tok.p);
    assert_int_equal(verify(str_from(four)), JWT_MALFORMED);
    assert_int_equal(verify(STR_LIT("")), JWT_MALFORMED);
    assert_int_equal(verify(STR_LIT("..")), JWT_MALFORMED);
    assert_int_equal(verify(STR_NULL), JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_bad_base64url(void **state)
{
    struct str tok = forge(HDR, PAYLOAD);
    struct str head;
    char *s;

    (void)state;
    str_cut(tok, '.', &head);
    /* Padding, standard alphabet, whitespace, in each part. */
    s = arena_sprintf(arena, "%.*s=", (int)tok.len, tok.p);
    assert_int_equal(verify(str_from(s)), JWT_MALFORMED);
    s = arena_sprintf(arena, "%.*s=.%s", (int)head.len, head.p, tok.p + head.len + 1);
    assert_int_equal(verify(str_from(s)), JWT_MALFORMED);
    assert_int_equal(verify(with_char(tok, head.len + 3, '+')), JWT_MALFORMED);
    assert_int_equal(verify(with_char(tok, 2, '/')), JWT_MALFORMED);
    assert_int_equal(verify(with_char(tok, tok.len - 5, ' ')), JWT_MALFORMED);
    assert_int_equal(verify(with_char(tok, 0, '\0')), JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_non_object(void **state)
{
    (void)state;
    assert_int_equal(verify(forge("[\"HS256\"]", PAYLOAD)), JWT_MALFORMED);
    assert_int_equal(verify(forge("\"HS256\"", PAYLOAD)), JWT_MALFORMED);
    assert_int_equal(verify(forge("", PAYLOAD)), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, "[" PAYLOAD "]")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, "1700000900")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, "")), JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_trailing_garbage(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR "x", PAYLOAD)), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, PAYLOAD "{}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, PAYLOAD ",")), JWT_MALFORMED);
    /* Whitespace around a JSON text is JSON (RFC 8259 section 2): signed, it verifies. */
    assert_int_equal(verify(forge(HDR " ", PAYLOAD)), JWT_OK);
    assert_int_equal(verify(forge(" " HDR, PAYLOAD "\n")), JWT_OK);
}

static void
test_jwt_verify_rejects_bad_json(void **state)
{
    (void)state;
    /* json-c alone would take each of these. */
    assert_int_equal(verify(forge("{'alg':'HS256','kid':'k1'}", PAYLOAD)), JWT_MALFORMED);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k1\",}", PAYLOAD)), JWT_MALFORMED);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\",/*c*/\"kid\":\"k1\"}", PAYLOAD)),
                     JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":01700000900}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":NaN}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":\"tab\there\"}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":\"\\x41\"}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":[1,]}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":True}")), JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_deep_nesting(void **state)
{
    char p[256];
    int depth;

    (void)state;
    /* The payload object is one level, so MAX_JSON_DEPTH - 1 arrays fill the limit. */
    for (depth = 1; depth < MAX_JSON_DEPTH; depth++) {
        snprintf(p, sizeof(p), FULL ",\"x\":%.*s%.*s}", depth, "[[[[[[[[[[[[[[[[[[[[", depth,
                 "]]]]]]]]]]]]]]]]]]]]");
        assert_int_equal(verify(forge(HDR, p)), JWT_OK);
    }
    snprintf(p, sizeof(p), FULL ",\"x\":%.*s%.*s}", MAX_JSON_DEPTH, "[[[[[[[[[[[[[[[[[[[[",
             MAX_JSON_DEPTH, "]]]]]]]]]]]]]]]]]]]]");
    assert_int_equal(verify(forge(HDR, p)), JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_duplicate_alg(void **state)
{
    (void)state;
    assert_int_equal(
        verify(
            forge("{\"alg\":\"none\",\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}", PAYLOAD)),
        JWT_MALFORMED);
    assert_int_equal(
        verify(
            forge("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"alg\":\"HS256\"}", PAYLOAD)),
        JWT_MALFORMED);
    /* The same key spelled with an escape is still the same key. */
    assert_int_equal(
        verify(forge("{\"alg\":\"HS256\",\"\\u0061lg\":\"none\",\"kid\":\"k1\"}", PAYLOAD)),
        JWT_MALFORMED);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k2\",\"kid\":\"k1\"}", PAYLOAD)),
                     JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_duplicate_claim(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, PAYLOAD_DUP_EXP)), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_SUB ",\"sub\":\"ffffffffffffffffffffffff\"," SUB "}")),
                     JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_ROLE ",\"role\":\"user\",\"r\\u006fle\":\"admin\"}")),
                     JWT_MALFORMED);
    /* Nested: a duplicate inside an unknown claim still refuses the token. */
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":{\"a\":1,\"a\":2}}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":[{},{\"a\":{\"b\":1,\"b\":1}}]}")),
                     JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":[{},{\"a\":{\"b\":1,\"c\":1}}]}")),
                     JWT_BAD_CLAIMS);
}

static void
test_jwt_verify_rejects_invalid_utf8(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":\"\xff\"}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":\"\xc0\xaf\"}")), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":\"\xed\xa0\x80\"}")), JWT_MALFORMED);
    assert_int_equal(
        verify(forge("{\"alg\":\"HS256\",\"kid\":\"k1\",\"x\":\"\xe2\x82\"}", PAYLOAD)),
        JWT_MALFORMED);
    /* Valid multi-byte text is fine, raw or escaped as a surrogate pair. */
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"x\":\"\xe2\x82\xac\\ud83d\\ude00\"}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, PAYLOAD_X("\"\xe2\x82\xac\\ud83d\\ude00\""))), JWT_OK);
}

static void
test_jwt_verify_rejects_lone_surrogate(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, PAYLOAD_X("\"\\ud800\""))), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, PAYLOAD_X("\"\\udc00\""))), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, PAYLOAD_X("\"\\ud800\\u0041\""))), JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_embedded_nul(void **state)
{
    static const char raw[] = PAYLOAD_X("\"a\0b\"");

    (void)state;
    assert_int_equal(verify(forge_with(k1(), STR_LIT(HDR), STR_LIT(raw))), JWT_MALFORMED);
    assert_int_equal(verify(forge_with(k1(), STR_LIT(HDR "\0"), STR_LIT(PAYLOAD))), JWT_MALFORMED);
    assert_int_equal(verify(forge(HDR, PAYLOAD_X("\"a\\u0000b\""))), JWT_MALFORMED);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\\u0000\",\"kid\":\"k1\"}", PAYLOAD)),
                     JWT_MALFORMED);
}

static void
test_jwt_verify_rejects_alg_none(void **state)
{
    struct str tok = forge("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}", PAYLOAD);
    struct str unsigned_tok = tok;

    (void)state;
    assert_int_equal(verify(tok), JWT_BAD_ALG);
    /* The classic form: no signature at all. */
    unsigned_tok.len -= 43;
    assert_int_equal(unsigned_tok.p[unsigned_tok.len - 1], '.');
    assert_int_equal(verify(unsigned_tok), JWT_BAD_ALG);
}

static void
test_jwt_verify_rejects_other_algs(void **state)
{
    (void)state;
    assert_int_equal(verify(forge("{\"alg\":\"HS512\",\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"alg\":\"hs256\",\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"alg\":\"RS256\",\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"alg\":\"HS256 \",\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"alg\":\"\",\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"typ\":\"JWT\",\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"alg\":256,\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"alg\":[\"HS256\"],\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"alg\":null,\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    assert_int_equal(verify(forge("{\"alg\":true,\"kid\":\"k1\"}", PAYLOAD)), JWT_BAD_ALG);
    /* Escaped spelling of the right value is the right value. */
    assert_int_equal(verify(forge("{\"alg\":\"\\u0048S256\",\"kid\":\"k1\"}", PAYLOAD)), JWT_OK);
}

static void
test_jwt_verify_rejects_crit(void **state)
{
    (void)state;
    assert_int_equal(
        verify(
            forge("{\"alg\":\"HS256\",\"kid\":\"k1\",\"b64\":false,\"crit\":[\"b64\"]}", PAYLOAD)),
        JWT_MALFORMED);
}

static void
test_jwt_verify_unknown_kid(void **state)
{
    (void)state;
    assert_int_equal(verify(forge("{\"alg\":\"HS256\"}", PAYLOAD)), JWT_UNKNOWN_KID);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\",\"kid\":\"k9\"}", PAYLOAD)), JWT_UNKNOWN_KID);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\",\"kid\":\"K1\"}", PAYLOAD)), JWT_UNKNOWN_KID);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\",\"kid\":1}", PAYLOAD)), JWT_UNKNOWN_KID);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\",\"kid\":\"\"}", PAYLOAD)), JWT_UNKNOWN_KID);
    assert_int_equal(verify(forge("{\"alg\":\"HS256\",\"kid\":[\"k1\"]}", PAYLOAD)),
                     JWT_UNKNOWN_KID);
}

static void
test_jwt_verify_other_key_same_kid(void **state)
{
    struct jwt_claims c;
    char *tok;

    (void)state;
    claims_init(&c);
    tok = jwt_sign(arena, &other.keys[0], &c);
    assert_non_null(tok);
    assert_int_equal(verify(str_from(tok)), JWT_BAD_SIGNATURE);
    assert_int_equal(jwt_verify(&other, str_from(tok), NOW, &c), JWT_OK);
}

/* A kid naming one key with a MAC made by another. */
static void
test_jwt_verify_kid_swapped(void **state)
{
    (void)state;
    assert_int_equal(verify(forge_with(&ring.keys[1], STR_LIT(HDR), STR_LIT(PAYLOAD))),
                     JWT_BAD_SIGNATURE);
}

static void
test_jwt_verify_tampered_payload(void **state)
{
    struct str good = forge(HDR, PAYLOAD), evil, sig, head, payload, skip;
    char *s;

    (void)state;
    evil = forge(HDR, NO_ROLE ",\"role\":\"admin\"}");
    sig = str_cut(str_cut(good, '.', &head), '.', &skip);
    str_cut(str_cut(evil, '.', &skip), '.', &payload);
    s = arena_sprintf(arena, "%.*s.%.*s.%.*s", (int)head.len, head.p, (int)payload.len, payload.p,
                      (int)sig.len, sig.p);
    assert_int_equal(verify(str_from(s)), JWT_BAD_SIGNATURE);
    assert_int_equal(verify(evil), JWT_OK); /* it was well formed, only the MAC is wrong */
}

static void
test_jwt_verify_tampered_signature(void **state)
{
    struct str tok = forge(HDR, PAYLOAD);
    struct str signed_part = {tok.p, tok.len - 44};
    unsigned char mac[CRYPTO_SHA256_LEN + 1];
    struct jwt_claims c;
    char last = tok.p[tok.len - 1];
    char *s;

    (void)state;
    /* 43 characters carry 256 bits and 2 spare zero bits: 'A' <-> 'E' flips a MAC bit. */
    assert_int_equal(verify(with_char(tok, tok.len - 1, last == 'A' ? 'E' : 'A')),
                     JWT_BAD_SIGNATURE);
    assert_int_equal(verify(with_char(tok, tok.len - 20, tok.p[tok.len - 20] == 'x' ? 'y' : 'x')),
                     JWT_BAD_SIGNATURE);
    /* The right MAC cut to 31 bytes is a wrong signature; 33 bytes do not fit a MAC. */
    crypto_hmac_sha256(k1()->key, k1()->len, signed_part.p, signed_part.len, mac);
    mac[CRYPTO_SHA256_LEN] = 0;
    s = arena_sprintf(arena, "%.*s.%s", (int)signed_part.len, signed_part.p,
                      crypto_b64url(arena, mac, CRYPTO_SHA256_LEN - 1));
    assert_int_equal(jwt_verify(&ring, str_from(s), NOW, &c), JWT_BAD_SIGNATURE);
    assert_memory_equal(&c, &(struct jwt_claims){0}, sizeof(c));
    s = arena_sprintf(arena, "%.*s.%s", (int)signed_part.len, signed_part.p,
                      crypto_b64url(arena, mac, CRYPTO_SHA256_LEN + 1));
    assert_int_equal(verify(str_from(s)), JWT_MALFORMED);
    s = arena_sprintf(arena, "%.*s.%s", (int)signed_part.len, signed_part.p,
                      crypto_b64url(arena, mac, CRYPTO_SHA256_LEN));
    assert_int_equal(verify(str_from(s)), JWT_OK);
}

static void
test_jwt_verify_exp_leeway(void **state)
{
    struct jwt_claims c;
    char *tok;

    (void)state;
    claims_init(&c);
    tok = jwt_sign(arena, k1(), &c);
    assert_int_equal(verify_at(str_from(tok), c.exp), JWT_OK);
    assert_int_equal(verify_at(str_from(tok), c.exp + 29), JWT_OK);
    assert_int_equal(verify_at(str_from(tok), c.exp + JWT_LEEWAY), JWT_OK);
    assert_int_equal(verify_at(str_from(tok), c.exp + 31), JWT_EXPIRED);
    assert_int_equal(verify_at(str_from(tok), INT64_MAX), JWT_EXPIRED);
}

static void
test_jwt_verify_rejects_bad_exp(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, NO_EXP "}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":\"1700000900\"}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":1700000900.5}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":1700000900.0}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":17000009e2}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":true}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":null}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":[1700000900]}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":-1}")), JWT_BAD_CLAIMS);
    /* Past int64: json-c would clamp this to INT64_MAX, a token that never expires. */
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":99999999999999999999999}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_EXP ",\"exp\":9223372036854775807}")), JWT_BAD_CLAIMS);
}

static void
test_jwt_verify_iat(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, NO_IAT "}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_IAT ",\"iat\":\"1700000000\"}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_IAT ",\"iat\":1700000000.5}")), JWT_BAD_CLAIMS);
    /* In the future: within the leeway is clock skew, past it is refused. */
    assert_int_equal(verify(forge(HDR, NO_IAT ",\"iat\":1700000030}")), JWT_OK);
    assert_int_equal(verify(forge(HDR, NO_IAT ",\"iat\":1700000031}")), JWT_BAD_CLAIMS);
}

static void
test_jwt_verify_rejects_bad_sub(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, NO_SUB "}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SUB ",\"sub\":\"5F0C1A2B3C4D5E6F70819203\"}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SUB ",\"sub\":\"5f0c1a2b3c4d5e6f7081920\"}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SUB ",\"sub\":\"5f0c1a2b3c4d5e6f708192031\"}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SUB ",\"sub\":\"5f0c1a2b3c4d5e6f7081920g\"}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SUB ",\"sub\":123456789012345678901234}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SUB ",\"sub\":null}")), JWT_BAD_CLAIMS);
}

static void
test_jwt_verify_rejects_bad_sid(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, NO_SID "}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SID ",\"sid\":\"6A1B2C3D4E5F60718293A4B5\"}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SID ",\"sid\":\"6a1b2c3d\"}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_SID ",\"sid\":{}}")), JWT_BAD_CLAIMS);
}

static void
test_jwt_verify_rejects_bad_role(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, NO_ROLE "}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_ROLE ",\"role\":\"\"}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_ROLE ",\"role\":\"abcdefghijklmnop\"}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_ROLE ",\"role\":\"abcdefghijklmno\"}")), JWT_OK);
    assert_int_equal(verify(forge(HDR, NO_ROLE ",\"role\":1}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_ROLE ",\"role\":[\"admin\"]}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_ROLE ",\"role\":\"ad min\"}")), JWT_BAD_CLAIMS);
}

static void
test_jwt_verify_rejects_bad_jti(void **state)
{
    (void)state;
    assert_int_equal(verify(forge(HDR, NO_JTI "}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_JTI ",\"jti\":\"\"}")), JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_JTI ",\"jti\":\"0123456789abcdef0123456789abcdef0\"}")),
                     JWT_BAD_CLAIMS);
    assert_int_equal(verify(forge(HDR, NO_JTI ",\"jti\":\"0123456789abcdef0123456789abcdef\"}")),
                     JWT_OK);
    assert_int_equal(verify(forge(HDR, NO_JTI ",\"jti\":42}")), JWT_BAD_CLAIMS);
}

/* Claims are read only after the MAC: a bad claim under a bad MAC is a bad signature. */
static void
test_jwt_verify_signature_before_claims(void **state)
{
    (void)state;
    assert_int_equal(verify(forge_with(&other.keys[0], STR_LIT(HDR), STR_LIT(NO_EXP "}"))),
                     JWT_BAD_SIGNATURE);
    assert_int_equal(verify(forge_with(&other.keys[0], STR_LIT(HDR), STR_LIT("not json"))),
                     JWT_BAD_SIGNATURE);
    assert_int_equal(
        verify(forge_with(&other.keys[0], STR_LIT(HDR),
                          STR_LIT("{" SUB "," ROLE "," SID "," JTI "," IAT ",\"exp\":1}"))),
        JWT_BAD_SIGNATURE);
}

static void
test_jwt_verify_zeroes_claims_on_failure(void **state)
{
    struct jwt_claims c;

    (void)state;
    memset(&c, 'x', sizeof(c));
    assert_int_equal(jwt_verify(&ring, forge(HDR, NO_EXP "}"), NOW, &c), JWT_BAD_CLAIMS);
    assert_memory_equal(&c, &(struct jwt_claims){0}, sizeof(c));
    memset(&c, 'x', sizeof(c));
    assert_int_equal(jwt_verify(&ring, forge(HDR, PAYLOAD), NOW + 3600, &c), JWT_EXPIRED);
    assert_memory_equal(&c, &(struct jwt_claims){0}, sizeof(c));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt_sign_round_trip),
        cmocka_unit_test(test_jwt_sign_with_second_key),
        cmocka_unit_test(test_jwt_sign_header_is_exact),
        cmocka_unit_test(test_jwt_sign_rejects_bad_claims),
        cmocka_unit_test(test_jwt_sign_rejects_short_key),
        cmocka_unit_test(test_jwt_sign_arena_full),
        cmocka_unit_test(test_jwt_verify_forged_token_ok),
        cmocka_unit_test(test_jwt_verify_rejects_over_max_jwt),
        cmocka_unit_test(test_jwt_verify_rejects_part_over_max),
        cmocka_unit_test(test_jwt_verify_rejects_wrong_part_count),
        cmocka_unit_test(test_jwt_verify_rejects_bad_base64url),
        cmocka_unit_test(test_jwt_verify_rejects_non_object),
        cmocka_unit_test(test_jwt_verify_rejects_trailing_garbage),
        cmocka_unit_test(test_jwt_verify_rejects_bad_json),
        cmocka_unit_test(test_jwt_verify_rejects_deep_nesting),
        cmocka_unit_test(test_jwt_verify_rejects_duplicate_alg),
        cmocka_unit_test(test_jwt_verify_rejects_duplicate_claim),
        cmocka_unit_test(test_jwt_verify_rejects_invalid_utf8),
        cmocka_unit_test(test_jwt_verify_rejects_lone_surrogate),
        cmocka_unit_test(test_jwt_verify_rejects_embedded_nul),
        cmocka_unit_test(test_jwt_verify_rejects_alg_none),
        cmocka_unit_test(test_jwt_verify_rejects_other_algs),
        cmocka_unit_test(test_jwt_verify_rejects_crit),
        cmocka_unit_test(test_jwt_verify_unknown_kid),
        cmocka_unit_test(test_jwt_verify_other_key_same_kid),
        cmocka_unit_test(test_jwt_verify_kid_swapped),
        cmocka_unit_test(test_jwt_verify_tampered_payload),
        cmocka_unit_test(test_jwt_verify_tampered_signature),
        cmocka_unit_test(test_jwt_verify_exp_leeway),
        cmocka_unit_test(test_jwt_verify_rejects_bad_exp),
        cmocka_unit_test(test_jwt_verify_iat),
        cmocka_unit_test(test_jwt_verify_rejects_bad_sub),
        cmocka_unit_test(test_jwt_verify_rejects_bad_sid),
        cmocka_unit_test(test_jwt_verify_rejects_bad_role),
        cmocka_unit_test(test_jwt_verify_rejects_bad_jti),
        cmocka_unit_test(test_jwt_verify_signature_before_claims),
        cmocka_unit_test(test_jwt_verify_zeroes_claims_on_failure),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
