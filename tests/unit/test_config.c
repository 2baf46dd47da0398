/*
 * test_config.c - settings from the environment: defaults, overrides, bad numbers named
 * in the error, the STREMORA_CONFIG file (environment wins).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const char *const vars[] = {
    "STREMORA_CONFIG",     "MONGODB_URI",           "STREMORA_DB_NAME",
    "STREMORA_MAX_UPLOAD", "STREMORA_LINK_TTL",     "STREMORA_LOG_LEVEL",
    "STREMORA_KEY_FILE",   "STREMORA_CACHE_TTL_MS", "STREMORA_REFRESH_GRACE",
};

static int
clean_env(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        unsetenv(vars[i]);
    }
    return 0;
}

static void
test_cfg_load_defaults(void **state)
{
    struct config c;
    char err[256];

    (void)state;
    assert_int_equal(cfg_load(&c, err, sizeof(err)), 0);
    assert_string_equal(c.db_name, "stremora");
    assert_string_equal(c.key_file, "var/keys.json");
    assert_int_equal(c.max_upload, 2ull << 30);
    assert_int_equal(c.link_ttl, 3600);
    assert_int_equal(c.cache_ttl_ms, 5000);
    assert_int_equal(c.log_level, LOG_INFO);
}

static void
test_cfg_load_overrides(void **state)
{
    struct config c;
    char err[256];

    (void)state;
    setenv("STREMORA_LINK_TTL", "60", 1);
    setenv("STREMORA_DB_NAME", "other", 1);
    setenv("STREMORA_LOG_LEVEL", "warn", 1);
    assert_int_equal(cfg_load(&c, err, sizeof(err)), 0);
    assert_int_equal(c.link_ttl, 60);
    assert_string_equal(c.db_name, "other");
    assert_int_equal(c.log_level, LOG_WARN);
}

static void
test_cfg_load_bad_number(void **state)
{
    static const char *const bad[] = {"10k", "-1", "0", " 5", "99999999999999999999999", "1e3"};
    struct config c;
    char err[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("STREMORA_LINK_TTL", bad[i], 1);
        assert_int_equal(cfg_load(&c, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "STREMORA_LINK_TTL"));
    }
}

static void
test_cfg_load_bad_level(void **state)
{
    struct config c;
    char err[256];

    (void)state;
    setenv("STREMORA_LOG_LEVEL", "loud", 1);
    assert_int_equal(cfg_load(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "STREMORA_LOG_LEVEL"));
}

static void
test_cfg_load_file_env_wins(void **state)
{
    char path[] = "/tmp/stremora-cfg-XXXXXX", err[256];
    struct config c;
    FILE *f;
    int fd;

    (void)state;
    assert_true((fd = mkstemp(path)) >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    fputs("# comment\nSTREMORA_LINK_TTL=120\n\nSTREMORA_DB_NAME=fromfile\n", f);
    fclose(f);
    setenv("STREMORA_CONFIG", path, 1);
    setenv("STREMORA_DB_NAME", "fromenv", 1);
    assert_int_equal(cfg_load(&c, err, sizeof(err)), 0);
    assert_int_equal(c.link_ttl, 120);
    assert_string_equal(c.db_name, "fromenv");
    unlink(path);
}

static void
test_cfg_load_missing_file(void **state)
{
    struct config c;
    char err[256];

    (void)state;
    setenv("STREMORA_CONFIG", "/nonexistent/stremora.env", 1);
    assert_int_equal(cfg_load(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "STREMORA_CONFIG"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cfg_load_defaults, clean_env),
        cmocka_unit_test_setup(test_cfg_load_overrides, clean_env),
        cmocka_unit_test_setup(test_cfg_load_bad_number, clean_env),
        cmocka_unit_test_setup(test_cfg_load_bad_level, clean_env),
        cmocka_unit_test_setup(test_cfg_load_file_env_wins, clean_env),
        cmocka_unit_test_setup(test_cfg_load_missing_file, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
