/*
 * tus.c - the tus 1.0 header grammar (tus.h). Base64 is decoded here rather than with
 * OpenSSL's EVP_DecodeBlock, which skips whitespace and ignores trailing bits: a value has
 * one accepted spelling. Digests come from OpenSSL's EVP.
 */
#include "tus.h"

#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "arena.h"
#include "bounds.h"
#include "log.h"

static int
b64_value(unsigned char c)
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
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int
tus_b64_decode(struct str s, unsigned char *out, size_t cap, size_t *len)
{
    size_t i, pad = 0, n = 0;
    uint32_t acc = 0;

    if (s.len % 4 != 0) {
        return -1;
    }
    if (s.len > 0 && s.p[s.len - 1] == '=') {
        pad = s.len > 1 && s.p[s.len - 2] == '=' ? 2 : 1;
    }
    if ((s.len / 4) * 3 - pad > cap) {
        return -1;
    }
    for (i = 0; i < s.len - pad; i++) {
        int v = b64_value((unsigned char)s.p[i]);

        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        if (i % 4 == 3) {
            out[n++] = (unsigned char)(acc >> 16);
            out[n++] = (unsigned char)(acc >> 8);
            out[n++] = (unsigned char)acc;
            acc = 0;
        }
    }
    if (pad == 1) { /* 3 characters: 18 bits, the last 2 must be zero */
        if ((acc & 0x3) != 0) {
            return -1;
        }
        out[n++] = (unsigned char)(acc >> 10);
        out[n++] = (unsigned char)(acc >> 2);
    } else if (pad == 2) { /* 2 characters: 12 bits, the last 4 must be zero */
        if ((acc & 0xf) != 0) {
            return -1;
        }
        out[n++] = (unsigned char)(acc >> 4);
    }
    *len = n;
    return 0;
}

/* A metadata key: printable ASCII without space or comma (the protocol's rule). */
static bool
key_ok(struct str k)
{
    size_t i;

    if (k.len == 0 || k.len > MAX_TUS_KEY) {
        return false;
    }
    for (i = 0; i < k.len; i++) {
        unsigned char c = (unsigned char)k.p[i];

        if (c <= ' ' || c >= 0x7f || c == ',') {
            return false;
        }
    }
    return true;
}

int
tus_metadata_parse(struct arena *a, struct str header, struct tus_pair *out, size_t max)
{
    struct str rest = header, item;
    size_t n = 0, j;

    if (header.p == NULL || header.len == 0) {
        return 0;
    }
    if (header.len > MAX_TUS_METADATA) {
        return -1;
    }
    while (rest.p != NULL) {
        struct str key, value;
        unsigned char *buf;
        size_t len;

        rest = str_cut(rest, ',', &item);
        item = str_trim(item);
        value = str_cut(item, ' ', &key);
        if (!key_ok(key) || n == max) {
            return -1;
        }
        for (j = 0; j < n; j++) {
            if (str_eq(out[j].key, key)) {
                return -1;
            }
        }
        if (value.p == NULL) {
            value = STR_LIT("");
        }
        if ((buf = arena_alloc(a, value.len / 4 * 3 + 1)) == NULL ||
            tus_b64_decode(value, buf, value.len / 4 * 3, &len) == -1) {
            return -1;
        }
        buf[len] = '\0';
        out[n].key = key;
        out[n].value = (struct str){(const char *)buf, len};
        n++;
    }
    return (int)n;
}

struct str
tus_metadata_get(const struct tus_pair *pairs, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (str_eq_cstr(pairs[i].key, key)) {
            return pairs[i].value;
        }
    }
    return STR_NULL;
}

enum tus_checksum_result
tus_checksum_parse(struct str header, struct tus_checksum *out)
{
    struct str name, digest;
    size_t want, i;

    digest = str_cut(header, ' ', &name);
    if (name.len == 0 || digest.p == NULL || digest.len == 0) {
        return TUS_CHECKSUM_BAD;
    }
    if (str_eq_cstr(name, "sha1")) {
        out->algo = TUS_SHA1;
        want = 20;
    } else if (str_eq_cstr(name, "sha256")) {
        out->algo = TUS_SHA256;
        want = 32;
    } else {
        for (i = 0; i < name.len; i++) {
            char c = name.p[i];

            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                return TUS_CHECKSUM_BAD;
            }
        }
        return name.len <= 32 ? TUS_CHECKSUM_UNSUPPORTED : TUS_CHECKSUM_BAD;
    }
    if (tus_b64_decode(digest, out->digest, sizeof(out->digest), &out->len) == -1 ||
        out->len != want) {
        return TUS_CHECKSUM_BAD;
    }
    return TUS_CHECKSUM_OK;
}

int
tus_number_parse(struct str s, uint64_t max, uint64_t *out)
{
    /* str_to_u64 takes digits only: no sign, no space, no empty string. */
    return s.p == NULL || s.len > 20 ? -1 : str_to_u64(s, 0, max, out);
}

void
tus_http_date(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

struct tus_hash {
    EVP_MD_CTX *ctx;
    bool failed;
};

static void
md_free(void *p)
{
    EVP_MD_CTX_free(p);
}

struct tus_hash *
tus_hash_begin(struct arena *a, enum tus_algo algo)
{
    struct tus_hash *h = arena_alloc(a, sizeof(*h));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (h == NULL || ctx == NULL ||
        EVP_DigestInit_ex(ctx, algo == TUS_SHA1 ? EVP_sha1() : EVP_sha256(), NULL) != 1 ||
        arena_defer(a, md_free, ctx) == -1) {
        EVP_MD_CTX_free(ctx);
        log_ev(LOG_ERROR, "checksum_failed", "cannot start a digest");
        return NULL;
    }
    h->ctx = ctx;
    h->failed = false;
    return h;
}

void
tus_hash_add(struct tus_hash *h, const void *p, size_t n)
{
    if (!h->failed && EVP_DigestUpdate(h->ctx, p, n) != 1) {
        h->failed = true;
    }
}

bool
tus_hash_matches(struct tus_hash *h, const struct tus_checksum *c)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (h->failed || EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != c->len) {
        return false; /* a digest we could not compute never matches */
    }
    return CRYPTO_memcmp(md, c->digest, len) == 0;
}
