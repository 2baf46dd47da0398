/*
 * comments.c - comments on videos and on community posts, one code path for both (a
 * target: a video or a post), with one level of replies.
 *   POST   /api/v1/videos/{id}/comments  {body, parentId?} -> 201 Comment
 *   GET    /api/v1/videos/{id}/comments  ?sort=newest|top&limit=&cursor= top-level comments
 *   POST   /api/v1/posts/{id}/comments   the same on a post
 *   GET    /api/v1/posts/{id}/comments
 *   GET    /api/v1/comments/{id}/replies ?limit=&cursor= oldest first
 *   PATCH  /api/v1/comments/{id}         {body}: the author only; sets editedAt
 *   DELETE /api/v1/comments/{id}         the author, the video's owner (the post's author)
 *                                        or an admin; 204
 *   PUT    /api/v1/comments/{id}/like    200 {liked: true, likeCount}
 *   DELETE /api/v1/comments/{id}/like    204
 * Whoever cannot see the video (private, failed, uploading, deleted) cannot read or write
 * its comments: 404, video_not_found on the video's routes and comment_not_found on a
 * comment's, exactly as for a missing one. Posts are public. A deleted comment kept for its
 * replies (body and author null) can be listed but not edited, liked or deleted again.
 * A reply names a live top-level comment of the same target as parentId; anything else
 * (a reply to a reply, another target's comment, a deleted one, no comment) is 422
 * validation_failed {parentId, invalid_format}. Counters: db_comments.h.
 */
#include "handlers.h"

#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "cursor.h"
#include "db.h"
#include "db_comments.h"
#include "db_posts.h"
#include "db_ratings.h"
#include "db_videos.h"
#include "json.h"
#include "log.h"
#include "people.h"

/* The video or post a comment hangs on, as far as the caller may see it. */
struct target {
    enum comment_target kind;
    bson_oid_t id;
    char hex[25];
    bson_oid_t owner; /* the video's owner or the post's author */
    bool comments_enabled;
};

/* The signed-in caller is user (hex id). */
static bool
is_user(const struct principal *who, const bson_oid_t *user)
{
    char hex[25];

    bson_oid_to_string(user, hex);
    return who->authenticated && strcmp(who->id, hex) == 0;
}

/* Loads kind's id into t. DB_NOT_FOUND also when the caller may not see it. */
static enum db_status
target_load(struct request *r, enum comment_target kind, const bson_oid_t *id, struct target *t)
{
    enum db_status st;

    memset(t, 0, sizeof(*t));
    t->kind = kind;
    bson_oid_copy(id, &t->id);
    bson_oid_to_string(id, t->hex);
    if (kind == COMMENT_VIDEO) {
        struct video v;

        if ((st = db_videos_get(r->arena, r->app->db, id, &v)) == DB_OK) {
            if (!video_visible_to(&v, &r->user)) {
                return DB_NOT_FOUND;
            }
            bson_oid_copy(&v.owner_id, &t->owner);
            t->comments_enabled = v.comments_enabled;
        }
        return st;
    }
    struct post p;

    if ((st = db_posts_get(r->arena, r->app->db, id, &p)) == DB_OK) {
        bson_oid_copy(&p.author, &t->owner);
        t->comments_enabled = true;
    }
    return st;
}

/* The target named by the path's {id}: true, or false after answering (404 for missing,
 * malformed or invisible). */
static bool
target_from_path(struct request *r, enum comment_target kind, struct target *t, int *rc)
{
    enum prob missing = kind == COMMENT_VIDEO ? PROB_VIDEO_NOT_FOUND : PROB_POST_NOT_FOUND;
    bson_oid_t id;
    enum db_status st;

    if (db_oid_parse(req_param(r, "id"), &id) == -1) {
        *rc = respond_problem(r, missing, NULL);
        return false;
    }
    if ((st = target_load(r, kind, &id, t)) == DB_NOT_FOUND) {
        *rc = respond_problem(r, missing, NULL);
        return false;
    }
    if (st != DB_OK) {
        *rc = respond_db_problem(r, st);
        return false;
    }
    return true;
}

/* The comment named by the path's {id}, on a target the caller may see: true, or false
 * after answering 404 comment_not_found (also for a deleted one unless deleted_ok). */
static bool
comment_from_path(struct request *r, bool deleted_ok, struct comment *c, struct target *t, int *rc)
{
    bson_oid_t id;
    enum db_status st;

    if (db_oid_parse(req_param(r, "id"), &id) == -1) {
        *rc = respond_problem(r, PROB_COMMENT_NOT_FOUND, NULL);
        return false;
    }
    st = db_comments_get(r->arena, r->app->db, &id, c);
    if (st == DB_OK) {
        st = target_load(r, c->kind, &c->target, t);
    }
    if (st == DB_NOT_FOUND || (st == DB_OK && c->deleted && !deleted_ok)) {
        *rc = respond_problem(r, PROB_COMMENT_NOT_FOUND, NULL);
        return false;
    }
    if (st != DB_OK) {
        *rc = respond_db_problem(r, st);
        return false;
    }
    return true;
}

static struct json_object *
comment_json(struct arena *a, const struct comment *c, struct json_object *card,
             const enum rating_value *mine)
{
    struct json_object *o = js_new_object(a);
    char created[32], edited[32];

    if (o == NULL) {
        return NULL;
    }
    db_time_format(c->created_at, created);
    db_time_format(c->edited_at, edited);
    js_add_str(o, "id", c->id_hex);
    js_add_str(o, "videoId", c->kind == COMMENT_VIDEO ? c->target_hex : NULL);
    js_add_str(o, "postId", c->kind == COMMENT_POST ? c->target_hex : NULL);
    js_add_str(o, "parentId", c->reply ? c->parent_hex : NULL);
    if (c->deleted || card == NULL || js_add_obj(o, "author", card) == -1) {
        json_object_object_add(o, "author", NULL);
    }
    js_add_str(o, "body", c->deleted ? NULL : c->body);
    js_add_bool(o, "deleted", c->deleted);
    js_add_str(o, "createdAt", created);
    js_add_str(o, "editedAt", c->edited_at != 0 ? edited : NULL);
    js_add_int(o, "likeCount", c->like_count);
    js_add_int(o, "replyCount", c->reply_count);
    if (mine != NULL) {
        js_add_bool(o, "myLike", *mine == RATING_LIKE);
    } else {
        json_object_object_add(o, "myLike", NULL);
    }
    return o;
}

/* The JSON of n comments (n <= MAX_LIST_LIMIT) into out[]: their authors' cards and, for
 * a signed-in caller, whether they like each. */
static enum db_status
comments_json(struct request *r, const struct comment *cs, size_t n, struct json_object **out)
{
    bson_oid_t *authors = arena_calloc(r->arena, n + 1, sizeof(*authors));
    bson_oid_t *ids = arena_calloc(r->arena, n + 1, sizeof(*ids));
    enum rating_value *mine = arena_calloc(r->arena, n + 1, sizeof(*mine));
    struct json_object **cards = NULL;
    bson_oid_t viewer;
    bool signed_in;
    size_t i, na = 0;
    enum db_status st;

    if (authors == NULL || ids == NULL || mine == NULL) {
        return DB_ERROR;
    }
    for (i = 0; i < n; i++) {
        bson_oid_copy(&cs[i].id, &ids[i]);
        if (cs[i].has_author && !cs[i].deleted) {
            bson_oid_copy(&cs[i].author, &authors[na++]);
        }
    }
    if ((st = people_cards(r->arena, r->app->db, authors, na, &cards)) != DB_OK) {
        return st;
    }
    signed_in = r->user.authenticated && db_oid_parse(str_from(r->user.id), &viewer) == 0;
    if (signed_in &&
        (st = db_ratings_get_many(r->arena, r->app->db, &viewer, ids, n, mine)) != DB_OK) {
        return st;
    }
    for (i = 0, na = 0; i < n; i++) {
        struct json_object *card = NULL;

        if (cs[i].has_author && !cs[i].deleted) {
            card = cards[na++];
        }
        out[i] = comment_json(r->arena, &cs[i], card, signed_in ? &mine[i] : NULL);
        if (out[i] == NULL) {
            return DB_ERROR;
        }
    }
    return DB_OK;
}

/* Answers status with the one comment c. */
static int
respond_comment(struct request *r, int status, const struct comment *c)
{
    struct json_object *o;
    enum db_status st;

    if ((st = comments_json(r, c, 1, &o)) != DB_OK) {
        return st == DB_ERROR ? -1 : respond_db_problem(r, st);
    }
    return respond_json(r, status, js_string(r->arena, o));
}

/* Reads {body, parentId?} into *body and *parent (NULL: top-level). Returns true, or false
 * after a 400/422. */
static bool
create_fields(struct request *r, char **body, bool *has_parent, bson_oid_t *parent, int *rc)
{
    static const struct js_field spec[] = {
        {"body", JS_STRING, true, 1, MAX_COMMENT},
        {"parentId", JS_STRING, false, 0, MAX_COMMENT},
    };
    struct js_error errs[MAX_FIELD_ERRORS];
    struct js_value val[2];
    struct json_object *obj, *p;
    size_t nerrs = 0;
    const char *err;

    if (!body_json(r, &obj, rc)) {
        return false;
    }
    /* parentId null says "top-level" as its absence does. */
    if (json_object_object_get_ex(obj, "parentId", &p) && p == NULL) {
        json_object_object_del(obj, "parentId");
    }
    if (js_fields(r->arena, obj, spec, 2, val, errs, MAX_FIELD_ERRORS, &nerrs) == 0) {
        if ((err = body_text_check(val[0].s)) != NULL) {
            errs[nerrs++] = (struct js_error){"body", err};
        }
        if (val[1].present && db_oid_parse(val[1].s, parent) == -1) {
            errs[nerrs++] = (struct js_error){"parentId", "invalid_format"};
        }
    }
    *has_parent = val[1].present;
    if (nerrs > 0) {
        *rc = respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
        return false;
    }
    if ((*body = str_cstr(r->arena, val[0].s)) == NULL) {
        *rc = -1;
        return false;
    }
    return true;
}

static int
respond_bad_parent(struct request *r)
{
    static const struct js_error err = {"parentId", "invalid_format"};

    return respond_problem_errors(r, PROB_VALIDATION_FAILED, &err, 1);
}

/* POST /api/v1/{videos,posts}/{id}/comments */
static int
create(struct request *r, enum comment_target kind)
{
    struct comment c = {0}, parent;
    struct target t;
    enum db_status st;
    int rc;

    if (!target_from_path(r, kind, &t, &rc)) {
        return rc;
    }
    if (!t.comments_enabled) {
        return respond_problem(r, PROB_COMMENTS_DISABLED, NULL);
    }
    if (!create_fields(r, &c.body, &c.reply, &c.parent, &rc)) {
        return rc;
    }
    if (db_oid_parse(str_from(r->user.id), &c.author) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if (c.reply) {
        /* One level: the parent is a live top-level comment of this very target. */
        st = db_comments_get(r->arena, r->app->db, &c.parent, &parent);
        if (st != DB_OK && st != DB_NOT_FOUND) {
            return respond_db_problem(r, st);
        }
        if (st == DB_NOT_FOUND || parent.reply || parent.deleted || parent.kind != kind ||
            !bson_oid_equal(&parent.target, &t.id)) {
            return respond_bad_parent(r);
        }
    }
    c.kind = kind;
    bson_oid_copy(&t.id, &c.target);
    st = db_comments_add(r->arena, r->app->db, &c);
    cache_invalidate(r, 'c', t.hex); /* the target's cached comment pages */
    if (kind == COMMENT_VIDEO && (st == DB_OK || st == DB_NOT_FOUND)) {
        cache_invalidate(r, 'v', t.hex);
    }
    if (st == DB_CONFLICT) {
        return respond_bad_parent(r);
    }
    if (st == DB_NOT_FOUND) {
        return respond_problem(
            r, kind == COMMENT_VIDEO ? PROB_VIDEO_NOT_FOUND : PROB_POST_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    log_ev(LOG_INFO, "comment_created", "comment %s on %s %s", c.id_hex, comment_target_name(kind),
           t.hex);
    return respond_comment(r, 201, &c);
}

int
h_comments_video_create(struct request *r)
{
    return create(r, COMMENT_VIDEO);
}

int
h_comments_post_create(struct request *r)
{
    return create(r, COMMENT_POST);
}

/* Reads limit and cursor into q. Returns true, or false after a 400. */
static bool
page_query(struct request *r, struct comment_query *q, int *rc)
{
    struct page_query pg;

    if (!page_query_parse(r, &pg, rc)) {
        return false;
    }
    q->limit = pg.limit;
    q->has_cursor = pg.has_cursor;
    q->cursor_key = pg.cursor_key;
    q->cursor_id = pg.cursor_id;
    return true;
}

/* A cursor names its sort (key * COMMENT_SORTS + sort), so that one made for another order
 * is refused rather than silently giving a wrong page. Call once q->sort is known. */
#define COMMENT_SORTS 3

static bool
cursor_for_sort(struct request *r, struct comment_query *q, int *rc)
{
    if (q->has_cursor) {
        if (q->cursor_key % COMMENT_SORTS != (int64_t)q->sort) {
            *rc = respond_problem(r, PROB_INVALID_CURSOR, "The cursor is of another sort");
            return false;
        }
        q->cursor_key /= COMMENT_SORTS;
    }
    return true;
}

/* Answers one page: {items, nextCursor}. */
static int
respond_page(struct request *r, const struct comment_query *q, const struct comment *cs, size_t n,
             const struct page_cache *pc)
{
    const char *json;
    size_t shown = n < q->limit ? n : q->limit, i;
    struct json_object *o, *items, **objs;
    const struct comment *last = shown > 0 ? &cs[shown - 1] : NULL;
    enum db_status st;

    if ((objs = arena_calloc(r->arena, shown + 1, sizeof(*objs))) == NULL) {
        return -1;
    }
    if ((st = comments_json(r, cs, shown, objs)) != DB_OK) {
        return st == DB_ERROR ? -1 : respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL || (items = json_object_new_array()) == NULL) {
        return -1;
    }
    for (i = 0; i < shown; i++) {
        json_object_array_add(items, json_object_get(objs[i]));
    }
    json_object_object_add(o, "items", items);
    js_add_str(o, "nextCursor",
               n > q->limit
                   ? cursor_format(r->arena,
                                   (q->sort == COMMENT_TOP ? last->like_count : last->created_at) *
                                           COMMENT_SORTS +
                                       (int64_t)q->sort,
                                   last->id_hex)
                   : NULL);
    if ((json = js_string(r->arena, o)) != NULL && pc != NULL) {
        page_cache_put(r, pc, json);
    }
    return respond_json(r, 200, json);
}

/* GET /api/v1/{videos,posts}/{id}/comments */
static int
list(struct request *r, enum comment_target kind)
{
    struct comment_query q = {0};
    struct str sort = req_query(r, "sort"), id = req_param(r, "id");
    char ckey[HOST_KEY_MAX], vkey[HOST_KEY_MAX];
    const char *deps[] = {ckey, vkey, HOST_KEY_CHANNELS}, *json;
    struct page_cache pc = {0};
    struct comment *cs;
    struct target t;
    bson_oid_t oid;
    size_t n;
    enum db_status st;
    int rc;

    if (!page_query(r, &q, &rc)) {
        return rc;
    }
    q.sort = COMMENT_NEWEST;
    if (sort.p != NULL) {
        if (str_eq_cstr(sort, "top")) {
            q.sort = COMMENT_TOP;
        } else if (!str_eq_cstr(sort, "newest")) {
            return respond_problem(r, PROB_INVALID_QUERY, "sort must be newest or top");
        }
    }
    if (!cursor_for_sort(r, &q, &rc)) {
        return rc;
    }
    /* Everyone signed out gets the same page: cached until a comment, the video (its
     * visibility) or a person on it changes. Signed-in callers see their own likes. */
    if (!r->user.authenticated && db_oid_parse(id, &oid) == 0) {
        char hex[25];

        bson_oid_to_string(&oid, hex);
        host_key(ckey, 'c', hex);
        host_key(vkey, 'v', hex);
        if ((json = page_cache_get(r, &pc, NULL, deps, 3)) != NULL) {
            return respond_json(r, 200, json);
        }
    }
    if (!target_from_path(r, kind, &t, &rc)) {
        return rc;
    }
    q.kind = kind;
    q.target = &t.id;
    if ((st = db_comments_list(r->arena, r->app->db, &q, &cs, &n)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_page(r, &q, cs, n, &pc);
}

int
h_comments_video_list(struct request *r)
{
    return list(r, COMMENT_VIDEO);
}

int
h_comments_post_list(struct request *r)
{
    return list(r, COMMENT_POST);
}

/* GET /api/v1/comments/{id}/replies */
int
h_comments_replies(struct request *r)
{
    struct comment_query q = {0};
    struct comment c, *cs;
    struct target t;
    size_t n;
    enum db_status st;
    int rc;

    if (!page_query(r, &q, &rc)) {
        return rc;
    }
    if (!comment_from_path(r, true, &c, &t, &rc)) {
        return rc;
    }
    q.kind = c.kind;
    q.parent = &c.id;
    q.sort = COMMENT_OLDEST;
    if (!cursor_for_sort(r, &q, &rc)) {
        return rc;
    }
    if ((st = db_comments_list(r->arena, r->app->db, &q, &cs, &n)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_page(r, &q, cs, n, NULL);
}

/* PATCH /api/v1/comments/{id} */
int
h_comments_update(struct request *r)
{
    static const struct js_field spec[] = {{"body", JS_STRING, true, 1, MAX_COMMENT}};
    struct js_value val[1];
    struct comment c;
    struct target t;
    const char *err;
    enum db_status st;
    int rc;

    if (!comment_from_path(r, false, &c, &t, &rc)) {
        return rc;
    }
    if (!c.has_author || !is_user(&r->user, &c.author)) {
        return respond_problem(r, PROB_FORBIDDEN, "Only its author may change a comment");
    }
    if (!body_fields(r, spec, 1, val, false, &rc)) {
        return rc;
    }
    if ((err = body_text_check(val[0].s)) != NULL) {
        struct js_error e = {"body", err};

        return respond_problem_errors(r, PROB_VALIDATION_FAILED, &e, 1);
    }
    if ((c.body = str_cstr(r->arena, val[0].s)) == NULL) {
        return -1;
    }
    c.edited_at = db_now_ms();
    st = db_comments_update_body(r->arena, r->app->db, &c.id, c.body, c.edited_at);
    cache_invalidate(r, 'c', t.hex);
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_COMMENT_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_comment(r, 200, &c);
}

/* DELETE /api/v1/comments/{id} */
int
h_comments_delete(struct request *r)
{
    struct comment c;
    struct target t;
    bool counted = false;
    enum db_status st;
    int rc;

    if (!comment_from_path(r, false, &c, &t, &rc)) {
        return rc;
    }
    if (!(c.has_author && is_user(&r->user, &c.author)) && !is_user(&r->user, &t.owner) &&
        !principal_is_admin(&r->user)) {
        return respond_problem(
            r, PROB_FORBIDDEN,
            t.kind == COMMENT_VIDEO
                ? "Only its author, the video's owner or an admin may delete it"
                : "Only its author, the post's author or an admin may delete it");
    }
    st = db_comments_remove(r->arena, r->app->db, &c, &counted);
    cache_invalidate(r, 'c', t.hex);
    if (counted && t.kind == COMMENT_VIDEO) {
        cache_invalidate(r, 'v', t.hex);
    }
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_COMMENT_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    log_ev(LOG_INFO, "comment_deleted", "comment %s by user %s", c.id_hex, r->user.id);
    return respond_empty(r, 204);
}

/* PUT /api/v1/comments/{id}/like */
int
h_comments_like_put(struct request *r)
{
    struct json_object *o;
    enum rating_value before;
    bson_oid_t user;
    struct comment c;
    struct target t;
    enum db_status st;
    int rc;

    if (!comment_from_path(r, false, &c, &t, &rc)) {
        return rc;
    }
    if (db_oid_parse(str_from(r->user.id), &user) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    st = db_ratings_set(r->arena, r->app->db, &user, RATE_COMMENT, &c.id, RATING_LIKE, &before);
    cache_invalidate(r, 'c', t.hex);
    if (st == DB_OK) {
        st = db_comments_get(r->arena, r->app->db, &c.id, &c);
    }
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_COMMENT_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL) {
        return -1;
    }
    js_add_bool(o, "liked", true);
    js_add_int(o, "likeCount", c.like_count);
    return respond_json(r, 200, js_string(r->arena, o));
}

/* DELETE /api/v1/comments/{id}/like */
int
h_comments_like_delete(struct request *r)
{
    enum rating_value before;
    bson_oid_t user;
    struct comment c;
    struct target t;
    enum db_status st;
    int rc;

    /* Taking a like back works on a deleted comment too: nothing else does. */
    if (!comment_from_path(r, true, &c, &t, &rc)) {
        return rc;
    }
    if (db_oid_parse(str_from(r->user.id), &user) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    st = db_ratings_clear(r->arena, r->app->db, &user, RATE_COMMENT, &c.id, &before);
    cache_invalidate(r, 'c', t.hex);
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_empty(r, 204);
}
