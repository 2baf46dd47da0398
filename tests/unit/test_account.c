/*
 * test_account.c - format rules for usernames, emails and display names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "account.h"

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_valid_username),
        cmocka_unit_test(test_account_valid_email),
        cmocka_unit_test(test_account_valid_display_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
