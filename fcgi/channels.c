/*
 * channels.c - channels (every user has one), subscriptions and the feed.
 *   GET    /api/v1/channels/{username}               200 channel
 *   GET    /api/v1/channels/{username}/videos?sort=latest|popular|oldest&limit=&cursor=
 *                                                    {items: [video], nextCursor}
 *   PUT    /api/v1/channels/{username}/subscription  201 first time, else 200:
 *                                                    {subscribed: true, subscriberCount}
 *   DELETE /api/v1/channels/{username}/subscription  204 either way
 *   GET    /api/v1/users/me/subscriptions?limit=&cursor=  {items: [{channel, subscribedAt}], ...}
 *   GET    /api/v1/feed?limit=&cursor=               the newest public videos of the
 *                                                    channels I follow, {items, nextCursor}
 * A channel shows what anyone may know of a user (people.h): never an email, a role or a
 * token. An unknown or malformed username answers 404 channel_not_found. A channel's video
 * list shows what GET /api/v1/videos?owner= shows (public and listed), and to the owner and
 * admins also the private, unlisted and failed ones. The feed reads at most
 * MAX_FEED_CHANNELS followed channels (the newest subscriptions); db_videos_feed says how.
 */
#include "handlers.h"

#include <string.h>

#include <json-c/json.h>

#include "account.h"
#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "cursor.h"
#include "db.h"
#include "db_subscriptions.h"
#include "db_users.h"
#include "db_videos.h"
#include "json.h"
#include "log.h"
#include "people.h"
#include "problem.h"
#include "videos.h"

#define SORTS 3 /* enum video_sort: a channel cursor's key is value * SORTS + sort */

static const char *const sort_names[SORTS] = {
    [VIDEO_SORT_LATEST] = "latest",
    [VIDEO_SORT_POPULAR] = "popular",
    [VIDEO_SORT_OLDEST] = "oldest",
};

bool
channel_load(struct request *r, struct user *u, int *rc)
{
    struct str name = req_param(r, "username");
    const char *cname;
    enum db_status st;

    if (!account_valid_username(name) || (cname = str_cstr(r->arena, name)) == NULL) {
        *rc = respond_problem(r, PROB_CHANNEL_NOT_FOUND, NULL);
        return false;
    }
    if ((st = db_users_get_by_login(r->arena, r->app->db, cname, u)) != DB_OK) {
        *rc = st == DB_NOT_FOUND ? respond_problem(r, PROB_CHANNEL_NOT_FOUND, NULL)
                                 : respond_db_problem(r, st);
        return false;
    }
    return true;
}

/* The caller's id, if signed in. */
static const bson_oid_t *
caller(const struct request *r, bson_oid_t *id)
{
    return r->user.authenticated && db_oid_parse(str_from(r->user.id), id) == 0 ? id : NULL;
}

/* {items: [video...], nextCursor} for a page of n videos read with limit + 1; keys[i] is
 * the cursor key of video i. */
static int
respond_videos(struct request *r, const struct video *vs, size_t n, size_t limit,
               const int64_t *keys, const struct page_cache *pc)
{
    struct json_object *o, *items, **vjs;
    const char *json;
    size_t i, shown = n < limit ? n : limit;
    enum db_status st = videos_page_json(r, vs, shown, &vjs, NULL);

    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL || (items = json_object_new_array()) == NULL) {
        return -1;
    }
    for (i = 0; i < shown; i++) {
        json_object_array_add(items, json_object_get(vjs[i]));
    }
    json_object_object_add(o, "items", items);
    js_add_str(o, "nextCursor",
               n > limit ? cursor_format(r->arena, keys[limit - 1], vs[limit - 1].id_hex) : NULL);
    if ((json = js_string(r->arena, o)) != NULL && pc != NULL) {
        page_cache_put(r, pc, json);
    }
    return respond_json(r, 200, json);
}

/* What a channel's cached pages show: its person (HOST_KEY_CHANNELS: any user's change) and
 * its videos (HOST_KEY_VIDEO_LISTS: any video's change). */
static const char *const page_deps[] = {HOST_KEY_CHANNELS, HOST_KEY_VIDEO_LISTS};

/* GET /api/v1/channels/{username} */
int
h_channels_get(struct request *r)
{
    struct json_object *o;
    struct user u;
    bson_oid_t me;
    const bson_oid_t *who = caller(r, &me);
    int64_t videos;
    bool subscribed = false;
    char created[32];
    struct page_cache pc = {0};
    const char *json;
    enum db_status st;
    int rc;

    /* Everyone signed out gets the same channel: cached (isSubscribed is the caller's). */
    if (who == NULL && (json = page_cache_get(r, &pc, NULL, page_deps, 2)) != NULL) {
        return respond_json(r, 200, json);
    }
    if (!channel_load(r, &u, &rc)) {
        return rc;
    }
    if ((st = db_videos_count_listed(r->arena, r->app->db, &u.id, &videos)) != DB_OK ||
        (who != NULL &&
         (st = db_subscriptions_has(r->arena, r->app->db, who, &u.id, &subscribed)) != DB_OK)) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL) {
        return -1;
    }
    db_time_format(u.created_at, created);
    js_add_str(o, "id", u.id_hex);
    js_add_str(o, "username", u.username);
    js_add_str(o, "displayName", u.display_name);
    js_add_str(o, "bio", u.bio);
    js_add_str(o, "avatarUrl", people_avatar_url(r->arena, &u, 256));
    js_add_str(o, "avatarSmallUrl", people_avatar_url(r->arena, &u, 64));
    js_add_str(o, "bannerUrl", people_banner_url(r->arena, &u));
    js_add_int(o, "subscriberCount", u.subscriber_count);
    js_add_int(o, "videoCount", videos);
    js_add_str(o, "createdAt", created);
    if (who != NULL) {
        js_add_bool(o, "isSubscribed", subscribed);
    } else {
        js_add_str(o, "isSubscribed", NULL);
    }
    if ((json = js_string(r->arena, o)) != NULL && who == NULL) {
        page_cache_put(r, &pc, json);
    }
    return respond_json(r, 200, json);
}

/* Reads sort= into q (default latest). False after a 400. */
static bool
sort_query(struct request *r, struct channel_query *q, int *rc)
{
    struct str s = req_query(r, "sort");
    int i;

    q->sort = VIDEO_SORT_LATEST;
    if (s.p == NULL) {
        return true;
    }
    for (i = 0; i < SORTS; i++) {
        if (str_eq_cstr(s, sort_names[i])) {
            q->sort = (enum video_sort)i;
            return true;
        }
    }
    *rc = respond_problem(r, PROB_INVALID_QUERY, "sort must be latest, popular or oldest");
    return false;
}

/* GET /api/v1/channels/{username}/videos */
int
h_channels_videos(struct request *r)
{
    struct channel_query q = {0};
    struct page_cache pc = {0};
    struct page_query pg;
    struct video *vs;
    struct user u;
    int64_t *keys;
    const char *json;
    size_t n, i;
    enum db_status st;
    int rc;

    /* Everyone signed out gets the same page (a signed-in caller sees their ratings, an
     * owner their private videos). */
    if (!r->user.authenticated && (json = page_cache_get(r, &pc, NULL, page_deps, 2)) != NULL) {
        return respond_json(r, 200, json);
    }
    if (!channel_load(r, &u, &rc) || !sort_query(r, &q, &rc) || !page_query_parse(r, &pg, &rc)) {
        return rc;
    }
    /* A cursor carries its sort (key * SORTS + sort): one made for another order would
     * start a page at a wrong place, so it is refused. */
    if (pg.has_cursor && pg.cursor_key % SORTS != (int64_t)q.sort) {
        return respond_problem(r, PROB_INVALID_CURSOR, "The cursor belongs to another sort");
    }
    q.limit = pg.limit;
    q.has_cursor = pg.has_cursor;
    q.cursor_key = pg.cursor_key / SORTS;
    q.cursor_id = pg.cursor_id;
    q.owner = &u.id;
    q.all = r->user.authenticated &&
            (strcmp(r->user.id, u.id_hex) == 0 || strcmp(r->user.role, "admin") == 0);
    if ((st = db_videos_channel(r->arena, r->app->db, &q, &vs, &n)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((keys = arena_calloc(r->arena, n + 1, sizeof(*keys))) == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        int64_t k = q.sort == VIDEO_SORT_POPULAR ? vs[i].view_count : vs[i].created_at;

        /* a negative count (a counter gone wrong until recount) or one too large to
         * encode ends the list there: cursor_format refuses it */
        keys[i] = k >= 0 && k <= (INT64_MAX - SORTS) / SORTS ? k * SORTS + (int64_t)q.sort : -1;
    }
    return respond_videos(r, vs, n, q.limit, keys, r->user.authenticated ? NULL : &pc);
}

/* Loads the channel and the caller's id for a subscription change. False after answering. */
static bool
subscription_target(struct request *r, struct user *u, bson_oid_t *me, int *rc)
{
    if (!channel_load(r, u, rc)) {
        return false;
    }
    if (db_oid_parse(str_from(r->user.id), me) == -1) {
        *rc = respond_problem(r, PROB_INVALID_TOKEN, NULL);
        return false;
    }
    if (bson_oid_equal(me, &u->id)) {
        *rc = respond_problem(r, PROB_CANNOT_SUBSCRIBE_TO_SELF, NULL);
        return false;
    }
    return true;
}

/* PUT /api/v1/channels/{username}/subscription */
int
h_channels_subscribe(struct request *r)
{
    struct json_object *o;
    struct user u;
    bson_oid_t me;
    bool created;
    enum db_status st;
    int rc;

    if (!subscription_target(r, &u, &me, &rc)) {
        return rc;
    }
    if ((st = db_subscriptions_add(r->arena, r->app->db, &me, &u.id, &created)) == DB_NOT_FOUND) {
        return respond_problem(r, PROB_CHANNEL_NOT_FOUND, NULL); /* deleted meanwhile */
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if (created) {
        cache_invalidate(r, 'u', u.id_hex); /* its subscriberCount moved */
    }
    /* The count as it is now (after our $inc, or another request's). */
    if ((st = db_users_get(r->arena, r->app->db, &u.id, &u)) == DB_NOT_FOUND) {
        return respond_problem(r, PROB_CHANNEL_NOT_FOUND, NULL); /* deleted meanwhile */
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL) {
        return -1;
    }
    js_add_bool(o, "subscribed", true);
    /* A request that found the subscription made by a racing one can read the count before
     * that one's $inc lands: this subscription is there, so it is at least 1. */
    js_add_int(o, "subscriberCount", u.subscriber_count > 0 ? u.subscriber_count : 1);
    return respond_json(r, created ? 201 : 200, js_string(r->arena, o));
}

/* DELETE /api/v1/channels/{username}/subscription */
int
h_channels_unsubscribe(struct request *r)
{
    struct user u;
    bson_oid_t me;
    bool removed;
    enum db_status st;
    int rc;

    if (!subscription_target(r, &u, &me, &rc)) {
        return rc;
    }
    if ((st = db_subscriptions_remove(r->arena, r->app->db, &me, &u.id, &removed)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    if (removed) {
        cache_invalidate(r, 'u', u.id_hex);
    }
    return respond_empty(r, 204);
}

/* GET /api/v1/users/me/subscriptions */
int
h_channels_subscriptions(struct request *r)
{
    struct page_query pg;
    struct json_object *o, *items, **cards;
    struct subscription *subs;
    bson_oid_t me, *ids;
    size_t n, i;
    enum db_status st;
    int rc;

    if (!page_query_parse(r, &pg, &rc)) {
        return rc;
    }
    if (caller(r, &me) == NULL) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    st = db_subscriptions_list(r->arena, r->app->db, &me, pg.cursor_key,
                               pg.has_cursor ? &pg.cursor_id : NULL, pg.limit + 1, &subs, &n);
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((ids = arena_calloc(r->arena, n + 1, sizeof(*ids))) == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        bson_oid_copy(&subs[i].channel, &ids[i]);
    }
    if ((st = people_cards(r->arena, r->app->db, ids, n < pg.limit ? n : pg.limit, &cards)) !=
        DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL || (items = json_object_new_array()) == NULL) {
        return -1;
    }
    for (i = 0; i < n && i < pg.limit; i++) {
        struct json_object *item = js_new_object(r->arena);
        char at[32];

        db_time_format(subs[i].created_at, at);
        js_add_obj(item, "channel", cards[i]);
        js_add_str(item, "subscribedAt", at);
        if (item != NULL) {
            json_object_array_add(items, json_object_get(item));
        }
    }
    json_object_object_add(o, "items", items);
    js_add_str(o, "nextCursor",
               n > pg.limit ? cursor_format(r->arena, subs[pg.limit - 1].created_at,
                                            subs[pg.limit - 1].id_hex)
                            : NULL);
    return respond_json(r, 200, js_string(r->arena, o));
}

/* GET /api/v1/feed */
int
h_channels_feed(struct request *r)
{
    struct page_query pg;
    struct page_cache pc = {0};
    bson_oid_t me, *channels;
    struct video *vs;
    int64_t *keys;
    const char *json;
    size_t nch, n, i;
    enum db_status st;
    int rc;

    if (!page_query_parse(r, &pg, &rc)) {
        return rc;
    }
    if (caller(r, &me) == NULL) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    /* The caller's own page, cached for them: any video's change (their ratings too) or any
     * subscription's (it bumps the channel's user) ends it. */
    if ((json = page_cache_get(r, &pc, r->user.id, page_deps, 2)) != NULL) {
        return respond_json(r, 200, json);
    }
    if ((channels = arena_calloc(r->arena, MAX_FEED_CHANNELS, sizeof(*channels))) == NULL) {
        return -1;
    }
    if ((st = db_subscriptions_channels(r->arena, r->app->db, &me, MAX_FEED_CHANNELS, channels,
                                        &nch)) != DB_OK ||
        (st = db_videos_feed(r->arena, r->app->db, channels, nch, pg.cursor_key,
                             pg.has_cursor ? &pg.cursor_id : NULL, pg.limit, &vs, &n)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((keys = arena_calloc(r->arena, n + 1, sizeof(*keys))) == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        keys[i] = vs[i].created_at;
    }
    return respond_videos(r, vs, n, pg.limit, keys, &pc);
}
