/*
 * slink.h - signed media links (DESIGN.md section 6): /media/<token>/<videoId>/<path>,
 * token "<kid>.<expiry>.<base64url HMAC-SHA256(key, kid|videoId|expiry)>". One token
 * covers every file under the video, so HLS players follow relative URLs unchanged.
 */
#ifndef STREMORA_SLINK_H
#define STREMORA_SLINK_H

#include <stdint.h>

#include "str.h"

struct arena;
struct key;
struct keyring;

#define SLINK_TTL 3600 /* seconds a media link lives by default */

enum slink_status {
    SLINK_OK,
    SLINK_MALFORMED,   /* token or video id not of the form above */
    SLINK_UNKNOWN_KID, /* kid not in the ring */
    SLINK_BAD_MAC,     /* the MAC does not match */
    SLINK_EXPIRED,     /* now > expiry */
};

/* Returns the token for video_id (24 lowercase hex) valid until expiry (unix seconds), in
 * a; NULL if a is full, video_id is not an ObjectId, expiry < 0, or k is unfit. */
char *slink_sign(struct arena *a, const struct key *k, struct str video_id, int64_t expiry);
/* Checks token for video_id at time now. Returns SLINK_OK or the first failure found;
 * the MAC is checked before the expiry, so SLINK_EXPIRED means a genuine old link. */
enum slink_status slink_verify(const struct keyring *ring, struct str token, struct str video_id,
                               int64_t now);
/* Returns 1 if path (what follows /media/<token>/<videoId>/) is 1..255 bytes of
 * [A-Za-z0-9._-] segments joined by single '/', none "." or "..", else 0. */
int slink_path_is_safe(struct str path);

#endif
