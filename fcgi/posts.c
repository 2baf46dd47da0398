/*
 * posts.c - channel community posts (the original's "tweets").
 *   POST   /api/v1/posts                       {body} -> 201 Post
 *   GET    /api/v1/posts/{id}                  anyone
 *   PATCH  /api/v1/posts/{id}                  {body}: the author or an admin; sets editedAt
 *   DELETE /api/v1/posts/{id}                  the author or an admin; 204
 *   PUT    /api/v1/posts/{id}/like             200 {liked: true, likeCount}
 *   DELETE /api/v1/posts/{id}/like             204
 *   GET    /api/v1/channels/{username}/posts   ?limit=&cursor= newest first
 * Posts are public: anyone may read them, so another user's change is 403 forbidden (not
 * 404). A post's comments are comments.c's (the same code as a video's). Deleting a post
 * queues a drop job first (its comments and ratings go there, worker/drop.c), then deletes
 * the document.
 */
#include "handlers.h"

#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "cursor.h"
#include "db.h"
#include "db_posts.h"
#include "db_ratings.h"
#include "db_users.h"
#include "json.h"
#include "log.h"
#include "people.h"

static bool
may_change(const struct principal *who, const struct post *p)
{
    char hex[25];

    bson_oid_to_string(&p->author, hex);
    return who->authenticated && (strcmp(who->id, hex) == 0 || principal_is_admin(who));
}

static struct json_object *
post_json(struct arena *a, const struct post *p, struct json_object *card,
          const enum rating_value *mine)
{
    struct json_object *o = js_new_object(a);
    char created[32], edited[32];

    if (o == NULL) {
        return NULL;
    }
    db_time_format(p->created_at, created);
    db_time_format(p->edited_at, edited);
    js_add_str(o, "id", p->id_hex);
    if (card == NULL || js_add_obj(o, "author", card) == -1) {
        json_object_object_add(o, "author", NULL);
    }
    js_add_str(o, "body", p->body);
    js_add_str(o, "createdAt", created);
    js_add_str(o, "editedAt", p->edited_at != 0 ? edited : NULL);
    js_add_int(o, "likeCount", p->like_count);
    js_add_int(o, "commentCount", p->comment_count);
    if (mine != NULL) {
        js_add_bool(o, "myLike", *mine == RATING_LIKE);
    } else {
        json_object_object_add(o, "myLike", NULL);
    }
    return o;
}

/* The JSON of n posts (n <= MAX_LIST_LIMIT) into out[], with their authors' cards and the
 * signed-in caller's likes. */
static enum db_status
posts_json(struct request *r, const struct post *ps, size_t n, struct json_object **out)
{
    bson_oid_t *authors = arena_calloc(r->arena, n + 1, sizeof(*authors));
    bson_oid_t *ids = arena_calloc(r->arena, n + 1, sizeof(*ids));
    enum rating_value *mine = arena_calloc(r->arena, n + 1, sizeof(*mine));
    struct json_object **cards = NULL;
    bson_oid_t viewer;
    bool signed_in;
    size_t i;
    enum db_status st;

    if (authors == NULL || ids == NULL || mine == NULL) {
        return DB_ERROR;
    }
    for (i = 0; i < n; i++) {
        bson_oid_copy(&ps[i].id, &ids[i]);
        bson_oid_copy(&ps[i].author, &authors[i]);
    }
    if ((st = people_cards(r->arena, r->app->db, authors, n, &cards)) != DB_OK) {
        return st;
    }
    signed_in = r->user.authenticated && db_oid_parse(str_from(r->user.id), &viewer) == 0;
    if (signed_in &&
        (st = db_ratings_get_many(r->arena, r->app->db, &viewer, ids, n, mine)) != DB_OK) {
        return st;
    }
    for (i = 0; i < n; i++) {
        if ((out[i] = post_json(r->arena, &ps[i], cards[i], signed_in ? &mine[i] : NULL)) == NULL) {
            return DB_ERROR;
        }
    }
    return DB_OK;
}

static int
respond_post(struct request *r, int status, const struct post *p)
{
    struct json_object *o;
    enum db_status st;

    if ((st = posts_json(r, p, 1, &o)) != DB_OK) {
        return st == DB_ERROR ? -1 : respond_db_problem(r, st);
    }
    return respond_json(r, status, js_string(r->arena, o));
}

/* Reads {body} (1-MAX_POST characters of text, not only blanks) into *body. Returns true,
 * or false after a 400/422. */
static bool
body_of(struct request *r, char **body, int *rc)
{
    static const struct js_field spec[] = {{"body", JS_STRING, true, 1, MAX_POST}};
    struct js_value val[1];
    struct js_error e = {"body", NULL};

    if (!body_fields(r, spec, 1, val, false, rc)) {
        return false;
    }
    if ((e.code = body_text_check(val[0].s)) != NULL) {
        *rc = respond_problem_errors(r, PROB_VALIDATION_FAILED, &e, 1);
        return false;
    }
    if ((*body = str_cstr(r->arena, val[0].s)) == NULL) {
        *rc = -1;
        return false;
    }
    return true;
}

/* The post named by {id}: true, or false after answering (404 post_not_found). */
static bool
post_from_path(struct request *r, struct post *p, int *rc)
{
    bson_oid_t id;
    enum db_status st;

    if (db_oid_parse(req_param(r, "id"), &id) == -1) {
        *rc = respond_problem(r, PROB_POST_NOT_FOUND, NULL);
        return false;
    }
    if ((st = db_posts_get(r->arena, r->app->db, &id, p)) == DB_NOT_FOUND) {
        *rc = respond_problem(r, PROB_POST_NOT_FOUND, NULL);
        return false;
    }
    if (st != DB_OK) {
        *rc = respond_db_problem(r, st);
        return false;
    }
    return true;
}

/* POST /api/v1/posts */
int
h_posts_create(struct request *r)
{
    struct post p = {0};
    enum db_status st;
    int rc;

    if (!body_of(r, &p.body, &rc)) {
        return rc;
    }
    if (db_oid_parse(str_from(r->user.id), &p.author) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((st = db_posts_insert(r->arena, r->app->db, &p)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    log_ev(LOG_INFO, "post_created", "post %s of user %s", p.id_hex, r->user.id);
    respond_header(r, "Location: /api/v1/posts/%s", p.id_hex);
    return respond_post(r, 201, &p);
}

/* GET /api/v1/posts/{id} */
int
h_posts_get(struct request *r)
{
    struct post p;
    int rc;

    if (!post_from_path(r, &p, &rc)) {
        return rc;
    }
    return respond_post(r, 200, &p);
}

/* PATCH /api/v1/posts/{id} */
int
h_posts_update(struct request *r)
{
    struct post p;
    enum db_status st;
    int rc;

    if (!post_from_path(r, &p, &rc)) {
        return rc;
    }
    if (!may_change(&r->user, &p)) {
        return respond_problem(r, PROB_FORBIDDEN, "Only its author or an admin may change it");
    }
    if (!body_of(r, &p.body, &rc)) {
        return rc;
    }
    p.edited_at = db_now_ms();
    st = db_posts_update_body(r->arena, r->app->db, &p.id, p.body, p.edited_at);
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_POST_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_post(r, 200, &p);
}

/* DELETE /api/v1/posts/{id} */
int
h_posts_delete(struct request *r)
{
    struct post p;
    enum db_status st;
    int rc;

    if (!post_from_path(r, &p, &rc)) {
        return rc;
    }
    if (!may_change(&r->user, &p)) {
        return respond_problem(r, PROB_FORBIDDEN, "Only its author or an admin may delete it");
    }
    /* The drop job first: it acts once the post is gone, so a delete that fails below
     * costs nothing, and a crash after the delete leaves the job to finish. */
    if ((st = drop_enqueue(r, "post", &p.id, NULL, NULL)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    st = db_posts_delete(r->arena, r->app->db, &p.id);
    cache_invalidate(r, 'c', p.id_hex); /* its cached comment pages */
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_POST_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    log_ev(LOG_INFO, "post_deleted", "post %s by user %s", p.id_hex, r->user.id);
    return respond_empty(r, 204);
}

/* PUT /api/v1/posts/{id}/like */
int
h_posts_like_put(struct request *r)
{
    struct json_object *o;
    enum rating_value before;
    bson_oid_t user;
    struct post p;
    enum db_status st;
    int rc;

    if (!post_from_path(r, &p, &rc)) {
        return rc;
    }
    if (db_oid_parse(str_from(r->user.id), &user) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    st = db_ratings_set(r->arena, r->app->db, &user, RATE_POST, &p.id, RATING_LIKE, &before);
    if (st == DB_OK) {
        st = db_posts_get(r->arena, r->app->db, &p.id, &p);
    }
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_POST_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL) {
        return -1;
    }
    js_add_bool(o, "liked", true);
    js_add_int(o, "likeCount", p.like_count);
    return respond_json(r, 200, js_string(r->arena, o));
}

/* DELETE /api/v1/posts/{id}/like */
int
h_posts_like_delete(struct request *r)
{
    enum rating_value before;
    bson_oid_t user;
    struct post p;
    enum db_status st;
    int rc;

    if (!post_from_path(r, &p, &rc)) {
        return rc;
    }
    if (db_oid_parse(str_from(r->user.id), &user) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((st = db_ratings_clear(r->arena, r->app->db, &user, RATE_POST, &p.id, &before)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_empty(r, 204);
}

/* GET /api/v1/channels/{username}/posts */
int
h_posts_list_channel(struct request *r)
{
    struct page_query pg;
    struct json_object *o, *items, **objs;
    struct post *ps;
    struct user u;
    size_t n, shown, i;
    enum db_status st;
    int rc;

    if (!page_query_parse(r, &pg, &rc)) {
        return rc;
    }
    if (!channel_load(r, &u, &rc)) {
        return rc;
    }
    st = db_posts_list_author(r->arena, r->app->db, &u.id, pg.has_cursor, pg.cursor_key,
                              &pg.cursor_id, pg.limit, &ps, &n);
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    shown = n < pg.limit ? n : pg.limit;
    if ((objs = arena_calloc(r->arena, shown + 1, sizeof(*objs))) == NULL) {
        return -1;
    }
    if ((st = posts_json(r, ps, shown, objs)) != DB_OK) {
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
               n > pg.limit
                   ? cursor_format(r->arena, ps[shown - 1].created_at, ps[shown - 1].id_hex)
                   : NULL);
    return respond_json(r, 200, js_string(r->arena, o));
}
