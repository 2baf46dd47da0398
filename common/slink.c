/*
 * slink.c - signed media links, in the spirit of nginx's ngx_http_secure_link_module:
 * every length is checked before anything is decoded, the MAC is compared in constant
 * time, and "bad link" (a status) stays apart from "we failed" (there is no such case
 * here: verifying allocates nothing). The MAC is computed over the expiry digits as
 * received; str_to_u64 refuses leading zeros, so those digits are the only spelling of
 * the number and signer and verifier hash the same bytes. nginx serves the file; this
 * file only decides, and slink_path_is_safe keeps the path inside the video's directory.
 */
#include "slink.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "keys.h"

#define SLINK_MAC_B64    43 /* base64url bytes of an HMAC-SHA256 */
#define SLINK_EXPIRY_MAX 19 /* decimal digits of INT64_MAX */
_Static_assert(MAX_SLINK_TOKEN >= MAX_KID + 1 + SLINK_EXPIRY_MAX + 1 + SLINK_MAC_B64,
               "MAX_SLINK_TOKEN holds the longest token");
/* Bytes of the signed message kid "|" videoId "|" expiry. */
#define SLINK_MSG (MAX_KID + 1 + STR_OID_HEX + 1 + SLINK_EXPIRY_MAX)

static bool
is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool
is_kid(struct str s)
{
    size_t i;

    if (s.len == 0 || s.len > MAX_KID) {
        return false;
    }
    for (i = 0; i < s.len; i++) {
        if (!is_name_char(s.p[i])) {
            return false;
        }
    }
    return true;
}

/* HMAC-SHA256(k, kid "|" video_id "|" expiry); every part was length-checked. */
static void
link_mac(const struct key *k, struct str kid, struct str video_id, struct str expiry,
         unsigned char mac[CRYPTO_SHA256_LEN])
{
    char msg[SLINK_MSG];
    size_t n = 0;

    memcpy(msg, kid.p, kid.len);
    n += kid.len;
    msg[n++] = '|';
    memcpy(msg + n, video_id.p, video_id.len);
    n += video_id.len;
    msg[n++] = '|';
    memcpy(msg + n, expiry.p, expiry.len);
    n += expiry.len;
    crypto_hmac_sha256(k->key, k->len, msg, n, mac);
}

char *
slink_sign(struct arena *a, const struct key *k, struct str video_id, int64_t expiry)
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    char digits[SLINK_EXPIRY_MAX + 1], b64[SLINK_MAC_B64 + 1];
    struct str kid;

    if (k == NULL || k->len < MIN_KEY_BYTES || k->len > MAX_KEY_BYTES ||
        !str_is_oid_hex(video_id) || expiry < 0) {
        return NULL;
    }
    kid = (struct str){k->kid, strnlen(k->kid, sizeof(k->kid))};
    if (!is_kid(kid)) {
        return NULL;
    }
    snprintf(digits, sizeof(digits), "%" PRId64, expiry);
    link_mac(k, kid, video_id, str_from(digits), mac);
    crypto_b64url_encode(mac, sizeof(mac), b64);
    return arena_sprintf(a, "%s.%s.%s", k->kid, digits, b64);
}

enum slink_status
slink_verify(const struct keyring *ring, struct str token, struct str video_id, int64_t now)
{
    unsigned char mac[CRYPTO_SHA256_LEN], got[CRYPTO_SHA256_LEN];
    struct str kid, expiry, rest, b64;
    const struct key *k;
    uint64_t exp;
    size_t n;

    if (token.len > MAX_SLINK_TOKEN || !str_is_oid_hex(video_id)) {
        return SLINK_MALFORMED;
    }
    if ((rest = str_cut(token, '.', &kid)).p == NULL ||
        (b64 = str_cut(rest, '.', &expiry)).p == NULL) {
        return SLINK_MALFORMED;
    }
    if (!is_kid(kid) || b64.len != SLINK_MAC_B64 || str_to_u64(expiry, 0, INT64_MAX, &exp) == -1 ||
        crypto_b64url_decode(b64, got, sizeof(got), &n) == -1 || n != sizeof(got)) {
        return SLINK_MALFORMED;
    }
    if ((k = keys_get(ring, kid)) == NULL) {
        return SLINK_UNKNOWN_KID;
    }
    link_mac(k, kid, video_id, expiry, mac);
    if (!crypto_eq(mac, got, sizeof(mac))) {
        return SLINK_BAD_MAC;
    }
    return (int64_t)exp < now ? SLINK_EXPIRED : SLINK_OK;
}

int
slink_path_is_safe(struct str path)
{
    size_t i, seg = 0;

    if (path.len == 0 || path.len > MAX_MEDIA_PATH) {
        return 0;
    }
    for (i = 0; i <= path.len; i++) {
        if (i == path.len || path.p[i] == '/') {
            size_t n = i - seg;

            /* Empty segments are a leading, trailing or doubled '/'. */
            if (n == 0 || (n <= 2 && memcmp(path.p + seg, "..", n) == 0)) {
                return 0;
            }
            seg = i + 1;
        } else if (!is_name_char(path.p[i]) && path.p[i] != '.') {
            return 0;
        }
    }
    return 1;
}
