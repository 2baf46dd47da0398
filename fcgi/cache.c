/*
 * cache.c - what the handlers with a cached hot GET (users.c, videos.c) share: the LRU key
 * of an object, invalidation on every worker of the host (host.h generations), strong
 * ETags over the JSON body, and the 200/304 answer. The entries themselves are each
 * handler's own format.
 */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "crypto.h"
#include "host.h"
#include "lru.h"

void
cache_invalidate(struct request *r, char kind, const char *id_hex)
{
    char key[HOST_KEY_MAX];

    host_key(key, kind, id_hex);
    host_touch(r->app->host, kind, id_hex); /* a video's lists too */
    lru_del(r->app->cache, key);
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
