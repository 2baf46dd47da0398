/*
 * lru.c - hash table (separate chaining, FNV-1a) over a doubly linked recency list.
 * Keys are short strings (MAX_CACHE_KEY); each entry is one malloc holding key and value.
 * The table has a fixed power-of-two bucket count sized at creation from max_entries.
 */
#include "lru.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "str.h"

struct entry {
    struct entry *hnext;       /* bucket chain */
    struct entry *prev, *next; /* recency: head is the newest */
    uint64_t expires_ms;
    uint64_t gen;
    uint32_t hash;
    size_t len;
    char key[MAX_CACHE_KEY + 1];
    _Alignas(16) unsigned char val[]; /* callers may store structs */
};

struct lru {
    struct entry **buckets;
    size_t nbuckets; /* power of two */
    struct entry *head, *tail;
    size_t count, bytes;
    size_t max_entries, max_bytes;
    uint64_t ttl_ms;
    uint32_t salt; /* this process's: its entries' lifetimes differ from other workers' */
    uint64_t hits, misses;
};

struct lru *
lru_new(size_t max_entries, size_t max_bytes, uint64_t ttl_ms)
{
    struct lru *c = calloc(1, sizeof(*c));
    size_t n = 16;

    if (c == NULL) {
        return NULL;
    }
    while (n < max_entries && n < ((size_t)1 << 24)) {
        n <<= 1;
    }
    if ((c->buckets = calloc(n, sizeof(c->buckets[0]))) == NULL) {
        free(c);
        return NULL;
    }
    c->nbuckets = n;
    c->max_entries = max_entries;
    c->max_bytes = max_bytes;
    c->ttl_ms = ttl_ms;
    c->salt = (uint32_t)getpid() * UINT32_C(2654435761);
    return c;
}

/* The TTL less up to a quarter, by key and process: the workers' copies of one hot page
 * do not all expire at once, so they are not all refilled at once (each refill waits its
 * turn at the database while the others stand still). */
static uint64_t
ttl_of(const struct lru *c, uint32_t hash)
{
    uint32_t mix = (hash ^ c->salt) * UINT32_C(2654435761);

    return c->ttl_ms - c->ttl_ms / 4 * (mix >> 22) / 1024;
}

static void
list_unlink(struct lru *c, struct entry *e)
{
    if (e->prev != NULL) {
        e->prev->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = NULL;
}

static void
list_push_head(struct lru *c, struct entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head != NULL) {
        c->head->prev = e;
    }
    c->head = e;
    if (c->tail == NULL) {
        c->tail = e;
    }
}

static struct entry **
find_slot(struct lru *c, const char *key, uint32_t h)
{
    struct entry **pp = &c->buckets[h & (c->nbuckets - 1)];

    while (*pp != NULL && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0)) {
        pp = &(*pp)->hnext;
    }
    return pp;
}

static void
remove_entry(struct lru *c, struct entry **slot)
{
    struct entry *e = *slot;

    *slot = e->hnext;
    list_unlink(c, e);
    c->count--;
    c->bytes -= e->len;
    free(e);
}

void
lru_free(struct lru *c)
{
    struct entry *e, *next;

    if (c == NULL) {
        return;
    }
    for (e = c->head; e != NULL; e = next) {
        next = e->next;
        free(e);
    }
    free(c->buckets);
    free(c);
}

const void *
lru_get(struct lru *c, const char *key, uint64_t now_ms, uint64_t gen, size_t *len)
{
    struct entry **slot;
    struct entry *e;

    if (c == NULL || strlen(key) > MAX_CACHE_KEY) {
        return NULL;
    }
    slot = find_slot(c, key, str_hash(str_from(key)));
    if ((e = *slot) == NULL) {
        c->misses++;
        return NULL;
    }
    if (now_ms >= e->expires_ms || e->gen != gen) {
        remove_entry(c, slot);
        c->misses++;
        return NULL;
    }
    list_unlink(c, e);
    list_push_head(c, e);
    c->hits++;
    *len = e->len;
    return e->val;
}

void
lru_del(struct lru *c, const char *key)
{
    struct entry **slot;

    if (c == NULL || strlen(key) > MAX_CACHE_KEY) {
        return;
    }
    slot = find_slot(c, key, str_hash(str_from(key)));
    if (*slot != NULL) {
        remove_entry(c, slot);
    }
}

void
lru_put(struct lru *c, const char *key, const void *val, size_t len, uint64_t now_ms, uint64_t gen)
{
    uint32_t h;
    struct entry *e;
    size_t klen;

    if (c == NULL || (klen = strlen(key)) > MAX_CACHE_KEY || len > c->max_bytes ||
        c->max_entries == 0) {
        return;
    }
    lru_del(c, key);
    while (c->tail != NULL && (c->count >= c->max_entries || c->bytes + len > c->max_bytes)) {
        remove_entry(c, find_slot(c, c->tail->key, c->tail->hash));
    }
    if ((e = malloc(sizeof(*e) + len)) == NULL) {
        return; /* degrade: serve without caching */
    }
    h = str_hash(str_from(key));
    memcpy(e->key, key, klen + 1);
    memcpy(e->val, val, len);
    e->len = len;
    e->hash = h;
    e->gen = gen;
    e->expires_ms = now_ms + ttl_of(c, h);
    e->prev = e->next = NULL;
    e->hnext = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = e;
    list_push_head(c, e);
    c->count++;
    c->bytes += len;
}

size_t
lru_count(const struct lru *c)
{
    return c != NULL ? c->count : 0;
}

uint64_t
lru_hits(const struct lru *c)
{
    return c != NULL ? c->hits : 0;
}

uint64_t
lru_misses(const struct lru *c)
{
    return c != NULL ? c->misses : 0;
}
