/*
 * jwt.c - HS256 access tokens: JWS compact serialization (RFC 7515 section 7.1) of JWT
 * claims (RFC 7519). Verification runs in a fixed order that no token can skip: lengths
 * and strict base64url of all three parts; the header as strict JSON; alg exactly "HS256"
 * (RFC 8725 section 3.1: never let the token choose); kid in the ring; the MAC over the
 * exact received "header.payload" bytes, compared in constant time; only then is the
 * payload parsed and its claims read. Nothing in the payload is looked at before the MAC.
 * Both JSON parts go through json.c's strict parser (js_parse_owned): RFC 8259 grammar, no
 * \u0000, no lone surrogates, bounded depth, and a duplicate member at any level makes the
 * token malformed (json-c alone keeps the last of two "alg" members silently).
 */
#include "jwt.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "json.h"
#include "keys.h"

#define JWT_SIG_B64  43  /* base64url bytes of an HMAC-SHA256 */
#define JWT_JSON_MAX 256 /* bytes of the header or payload JSON jwt_sign writes */
/* Latest iat or exp accepted, 9999-12-31T23:59:59Z: keeps exp + JWT_LEEWAY from overflow. */
#define JWT_MAX_TIME INT64_C(253402300799)

static bool
is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* 1..max bytes of [A-Za-z0-9_-]: kid, role, jti. */
static bool
is_token(struct str s, size_t max)
{
    size_t i;

    if (s.len == 0 || s.len > max) {
        return false;
    }
    for (i = 0; i < s.len; i++) {
        if (!is_token_char(s.p[i])) {
            return false;
        }
    }
    return true;
}

/* A fixed char array as a str, or the null str if it holds no NUL. */
static struct str
field(const char *f, size_t size)
{
    size_t n = strnlen(f, size);

    return n < size ? (struct str){f, n} : STR_NULL;
}

static bool
claims_are_valid(const struct jwt_claims *c)
{
    return str_is_oid_hex(field(c->sub, sizeof(c->sub))) &&
           is_token(field(c->role, sizeof(c->role)), sizeof(c->role) - 1) &&
           str_is_oid_hex(field(c->sid, sizeof(c->sid))) &&
           is_token(field(c->jti, sizeof(c->jti)), sizeof(c->jti) - 1) && c->iat >= 0 &&
           c->iat <= JWT_MAX_TIME && c->exp >= 0 && c->exp <= JWT_MAX_TIME;
}

/* Returns the JSON object that is all of p (n bytes), to be put by the caller, or NULL.
 * json.c's strict parser: RFC 8259 only, valid UTF-8, no NUL, no duplicate member at any
 * level (json-c alone would keep the last of two "alg" members). */
static json_object *
parse_object(const unsigned char *p, size_t n)
{
    json_object *o;

    return js_parse_owned((struct str){(const char *)p, n}, &o) == JS_OK ? o : NULL;
}

/* The string member name of o as a str, or false if it is missing or not a string. */
static bool
get_str(json_object *o, const char *name, struct str *out)
{
    json_object *v;

    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string)) {
        return false;
    }
    *out = (struct str){json_object_get_string(v), (size_t)json_object_get_string_len(v)};
    return true;
}

/* An integer claim (no fraction, no exponent, not a string or bool) in [0, JWT_MAX_TIME]. */
static bool
get_time(json_object *o, const char *name, int64_t *out)
{
    json_object *v;

    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int)) {
        return false;
    }
    *out = json_object_get_int64(v); /* past int64 json-c clamps, which the range refuses */
    return *out >= 0 && *out <= JWT_MAX_TIME;
}

static void
copy_field(char *dst, struct str s)
{
    memcpy(dst, s.p, s.len);
    dst[s.len] = '\0';
}

static enum jwt_status
read_claims(json_object *o, struct jwt_claims *c)
{
    struct str sub, role, sid, jti;

    if (!get_str(o, "sub", &sub) || !str_is_oid_hex(sub) || !get_str(o, "role", &role) ||
        !is_token(role, sizeof(c->role) - 1) || !get_str(o, "sid", &sid) || !str_is_oid_hex(sid) ||
        !get_str(o, "jti", &jti) || !is_token(jti, sizeof(c->jti) - 1) ||
        !get_time(o, "iat", &c->iat) || !get_time(o, "exp", &c->exp)) {
        return JWT_BAD_CLAIMS;
    }
    copy_field(c->sub, sub);
    copy_field(c->role, role);
    copy_field(c->sid, sid);
    copy_field(c->jti, jti);
    return JWT_OK;
}

/* alg, then crit (RFC 7515 section 4.1.11: we understand no extension), then kid. */
static enum jwt_status
check_header(json_object *h, const struct keyring *ring, const struct key **k)
{
    struct str alg, kid;

    if (!get_str(h, "alg", &alg) || !str_eq_cstr(alg, "HS256")) {
        return JWT_BAD_ALG;
    }
    if (json_object_object_get_ex(h, "crit", NULL)) {
        return JWT_MALFORMED;
    }
    if (!get_str(h, "kid", &kid) || (*k = keys_get(ring, kid)) == NULL) {
        return JWT_UNKNOWN_KID;
    }
    return JWT_OK;
}

char *
jwt_sign(struct arena *a, const struct key *k, const struct jwt_claims *c)
{
    char header[JWT_JSON_MAX], payload[JWT_JSON_MAX];
    unsigned char mac[CRYPTO_SHA256_LEN];
    size_t hb, pb;
    char *out;
    int hn, pn;

    if (k == NULL || !is_token(field(k->kid, sizeof(k->kid)), MAX_KID) || k->len < MIN_KEY_BYTES ||
        k->len > MAX_KEY_BYTES || !claims_are_valid(c)) {
        return NULL;
    }
    /* Every value was checked above to need no JSON escaping. */
    hn = snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                  k->kid);
    pn = snprintf(payload, sizeof(payload),
                  "{\"sub\":\"%s\",\"role\":\"%s\",\"sid\":\"%s\",\"jti\":\"%s\",\"iat\":%" PRId64
                  ",\"exp\":%" PRId64 "}",
                  c->sub, c->role, c->sid, c->jti, c->iat, c->exp);
    if (hn < 0 || (size_t)hn >= sizeof(header) || pn < 0 || (size_t)pn >= sizeof(payload)) {
        return NULL;
    }
    hb = crypto_b64url_len((size_t)hn);
    pb = crypto_b64url_len((size_t)pn);
    if ((out = arena_alloc(a, hb + 1 + pb + 1 + JWT_SIG_B64 + 1)) == NULL) {
        return NULL;
    }
    crypto_b64url_encode((const unsigned char *)header, (size_t)hn, out);
    out[hb] = '.';
    crypto_b64url_encode((const unsigned char *)payload, (size_t)pn, out + hb + 1);
    out[hb + 1 + pb] = '.';
    crypto_hmac_sha256(k->key, k->len, out, hb + 1 + pb, mac);
    crypto_b64url_encode(mac, sizeof(mac), out + hb + 1 + pb + 1);
    return out;
}

/* Splits token into its three parts; fails unless there are exactly two dots. */
static int
split(struct str token, struct str parts[3])
{
    struct str rest = token;
    int i;

    for (i = 0; i < 2; i++) {
        if ((rest = str_cut(rest, '.', &parts[i])).p == NULL) {
            return -1;
        }
    }
    parts[2] = rest;
    return memchr(rest.p, '.', rest.len) == NULL ? 0 : -1;
}

enum jwt_status
jwt_verify(const struct keyring *ring, struct str token, int64_t now, struct jwt_claims *out)
{
    unsigned char hbuf[MAX_JWT_PART], pbuf[MAX_JWT_PART], sig[CRYPTO_SHA256_LEN];
    unsigned char mac[CRYPTO_SHA256_LEN];
    json_object *header = NULL, *payload = NULL;
    const struct key *k = NULL;
    struct jwt_claims c;
    struct str parts[3];
    size_t hn, pn, sn;
    enum jwt_status st = JWT_MALFORMED;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    if (token.len == 0 || token.len > MAX_JWT || split(token, parts) == -1 ||
        crypto_b64url_decode(parts[0], hbuf, sizeof(hbuf), &hn) == -1 ||
        crypto_b64url_decode(parts[1], pbuf, sizeof(pbuf), &pn) == -1 ||
        crypto_b64url_decode(parts[2], sig, sizeof(sig), &sn) == -1 ||
        (header = parse_object(hbuf, hn)) == NULL) {
        goto out;
    }
    if ((st = check_header(header, ring, &k)) != JWT_OK) {
        goto out;
    }
    /* The MAC covers the received bytes, not a re-encoding of what we parsed. */
    crypto_hmac_sha256(k->key, k->len, token.p, parts[0].len + 1 + parts[1].len, mac);
    if (sn != sizeof(mac) || !crypto_eq(mac, sig, sizeof(mac))) {
        st = JWT_BAD_SIGNATURE;
        goto out;
    }
    if ((payload = parse_object(pbuf, pn)) == NULL) {
        st = JWT_MALFORMED;
        goto out;
    }
    if ((st = read_claims(payload, &c)) != JWT_OK) {
        goto out;
    }
    if (c.exp + JWT_LEEWAY < now) {
        st = JWT_EXPIRED;
    } else if (c.iat - JWT_LEEWAY > now) {
        st = JWT_BAD_CLAIMS;
    } else {
        *out = c;
    }
out:
    json_object_put(payload);
    json_object_put(header);
    return st;
}
