/*
 * fuzz_tus.c - libFuzzer target for the tus header grammar (common/tus.c). The first byte
 * of an input picks the parser for the rest:
 *   0: Upload-Metadata;  1: standard base64;  2: Upload-Checksum;  3: an offset or length.
 * Properties: parsed metadata has unique, well-formed keys and, written out again (OpenSSL's
 * encoder), parses to the same pairs; accepted base64 is the one spelling OpenSSL's encoder
 * gives for what it decoded to; an accepted checksum has its algorithm's digest length; an
 * accepted number prints back as the input.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "arena.h"
#include "bounds.h"
#include "tus.h"

static struct arena *arena;

/* base64 of p (n bytes) into out, NUL-terminated; returns its length. */
static size_t
encode(const unsigned char *p, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

static void
metadata(const char *s, size_t n)
{
    struct tus_pair pairs[MAX_TUS_PAIRS], again[MAX_TUS_PAIRS];
    static char line[4 * MAX_TUS_METADATA + 64];
    int k = tus_metadata_parse(arena, (struct str){s, n}, pairs, MAX_TUS_PAIRS), i, j;
    size_t len = 0;

    if (k <= 0) {
        return;
    }
    for (i = 0; i < k; i++) {
        assert(pairs[i].key.len > 0 && pairs[i].key.len <= MAX_TUS_KEY);
        for (j = 0; j < i; j++) {
            assert(!str_eq(pairs[i].key, pairs[j].key));
        }
        len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%.*s ", i > 0 ? "," : "",
                                (int)pairs[i].key.len, pairs[i].key.p);
        len += encode((const unsigned char *)pairs[i].value.p, pairs[i].value.len, line + len);
    }
    assert(tus_metadata_parse(arena, (struct str){line, len}, again, MAX_TUS_PAIRS) == k);
    for (i = 0; i < k; i++) {
        assert(str_eq(pairs[i].key, again[i].key) && str_eq(pairs[i].value, again[i].value));
    }
}

static void
base64(const char *s, size_t n)
{
    static unsigned char out[MAX_TUS_METADATA];
    static char back[2 * MAX_TUS_METADATA];
    size_t len;

    if (n > MAX_TUS_METADATA || tus_b64_decode((struct str){s, n}, out, sizeof(out), &len) == -1) {
        return;
    }
    assert(encode(out, len, back) == n && memcmp(back, s, n) == 0);
}

static void
checksum(const char *s, size_t n)
{
    struct tus_checksum c;

    if (tus_checksum_parse((struct str){s, n}, &c) == TUS_CHECKSUM_OK) {
        assert(c.len == (c.algo == TUS_SHA1 ? 20u : 32u));
    }
}

static void
number(const char *s, size_t n)
{
    char back[32];
    uint64_t v;

    if (tus_number_parse((struct str){s, n}, UINT64_MAX, &v) == 0) {
        assert((size_t)snprintf(back, sizeof(back), "%llu", (unsigned long long)v) == n &&
               memcmp(back, s, n) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data + 1;

    if (size == 0) {
        return 0;
    }
    if (arena == NULL && (arena = arena_new(1u << 20)) == NULL) {
        return 0;
    }
    switch (data[0] % 4) {
    case 0:
        metadata(s, size - 1);
        break;
    case 1:
        base64(s, size - 1);
        break;
    case 2:
        checksum(s, size - 1);
        break;
    default:
        number(s, size - 1);
        break;
    }
    arena_reset(arena);
    return 0;
}
