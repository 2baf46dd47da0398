/*
 * pwhash.c - password hashing with libxcrypt (crypt(5) strings: "$y$<params>$<salt>$<hash>"
 * for yescrypt, "$2b$<cost>$..." for bcrypt; DESIGN.md section 6). crypt_rn takes C strings,
 * so a password holding a NUL byte is refused rather than cut short. Invariants: every C copy
 * of a password and the crypt work area are wiped before a function returns, and a stored hash
 * is compared with the whole of crypt's output in constant time.
 */
#include "pwhash.h"

#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "arena.h"
#include "crypto.h"
#include "log.h"

#define PWHASH_METHOD "$y$" /* yescrypt, at libxcrypt's default cost */

/* crypt_rn's work area (~32 KB), static so that verify needs no arena; wiped after each use. */
static struct crypt_data work;
/* A real yescrypt hash, made on the first verify of either kind, for pwhash_dummy_verify. */
static char dummy_hash[CRYPT_OUTPUT_SIZE];
/* Bytes of "$y$<params>$" at the start of dummy_hash: the parameters we hash with now. */
static size_t current_len;

/* Copies password into buf (CRYPT_MAX_PASSPHRASE_SIZE bytes) as a C string. Returns 0, or
 * -1 if it holds a NUL byte or is longer than crypt takes. */
static int
password_cstr(struct str password, char *buf)
{
    if (password.len >= CRYPT_MAX_PASSPHRASE_SIZE ||
        (password.len > 0 && memchr(password.p, '\0', password.len) != NULL)) {
        return -1;
    }
    if (password.len > 0) {
        memcpy(buf, password.p, password.len);
    }
    buf[password.len] = '\0';
    return 0;
}

/* Writes a new yescrypt hash of phrase to out (CRYPT_OUTPUT_SIZE bytes). Returns 0, or -1
 * (logged) and leaves out alone. */
static int
make_hash(const char *phrase, char *out)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    const char *h;
    int rc = -1;

    if (crypt_gensalt_rn(PWHASH_METHOD, 0, NULL, 0, setting, sizeof(setting)) == NULL) {
        log_errno("crypt_gensalt_rn", PWHASH_METHOD);
        return -1;
    }
    if ((h = crypt_rn(phrase, setting, &work, sizeof(work))) == NULL) {
        log_errno("crypt_rn", PWHASH_METHOD);
        goto out;
    }
    memcpy(out, h, strlen(h) + 1); /* crypt's output always fits CRYPT_OUTPUT_SIZE */
    rc = 0;
out:
    crypto_wipe(&work, sizeof(work));
    return rc;
}

/* Makes dummy_hash and current_len once per process; retried on the next call if it fails. */
static void
init_dummy(void)
{
    char h[CRYPT_OUTPUT_SIZE];
    const char *end;

    if (dummy_hash[0] != '\0' || make_hash("stremora dummy password", h) == -1) {
        return;
    }
    if ((end = strchr(h + strlen(PWHASH_METHOD), '$')) == NULL) {
        log_ev(LOG_ERROR, "pwhash_bad_format", "crypt_rn gave a yescrypt hash without params");
        return;
    }
    memcpy(dummy_hash, h, strlen(h) + 1);
    current_len = (size_t)(end + 1 - h);
}

/* True if stored was made with the method and parameters pwhash_hash uses now. */
static bool
is_current(const char *stored)
{
    if (current_len == 0) { /* init_dummy failed: judge by the method alone */
        return strncmp(stored, PWHASH_METHOD, strlen(PWHASH_METHOD)) == 0;
    }
    return strncmp(stored, dummy_hash, current_len) == 0;
}

static enum pwhash_result
check(const char *phrase, const char *stored)
{
    enum pwhash_result r;
    const char *h;
    size_t n = strlen(stored);

    errno = 0;
    if ((h = crypt_rn(phrase, stored, &work, sizeof(work))) == NULL || h[0] == '*') {
        /* EINVAL: a locked account ("*", "!") or a method we lack; the user cannot log in. */
        r = errno == ENOMEM ? PWHASH_ERROR : PWHASH_MISMATCH;
        if (r == PWHASH_ERROR) {
            log_errno("crypt_rn", "stored hash");
        }
    } else if (strlen(h) != n || !crypto_eq(h, stored, n)) {
        r = PWHASH_MISMATCH;
    } else {
        r = is_current(stored) ? PWHASH_MATCH : PWHASH_MATCH_REHASH;
    }
    crypto_wipe(&work, sizeof(work));
    return r;
}

char *
pwhash_hash(struct arena *a, struct str password)
{
    char buf[CRYPT_MAX_PASSPHRASE_SIZE], h[CRYPT_OUTPUT_SIZE];
    char *copy = NULL;

    if (password_cstr(password, buf) == -1) {
        log_ev(LOG_INFO, "pwhash_refused", "password holds a NUL byte or is over %d bytes",
               CRYPT_MAX_PASSPHRASE_SIZE - 1);
        return NULL;
    }
    if (make_hash(buf, h) == 0 && (copy = arena_strdup(a, h)) == NULL) {
        log_ev(LOG_ERROR, "arena_full", "pwhash_hash: arena_strdup failed");
    }
    crypto_wipe(buf, sizeof(buf));
    return copy;
}

enum pwhash_result
pwhash_verify(struct str password, const char *stored)
{
    char buf[CRYPT_MAX_PASSPHRASE_SIZE];
    enum pwhash_result r;

    init_dummy(); /* so the first call pays for it whether or not the user exists */
    if (stored == NULL || password_cstr(password, buf) == -1) {
        return PWHASH_MISMATCH;
    }
    r = check(buf, stored);
    crypto_wipe(buf, sizeof(buf));
    return r;
}

void
pwhash_dummy_verify(struct str password)
{
    char buf[CRYPT_MAX_PASSPHRASE_SIZE];

    init_dummy();
    if (dummy_hash[0] == '\0' || password_cstr(password, buf) == -1) {
        return;
    }
    (void)check(buf, dummy_hash);
    crypto_wipe(buf, sizeof(buf));
}
