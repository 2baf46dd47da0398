/*
 * metrics.h - the shared-memory file every worker on a host maps (STREMORA_SHM_FILE). It
 * holds the table of generation numbers that keeps the workers' caches coherent: a write
 * bumps the slot of the object's key, and a cache entry recorded under another generation
 * is a miss, so a change is seen by every worker on the next request. It also holds who is
 * reading an upload, so that uploads never take every worker. (Request counters for
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

#define METRICS_UPLOAD_SLOTS 64   /* uploads the file can track on one host */
#define METRICS_NO_SLOT      (-2) /* no file: uploads are not counted */
/* Claims an upload slot for this process unless max uploads are already being read on
 * this host (slots of dead pids count as free). Returns the slot, METRICS_NO_SLOT without a
 * file, or -1 when full. */
int metrics_upload_begin(struct metrics *m, unsigned max);
/* Frees a slot from metrics_upload_begin (a negative slot is a no-op). */
void metrics_upload_end(struct metrics *m, int slot);

#endif
