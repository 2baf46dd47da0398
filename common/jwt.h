/*
 * jwt.h - access tokens: JWT (RFC 7519) in JWS compact form (RFC 7515) with HS256 only.
 * The header's alg is checked, never trusted; keys come from the ring by the header's kid.
 */
#ifndef STREMORA_JWT_H
#define STREMORA_JWT_H

#include <stdint.h>

#include "str.h"

struct arena;
struct key;
struct keyring;

#define JWT_ACCESS_TTL 900 /* seconds an access token lives */
#define JWT_LEEWAY     30  /* seconds of clock skew allowed on exp and iat */

/* Every claim is required. Strings are NUL-terminated; ids are 24 lowercase hex digits,
 * role and jti are [A-Za-z0-9_-]; iat and exp are unix seconds. */
struct jwt_claims {
    char sub[25];  /* user id: a 24-hex ObjectId */
    char role[16]; /* 1..15 bytes */
    char sid[25];  /* session family id, 24-hex */
    char jti[33];  /* token id, 1..32 bytes */
    int64_t iat;
    int64_t exp;
};

enum jwt_status {
    JWT_OK,
    JWT_MALFORMED,     /* not three strict base64url parts of JSON objects we accept */
    JWT_BAD_ALG,       /* alg missing or not exactly "HS256" */
    JWT_UNKNOWN_KID,   /* kid missing, or not in the ring */
    JWT_BAD_SIGNATURE, /* the MAC does not match */
    JWT_EXPIRED,       /* now > exp + JWT_LEEWAY */
    JWT_BAD_CLAIMS,    /* a claim missing, of the wrong type or form, or iat in the future */
};

/* Returns "header.payload.signature" signed with k, in a; NULL if a is full or c would
 * not verify (a claim of the wrong form, iat or exp out of range) or k is unfit. */
char *jwt_sign(struct arena *a, const struct key *k, const struct jwt_claims *c);
/* Checks token against ring at time now (unix seconds). Returns JWT_OK and fills *out,
 * or the first failure found (then *out is zeroed). Allocates nothing the caller frees. */
enum jwt_status jwt_verify(const struct keyring *ring, struct str token, int64_t now,
                           struct jwt_claims *out);

#endif
