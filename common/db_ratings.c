/*
 * db_ratings.c - queries on ratings. Indexes they use (sql-free-schemas/ratings.json):
 * {userId:1, targetId:1} unique (one rating per user and target: set, clear, get, a user's
 * drop), {targetId:1} (a target's drop, recount), {userId:1, kind:1, value:1, at:-1, _id:-1}
 * (a user's likes, newest first).
 */
#include "db_ratings.h"

#include <string.h>

#include "arena.h"

#define SET_ROUNDS 16 /* racing writes: each round sees one of them land, so this is plenty */

const char *
rating_kind_name(enum rating_kind k)
{
    return k == RATE_COMMENT ? "comment" : k == RATE_POST ? "post" : "video";
}

const char *
rating_kind_collection(enum rating_kind k)
{
    return k == RATE_COMMENT ? "comments" : k == RATE_POST ? "posts" : "videos";
}

const char *
rating_value_name(enum rating_value v)
{
    return v == RATING_LIKE ? "like" : v == RATING_DISLIKE ? "dislike" : NULL;
}

static enum rating_value
value_of(const char *s)
{
    if (s != NULL && strcmp(s, "like") == 0) {
        return RATING_LIKE;
    }
    return s != NULL && strcmp(s, "dislike") == 0 ? RATING_DISLIKE : RATING_NONE;
}

static const char *
counter_of(enum rating_value v)
{
    return v == RATING_LIKE ? "likeCount" : "dislikeCount";
}

/* Adds up (+1 or -1 each; RATING_NONE: none) to the target's counters. DB_NOT_FOUND when the
 * target is gone. */
static enum db_status
count(struct arena *a, struct db *db, enum rating_kind kind, const bson_oid_t *target,
      enum rating_value up, enum rating_value down)
{
    int64_t matched = 0;
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, inc;
    enum db_status st;

    if (up == RATING_NONE && down == RATING_NONE) {
        return DB_OK;
    }
    BSON_APPEND_OID(&f, "_id", target);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$inc", &inc);
    if (up != RATING_NONE) {
        BSON_APPEND_INT64(&inc, counter_of(up), 1);
    }
    if (down != RATING_NONE) {
        BSON_APPEND_INT64(&inc, counter_of(down), -1);
    }
    bson_append_document_end(&u, &inc);
    st = db_write(a, db, rating_kind_collection(kind), DB_UPDATE_ONE, &f, &u, &matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st == DB_OK && matched == 0 ? DB_NOT_FOUND : st;
}

/* count, for a rating already there: a target that is gone has no counters to keep. */
static enum db_status
count_any(struct arena *a, struct db *db, enum rating_kind kind, const bson_oid_t *target,
          enum rating_value up, enum rating_value down)
{
    enum db_status st = count(a, db, kind, target, up, down);

    return st == DB_NOT_FOUND ? DB_OK : st;
}

/* The target went while we rated it (its drop may have run already): the rating the insert
 * made goes too, so that nothing is left that no drop will see. */
static enum db_status
take_back(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    st = db_write(a, db, "ratings", DB_DELETE_ONE, &f, NULL, NULL);
    bson_destroy(&f);
    return st == DB_OK ? DB_NOT_FOUND : st;
}

static void
key_filter(bson_t *f, const bson_oid_t *user, const bson_oid_t *target)
{
    BSON_APPEND_OID(f, "userId", user);
    BSON_APPEND_OID(f, "targetId", target);
}

static enum db_status
get_one(struct arena *a, struct db *db, const bson_oid_t *user, const bson_oid_t *target,
        enum rating_value *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    key_filter(&f, user, target);
    st = db_find_one(a, db, "ratings", &f, &doc);
    bson_destroy(&f);
    *out = RATING_NONE;
    if (st == DB_OK) {
        *out = value_of(db_get_str(a, doc, "value"));
    }
    return st == DB_NOT_FOUND ? DB_OK : st;
}

/* The stored rating becomes value if it is from now; *matched says whether it was. */
static enum db_status
change(struct arena *a, struct db *db, const bson_oid_t *user, const bson_oid_t *target,
       enum rating_value from, enum rating_value value, int64_t *matched)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set;
    enum db_status st;

    key_filter(&f, user, target);
    BSON_APPEND_UTF8(&f, "value", rating_value_name(from));
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    BSON_APPEND_UTF8(&set, "value", rating_value_name(value));
    BSON_APPEND_DATE_TIME(&set, "at", db_now_ms());
    bson_append_document_end(&u, &set);
    st = db_write(a, db, "ratings", DB_UPDATE_ONE, &f, &u, matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st;
}

enum db_status
db_ratings_set(struct arena *a, struct db *db, const bson_oid_t *user, enum rating_kind kind,
               const bson_oid_t *target, enum rating_value value, enum rating_value *before)
{
    enum db_status st = DB_CONFLICT;
    int round;

    *before = RATING_NONE;
    for (round = 0; round < SET_ROUNDS; round++) {
        bson_t doc = BSON_INITIALIZER;
        bson_oid_t id;
        enum rating_value now;
        int64_t matched = 0;

        bson_oid_init(&id, NULL);
        BSON_APPEND_OID(&doc, "_id", &id);
        key_filter(&doc, user, target);
        BSON_APPEND_UTF8(&doc, "kind", rating_kind_name(kind));
        BSON_APPEND_UTF8(&doc, "value", rating_value_name(value));
        BSON_APPEND_DATE_TIME(&doc, "at", db_now_ms());
        st = db_insert(a, db, "ratings", &doc);
        bson_destroy(&doc);
        if (st == DB_OK) {
            st = count(a, db, kind, target, value, RATING_NONE);
            return st == DB_NOT_FOUND ? take_back(a, db, &id) : st;
        }
        if (st != DB_DUPLICATE) {
            return st;
        }
        /* There is one: the unique index said so. What is it now? */
        if ((st = get_one(a, db, user, target, &now)) != DB_OK) {
            return st;
        }
        if (now == value) {
            *before = value;
            return DB_OK;
        }
        if (now == RATING_NONE) {
            continue; /* cleared meanwhile: insert again */
        }
        if ((st = change(a, db, user, target, now, value, &matched)) != DB_OK) {
            return st;
        }
        if (matched == 1) {
            *before = now;
            return count_any(a, db, kind, target, value, now);
        }
        /* Changed or cleared by someone else meanwhile: look again. */
    }
    return DB_CONFLICT;
}

enum db_status
db_ratings_clear(struct arena *a, struct db *db, const bson_oid_t *user, enum rating_kind kind,
                 const bson_oid_t *target, enum rating_value *before)
{
    static const enum rating_value values[] = {RATING_LIKE, RATING_DISLIKE};
    size_t i;

    *before = RATING_NONE;
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        bson_t f = BSON_INITIALIZER;
        int64_t gone = 0;
        enum db_status st;

        key_filter(&f, user, target);
        BSON_APPEND_UTF8(&f, "value", rating_value_name(values[i]));
        st = db_write(a, db, "ratings", DB_DELETE_ONE, &f, NULL, &gone);
        bson_destroy(&f);
        if (st != DB_OK) {
            return st;
        }
        if (gone == 1) {
            *before = values[i];
            return count_any(a, db, kind, target, RATING_NONE, values[i]);
        }
    }
    return DB_OK;
}

struct many {
    struct arena *a;
    const bson_oid_t *targets;
    size_t n;
    enum rating_value *out;
};

static int
many_one(void *ctx, const bson_t *doc)
{
    struct many *m = ctx;
    bson_oid_t t;
    size_t i;

    if (db_get_oid(doc, "targetId", &t) == 0) {
        for (i = 0; i < m->n; i++) {
            if (bson_oid_equal(&t, &m->targets[i])) {
                m->out[i] = value_of(db_get_str(m->a, doc, "value"));
            }
        }
    }
    return 0;
}

enum db_status
db_ratings_get_many(struct arena *a, struct db *db, const bson_oid_t *user,
                    const bson_oid_t *targets, size_t n, enum rating_value *out)
{
    struct many m = {a, targets, n, out};
    bson_t f = BSON_INITIALIZER, in, arr;
    enum db_status st;
    size_t i;

    for (i = 0; i < n; i++) {
        out[i] = RATING_NONE;
    }
    if (n == 0) {
        return DB_OK;
    }
    BSON_APPEND_OID(&f, "userId", user);
    BSON_APPEND_DOCUMENT_BEGIN(&f, "targetId", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (i = 0; i < n; i++) {
        const char *kp;
        char k[16];

        bson_uint32_to_string((uint32_t)i, &kp, k, sizeof(k));
        BSON_APPEND_OID(&arr, kp, &targets[i]);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&f, &in);
    st = db_find_each(a, db, "ratings", &f, NULL, many_one, &m);
    bson_destroy(&f);
    return st;
}

struct likes {
    struct rating_item *items;
    size_t n, max;
};

static int
likes_one(void *ctx, const bson_t *doc)
{
    struct likes *l = ctx;
    struct rating_item *it = &l->items[l->n];

    if (db_get_oid(doc, "_id", &it->id) == 0 && db_get_oid(doc, "targetId", &it->target) == 0) {
        bson_oid_to_string(&it->id, it->id_hex);
        it->at = db_get_i64(doc, "at", 0);
        l->n++;
    }
    return l->n == l->max;
}

enum db_status
db_ratings_list_likes(struct arena *a, struct db *db, const bson_oid_t *user, enum rating_kind kind,
                      int64_t cursor_at, const bson_oid_t *cursor_id, size_t limit,
                      struct rating_item **out, size_t *n)
{
    struct likes l = {NULL, 0, limit};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    enum db_status st;

    *n = 0;
    if ((l.items = arena_calloc(a, limit + 1, sizeof(*l.items))) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_OID(&f, "userId", user);
    BSON_APPEND_UTF8(&f, "kind", rating_kind_name(kind));
    BSON_APPEND_UTF8(&f, "value", "like");
    if (cursor_id != NULL) {
        db_append_keyset(&f, "at", DB_KEY_DATE, cursor_at, cursor_id, false);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "userId", 1);
    BSON_APPEND_INT32(&sort, "kind", 1);
    BSON_APPEND_INT32(&sort, "value", 1);
    BSON_APPEND_INT32(&sort, "at", -1);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)limit);
    st = db_find_each(a, db, "ratings", &f, &opts, likes_one, &l);
    bson_destroy(&f);
    bson_destroy(&opts);
    *out = l.items;
    *n = l.n;
    return st;
}

enum db_status
db_ratings_drop_target(struct arena *a, struct db *db, const bson_oid_t *target)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "targetId", target);
    st = db_write(a, db, "ratings", DB_DELETE_MANY, &f, NULL, NULL);
    bson_destroy(&f);
    return st;
}

/* One of a user's ratings, read before it is taken away. */
struct owned {
    bson_oid_t id, target;
    enum rating_kind kind;
    enum rating_value value;
};

struct owned_page {
    struct arena *a;
    struct owned *items;
    size_t n, max;
};

static int
owned_one(void *ctx, const bson_t *doc)
{
    struct owned_page *p = ctx;
    struct owned *o = &p->items[p->n];
    const char *kind = db_get_str(p->a, doc, "kind");

    if (db_get_oid(doc, "_id", &o->id) == 0 && db_get_oid(doc, "targetId", &o->target) == 0) {
        o->kind = kind == NULL                   ? RATE_VIDEO
                  : strcmp(kind, "comment") == 0 ? RATE_COMMENT
                  : strcmp(kind, "post") == 0    ? RATE_POST
                                                 : RATE_VIDEO;
        o->value = value_of(db_get_str(p->a, doc, "value"));
        p->n++;
    }
    return p->n == p->max;
}

/* A page of the user's ratings goes, their targets' counters with them; each one read is
 * gone from the next read. */
static enum db_status
drop_user_page(struct arena *a, struct db *db, const void *user, bool *more)
{
    enum { PAGE = 200 };
    struct owned_page p = {a, NULL, 0, PAGE};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    enum db_status st;
    size_t i;

    if ((p.items = arena_calloc(a, PAGE, sizeof(*p.items))) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_OID(&f, "userId", user);
    BSON_APPEND_INT64(&opts, "limit", PAGE);
    st = db_find_each(a, db, "ratings", &f, &opts, owned_one, &p);
    bson_destroy(&f);
    bson_destroy(&opts);
    for (i = 0; st == DB_OK && i < p.n; i++) {
        bson_t d = BSON_INITIALIZER;
        int64_t gone = 0;

        BSON_APPEND_OID(&d, "_id", &p.items[i].id);
        st = db_write(a, db, "ratings", DB_DELETE_ONE, &d, NULL, &gone);
        bson_destroy(&d);
        if (st == DB_OK && gone == 1) {
            st = count_any(a, db, p.items[i].kind, &p.items[i].target, RATING_NONE,
                           p.items[i].value);
        }
    }
    *more = p.n == PAGE;
    return st;
}

enum db_status
db_ratings_drop_user(struct arena *a, struct db *db, const bson_oid_t *user)
{
    /* a is the caller's; db_drop_pages reads each page in a scratch arena of its own. */
    (void)a;
    return db_drop_pages(db, drop_user_page, user);
}
