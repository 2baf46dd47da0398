/*
 * videos.c - video metadata and playback links.
 *   GET    /api/v1/videos?owner=&tag=&q=&limit=&cursor=  {items, nextCursor}
 *   GET    /api/v1/videos/{id}            200 video (ETag; If-None-Match -> 304)
 *   PATCH  /api/v1/videos/{id}            owner or admin: title, description, tags, visibility,
 *                                          commentsEnabled
 *   DELETE /api/v1/videos/{id}            owner or admin; 204; a cleanup job removes its files
 *   GET    /api/v1/videos/{id}/playback   {expiresAt, source, hls, thumbnail} signed links
 * Visibility: public and unlisted videos are visible to anyone with the id, private ones to
 * their owner and admins; anyone else gets 404 exactly as for a missing video. Lists show
 * public videos plus the caller's own. GET by id is a hot path: it serves from the
 * worker's LRU, whose entries every write here (and every rating, ratings.c) invalidates on
 * all workers of the host. The cached JSON is everyone's; the parts that are not are added
 * after the cache: the owner's card (cached apart, under the owner's user generation, so a
 * new name or avatar shows at once) and the caller's own rating (myRating). The ETag is
 * that of the body sent. Every other answer with videos carries both too (respond_video,
 * videos_page_json: one read of the users and one of the caller's ratings a page).
 * Uploads are in videos_upload.c.
 */
#include "handlers.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "clock.h"
#include "crypto.h"
#include "cursor.h"
#include "db.h"
#include "db_users.h"
#include "db_videos.h"
#include "host.h"
#include "job.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "lru.h"
#include "people.h"
#include "ratings.h"
#include "slink.h"
#include "storage.h"
#include "video.h"
#include "videos.h"

#define CLEANUP_ATTEMPTS 10 /* a deleted video's files are tried this often */

bool
principal_is_admin(const struct principal *who)
{
    return who->authenticated && strcmp(who->role, "admin") == 0;
}

bool
video_visible_to(const struct video *v, const struct principal *who)
{
    if (strcmp(v->status, "uploading") == 0) {
        return false;
    }
    /* A failed video is its owner's business (its failureReason is for them), as a private
     * one is: lists leave it out for everyone else too. */
    if (strcmp(v->visibility, "private") != 0 && strcmp(v->status, "failed") != 0) {
        return true;
    }
    return video_writable_by(v, who);
}

bool
video_writable_by(const struct video *v, const struct principal *who)
{
    return who->authenticated && (strcmp(who->id, v->owner_hex) == 0 || principal_is_admin(who));
}

/*
 * A cache entry: the fields GET checks before answering, then the JSON body as anyone
 * sees it (without owner and myRating). A missing video is cached too (visibility ""), so
 * that a missing id and another user's private video take the same path and the same
 * time: timing tells them apart no more than the answer does.
 */
struct video_entry {
    char visibility[9]; /* "public", "unlisted", "private"; "" for no such video */
    bool failed;        /* shown to its owner (and admins) only, as a private video */
    char owner[25];
    size_t json_len;
    char json[];
};

/* The entry in bytes (len of them), or NULL if they are not one whole entry. */
static const struct video_entry *
entry_of(const char *bytes, size_t len)
{
    const struct video_entry *e = (const struct video_entry *)(const void *)bytes;

    if (bytes == NULL || len < offsetof(struct video_entry, json) ||
        e->json_len != len - offsetof(struct video_entry, json)) {
        return NULL;
    }
    return e;
}

/* Stores the entry for key: v's JSON (v NULL: no such video). NULL if a is full. */
static const struct video_entry *
entry_put(struct request *r, const char *key, const struct video *v, uint64_t now, uint64_t gen)
{
    const char *json = v != NULL ? js_string(r->arena, video_json(r->arena, v)) : "";
    size_t jlen = json != NULL ? strlen(json) : 0;
    struct video_entry *e;

    if (json == NULL ||
        (e = arena_alloc(r->arena, offsetof(struct video_entry, json) + jlen)) == NULL) {
        return NULL;
    }
    memset(e, 0, offsetof(struct video_entry, json));
    if (v != NULL) {
        snprintf(e->visibility, sizeof(e->visibility), "%s", v->visibility);
        e->failed = strcmp(v->status, "failed") == 0;
        snprintf(e->owner, sizeof(e->owner), "%s", v->owner_hex);
    }
    e->json_len = jlen;
    memcpy(e->json, json, jlen);
    lru_put(r->app->cache, key, e, offsetof(struct video_entry, json) + jlen, now, gen);
    return e;
}

/* May the caller see the entry's video? The same rule as video_visible_to. */
static bool
entry_visible(const struct video_entry *e, const struct principal *who)
{
    if (e->visibility[0] == '\0') {
        return false;
    }
    if (strcmp(e->visibility, "private") != 0 && !e->failed) {
        return true;
    }
    return who->authenticated && (strcmp(who->id, e->owner) == 0 || principal_is_admin(who));
}

/*
 * The card of a video's owner, as JSON in the arena: kept in the LRU under "o:<owner>" but
 * recorded with the generation of the owner's own key ("u:<owner>"), which every change of
 * the user's name or images bumps (users.c, images.c: cache_invalidate(r, 'u', id)). So a
 * new displayName shows on every worker of the host at once, and the video's entry, read
 * by everyone, never holds a copy that could go stale. NULL with *st on failure.
 */
static const char *
owner_card(struct request *r, const char *owner_hex, enum db_status *st)
{
    struct app *app = r->app;
    char key[HOST_KEY_MAX], ukey[HOST_KEY_MAX];
    uint64_t gen, now = (uint64_t)clock_mono_ms();
    const char *hit, *json;
    struct user u;
    bson_oid_t id;
    size_t len = 0;

    *st = DB_ERROR;
    host_key(key, 'o', owner_hex);
    host_key(ukey, 'u', owner_hex);
    gen = host_gen(app->host, ukey); /* before the read: see users.c */
    hit = lru_get(app->cache, key, now, gen, &len);
    if (hit != NULL && len > 0 && hit[len - 1] == '\0') {
        *st = DB_OK;
        return arena_strdup(r->arena, hit); /* hit lives only until the next lru_ call */
    }
    if (db_oid_parse(str_from(owner_hex), &id) == -1) {
        return NULL;
    }
    *st = db_users_get(r->arena, app->db, &id, &u);
    if (*st != DB_OK && *st != DB_NOT_FOUND) {
        return NULL;
    }
    /* A deleted owner has a card too ("Deleted user"), cached as well. */
    json = js_string(r->arena, people_card(r->arena, *st == DB_OK ? &u : NULL, owner_hex));
    *st = json != NULL ? DB_OK : DB_ERROR;
    if (json != NULL) {
        lru_put(app->cache, key, json, strlen(json) + 1, now, gen);
    }
    return json;
}

static const char *
rating_json(enum rating_value v)
{
    return v == RATING_LIKE ? "\"like\"" : v == RATING_DISLIKE ? "\"dislike\"" : "null";
}

/* Answers with the entry's video as the caller sees it: the shared JSON, then the owner's
 * card and the caller's rating. */
static int
respond_entry(struct request *r, const struct video_entry *e, const char *id_hex)
{
    char etag[CACHE_ETAG_LEN + 1];
    enum rating_value mine = RATING_NONE;
    enum db_status st;
    const char *card, *body;
    bool public;

    if (!entry_visible(e, &r->user)) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
    }
    if ((card = owner_card(r, e->owner, &st)) == NULL ||
        (st = ratings_mine(r, id_hex, &mine)) != DB_OK) {
        return st == DB_ERROR ? -1 : respond_db_problem(r, st);
    }
    if (e->json_len < 2 || e->json[e->json_len - 1] != '}') {
        return -1;
    }
    body = arena_sprintf(r->arena, "%.*s,\"owner\":%s,\"myRating\":%s}", (int)(e->json_len - 1),
                         e->json, card, rating_json(mine));
    if (body == NULL) {
        return -1;
    }
    cache_etag(body, etag);
    /* The body depends on who asks (myRating): a shared cache may keep only the anonymous
     * answer, and must tell callers apart by their Authorization. */
    public = strcmp(e->visibility, "public") == 0 && !e->failed;
    if (public) {
        respond_header(r, "Vary: Authorization");
    }
    return respond_etagged(r, str_from(etag),
                           public && !r->user.authenticated ? "public, no-cache"
                                                            : "private, no-cache",
                           body, strlen(body));
}

/* GET /api/v1/videos/{id} */
int
h_videos_get(struct request *r)
{
    struct app *app = r->app;
    char key[MAX_CACHE_KEY + 1], hex[25];
    struct str id_s = req_param(r, "id");
    uint64_t gen, now = (uint64_t)clock_mono_ms();
    const struct video_entry *e;
    const char *hit;
    bson_oid_t id;
    struct video v;
    enum db_status st;
    size_t len = 0;

    if (db_oid_parse(id_s, &id) == -1) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
    }
    snprintf(hex, sizeof(hex), "%.24s", id_s.p);
    host_key(key, 'v', hex);
    gen = host_gen(app->host, key); /* before the read: see users.c */
    hit = lru_get(app->cache, key, now, gen, &len);
    if ((e = entry_of(hit, len)) != NULL) {
        return respond_entry(r, e, hex);
    }
    st = db_videos_get(r->arena, app->db, &id, &v);
    if (st != DB_OK && st != DB_NOT_FOUND) {
        return respond_db_problem(r, st);
    }
    /* An upload in progress is no video yet: cached as missing until it commits. */
    e = entry_put(r, key, st == DB_OK && strcmp(v.status, "uploading") != 0 ? &v : NULL, now, gen);
    return e != NULL ? respond_entry(r, e, hex) : -1;
}

bool
video_load_visible(struct request *r, struct video *v, int *rc)
{
    bson_oid_t id;
    enum db_status st;

    if (db_oid_parse(req_param(r, "id"), &id) == -1) {
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

/* Takes "tags" (an array of strings) out of obj into v; NULL or an error code. */
static const char *
patch_tags(struct arena *a, struct json_object *obj, struct video *v, bool *present)
{
    struct json_object *arr;
    size_t i, n;

    *present = json_object_object_get_ex(obj, "tags", &arr);
    if (!*present) {
        return NULL;
    }
    if (!json_object_is_type(arr, json_type_array)) {
        return "wrong_type";
    }
    v->ntags = 0;
    n = json_object_array_length(arr);
    for (i = 0; i < n; i++) {
        struct json_object *t = json_object_array_get_idx(arr, i);
        const char *err;

        if (!json_object_is_type(t, json_type_string)) {
            return "wrong_type";
        }
        err = video_tags_add(
            a, v, (struct str){json_object_get_string(t), (size_t)json_object_get_string_len(t)});
        if (err != NULL) {
            return err;
        }
    }
    return NULL;
}

/* PATCH /api/v1/videos/{id} */
int
h_videos_update(struct request *r)
{
    static const struct js_field spec[] = {
        {"title", JS_STRING, false, 1, MAX_TITLE},
        {"description", JS_STRING, false, 0, MAX_DESCRIPTION},
        {"visibility", JS_STRING, false, 1, 8},
        {"commentsEnabled", JS_BOOL, false, 0, 0},
    };
    struct js_error errs[MAX_FIELD_ERRORS];
    struct js_value val[4];
    struct json_object *obj;
    struct video v;
    size_t nerrs = 0, more = 0;
    unsigned mask = 0;
    const char *terr;
    bool has_tags;
    enum db_status st;
    int rc;

    if (!video_load_visible(r, &v, &rc)) {
        return rc;
    }
    if (!video_writable_by(&v, &r->user)) {
        return respond_problem(r, PROB_FORBIDDEN, "Only the owner or an admin may change it");
    }
    /* The tags array is taken out before js_fields, which knows no arrays. */
    if (!body_json(r, &obj, &rc)) {
        return rc;
    }
    /* Room is kept for the four checks of our own around js_fields. */
    if ((terr = patch_tags(r->arena, obj, &v, &has_tags)) != NULL) {
        errs[nerrs++] = (struct js_error){"tags", terr};
    }
    json_object_object_del(obj, "tags");
    if (js_fields(r->arena, obj, spec, 4, val, errs + nerrs, MAX_FIELD_ERRORS - 4, &more) == -1) {
        nerrs += more;
    }
    if (val[2].present && !video_visibility_valid(val[2].s)) {
        errs[nerrs++] = (struct js_error){"visibility", "invalid_format"};
    }
    if (val[0].present && (terr = video_title_check(val[0].s)) != NULL) {
        errs[nerrs++] = (struct js_error){"title", terr};
    }
    if (val[1].present && (terr = video_description_check(val[1].s)) != NULL) {
        errs[nerrs++] = (struct js_error){"description", terr};
    }
    if (nerrs > 0) {
        return respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
    }
    mask |= has_tags ? VIDEO_SET_TAGS : 0;
    if (val[0].present) {
        v.title = str_cstr(r->arena, val[0].s);
        mask |= VIDEO_SET_TITLE;
    }
    if (val[1].present) {
        v.description = str_cstr(r->arena, val[1].s);
        mask |= VIDEO_SET_DESCRIPTION;
    }
    if (val[2].present) {
        v.visibility = str_cstr(r->arena, val[2].s);
        mask |= VIDEO_SET_VISIBILITY;
    }
    if (val[3].present) {
        v.comments_enabled = val[3].b;
        mask |= VIDEO_SET_COMMENTS;
    }
    if (v.title == NULL || v.description == NULL || v.visibility == NULL) {
        return -1;
    }
    v.updated_at = db_now_ms();
    if (mask != 0) {
        st = db_videos_update(r->arena, r->app->db, &v, mask);
        cache_invalidate(r, 'v', v.id_hex);
        if (st == DB_NOT_FOUND) {
            return respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
        }
        if (st != DB_OK) {
            return respond_db_problem(r, st);
        }
    }
    return respond_video(r, 200, &v);
}

/* DELETE /api/v1/videos/{id} */
int
h_videos_delete(struct request *r)
{
    bson_t payload = BSON_INITIALIZER;
    struct job_spec spec = {JOB_CLEANUP, NULL, NULL, &payload, 0, CLEANUP_ATTEMPTS, 0};
    const char *json;
    struct video v;
    enum db_status st;
    int rc;

    if (!video_load_visible(r, &v, &rc)) {
        bson_destroy(&payload);
        return rc;
    }
    if (!video_writable_by(&v, &r->user)) {
        bson_destroy(&payload);
        return respond_problem(r, PROB_FORBIDDEN, "Only the owner or an admin may delete it");
    }
    /* The cleanup job first, carrying the video as it was (for video.deleted): it acts only
     * once the document is gone, so a delete that fails below costs nothing. A processing
     * job still running sees its video go and stops. */
    spec.video = &v.id;
    if ((json = js_string(r->arena, video_json(r->arena, &v))) == NULL) {
        bson_destroy(&payload);
        return -1;
    }
    BSON_APPEND_UTF8(&payload, "video", json);
    BSON_APPEND_OID(&payload, "ownerId", &v.owner_id);
    st = job_enqueue(r->arena, r->app->db, &spec);
    bson_destroy(&payload);
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    st = db_videos_delete(r->arena, r->app->db, &v.id);
    cache_invalidate(r, 'v', v.id_hex);
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    /* The files go now, so that links handed out before stop at once; the cleanup job
     * removes anything processing was still making and tells the webhooks. */
    if (storage_delete_video(r->app->storage, v.id_hex) != STORAGE_OK) {
        log_ev(LOG_WARN, "video_files_left", "video %s: left to the cleanup job", v.id_hex);
    }
    log_ev(LOG_INFO, "video_deleted", "video %s", v.id_hex);
    return respond_empty(r, 204);
}

/* GET /api/v1/videos/{id}/playback */
int
h_videos_playback(struct request *r)
{
    struct app *app = r->app;
    struct json_object *o;
    struct video v;
    int64_t expiry = db_now_ms() / 1000 + (int64_t)app->cfg.link_ttl;
    char expires[32], *tok, *base;
    int rc;

    if (!video_load_visible(r, &v, &rc)) {
        return rc;
    }
    tok = slink_sign(r->arena, keys_current(&app->keys), str_from(v.id_hex), expiry);
    if (tok == NULL || (base = arena_sprintf(r->arena, "/media/%s/%s/", tok, v.id_hex)) == NULL ||
        (o = js_new_object(r->arena)) == NULL) {
        return -1;
    }
    db_time_format(expiry * 1000, expires);
    js_add_str(o, "expiresAt", expires);
    js_add_str(o, "source",
               v.source != NULL ? arena_sprintf(r->arena, "%s%s", base, v.source) : NULL);
    js_add_str(o, "hls", v.has_hls ? arena_sprintf(r->arena, "%shls/master.m3u8", base) : NULL);
    js_add_str(o, "thumbnail",
               v.has_thumbnail ? arena_sprintf(r->arena, "%sthumb.jpg", base) : NULL);
    respond_header(r, "Cache-Control: private, no-store");
    return respond_json(r, 200, js_string(r->arena, o));
}

static int
cursor_read(struct str s, struct video_query *q)
{
    char hex[25];

    if (cursor_parse(s, &q->cursor_created, hex) == -1 ||
        db_oid_parse(str_from(hex), &q->cursor_id) == -1) {
        return -1;
    }
    q->has_cursor = true;
    return 0;
}

/* Reads the list's query parameters into q. Returns true, or false after a 400. */
static bool
list_query(struct request *r, struct video_query *q, bson_oid_t *viewer, bson_oid_t *owner, int *rc)
{
    struct str limit = req_query(r, "limit"), cur = req_query(r, "cursor");
    struct str own = req_query(r, "owner"), tag = req_query(r, "tag"), qs = req_query(r, "q");
    uint64_t n = 20;
    struct video scratch = {0};

    memset(q, 0, sizeof(*q));
    if (!http_query_is_valid(r->query)) {
        *rc = respond_problem(r, PROB_INVALID_QUERY, "Malformed percent-escape in the query");
        return false;
    }
    if (r->user.authenticated && db_oid_parse(str_from(r->user.id), viewer) == 0) {
        q->viewer = viewer;
    }
    if (limit.p != NULL && str_to_u64(limit, 1, MAX_LIST_LIMIT, &n) == -1) {
        *rc = respond_problem(r, PROB_INVALID_QUERY, "limit must be 1-100");
        return false;
    }
    q->limit = (size_t)n;
    if (cur.p != NULL && cursor_read(cur, q) == -1) {
        *rc = respond_problem(r, PROB_INVALID_CURSOR, NULL);
        return false;
    }
    if (own.p != NULL) {
        if (db_oid_parse(own, owner) == -1) {
            *rc = respond_problem(r, PROB_INVALID_QUERY, "owner must be a user id");
            return false;
        }
        q->owner = owner;
    }
    if (tag.p != NULL) {
        if (video_tags_add(r->arena, &scratch, tag) != NULL || scratch.ntags != 1) {
            *rc = respond_problem(r, PROB_INVALID_QUERY, "tag must be one tag");
            return false;
        }
        q->tag = scratch.tags[0];
    }
    if (qs.p != NULL && qs.len > 0) {
        if (!str_is_utf8(qs) || str_utf8_len(qs) > MAX_QUERY_Q) {
            *rc = respond_problem(r, PROB_INVALID_QUERY, "q must be 1-100 characters");
            return false;
        }
        q->title_q = qs;
    }
    return true;
}

/* The owners' cards of a page of videos: one people_cards read. */
enum db_status
videos_page_json(struct request *r, const struct video *vs, size_t n, struct json_object ***out,
                 uint64_t *gens)
{
    bson_oid_t *owners = arena_calloc(r->arena, n > 0 ? n : 1, sizeof(*owners));
    struct json_object **objs = arena_calloc(r->arena, n > 0 ? n : 1, sizeof(*objs));
    struct json_object **cards;
    enum rating_value *mine = NULL;
    enum db_status st;
    size_t i;

    if (owners == NULL || objs == NULL) {
        return DB_ERROR;
    }
    for (i = 0; i < n; i++) {
        bson_oid_copy(&vs[i].owner_id, &owners[i]);
        if (gens != NULL) {
            char ukey[HOST_KEY_MAX];

            host_key(ukey, 'u', vs[i].owner_hex);
            gens[i] = host_gen(r->app->host, ukey);
        }
    }
    if ((st = people_cards(r->arena, r->app->db, owners, n, &cards)) != DB_OK) {
        return st;
    }
    if (r->user.authenticated && n > 0) {
        bson_oid_t user;

        if (db_oid_parse(str_from(r->user.id), &user) == -1) {
            return DB_ERROR;
        }
        for (i = 0; i < n; i++) {
            bson_oid_copy(&vs[i].id, &owners[i]); /* reused: now the page's video ids */
        }
        if ((mine = arena_calloc(r->arena, n, sizeof(*mine))) == NULL) {
            return DB_ERROR;
        }
        if ((st = db_ratings_get_many(r->arena, r->app->db, &user, owners, n, mine)) != DB_OK) {
            return st;
        }
    }
    for (i = 0; i < n; i++) {
        if ((objs[i] = video_json(r->arena, &vs[i])) == NULL ||
            js_add_obj(objs[i], "owner", cards[i]) == -1 ||
            js_add_str(objs[i], "myRating", mine != NULL ? rating_value_name(mine[i]) : NULL) ==
                -1) {
            return DB_ERROR;
        }
    }
    *out = objs;
    return DB_OK;
}

int
respond_video(struct request *r, int status, const struct video *v)
{
    struct json_object **objs;
    enum db_status st;

    if ((st = videos_page_json(r, v, 1, &objs, NULL)) != DB_OK) {
        return st == DB_ERROR ? -1 : respond_db_problem(r, st);
    }
    return respond_json(r, status, js_string(r->arena, objs[0]));
}

/*
 * A list page as an anonymous caller gets it, cached per query string: the home page and
 * its next pages are read by everyone alike. Any video's change on this host ends every
 * cached list at once (HOST_KEY_VIDEO_LISTS); so does a change of any owner's card in it
 * (each owner's user generation is kept in the entry and checked on every hit); another
 * host's, after STREMORA_CACHE_TTL_MS. A signed-in caller's lists include their own
 * private videos: never cached.
 */
struct list_owner {
    char key[HOST_KEY_MAX]; /* "u:<owner>" */
    uint64_t gen;           /* its generation when the page was read */
};

struct list_entry {
    size_t nowners;
    size_t json_len; /* with its NUL */
    struct list_owner owners[];
    /* then json_len bytes of JSON */
};

static void
list_key(const struct request *r, char key[HOST_KEY_MAX])
{
    unsigned char digest[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];

    crypto_sha256(r->query.p != NULL ? r->query.p : "", r->query.len, digest);
    crypto_hex(digest, 12, hex);
    host_key(key, 'l', hex);
}

static const char *
list_cached(struct request *r, const char *key, uint64_t now, uint64_t gen)
{
    size_t len = 0, head, i;
    const struct list_entry *e = lru_get(r->app->cache, key, now, gen, &len);
    const char *json;

    if (e == NULL || len < sizeof(*e) || e->nowners > MAX_LIST_LIMIT) {
        return NULL;
    }
    head = sizeof(*e) + e->nowners * sizeof(e->owners[0]);
    if (len < head || e->json_len != len - head || e->json_len == 0) {
        return NULL;
    }
    json = (const char *)e + head;
    if (json[e->json_len - 1] != '\0') {
        return NULL;
    }
    for (i = 0; i < e->nowners; i++) {
        if (memchr(e->owners[i].key, '\0', HOST_KEY_MAX) == NULL ||
            host_gen(r->app->host, e->owners[i].key) != e->owners[i].gen) {
            return NULL; /* an owner's card changed since */
        }
    }
    return json; /* valid until the next lru_ call: the answer is sent before any */
}

static void
list_put(struct request *r, const char *key, const char *json, const struct video *vs,
         const uint64_t *gens, size_t n, uint64_t now, uint64_t gen)
{
    size_t jlen = strlen(json) + 1,
           head = sizeof(struct list_entry) + n * sizeof(struct list_owner);
    struct list_entry *e = arena_alloc(r->arena, head + jlen);
    size_t i;

    if (e == NULL) {
        return;
    }
    memset(e, 0, head);
    e->nowners = n;
    e->json_len = jlen;
    for (i = 0; i < n; i++) {
        host_key(e->owners[i].key, 'u', vs[i].owner_hex);
        e->owners[i].gen = gens[i];
    }
    memcpy((char *)e + head, json, jlen);
    lru_put(r->app->cache, key, e, head + jlen, now, gen);
}

/* GET /api/v1/videos */
int
h_videos_list(struct request *r)
{
    struct json_object *o, *items, **objs;
    struct video_query q;
    struct video *vs;
    bson_oid_t viewer, owner;
    char key[HOST_KEY_MAX];
    uint64_t gen = 0, now = (uint64_t)clock_mono_ms(), *gens;
    const char *json;
    bool cacheable;
    size_t n, shown, i;
    enum db_status st;
    int rc;

    if (!list_query(r, &q, &viewer, &owner, &rc)) {
        return rc;
    }
    if ((cacheable = q.viewer == NULL)) {
        list_key(r, key);
        gen = host_gen(r->app->host, HOST_KEY_VIDEO_LISTS); /* before the read: see users.c */
        if ((json = list_cached(r, key, now, gen)) != NULL) {
            return respond_json(r, 200, json);
        }
    }
    if ((st = db_videos_list(r->arena, r->app->db, &q, &vs, &n)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    shown = n < q.limit ? n : q.limit;
    if ((gens = arena_calloc(r->arena, shown > 0 ? shown : 1, sizeof(*gens))) == NULL) {
        return -1;
    }
    if ((st = videos_page_json(r, vs, shown, &objs, gens)) != DB_OK) {
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
               n > q.limit
                   ? cursor_format(r->arena, vs[q.limit - 1].created_at, vs[q.limit - 1].id_hex)
                   : NULL);
    if ((json = js_string(r->arena, o)) == NULL) {
        return -1;
    }
    if (cacheable) {
        list_put(r, key, json, vs, gens, shown, now, gen);
    }
    return respond_json(r, 200, json);
}
