/*
 * test_slink.c - signed media links: the token's exact form (checked against an HMAC
 * computed here), each tampered part, every malformed shape, expiry, and the paths
 * slink_path_is_safe must refuse (traversal, absolute, empty segments, encodings).
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
#include "keys.h"
#include "slink.h"

#include "fixtures.h"

#define NOW    1700000000
#define EXPIRY 1700003600
#define VID    "65a1b2c3d4e5f60718293a4b"
#define VID2   "65a1b2c3d4e5f60718293a4c"

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

static struct str
sign(const char *vid, int64_t expiry)
{
    char *t = slink_sign(arena, &ring.keys[0], str_from(vid), expiry);

    assert_non_null(t);
    return str_from(t);
}

static enum slink_status
verify(const char *token, const char *vid, int64_t now)
{
    return slink_verify(&ring, str_from(token), str_from(vid), now);
}

/* "k1.<expiry>.<mac>" with the MAC computed here from the spec, not by slink.c. */
static const char *
by_hand(const struct key *k, const char *vid, const char *expiry)
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    char *msg = arena_sprintf(arena, "%s|%s|%s", k->kid, vid, expiry);

    assert_non_null(msg);
    crypto_hmac_sha256(k->key, k->len, msg, strlen(msg), mac);
    return arena_sprintf(arena, "%s.%s.%s", k->kid, expiry, crypto_b64url(arena, mac, 32));
}

static void
test_slink_sign_exact_form(void **state)
{
    struct str t;

    (void)state;
    t = sign(VID, EXPIRY);
    assert_string_equal(t.p, by_hand(&ring.keys[0], VID, "1700003600"));
    assert_int_equal(t.len, strlen("k1.1700003600.") + 43);
}

static void
test_slink_sign_round_trip(void **state)
{
    struct str t;

    (void)state;
    t = sign(VID, EXPIRY);
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID), NOW), SLINK_OK);
    t = str_from(slink_sign(arena, &ring.keys[1], STR_LIT(VID), 0));
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID), 0), SLINK_OK);
    t = str_from(slink_sign(arena, &ring.keys[1], STR_LIT(VID), INT64_MAX));
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID), NOW), SLINK_OK);
}

static void
test_slink_sign_rejects_bad_input(void **state)
{
    struct key k = ring.keys[0];
    struct arena *small = arena_new(16);

    (void)state;
    assert_null(slink_sign(arena, &ring.keys[0], STR_LIT("65A1B2C3D4E5F60718293A4B"), EXPIRY));
    assert_null(slink_sign(arena, &ring.keys[0], STR_LIT("65a1b2c3d4e5f60718293a4"), EXPIRY));
    assert_null(slink_sign(arena, &ring.keys[0], STR_LIT(VID "0"), EXPIRY));
    assert_null(slink_sign(arena, &ring.keys[0], STR_LIT(VID), -1));
    k.len = MIN_KEY_BYTES - 1;
    assert_null(slink_sign(arena, &k, STR_LIT(VID), EXPIRY));
    assert_null(slink_sign(arena, NULL, STR_LIT(VID), EXPIRY));
    assert_non_null(small);
    assert_null(slink_sign(small, &ring.keys[0], STR_LIT(VID), EXPIRY));
    arena_free(small);
}

static void
test_slink_verify_tampered_mac(void **state)
{
    struct str t = sign(VID, EXPIRY);
    char *s = arena_strndup(arena, t.p, t.len);
    size_t i = t.len - 10;

    (void)state;
    s[i] = s[i] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(s, VID, NOW), SLINK_BAD_MAC);
    /* The last character holds 4 MAC bits and 2 zero bits: 'A' <-> 'E' flips a MAC bit. */
    s = arena_strndup(arena, t.p, t.len);
    s[t.len - 1] = s[t.len - 1] == 'A' ? 'E' : 'A';
    assert_int_equal(verify(s, VID, NOW), SLINK_BAD_MAC);
}

static void
test_slink_verify_tampered_expiry(void **state)
{
    struct str t = sign(VID, EXPIRY);
    char *s = arena_strndup(arena, t.p, t.len);

    (void)state;
    memcpy(s + 3, "1700003601", 10);
    assert_int_equal(verify(s, VID, NOW), SLINK_BAD_MAC);
    memcpy(s + 3, "9700003600", 10);
    assert_int_equal(verify(s, VID, NOW), SLINK_BAD_MAC);
}

static void
test_slink_verify_tampered_video_id(void **state)
{
    struct str t = sign(VID, EXPIRY);

    (void)state;
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID2), NOW), SLINK_BAD_MAC);
}

static void
test_slink_verify_tampered_kid(void **state)
{
    struct str t = sign(VID, EXPIRY);
    char *s = arena_strndup(arena, t.p, t.len);

    (void)state;
    s[1] = '2'; /* k2 is in the ring, but did not make this MAC */
    assert_int_equal(verify(s, VID, NOW), SLINK_BAD_MAC);
}

static void
test_slink_verify_bad_video_id(void **state)
{
    struct str t = sign(VID, EXPIRY);

    (void)state;
    assert_int_equal(slink_verify(&ring, t, STR_LIT("65A1B2C3D4E5F60718293A4B"), NOW),
                     SLINK_MALFORMED);
    assert_int_equal(slink_verify(&ring, t, STR_LIT("65a1b2c3d4e5f60718293a4"), NOW),
                     SLINK_MALFORMED);
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID "0"), NOW), SLINK_MALFORMED);
    assert_int_equal(slink_verify(&ring, t, STR_LIT("65a1b2c3d4e5f60718293a4g"), NOW),
                     SLINK_MALFORMED);
    assert_int_equal(slink_verify(&ring, t, STR_LIT("../../../../etc/passwd00"), NOW),
                     SLINK_MALFORMED);
    assert_int_equal(slink_verify(&ring, t, STR_NULL, NOW), SLINK_MALFORMED);
}

static void
test_slink_verify_expiry(void **state)
{
    struct str t = sign(VID, EXPIRY);

    (void)state;
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID), EXPIRY), SLINK_OK);
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID), EXPIRY + 1), SLINK_EXPIRED);
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID), INT64_MAX), SLINK_EXPIRED);
}

/* The MAC is checked first: an expired link with a bad MAC is a bad MAC. */
static void
test_slink_verify_mac_before_expiry(void **state)
{
    struct str t = sign(VID, EXPIRY);

    (void)state;
    assert_int_equal(slink_verify(&ring, t, STR_LIT(VID2), EXPIRY + 1), SLINK_BAD_MAC);
}

static void
test_slink_verify_unknown_kid(void **state)
{
    (void)state;
    assert_int_equal(verify(by_hand(&(struct key){"k9", {1}, 32}, VID, "1700003600"), VID, NOW),
                     SLINK_UNKNOWN_KID);
    assert_int_equal(verify(by_hand(&(struct key){"K1", {1}, 32}, VID, "1700003600"), VID, NOW),
                     SLINK_UNKNOWN_KID);
}

static void
test_slink_verify_other_key_same_kid(void **state)
{
    char *t = slink_sign(arena, &other.keys[0], STR_LIT(VID), EXPIRY);

    (void)state;
    assert_non_null(t);
    assert_int_equal(verify(t, VID, NOW), SLINK_BAD_MAC);
    assert_int_equal(slink_verify(&other, str_from(t), STR_LIT(VID), NOW), SLINK_OK);
}

static void
test_slink_verify_malformed(void **state)
{
    const char *mac = strrchr(sign(VID, EXPIRY).p, '.') + 1;
    char *s;

    (void)state;
    assert_int_equal(strlen(mac), 43);
    assert_int_equal(verify("", VID, NOW), SLINK_MALFORMED);
    assert_int_equal(verify("k1", VID, NOW), SLINK_MALFORMED);
    assert_int_equal(verify("k1.1700003600", VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.1700003600%s", mac); /* one dot */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.1700003600.%s.", mac); /* three */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.1700003600.%.20s.%s", mac, mac + 21);
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, ".1700003600.%s", mac); /* empty kid */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k/1.1700003600.%s", mac);
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k23456789012345678901234567890123.1700003600.%s", mac);
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1..%s", mac); /* empty expiry */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.01700003600.%s", mac); /* a second spelling of the number */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.+1700003600.%s", mac);
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.-1.%s", mac);
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.1700003600 .%s", mac);
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.9223372036854775808.%s", mac); /* INT64_MAX + 1 */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.1700003600.%.42s", mac); /* MAC one short */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.1700003600.%sA", mac); /* one long */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.1700003600.%.42s=", mac); /* padding */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
    s = arena_sprintf(arena, "k1.1700003600.%.42s+", mac); /* standard alphabet */
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
}

/* 43 characters hold 258 bits; the 2 past the MAC must be zero (one spelling per MAC). */
static void
test_slink_verify_mac_trailing_bits(void **state)
{
    struct str t = sign(VID, EXPIRY);
    char *s = arena_strndup(arena, t.p, t.len);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t v = (size_t)(strchr(alphabet, s[t.len - 1]) - alphabet);

    (void)state;
    assert_int_equal(v % 4, 0);
    s[t.len - 1] = alphabet[v + 1];
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
}

static void
test_slink_verify_too_long(void **state)
{
    const char *t = by_hand(&(struct key){"k123456789012345678901234567890a", {1}, 32}, VID,
                            "9223372036854775807");
    char *s;

    (void)state;
    /* The longest well-formed token is fine (its kid is unknown here); one more byte is not. */
    assert_int_equal(strlen(t), MAX_KID + 1 + 19 + 1 + 43);
    assert_int_equal(verify(t, VID, NOW), SLINK_UNKNOWN_KID);
    s = arena_sprintf(arena, "0%s", t);
    assert_int_equal(verify(s, VID, NOW), SLINK_MALFORMED);
}

static void
test_slink_verify_embedded_nul(void **state)
{
    struct str t = sign(VID, EXPIRY);
    char *s = arena_strndup(arena, t.p, t.len);

    (void)state;
    s[5] = '\0';
    assert_int_equal(slink_verify(&ring, (struct str){s, t.len}, STR_LIT(VID), NOW),
                     SLINK_MALFORMED);
    assert_int_equal(slink_verify(&ring, t,
                                  STR_LIT("65a1b2c3d4e5f607\0"
                                          "8293a4b"),
                                  NOW),
                     SLINK_MALFORMED);
}

static void
test_slink_path_is_safe_accepts(void **state)
{
    char p[MAX_PATH];

    (void)state;
    assert_int_equal(slink_path_is_safe(STR_LIT("master.m3u8")), 1);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p/index.m3u8")), 1);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p/seg_00001.ts")), 1);
    assert_int_equal(slink_path_is_safe(STR_LIT("a/b/c/thumb-1.jpg")), 1);
    assert_int_equal(slink_path_is_safe(STR_LIT("...")), 1);
    assert_int_equal(slink_path_is_safe(STR_LIT("a..b")), 1);
    assert_int_equal(slink_path_is_safe(STR_LIT("x")), 1);
    memset(p, 'a', 255);
    assert_int_equal(slink_path_is_safe((struct str){p, 255}), 1);
}

static void
test_slink_path_is_safe_traversal(void **state)
{
    (void)state;
    assert_int_equal(slink_path_is_safe(STR_LIT("..")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("../secret")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p/../../etc/passwd")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p/..")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT(".")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("./master.m3u8")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p/./seg.ts")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p/.")), 0);
}

static void
test_slink_path_is_safe_rejects_shapes(void **state)
{
    char p[MAX_PATH];

    (void)state;
    assert_int_equal(slink_path_is_safe(STR_LIT("")), 0);
    assert_int_equal(slink_path_is_safe(STR_NULL), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("/etc/passwd")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("/")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p//seg.ts")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p/")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("720p\\..\\x")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("seg 1.ts")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("seg.ts?x=1")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("~/x")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("seg\xc3\xa9.ts")), 0);
    memset(p, 'a', 256);
    assert_int_equal(slink_path_is_safe((struct str){p, 256}), 0);
}

static void
test_slink_path_is_safe_rejects_encodings(void **state)
{
    (void)state;
    assert_int_equal(slink_path_is_safe(STR_LIT("%2e%2e/x")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("..%2fx")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("seg%00.ts")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("seg\0.ts")), 0);
    assert_int_equal(slink_path_is_safe(STR_LIT("a\0/../b")), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slink_sign_exact_form),
        cmocka_unit_test(test_slink_sign_round_trip),
        cmocka_unit_test(test_slink_sign_rejects_bad_input),
        cmocka_unit_test(test_slink_verify_tampered_mac),
        cmocka_unit_test(test_slink_verify_tampered_expiry),
        cmocka_unit_test(test_slink_verify_tampered_video_id),
        cmocka_unit_test(test_slink_verify_tampered_kid),
        cmocka_unit_test(test_slink_verify_bad_video_id),
        cmocka_unit_test(test_slink_verify_expiry),
        cmocka_unit_test(test_slink_verify_mac_before_expiry),
        cmocka_unit_test(test_slink_verify_unknown_kid),
        cmocka_unit_test(test_slink_verify_other_key_same_kid),
        cmocka_unit_test(test_slink_verify_malformed),
        cmocka_unit_test(test_slink_verify_mac_trailing_bits),
        cmocka_unit_test(test_slink_verify_too_long),
        cmocka_unit_test(test_slink_verify_embedded_nul),
        cmocka_unit_test(test_slink_path_is_safe_accepts),
        cmocka_unit_test(test_slink_path_is_safe_traversal),
        cmocka_unit_test(test_slink_path_is_safe_rejects_shapes),
        cmocka_unit_test(test_slink_path_is_safe_rejects_encodings),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
