/*
 * tus.h - the header grammar of tus 1.0 (https://tus.io/protocols/resumable-upload),
 * parsed strictly because every byte comes from the client: Upload-Metadata (comma
 * separated "key base64value" pairs, keys unique, values standard base64 with padding, a
 * key alone meaning an empty value), Upload-Checksum ("sha1|sha256 base64digest") and the
 * offsets and lengths (decimal, no sign, no spaces). fcgi/uploads.c speaks the protocol.
 */
#ifndef STREMORA_TUS_H
#define STREMORA_TUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

struct arena;

#define TUS_VERSION    "1.0.0"
#define TUS_EXTENSIONS "creation,creation-with-upload,termination,expiration,checksum"
#define TUS_CHECKSUMS  "sha1,sha256"

struct tus_pair {
    struct str key;   /* points into the header */
    struct str value; /* decoded, in the arena; NUL-terminated beyond len */
};

/* Parses an Upload-Metadata value into at most max pairs. Returns the number of pairs, or
 * -1 for anything malformed: empty or non-token key, a key twice, bad base64, more than max
 * pairs, a header over MAX_TUS_METADATA bytes. */
int tus_metadata_parse(struct arena *a, struct str header, struct tus_pair *out, size_t max);
/* The value of key in pairs, or STR_NULL. */
struct str tus_metadata_get(const struct tus_pair *pairs, size_t n, const char *key);

enum tus_algo { TUS_SHA1, TUS_SHA256 };
#define TUS_DIGEST_MAX 32

struct tus_checksum {
    enum tus_algo algo;
    unsigned char digest[TUS_DIGEST_MAX];
    size_t len; /* 20 for sha1, 32 for sha256 */
};

enum tus_checksum_result { TUS_CHECKSUM_OK, TUS_CHECKSUM_BAD, TUS_CHECKSUM_UNSUPPORTED };
/* Parses an Upload-Checksum value. TUS_CHECKSUM_UNSUPPORTED: a well-formed name of an
 * algorithm we do not offer; TUS_CHECKSUM_BAD: anything else malformed. */
enum tus_checksum_result tus_checksum_parse(struct str header, struct tus_checksum *out);

/* Parses a decimal offset or length in [0, max]. Returns 0 or -1. */
int tus_number_parse(struct str s, uint64_t max, uint64_t *out);

/* Strict standard base64 (RFC 4648 section 4, padded): decodes s into out (cap bytes).
 * Returns 0 with *len set, or -1. */
int tus_b64_decode(struct str s, unsigned char *out, size_t cap, size_t *len);

/* Formats ms since the epoch as an HTTP date (RFC 9110 IMF-fixdate) into out. */
void tus_http_date(int64_t ms, char out[32]);

/* A running checksum over a PATCH body. */
struct tus_hash;
struct tus_hash *tus_hash_begin(struct arena *a, enum tus_algo algo);
void tus_hash_add(struct tus_hash *h, const void *p, size_t n);
/* True if what was added has the digest c names (constant time). */
bool tus_hash_matches(struct tus_hash *h, const struct tus_checksum *c);

#endif
