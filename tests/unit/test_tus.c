/*
 * test_tus.c - the tus header grammar: Upload-Metadata as tus-js-client and Uppy send it,
 * strict base64, Upload-Checksum, offsets, HTTP dates, and the running checksum.
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
#include "tus.h"

static struct arena *arena;

static int
setup(void **state)
{
    (void)state;
    return (arena = arena_new(1u << 20)) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    arena_free(arena);
    return 0;
}

static int
parse(const char *header, struct tus_pair *pairs)
{
    return tus_metadata_parse(arena, str_from(header), pairs, MAX_TUS_PAIRS);
}

static void
test_tus_metadata_as_clients_send_it(void **state)
{
    struct tus_pair p[MAX_TUS_PAIRS];
    struct str v;

    (void)state;
    /* tus-js-client: filename, filetype; a key alone is an empty value. */
    assert_int_equal(parse("filename bXktY2xpcC5tcDQ=,filetype dmlkZW8vbXA0,is_confidential", p),
                     3);
    v = tus_metadata_get(p, 3, "filename");
    assert_true(str_eq_cstr(v, "my-clip.mp4"));
    assert_true(str_eq_cstr(tus_metadata_get(p, 3, "filetype"), "video/mp4"));
    assert_true(str_eq_cstr(tus_metadata_get(p, 3, "is_confidential"), ""));
    assert_null(tus_metadata_get(p, 3, "title").p);
    /* Spaces around pairs are tolerated (Uppy writes ", "). */
    assert_int_equal(parse("a YQ==, b Yg==", p), 2);
    assert_int_equal(parse("", p), 0);
}

static void
test_tus_metadata_refuses_what_is_malformed(void **state)
{
    struct tus_pair p[MAX_TUS_PAIRS];
    char many[512];
    size_t i, n = 0;

    (void)state;
    assert_int_equal(parse("a YQ==,a Yg==", p), -1); /* a key twice */
    assert_int_equal(parse("a YQ=,b Yg==", p), -1);  /* length not a multiple of 4 */
    assert_int_equal(parse("a Y@==", p), -1);        /* not base64 */
    assert_int_equal(parse("a YR==", p), -1);        /* non-zero trailing bits */
    assert_int_equal(parse(",a YQ==", p), -1);       /* empty key */
    assert_int_equal(parse("a YQ==,", p), -1);       /* trailing comma */
    assert_int_equal(parse("a  YQ==", p), -1);       /* two spaces */
    assert_int_equal(parse("a\x01 YQ==", p), -1);    /* control character in a key */
    for (i = 0; i <= MAX_TUS_PAIRS; i++) {
        n += (size_t)snprintf(many + n, sizeof(many) - n, "%sk%zu", i > 0 ? "," : "", i);
    }
    assert_int_equal(parse(many, p), -1); /* one pair too many */
}

static void
test_tus_b64_strict(void **state)
{
    unsigned char out[16];
    size_t len;

    (void)state;
    assert_int_equal(tus_b64_decode(STR_LIT("aGk="), out, sizeof(out), &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(out, "hi", 2);
    assert_int_equal(tus_b64_decode(STR_LIT("+/+/"), out, sizeof(out), &len), 0);
    assert_int_equal(len, 3);
    assert_int_equal(tus_b64_decode(STR_LIT("aGk"), out, sizeof(out), &len), -1);
    assert_int_equal(tus_b64_decode(STR_LIT("a==="), out, sizeof(out), &len), -1);
    assert_int_equal(tus_b64_decode(STR_LIT("aG=k"), out, sizeof(out), &len), -1);
    assert_int_equal(tus_b64_decode(STR_LIT("-_-_"), out, sizeof(out), &len), -1);   /* url form */
    assert_int_equal(tus_b64_decode(STR_LIT("aGVsbG8gd29ybGQ="), out, 4, &len), -1); /* cap */
}

static void
test_tus_checksum(void **state)
{
    struct tus_checksum c;
    struct tus_hash *h;

    (void)state;
    /* sha1("hello world") */
    assert_int_equal(tus_checksum_parse(STR_LIT("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="), &c),
                     TUS_CHECKSUM_OK);
    assert_int_equal(c.algo, TUS_SHA1);
    assert_int_equal(c.len, 20);
    h = tus_hash_begin(arena, TUS_SHA1);
    assert_non_null(h);
    tus_hash_add(h, "hello ", 6);
    tus_hash_add(h, "world", 5);
    assert_true(tus_hash_matches(h, &c));
    h = tus_hash_begin(arena, TUS_SHA1);
    tus_hash_add(h, "hello World", 11);
    assert_false(tus_hash_matches(h, &c));
    /* sha256("") */
    assert_int_equal(
        tus_checksum_parse(STR_LIT("sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="), &c),
        TUS_CHECKSUM_OK);
    h = tus_hash_begin(arena, TUS_SHA256);
    assert_true(tus_hash_matches(h, &c));
    assert_int_equal(tus_checksum_parse(STR_LIT("md5 XrY7u+Ae7tCTyyK7j1rNww=="), &c),
                     TUS_CHECKSUM_UNSUPPORTED);
    assert_int_equal(tus_checksum_parse(STR_LIT("sha1 aGk="), &c), TUS_CHECKSUM_BAD); /* short */
    assert_int_equal(tus_checksum_parse(STR_LIT("sha1"), &c), TUS_CHECKSUM_BAD);
    assert_int_equal(tus_checksum_parse(STR_LIT("SHA 1 x"), &c), TUS_CHECKSUM_BAD);
}

static void
test_tus_numbers_and_dates(void **state)
{
    uint64_t v;
    char date[32];

    (void)state;
    assert_int_equal(tus_number_parse(STR_LIT("0"), 10, &v), 0);
    assert_int_equal(tus_number_parse(STR_LIT("16777216"), UINT64_MAX, &v), 0);
    assert_true(v == 16777216);
    assert_int_equal(tus_number_parse(STR_LIT(" 1"), 10, &v), -1);
    assert_int_equal(tus_number_parse(STR_LIT("-1"), 10, &v), -1);
    assert_int_equal(tus_number_parse(STR_LIT("11"), 10, &v), -1);
    assert_int_equal(tus_number_parse(STR_NULL, 10, &v), -1);
    tus_http_date(1403712000000LL, date); /* the protocol's own example */
    assert_string_equal(date, "Wed, 25 Jun 2014 16:00:00 GMT");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tus_metadata_as_clients_send_it),
        cmocka_unit_test(test_tus_metadata_refuses_what_is_malformed),
        cmocka_unit_test(test_tus_b64_strict),
        cmocka_unit_test(test_tus_checksum),
        cmocka_unit_test(test_tus_numbers_and_dates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
