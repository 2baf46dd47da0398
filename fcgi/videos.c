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
 * worker's LRU, whose entries every write here invalidates on all workers of the host.
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
#include "db_videos.h"
#include "host.h"
#include "job.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "lru.h"
#include "slink.h"
#include "storage.h"
#include "video.h"

#define CLEANUP_ATTEMPTS 10 /* a deleted video's files are tried this often */

static bool
is_admin(const struct principal *who)
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
    return who->authenticated && (strcmp(who->id, v->owner_hex) == 0 || is_admin(who));
}

/*
 * A cache entry: the fields GET checks before answering, then the JSON body. A missing
 * video is cached too (visibility ""), so that a missing id and another user's private
 * video take the same path and the same time: timing tells them apart no more than the
 * answer does.
 */
struct video_entry {
    char visibility[9]; /* "public", "unlisted", "private"; "" for no such video */
    bool failed;        /* shown to its owner (and admins) only, as a private video */
    char owner[25];
    char etag[CACHE_ETAG_LEN + 1];
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
        cache_etag(json, e->etag);
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
    return who->authenticated && (strcmp(who->id, e->owner) == 0 || is_admin(who));
}

static int
respond_entry(struct request *r, const struct video_entry *e)
{
    if (!entry_visible(e, &r->user)) {
        return respond_problem(r, PROB_VIDEO_NOT_FOUND, NULL);
    }
    return respond_etagged(r, str_from(e->etag),
                           strcmp(e->visibility, "public") == 0 && !e->failed ? "public, no-cache"
                                                                              : "private, no-cache",
                           e->json, e->json_len);
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
        return respond_entry(r, e);
    }
    st = db_videos_get(r->arena, app->db, &id, &v);
    if (st != DB_OK && st != DB_NOT_FOUND) {
        return respond_db_problem(r, st);
    }
    /* An upload in progress is no video yet: cached as missing until it commits. */
    e = entry_put(r, key, st == DB_OK && strcmp(v.status, "uploading") != 0 ? &v : NULL, now, gen);
    return e != NULL ? respond_entry(r, e) : -1;
}

/* Loads the video named by {id} that the caller may see. Returns true, or false after
 * answering (404 for missing, malformed or invisible). */
static bool
load_visible(struct request *r, struct video *v, int *rc)
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

    if (!load_visible(r, &v, &rc)) {
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
    return respond_json(r, 200, js_string(r->arena, video_json(r->arena, &v)));
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

    if (!load_visible(r, &v, &rc)) {
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

    if (!load_visible(r, &v, &rc)) {
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

/*
 * A list page as an anonymous caller gets it, cached per query string: the home page and
 * its next pages are read by everyone alike. Any video's change on this host ends every
 * cached list at once (HOST_KEY_VIDEO_LISTS); another host's, after STREMORA_CACHE_TTL_MS.
 * A signed-in caller's lists include their own private videos: never cached.
 */
struct list_entry {
    size_t json_len; /* with its NUL */
    char json[];
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
    size_t len = 0;
    const struct list_entry *e = lru_get(r->app->cache, key, now, gen, &len);

    if (e == NULL || len < sizeof(*e) || e->json_len != len - sizeof(*e) || e->json_len == 0 ||
        e->json[e->json_len - 1] != '\0') {
        return NULL;
    }
    return e->json;
}

static void
list_put(struct request *r, const char *key, const char *json, uint64_t now, uint64_t gen)
{
    size_t jlen = strlen(json) + 1;
    struct list_entry *e = arena_alloc(r->arena, sizeof(*e) + jlen);

    if (e != NULL) {
        e->json_len = jlen;
        memcpy(e->json, json, jlen);
        lru_put(r->app->cache, key, e, sizeof(*e) + jlen, now, gen);
    }
}

/* GET /api/v1/videos */
int
h_videos_list(struct request *r)
{
    struct json_object *o, *items;
    struct video_query q;
    struct video *vs;
    bson_oid_t viewer, owner;
    char key[HOST_KEY_MAX];
    uint64_t gen = 0, now = (uint64_t)clock_mono_ms();
    const char *json;
    bool cacheable;
    size_t n, i;
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
    if ((o = js_new_object(r->arena)) == NULL || (items = json_object_new_array()) == NULL) {
        return -1;
    }
    for (i = 0; i < n && i < q.limit; i++) {
        struct json_object *item = video_json(r->arena, &vs[i]);

        if (item != NULL) {
            json_object_array_add(items, json_object_get(item));
        }
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
        list_put(r, key, json, now, gen);
    }
    return respond_json(r, 200, json);
}
