/*
 * test_pwhash.c - yescrypt round trips, bcrypt ($2b$) and older yescrypt parameters asking to
 * be re-hashed, refused passwords (NUL byte, too long for crypt) and stored values crypt
 * rejects (crypt(5) "*" and "!"), and the dummy verify for unknown users.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <crypt.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "bounds.h"
#include "log.h"
#include "pwhash.h"
#include "str.h"

#include "fixtures.h"

/* Returns crypt's hash of pw made with prefix and count (e.g. "$2b$", 4), in the arena. */
static char *
legacy_hash(void **state, const char *prefix, unsigned long count, const char *pw)
{
    static struct crypt_data cd;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    const char *h;

    assert_non_null(crypt_gensalt_rn(prefix, count, NULL, 0, setting, sizeof(setting)));
    h = crypt_rn(pw, setting, &cd, sizeof(cd));
    assert_non_null(h);
    return arena_strdup(*state, h);
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_pwhash_hash_yescrypt(void **state)
{
    char *h = pwhash_hash(*state, STR_LIT("correct horse"));

    assert_non_null(h);
    assert_memory_equal(h, "$y$", 3);
    assert_int_equal(pwhash_verify(STR_LIT("correct horse"), h), PWHASH_MATCH);
}

static void
test_pwhash_hash_salted(void **state)
{
    char *h1 = pwhash_hash(*state, STR_LIT("same"));
    char *h2 = pwhash_hash(*state, STR_LIT("same"));

    assert_non_null(h1);
    assert_non_null(h2);
    assert_string_not_equal(h1, h2);
}

static void
test_pwhash_hash_nul(void **state)
{
    assert_null(pwhash_hash(*state, (struct str){"ab\0cd", 5}));
}

static void
test_pwhash_hash_too_long(void **state)
{
    char pw[CRYPT_MAX_PASSPHRASE_SIZE];

    memset(pw, 'x', sizeof(pw));
    assert_non_null(pwhash_hash(*state, (struct str){pw, sizeof(pw) - 1}));
    assert_null(pwhash_hash(*state, (struct str){pw, sizeof(pw)}));
}

static void
test_pwhash_hash_empty(void **state)
{
    char *h = pwhash_hash(*state, STR_LIT(""));

    assert_non_null(h);
    assert_int_equal(pwhash_verify(STR_LIT(""), h), PWHASH_MATCH);
    assert_int_equal(pwhash_verify(STR_LIT(" "), h), PWHASH_MISMATCH);
}

static void
test_pwhash_verify_wrong(void **state)
{
    char *h = pwhash_hash(*state, STR_LIT("s3cret-pass"));

    assert_non_null(h);
    assert_int_equal(pwhash_verify(STR_LIT("s3cret-pasS"), h), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify(STR_LIT("s3cret-pas"), h), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify(STR_LIT("s3cret-pass "), h), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify(STR_LIT(""), h), PWHASH_MISMATCH);
}

static void
test_pwhash_verify_nul(void **state)
{
    char *h = pwhash_hash(*state, STR_LIT("ab"));

    /* Cut at the NUL, this would be "ab" and match. */
    assert_non_null(h);
    assert_int_equal(pwhash_verify((struct str){"ab\0cd", 5}, h), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify((struct str){"ab\0", 3}, h), PWHASH_MISMATCH);
}

static void
test_pwhash_verify_bcrypt_rehash(void **state)
{
    char *h = legacy_hash(state, "$2b$", 4, "old password");

    assert_memory_equal(h, "$2b$04$", 7);
    assert_int_equal(pwhash_verify(STR_LIT("old password"), h), PWHASH_MATCH_REHASH);
    assert_int_equal(pwhash_verify(STR_LIT("old passwore"), h), PWHASH_MISMATCH);
}

static void
test_pwhash_verify_old_params_rehash(void **state)
{
    char *h = legacy_hash(state, "$y$", 3, "cheap"), *cur;

    cur = pwhash_hash(*state, STR_LIT("cheap"));
    assert_non_null(cur);
    assert_memory_not_equal(h, cur, strchr(cur + 3, '$') - cur); /* the params differ */
    assert_int_equal(pwhash_verify(STR_LIT("cheap"), h), PWHASH_MATCH_REHASH);
    assert_int_equal(pwhash_verify(STR_LIT("cheap"), cur), PWHASH_MATCH);
}

static void
test_pwhash_verify_rejected_stored(void **state)
{
    char *h = pwhash_hash(*state, STR_LIT("pw"));

    assert_non_null(h);
    assert_int_equal(pwhash_verify(STR_LIT("pw"), "*"), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify(STR_LIT("pw"), "!"), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify(STR_LIT("pw"), "*0"), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify(STR_LIT("pw"), ""), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify(STR_LIT("pw"), NULL), PWHASH_MISMATCH);
    assert_int_equal(pwhash_verify(STR_LIT("pw"), "$9$nonsense"), PWHASH_MISMATCH);
    h[strlen(h) - 1] ^= 1; /* a tampered hash */
    assert_int_equal(pwhash_verify(STR_LIT("pw"), h), PWHASH_MISMATCH);
}

static void
test_pwhash_verify_too_long(void **state)
{
    char pw[CRYPT_MAX_PASSPHRASE_SIZE];
    char *h;

    memset(pw, 'y', sizeof(pw));
    h = pwhash_hash(*state, (struct str){pw, sizeof(pw) - 1});
    assert_non_null(h);
    assert_int_equal(pwhash_verify((struct str){pw, sizeof(pw) - 1}, h), PWHASH_MATCH);
    assert_int_equal(pwhash_verify((struct str){pw, sizeof(pw)}, h), PWHASH_MISMATCH);
}

static void
test_pwhash_dummy_verify_runs(void **state)
{
    char *h = pwhash_hash(*state, STR_LIT("timing"));
    double t0, real, dummy;

    assert_non_null(h);
    pwhash_dummy_verify(STR_LIT("timing"));
    pwhash_dummy_verify((struct str){"a\0b", 3}); /* refused, returns at once */
    t0 = now();
    assert_int_equal(pwhash_verify(STR_LIT("wrong"), h), PWHASH_MISMATCH);
    real = now() - t0;
    t0 = now();
    pwhash_dummy_verify(STR_LIT("wrong"));
    dummy = now() - t0;
    /* Loose, to stay stable on a busy machine: the same order of time as a real verify. */
    assert_true(dummy > real / 4 && dummy < real * 4);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_arena_setup, fixture_arena_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pwhash_hash_yescrypt),
        T(test_pwhash_hash_salted),
        T(test_pwhash_hash_nul),
        T(test_pwhash_hash_too_long),
        T(test_pwhash_hash_empty),
        T(test_pwhash_verify_wrong),
        T(test_pwhash_verify_nul),
        T(test_pwhash_verify_bcrypt_rehash),
        T(test_pwhash_verify_old_params_rehash),
        T(test_pwhash_verify_rejected_stored),
        T(test_pwhash_verify_too_long),
        T(test_pwhash_dummy_verify_runs),
    };

    log_init("test_pwhash", LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
