/*
 * db_subscriptions.c - queries on subscriptions. Indexes they use
 * (sql-free-schemas/subscriptions.json): {subscriberId:1, channelId:1} unique (decides the
 * insert), {channelId:1, subscriberId:1} (reads them: remove, has; the local server reads
 * only one-field unique indexes, and a channel's followers: drop, recount),
 * {subscriberId:1, createdAt:-1, _id:-1} (a user's list, the feed's channels, a user's drop).
 */
#include "db_subscriptions.h"

#include <string.h>

#include "arena.h"

#define DROP_PAGE 200 /* a gone user's subscriptions read at a time */

/* Adds by (+1 or -1) to channel's subscriberCount; DB_NOT_FOUND when its user is gone. */
static enum db_status
count(struct arena *a, struct db *db, const bson_oid_t *channel, int64_t by)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, inc;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", channel);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$inc", &inc);
    BSON_APPEND_INT64(&inc, "subscriberCount", by);
    bson_append_document_end(&u, &inc);
    st = db_write(a, db, "users", DB_UPDATE_ONE, &f, &u, &matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st == DB_OK && matched == 0 ? DB_NOT_FOUND : st;
}

static void
key_filter(bson_t *f, const bson_oid_t *subscriber, const bson_oid_t *channel)
{
    BSON_APPEND_OID(f, "subscriberId", subscriber);
    BSON_APPEND_OID(f, "channelId", channel);
}

enum db_status
db_subscriptions_add(struct arena *a, struct db *db, const bson_oid_t *subscriber,
                     const bson_oid_t *channel, bool *created)
{
    bson_t doc = BSON_INITIALIZER;
    bson_oid_t id;
    enum db_status st;

    *created = false;
    bson_oid_init(&id, NULL);
    BSON_APPEND_OID(&doc, "_id", &id);
    key_filter(&doc, subscriber, channel);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", db_now_ms());
    st = db_insert(a, db, "subscriptions", &doc);
    bson_destroy(&doc);
    if (st == DB_DUPLICATE) {
        return DB_OK; /* the unique index says it is there already */
    }
    if (st != DB_OK) {
        return st;
    }
    *created = true;
    if ((st = count(a, db, channel, 1)) == DB_NOT_FOUND) {
        /* The channel's user went meanwhile (its drop may have run already): take it back,
         * so that nothing is left that no drop will see. */
        bson_t f = BSON_INITIALIZER;

        *created = false;
        BSON_APPEND_OID(&f, "_id", &id);
        st = db_write(a, db, "subscriptions", DB_DELETE_ONE, &f, NULL, NULL);
        bson_destroy(&f);
        return st == DB_OK ? DB_NOT_FOUND : st;
    }
    return st;
}

enum db_status
db_subscriptions_remove(struct arena *a, struct db *db, const bson_oid_t *subscriber,
                        const bson_oid_t *channel, bool *removed)
{
    bson_t f = BSON_INITIALIZER;
    int64_t gone = 0;
    enum db_status st;

    *removed = false;
    key_filter(&f, subscriber, channel);
    st = db_write(a, db, "subscriptions", DB_DELETE_ONE, &f, NULL, &gone);
    bson_destroy(&f);
    if (st != DB_OK || gone != 1) {
        return st;
    }
    *removed = true;
    st = count(a, db, channel, -1);
    return st == DB_NOT_FOUND ? DB_OK : st; /* the channel went: no count to keep */
}

enum db_status
db_subscriptions_has(struct arena *a, struct db *db, const bson_oid_t *subscriber,
                     const bson_oid_t *channel, bool *yes)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    key_filter(&f, subscriber, channel);
    st = db_find_one(a, db, "subscriptions", &f, &doc);
    bson_destroy(&f);
    *yes = st == DB_OK;
    return st == DB_NOT_FOUND ? DB_OK : st;
}

struct page {
    struct subscription *items;
    size_t n, max;
};

static int
page_one(void *ctx, const bson_t *doc)
{
    struct page *p = ctx;
    struct subscription *s = &p->items[p->n];

    if (db_get_oid(doc, "_id", &s->id) == 0 && db_get_oid(doc, "channelId", &s->channel) == 0) {
        bson_oid_to_string(&s->id, s->id_hex);
        s->created_at = db_get_i64(doc, "createdAt", 0);
        p->n++;
    }
    return p->n == p->max;
}

/* Reads subscriber's subscriptions newest first after the cursor into p, through
 * subscriberId_1_createdAt_-1__id_-1 (the sort names subscriberId first: the local planner
 * then sees the index's order). */
static enum db_status
read_page(struct arena *a, struct db *db, const bson_oid_t *subscriber, int64_t cursor_at,
          const bson_oid_t *cursor_id, struct page *p)
{
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, proj;
    enum db_status st;

    BSON_APPEND_OID(&f, "subscriberId", subscriber);
    if (cursor_id != NULL) {
        db_append_keyset(&f, "createdAt", DB_KEY_DATE, cursor_at, cursor_id, false);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "subscriberId", 1);
    BSON_APPEND_INT32(&sort, "createdAt", -1);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "channelId", 1);
    BSON_APPEND_INT32(&proj, "createdAt", 1);
    bson_append_document_end(&opts, &proj);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)p->max);
    st = db_find_each(a, db, "subscriptions", &f, &opts, page_one, p);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}

enum db_status
db_subscriptions_list(struct arena *a, struct db *db, const bson_oid_t *subscriber,
                      int64_t cursor_at, const bson_oid_t *cursor_id, size_t limit,
                      struct subscription **out, size_t *n)
{
    struct page p = {NULL, 0, limit};
    enum db_status st;

    *n = 0;
    if ((p.items = arena_calloc(a, limit + 1, sizeof(*p.items))) == NULL) {
        return DB_ERROR;
    }
    st = read_page(a, db, subscriber, cursor_at, cursor_id, &p);
    *out = p.items;
    *n = p.n;
    return st;
}

enum db_status
db_subscriptions_channels(struct arena *a, struct db *db, const bson_oid_t *subscriber, size_t max,
                          bson_oid_t *out, size_t *n)
{
    struct page p = {NULL, 0, max};
    enum db_status st;
    size_t i;

    *n = 0;
    if ((p.items = arena_calloc(a, max + 1, sizeof(*p.items))) == NULL) {
        return DB_ERROR;
    }
    st = read_page(a, db, subscriber, 0, NULL, &p);
    for (i = 0; i < p.n; i++) {
        bson_oid_copy(&p.items[i].channel, &out[i]);
    }
    *n = p.n;
    return st;
}

enum db_status
db_subscriptions_drop_user(struct arena *a, struct db *db, const bson_oid_t *user)
{
    struct page p = {NULL, 0, DROP_PAGE};
    bson_t f = BSON_INITIALIZER;
    enum db_status st;

    if ((p.items = arena_calloc(a, DROP_PAGE + 1, sizeof(*p.items))) == NULL) {
        return DB_ERROR;
    }
    /* The channels they followed: a page at a time, each read anew (the ones taken away are
     * gone from the next read); a count moves only for a delete that took one away. */
    do {
        size_t i;

        p.n = 0;
        st = read_page(a, db, user, 0, NULL, &p);
        for (i = 0; st == DB_OK && i < p.n; i++) {
            bson_t d = BSON_INITIALIZER;
            int64_t gone = 0;

            BSON_APPEND_OID(&d, "_id", &p.items[i].id);
            st = db_write(a, db, "subscriptions", DB_DELETE_ONE, &d, NULL, &gone);
            bson_destroy(&d);
            if (st == DB_OK && gone == 1 &&
                (st = count(a, db, &p.items[i].channel, -1)) == DB_NOT_FOUND) {
                st = DB_OK; /* that channel is gone too */
            }
        }
    } while (st == DB_OK && p.n == DROP_PAGE);
    if (st != DB_OK) {
        return st;
    }
    /* Their own channel's followers: no count to keep (the user document is gone). */
    BSON_APPEND_OID(&f, "channelId", user);
    st = db_write(a, db, "subscriptions", DB_DELETE_MANY, &f, NULL, NULL);
    bson_destroy(&f);
    return st;
}
