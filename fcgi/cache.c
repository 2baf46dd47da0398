/*
 * cache.c - what the handlers with a cached hot GET (users.c, videos.c) share: the LRU key
 * of an object, invalidation on every worker of the host (host.h generations), strong
 * ETags over the JSON body, and the 200/304 answer, and whole list pages (page_cache_*).
 * The object entries themselves are each handler's own format.
 */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "clock.h"
#include "crypto.h"
#include "host.h"
#include "lru.h"

void
cache_invalidate(struct request *r, char kind, const char *id_hex)
{
    char key[HOST_KEY_MAX];

    host_key(key, kind, id_hex);
    host_touch(r->app->host, kind, id_hex); /* a video's lists too */
    if (kind == 'u') {
        host_gen_bump(r->app->host, HOST_KEY_CHANNELS); /* a card or a count in any page */
    }
    lru_del(r->app->cache, key);
}

/* A cached page: its JSON, NUL included. */
struct page_entry {
    size_t json_len;
    char json[];
};

const char *
page_cache_get(struct request *r, struct page_cache *pc, const char *who, const char *const *deps,
               size_t ndeps)
{
    unsigned char digest[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    const char *id =
        arena_sprintf(r->arena, "%.*s?%.*s|%s", (int)r->path.len, r->path.p, (int)r->query.len,
                      r->query.p != NULL ? r->query.p : "", who != NULL ? who : "");
    const struct page_entry *e;
    size_t len = 0, i;

    pc->ok = false;
    /* Without the host file no write would end an entry (every generation reads 0). */
    if (id == NULL || r->app->host == NULL) {
        return NULL;
    }
    crypto_sha256(id, strlen(id), digest);
    crypto_hex(digest, 12, hex);
    host_key(pc->key, 'p', hex);
    /* The generations before the read (see users.c): a write after them ends the entry. */
    pc->gen = 0;
    for (i = 0; i < ndeps; i++) {
        pc->gen += host_gen(r->app->host, deps[i]);
    }
    pc->now = (uint64_t)clock_mono_ms();
    pc->ok = true;
    e = lru_get(r->app->cache, pc->key, pc->now, pc->gen, &len);
    if (e == NULL || len < sizeof(*e) || e->json_len != len - sizeof(*e) || e->json_len == 0 ||
        e->json[e->json_len - 1] != '\0') {
        return NULL;
    }
    return e->json;
}

void
page_cache_put(struct request *r, const struct page_cache *pc, const char *json)
{
    size_t jlen = json != NULL ? strlen(json) + 1 : 0;
    struct page_entry *e;

    if (!pc->ok || json == NULL || jlen > MAX_CACHED_PAGE ||
        (e = arena_alloc(r->arena, sizeof(*e) + jlen)) == NULL) {
        return;
    }
    e->json_len = jlen;
    memcpy(e->json, json, jlen);
    lru_put(r->app->cache, pc->key, e, sizeof(*e) + jlen, pc->now, pc->gen);
}

void
cache_etag(const char *body, char out[CACHE_ETAG_LEN + 1])
{
    unsigned char digest[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    crypto_sha256(body, strlen(body), digest);
    crypto_hex(digest, 8, hex);
    snprintf(out, CACHE_ETAG_LEN + 1, "\"%.16s\"", hex);
}

int
respond_etagged(struct request *r, struct str etag, const char *cache_control, const char *body,
                size_t len)
{
    struct str inm = req_env(r, "HTTP_IF_NONE_MATCH");

    respond_header(r, "ETag: %.*s", (int)etag.len, etag.p);
    respond_header(r, "Cache-Control: %s", cache_control);
    if (inm.len > 0 && (str_eq(etag, inm) || str_eq_cstr(inm, "*"))) {
        return respond_empty(r, 304);
    }
    return respond_body(r, 200, "application/json", body, len);
}
