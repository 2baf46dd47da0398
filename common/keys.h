/*
 * keys.h - the signing-key ring for access tokens and media links (DESIGN.md sections 6
 * and 8). The key file is JSON, {"current":"<kid>","keys":{"<kid>":"<base64url key>"}},
 * written only by keys_generate() and keys_rotate(). A ring is plain data, so a worker
 * can load a new one on SIGHUP and swap it in only if loading worked.
 */
#ifndef STREMORA_KEYS_H
#define STREMORA_KEYS_H

#include <stddef.h>

#include "bounds.h"
#include "str.h"

#define KEYS_NEW_BYTES 32 /* bytes of a key made by keys_generate() and keys_rotate() */

struct key {
    char kid[MAX_KID + 1]; /* [A-Za-z0-9_-], NUL-terminated */
    unsigned char key[MAX_KEY_BYTES];
    size_t len; /* MIN_KEY_BYTES..MAX_KEY_BYTES */
};

struct keyring {
    struct key keys[MAX_KEYS]; /* in file order, oldest first */
    size_t n;
    size_t current; /* index into keys */
};

/* Loads the key file at path into ring. Returns 0, or -1 with a one-line reason in err
 * (ring is then left as it was, so a failed reload keeps the old keys). */
int keys_load(const char *path, struct keyring *ring, char *err, size_t errlen);
/* Returns the key named kid, or NULL if the ring has none; points into ring. */
const struct key *keys_get(const struct keyring *ring, struct str kid);
/* Returns the key to sign with, pointing into ring, or NULL if the ring is empty. */
const struct key *keys_current(const struct keyring *ring);
/* Writes a new key file with one random key, mode 0600, atomically. Returns 0, or -1
 * (logged) if path exists or writing fails. */
int keys_generate(const char *path);
/* Adds a random key to the file at path and makes it current, keeping the older keys so
 * their tokens still verify; past MAX_KEYS the oldest non-current key goes. Returns 0, or
 * -1 (logged; the file is then unchanged). */
int keys_rotate(const char *path);
/* Wipes every key in ring. */
void keys_fini(struct keyring *ring);

#endif
