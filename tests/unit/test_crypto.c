/*
 * test_crypto.c - crypto.h against published vectors: RFC 4648 section 10 (base64,
 * translated to the base64url alphabet and without padding), FIPS 180-2 SHA-256, RFC 4231
 * HMAC-SHA256 test cases 2 and 6; and every strictness rule of crypto_b64url_decode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "arena.h"
#include "crypto.h"

/* The build links this test with -Wl,--wrap=EVP_DigestFinal_ex (Makefile), so that a
 * failing OpenSSL can be played. */
static bool final_fails;
int __real_EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *len);
int __wrap_EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *len);

int
__wrap_EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *len)
{
    return final_fails ? 0 : __real_EVP_DigestFinal_ex(ctx, md, len);
}

/* RFC 4648 section 10, unpadded. */
static const struct {
    const char *raw, *b64;
} rfc4648[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static void
test_crypto_b64url_encode_rfc4648(void **state)
{
    char out[16];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        crypto_b64url_encode((const unsigned char *)rfc4648[i].raw, strlen(rfc4648[i].raw), out);
        assert_string_equal(out, rfc4648[i].b64);
        assert_int_equal(crypto_b64url_len(strlen(rfc4648[i].raw)), strlen(rfc4648[i].b64));
    }
}

static void
test_crypto_b64url_decode_rfc4648(void **state)
{
    unsigned char out[16];
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        n = 99;
        assert_int_equal(crypto_b64url_decode(str_from(rfc4648[i].b64), out, sizeof(out), &n), 0);
        assert_int_equal(n, strlen(rfc4648[i].raw));
        assert_memory_equal(out, rfc4648[i].raw, n);
    }
}

/* Standard base64 "+/8=" for 0xfb 0xff is "-_8" in the url alphabet. */
static void
test_crypto_b64url_encode_url_alphabet(void **state)
{
    static const unsigned char raw[] = {0xfb, 0xff, 0xbf, 0xfe};
    unsigned char back[4];
    char out[8];
    size_t n;

    (void)state;
    crypto_b64url_encode(raw, 2, out);
    assert_string_equal(out, "-_8");
    crypto_b64url_encode(raw, 4, out);
    assert_string_equal(out, "-_-__g");
    assert_int_equal(crypto_b64url_decode(str_from(out), back, sizeof(back), &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(back, raw, 4);
}

static void
test_crypto_b64url_decode_rejects_padding(void **state)
{
    unsigned char out[16];
    size_t n;

    (void)state;
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zg=="), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm8="), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zg="), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("="), out, sizeof(out), &n), -1);
}

static void
test_crypto_b64url_decode_rejects_bad_chars(void **state)
{
    unsigned char out[16];
    size_t n;

    (void)state;
    assert_int_equal(crypto_b64url_decode(STR_LIT("+_8"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("-/8"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9v "), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT(" Zm9v"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm\n9v"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9v.A"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm\0v"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9\xc3\xa9"), out, sizeof(out), &n), -1);
}

static void
test_crypto_b64url_decode_rejects_length_1_mod_4(void **state)
{
    unsigned char out[16];
    size_t n;

    (void)state;
    assert_int_equal(crypto_b64url_decode(STR_LIT("Z"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9vY"), out, sizeof(out), &n), -1);
}

/* "Zg" is "f"; "Zh" has the same 8 bits and a stray 1 in the 4 trailing bits. */
static void
test_crypto_b64url_decode_rejects_trailing_bits(void **state)
{
    unsigned char out[16];
    size_t n;

    (void)state;
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zh"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9vYh"), out, sizeof(out), &n), -1);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9vYmF"), out, sizeof(out), &n), -1);
}

static void
test_crypto_b64url_decode_respects_cap(void **state)
{
    unsigned char out[8];
    size_t n;

    (void)state;
    memset(out, 0xAA, sizeof(out));
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9vYmFy"), out, 5, &n), -1);
    assert_int_equal(out[5], 0xAA);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9vYmFy"), out, 6, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(out[6], 0xAA);
    assert_int_equal(crypto_b64url_decode(STR_LIT("Zm9vYmE"), out, 4, &n), -1);
}

static void
test_crypto_b64url_round_trip_all_lengths(void **state)
{
    unsigned char raw[64], back[64];
    char enc[100];
    size_t len, n, i;

    (void)state;
    for (i = 0; i < sizeof(raw); i++) {
        raw[i] = (unsigned char)(i * 37 + 11);
    }
    for (len = 0; len <= sizeof(raw); len++) {
        crypto_b64url_encode(raw, len, enc);
        assert_int_equal(strlen(enc), crypto_b64url_len(len));
        assert_null(strchr(enc, '='));
        assert_int_equal(crypto_b64url_decode(str_from(enc), back, sizeof(back), &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(back, raw, len);
    }
}

static void
test_crypto_b64url_in_arena(void **state)
{
    struct arena *a = arena_new(1024);
    char *s;

    (void)state;
    assert_non_null(a);
    s = crypto_b64url(a, (const unsigned char *)"foobar", 6);
    assert_non_null(s);
    assert_string_equal(s, "Zm9vYmFy");
    arena_free(a);
}

static void
test_crypto_b64url_arena_full(void **state)
{
    struct arena *a = arena_new(4);

    (void)state;
    assert_non_null(a);
    assert_null(crypto_b64url(a, (const unsigned char *)"foobar", 6));
    arena_free(a);
}

static void
test_crypto_sha256_vectors(void **state)
{
    unsigned char md[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    (void)state;
    crypto_sha256("abc", 3, md);
    crypto_hex(md, sizeof(md), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256(NULL, 0, md);
    crypto_hex(md, sizeof(md), hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* RFC 4231 section 4.3, test case 2: a key shorter than the output. */
static void
test_crypto_hmac_sha256_rfc4231_case2(void **state)
{
    static const char data[] = "what do ya want for nothing?";
    unsigned char mac[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    (void)state;
    crypto_hmac_sha256("Jefe", 4, data, sizeof(data) - 1, mac);
    crypto_hex(mac, sizeof(mac), hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* RFC 4231 section 4.7, test case 6: a key larger than the block, hashed first. */
static void
test_crypto_hmac_sha256_rfc4231_case6(void **state)
{
    static const char data[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    unsigned char key[131], mac[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    (void)state;
    memset(key, 0xaa, sizeof(key));
    crypto_hmac_sha256(key, sizeof(key), data, sizeof(data) - 1, mac);
    crypto_hex(mac, sizeof(mac), hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void
test_crypto_eq_compares_every_byte(void **state)
{
    unsigned char a[32], b[32];

    (void)state;
    memset(a, 7, sizeof(a));
    memcpy(b, a, sizeof(b));
    assert_true(crypto_eq(a, b, sizeof(a)));
    b[31] ^= 1;
    assert_false(crypto_eq(a, b, sizeof(a)));
    b[31] ^= 1;
    b[0] ^= 0x80;
    assert_false(crypto_eq(a, b, sizeof(a)));
    assert_true(crypto_eq(a, b, 0));
}

static void
test_crypto_wipe_zeroes(void **state)
{
    static const unsigned char zero[48];
    unsigned char buf[48];

    (void)state;
    memset(buf, 0x5a, sizeof(buf));
    crypto_wipe(buf, sizeof(buf));
    assert_memory_equal(buf, zero, sizeof(buf));
}

static void
test_crypto_hex_lowercase(void **state)
{
    static const unsigned char raw[] = {0x00, 0xab, 0xff, 0x10};
    char out[9];

    (void)state;
    memset(out, 'x', sizeof(out));
    crypto_hex(raw, sizeof(raw), out);
    assert_string_equal(out, "00abff10");
    crypto_hex(raw, 0, out);
    assert_string_equal(out, "");
}

static void
test_crypto_random_differs(void **state)
{
    static const unsigned char zero[32];
    unsigned char a[32], b[32];

    (void)state;
    assert_int_equal(crypto_random(a, sizeof(a)), 0);
    assert_int_equal(crypto_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
}

/* A streamed digest that OpenSSL failed to finish is an error, never a digest: an upload
 * must not be stored under an unset sha256. */
static void
test_crypto_sha256_end_failure(void **state)
{
    struct arena *a = arena_new(1 << 16);
    unsigned char d[CRYPTO_SHA256_LEN], zero[CRYPTO_SHA256_LEN] = {0};
    struct crypto_sha256 *h;

    (void)state;
    assert_non_null(h = crypto_sha256_begin(a));
    crypto_sha256_add(h, "abc", 3);
    assert_int_equal(crypto_sha256_end(h, d), 0);
    assert_memory_not_equal(d, zero, sizeof(d));
    assert_non_null(h = crypto_sha256_begin(a));
    crypto_sha256_add(h, "abc", 3);
    final_fails = true;
    assert_int_equal(crypto_sha256_end(h, d), -1);
    final_fails = false;
    assert_memory_equal(d, zero, sizeof(d));
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypto_sha256_end_failure),
        cmocka_unit_test(test_crypto_b64url_encode_rfc4648),
        cmocka_unit_test(test_crypto_b64url_decode_rfc4648),
        cmocka_unit_test(test_crypto_b64url_encode_url_alphabet),
        cmocka_unit_test(test_crypto_b64url_decode_rejects_padding),
        cmocka_unit_test(test_crypto_b64url_decode_rejects_bad_chars),
        cmocka_unit_test(test_crypto_b64url_decode_rejects_length_1_mod_4),
        cmocka_unit_test(test_crypto_b64url_decode_rejects_trailing_bits),
        cmocka_unit_test(test_crypto_b64url_decode_respects_cap),
        cmocka_unit_test(test_crypto_b64url_round_trip_all_lengths),
        cmocka_unit_test(test_crypto_b64url_in_arena),
        cmocka_unit_test(test_crypto_b64url_arena_full),
        cmocka_unit_test(test_crypto_sha256_vectors),
        cmocka_unit_test(test_crypto_hmac_sha256_rfc4231_case2),
        cmocka_unit_test(test_crypto_hmac_sha256_rfc4231_case6),
        cmocka_unit_test(test_crypto_eq_compares_every_byte),
        cmocka_unit_test(test_crypto_wipe_zeroes),
        cmocka_unit_test(test_crypto_hex_lowercase),
        cmocka_unit_test(test_crypto_random_differs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
