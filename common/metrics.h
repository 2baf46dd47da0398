/*
 * metrics.h - the shared-memory file every worker on a host maps (STREMORA_SHM_FILE). It
 * holds the table of generation numbers that keeps the workers' caches coherent: a write
 * bumps the slot of the object's key, and a cache entry recorded under another generation
 * is a miss, so a change is seen by every worker on the next request. (Request counters for
 * GET /metrics join this file in a later issue.) Without the file (it could not be opened)
 * every generation reads 0 and caches fall back to their TTL.
 */
#ifndef STREMORA_METRICS_H
#define STREMORA_METRICS_H

#include <stdint.h>

struct metrics;

/* Maps path (created at its full size if missing). Returns NULL and logs on failure. */
struct metrics *metrics_open(const char *path);
void metrics_close(struct metrics *m);
/* Returns the generation of key's slot (0 if m is NULL). */
uint64_t metrics_gen(const struct metrics *m, const char *key);
/* Bumps key's slot; every worker's cache entry for a key in that slot becomes stale. */
void metrics_gen_bump(struct metrics *m, const char *key);

#endif
