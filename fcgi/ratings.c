/*
 * ratings.c - likes and dislikes of videos.
 *   PUT    /api/v1/videos/{id}/rating   {"rating": "like"|"dislike"} -> 200
 *                                        {rating, likeCount, dislikeCount}
 *   DELETE /api/v1/videos/{id}/rating   204, whether or not there was one
 *   GET    /api/v1/users/me/likes?cursor=&limit=   the videos I liked, newest like first
 * Whoever cannot see a video cannot rate it: 404 video_not_found, as for a missing one.
 * One rating per user and video (common/db_ratings.c: the unique index decides); the
 * video's counters move only when a rating really changed, so identical requests racing
 * move them once. A change ends the cached video on every worker of the host ('v'), and
 * the caller's cached myRating of it (ratings_mine, ratings.h).
 */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "clock.h"
#include "cursor.h"
#include "db.h"
#include "db_ratings.h"
#include "db_videos.h"
#include "host.h"
#include "json.h"
#include "lru.h"
#include "problem.h"
#include "ratings.h"
#include "videos.h"

/* The LRU key of a user's rating of a video; its own generation slot is bumped when the
 * user rates the video, so that every worker of the host reads it anew. */
static void
mine_key(char key[MAX_CACHE_KEY + 1], const char *user_hex, const char *video_hex)
{
    snprintf(key, MAX_CACHE_KEY + 1, "m:%.24s%.24s", user_hex, video_hex);
}

static void
mine_forget(struct request *r, const char *video_hex)
{
    char key[MAX_CACHE_KEY + 1];

    mine_key(key, r->user.id, video_hex);
    host_gen_bump(r->app->host, key);
    lru_del(r->app->cache, key);
}

enum db_status
ratings_mine(struct request *r, const char *video_hex, enum rating_value *out)
{
    struct app *app = r->app;
    char key[MAX_CACHE_KEY + 1];
    uint64_t gen, now = (uint64_t)clock_mono_ms();
    bson_oid_t user, video;
    const unsigned char *hit;
    unsigned char v;
    size_t len = 0;
    enum db_status st;

    *out = RATING_NONE;
    if (!r->user.authenticated) {
        return DB_OK;
    }
    mine_key(key, r->user.id, video_hex);
    gen = host_gen(app->host, key); /* before the read: see users.c */
    hit = lru_get(app->cache, key, now, gen, &len);
    if (hit != NULL && len == 1 && hit[0] <= RATING_DISLIKE) {
        *out = (enum rating_value)hit[0];
        return DB_OK;
    }
    if (db_oid_parse(str_from(r->user.id), &user) == -1 ||
        db_oid_parse(str_from(video_hex), &video) == -1) {
        return DB_ERROR;
    }
    if ((st = db_ratings_get_many(r->arena, app->db, &user, &video, 1, out)) != DB_OK) {
        return st;
    }
    v = (unsigned char)*out;
    lru_put(app->cache, key, &v, 1, now, gen);
    return DB_OK;
}

static bool
caller_id(struct request *r, bson_oid_t *user, int *rc)
{
    if (db_oid_parse(str_from(r->user.id), user) == -1) {
        *rc = respond_problem(r, PROB_INVALID_TOKEN, NULL);
        return false;
    }
    return true;
}

/* PUT /api/v1/videos/{id}/rating */
int
h_ratings_video_put(struct request *r)
{
    static const struct js_field spec[] = {
        {"rating", JS_STRING, true, 1, 7},
    };
    struct js_value val[1];
    struct json_object *o;
    enum rating_value value, before;
    bson_oid_t user;
    struct video v, now;
    enum db_status st;
    int rc;

    if (!caller_id(r, &user, &rc) || !video_load_visible(r, &v, &rc)) {
        return rc;
    }
    if (!body_fields(r, spec, 1, val, false, &rc)) {
        return rc;
    }
    if (str_eq_cstr(val[0].s, "like")) {
        value = RATING_LIKE;
    } else if (str_eq_cstr(val[0].s, "dislike")) {
        value = RATING_DISLIKE;
    } else {
        struct js_error err = {"rating", "invalid_format"};

        return respond_problem_errors(r, PROB_VALIDATION_FAILED, &err, 1);
    }
    st = db_ratings_set(r->arena, r->app->db, &user, RATE_VIDEO, &v.id, value, &before);
    if (st == DB_NOT_FOUND) { /* deleted meanwhile */
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if (before != value) {
        cache_invalidate(r, 'v', v.id_hex);
        mine_forget(r, v.id_hex);
    }
    /* The counters as they are now, other raters' changes included. */
    if ((st = db_videos_get(r->arena, r->app->db, &v.id, &now)) == DB_NOT_FOUND) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL); /* deleted meanwhile */
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL) {
        return -1;
    }
    js_add_str(o, "rating", rating_value_name(value));
    js_add_int(o, "likeCount", now.like_count);
    js_add_int(o, "dislikeCount", now.dislike_count);
    respond_header(r, "Cache-Control: private, no-store");
    return respond_json(r, 200, js_string(r->arena, o));
}

/* DELETE /api/v1/videos/{id}/rating */
int
h_ratings_video_delete(struct request *r)
{
    enum rating_value before;
    bson_oid_t user;
    struct video v;
    enum db_status st;
    int rc;

    if (!caller_id(r, &user, &rc) || !video_load_visible(r, &v, &rc)) {
        return rc;
    }
    st = db_ratings_clear(r->arena, r->app->db, &user, RATE_VIDEO, &v.id, &before);
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if (before != RATING_NONE) {
        cache_invalidate(r, 'v', v.id_hex);
        mine_forget(r, v.id_hex);
    }
    return respond_empty(r, 204);
}

/* GET /api/v1/users/me/likes */
int
h_ratings_likes(struct request *r)
{
    struct page_query pg;
    struct json_object *o, *items, **objs;
    struct rating_item *likes;
    struct video *vs;
    bson_oid_t user;
    size_t n, i, shown = 0;
    enum db_status st;
    int rc;

    if (!page_query_parse(r, &pg, &rc)) {
        return rc;
    }
    if (!caller_id(r, &user, &rc)) {
        return rc;
    }
    /* One more than a page: whether there is a next one. */
    st = db_ratings_list_likes(r->arena, r->app->db, &user, RATE_VIDEO, pg.cursor_key,
                               pg.has_cursor ? &pg.cursor_id : NULL, pg.limit + 1, &likes, &n);
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((vs = arena_calloc(r->arena, n > 0 ? n : 1, sizeof(*vs))) == NULL) {
        return -1;
    }
    /* The page is the ratings' page: a video gone or no longer visible to me is left out,
     * and the cursor still names the page's last rating, so no like is skipped or repeated.
     * At most 100 reads by _id; the cache is not used, which holds JSON, not videos. */
    for (i = 0; i < n && i < pg.limit; i++) {
        st = db_videos_get(r->arena, r->app->db, &likes[i].target, &vs[shown]);
        if (st == DB_OK && video_visible_to(&vs[shown], &r->user)) {
            shown++;
        } else if (st != DB_OK && st != DB_NOT_FOUND) {
            return respond_db_problem(r, st);
        }
    }
    if ((st = videos_page_json(r, vs, shown, &objs, NULL)) != DB_OK) {
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
                   ? cursor_format(r->arena, likes[pg.limit - 1].at, likes[pg.limit - 1].id_hex)
                   : NULL);
    respond_header(r, "Cache-Control: private, no-store");
    return respond_json(r, 200, js_string(r->arena, o));
}
