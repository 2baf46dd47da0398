/*
 * fuzz_slink.c - libFuzzer target for signed media links. The first byte of an input
 * picks what the rest is:
 *   0: "<token>\n<videoId>", verified as it is;
 *   1: 12 bytes of video id, 8 of expiry, then (position, byte) pairs that edit the token
 *      slink_sign made from them;
 *   2: a media path for slink_path_is_safe.
 * Properties: a token that verifies is byte for byte the token slink_sign makes for its
 * kid, video and expiry (only the exact signed token verifies); a signed token verifies,
 * not for another video, and is expired one second after its expiry; an edited token
 * verifies only if unchanged; slink_path_is_safe agrees with a second, simpler reading.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "crypto.h"
#include "keys.h"
#include "slink.h"

#define NOW 1700000000

static struct keyring ring; /* k1, k2 */
static struct arena *arena;

static void
init(void)
{
    size_t i;

    memcpy(ring.keys[0].kid, "k1", 3);
    memcpy(ring.keys[1].kid, "k2", 3);
    for (i = 0; i < 32; i++) {
        ring.keys[0].key[i] = (unsigned char)(i + 1);
        ring.keys[1].key[i] = (unsigned char)(i + 101);
    }
    ring.keys[0].len = ring.keys[1].len = 32;
    ring.n = 2;
    arena = arena_new(MAX_REQ_ARENA);
    assert(arena != NULL);
}

/* Mode 0: whatever verifies must be what slink_sign makes for the same inputs. */
static void
verify_raw(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n), *dot1, *dot2;
    struct str token = {p, nl != NULL ? (size_t)(nl - p) : n};
    struct str vid = {p + token.len + 1, nl != NULL ? n - token.len - 1 : 0};
    const struct key *k;
    uint64_t expiry;
    char *again;

    if (nl == NULL) {
        vid.p = p;
    }
    if (slink_verify(&ring, token, vid, NOW) != SLINK_OK) {
        return;
    }
    dot1 = memchr(token.p, '.', token.len);
    assert(dot1 != NULL);
    dot2 = memchr(dot1 + 1, '.', token.len - (size_t)(dot1 + 1 - token.p));
    assert(dot2 != NULL);
    k = keys_get(&ring, (struct str){token.p, (size_t)(dot1 - token.p)});
    assert(k != NULL);
    assert(str_to_u64((struct str){dot1 + 1, (size_t)(dot2 - dot1 - 1)}, 0, INT64_MAX, &expiry) ==
           0);
    assert((int64_t)expiry >= NOW);
    again = slink_sign(arena, k, vid, (int64_t)expiry);
    assert(again != NULL && str_eq(str_from(again), token));
}

/* Mode 1: sign, check the token, then edit it. */
static void
sign_and_edit(const uint8_t *p, size_t n)
{
    char vid[25], other[25], tok[128];
    uint64_t bits = 0;
    int64_t expiry;
    const char *t;
    size_t i, len;

    if (n < 20) {
        return;
    }
    crypto_hex(p, 12, vid);
    memcpy(other, vid, sizeof(other));
    other[23] = other[23] == '0' ? '1' : '0';
    for (i = 12; i < 20; i++) {
        bits = bits << 8 | p[i];
    }
    expiry = (int64_t)(bits & INT64_MAX);
    t = slink_sign(arena, &ring.keys[p[0] & 1], str_from(vid), expiry);
    assert(t != NULL);
    len = strlen(t);
    assert(len < sizeof(tok));
    assert(slink_verify(&ring, str_from(t), str_from(vid), expiry) == SLINK_OK);
    assert(slink_verify(&ring, str_from(t), str_from(other), expiry) == SLINK_BAD_MAC);
    if (expiry < INT64_MAX) {
        assert(slink_verify(&ring, str_from(t), str_from(vid), expiry + 1) == SLINK_EXPIRED);
    }
    memcpy(tok, t, len);
    for (i = 20; i + 1 < n; i += 2) {
        tok[(size_t)p[i] % len] = (char)p[i + 1];
    }
    if (slink_verify(&ring, (struct str){tok, len}, str_from(vid), 0) == SLINK_OK) {
        assert(memcmp(tok, t, len) == 0);
    }
}

/* The path rule read a second way: split on '/', judge each segment alone. */
static int
path_oracle(const char *p, size_t n)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    size_t start = 0, end, i;

    if (n < 1 || n > 255) {
        return 0;
    }
    while (start <= n) {
        const char *slash = memchr(p + start, '/', n - start);

        end = slash != NULL ? (size_t)(slash - p) : n;
        if (end == start) {
            return 0;
        }
        if ((end - start == 1 && p[start] == '.') ||
            (end - start == 2 && p[start] == '.' && p[start + 1] == '.')) {
            return 0;
        }
        for (i = start; i < end; i++) {
            if (p[i] == '\0' || strchr(ok, p[i]) == NULL) {
                return 0;
            }
        }
        start = end + 1;
    }
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1;
    int safe;

    if (arena == NULL) {
        init();
    }
    if (size == 0) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        verify_raw(p, size - 1);
        break;
    case 1:
        sign_and_edit(data + 1, size - 1);
        break;
    default:
        safe = slink_path_is_safe((struct str){p, size - 1});
        assert(safe == path_oracle(p, size - 1));
        if (safe) {
            assert(memchr(p, '%', size - 1) == NULL && memchr(p, '\0', size - 1) == NULL);
            assert(p[0] != '/' && p[size - 2] != '/');
        }
        break;
    }
    arena_reset(arena);
    return 0;
}
