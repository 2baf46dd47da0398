/*
 * keys.c - the key file: read and checked with json-c at start-up and on SIGHUP, written
 * by stremoractl (generate, rotate-keys). Writes go to a temp file in the same directory
 * that is fsync'd and renamed over the path, so a worker reloading at any moment sees the
 * old file or the new one, never half of one. Two rotations at once are not serialized:
 * the last rename wins, which is fine for a command run by hand.
 * Key bytes are wiped from every buffer this file owns once used (the file text, decoded
 * temporaries, json-c's copies of the strings); what json-c's tokener freed is beyond reach.
 */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "crypto.h"
#include "log.h"

#define KEYS_JSON_DEPTH 3 /* the file's object, "keys", a string: anything deeper is wrong */
#define KEYS_KID_RANDOM 4 /* random bytes in a new kid: "k" + 8 hex digits */
#define KEYS_KID_TRIES  8 /* attempts at a new kid not already in the ring */
#define KEYS_B64_MAX    ((MAX_KEY_BYTES * 4 + 2) / 3) /* unpadded base64url of the longest key */
/* Bytes of the text keys_rotate() writes: '"kid":"key",' per key, plus the framing. */
#define KEYS_TEXT ((size_t)MAX_KEYS * (MAX_KID + KEYS_B64_MAX + 6) + MAX_KID + 32)

__attribute__((format(printf, 3, 4))) static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool
kid_is_valid(struct str s)
{
    size_t i;

    if (s.len == 0 || s.len > MAX_KID) {
        return false;
    }
    for (i = 0; i < s.len; i++) {
        char c = s.p[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

/* Reads all of path into buf (MAX_KEY_FILE + 1 bytes); *n gets the length. */
static int
read_key_file(const char *path, char *buf, size_t *n, char *err, size_t errlen)
{
    struct stat st;
    ssize_t r;
    int fd, rc = -1;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
        set_err(err, errlen, "key file %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "key file %s: not a regular file", path);
        goto out;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        log_ev(LOG_WARN, "key_file_mode", "key file %s has mode %o; it should be 0600", path,
               (unsigned)(st.st_mode & 07777));
    }
    *n = 0;
    while (*n <= MAX_KEY_FILE) {
        if ((r = read(fd, buf + *n, MAX_KEY_FILE + 1 - *n)) == -1 && errno == EINTR) {
            continue;
        }
        if (r == -1) {
            set_err(err, errlen, "key file %s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0) {
            break;
        }
        *n += (size_t)r;
    }
    if (*n > MAX_KEY_FILE) {
        set_err(err, errlen, "key file %s: larger than %u bytes", path, MAX_KEY_FILE);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

/* Decodes one "kid": "base64url" member into the next slot of ring. */
static int
add_key(struct keyring *ring, const char *kid, json_object *v, char *err, size_t errlen)
{
    struct key *k = &ring->keys[ring->n];
    struct str b64;

    if (!kid_is_valid(str_from(kid))) {
        set_err(err, errlen, "a kid is not 1..%d bytes of [A-Za-z0-9_-]", MAX_KID);
        return -1;
    }
    if (ring->n == MAX_KEYS) {
        set_err(err, errlen, "more than %d keys", MAX_KEYS);
        return -1;
    }
    if (!json_object_is_type(v, json_type_string)) {
        set_err(err, errlen, "key %s is not a string", kid);
        return -1;
    }
    b64 = (struct str){json_object_get_string(v), (size_t)json_object_get_string_len(v)};
    if (b64.len > KEYS_B64_MAX) {
        set_err(err, errlen, "key %s is longer than %d bytes", kid, MAX_KEY_BYTES);
        return -1;
    }
    if (crypto_b64url_decode(b64, k->key, sizeof(k->key), &k->len) == -1) {
        set_err(err, errlen, "key %s is not unpadded base64url (RFC 4648 section 5)", kid);
        return -1;
    }
    if (k->len < MIN_KEY_BYTES) {
        set_err(err, errlen, "key %s is shorter than %d bytes", kid, MIN_KEY_BYTES);
        return -1;
    }
    memcpy(k->kid, kid, strlen(kid) + 1);
    ring->n++;
    return 0;
}

/* Fills ring from the "current" and "keys" members of the file's object. */
static int
fill_ring(json_object *root, struct keyring *ring, char *err, size_t errlen)
{
    struct json_object_iter it;
    json_object *current, *keys;
    const struct key *k;

    json_object_object_foreachC(root, it)
    {
        if (strcmp(it.key, "current") != 0 && strcmp(it.key, "keys") != 0) {
            set_err(err, errlen, "unknown member (only \"current\" and \"keys\" are allowed)");
            return -1;
        }
    }
    if (!json_object_object_get_ex(root, "keys", &keys) ||
        !json_object_is_type(keys, json_type_object) || json_object_object_length(keys) == 0) {
        set_err(err, errlen, "\"keys\" is missing, not an object, or empty");
        return -1;
    }
    json_object_object_foreachC(keys, it)
    {
        if (add_key(ring, it.key, it.val, err, errlen) == -1) {
            return -1;
        }
    }
    if (!json_object_object_get_ex(root, "current", &current) ||
        !json_object_is_type(current, json_type_string) ||
        !kid_is_valid(str_from(json_object_get_string(current)))) {
        set_err(err, errlen, "\"current\" is missing or not a kid");
        return -1;
    }
    if ((k = keys_get(ring, str_from(json_object_get_string(current)))) == NULL) {
        set_err(err, errlen, "current key %s is not in \"keys\"", json_object_get_string(current));
        return -1;
    }
    ring->current = (size_t)(k - ring->keys);
    return 0;
}

/* Wipes json-c's copies of the base64url keys before the tree is freed. */
static void
wipe_json_keys(json_object *root)
{
    struct json_object_iter it;
    json_object *keys;

    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "keys", &keys) ||
        !json_object_is_type(keys, json_type_object)) {
        return;
    }
    json_object_object_foreachC(keys, it)
    {
        if (json_object_is_type(it.val, json_type_string)) {
            /* json-c hands out its own buffer as const; it is ours to scrub before put. */
            crypto_wipe((char *)json_object_get_string(it.val),
                        (size_t)json_object_get_string_len(it.val));
        }
    }
}

static int
parse_ring(const char *text, size_t n, struct keyring *ring, char *err, size_t errlen)
{
    struct json_tokener *tok;
    json_object *root;
    size_t end;
    int rc = -1;

    if ((tok = json_tokener_new_ex(KEYS_JSON_DEPTH)) == NULL) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    root = json_tokener_parse_ex(tok, text, (int)n);
    end = json_tokener_get_parse_end(tok);
    while (end < n &&
           (text[end] == ' ' || text[end] == '\t' || text[end] == '\n' || text[end] == '\r')) {
        end++;
    }
    if (root == NULL || json_tokener_get_error(tok) != json_tokener_success || end != n) {
        set_err(err, errlen, "not valid JSON (or nested too deep)");
        goto out;
    }
    if (!json_object_is_type(root, json_type_object)) {
        set_err(err, errlen, "not a JSON object");
        goto out;
    }
    rc = fill_ring(root, ring, err, errlen);
out:
    wipe_json_keys(root);
    json_object_put(root);
    json_tokener_free(tok);
    return rc;
}

int
keys_load(const char *path, struct keyring *ring, char *err, size_t errlen)
{
    struct keyring tmp;
    char *text;
    size_t n = 0;
    int rc = -1;

    memset(&tmp, 0, sizeof(tmp));
    if ((text = malloc(MAX_KEY_FILE + 1)) == NULL) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    if (read_key_file(path, text, &n, err, errlen) == -1) {
        goto out;
    }
    if (parse_ring(text, n, &tmp, err, errlen) == -1) {
        goto out;
    }
    *ring = tmp;
    rc = 0;
out:
    crypto_wipe(text, n);
    free(text);
    keys_fini(&tmp);
    return rc;
}

const struct key *
keys_get(const struct keyring *ring, struct str kid)
{
    size_t i;

    for (i = 0; i < ring->n; i++) {
        if (str_eq_cstr(kid, ring->keys[i].kid)) {
            return &ring->keys[i];
        }
    }
    return NULL;
}

const struct key *
keys_current(const struct keyring *ring)
{
    return ring->current < ring->n ? &ring->keys[ring->current] : NULL;
}

/* Appends a random key with a fresh kid to ring and makes it current. */
static int
add_new_key(struct keyring *ring)
{
    unsigned char rnd[KEYS_KID_RANDOM];
    char hex[2 * KEYS_KID_RANDOM + 1];
    struct key *k = &ring->keys[ring->n];
    int tries;

    for (tries = 0; tries < KEYS_KID_TRIES; tries++) {
        if (crypto_random(rnd, sizeof(rnd)) == -1) {
            return -1;
        }
        crypto_hex(rnd, sizeof(rnd), hex);
        snprintf(k->kid, sizeof(k->kid), "k%s", hex);
        if (keys_get(ring, str_from(k->kid)) == NULL) {
            break;
        }
    }
    if (tries == KEYS_KID_TRIES || crypto_random(k->key, KEYS_NEW_BYTES) == -1) {
        log_ev(LOG_ERROR, "keys_new_failed", "could not make a new key");
        crypto_wipe(k, sizeof(*k));
        return -1;
    }
    k->len = KEYS_NEW_BYTES;
    ring->current = ring->n++;
    return 0;
}

/* Removes the oldest key that is not current (ring->n >= 2). */
static void
drop_oldest(struct keyring *ring)
{
    size_t i = ring->current == 0 ? 1 : 0;

    memmove(&ring->keys[i], &ring->keys[i + 1], (ring->n - i - 1) * sizeof(ring->keys[0]));
    ring->n--;
    crypto_wipe(&ring->keys[ring->n], sizeof(ring->keys[0]));
    if (ring->current > i) {
        ring->current--;
    }
}

static int
append(char *buf, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);

    if (len >= cap - *n) {
        return -1;
    }
    memcpy(buf + *n, s, len + 1);
    *n += len;
    return 0;
}

/* Writes ring as the key file's JSON into buf; kids and base64url need no escaping. */
static int
format_ring(const struct keyring *ring, char *buf, size_t cap, size_t *n)
{
    char b64[KEYS_B64_MAX + 1];
    size_t i;
    int rc = 0;

    *n = 0;
    rc |= append(buf, cap, n, "{\"current\":\"");
    rc |= append(buf, cap, n, ring->keys[ring->current].kid);
    rc |= append(buf, cap, n, "\",\"keys\":{");
    for (i = 0; i < ring->n; i++) {
        crypto_b64url_encode(ring->keys[i].key, ring->keys[i].len, b64);
        rc |= append(buf, cap, n, i > 0 ? ",\"" : "\"");
        rc |= append(buf, cap, n, ring->keys[i].kid);
        rc |= append(buf, cap, n, "\":\"");
        rc |= append(buf, cap, n, b64);
        rc |= append(buf, cap, n, "\"");
    }
    rc |= append(buf, cap, n, "}}\n");
    crypto_wipe(b64, sizeof(b64));
    return rc == 0 ? 0 : -1;
}

static int
write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        if ((w = write(fd, p, n)) == -1) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Moves tmp to path; without replace, fails if path exists, even if it appears meanwhile. */
static int
publish(const char *tmp, const char *path, bool replace)
{
    if (replace) {
        if (rename(tmp, path) == -1) {
            log_errno("rename", path);
            return -1;
        }
        return 0;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) {
        return 0;
    }
    if (errno == EINVAL || errno == ENOSYS) { /* the file system lacks RENAME_NOREPLACE */
        if (link(tmp, path) == 0) {
            unlink(tmp);
            return 0;
        }
    }
    if (errno == EEXIST) {
        log_ev(LOG_ERROR, "keys_generate_failed", "key file %s exists; not replacing it", path);
    } else {
        log_errno("renameat2", path);
    }
    return -1;
}

/* fsyncs the directory holding path so that the rename survives a crash. */
static void
sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t len = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    int fd;

    if (len >= sizeof(dir)) {
        return;
    }
    memcpy(dir, slash == NULL ? "." : path, len);
    dir[len] = '\0';
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
        log_errno("open", dir);
        return;
    }
    if (fsync(fd) == -1) {
        log_errno("fsync", dir);
    }
    close(fd);
}

/* Writes ring to path through a 0600 temp file beside it. When replacing, the new file
 * keeps the old one's owner and group, so workers running as another user still read it. */
static int
write_ring(const char *path, const struct keyring *ring, bool replace)
{
    char tmp[PATH_MAX], text[KEYS_TEXT];
    struct stat st;
    size_t n = 0;
    int fd = -1, rc = -1, len;

    tmp[0] = '\0'; /* no temp file to remove yet */
    if (format_ring(ring, text, sizeof(text), &n) == -1) {
        log_ev(LOG_ERROR, "keys_write_failed", "key file text does not fit");
        goto out;
    }
    len = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
    if (len < 0 || (size_t)len >= sizeof(tmp)) {
        log_ev(LOG_ERROR, "keys_write_failed", "key file path too long");
        tmp[0] = '\0';
        goto out;
    }
    if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) { /* mode 0600 */
        log_errno("mkostemp", tmp);
        tmp[0] = '\0';
        goto out;
    }
    if (replace && stat(path, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) == -1) {
        log_errno("fchown", tmp);
        goto out;
    }
    if (write_all(fd, text, n) == -1 || fsync(fd) == -1) {
        log_errno("write", tmp);
        goto out;
    }
    if (close(fd) == -1) {
        fd = -1;
        log_errno("close", tmp);
        goto out;
    }
    fd = -1;
    if (publish(tmp, path, replace) == -1) {
        goto out;
    }
    tmp[0] = '\0';
    sync_dir(path);
    rc = 0;
out:
    if (fd != -1) {
        close(fd);
    }
    if (tmp[0] != '\0') {
        unlink(tmp);
    }
    crypto_wipe(text, sizeof(text));
    return rc;
}

int
keys_generate(const char *path)
{
    struct keyring ring;
    struct stat st;
    int rc = -1;

    memset(&ring, 0, sizeof(ring));
    if (lstat(path, &st) == 0) {
        log_ev(LOG_ERROR, "keys_generate_failed", "key file %s exists; not replacing it", path);
        return -1;
    }
    if (add_new_key(&ring) == -1) {
        goto out;
    }
    rc = write_ring(path, &ring, false);
out:
    keys_fini(&ring);
    return rc;
}

int
keys_rotate(const char *path)
{
    struct keyring ring;
    char err[256];
    int rc = -1;

    memset(&ring, 0, sizeof(ring));
    if (keys_load(path, &ring, err, sizeof(err)) == -1) {
        log_ev(LOG_ERROR, "keys_rotate_failed", "%s", err);
        return -1;
    }
    if (ring.n == MAX_KEYS) {
        drop_oldest(&ring);
    }
    if (add_new_key(&ring) == -1) {
        goto out;
    }
    rc = write_ring(path, &ring, true);
out:
    keys_fini(&ring);
    return rc;
}

void
keys_fini(struct keyring *ring)
{
    crypto_wipe(ring, sizeof(*ring));
}
