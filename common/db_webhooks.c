/*
 * db_webhooks.c - queries on webhooks and webhook_deliveries. Indexes they use
 * (sql-free-schemas/): webhooks {ownerId:1, createdAt:-1, _id:-1}; deliveries
 * {webhookId:1, at:-1, _id:-1} (a webhook's attempts, newest first, by keyset) and {at:1}
 * (pruning). A delete names the owner in its filter: nobody deletes another's webhook.
 */
#include "db_webhooks.h"

#include <string.h>

#include "arena.h"

static void
hook_of(struct arena *a, const bson_t *doc, struct hook *h)
{
    bson_iter_t it, arr;

    memset(h, 0, sizeof(*h));
    db_get_oid(doc, "_id", &h->id);
    bson_oid_to_string(&h->id, h->id_hex);
    db_get_oid(doc, "ownerId", &h->owner_id);
    h->url = db_get_str(a, doc, "url");
    h->secret = db_get_str(a, doc, "secret");
    h->created_at = db_get_i64(doc, "createdAt", 0);
    if (bson_iter_init_find(&it, doc, "events") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        while (bson_iter_next(&arr) && h->nevents < WEBHOOK_EVENTS) {
            if (BSON_ITER_HOLDS_UTF8(&arr)) {
                h->events[h->nevents++] = arena_strdup(a, bson_iter_utf8(&arr, NULL));
            }
        }
    }
    if (h->url == NULL) {
        h->url = "";
    }
    if (h->secret == NULL) {
        h->secret = "";
    }
}

enum db_status
db_webhooks_insert(struct arena *a, struct db *db, struct hook *h)
{
    bson_t doc = BSON_INITIALIZER, arr;
    char key[16];
    const char *k;
    enum db_status st;
    size_t i;

    bson_oid_init(&h->id, NULL);
    bson_oid_to_string(&h->id, h->id_hex);
    BSON_APPEND_OID(&doc, "_id", &h->id);
    BSON_APPEND_OID(&doc, "ownerId", &h->owner_id);
    BSON_APPEND_UTF8(&doc, "url", h->url);
    BSON_APPEND_ARRAY_BEGIN(&doc, "events", &arr);
    for (i = 0; i < h->nevents; i++) {
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof(key));
        BSON_APPEND_UTF8(&arr, k, h->events[i]);
    }
    bson_append_array_end(&doc, &arr);
    BSON_APPEND_UTF8(&doc, "secret", h->secret);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", h->created_at);
    st = db_insert(a, db, "webhooks", &doc);
    bson_destroy(&doc);
    return st;
}

enum db_status
db_webhooks_get(struct arena *a, struct db *db, const bson_oid_t *id, struct hook *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    if ((st = db_find_one(a, db, "webhooks", &f, &doc)) == DB_OK) {
        hook_of(a, doc, out);
    }
    bson_destroy(&f);
    return st;
}

struct gather {
    struct arena *a;
    void *items;
    size_t n, max;
    bool hooks; /* else deliveries */
};

static void
delivery_of(struct arena *a, const bson_t *doc, struct hook_delivery *d)
{
    memset(d, 0, sizeof(*d));
    db_get_oid(doc, "_id", &d->id);
    bson_oid_to_string(&d->id, d->id_hex);
    db_get_oid(doc, "webhookId", &d->webhook_id);
    d->event_id = db_get_str(a, doc, "eventId");
    d->event = db_get_str(a, doc, "event");
    d->attempt = (int32_t)db_get_i64(doc, "attempt", 0);
    d->at = db_get_i64(doc, "at", 0);
    d->status_code = (int32_t)db_get_i64(doc, "statusCode", 0);
    d->duration_ms = (int32_t)db_get_i64(doc, "durationMs", 0);
    d->error = db_get_str(a, doc, "error");
}

static int
gather_one(void *ctx, const bson_t *doc)
{
    struct gather *g = ctx;

    if (g->n == g->max) {
        return 1;
    }
    if (g->hooks) {
        hook_of(g->a, doc, (struct hook *)g->items + g->n);
    } else {
        delivery_of(g->a, doc, (struct hook_delivery *)g->items + g->n);
    }
    g->n++;
    return 0;
}

/* opts {sort: {<by>: 1, <at>: -1, _id: -1}, limit: max}. */
static void
newest_first(bson_t *opts, const char *by, const char *at, size_t max)
{
    bson_t sort;

    BSON_APPEND_DOCUMENT_BEGIN(opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, by, 1);
    BSON_APPEND_INT32(&sort, at, -1);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(opts, &sort);
    BSON_APPEND_INT64(opts, "limit", (int64_t)max);
}

enum db_status
db_webhooks_list(struct arena *a, struct db *db, const bson_oid_t *owner, size_t max,
                 struct hook **out, size_t *n)
{
    struct gather g = {.a = a, .max = max, .hooks = true};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    enum db_status st;

    *n = 0;
    if ((g.items = arena_calloc(a, max > 0 ? max : 1, sizeof(struct hook))) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_OID(&f, "ownerId", owner);
    newest_first(&opts, "ownerId", "createdAt", max);
    st = db_find_each(a, db, "webhooks", &f, &opts, gather_one, &g);
    bson_destroy(&f);
    bson_destroy(&opts);
    *out = g.items;
    *n = g.n;
    return st;
}

enum db_status
db_webhooks_delete(struct arena *a, struct db *db, const bson_oid_t *owner, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    int64_t deleted = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_OID(&f, "ownerId", owner);
    st = db_write(a, db, "webhooks", DB_DELETE_ONE, &f, NULL, &deleted);
    bson_destroy(&f);
    return st == DB_OK && deleted == 0 ? DB_NOT_FOUND : st;
}

enum db_status
db_webhooks_delivery_insert(struct arena *a, struct db *db, const struct hook_delivery *d)
{
    bson_t doc = BSON_INITIALIZER;
    bson_oid_t id;
    enum db_status st;

    bson_oid_init(&id, NULL);
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_OID(&doc, "webhookId", &d->webhook_id);
    BSON_APPEND_UTF8(&doc, "eventId", d->event_id);
    BSON_APPEND_UTF8(&doc, "event", d->event);
    BSON_APPEND_INT32(&doc, "attempt", d->attempt);
    BSON_APPEND_DATE_TIME(&doc, "at", d->at);
    BSON_APPEND_INT32(&doc, "statusCode", d->status_code);
    BSON_APPEND_INT32(&doc, "durationMs", d->duration_ms);
    BSON_APPEND_UTF8(&doc, "error", d->error != NULL ? d->error : "");
    st = db_insert(a, db, "webhook_deliveries", &doc);
    bson_destroy(&doc);
    return st;
}

enum db_status
db_webhooks_deliveries(struct arena *a, struct db *db, const bson_oid_t *hook, bool has_cursor,
                       int64_t cursor_at, const bson_oid_t *cursor_id, size_t max,
                       struct hook_delivery **out, size_t *n)
{
    struct gather g = {.a = a, .max = max + 1, .hooks = false};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    enum db_status st;

    *n = 0;
    if ((g.items = arena_calloc(a, max + 1, sizeof(struct hook_delivery))) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_OID(&f, "webhookId", hook);
    if (has_cursor) {
        db_append_keyset_before(&f, "at", cursor_at, cursor_id);
    }
    newest_first(&opts, "webhookId", "at", max + 1);
    st = db_find_each(a, db, "webhook_deliveries", &f, &opts, gather_one, &g);
    bson_destroy(&f);
    bson_destroy(&opts);
    *out = g.items;
    *n = g.n;
    return st;
}

enum db_status
db_webhooks_prune(struct arena *a, struct db *db, int64_t before_ms, int64_t *n)
{
    bson_t f = BSON_INITIALIZER, cmp;
    enum db_status st;

    BSON_APPEND_DOCUMENT_BEGIN(&f, "at", &cmp);
    BSON_APPEND_DATE_TIME(&cmp, "$lt", before_ms);
    bson_append_document_end(&f, &cmp);
    st = db_write(a, db, "webhook_deliveries", DB_DELETE_MANY, &f, NULL, n);
    bson_destroy(&f);
    return st;
}
