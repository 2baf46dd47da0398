/*
 * fixtures.h - what several unit tests set up the same way: an arena for each test (as
 * *state), and key rings of known keys. Header-only, static inline: each test is a program
 * of its own and uses what it needs.
 */
#ifndef STREMORA_TESTS_FIXTURES_H
#define STREMORA_TESTS_FIXTURES_H

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"
#include "keys.h"

/* cmocka setup/teardown: *state is an arena of MAX_REQ_ARENA. */
static inline int
fixture_arena_setup(void **state)
{
    *state = arena_new(MAX_REQ_ARENA);
    return *state == NULL ? -1 : 0;
}

static inline int
fixture_arena_teardown(void **state)
{
    arena_free(*state);
    return 0;
}

/* k: kid, 32 bytes seed, seed + 1, ... */
static inline void
fixture_key(struct key *k, const char *kid, unsigned char seed)
{
    size_t i;

    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    for (i = 0; i < 32; i++) {
        k->key[i] = (unsigned char)(seed + i);
    }
    k->len = 32;
}

/* ring: k1 and k2; other: a k1 of other bytes (what a forger would sign with). */
static inline void
fixture_rings(struct keyring *ring, struct keyring *other)
{
    memset(ring, 0, sizeof(*ring));
    memset(other, 0, sizeof(*other));
    fixture_key(&ring->keys[0], "k1", 1);
    fixture_key(&ring->keys[1], "k2", 101);
    ring->n = 2;
    fixture_key(&other->keys[0], "k1", 201);
    other->n = 1;
}

#endif
