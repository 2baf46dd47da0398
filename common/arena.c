/*
 * arena.c - per-request memory. Blocks are chained; the first block is kept across
 * resets so that a worker serving small requests allocates nothing after warm-up.
 * Cleanups live in the arena itself and run newest first, so an object registered after
 * the one it depends on is released before it.
 */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (16u * 1024) /* bytes of the first (kept) block */
#define ARENA_ALIGN 16u

struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(16) unsigned char data[]; /* ARENA_ALIGN: the header is padded to it */
};

struct cleanup {
    struct cleanup *next;
    arena_cleanup_fn fn;
    void *p;
};

struct arena {
    struct block *head; /* current block; the first block is last in the chain */
    struct cleanup *cleanups;
    size_t cap;
    size_t total; /* bytes handed out since reset */
};

static struct block *
block_new(size_t size)
{
    struct block *b = malloc(sizeof(*b) + size);

    if (b == NULL) {
        return NULL;
    }
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct arena *
arena_new(size_t cap)
{
    struct arena *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        return NULL;
    }
    if ((a->head = block_new(ARENA_BLOCK)) == NULL) {
        free(a);
        return NULL;
    }
    a->cap = cap;
    return a;
}

void
arena_run_deferred(struct arena *a)
{
    struct cleanup *c = a->cleanups;

    a->cleanups = NULL;
    for (; c != NULL; c = c->next) {
        c->fn(c->p);
    }
}

void
arena_reset(struct arena *a)
{
    struct block *b, *next;

    arena_run_deferred(a);
    for (b = a->head; b->next != NULL; b = next) {
        next = b->next;
        free(b);
    }
    a->head = b;
    b->used = 0;
    a->total = 0;
}

void
arena_free(struct arena *a)
{
    if (a == NULL) {
        return;
    }
    arena_reset(a);
    free(a->head);
    free(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
    struct block *b = a->head;
    size_t need, off;
    void *p;

    if (n == 0) {
        n = 1;
    }
    if (n > a->cap || a->total > a->cap - n) {
        return NULL;
    }
    off = (b->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (off > b->size || b->size - off < n) {
        need = n > ARENA_BLOCK ? n : ARENA_BLOCK * 4;
        if ((b = block_new(need)) == NULL) {
            return NULL;
        }
        b->next = a->head;
        a->head = b;
        off = 0;
    }
    p = b->data + off;
    b->used = off + n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

void *
arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size) {
        return NULL;
    }
    return arena_alloc(a, nmemb * size);
}

char *
arena_strndup(struct arena *a, const char *p, size_t n)
{
    char *s;

    if (n == SIZE_MAX || (s = arena_alloc(a, n + 1)) == NULL) {
        return NULL;
    }
    if (n > 0) {
        memcpy(s, p, n);
    }
    s[n] = '\0';
    return s;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *
arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    char *s;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || (s = arena_alloc(a, (size_t)n + 1)) == NULL) {
        return NULL;
    }
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *
arena_sprintf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return s;
}

int
arena_defer(struct arena *a, arena_cleanup_fn fn, void *p)
{
    struct cleanup *c = arena_alloc(a, sizeof(*c));

    if (c == NULL) {
        return -1;
    }
    c->fn = fn;
    c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

size_t
arena_used(const struct arena *a)
{
    return a->total;
}
