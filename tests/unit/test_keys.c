/*
 * test_keys.c - the key file: every rule keys_load enforces (each failure names its
 * problem and leaves the ring as it was), and keys_generate / keys_rotate writing files
 * that load back, in a temp directory made per run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "crypto.h"
#include "keys.h"

/* base64url of the 32 bytes 0x00..0x1f, and of 32 bytes 0x20..0x3f. */
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"

static char dir[64];
static char path[128];
static int serial;

static int
make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_keys.XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
remove_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Sets path to a new file name in dir and writes n bytes of text there. */
static const char *
write_file(const char *text, size_t n)
{
    FILE *f;

    snprintf(path, sizeof(path), "%s/keys%d.json", dir, serial++);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
    return path;
}

static const char *
write_text(const char *text)
{
    return write_file(text, strlen(text));
}

static const char *
fresh_path(void)
{
    snprintf(path, sizeof(path), "%s/new%d.json", dir, serial++);
    return path;
}

/* keys_load must fail with an err that holds want. */
static void
load_fails(const char *text, const char *want)
{
    struct keyring ring;
    char err[256] = "";

    memset(&ring, 0, sizeof(ring));
    assert_int_equal(keys_load(write_text(text), &ring, err, sizeof(err)), -1);
    if (strstr(err, want) == NULL) {
        fail_msg("err \"%s\" lacks \"%s\"", err, want);
    }
    assert_null(strchr(err, '\n'));
    assert_int_equal(ring.n, 0);
}

static void
test_keys_load_valid(void **state)
{
    unsigned char want[32];
    struct keyring ring;
    const struct key *k;
    char err[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(want); i++) {
        want[i] = (unsigned char)i;
    }
    assert_int_equal(keys_load(write_text("{\"current\":\"k2\",\"keys\":{\"k1\":\"" KEY_A
                                          "\",\"k2\":\"" KEY_B "\"}}\n"),
                               &ring, err, sizeof(err)),
                     0);
    assert_int_equal(ring.n, 2);
    assert_string_equal(ring.keys[0].kid, "k1"); /* file order kept: oldest first */
    assert_string_equal(keys_current(&ring)->kid, "k2");
    k = keys_get(&ring, STR_LIT("k1"));
    assert_non_null(k);
    assert_int_equal(k->len, 32);
    assert_memory_equal(k->key, want, 32);
    assert_ptr_equal(keys_get(&ring, STR_LIT("k2")), keys_current(&ring));
    keys_fini(&ring);
}

static void
test_keys_load_missing_file(void **state)
{
    struct keyring ring;
    char err[256];

    (void)state;
    memset(&ring, 0, sizeof(ring));
    assert_int_equal(keys_load("/nonexistent/keys.json", &ring, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open"));
}

static void
test_keys_load_not_regular_file(void **state)
{
    struct keyring ring;
    char err[256];

    (void)state;
    assert_int_equal(keys_load(dir, &ring, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
}

static void
test_keys_load_file_too_large(void **state)
{
    static char big[MAX_KEY_FILE + 1];
    struct keyring ring;
    char err[256];
    const char *head = "{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\"}}";

    (void)state;
    memset(big, ' ', sizeof(big));
    memcpy(big, head, strlen(head));
    assert_int_equal(keys_load(write_file(big, sizeof(big)), &ring, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than"));
    /* The same text one byte shorter is accepted: trailing whitespace is fine. */
    assert_int_equal(keys_load(write_file(big, sizeof(big) - 1), &ring, err, sizeof(err)), 0);
    keys_fini(&ring);
}

static void
test_keys_load_not_json(void **state)
{
    (void)state;
    load_fails("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\"}", "not valid JSON");
    load_fails("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\"}} x", "not valid JSON");
    load_fails("", "not valid JSON");
    load_fails("{\"current\":\"k1\",\"keys\":{\"k1\":{\"deep\":{}}}}", "not valid JSON");
}

static void
test_keys_load_not_object(void **state)
{
    (void)state;
    load_fails("[\"k1\"]", "not a JSON object");
}

static void
test_keys_load_unknown_member(void **state)
{
    (void)state;
    load_fails("{\"curent\":\"k1\",\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\"}}",
               "unknown member");
}

static void
test_keys_load_no_keys(void **state)
{
    (void)state;
    load_fails("{\"current\":\"k1\"}", "\"keys\"");
    load_fails("{\"current\":\"k1\",\"keys\":{}}", "empty");
    load_fails("{\"current\":\"k1\",\"keys\":[\"" KEY_A "\"]}", "not an object");
}

static void
test_keys_load_bad_current(void **state)
{
    (void)state;
    load_fails("{\"keys\":{\"k1\":\"" KEY_A "\"}}", "\"current\"");
    load_fails("{\"current\":1,\"keys\":{\"k1\":\"" KEY_A "\"}}", "\"current\"");
    load_fails("{\"current\":\"k2\",\"keys\":{\"k1\":\"" KEY_A "\"}}", "current key k2");
}

static void
test_keys_load_bad_kid(void **state)
{
    (void)state;
    load_fails("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\",\"k.2\":\"" KEY_B "\"}}", "kid");
    load_fails("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\",\"\":\"" KEY_B "\"}}", "kid");
    load_fails("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A
               "\",\"k23456789012345678901234567890123\":\"" KEY_B "\"}}",
               "kid");
}

static void
test_keys_load_key_not_string(void **state)
{
    (void)state;
    load_fails("{\"current\":\"k1\",\"keys\":{\"k1\":32}}", "key k1 is not a string");
}

static void
test_keys_load_key_bad_base64url(void **state)
{
    (void)state;
    load_fails("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "=\"}}", "base64url");
    load_fails(
        "{\"current\":\"k1\",\"keys\":{\"k1\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd+h8\"}}",
        "base64url");
}

static void
test_keys_load_key_too_short(void **state)
{
    (void)state;
    /* 31 bytes */
    load_fails(
        "{\"current\":\"k1\",\"keys\":{\"k1\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg\"}}",
        "shorter than 32");
}

static void
test_keys_load_key_too_long(void **state)
{
    unsigned char raw[MAX_KEY_BYTES + 1];
    char b64[200], text[400];

    (void)state;
    memset(raw, 1, sizeof(raw));
    crypto_b64url_encode(raw, sizeof(raw), b64);
    snprintf(text, sizeof(text), "{\"current\":\"k1\",\"keys\":{\"k1\":\"%s\"}}", b64);
    load_fails(text, "longer than 128");
    /* 128 bytes exactly is fine. */
    crypto_b64url_encode(raw, MAX_KEY_BYTES, b64);
    snprintf(text, sizeof(text), "{\"current\":\"k1\",\"keys\":{\"k1\":\"%s\"}}", b64);
    {
        struct keyring ring;
        char err[256];

        assert_int_equal(keys_load(write_text(text), &ring, err, sizeof(err)), 0);
        assert_int_equal(keys_current(&ring)->len, MAX_KEY_BYTES);
        keys_fini(&ring);
    }
}

static void
test_keys_load_too_many_keys(void **state)
{
    char text[8192];
    size_t n, i;

    (void)state;
    n = (size_t)snprintf(text, sizeof(text), "{\"current\":\"k0\",\"keys\":{");
    for (i = 0; i <= MAX_KEYS; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"k%zu\":\"" KEY_A "\"",
                              i > 0 ? "," : "", i);
    }
    snprintf(text + n, sizeof(text) - n, "}}");
    load_fails(text, "more than 16 keys");
}

static void
test_keys_load_failure_keeps_ring(void **state)
{
    struct keyring ring;
    char err[256];

    (void)state;
    assert_int_equal(keys_load(write_text("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\"}}"),
                               &ring, err, sizeof(err)),
                     0);
    assert_int_equal(keys_load(write_text("{\"current\":\"k9\",\"keys\":{\"k9\":\"short\"}}"),
                               &ring, err, sizeof(err)),
                     -1);
    assert_int_equal(ring.n, 1);
    assert_string_equal(keys_current(&ring)->kid, "k1");
    assert_int_equal(keys_current(&ring)->key[31], 0x1f);
    keys_fini(&ring);
}

static void
test_keys_get_exact_kid_only(void **state)
{
    struct keyring ring;
    char err[256];

    (void)state;
    assert_int_equal(keys_load(write_text("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\"}}"),
                               &ring, err, sizeof(err)),
                     0);
    assert_non_null(keys_get(&ring, STR_LIT("k1")));
    assert_null(keys_get(&ring, STR_LIT("k")));
    assert_null(keys_get(&ring, STR_LIT("k12")));
    assert_null(keys_get(&ring, STR_LIT("K1")));
    assert_null(keys_get(&ring, STR_LIT("k1\0")));
    assert_null(keys_get(&ring, STR_NULL));
    keys_fini(&ring);
}

static void
test_keys_current_empty_ring(void **state)
{
    struct keyring ring;

    (void)state;
    memset(&ring, 0, sizeof(ring));
    assert_null(keys_current(&ring));
    assert_null(keys_get(&ring, STR_LIT("k1")));
}

static void
test_keys_fini_wipes(void **state)
{
    static const struct keyring zero;
    struct keyring ring;
    char err[256];

    (void)state;
    assert_int_equal(keys_load(write_text("{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\"}}"),
                               &ring, err, sizeof(err)),
                     0);
    keys_fini(&ring);
    assert_memory_equal(&ring, &zero, sizeof(ring));
}

/* No temp file may be left behind in dir. */
static void
assert_no_temp_files(void)
{
    struct dirent *e;
    DIR *d = opendir(dir);

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".tmp.") != NULL) {
            fail_msg("temp file %s left behind", e->d_name);
        }
    }
    closedir(d);
}

static bool
is_generated_kid(const char *kid)
{
    size_t i;

    if (strlen(kid) != 9 || kid[0] != 'k') {
        return false;
    }
    for (i = 1; i < 9; i++) {
        if (!((kid[i] >= '0' && kid[i] <= '9') || (kid[i] >= 'a' && kid[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

static void
test_keys_generate_new_file(void **state)
{
    const char *p = fresh_path();
    struct keyring ring;
    struct stat st;
    char err[256];

    (void)state;
    assert_int_equal(keys_generate(p), 0);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(keys_load(p, &ring, err, sizeof(err)), 0);
    assert_int_equal(ring.n, 1);
    assert_int_equal(keys_current(&ring)->len, KEYS_NEW_BYTES);
    assert_true(is_generated_kid(keys_current(&ring)->kid));
    keys_fini(&ring);
    assert_no_temp_files();
}

static void
test_keys_generate_keys_differ(void **state)
{
    struct keyring a, b;
    char err[256], p1[128];

    (void)state;
    assert_int_equal(keys_generate(fresh_path()), 0);
    snprintf(p1, sizeof(p1), "%s", path);
    assert_int_equal(keys_generate(fresh_path()), 0);
    assert_int_equal(keys_load(p1, &a, err, sizeof(err)), 0);
    assert_int_equal(keys_load(path, &b, err, sizeof(err)), 0);
    assert_memory_not_equal(a.keys[0].key, b.keys[0].key, KEYS_NEW_BYTES);
    keys_fini(&a);
    keys_fini(&b);
}

static void
test_keys_generate_existing_fails(void **state)
{
    const char *text = "{\"current\":\"k1\",\"keys\":{\"k1\":\"" KEY_A "\"}}";
    char buf[256] = "";
    FILE *f;

    (void)state;
    write_text(text);
    assert_int_equal(keys_generate(path), -1);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), strlen(text));
    fclose(f);
    assert_string_equal(buf, text);
    assert_no_temp_files();
}

static void
test_keys_rotate_adds_current_keeps_old(void **state)
{
    const char *p = fresh_path();
    struct keyring before, after;
    const struct key *old;
    struct stat st;
    char err[256];

    (void)state;
    assert_int_equal(keys_generate(p), 0);
    assert_int_equal(keys_load(p, &before, err, sizeof(err)), 0);
    assert_int_equal(keys_rotate(p), 0);
    assert_int_equal(keys_load(p, &after, err, sizeof(err)), 0);
    assert_int_equal(after.n, 2);
    assert_string_not_equal(keys_current(&after)->kid, before.keys[0].kid);
    assert_true(is_generated_kid(keys_current(&after)->kid));
    old = keys_get(&after, str_from(before.keys[0].kid));
    assert_non_null(old);
    assert_memory_equal(old->key, before.keys[0].key, KEYS_NEW_BYTES);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    keys_fini(&before);
    keys_fini(&after);
    assert_no_temp_files();
}

/* A full ring whose current key is the oldest drops the second oldest, not the current. */
static void
test_keys_rotate_drops_oldest_non_current(void **state)
{
    struct keyring ring;
    char text[8192], err[256], kid[8];
    size_t n, i;

    (void)state;
    n = (size_t)snprintf(text, sizeof(text), "{\"current\":\"k0\",\"keys\":{");
    for (i = 0; i < MAX_KEYS; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"k%zu\":\"" KEY_A "\"",
                              i > 0 ? "," : "", i);
    }
    snprintf(text + n, sizeof(text) - n, "}}");
    write_text(text);
    assert_int_equal(keys_rotate(path), 0);
    assert_int_equal(keys_load(path, &ring, err, sizeof(err)), 0);
    assert_int_equal(ring.n, MAX_KEYS);
    assert_non_null(keys_get(&ring, STR_LIT("k0")));
    assert_null(keys_get(&ring, STR_LIT("k1")));
    for (i = 2; i < MAX_KEYS; i++) {
        snprintf(kid, sizeof(kid), "k%zu", i);
        assert_non_null(keys_get(&ring, str_from(kid)));
    }
    assert_int_equal(ring.current, MAX_KEYS - 1);
    assert_true(is_generated_kid(keys_current(&ring)->kid));
    keys_fini(&ring);

    /* Rotating again drops k0: no longer current, it is the oldest. */
    assert_int_equal(keys_rotate(path), 0);
    assert_int_equal(keys_load(path, &ring, err, sizeof(err)), 0);
    assert_int_equal(ring.n, MAX_KEYS);
    assert_null(keys_get(&ring, STR_LIT("k0")));
    assert_non_null(keys_get(&ring, STR_LIT("k2")));
    keys_fini(&ring);
}

static void
test_keys_rotate_bad_file_fails(void **state)
{
    (void)state;
    assert_int_equal(keys_rotate(fresh_path()), -1);
    write_text("{\"current\":\"k1\"}");
    assert_int_equal(keys_rotate(path), -1);
    assert_no_temp_files();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_load_valid),
        cmocka_unit_test(test_keys_load_missing_file),
        cmocka_unit_test(test_keys_load_not_regular_file),
        cmocka_unit_test(test_keys_load_file_too_large),
        cmocka_unit_test(test_keys_load_not_json),
        cmocka_unit_test(test_keys_load_not_object),
        cmocka_unit_test(test_keys_load_unknown_member),
        cmocka_unit_test(test_keys_load_no_keys),
        cmocka_unit_test(test_keys_load_bad_current),
        cmocka_unit_test(test_keys_load_bad_kid),
        cmocka_unit_test(test_keys_load_key_not_string),
        cmocka_unit_test(test_keys_load_key_bad_base64url),
        cmocka_unit_test(test_keys_load_key_too_short),
        cmocka_unit_test(test_keys_load_key_too_long),
        cmocka_unit_test(test_keys_load_too_many_keys),
        cmocka_unit_test(test_keys_load_failure_keeps_ring),
        cmocka_unit_test(test_keys_get_exact_kid_only),
        cmocka_unit_test(test_keys_current_empty_ring),
        cmocka_unit_test(test_keys_fini_wipes),
        cmocka_unit_test(test_keys_generate_new_file),
        cmocka_unit_test(test_keys_generate_keys_differ),
        cmocka_unit_test(test_keys_generate_existing_fails),
        cmocka_unit_test(test_keys_rotate_adds_current_keeps_old),
        cmocka_unit_test(test_keys_rotate_drops_oldest_non_current),
        cmocka_unit_test(test_keys_rotate_bad_file_fails),
    };

    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
