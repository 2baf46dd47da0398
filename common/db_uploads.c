/*
 * db_uploads.c - the uploads collection (db_uploads.h). Every write names the state it
 * expects (status, offset), so two workers racing on one upload cannot both move it: the
 * one whose filter no longer matches gets DB_CONFLICT, on MongoDB 7 and on the local server
 * behind its serializing front alike. Index: {expiresAt: 1} for the sweep.
 */
#include "db_uploads.h"

#include <string.h>

#include "arena.h"

#define COLL "uploads"

static void
from_bson(struct arena *a, const bson_t *doc, struct tus_upload *u)
{
    bson_iter_t it, arr;

    memset(u, 0, sizeof(*u));
    db_get_oid(doc, "_id", &u->id);
    bson_oid_to_string(&u->id, u->id_hex);
    db_get_oid(doc, "ownerId", &u->owner_id);
    u->length = db_get_i64(doc, "length", 0);
    u->offset = db_get_i64(doc, "offset", 0);
    u->meta.title = db_get_str(a, doc, "title");
    u->meta.description = db_get_str(a, doc, "description");
    u->meta.visibility = db_get_str(a, doc, "visibility");
    if (bson_iter_init_find(&it, doc, "tags") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        while (bson_iter_next(&arr) && u->meta.ntags < MAX_TAGS) {
            if (BSON_ITER_HOLDS_UTF8(&arr)) {
                u->meta.tags[u->meta.ntags++] = arena_strdup(a, bson_iter_utf8(&arr, NULL));
            }
        }
    }
    u->filename = db_get_str(a, doc, "filename");
    u->container = db_get_str(a, doc, "container");
    u->status = db_get_str(a, doc, "status");
    u->created_at = db_get_i64(doc, "createdAt", 0);
    u->updated_at = db_get_i64(doc, "updatedAt", 0);
    u->expires_at = db_get_i64(doc, "expiresAt", 0);
}

enum db_status
db_uploads_insert(struct arena *a, struct db *db, const struct tus_upload *u)
{
    bson_t doc = BSON_INITIALIZER, arr;
    char key[16];
    const char *k;
    enum db_status st;
    size_t i;

    BSON_APPEND_OID(&doc, "_id", &u->id);
    BSON_APPEND_OID(&doc, "ownerId", &u->owner_id);
    BSON_APPEND_INT64(&doc, "length", u->length);
    BSON_APPEND_INT64(&doc, "offset", 0);
    BSON_APPEND_UTF8(&doc, "title", u->meta.title);
    BSON_APPEND_UTF8(&doc, "description", u->meta.description);
    BSON_APPEND_ARRAY_BEGIN(&doc, "tags", &arr);
    for (i = 0; i < u->meta.ntags; i++) {
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof(key));
        BSON_APPEND_UTF8(&arr, k, u->meta.tags[i]);
    }
    bson_append_array_end(&doc, &arr);
    BSON_APPEND_UTF8(&doc, "visibility", u->meta.visibility);
    BSON_APPEND_UTF8(&doc, "filename", u->filename != NULL ? u->filename : "");
    BSON_APPEND_UTF8(&doc, "status", "open");
    BSON_APPEND_DATE_TIME(&doc, "createdAt", u->created_at);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", u->created_at);
    BSON_APPEND_DATE_TIME(&doc, "expiresAt", u->expires_at);
    st = db_insert(a, db, COLL, &doc);
    bson_destroy(&doc);
    return st;
}

enum db_status
db_uploads_get(struct arena *a, struct db *db, const bson_oid_t *id, struct tus_upload *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    if ((st = db_find_one(a, db, COLL, &f, &doc)) == DB_OK) {
        from_bson(a, doc, out);
    }
    bson_destroy(&f);
    return st;
}

/* {$set: set} on the upload if filter matches; DB_CONFLICT if it matches none. */
static enum db_status
set_where(struct arena *a, struct db *db, const bson_t *f, const bson_t *set)
{
    bson_t upd = BSON_INITIALIZER;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_DOCUMENT(&upd, "$set", set);
    st = db_write(a, db, COLL, DB_UPDATE_ONE, f, &upd, &matched);
    bson_destroy(&upd);
    return st == DB_OK && matched == 0 ? DB_CONFLICT : st;
}

enum db_status
db_uploads_advance(struct arena *a, struct db *db, const struct tus_upload *u, int64_t from,
                   int64_t to, const char *container, int64_t expires_at)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", &u->id);
    BSON_APPEND_UTF8(&f, "status", "open");
    BSON_APPEND_INT64(&f, "offset", from);
    BSON_APPEND_INT64(&set, "offset", to);
    if (container != NULL) {
        BSON_APPEND_UTF8(&set, "container", container);
    }
    if (to == u->length) {
        BSON_APPEND_UTF8(&set, "status", "finishing");
    }
    BSON_APPEND_DATE_TIME(&set, "updatedAt", db_now_ms());
    BSON_APPEND_DATE_TIME(&set, "expiresAt", expires_at);
    st = set_where(a, db, &f, &set);
    bson_destroy(&f);
    bson_destroy(&set);
    return st;
}

enum db_status
db_uploads_done(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_UTF8(&f, "status", "finishing");
    BSON_APPEND_UTF8(&set, "status", "done");
    BSON_APPEND_DATE_TIME(&set, "updatedAt", db_now_ms());
    st = set_where(a, db, &f, &set);
    bson_destroy(&f);
    bson_destroy(&set);
    return st;
}

enum db_status
db_uploads_delete(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    int64_t deleted = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    st = db_write(a, db, COLL, DB_DELETE_ONE, &f, NULL, &deleted);
    bson_destroy(&f);
    return st;
}

enum db_status
db_uploads_delete_expired(struct arena *a, struct db *db, const bson_oid_t *id, int64_t now)
{
    bson_t f = BSON_INITIALIZER, lt;
    int64_t deleted = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&f, "expiresAt", &lt);
    BSON_APPEND_DATE_TIME(&lt, "$lt", now);
    bson_append_document_end(&f, &lt);
    st = db_write(a, db, COLL, DB_DELETE_ONE, &f, NULL, &deleted);
    bson_destroy(&f);
    return st == DB_OK && deleted == 0 ? DB_NOT_FOUND : st;
}

struct each {
    struct arena *a;
    int (*fn)(void *ctx, const struct tus_upload *u);
    void *ctx;
};

static int
each_one(void *ctx, const bson_t *doc)
{
    struct each *e = ctx;
    struct tus_upload u;

    from_bson(e->a, doc, &u);
    return e->fn(e->ctx, &u);
}

enum db_status
db_uploads_each_expired(struct arena *a, struct db *db, int64_t now, int64_t limit,
                        int (*fn)(void *ctx, const struct tus_upload *u), void *ctx)
{
    bson_t f = BSON_INITIALIZER, lt, opts = BSON_INITIALIZER, sort;
    struct each e = {a, fn, ctx};
    enum db_status st;

    BSON_APPEND_DOCUMENT_BEGIN(&f, "expiresAt", &lt);
    BSON_APPEND_DATE_TIME(&lt, "$lt", now);
    bson_append_document_end(&f, &lt);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "expiresAt", 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", limit);
    st = db_find_each(a, db, COLL, &f, &opts, each_one, &e);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}
