/*
 * arena.h - per-request memory: a chain of blocks freed in one step, with cleanup
 * handlers for library objects (the nginx pool pattern). Nothing from an arena outlives
 * its request. Allocation past the arena's cap fails (returns NULL): that is our bug.
 */
#ifndef STREMORA_ARENA_H
#define STREMORA_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

typedef void (*arena_cleanup_fn)(void *p);

/* Returns a new arena that may hand out up to cap bytes, or NULL if malloc fails. */
struct arena *arena_new(size_t cap);
/* Runs the cleanups (newest first) and frees every block. NULL is a no-op. */
void arena_free(struct arena *a);
/* Runs the cleanups and frees all but the first block, for the next request. */
void arena_reset(struct arena *a);

/* Returns n zeroed bytes aligned for any type, or NULL past the cap. */
void *arena_alloc(struct arena *a, size_t n);
/* Returns nmemb * size zeroed bytes, or NULL on overflow or past the cap. */
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
/* Returns a NUL-terminated copy of the n bytes at p, or NULL past the cap. */
char *arena_strndup(struct arena *a, const char *p, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Returns a formatted string, or NULL past the cap. */
char *arena_sprintf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Registers fn(p) to run when the arena is reset or freed. Returns 0, or -1 (fn has not
 * run: the caller releases p itself). */
int arena_defer(struct arena *a, arena_cleanup_fn fn, void *p);
/* Runs (newest first) and forgets what arena_defer registered, keeping the memory. */
void arena_run_deferred(struct arena *a);

/* Bytes handed out since the last reset. */
size_t arena_used(const struct arena *a);

#endif
