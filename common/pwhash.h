/*
 * pwhash.h - password hashes over libxcrypt: yescrypt for new hashes, bcrypt ($2b$) and any
 * other method libxcrypt knows still verify (and ask to be re-hashed). Not thread-safe: it
 * keeps one static crypt work area, as each Stremora process serves one request at a time.
 */
#ifndef STREMORA_PWHASH_H
#define STREMORA_PWHASH_H

#include "str.h"

struct arena;

enum pwhash_result {
    PWHASH_MATCH,
    PWHASH_MATCH_REHASH, /* correct, but stored is not yescrypt with today's parameters */
    PWHASH_MISMATCH,     /* wrong password, or one we refuse, or a stored value crypt rejects */
    PWHASH_ERROR,        /* our failure (out of memory), logged */
};

/* Returns a new yescrypt hash of password in a, or NULL (logged) if password holds a NUL
 * byte or is longer than libxcrypt takes (CRYPT_MAX_PASSPHRASE_SIZE - 1 bytes), or on failure. */
char *pwhash_hash(struct arena *a, struct str password);
/* Checks password against stored (a full crypt string) in constant time. */
enum pwhash_result pwhash_verify(struct str password, const char *stored);
/* Spends the time of a yescrypt pwhash_verify and discards the answer: call it when there is
 * no stored hash (unknown user), so that case takes as long as a wrong password. */
void pwhash_dummy_verify(struct str password);

#endif
