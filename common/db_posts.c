/*
 * db_posts.c - queries on posts (db_posts.h). Indexes they use (sql-free-schemas/posts.json):
 * {authorId:1, createdAt:-1, _id:-1} (a channel's posts, newest first, by keyset; a user's
 * drop by its prefix) and _id.
 */
#include "db_posts.h"

#include <string.h>

#include "arena.h"
#include "db_comments.h"
#include "db_ratings.h"

#define DROP_PAGE 100 /* posts read at once by a user's drop */

static void
post_of(struct arena *a, const bson_t *doc, struct post *p)
{
    memset(p, 0, sizeof(*p));
    db_get_oid(doc, "_id", &p->id);
    bson_oid_to_string(&p->id, p->id_hex);
    db_get_oid(doc, "authorId", &p->author);
    p->body = db_get_str(a, doc, "body");
    p->created_at = db_get_i64(doc, "createdAt", 0);
    p->edited_at = db_get_i64(doc, "editedAt", 0);
    p->like_count = db_get_i64(doc, "likeCount", 0);
    p->comment_count = db_get_i64(doc, "commentCount", 0);
    if (p->body == NULL) {
        p->body = "";
    }
}

enum db_status
db_posts_insert(struct arena *a, struct db *db, struct post *p)
{
    bson_t doc = BSON_INITIALIZER;
    enum db_status st;

    bson_oid_init(&p->id, NULL);
    bson_oid_to_string(&p->id, p->id_hex);
    p->created_at = db_now_ms();
    p->edited_at = p->like_count = p->comment_count = 0;
    BSON_APPEND_OID(&doc, "_id", &p->id);
    BSON_APPEND_OID(&doc, "authorId", &p->author);
    BSON_APPEND_UTF8(&doc, "body", p->body);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", p->created_at);
    BSON_APPEND_NULL(&doc, "editedAt");
    BSON_APPEND_INT64(&doc, "likeCount", 0);
    BSON_APPEND_INT64(&doc, "commentCount", 0);
    st = db_insert(a, db, "posts", &doc);
    bson_destroy(&doc);
    return st;
}

enum db_status
db_posts_get(struct arena *a, struct db *db, const bson_oid_t *id, struct post *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    if ((st = db_find_one(a, db, "posts", &f, &doc)) == DB_OK) {
        post_of(a, doc, out);
    }
    bson_destroy(&f);
    return st;
}

enum db_status
db_posts_update_body(struct arena *a, struct db *db, const bson_oid_t *id, const char *body,
                     int64_t edited_at)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    BSON_APPEND_UTF8(&set, "body", body);
    BSON_APPEND_DATE_TIME(&set, "editedAt", edited_at);
    bson_append_document_end(&u, &set);
    st = db_write(a, db, "posts", DB_UPDATE_ONE, &f, &u, &matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st == DB_OK && matched == 0 ? DB_NOT_FOUND : st;
}

enum db_status
db_posts_delete(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    int64_t gone = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    st = db_write(a, db, "posts", DB_DELETE_ONE, &f, NULL, &gone);
    bson_destroy(&f);
    return st == DB_OK && gone == 0 ? DB_NOT_FOUND : st;
}

struct page {
    struct arena *a;
    struct post *items;
    size_t n, max;
};

static int
page_one(void *ctx, const bson_t *doc)
{
    struct page *p = ctx;

    if (p->n == p->max) {
        return 1;
    }
    post_of(p->a, doc, &p->items[p->n++]);
    return 0;
}

/* Up to max of the author's posts newest first (after the cursor when cursor_id is set). */
static enum db_status
read_page(struct arena *a, struct db *db, const bson_oid_t *author, int64_t cursor_at,
          const bson_oid_t *cursor_id, size_t max, bool with_body, struct page *p)
{
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, pr;
    enum db_status st;

    p->a = a;
    p->n = 0;
    p->max = max;
    if ((p->items = arena_calloc(a, max > 0 ? max : 1, sizeof(*p->items))) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_OID(&f, "authorId", author);
    if (cursor_id != NULL) {
        db_append_keyset(&f, "createdAt", DB_KEY_DATE, cursor_at, cursor_id, false);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "authorId", 1);
    BSON_APPEND_INT32(&sort, "createdAt", -1);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(&opts, &sort);
    if (!with_body) {
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &pr);
        BSON_APPEND_INT32(&pr, "body", 0);
        bson_append_document_end(&opts, &pr);
    }
    BSON_APPEND_INT64(&opts, "limit", (int64_t)max);
    st = db_find_each(a, db, "posts", &f, &opts, page_one, p);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}

enum db_status
db_posts_list_author(struct arena *a, struct db *db, const bson_oid_t *author, bool has_cursor,
                     int64_t cursor_at, const bson_oid_t *cursor_id, size_t limit,
                     struct post **out, size_t *n)
{
    struct page p;
    enum db_status st;

    st = read_page(a, db, author, cursor_at, has_cursor ? cursor_id : NULL, limit + 1, true, &p);
    *out = p.items;
    *n = p.n;
    return st;
}

/* One post's comments and ratings, then the post; once more the comments, for one that
 * came in between. */
static enum db_status
drop_one(struct arena *a, struct db *db, const bson_oid_t *id)
{
    enum db_status st;

    if ((st = db_comments_drop_target(a, db, COMMENT_POST, id)) != DB_OK ||
        (st = db_ratings_drop_target(a, db, id)) != DB_OK) {
        return st;
    }
    st = db_posts_delete(a, db, id);
    if (st != DB_OK && st != DB_NOT_FOUND) {
        return st;
    }
    return db_comments_drop_target(a, db, COMMENT_POST, id);
}

/* A page of the user's posts goes, each with its comments and ratings; each post read is
 * gone from the next read. */
static enum db_status
drop_user_page(struct arena *a, struct db *db, const void *user, bool *more)
{
    enum db_status st;
    struct page p;
    size_t i;

    st = read_page(a, db, user, 0, NULL, DROP_PAGE, false, &p);
    for (i = 0; st == DB_OK && i < p.n; i++) {
        st = drop_one(a, db, &p.items[i].id);
    }
    *more = p.n == DROP_PAGE;
    return st;
}

enum db_status
db_posts_drop_user(struct arena *a, struct db *db, const bson_oid_t *user)
{
    /* a is the caller's; db_drop_pages reads each page in a scratch arena of its own. */
    (void)a;
    return db_drop_pages(db, drop_user_page, user);
}
