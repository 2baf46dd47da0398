/*
 * db_comments.c - queries on comments (db_comments.h). Indexes they use
 * (sql-free-schemas/comments.json): {targetId:1, reply:1, createdAt:-1, _id:-1} (a target's
 * top-level comments, newest first; a target's drop by its prefix), {targetId:1, reply:1,
 * likeCount:-1, _id:-1} (top first), {parentId:1, createdAt:1, _id:1} (a comment's replies,
 * oldest first), {authorId:1} (a user's drop). The sort always names the equality fields
 * first so that the local planner sees the index order. On the local server the keyset
 * range of the top list (a number: likeCount) is not pushed into the index search: the
 * read still walks the index in order from the target's first entry and filters, so a deep
 * page of "top" costs more than one of "newest" there (MongoDB bounds both).
 */
#include "db_comments.h"

#include <string.h>

#include "arena.h"
#include "db_ratings.h"

#define DROP_PAGE 200 /* comments read at once by the drops */

const char *
comment_target_name(enum comment_target k)
{
    return k == COMMENT_POST ? "post" : "video";
}

static const char *
target_collection(enum comment_target k)
{
    return k == COMMENT_POST ? "posts" : "videos";
}

static void
comment_of(struct arena *a, const bson_t *doc, struct comment *c)
{
    const char *kind = db_get_str(a, doc, "kind");

    memset(c, 0, sizeof(*c));
    db_get_oid(doc, "_id", &c->id);
    bson_oid_to_string(&c->id, c->id_hex);
    c->kind = kind != NULL && strcmp(kind, "post") == 0 ? COMMENT_POST : COMMENT_VIDEO;
    db_get_oid(doc, "targetId", &c->target);
    bson_oid_to_string(&c->target, c->target_hex);
    c->reply = db_get_oid(doc, "parentId", &c->parent) == 0;
    if (c->reply) {
        bson_oid_to_string(&c->parent, c->parent_hex);
    }
    c->has_author = db_get_oid(doc, "authorId", &c->author) == 0;
    c->body = db_get_str(a, doc, "body");
    c->deleted = db_get_bool(doc, "deleted", false);
    c->created_at = db_get_i64(doc, "createdAt", 0);
    c->edited_at = db_get_i64(doc, "editedAt", 0);
    c->like_count = db_get_i64(doc, "likeCount", 0);
    c->reply_count = db_get_i64(doc, "replyCount", 0);
}

enum db_status
db_comments_get(struct arena *a, struct db *db, const bson_oid_t *id, struct comment *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    if ((st = db_find_one(a, db, "comments", &f, &doc)) == DB_OK) {
        comment_of(a, doc, out);
    }
    bson_destroy(&f);
    return st;
}

/* $inc field of coll's document id by delta (only while it is not deleted, if live); *matched
 * says whether there was one. */
static enum db_status
bump_if(struct arena *a, struct db *db, const char *coll, const bson_oid_t *id, bool live,
        const char *field, int64_t delta, int64_t *matched)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, inc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    if (live) {
        BSON_APPEND_BOOL(&f, "deleted", false);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$inc", &inc);
    BSON_APPEND_INT64(&inc, field, delta);
    bson_append_document_end(&u, &inc);
    st = db_write(a, db, coll, DB_UPDATE_ONE, &f, &u, matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st;
}

static enum db_status
bump(struct arena *a, struct db *db, const char *coll, const bson_oid_t *id, const char *field,
     int64_t delta, int64_t *matched)
{
    return bump_if(a, db, coll, id, false, field, delta, matched);
}

/* Deletes comment id when filter's extra conditions hold (deleted, replyCount 0); *gone
 * says whether it did. Its ratings go with it. */
static enum db_status
delete_if(struct arena *a, struct db *db, const bson_oid_t *id, bool deleted, int64_t *gone)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_BOOL(&f, "deleted", deleted);
    BSON_APPEND_INT64(&f, "replyCount", 0);
    st = db_write(a, db, "comments", DB_DELETE_ONE, &f, NULL, gone);
    bson_destroy(&f);
    if (st == DB_OK && *gone == 1) {
        st = db_ratings_drop_target(a, db, id);
    }
    return st;
}

/* A deleted comment kept for its replies goes once it has none. */
static enum db_status
prune(struct arena *a, struct db *db, const bson_oid_t *id)
{
    int64_t gone = 0;

    return delete_if(a, db, id, true, &gone);
}

/* One reply fewer under parent: its count, and the parent itself if it was deleted and
 * this was its last reply. */
static enum db_status
reply_gone(struct arena *a, struct db *db, const bson_oid_t *parent)
{
    enum db_status st = bump(a, db, "comments", parent, "replyCount", -1, NULL);

    return st == DB_OK ? prune(a, db, parent) : st;
}

static void
doc_of(const struct comment *c, bson_t *doc)
{
    BSON_APPEND_OID(doc, "_id", &c->id);
    BSON_APPEND_UTF8(doc, "kind", comment_target_name(c->kind));
    BSON_APPEND_OID(doc, "targetId", &c->target);
    BSON_APPEND_BOOL(doc, "reply", c->reply);
    if (c->reply) {
        BSON_APPEND_OID(doc, "parentId", &c->parent);
    } else {
        BSON_APPEND_NULL(doc, "parentId");
    }
    BSON_APPEND_OID(doc, "authorId", &c->author);
    BSON_APPEND_UTF8(doc, "body", c->body);
    BSON_APPEND_BOOL(doc, "deleted", false);
    BSON_APPEND_DATE_TIME(doc, "createdAt", c->created_at);
    BSON_APPEND_NULL(doc, "editedAt");
    BSON_APPEND_INT64(doc, "likeCount", 0);
    BSON_APPEND_INT64(doc, "replyCount", 0);
}

enum db_status
db_comments_add(struct arena *a, struct db *db, struct comment *c)
{
    bson_t doc = BSON_INITIALIZER;
    int64_t matched = 0, gone = 0;
    enum db_status st;

    bson_oid_init(&c->id, NULL);
    bson_oid_to_string(&c->id, c->id_hex);
    bson_oid_to_string(&c->target, c->target_hex);
    if (c->reply) {
        bson_oid_to_string(&c->parent, c->parent_hex);
    }
    c->has_author = true;
    c->deleted = false;
    c->created_at = db_now_ms();
    c->edited_at = c->like_count = c->reply_count = 0;
    doc_of(c, &doc);
    st = db_insert(a, db, "comments", &doc);
    bson_destroy(&doc);
    if (st != DB_OK) {
        return st;
    }
    /* The reply first, then its count: a parent removed or deleted in between matches
     * nothing, and the reply is taken back. */
    if (c->reply) {
        if ((st = bump_if(a, db, "comments", &c->parent, true, "replyCount", 1, &matched)) !=
            DB_OK) {
            return st;
        }
        if (matched == 0) {
            st = delete_if(a, db, &c->id, false, &gone);
            return st == DB_OK ? DB_CONFLICT : st;
        }
    }
    st = bump(a, db, target_collection(c->kind), &c->target, "commentCount", 1, &matched);
    if (st != DB_OK || matched == 1) {
        return st;
    }
    /* The video or post went meanwhile (its drop may have run already): take it back. */
    if ((st = delete_if(a, db, &c->id, false, &gone)) == DB_OK && c->reply) {
        st = reply_gone(a, db, &c->parent);
    }
    return st == DB_OK ? DB_NOT_FOUND : st;
}

enum db_status
db_comments_update_body(struct arena *a, struct db *db, const bson_oid_t *id, const char *body,
                        int64_t edited_at)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_BOOL(&f, "deleted", false);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    BSON_APPEND_UTF8(&set, "body", body);
    BSON_APPEND_DATE_TIME(&set, "editedAt", edited_at);
    bson_append_document_end(&u, &set);
    st = db_write(a, db, "comments", DB_UPDATE_ONE, &f, &u, &matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st == DB_OK && matched == 0 ? DB_NOT_FOUND : st;
}

/* Keeps the live comment id as deleted (body and author gone); *matched 1 if it was live. */
static enum db_status
soft_delete(struct arena *a, struct db *db, const bson_oid_t *id, int64_t *matched)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_BOOL(&f, "deleted", false);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    BSON_APPEND_BOOL(&set, "deleted", true);
    BSON_APPEND_NULL(&set, "body");
    BSON_APPEND_NULL(&set, "authorId");
    bson_append_document_end(&u, &set);
    st = db_write(a, db, "comments", DB_UPDATE_ONE, &f, &u, matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st;
}

enum db_status
db_comments_remove(struct arena *a, struct db *db, const struct comment *c, bool *counted)
{
    int64_t gone = 0, matched = 0;
    enum db_status st;
    bool ignored;

    if (counted == NULL) {
        counted = &ignored;
    }
    *counted = false;
    /* Without replies (a reply never has any) it goes; the condition is checked by the
     * delete itself, so a reply added meanwhile keeps it. */
    if ((st = delete_if(a, db, &c->id, false, &gone)) != DB_OK) {
        return st;
    }
    if (gone == 1) {
        *counted = true;
        st = bump(a, db, target_collection(c->kind), &c->target, "commentCount", -1, NULL);
        if (st == DB_OK && c->reply) {
            st = reply_gone(a, db, &c->parent);
        }
        return st;
    }
    if (c->reply) {
        return DB_NOT_FOUND; /* already deleted */
    }
    if ((st = soft_delete(a, db, &c->id, &matched)) != DB_OK) {
        return st;
    }
    if (matched == 0) {
        return DB_NOT_FOUND;
    }
    *counted = true;
    st = bump(a, db, target_collection(c->kind), &c->target, "commentCount", -1, NULL);
    /* Its last reply may have gone between the two writes. */
    return st == DB_OK ? prune(a, db, &c->id) : st;
}

struct page {
    struct arena *a;
    struct comment *items;
    size_t n, max;
};

static int
page_one(void *ctx, const bson_t *doc)
{
    struct page *p = ctx;

    if (p->n == p->max) {
        return 1;
    }
    comment_of(p->a, doc, &p->items[p->n++]);
    return 0;
}

/* Reads up to max comments matching f in opts' order into p (items allocated here). */
static enum db_status
read_page(struct arena *a, struct db *db, const bson_t *f, bson_t *opts, size_t max, struct page *p)
{
    p->a = a;
    p->n = 0;
    p->max = max;
    if ((p->items = arena_calloc(a, max > 0 ? max : 1, sizeof(*p->items))) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_INT64(opts, "limit", (int64_t)max);
    return db_find_each(a, db, "comments", f, opts, page_one, p);
}

enum db_status
db_comments_list(struct arena *a, struct db *db, const struct comment_query *q,
                 struct comment **out, size_t *n)
{
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    bool top = q->parent == NULL && q->sort == COMMENT_TOP;
    const char *key = top ? "likeCount" : "createdAt";
    int dir = q->parent != NULL ? 1 : -1;
    struct page p;
    enum db_status st;

    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    if (q->parent != NULL) {
        BSON_APPEND_OID(&f, "parentId", q->parent);
        BSON_APPEND_INT32(&sort, "parentId", 1);
    } else {
        BSON_APPEND_OID(&f, "targetId", q->target);
        BSON_APPEND_BOOL(&f, "reply", false);
        BSON_APPEND_INT32(&sort, "targetId", 1);
        BSON_APPEND_INT32(&sort, "reply", 1);
    }
    BSON_APPEND_INT32(&sort, key, dir);
    BSON_APPEND_INT32(&sort, "_id", dir);
    bson_append_document_end(&opts, &sort);
    if (q->has_cursor) {
        db_append_keyset(&f, key, top ? DB_KEY_INT : DB_KEY_DATE, q->cursor_key, &q->cursor_id,
                         dir == 1);
    }
    st = read_page(a, db, &f, &opts, q->limit + 1, &p);
    bson_destroy(&f);
    bson_destroy(&opts);
    *out = p.items;
    *n = p.n;
    return st;
}

/* A page of what f matches (projected by proj) into p, read in a's scratch arena. */
static enum db_status
drop_page(struct arena *a, struct db *db, const bson_t *f, const char *proj_field, int proj,
          struct page *p)
{
    bson_t opts = BSON_INITIALIZER, pr;
    enum db_status st;

    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &pr);
    BSON_APPEND_INT32(&pr, proj_field, proj);
    bson_append_document_end(&opts, &pr);
    st = read_page(a, db, f, &opts, DROP_PAGE, p);
    bson_destroy(&opts);
    return st;
}

/* What a target's drop is given through db_drop_pages. */
struct drop_target {
    enum comment_target kind;
    const bson_oid_t *target;
};

/* A page of a target's comments goes, with their ratings. Each page is read anew: the ones
 * removed are gone from the next read. */
static enum db_status
drop_target_page(struct arena *a, struct db *db, const void *ctx, bool *more)
{
    const struct drop_target *t = ctx;
    bson_t f = BSON_INITIALIZER;
    enum db_status st;
    struct page p;
    size_t i;

    BSON_APPEND_OID(&f, "targetId", t->target);
    BSON_APPEND_UTF8(&f, "kind", comment_target_name(t->kind));
    st = drop_page(a, db, &f, "_id", 1, &p);
    bson_destroy(&f);
    for (i = 0; st == DB_OK && i < p.n; i++) {
        bson_t d = BSON_INITIALIZER;

        BSON_APPEND_OID(&d, "_id", &p.items[i].id);
        st = db_write(a, db, "comments", DB_DELETE_ONE, &d, NULL, NULL);
        bson_destroy(&d);
        if (st == DB_OK) {
            st = db_ratings_drop_target(a, db, &p.items[i].id);
        }
    }
    *more = p.n == DROP_PAGE;
    return st;
}

/* A page of a user's comments: each one read is removed or loses its author, so the next
 * read starts past it; a page in which nothing changed (someone else got there first)
 * ends the drop. */
static enum db_status
drop_user_page(struct arena *a, struct db *db, const void *user, bool *more)
{
    bson_t f = BSON_INITIALIZER;
    size_t changed = 0, i;
    enum db_status st;
    struct page p;

    BSON_APPEND_OID(&f, "authorId", user);
    st = drop_page(a, db, &f, "body", 0, &p);
    bson_destroy(&f);
    for (i = 0; st == DB_OK && i < p.n; i++) {
        st = db_comments_remove(a, db, &p.items[i], NULL);
        if (st == DB_OK) {
            changed++;
        } else if (st == DB_NOT_FOUND) {
            st = DB_OK;
        }
    }
    *more = p.n == DROP_PAGE && changed > 0;
    return st;
}

/* The drops take a (the caller's arena) for the common signature; db_drop_pages reads each
 * page in a scratch arena of its own. */
enum db_status
db_comments_drop_target(struct arena *a, struct db *db, enum comment_target kind,
                        const bson_oid_t *target)
{
    struct drop_target t = {kind, target};

    (void)a;
    return db_drop_pages(db, drop_target_page, &t);
}

enum db_status
db_comments_drop_user(struct arena *a, struct db *db, const bson_oid_t *user)
{
    (void)a;
    return db_drop_pages(db, drop_user_page, user);
}
