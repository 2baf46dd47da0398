/*
 * playlists.c - playlists and their items.
 *   POST   /api/v1/playlists                        {title, description?, visibility} -> 201
 *   GET    /api/v1/playlists/{id}                   200 playlist
 *   PATCH  /api/v1/playlists/{id}                   owner: title, description, visibility
 *   DELETE /api/v1/playlists/{id}                   owner; 204 (its items go too)
 *   GET    /api/v1/playlists/{id}/items             ?limit=&cursor= {items, hiddenCount,
 *                                                    nextCursor}
 *   POST   /api/v1/playlists/{id}/items             owner: {videoId, position?} -> 201 playlist
 *   PATCH  /api/v1/playlists/{id}/items/{videoId}   owner: {position} -> 204
 *   DELETE /api/v1/playlists/{id}/items/{videoId}   owner; 204
 *   GET    /api/v1/channels/{username}/playlists    ?limit=&cursor= {items, nextCursor}
 *   GET    /api/v1/users/me/playlists               ?limit=&cursor= {items, nextCursor}
 * Who: public and unlisted playlists are anyone's to read, private ones their owner's and
 * admins'; anyone else gets 404 exactly as for a missing one. Only the owner changes a
 * playlist (admins too get 403). Every user has a private "Watch later" whose id is the
 * user's own: made the first time its owner lists theirs or names it; it is never deleted
 * (403), renamed (403) or made other than private (403).
 * Items: position is the 0-based index in the caller's listing. Items whose video the
 * caller may not see (private or failed and not theirs, uploading, deleted) are left out
 * and counted in hiddenCount: per page, those passed over between the page's cursor and its
 * last item (on the last page: to the end), so the pages' counts add up to the playlist's.
 * Whole-playlist counts would read every item and its video on each request (measured:
 * about 0.5-1 s at 5000 items on the local server). A page reads limit + 1 items after its
 * cursor through an index range and their videos (one $in), again while hidden ones fill
 * it. A position given to add or move counts in the owner's listing (the order is read up
 * to it); past its end means the end; without one, an add goes last (one indexed read).
 * The list cursor of items holds the last item's rank and position (rank << 13 | position)
 * and its id.
 */
#include "handlers.h"

#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "cursor.h"
#include "db.h"
#include "db_playlists.h"
#include "db_users.h"
#include "db_videos.h"
#include "json.h"
#include "log.h"
#include "people.h"
#include "videos.h"

static bool
is_owner(const struct playlist *p, const struct principal *who)
{
    return who->authenticated && strcmp(who->id, p->owner_hex) == 0;
}

static bool
playlist_visible_to(const struct playlist *p, const struct principal *who)
{
    return strcmp(p->visibility, "private") != 0 || is_owner(p, who) || principal_is_admin(who);
}

static struct json_object *
playlist_json(struct arena *a, const struct playlist *p, struct json_object *owner)
{
    struct json_object *o = js_new_object(a);
    char created[32], updated[32];

    if (o == NULL || owner == NULL) {
        return NULL;
    }
    db_time_format(p->created_at, created);
    db_time_format(p->updated_at, updated);
    js_add_str(o, "id", p->id_hex);
    js_add_str(o, "title", p->title);
    js_add_str(o, "description", p->description);
    js_add_str(o, "visibility", p->visibility);
    js_add_str(o, "kind", p->watch_later ? "watch_later" : "playlist");
    js_add_obj(o, "owner", owner);
    js_add_int(o, "itemCount", p->item_count);
    js_add_str(o, "createdAt", created);
    js_add_str(o, "updatedAt", updated);
    return o;
}

/* The card of p's owner (a deleted owner's card says so). NULL on a database failure. */
static struct json_object *
owner_card(struct request *r, const struct playlist *p, enum db_status *st)
{
    struct user u;
    bool found;

    *st = db_users_get(r->arena, r->app->db, &p->owner_id, &u);
    if (*st != DB_OK && *st != DB_NOT_FOUND) {
        return NULL;
    }
    found = *st == DB_OK;
    *st = DB_OK;
    return people_card(r->arena, found ? &u : NULL, p->owner_hex);
}

static int
respond_playlist(struct request *r, int status, const struct playlist *p)
{
    enum db_status st;
    struct json_object *card = owner_card(r, p, &st);

    if (card == NULL && st != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_json(r, status, js_string(r->arena, playlist_json(r->arena, p, card)));
}

/* Loads the playlist named by {id} that the caller may see; the caller's own Watch later
 * is made if it is not there yet. Returns true, or false after answering (404 for missing,
 * malformed or not visible). */
static bool
load_playlist(struct request *r, struct playlist *p, int *rc)
{
    bson_oid_t id;
    enum db_status st;

    if (db_oid_parse(req_param(r, "id"), &id) == -1) {
        *rc = respond_problem(r, PROB_PLAYLIST_NOT_FOUND, NULL);
        return false;
    }
    st = db_playlists_get(r->arena, r->app->db, &id, p);
    if (st == DB_NOT_FOUND && r->user.authenticated) {
        char hex[25];

        bson_oid_to_string(&id, hex);
        if (strcmp(hex, r->user.id) == 0) {
            st = db_playlists_watch_later(r->arena, r->app->db, &id, p);
        }
    }
    if (st == DB_NOT_FOUND || (st == DB_OK && !playlist_visible_to(p, &r->user))) {
        *rc = respond_problem(r, PROB_PLAYLIST_NOT_FOUND, NULL);
        return false;
    }
    if (st != DB_OK) {
        *rc = respond_db_problem(r, st);
        return false;
    }
    return true;
}

/* load_playlist, then only its owner goes on: anyone else who may see it gets 403. */
static bool
load_own(struct request *r, struct playlist *p, int *rc)
{
    if (!load_playlist(r, p, rc)) {
        return false;
    }
    if (!is_owner(p, &r->user)) {
        *rc = respond_problem(r, PROB_FORBIDDEN, "Only the playlist's owner may change it");
        return false;
    }
    return true;
}

/* The rules of the text fields; each adds its errors to errs. */
static void
check_title(struct js_value v, struct js_error *errs, size_t *n)
{
    if (!v.present) {
        return;
    }
    if (!str_is_text(v.s, 0)) {
        errs[(*n)++] = (struct js_error){"title", "invalid_format"};
    } else if (str_trim(v.s).len == 0) {
        errs[(*n)++] = (struct js_error){"title", "too_short"};
    }
}

static void
check_description(struct js_value v, struct js_error *errs, size_t *n)
{
    if (v.present && !str_is_text(v.s, STR_MULTILINE)) {
        errs[(*n)++] = (struct js_error){"description", "invalid_format"};
    }
}

static void
check_visibility(struct js_value v, struct js_error *errs, size_t *n)
{
    if (v.present && !video_visibility_valid(v.s)) {
        errs[(*n)++] = (struct js_error){"visibility", "invalid_format"};
    }
}

static const struct js_field playlist_spec[] = {
    {"title", JS_STRING, true, 1, MAX_PLAYLIST_TITLE},
    {"description", JS_STRING, false, 0, MAX_PLAYLIST_DESCRIPTION},
    {"visibility", JS_STRING, true, 1, 8},
};
#define PLAYLIST_FIELDS (sizeof(playlist_spec) / sizeof(playlist_spec[0]))

/* POST /api/v1/playlists */
int
h_playlists_create(struct request *r)
{
    struct js_error errs[3];
    struct js_value v[PLAYLIST_FIELDS];
    struct playlist p = {0};
    size_t nerrs = 0;
    enum db_status st;
    int rc;

    if (!body_fields(r, playlist_spec, PLAYLIST_FIELDS, v, false, &rc)) {
        return rc;
    }
    check_title(v[0], errs, &nerrs);
    check_description(v[1], errs, &nerrs);
    check_visibility(v[2], errs, &nerrs);
    if (nerrs > 0) {
        return respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
    }
    if (db_oid_parse(str_from(r->user.id), &p.owner_id) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    p.title = str_cstr(r->arena, v[0].s);
    p.description = v[1].present ? str_cstr(r->arena, v[1].s) : "";
    p.visibility = str_cstr(r->arena, v[2].s);
    if (p.title == NULL || p.description == NULL || p.visibility == NULL) {
        return -1;
    }
    if ((st = db_playlists_insert(r->arena, r->app->db, &p)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    log_ev(LOG_INFO, "playlist_created", "playlist %s of user %s", p.id_hex, r->user.id);
    respond_header(r, "Location: /api/v1/playlists/%s", p.id_hex);
    return respond_playlist(r, 201, &p);
}

/* GET /api/v1/playlists/{id} */
int
h_playlists_get(struct request *r)
{
    struct playlist p;
    int rc;

    if (!load_playlist(r, &p, &rc)) {
        return rc;
    }
    return respond_playlist(r, 200, &p);
}

/* PATCH /api/v1/playlists/{id} */
int
h_playlists_update(struct request *r)
{
    static const struct js_field spec[] = {
        {"title", JS_STRING, false, 1, MAX_PLAYLIST_TITLE},
        {"description", JS_STRING, false, 0, MAX_PLAYLIST_DESCRIPTION},
        {"visibility", JS_STRING, false, 1, 8},
    };
    struct js_error errs[3];
    struct js_value v[3];
    struct playlist p;
    size_t nerrs = 0;
    unsigned mask = 0;
    enum db_status st;
    int rc;

    if (!load_own(r, &p, &rc) || !body_fields(r, spec, 3, v, false, &rc)) {
        return rc;
    }
    check_title(v[0], errs, &nerrs);
    check_description(v[1], errs, &nerrs);
    check_visibility(v[2], errs, &nerrs);
    if (nerrs > 0) {
        return respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
    }
    if (p.watch_later && (v[0].present || (v[2].present && !str_eq_cstr(v[2].s, "private")))) {
        return respond_problem(r, PROB_FORBIDDEN, "Watch later keeps its title and stays private");
    }
    if (v[0].present && (p.title = str_cstr(r->arena, v[0].s)) != NULL) {
        mask |= PLAYLIST_SET_TITLE;
    }
    if (v[1].present && (p.description = str_cstr(r->arena, v[1].s)) != NULL) {
        mask |= PLAYLIST_SET_DESCRIPTION;
    }
    if (v[2].present && (p.visibility = str_cstr(r->arena, v[2].s)) != NULL) {
        mask |= PLAYLIST_SET_VISIBILITY;
    }
    if (p.title == NULL || p.description == NULL || p.visibility == NULL) {
        return -1;
    }
    if (mask != 0) {
        p.updated_at = db_now_ms();
        if ((st = db_playlists_update(r->arena, r->app->db, &p, mask)) == DB_NOT_FOUND) {
            return respond_problem(r, PROB_PLAYLIST_NOT_FOUND, NULL);
        }
        if (st != DB_OK) {
            return respond_db_problem(r, st);
        }
    }
    return respond_playlist(r, 200, &p);
}

/* DELETE /api/v1/playlists/{id} */
int
h_playlists_delete(struct request *r)
{
    struct playlist p;
    enum db_status st;
    int rc;

    if (!load_own(r, &p, &rc)) {
        return rc;
    }
    if (p.watch_later) {
        return respond_problem(r, PROB_FORBIDDEN, "Watch later cannot be deleted");
    }
    if ((st = db_playlists_delete(r->arena, r->app->db, &p.owner_id, &p.id)) == DB_NOT_FOUND) {
        return respond_problem(r, PROB_PLAYLIST_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    log_ev(LOG_INFO, "playlist_deleted", "playlist %s", p.id_hex);
    return respond_empty(r, 204);
}

#define WALK_BATCH 101 /* items read at once: a page of 100 and the one that says "more" */
#define POS_BITS   13  /* a list cursor's key: rank << POS_BITS | position */

/* A walk through a playlist in order, a batch at a time, with whether the caller may see
 * each item's video. */
struct walk {
    const bson_oid_t *playlist;
    size_t size, n, i;
    bool started, done;
    struct playlist_item last; /* the last item read: the next batch starts after it */
    struct playlist_item batch[WALK_BATCH];
    bool visible[WALK_BATCH];
};

static void
walk_init(struct walk *w, const bson_oid_t *playlist, size_t size,
          const struct playlist_item *after)
{
    w->playlist = playlist;
    w->size = size < WALK_BATCH ? size : WALK_BATCH;
    w->n = w->i = 0;
    w->done = false;
    if ((w->started = after != NULL)) {
        w->last = *after;
    }
}

static enum db_status
walk_read(struct request *r, struct walk *w)
{
    struct playlist_video_state states[WALK_BATCH];
    enum db_status st;
    size_t i;

    st = db_playlists_items_after(r->arena, r->app->db, w->playlist, w->started ? &w->last : NULL,
                                  w->size, w->batch, &w->n);
    w->i = 0;
    w->done = st != DB_OK || w->n < w->size;
    if (st != DB_OK || w->n == 0) {
        w->n = 0;
        return st;
    }
    w->last = w->batch[w->n - 1];
    w->started = true;
    if ((st = db_playlists_video_states(r->arena, r->app->db, w->batch, w->n, states)) != DB_OK) {
        w->n = 0;
        return st;
    }
    for (i = 0; i < w->n; i++) {
        struct video v = {0};

        w->visible[i] = false;
        if (states[i].found) {
            v.visibility = states[i].visibility;
            v.status = states[i].status;
            memcpy(v.owner_hex, states[i].owner_hex, sizeof(v.owner_hex));
            w->visible[i] = video_visible_to(&v, &r->user);
        }
    }
    return DB_OK;
}

/* The walk's next item and whether the caller may see it: true, or false at the end or
 * on a failure (*st). */
static bool
walk_next(struct request *r, struct walk *w, struct playlist_item *it, bool *visible,
          enum db_status *st)
{
    *st = DB_OK;
    if (w->i == w->n && (w->done || (*st = walk_read(r, w)) != DB_OK || w->n == 0)) {
        return false;
    }
    *it = w->batch[w->i];
    *visible = w->visible[w->i++];
    return true;
}

static struct json_object *
item_json(struct arena *a, int64_t position, int64_t added_at, struct json_object *vj)
{
    struct json_object *o = js_new_object(a);
    char added[32];

    if (o == NULL || vj == NULL) {
        return NULL;
    }
    db_time_format(added_at, added);
    js_add_int(o, "position", position);
    js_add_str(o, "addedAt", added);
    js_add_obj(o, "video", vj);
    return o;
}

/* One page of items being made. */
struct items_page {
    struct video *vs; /* the shown items' videos, their positions and times added */
    int64_t *pos, *added;
    uint64_t limit;
    int64_t position; /* of the next item shown */
    size_t shown;
    int64_t hidden, pending; /* left out: counted, and since the last shown item */
    bool more;
    struct playlist_item last; /* the last shown */
};

/* Adds it to the page if the caller may still see its video (read now, whole). */
static enum db_status
page_add(struct request *r, struct items_page *pg, const struct playlist_item *it)
{
    struct video v;
    enum db_status st = db_videos_get(r->arena, r->app->db, &it->video, &v);

    if (st != DB_OK && st != DB_NOT_FOUND) {
        return st;
    }
    if (st == DB_NOT_FOUND || !video_visible_to(&v, &r->user)) {
        pg->pending++; /* gone or hidden since the walk read it */
        return DB_OK;
    }
    pg->vs[pg->shown] = v;
    pg->pos[pg->shown] = pg->position++;
    pg->added[pg->shown] = it->added_at;
    pg->hidden += pg->pending;
    pg->pending = 0;
    pg->shown++;
    pg->last = *it;
    return DB_OK;
}

/* GET /api/v1/playlists/{id}/items */
int
h_playlists_items(struct request *r)
{
    struct items_page pg = {0};
    struct page_query pq;
    struct playlist_item from = {0}, it;
    struct json_object *o, *items, **vjs;
    size_t i;
    struct playlist p;
    struct walk w;
    bool vis;
    enum db_status st = DB_OK;
    int rc;

    if (!page_query_parse(r, &pq, &rc) || !load_playlist(r, &p, &rc)) {
        return rc;
    }
    pg.limit = pq.limit;
    if (pq.has_cursor) {
        from.id = pq.cursor_id;
        from.rank = pq.cursor_key >> POS_BITS;
        pg.position = (pq.cursor_key & ((INT64_C(1) << POS_BITS) - 1)) + 1;
    }
    if ((pg.vs = arena_calloc(r->arena, pg.limit, sizeof(*pg.vs))) == NULL ||
        (pg.pos = arena_calloc(r->arena, pg.limit, sizeof(*pg.pos))) == NULL ||
        (pg.added = arena_calloc(r->arena, pg.limit, sizeof(*pg.added))) == NULL) {
        return -1;
    }
    walk_init(&w, &p.id, pg.limit + 1, pq.has_cursor ? &from : NULL);
    while (st == DB_OK && walk_next(r, &w, &it, &vis, &st)) {
        if (!vis) {
            pg.pending++;
        } else if (pg.shown == pg.limit) {
            pg.more = true;
            break;
        } else {
            st = page_add(r, &pg, &it);
        }
    }
    /* The page's videos as every answer shows them (their owners' cards, my rating). */
    if (st == DB_OK) {
        st = videos_page_json(r, pg.vs, pg.shown, &vjs, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    if ((o = js_new_object(r->arena)) == NULL || (items = json_object_new_array()) == NULL) {
        return -1;
    }
    json_object_object_add(o, "items", items);
    for (i = 0; i < pg.shown; i++) {
        json_object_array_add(items,
                              json_object_get(item_json(r->arena, pg.pos[i], pg.added[i], vjs[i])));
    }
    /* Hidden items after the last shown one belong to the next page, if there is one. */
    js_add_int(o, "hiddenCount", pg.hidden + (pg.more ? 0 : pg.pending));
    js_add_str(o, "nextCursor",
               pg.more ? cursor_format(r->arena, pg.last.rank << POS_BITS | (pg.position - 1),
                                       pg.last.id_hex)
                       : NULL);
    return respond_json(r, 200, js_string(r->arena, o));
}

/* Where position pos of the caller's listing is, leaving out the item skip (the one that
 * moves; may be NULL): *prev gets the item just before that place in the whole order and
 * *next the one there (has_ false: the start, the end). Reads the order up to pos. */
static enum db_status
walk_to(struct request *r, const bson_oid_t *playlist, uint64_t pos, const bson_oid_t *skip,
        struct playlist_item *prev, bool *has_prev, struct playlist_item *next, bool *has_next)
{
    struct walk w;
    struct playlist_item it;
    uint64_t seen = 0;
    enum db_status st;
    bool vis;

    *has_prev = *has_next = false;
    walk_init(&w, playlist, WALK_BATCH, NULL);
    while (walk_next(r, &w, &it, &vis, &st)) {
        if (skip != NULL && bson_oid_equal(&it.id, skip)) {
            continue;
        }
        if (vis && seen++ == pos) {
            *next = it;
            *has_next = true;
            return DB_OK;
        }
        *prev = it;
        *has_prev = true;
    }
    return st;
}

/* The video the owner names ({videoId} in the path or the body) that they may see: true,
 * or false after answering 404 video_not_found. */
static bool
load_video(struct request *r, struct str id_s, struct video *v, int *rc)
{
    bson_oid_t id;
    enum db_status st;

    if (db_oid_parse(id_s, &id) == -1) {
        *rc = respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
        return false;
    }
    st = db_videos_get(r->arena, r->app->db, &id, v);
    if (st == DB_NOT_FOUND || (st == DB_OK && !video_visible_to(v, &r->user))) {
        *rc = respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
        return false;
    }
    if (st != DB_OK) {
        *rc = respond_db_problem(r, st);
        return false;
    }
    return true;
}

/* The rank for an item going to position pos (has_pos false: the end) of the owner's
 * listing, skip left out of the order. */
static enum db_status
rank_for(struct request *r, const bson_oid_t *playlist, bool has_pos, uint64_t pos,
         const bson_oid_t *skip, int64_t *rank)
{
    struct playlist_item prev, next;
    bool has_prev = false, has_next = false;
    enum db_status st;

    if (has_pos) {
        st = walk_to(r, playlist, pos, skip, &prev, &has_prev, &next, &has_next);
    } else {
        st = db_playlists_last(r->arena, r->app->db, playlist, &prev, &has_prev);
    }
    if (st != DB_OK) {
        return st;
    }
    return db_playlists_rank_between(r->arena, r->app->db, playlist, has_prev ? &prev : NULL,
                                     has_next ? &next : NULL, rank);
}

/* After an add: a video deleted meanwhile may have had its items dropped by its cleanup
 * job before this one went in, so the item goes back here, or nothing would ever remove
 * it. DB_NOT_FOUND: the video is gone (and so is the item). */
static enum db_status
added_video_stays(struct request *r, const struct playlist *p, struct video *v)
{
    enum db_status st = db_videos_get(r->arena, r->app->db, &v->id, v);

    if (st != DB_NOT_FOUND) {
        return st;
    }
    st = db_playlists_item_remove(r->arena, r->app->db, &p->id, &v->id);
    if (st != DB_OK && st != DB_NOT_FOUND) {
        log_ev(LOG_ERROR, "playlist_item_orphaned",
               "playlist %s keeps an item of deleted video %s (listed as hidden)", p->id_hex,
               v->id_hex);
        return st;
    }
    return DB_NOT_FOUND;
}

/* POST /api/v1/playlists/{id}/items */
int
h_playlists_item_add(struct request *r)
{
    static const struct js_field spec[] = {
        {"videoId", JS_STRING, true, 1, 64},
        {"position", JS_INT, false, 0, MAX_PLAYLIST_ITEMS},
    };
    struct js_value val[2];
    struct playlist p;
    struct video v;
    int64_t rank;
    enum db_status st;
    int rc;

    if (!load_own(r, &p, &rc) || !body_fields(r, spec, 2, val, false, &rc)) {
        return rc;
    }
    if (!load_video(r, val[0].s, &v, &rc)) {
        return rc;
    }
    if (p.item_count >= MAX_PLAYLIST_ITEMS) {
        return respond_problem(r, PROB_PLAYLIST_FULL, NULL);
    }
    st = rank_for(r, &p.id, val[1].present, (uint64_t)val[1].i, NULL, &rank);
    if (st == DB_OK) {
        st = db_playlists_item_add(r->arena, r->app->db, &p.id, &v.id, rank);
    }
    if (st == DB_DUPLICATE) {
        return respond_problem(r, PROB_ALREADY_IN_PLAYLIST, NULL);
    }
    if (st == DB_CONFLICT) {
        return respond_problem(r, PROB_PLAYLIST_FULL, NULL);
    }
    if (st == DB_OK && (st = added_video_stays(r, &p, &v)) == DB_NOT_FOUND) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
    }
    if (st == DB_OK) {
        st = db_playlists_get(r->arena, r->app->db, &p.id, &p);
    }
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_PLAYLIST_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    respond_header(r, "Location: /api/v1/playlists/%s/items/%s", p.id_hex, v.id_hex);
    return respond_playlist(r, 201, &p);
}

/* PATCH /api/v1/playlists/{id}/items/{videoId} */
int
h_playlists_item_move(struct request *r)
{
    static const struct js_field spec[] = {{"position", JS_INT, true, 0, MAX_PLAYLIST_ITEMS}};
    struct js_value val[1];
    struct playlist_item it;
    struct playlist p;
    struct video v;
    int64_t rank;
    enum db_status st;
    int rc;

    if (!load_own(r, &p, &rc) || !load_video(r, req_param(r, "videoId"), &v, &rc) ||
        !body_fields(r, spec, 1, val, false, &rc)) {
        return rc;
    }
    st = db_playlists_item_get(r->arena, r->app->db, &p.id, &v.id, &it);
    if (st == DB_OK) {
        st = rank_for(r, &p.id, true, (uint64_t)val[0].i, &it.id, &rank);
    }
    if (st == DB_OK) {
        st = db_playlists_item_move(r->arena, r->app->db, &it.id, rank);
    }
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, "The video is not in the playlist");
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_empty(r, 204);
}

/* DELETE /api/v1/playlists/{id}/items/{videoId} */
int
h_playlists_item_remove(struct request *r)
{
    struct playlist p;
    bson_oid_t video;
    enum db_status st;
    int rc;

    if (!load_own(r, &p, &rc)) {
        return rc;
    }
    /* No visibility check on the video: its owner may have hidden it since, and the
     * playlist's owner must still be able to take it out. */
    if (db_oid_parse(req_param(r, "videoId"), &video) == -1) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, "The video is not in the playlist");
    }
    st = db_playlists_item_remove(r->arena, r->app->db, &p.id, &video);
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, "The video is not in the playlist");
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_empty(r, 204);
}

/* Answers a page of owner's playlists (Watch later first on the first page, when wl is
 * not NULL: it comes on top of limit). */
static int
respond_list(struct request *r, const struct user *owner, bool public_only,
             const struct playlist *wl)
{
    struct playlist_query q = {.owner = &owner->id, .public_only = public_only};
    struct json_object *o, *items, *card;
    struct page_query pg;
    struct playlist *ps;
    size_t n, i;
    enum db_status st;
    int rc;

    if (!page_query_parse(r, &pg, &rc)) {
        return rc;
    }
    q.limit = pg.limit;
    q.has_cursor = pg.has_cursor;
    q.cursor_created = pg.cursor_key;
    q.cursor_id = pg.cursor_id;
    if ((st = db_playlists_list(r->arena, r->app->db, &q, &ps, &n)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    card = people_card(r->arena, owner, owner->id_hex);
    if ((o = js_new_object(r->arena)) == NULL || (items = json_object_new_array()) == NULL) {
        return -1;
    }
    json_object_object_add(o, "items", items);
    if (wl != NULL && !q.has_cursor) {
        json_object_array_add(items, json_object_get(playlist_json(r->arena, wl, card)));
    }
    for (i = 0; i < n && i < q.limit; i++) {
        json_object_array_add(items, json_object_get(playlist_json(r->arena, &ps[i], card)));
    }
    js_add_str(o, "nextCursor",
               n > q.limit
                   ? cursor_format(r->arena, ps[q.limit - 1].created_at, ps[q.limit - 1].id_hex)
                   : NULL);
    return respond_json(r, 200, js_string(r->arena, o));
}

/* The caller's own list: Watch later (made now if need be) and the rest. */
static int
respond_mine(struct request *r, const struct user *me)
{
    struct playlist wl;
    enum db_status st;

    if ((st = db_playlists_watch_later(r->arena, r->app->db, &me->id, &wl)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_list(r, me, false, &wl);
}

/* GET /api/v1/channels/{username}/playlists */
int
h_playlists_list_channel(struct request *r)
{
    struct user u;
    int rc;

    if (!channel_load(r, &u, &rc)) {
        return rc;
    }
    if (r->user.authenticated && strcmp(r->user.id, u.id_hex) == 0) {
        return respond_mine(r, &u);
    }
    return respond_list(r, &u, true, NULL);
}

/* GET /api/v1/users/me/playlists */
int
h_playlists_list_mine(struct request *r)
{
    bson_oid_t id;
    struct user u;
    enum db_status st;

    if (db_oid_parse(str_from(r->user.id), &id) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((st = db_users_get(r->arena, r->app->db, &id, &u)) == DB_NOT_FOUND) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    return respond_mine(r, &u);
}
