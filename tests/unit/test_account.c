/*
 * test_account.c - format rules for usernames, emails and display names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "account.h"
#include "arena.h"

static void
test_account_valid_username(void **state)
{
    (void)state;
    assert_true(account_valid_username(STR_LIT("alice")));
    assert_true(account_valid_username(STR_LIT("a.b-c_9")));
    assert_true(account_valid_username(STR_LIT("abc")));
    assert_true(account_valid_username(STR_LIT("abcdefghijabcdefghijabcdefghij")));
    assert_false(account_valid_username(STR_LIT("ab")));
    assert_false(account_valid_username(STR_LIT("abcdefghijabcdefghijabcdefghijk")));
    assert_false(account_valid_username(STR_LIT("Alice")));
    assert_false(account_valid_username(STR_LIT("al ice")));
    assert_false(account_valid_username(STR_LIT("al@ice")));
    assert_false(account_valid_username((struct str){"ali\0e", 5}));
}

static void
test_account_valid_email(void **state)
{
    static const char *const good[] = {"a@b.co", "first.last+tag@sub.example.org",
                                       "x_y-z@ex-ample.com", "A@B.CO"};
    static const char *const bad[] = {
        "",        "a",        "a@",      "@b.co",   "a@b",       "a@b.c",
        "a@@b.co", "a b@c.co", ".a@b.co", "a.@b.co", "a..b@c.co", "a@-b.co",
        "a@b-.co", "a@b..co",  "a@b.co.", "a@b.c0m", "a@.b.co",   "\"q\"@b.co",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(account_valid_email(str_from(good[i])));
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (account_valid_email(str_from(bad[i]))) {
            fail_msg("accepted %s", bad[i]);
        }
    }
}

static void
test_account_valid_display_name(void **state)
{
    (void)state;
    assert_true(account_valid_display_name(STR_LIT("Alice B. \xc3\xa9")));
    assert_false(account_valid_display_name(STR_LIT("a\nb")));
    assert_false(account_valid_display_name(STR_LIT("a\x7f")));
    assert_false(account_valid_display_name(STR_LIT("   ")));
}

static void
test_account_username_is_reserved(void **state)
{
    (void)state;
    assert_true(account_username_is_reserved(str_from("admin")));
    assert_true(account_username_is_reserved(str_from("root")));
    assert_true(account_username_is_reserved(str_from("undefined")));
    assert_true(account_username_is_reserved(str_from("stremora")));
    assert_true(account_username_is_reserved(str_from("videos")));
    assert_false(account_username_is_reserved(str_from("admin2")));
    assert_false(account_username_is_reserved(str_from("alice")));
}

static void
test_account_password_weakness(void **state)
{
    struct arena *a = arena_new(4096);

    (void)state;
    assert_non_null(account_password_weakness(a, str_from("12345678"), "alice"));
    assert_non_null(account_password_weakness(a, str_from("password"), "alice"));
    assert_non_null(account_password_weakness(a, str_from("        "), "alice"));
    assert_non_null(account_password_weakness(a, str_from("monkey123"), "alice"));
    assert_non_null(account_password_weakness(a, str_from("zebrafinch42"), "zebrafinch42"));
    assert_null(account_password_weakness(a, str_from("correct horse"), "alice"));
    assert_null(account_password_weakness(a, str_from("k7#Qp2!z"), "alice"));
    /* Long random strings are not "systematic", whatever cracklib says of some of them. */
    assert_null(account_password_weakness(a, str_from("pw-01566dc256c747dcb4c9"), "alice"));
    /* Other scripts: cracklib would judge the stray ASCII letters or the bytes. */
    assert_null(account_password_weakness(
        a,
        str_from("\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
                 "\xed\x95\x9c\xe4\xb8\xad\xe6\x96\x87"
                 "a"),
        "alice"));
    assert_null(account_password_weakness(
        a,
        str_from("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                 "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"),
        "alice"));
    /* ... but a common word with one such character is still a common word. */
    assert_non_null(account_password_weakness(a, str_from("password\xe2\x82\xac"), "alice"));
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_valid_username),
        cmocka_unit_test(test_account_valid_email),
        cmocka_unit_test(test_account_valid_display_name),
        cmocka_unit_test(test_account_username_is_reserved),
        cmocka_unit_test(test_account_password_weakness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
