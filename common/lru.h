/*
 * lru.h - a worker's cache of metadata (users, videos) as ready-made bytes: bounded in
 * entries and bytes, each entry valid for a TTL (other hosts' writes show within it) and
 * only while the object's generation number is the one recorded at insert (this host's
 * writes show at once; see host.h). An entry lives 3/4 of the TTL to all of it, set by
 * key and process, so that the workers' copies of one entry expire apart. Values are
 * copied in and out: nothing from a request's arena is kept.
 */
#ifndef STREMORA_LRU_H
#define STREMORA_LRU_H

#include <stddef.h>
#include <stdint.h>

struct lru;

/* Returns an empty cache, or NULL if malloc fails (callers then run without one). */
struct lru *lru_new(size_t max_entries, size_t max_bytes, uint64_t ttl_ms);
void lru_free(struct lru *c);
/* Returns the value of key (len in *len; aligned for any type), valid until the next lru_
 * call, or NULL if absent, expired at now_ms, or recorded under another generation. c may
 * be NULL. */
const void *lru_get(struct lru *c, const char *key, uint64_t now_ms, uint64_t gen, size_t *len);
/* Stores a copy of val under key with generation gen, evicting the least recently used
 * entries to stay in bounds. Does nothing when the value alone is over the byte bound or
 * memory runs out. */
void lru_put(struct lru *c, const char *key, const void *val, size_t len, uint64_t now_ms,
             uint64_t gen);
/* Removes key if present. */
void lru_del(struct lru *c, const char *key);
/* Entries held now; hits and misses since start. */
size_t lru_count(const struct lru *c);
uint64_t lru_hits(const struct lru *c);
uint64_t lru_misses(const struct lru *c);

#endif
