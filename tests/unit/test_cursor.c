/*
 * test_cursor.c - list cursors and query strings: round trips, canonical forms, refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "crypto.h"
#include "cursor.h"
#include "http.h"

static void
test_cursor_format_round_trip(void **state)
{
    struct arena *a = arena_new(1 << 16);
    char id[25], *c;
    int64_t key;

    (void)state;
    assert_non_null(c = cursor_format(a, 1700000000123, "6b0826ac7b8200fee7080111"));
    assert_int_equal(cursor_parse(str_from(c), &key, id), 0);
    assert_true(key == 1700000000123);
    assert_string_equal(id, "6b0826ac7b8200fee7080111");
    assert_null(cursor_format(a, -1, "6b0826ac7b8200fee7080111"));
    assert_null(cursor_format(a, 1, "6B0826AC7B8200FEE7080111"));
    arena_free(a);
}

static void
test_cursor_parse_refuses(void **state)
{
    static const char *const raw[] = {
        "1.6b0826ac7b8200fee708011",   "01.6b0826ac7b8200fee7080111",
        "-1.6b0826ac7b8200fee7080111", ".6b0826ac7b8200fee7080111",
        "1.6B0826AC7B8200FEE7080111",  "16b0826ac7b8200fee7080111",
        "1.6b0826ac7b8200fee70801111", "99999999999999999999.6b0826ac7b8200fee7080111",
    };
    struct arena *a = arena_new(1 << 16);
    char id[25];
    int64_t key;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        char *c = crypto_b64url(a, (const unsigned char *)raw[i], strlen(raw[i]));

        assert_int_equal(cursor_parse(str_from(c), &key, id), -1);
    }
    assert_int_equal(cursor_parse(STR_LIT("!!!"), &key, id), -1);
    assert_int_equal(cursor_parse(STR_LIT(""), &key, id), -1);
    assert_int_equal(
        cursor_parse(STR_LIT("MTcwMDAwMDAwMDAwMC42YjA4MjZhYzdiODIwMGZlZTcwODAxMTE="), &key, id),
        -1); /* padding */
    arena_free(a);
}

static void
test_http_query_value(void **state)
{
    struct arena *a = arena_new(1 << 16);
    struct str q = STR_LIT("q=a%2Eb+c&limit=20&flag&tag=&bad=%zz&nul=%00&limit=99");

    (void)state;
    assert_true(str_eq_cstr(http_query_value(a, q, "q"), "a.b c"));
    assert_true(str_eq_cstr(http_query_value(a, q, "limit"), "20")); /* the first one */
    assert_true(str_eq_cstr(http_query_value(a, q, "flag"), ""));
    assert_true(str_eq_cstr(http_query_value(a, q, "tag"), ""));
    assert_null(http_query_value(a, q, "bad").p);
    assert_null(http_query_value(a, q, "nul").p);
    assert_null(http_query_value(a, q, "absent").p);
    assert_null(http_query_value(a, STR_LIT("q=%4"), "q").p);
    assert_null(http_query_value(a, STR_NULL, "q").p);
    assert_true(http_query_is_valid(STR_LIT("q=a%2Eb+c&x")));
    assert_false(http_query_is_valid(q));
    assert_false(http_query_is_valid(STR_LIT("q=%4")));
    assert_false(http_query_is_valid(STR_LIT("q=%00")));
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor_format_round_trip),
        cmocka_unit_test(test_cursor_parse_refuses),
        cmocka_unit_test(test_http_query_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
