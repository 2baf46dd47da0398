/*
 * test_str.c - struct str helpers: strict numbers, UTF-8 per RFC 3629, cut/trim, NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arena.h"
#include "str.h"

static void
test_str_to_u64_strict(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(str_to_u64(STR_LIT("0"), 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(str_to_u64(STR_LIT("18446744073709551615"), 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(str_to_u64(STR_LIT("18446744073709551616"), 0, UINT64_MAX, &v), -1);
    assert_int_equal(str_to_u64(STR_LIT(""), 0, 10, &v), -1);
    assert_int_equal(str_to_u64(STR_LIT("01"), 0, 10, &v), -1);
    assert_int_equal(str_to_u64(STR_LIT("-1"), 0, 10, &v), -1);
    assert_int_equal(str_to_u64(STR_LIT("+1"), 0, 10, &v), -1);
    assert_int_equal(str_to_u64(STR_LIT("1 "), 0, 10, &v), -1);
    assert_int_equal(str_to_u64(STR_LIT("11"), 0, 10, &v), -1);
    assert_int_equal(str_to_u64(STR_LIT("4"), 5, 10, &v), -1);
    assert_int_equal(str_to_u64((struct str){"12\0", 3}, 0, 100, &v), -1);
}

static void
test_str_is_utf8(void **state)
{
    (void)state;
    assert_true(str_is_utf8(STR_LIT("plain")));
    assert_true(str_is_utf8(STR_LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xac")));
    assert_false(str_is_utf8(STR_LIT("\xc0\xaf")));         /* overlong '/' */
    assert_false(str_is_utf8(STR_LIT("\xe0\x80\xaf")));     /* overlong, 3 bytes */
    assert_false(str_is_utf8(STR_LIT("\xed\xa0\x80")));     /* surrogate */
    assert_false(str_is_utf8(STR_LIT("\xf4\x90\x80\x80"))); /* > U+10FFFF */
    assert_false(str_is_utf8(STR_LIT("\xc3")));             /* truncated */
    assert_false(str_is_utf8(STR_LIT("\x80")));             /* lone continuation */
    assert_false(str_is_utf8(STR_LIT("\xff")));
}

static void
test_str_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(str_utf8_len(STR_LIT("caf\xc3\xa9")), 4);
    assert_int_equal(str_utf8_len(STR_LIT("\xf0\x9f\x8e\xac")), 1);
    assert_int_equal(str_utf8_len(STR_LIT("")), 0);
}

static void
test_str_cut_and_trim(void **state)
{
    struct str head, rest;

    (void)state;
    rest = str_cut(STR_LIT("a=b=c"), '=', &head);
    assert_true(str_eq_cstr(head, "a"));
    assert_true(str_eq_cstr(rest, "b=c"));
    rest = str_cut(STR_LIT("abc"), '=', &head);
    assert_null(rest.p);
    assert_true(str_eq_cstr(head, "abc"));
    assert_true(str_eq_cstr(str_trim(STR_LIT(" \t x y \t")), "x y"));
    assert_true(str_eq_cstr(str_trim(STR_LIT("   ")), ""));
}

static void
test_str_cstr_refuses_nul(void **state)
{
    struct arena *a = arena_new(1 << 16);
    char *c;

    (void)state;
    assert_null(str_cstr(a, (struct str){"ab\0c", 4}));
    assert_non_null(c = str_cstr(a, STR_LIT("abc")));
    assert_string_equal(c, "abc");
    assert_true(str_ieq_cstr(STR_LIT("Bearer"), "bEARER"));
    assert_false(str_ieq_cstr(STR_LIT("Bearer"), "Bear"));
    arena_free(a);
}

static int cleanups;

static void
count_cleanup(void *p)
{
    cleanups += *(int *)p;
}

static void
test_arena_alloc_cap_and_cleanups(void **state)
{
    struct arena *a = arena_new(100000);
    static int one = 1, ten = 10;
    char *s;
    size_t i;

    (void)state;
    assert_non_null(a);
    assert_null(arena_alloc(a, 100001));
    for (i = 0; i < 50; i++) { /* many blocks */
        assert_non_null(arena_alloc(a, 1000));
    }
    assert_null(arena_alloc(a, 60000)); /* cap counts what was handed out */
    assert_int_equal(arena_defer(a, count_cleanup, &one), 0);
    assert_int_equal(arena_defer(a, count_cleanup, &ten), 0);
    cleanups = 0;
    arena_reset(a);
    assert_int_equal(cleanups, 11);
    assert_int_equal(arena_used(a), 0);
    assert_non_null(s = arena_sprintf(a, "%s-%d", "x", 42));
    assert_string_equal(s, "x-42");
    assert_null(arena_calloc(a, SIZE_MAX / 2, 4));
    assert_int_equal((uintptr_t)arena_alloc(a, 3) % 16, 0);
    arena_free(a);
}

#define T(lit) ((struct str){(lit), sizeof(lit) - 1})

static void
test_str_is_text(void **state)
{
    (void)state;
    assert_true(str_is_text(T("Plain title, ok: é 日本 🙂"), 0));
    assert_true(str_is_text(T(""), 0));
    assert_false(str_is_text(T("tab\there"), 0));
    assert_true(str_is_text(T("tab\there"), STR_MULTILINE));
    assert_true(str_is_text(T("lines\r\nand\n"), STR_MULTILINE));
    assert_false(str_is_text(T("nul\0byte"), STR_MULTILINE));
    assert_false(str_is_text(T("bell\a"), STR_MULTILINE));
    assert_false(str_is_text(T("esc\x1b[31m"), STR_MULTILINE));
    assert_false(str_is_text(T("del\x7f"), STR_MULTILINE));
    assert_false(str_is_text(T("c1 \xc2\x85 next line"), STR_MULTILINE)); /* U+0085 */
    assert_false(str_is_text(T("c1 \xc2\x9b csi"), STR_MULTILINE));       /* U+009B */
    assert_true(str_is_text(T("nbsp \xc2\xa0"), STR_NO_FORMAT));          /* U+00A0 */
    assert_false(str_is_text(T("bad \xff"), 0));
    /* Format characters: allowed in text, refused in names. */
    assert_true(str_is_text(T("rtl \xe2\x80\xae"), 0));
    assert_false(str_is_text(T("rtl \xe2\x80\xae"), STR_NO_FORMAT));  /* U+202E */
    assert_false(str_is_text(T("ad\xe2\x80\x8bmin"), STR_NO_FORMAT)); /* U+200B */
    assert_false(str_is_text(T("\xef\xbb\xbf"
                               "bom"),
                             STR_NO_FORMAT));                            /* U+FEFF */
    assert_false(str_is_text(T("soft\xc2\xadhyphen"), STR_NO_FORMAT));   /* U+00AD */
    assert_false(str_is_text(T("tag \xf3\xa0\x80\x81"), STR_NO_FORMAT)); /* U+E0001 */
    assert_true(str_is_text(T("zwj-free emoji \xf0\x9f\x99\x82"), STR_NO_FORMAT));
}

static void
test_str_helpers(void **state)
{
    struct arena *a = arena_new(4096);
    char *low;

    (void)state;
    assert_true(str_is_oid_hex(T("6b11441d3fcbcad765036cc1")));
    assert_false(str_is_oid_hex(T("6B11441D3FCBCAD765036CC1")));
    assert_false(str_is_oid_hex(T("6b11441d3fcbcad765036cc")));
    assert_false(str_is_oid_hex(T("6b11441d3fcbcad765036cc1a")));
    assert_false(str_is_oid_hex(T("6b11441d3fcbcad765036cgg")));
    assert_non_null(low = str_lower_cstr(a, T("MiXeD-ÄÖ")));
    assert_string_equal(low, "mixed-ÄÖ"); /* only ASCII letters */
    assert_null(str_lower_cstr(a, T("n\0ul")));
    assert_int_equal(str_hash(T("")), 2166136261u); /* FNV-1a test vectors */
    assert_int_equal(str_hash(T("a")), 0xe40c292cu);
    assert_int_equal(str_hash(T("foobar")), 0xbf9cf968u);
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_to_u64_strict),
        cmocka_unit_test(test_str_is_utf8),
        cmocka_unit_test(test_str_utf8_len),
        cmocka_unit_test(test_str_cut_and_trim),
        cmocka_unit_test(test_str_cstr_refuses_nul),
        cmocka_unit_test(test_arena_alloc_cap_and_cleanups),
        cmocka_unit_test(test_str_is_text),
        cmocka_unit_test(test_str_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
