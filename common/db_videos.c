/*
 * db_videos.c - queries on videos. Indexes they use (sql-free-schemas/videos.json):
 * {ownerId:1, createdAt:-1, _id:-1} (a user's videos), {visibility:1, createdAt:-1, _id:-1}
 * (public lists), {status:1, updatedAt:1} (the sweep of abandoned uploads); a tag's list
 * reads video_tags (below). Title search is a case-insensitive {$regex, $options} on client text,
 * escaped here (db_regex_escape).
 */
#include "db_videos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "log.h"

#define TAG_IN_BATCH 50 /* ids in one $in of a tag page's second read */
#define TAG_ROUNDS   4  /* reads of a tag page's mirrors, when stale ones fall out */

static const char *const listed_status[] = {"processing", "ready"};
static const char *const own_status[] = {"processing", "ready", "failed"};

/* The processing state and the media facts of a video document. */
static void
media_of(struct arena *a, const bson_t *doc, struct video_media *m)
{
    bson_iter_t it, sub, arr;

    m->duration = 0;
    if (bson_iter_init_find(&it, doc, "durationSec") && BSON_ITER_HOLDS_NUMBER(&it)) {
        m->duration = bson_iter_as_double(&it);
    }
    m->width = (int)db_get_i64(doc, "width", 0);
    m->height = (int)db_get_i64(doc, "height", 0);
    m->has_thumbnail = db_get_bool(doc, "thumbnail", false);
    if (bson_iter_init_find(&it, doc, "processing") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
        bson_iter_recurse(&it, &sub)) {
        m->processing = true;
        m->percent = -1;
        while (bson_iter_next(&sub)) {
            if (strcmp(bson_iter_key(&sub), "stage") == 0 && BSON_ITER_HOLDS_UTF8(&sub)) {
                m->stage = arena_strdup(a, bson_iter_utf8(&sub, NULL));
            } else if (strcmp(bson_iter_key(&sub), "percent") == 0) {
                m->percent = (int)bson_iter_as_int64(&sub);
            }
        }
    }
    if (bson_iter_init_find(&it, doc, "renditions") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        while (bson_iter_next(&arr) && m->nrenditions < MAX_RENDITIONS) {
            struct rendition *r = &m->renditions[m->nrenditions];
            const uint8_t *data;
            uint32_t len;
            bson_t item;

            if (!BSON_ITER_HOLDS_DOCUMENT(&arr)) {
                continue;
            }
            bson_iter_document(&arr, &len, &data);
            if (!bson_init_static(&item, data, len)) {
                continue;
            }
            r->name = db_get_str(a, &item, "name");
            r->width = (int)db_get_i64(&item, "width", 0);
            r->height = (int)db_get_i64(&item, "height", 0);
            r->bandwidth = db_get_i64(&item, "bandwidth", 0);
            r->average_bandwidth = db_get_i64(&item, "averageBandwidth", 0);
            if (r->name != NULL) {
                m->nrenditions++;
            }
        }
    }
}

static void
from_bson(struct arena *a, const bson_t *doc, struct video *v)
{
    bson_iter_t it, arr;

    memset(v, 0, sizeof(*v));
    db_get_oid(doc, "_id", &v->id);
    bson_oid_to_string(&v->id, v->id_hex);
    db_get_oid(doc, "ownerId", &v->owner_id);
    bson_oid_to_string(&v->owner_id, v->owner_hex);
    v->title = db_get_str(a, doc, "title");
    v->description = db_get_str(a, doc, "description");
    v->visibility = db_get_str(a, doc, "visibility");
    v->status = db_get_str(a, doc, "status");
    v->sha256 = db_get_str(a, doc, "sha256");
    v->source = db_get_str(a, doc, "source");
    v->mime = db_get_str(a, doc, "mimeType");
    v->size = db_get_i64(doc, "size", 0);
    v->has_hls = db_get_bool(doc, "hls", false);
    v->has_thumbnail = db_get_bool(doc, "thumbnail", false);
    v->created_at = db_get_i64(doc, "createdAt", 0);
    v->updated_at = db_get_i64(doc, "updatedAt", v->created_at);
    v->failure_reason = db_get_str(a, doc, "failureReason");
    v->view_count = db_get_i64(doc, "viewCount", 0);
    v->like_count = db_get_i64(doc, "likeCount", 0);
    v->dislike_count = db_get_i64(doc, "dislikeCount", 0);
    v->comment_count = db_get_i64(doc, "commentCount", 0);
    v->comments_enabled = db_get_bool(doc, "commentsEnabled", true);
    media_of(a, doc, &v->media);
    if (bson_iter_init_find(&it, doc, "tags") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        while (bson_iter_next(&arr) && v->ntags < MAX_TAGS) {
            if (BSON_ITER_HOLDS_UTF8(&arr)) {
                v->tags[v->ntags++] = arena_strdup(a, bson_iter_utf8(&arr, NULL));
            }
        }
    }
    if (v->title == NULL) {
        v->title = "";
    }
    if (v->description == NULL) {
        v->description = "";
    }
    if (v->visibility == NULL) {
        v->visibility = "private";
    }
    if (v->status == NULL) {
        v->status = "failed";
    }
}

static const char *
host_name(void)
{
    static char name[256];

    if (name[0] == '\0' && gethostname(name, sizeof(name) - 1) == -1) {
        strcpy(name, "localhost");
    }
    return name;
}

static void
append_tags(bson_t *b, const struct video *v)
{
    bson_t arr;
    char key[16];
    const char *k;
    size_t i;

    BSON_APPEND_ARRAY_BEGIN(b, "tags", &arr);
    for (i = 0; i < v->ntags; i++) {
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof(key));
        BSON_APPEND_UTF8(&arr, k, v->tags[i]);
    }
    bson_append_array_end(b, &arr);
}

/* ---- the tag lists' index (sql-free-schemas/video_tags.json) ----
 * A video's tags are an array, which no index of the local server can search (SQLite indexes
 * one value per row), so each tag of a listed video has a document of its own in video_tags,
 * with what a list filters and sorts on: {tag, public, ownerId, createdAt, videoId}. A tag's
 * page reads a page of those through an index, then the videos by _id, and checks each
 * against the list's own rules (a mirror a crash left stale can hide a video until its next
 * write, never show one it should not). Every write of a video that changes its tags,
 * visibility or status rewrites its mirrors (tags_sync); a delete drops them. */

static bool
is_listed_public(const struct video *v)
{
    return v->visibility != NULL && strcmp(v->visibility, "public") == 0 && v->status != NULL &&
           (strcmp(v->status, "processing") == 0 || strcmp(v->status, "ready") == 0);
}

enum db_status
db_videos_tags_drop(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    int64_t n = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "videoId", id);
    st = db_write(a, db, "video_tags", DB_DELETE_MANY, &f, NULL, &n);
    bson_destroy(&f);
    return st;
}

/* Appends v's mirror for tag i to doc. */
void
db_videos_tag_doc(const struct video *v, size_t i, bson_t *doc)
{
    char id[25 + 1 + 4 * MAX_TAG + 1];

    snprintf(id, sizeof(id), "%s:%s", v->id_hex, v->tags[i]);
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_OID(doc, "videoId", &v->id);
    BSON_APPEND_UTF8(doc, "tag", v->tags[i]);
    BSON_APPEND_OID(doc, "ownerId", &v->owner_id);
    BSON_APPEND_BOOL(doc, "public", is_listed_public(v));
    BSON_APPEND_DATE_TIME(doc, "createdAt", v->created_at);
}

enum db_status
db_videos_tags_sync(struct arena *a, struct db *db, const bson_oid_t *id)
{
    struct video v;
    enum db_status st = db_videos_get(a, db, id, &v);
    size_t i;

    if (st == DB_NOT_FOUND) {
        return db_videos_tags_drop(a, db, id);
    }
    if (st != DB_OK || (st = db_videos_tags_drop(a, db, id)) != DB_OK ||
        strcmp(v.status, "uploading") == 0) {
        return st;
    }
    for (i = 0; i < v.ntags && st == DB_OK; i++) {
        bson_t doc = BSON_INITIALIZER;

        db_videos_tag_doc(&v, i, &doc);
        if ((st = db_insert(a, db, "video_tags", &doc)) == DB_DUPLICATE) {
            st = DB_OK; /* a second writer made the same mirror */
        }
        bson_destroy(&doc);
    }
    if (st != DB_OK) {
        log_ev(LOG_WARN, "tags_not_synced",
               "video %s: its tag lists may miss it until its next write", v.id_hex);
    }
    return st;
}

enum db_status
db_videos_insert(struct arena *a, struct db *db, const struct video *v)
{
    bson_t doc = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&doc, "_id", &v->id);
    BSON_APPEND_OID(&doc, "ownerId", &v->owner_id);
    BSON_APPEND_UTF8(&doc, "title", "");
    BSON_APPEND_UTF8(&doc, "description", "");
    append_tags(&doc, v);
    BSON_APPEND_UTF8(&doc, "visibility", "private");
    BSON_APPEND_UTF8(&doc, "status", "uploading");
    BSON_APPEND_INT64(&doc, "size", 0);
    BSON_APPEND_BOOL(&doc, "hls", false);
    BSON_APPEND_BOOL(&doc, "thumbnail", false);
    BSON_APPEND_INT64(&doc, "viewCount", 0);
    BSON_APPEND_INT64(&doc, "likeCount", 0);
    BSON_APPEND_INT64(&doc, "dislikeCount", 0);
    BSON_APPEND_INT64(&doc, "commentCount", 0);
    BSON_APPEND_BOOL(&doc, "commentsEnabled", true);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", v->created_at);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", v->created_at);
    /* Who is writing it: a sweep on this host removes it if that process died. */
    BSON_APPEND_UTF8(&doc, "uploaderHost", host_name());
    BSON_APPEND_INT64(&doc, "uploaderPid", (int64_t)getpid());
    st = db_insert(a, db, "videos", &doc);
    bson_destroy(&doc);
    return st;
}

/* {$set: set} on the one video filter matches; DB_CONFLICT if it matches none. */
static enum db_status
update_one(struct arena *a, struct db *db, const bson_t *filter, const bson_t *set)
{
    bson_t upd = BSON_INITIALIZER;
    int64_t matched;
    enum db_status st;

    BSON_APPEND_DOCUMENT(&upd, "$set", set);
    st = db_write(a, db, "videos", DB_UPDATE_ONE, filter, &upd, &matched);
    bson_destroy(&upd);
    return st == DB_OK && matched == 0 ? DB_CONFLICT : st;
}

enum db_status
db_videos_finish_upload(struct arena *a, struct db *db, const struct video *v)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER, p;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", &v->id);
    BSON_APPEND_UTF8(&f, "status", "uploading");
    BSON_APPEND_UTF8(&set, "title", v->title);
    BSON_APPEND_UTF8(&set, "description", v->description);
    append_tags(&set, v);
    BSON_APPEND_UTF8(&set, "visibility", v->visibility);
    BSON_APPEND_UTF8(&set, "status", "processing");
    BSON_APPEND_DOCUMENT_BEGIN(&set, "processing", &p);
    BSON_APPEND_UTF8(&p, "stage", "queued");
    BSON_APPEND_INT32(&p, "percent", 0);
    bson_append_document_end(&set, &p);
    BSON_APPEND_INT64(&set, "size", v->size);
    BSON_APPEND_UTF8(&set, "sha256", v->sha256);
    BSON_APPEND_UTF8(&set, "source", v->source);
    BSON_APPEND_UTF8(&set, "mimeType", v->mime);
    BSON_APPEND_DATE_TIME(&set, "updatedAt", v->updated_at);
    st = update_one(a, db, &f, &set);
    bson_destroy(&f);
    bson_destroy(&set);
    if (st == DB_OK) {
        db_videos_tags_sync(a, db, &v->id);
    }
    return st;
}

enum db_status
db_videos_get(struct arena *a, struct db *db, const bson_oid_t *id, struct video *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    if ((st = db_find_one(a, db, "videos", &f, &doc)) == DB_OK) {
        from_bson(a, doc, out);
    }
    bson_destroy(&f);
    return st;
}

enum db_status
db_videos_update(struct arena *a, struct db *db, const struct video *v, unsigned mask)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", &v->id);
    if (mask & VIDEO_SET_TITLE) {
        BSON_APPEND_UTF8(&set, "title", v->title);
    }
    if (mask & VIDEO_SET_DESCRIPTION) {
        BSON_APPEND_UTF8(&set, "description", v->description);
    }
    if (mask & VIDEO_SET_TAGS) {
        append_tags(&set, v);
    }
    if (mask & VIDEO_SET_VISIBILITY) {
        BSON_APPEND_UTF8(&set, "visibility", v->visibility);
    }
    if (mask & VIDEO_SET_COMMENTS) {
        BSON_APPEND_BOOL(&set, "commentsEnabled", v->comments_enabled);
    }
    BSON_APPEND_DATE_TIME(&set, "updatedAt", v->updated_at);
    st = update_one(a, db, &f, &set);
    bson_destroy(&f);
    bson_destroy(&set);
    if (st == DB_OK && (mask & (VIDEO_SET_TAGS | VIDEO_SET_VISIBILITY))) {
        db_videos_tags_sync(a, db, &v->id);
    }
    return st == DB_CONFLICT ? DB_NOT_FOUND : st;
}

enum db_status
db_videos_delete(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    int64_t deleted;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    st = db_write(a, db, "videos", DB_DELETE_ONE, &f, NULL, &deleted);
    bson_destroy(&f);
    if (st == DB_OK) {
        db_videos_tags_drop(a, db, id);
    }
    return st == DB_OK && deleted == 0 ? DB_NOT_FOUND : st;
}

static void
append_in(bson_t *b, const char *key, const char *const *vals, size_t n)
{
    bson_t doc, arr;
    char k[16];
    const char *kp;
    size_t i;

    BSON_APPEND_DOCUMENT_BEGIN(b, key, &doc);
    BSON_APPEND_ARRAY_BEGIN(&doc, "$in", &arr);
    for (i = 0; i < n; i++) {
        bson_uint32_to_string((uint32_t)i, &kp, k, sizeof(k));
        BSON_APPEND_UTF8(&arr, kp, vals[i]);
    }
    bson_append_array_end(&doc, &arr);
    bson_append_document_end(b, &doc);
}

/* Who may see what: public listed videos, plus the viewer's own (any state but uploading). */
static void
append_visible(bson_t *and, const char *key, const struct video_query *q)
{
    bson_t clause, or, pub, own;

    BSON_APPEND_DOCUMENT_BEGIN(and, key, &clause);
    BSON_APPEND_ARRAY_BEGIN(&clause, "$or", & or);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "0", &pub);
    BSON_APPEND_UTF8(&pub, "visibility", "public");
    append_in(&pub, "status", listed_status, 2);
    bson_append_document_end(& or, &pub);
    if (q->viewer != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(& or, "1", &own);
        BSON_APPEND_OID(&own, "ownerId", q->viewer);
        append_in(&own, "status", own_status, 3);
        bson_append_document_end(& or, &own);
    }
    bson_append_array_end(&clause, & or);
    bson_append_document_end(and, &clause);
}

/* Keyset: strictly after the cursor in (createdAt desc, _id desc) order. */
static void
append_cursor(bson_t *and, const char *key, const struct video_query *q, const char *id_field)
{
    bson_t clause, or, older, same, lt;

    BSON_APPEND_DOCUMENT_BEGIN(and, key, &clause);
    BSON_APPEND_ARRAY_BEGIN(&clause, "$or", & or);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "0", &older);
    BSON_APPEND_DOCUMENT_BEGIN(&older, "createdAt", &lt);
    BSON_APPEND_DATE_TIME(&lt, "$lt", q->cursor_created);
    bson_append_document_end(&older, &lt);
    bson_append_document_end(& or, &older);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "1", &same);
    BSON_APPEND_DATE_TIME(&same, "createdAt", q->cursor_created);
    BSON_APPEND_DOCUMENT_BEGIN(&same, id_field, &lt);
    BSON_APPEND_OID(&lt, "$lt", &q->cursor_id);
    bson_append_document_end(&same, &lt);
    bson_append_document_end(& or, &same);
    bson_append_array_end(&clause, & or);
    bson_append_document_end(and, &clause);
}

static void
build_list_filter(const struct video_query *q, const char *title_regex, bson_t *f)
{
    bson_t and, clause, rx;
    unsigned n = 0;
    char k[16];
    const char *kp;

    BSON_APPEND_ARRAY_BEGIN(f, "$and", &and);
    bson_uint32_to_string(n++, &kp, k, sizeof(k));
    append_visible(&and, kp, q);
    if (q->owner != NULL) {
        bson_uint32_to_string(n++, &kp, k, sizeof(k));
        BSON_APPEND_DOCUMENT_BEGIN(&and, kp, &clause);
        BSON_APPEND_OID(&clause, "ownerId", q->owner);
        bson_append_document_end(&and, &clause);
    }
    if (q->tag != NULL) {
        bson_uint32_to_string(n++, &kp, k, sizeof(k));
        BSON_APPEND_DOCUMENT_BEGIN(&and, kp, &clause);
        BSON_APPEND_UTF8(&clause, "tags", q->tag);
        bson_append_document_end(&and, &clause);
    }
    if (q->title_q.p != NULL && title_regex != NULL) {
        bson_uint32_to_string(n++, &kp, k, sizeof(k));
        BSON_APPEND_DOCUMENT_BEGIN(&and, kp, &clause);
        BSON_APPEND_DOCUMENT_BEGIN(&clause, "title", &rx);
        BSON_APPEND_UTF8(&rx, "$regex", title_regex);
        BSON_APPEND_UTF8(&rx, "$options", "i");
        bson_append_document_end(&clause, &rx);
        bson_append_document_end(&and, &clause);
    }
    if (q->has_cursor) {
        bson_uint32_to_string(n++, &kp, k, sizeof(k));
        append_cursor(&and, kp, q, "_id");
    }
    bson_append_array_end(f, &and);
}

/* Whether v belongs in q's list by the list's own rules (public and listed, or the
 * viewer's own and not uploading) and has q's tag: a tag page's check of each video its
 * mirrors named. */
static bool
in_tag_list(const struct video *v, const struct video_query *q)
{
    size_t i;

    if (!is_listed_public(v) && !(q->viewer != NULL && bson_oid_equal(&v->owner_id, q->viewer) &&
                                  strcmp(v->status, "uploading") != 0)) {
        return false;
    }
    for (i = 0; i < v->ntags; i++) {
        if (strcmp(v->tags[i], q->tag) == 0) {
            return true;
        }
    }
    return false;
}

/* The mirrors being rebuilt: all of them made while one cursor reads the videos (only the
 * fields a mirror needs), then written by unordered bulk inserts of TAG_REBUILD_BATCH once
 * the cursor is done (a write between two reads of a long cursor lost it on the local
 * server; a sorted, batched read would sort the whole collection each time there). */
#define TAG_REBUILD_BATCH 1000

struct rebuild {
    struct arena *scratch; /* one video's strings at a time */
    bson_t **docs;         /* bson_new()'s: bson_t wants more alignment than malloc gives */
    size_t n, cap;
    enum db_status st;
};

static int
rebuild_one(void *ctx, const bson_t *doc)
{
    struct rebuild *rb = ctx;
    struct video v;
    size_t i;

    arena_reset(rb->scratch);
    from_bson(rb->scratch, doc, &v);
    if (v.status == NULL || strcmp(v.status, "uploading") == 0) {
        return 0;
    }
    for (i = 0; i < v.ntags; i++) {
        if (rb->n == rb->cap) {
            size_t cap = rb->cap == 0 ? 4096 : rb->cap * 2;
            bson_t **more = realloc(rb->docs, cap * sizeof(*more));

            if (more == NULL) {
                rb->st = DB_ERROR;
                return -1;
            }
            rb->docs = more;
            rb->cap = cap;
        }
        if ((rb->docs[rb->n] = bson_new()) == NULL) {
            rb->st = DB_ERROR;
            return -1;
        }
        db_videos_tag_doc(&v, i, rb->docs[rb->n++]);
    }
    return 0;
}

/* Inserts docs[from, to) in one unordered bulk; adds what went in to *made. */
static enum db_status
rebuild_write(mongoc_collection_t *c, bson_t **docs, size_t from, size_t to, long *made)
{
    mongoc_bulk_operation_t *bulk;
    bson_t opts = BSON_INITIALIZER, reply;
    enum db_status st = DB_OK;
    bson_error_t e;
    size_t i;

    BSON_APPEND_BOOL(&opts, "ordered", false);
    bulk = mongoc_collection_create_bulk_operation_with_opts(c, &opts);
    for (i = from; i < to; i++) {
        mongoc_bulk_operation_insert(bulk, docs[i]);
    }
    if (!mongoc_bulk_operation_execute(bulk, &reply, &e) && !db_is_duplicate(&e)) {
        st = db_status_of(&e, "video_tags.rebuild");
    }
    *made += (long)db_get_i64(&reply, "nInserted", 0);
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(&opts);
    return st;
}

enum db_status
db_videos_tags_rebuild(struct arena *a, struct db *db, long *made)
{
    struct rebuild rb = {0};
    bson_t all = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    mongoc_collection_t *c;
    int64_t gone = 0;
    enum db_status st;
    size_t i;

    *made = 0;
    if ((rb.scratch = arena_new(1u << 20)) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "ownerId", 1);
    BSON_APPEND_INT32(&proj, "tags", 1);
    BSON_APPEND_INT32(&proj, "visibility", 1);
    BSON_APPEND_INT32(&proj, "status", 1);
    BSON_APPEND_INT32(&proj, "createdAt", 1);
    bson_append_document_end(&opts, &proj);
    st = db_find_each(a, db, "videos", &all, &opts, rebuild_one, &rb);
    st = st == DB_OK ? rb.st : st;
    if (st == DB_OK && (c = db_coll(a, db, "video_tags", &st)) != NULL &&
        (st = db_write(a, db, "video_tags", DB_DELETE_MANY, &all, NULL, &gone)) == DB_OK) {
        for (i = 0; i < rb.n && st == DB_OK; i += TAG_REBUILD_BATCH) {
            st = rebuild_write(c, rb.docs, i,
                               rb.n - i < TAG_REBUILD_BATCH ? rb.n : i + TAG_REBUILD_BATCH, made);
        }
    }
    for (i = 0; i < rb.n; i++) {
        bson_destroy(rb.docs[i]);
    }
    free(rb.docs);
    arena_free(rb.scratch);
    bson_destroy(&all);
    bson_destroy(&opts);
    return st;
}

/* A tag page being read: the mirrors' (createdAt, videoId) in list order, then the videos. */
struct tag_ref {
    int64_t at;
    bson_oid_t id;
};

struct tag_page {
    struct arena *a;
    struct tag_ref refs[2][MAX_LIST_LIMIT + 1]; /* public, the viewer's own */
    size_t nrefs[2], branch;
    bson_oid_t ids[MAX_LIST_LIMIT + 1]; /* the page, merged */
    size_t nids;
    struct video *found;
    size_t nfound;
};

static int
tag_ref(void *ctx, const bson_t *doc)
{
    struct tag_page *t = ctx;
    struct tag_ref *r = &t->refs[t->branch][t->nrefs[t->branch]];

    if (t->nrefs[t->branch] <= MAX_LIST_LIMIT && db_get_oid(doc, "videoId", &r->id) == 0) {
        r->at = db_get_i64(doc, "createdAt", 0);
        t->nrefs[t->branch]++;
    }
    return 0;
}

static int
tag_video(void *ctx, const bson_t *doc)
{
    struct tag_page *t = ctx;

    if (t->nfound < t->nids) {
        from_bson(t->a, doc, &t->found[t->nfound++]);
    }
    return 0;
}

/* Reads up to q->limit + 1 mirrors of one branch ({tag, public: true} or {tag, ownerId:
 * viewer}) through its index, in (createdAt, videoId) order from the cursor on. Each branch
 * alone is one index's equality prefix: the local server reads it in order and stops at the
 * limit (an $or of the two would be read as the hull {tag}, then sorted). */
static enum db_status
tag_branch(struct arena *a, struct db *db, const struct video_query *q, struct tag_page *t)
{
    bson_t f = BSON_INITIALIZER, and, c, opts = BSON_INITIALIZER, sort;
    enum db_status st;

    BSON_APPEND_ARRAY_BEGIN(&f, "$and", &and);
    BSON_APPEND_DOCUMENT_BEGIN(&and, "0", &c);
    BSON_APPEND_UTF8(&c, "tag", q->tag);
    if (t->branch == 0) {
        BSON_APPEND_BOOL(&c, "public", true);
    } else {
        BSON_APPEND_OID(&c, "ownerId", q->viewer);
    }
    bson_append_document_end(&and, &c);
    if (q->has_cursor) {
        append_cursor(&and, "1", q, "videoId");
    }
    bson_append_array_end(&f, &and);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "createdAt", -1);
    BSON_APPEND_INT32(&sort, "videoId", -1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)q->limit + 1);
    st = db_find_each(a, db, "video_tags", &f, &opts, tag_ref, t);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}

/* True if a comes before b in the list's order (newest first, then the greater id). */
static bool
tag_before(const struct tag_ref *a, const struct tag_ref *b)
{
    return a->at != b->at ? a->at > b->at : bson_oid_compare(&a->id, &b->id) > 0;
}

/* One round of a tag page: up to `want` refs merged from both branches (from cq's cursor),
 * their videos by _id, and those that qualify appended to out in order. A mirror whose
 * video is gone is dropped, one that no longer matches its video is rewritten: the lists
 * mend themselves as they are read. Returns the refs merged (fewer than want: no more). */
static size_t
tag_round(struct arena *a, struct db *db, const struct video_query *q, const struct video_query *cq,
          size_t want, struct video *out, size_t *n, struct tag_ref *last, enum db_status *st)
{
    struct tag_page *t = arena_calloc(a, 1, sizeof(*t));
    struct video_query bq = *cq;
    size_t i, j, k[2] = {0, 0};
    char key[16];
    const char *kp;

    if (t == NULL) {
        *st = DB_ERROR;
        return 0;
    }
    t->a = a;
    bq.limit = want - 1; /* tag_branch reads limit + 1 */
    if ((*st = tag_branch(a, db, &bq, t)) != DB_OK) {
        return 0;
    }
    t->branch = 1;
    if (q->viewer != NULL && (*st = tag_branch(a, db, &bq, t)) != DB_OK) {
        return 0;
    }
    while (t->nids < want && (k[0] < t->nrefs[0] || k[1] < t->nrefs[1])) {
        const struct tag_ref *p = k[0] < t->nrefs[0] ? &t->refs[0][k[0]] : NULL;
        const struct tag_ref *o = k[1] < t->nrefs[1] ? &t->refs[1][k[1]] : NULL;
        const struct tag_ref *next = o == NULL || (p != NULL && !tag_before(o, p)) ? p : o;

        if (p != NULL && o != NULL && bson_oid_equal(&p->id, &o->id)) {
            k[1]++; /* the same video in both: take it once */
        }
        k[next == p ? 0 : 1]++;
        *last = *next;
        bson_oid_copy(&next->id, &t->ids[t->nids++]);
    }
    if (t->nids == 0) {
        return 0;
    }
    if ((t->found = arena_calloc(a, t->nids, sizeof(*t->found))) == NULL) {
        *st = DB_ERROR;
        return 0;
    }
    /* By _id, TAG_IN_BATCH at a time (the local server reads a short $in through the
     * index, value by value). */
    for (i = 0; *st == DB_OK && i < t->nids; i += TAG_IN_BATCH) {
        bson_t vf = BSON_INITIALIZER, in, arr;

        BSON_APPEND_DOCUMENT_BEGIN(&vf, "_id", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
        for (j = i; j < t->nids && j < i + TAG_IN_BATCH; j++) {
            bson_uint32_to_string((uint32_t)(j - i), &kp, key, sizeof(key));
            BSON_APPEND_OID(&arr, kp, &t->ids[j]);
        }
        bson_append_array_end(&in, &arr);
        bson_append_document_end(&vf, &in);
        *st = db_find_each(a, db, "videos", &vf, NULL, tag_video, t);
        bson_destroy(&vf);
    }
    for (i = 0; *st == DB_OK && i < t->nids; i++) {
        for (j = 0; j < t->nfound && !bson_oid_equal(&t->ids[i], &t->found[j].id); j++) {
        }
        if (j == t->nfound) {
            db_videos_tags_drop(a, db, &t->ids[i]);
        } else if (in_tag_list(&t->found[j], q)) {
            out[(*n)++] = t->found[j];
        } else if (q->viewer == NULL || !bson_oid_equal(&t->found[j].owner_id, q->viewer)) {
            db_videos_tags_sync(a, db, &t->ids[i]); /* public no longer, or the tag gone */
        }
    }
    return t->nids;
}

/* A tag's page: rounds of tag_round from the list's cursor until limit + 1 videos qualify
 * or the mirrors run out (a stale mirror costs a round, not the rest of the list). */
static enum db_status
list_by_tag(struct arena *a, struct db *db, const struct video_query *q, struct video *out,
            size_t *n)
{
    struct video_query cq = *q;
    enum db_status st = DB_OK;
    struct tag_ref last;
    int round;

    for (round = 0; round < TAG_ROUNDS && *n <= q->limit && st == DB_OK; round++) {
        size_t want = q->limit + 1 - *n;

        if (tag_round(a, db, q, &cq, want, out, n, &last, &st) < want) {
            break;
        }
        cq.has_cursor = true;
        cq.cursor_created = last.at;
        bson_oid_copy(&last.id, &cq.cursor_id);
    }
    return st;
}

enum db_status
db_videos_list(struct arena *a, struct db *db, const struct video_query *q, struct video **out,
               size_t *n)
{
    enum db_status cst;
    mongoc_collection_t *c = db_coll(a, db, "videos", &cst);
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    mongoc_cursor_t *cur;
    const bson_t *doc;
    bson_error_t e;
    enum db_status st = DB_OK;
    char *title_regex = NULL;

    *n = 0;
    if (c == NULL || (*out = arena_calloc(a, q->limit + 1, sizeof(**out))) == NULL) {
        return c == NULL ? cst : DB_ERROR;
    }
    /* A tag alone reads the tag's own index; with an owner the owner's index serves, and a
     * title search reads every candidate anyway. */
    if (q->tag != NULL && q->owner == NULL && q->title_q.p == NULL) {
        return list_by_tag(a, db, q, *out, n);
    }
    if (q->title_q.p != NULL && (title_regex = db_regex_escape(a, q->title_q)) == NULL) {
        return DB_ERROR;
    }
    build_list_filter(q, title_regex, &f);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "createdAt", -1);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)q->limit + 1);
    cur = mongoc_collection_find_with_opts(c, &f, &opts, NULL);
    while (*n <= q->limit && mongoc_cursor_next(cur, &doc)) {
        from_bson(a, doc, &(*out)[(*n)++]);
    }
    if (mongoc_cursor_error(cur, &e)) {
        st = db_status_of(&e, "videos.list");
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}

/* The stale uploads' sweep, for each one found. */
struct stale {
    struct arena *a;
    struct db *db;
    int64_t before_ms;
    void (*gone)(void *ctx, const char *id_hex);
    void *ctx;
};

/* {_id?, status: uploading, updatedAt < before}: stale uploads, or that one if still so. */
static void
stale_filter(bson_t *f, const bson_oid_t *id, int64_t before_ms)
{
    bson_t cmp;

    if (id != NULL) {
        BSON_APPEND_OID(f, "_id", id);
    }
    BSON_APPEND_UTF8(f, "status", "uploading");
    BSON_APPEND_DOCUMENT_BEGIN(f, "updatedAt", &cmp);
    BSON_APPEND_DATE_TIME(&cmp, "$lt", before_ms);
    bson_append_document_end(f, &cmp);
}

static int
delete_stale_one(void *ctx, const bson_t *doc)
{
    struct stale *s = ctx;
    bson_t del = BSON_INITIALIZER;
    bson_oid_t id;
    int64_t deleted = 0;
    char hex[25];

    if (db_get_oid(doc, "_id", &id) == -1) {
        return 0;
    }
    /* Only if it is still stale: an upload that refreshed or committed meanwhile stays. */
    stale_filter(&del, &id, s->before_ms);
    if (db_write(s->a, s->db, "videos", DB_DELETE_ONE, &del, NULL, &deleted) == DB_OK &&
        deleted == 1) {
        bson_oid_to_string(&id, hex);
        s->gone(s->ctx, hex);
    }
    bson_destroy(&del);
    return 0;
}

enum db_status
db_videos_delete_stale(struct arena *a, struct db *db, int64_t before_ms,
                       void (*gone)(void *ctx, const char *id_hex), void *ctx)
{
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    struct stale s = {a, db, before_ms, gone, ctx};
    enum db_status st;

    stale_filter(&f, NULL, before_ms);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "status", 1);
    BSON_APPEND_INT32(&sort, "updatedAt", 1);
    bson_append_document_end(&opts, &sort);
    st = db_find_each(a, db, "videos", &f, &opts, delete_stale_one, &s);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}

enum db_status
db_videos_touch(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_UTF8(&f, "status", "uploading");
    BSON_APPEND_DATE_TIME(&set, "updatedAt", db_now_ms());
    st = update_one(a, db, &f, &set);
    bson_destroy(&f);
    bson_destroy(&set);
    return st;
}

/* {$set: set} on the video id if it is still processing. DB_CONFLICT if it is not (deleted,
 * or finished by another attempt). */
static enum db_status
set_if_processing(struct arena *a, struct db *db, const bson_oid_t *id, bson_t *set,
                  const char *unset)
{
    bson_t f = BSON_INITIALIZER, upd = BSON_INITIALIZER, un;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_UTF8(&f, "status", "processing");
    BSON_APPEND_DATE_TIME(set, "updatedAt", db_now_ms());
    BSON_APPEND_DOCUMENT(&upd, "$set", set);
    if (unset != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&upd, "$unset", &un);
        BSON_APPEND_UTF8(&un, unset, "");
        bson_append_document_end(&upd, &un);
    }
    st = db_write(a, db, "videos", DB_UPDATE_ONE, &f, &upd, &matched);
    bson_destroy(&f);
    bson_destroy(&upd);
    return st == DB_OK && matched == 0 ? DB_CONFLICT : st;
}

enum db_status
db_videos_set_progress(struct arena *a, struct db *db, const bson_oid_t *id, const char *stage,
                       int percent)
{
    bson_t set = BSON_INITIALIZER, p;
    enum db_status st;

    BSON_APPEND_DOCUMENT_BEGIN(&set, "processing", &p);
    BSON_APPEND_UTF8(&p, "stage", stage);
    BSON_APPEND_INT32(&p, "percent", percent);
    bson_append_document_end(&set, &p);
    st = set_if_processing(a, db, id, &set, NULL);
    bson_destroy(&set);
    return st;
}

enum db_status
db_videos_set_ready(struct arena *a, struct db *db, const bson_oid_t *id,
                    const struct video_media *m)
{
    bson_t set = BSON_INITIALIZER, arr, item;
    char key[16];
    const char *k;
    enum db_status st;
    size_t i;

    BSON_APPEND_UTF8(&set, "status", "ready");
    BSON_APPEND_DOUBLE(&set, "durationSec", m->duration);
    BSON_APPEND_INT32(&set, "width", m->width);
    BSON_APPEND_INT32(&set, "height", m->height);
    BSON_APPEND_BOOL(&set, "hls", true);
    BSON_APPEND_BOOL(&set, "thumbnail", m->has_thumbnail);
    BSON_APPEND_ARRAY_BEGIN(&set, "renditions", &arr);
    for (i = 0; i < m->nrenditions; i++) {
        const struct rendition *r = &m->renditions[i];

        bson_uint32_to_string((uint32_t)i, &k, key, sizeof(key));
        BSON_APPEND_DOCUMENT_BEGIN(&arr, k, &item);
        BSON_APPEND_UTF8(&item, "name", r->name);
        BSON_APPEND_INT32(&item, "width", r->width);
        BSON_APPEND_INT32(&item, "height", r->height);
        BSON_APPEND_INT64(&item, "bandwidth", r->bandwidth);
        BSON_APPEND_INT64(&item, "averageBandwidth", r->average_bandwidth);
        bson_append_document_end(&arr, &item);
    }
    bson_append_array_end(&set, &arr);
    st = set_if_processing(a, db, id, &set, "processing");
    bson_destroy(&set);
    if (st == DB_OK) { /* every upload comes this way: mends mirrors a crash left */
        db_videos_tags_sync(a, db, id);
    }
    return st;
}

enum db_status
db_videos_set_failed(struct arena *a, struct db *db, const bson_oid_t *id, const char *reason)
{
    bson_t set = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_UTF8(&set, "status", "failed");
    BSON_APPEND_UTF8(&set, "failureReason", reason);
    st = set_if_processing(a, db, id, &set, "processing");
    bson_destroy(&set);
    if (st == DB_OK) { /* no longer in the public lists */
        db_videos_tags_sync(a, db, id);
    }
    return st;
}

struct which {
    const bson_oid_t *ids;
    size_t n;
    bool *exists;
};

static int
mark_existing(void *ctx, const bson_t *doc)
{
    struct which *w = ctx;
    bson_oid_t id;
    size_t i;

    if (db_get_oid(doc, "_id", &id) == 0) {
        for (i = 0; i < w->n; i++) {
            if (bson_oid_equal(&id, &w->ids[i])) {
                w->exists[i] = true;
            }
        }
    }
    return 0;
}

enum db_status
db_videos_existing(struct arena *a, struct db *db, const bson_oid_t *ids, size_t n, bool *exists)
{
    struct which w = {ids, n, exists};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, in, arr, proj;
    char key[16];
    const char *k;
    enum db_status st;
    size_t i;

    memset(exists, 0, n * sizeof(*exists));
    BSON_APPEND_DOCUMENT_BEGIN(&f, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (i = 0; i < n; i++) {
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof(key));
        BSON_APPEND_OID(&arr, k, &ids[i]);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&f, &in);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_id", 1);
    bson_append_document_end(&opts, &proj);
    st = db_find_each(a, db, "videos", &f, &opts, mark_existing, &w);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}

/* ---- channels and the feed ----
 * A channel's page reads one index in order (equality fields first in the sort too, so the
 * local planner sees the index order): the public page ownerId_1_visibility_1_<key>_-1__id_-1,
 * the owner's (and an admin's) ownerId_1_<key>_-1__id_-1, key createdAt or viewCount; oldest
 * reads the createdAt ones backwards. The local server does not push a range on a number down
 * (tools/ferretdb/PATCHES.md): a popular page after the first still reads its index in order
 * from the top and the handler skips what is before the cursor, so its cost grows with its
 * depth there (MongoDB seeks). */

static int
collect_video(void *ctx, const bson_t *doc)
{
    struct tag_page *t = ctx; /* only a, found, nfound and nids (the room) are used */

    if (t->nfound < t->nids) {
        from_bson(t->a, doc, &t->found[t->nfound++]);
    }
    return t->nfound == t->nids;
}

enum db_status
db_videos_channel(struct arena *a, struct db *db, const struct channel_query *q, struct video **out,
                  size_t *n)
{
    bool popular = q->sort == VIDEO_SORT_POPULAR, asc = q->sort == VIDEO_SORT_OLDEST;
    const char *key = popular ? "viewCount" : "createdAt";
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    struct tag_page t = {0};
    enum db_status st;

    *n = 0;
    if ((t.found = arena_calloc(a, q->limit + 1, sizeof(*t.found))) == NULL) {
        return DB_ERROR;
    }
    t.a = a;
    t.nids = q->limit + 1;
    BSON_APPEND_OID(&f, "ownerId", q->owner);
    if (q->all) {
        append_in(&f, "status", own_status, 3);
    } else {
        BSON_APPEND_UTF8(&f, "visibility", "public");
        append_in(&f, "status", listed_status, 2);
    }
    if (q->has_cursor) {
        db_append_keyset(&f, key, popular ? DB_KEY_INT : DB_KEY_DATE, q->cursor_key, &q->cursor_id,
                         asc);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "ownerId", 1);
    if (!q->all) {
        BSON_APPEND_INT32(&sort, "visibility", 1);
    }
    BSON_APPEND_INT32(&sort, key, asc ? 1 : -1);
    BSON_APPEND_INT32(&sort, "_id", asc ? 1 : -1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)q->limit + 1);
    st = db_find_each(a, db, "videos", &f, &opts, collect_video, &t);
    bson_destroy(&f);
    bson_destroy(&opts);
    *out = t.found;
    *n = t.nfound;
    return st;
}

enum db_status
db_videos_count_listed(struct arena *a, struct db *db, const bson_oid_t *owner, int64_t *n)
{
    enum db_status st;
    mongoc_collection_t *c = db_coll(a, db, "videos", &st);
    bson_t f = BSON_INITIALIZER;
    bson_error_t e;

    *n = 0;
    if (c == NULL) {
        return st;
    }
    /* The public page's filter: its $match reads ownerId_1_visibility_1_createdAt_-1__id_-1. */
    BSON_APPEND_OID(&f, "ownerId", owner);
    BSON_APPEND_UTF8(&f, "visibility", "public");
    append_in(&f, "status", listed_status, 2);
    *n = mongoc_collection_count_documents(c, &f, NULL, NULL, NULL, &e);
    bson_destroy(&f);
    if (*n < 0) {
        *n = 0;
        return db_status_of(&e, "videos.count_listed");
    }
    return DB_OK;
}

/*
 * The feed reads FEED_CHUNK channels per query, {ownerId: {$in: chunk}, visibility: {$in:
 * ["public"]}, status: {$in: listed}} + keyset, sorted (createdAt, _id) desc, limit + 1, and
 * merges the chunks' pages in C. Why this shape (measured at 100k videos, 10k owners, 200
 * followed; tools/ferretdb/PATCHES.md for the planner):
 *   - visibility as a one-value $in, not an equality: with {visibility: "public"} the local
 *     planner reads visibility_1_createdAt_-1__id_-1 in order and checks ownerId per row
 *     (1.5 s a page); with no equality it reads ownerId_1_createdAt_-1__id_-1 with "ownerId
 *     IN (chunk)" and SQLite sorts those index entries (not the rows: ~4 ms for the 2000
 *     entries of 200 channels), then fetches the rows in that order until the page is full;
 *   - at most 100 per query: the local planner takes an $in of at most 100 values (more is
 *     not pushed down: a scan of every public video), and MongoDB 7 merges in order
 *     (SORT_MERGE) at most 200 index bounds (internalQueryMaxScansToExplode), one per id here;
 *   - once a page is full, later chunks only ask for what beats its last item (a range on
 *     createdAt, pushed into each read), so they return few documents to decode.
 * Local server, 200 followed at 100k videos: ~14 ms for the first chunk, ~8 for the second
 * (it was 8 channels a query and ~600 ms a page, the planner then planning each id apart).
 * MongoDB 7 reads the same filter through ownerId_1_createdAt_-1__id_-1 (or
 * ownerId_1_visibility_1_...) with one index bound per id, merged in order (SORT_MERGE), a few
 * keys each.
 */
#define FEED_CHUNK 100

static int
feed_before(const void *x, const void *y)
{
    const struct video *a = x, *b = y;

    if (a->created_at != b->created_at) {
        return a->created_at > b->created_at ? -1 : 1;
    }
    return -bson_oid_compare(&a->id, &b->id);
}

static void
feed_filter(bson_t *f, const bson_oid_t *owners, size_t n, int64_t cursor_at,
            const bson_oid_t *cursor_id, const struct video *worst)
{
    static const char *const pub[] = {"public"};
    bson_t and, c, in, arr;
    char k[16];
    const char *kp;
    size_t i;
    uint32_t m = 0;

    BSON_APPEND_ARRAY_BEGIN(f, "$and", &and);
    bson_uint32_to_string(m++, &kp, k, sizeof(k));
    BSON_APPEND_DOCUMENT_BEGIN(&and, kp, &c);
    BSON_APPEND_DOCUMENT_BEGIN(&c, "ownerId", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (i = 0; i < n; i++) {
        bson_uint32_to_string((uint32_t)i, &kp, k, sizeof(k));
        BSON_APPEND_OID(&arr, kp, &owners[i]);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&c, &in);
    append_in(&c, "visibility", pub, 1);
    append_in(&c, "status", listed_status, 2);
    bson_append_document_end(&and, &c);
    if (cursor_id != NULL) {
        bson_uint32_to_string(m++, &kp, k, sizeof(k));
        BSON_APPEND_DOCUMENT_BEGIN(&and, kp, &c);
        db_append_keyset(&c, "createdAt", DB_KEY_DATE, cursor_at, cursor_id, false);
        bson_append_document_end(&and, &c);
    }
    if (worst != NULL) { /* only what comes before the full page's last item */
        bson_uint32_to_string(m++, &kp, k, sizeof(k));
        BSON_APPEND_DOCUMENT_BEGIN(&and, kp, &c);
        db_append_keyset(&c, "createdAt", DB_KEY_DATE, worst->created_at, &worst->id, true);
        bson_append_document_end(&and, &c);
    }
    bson_append_array_end(f, &and);
}

enum db_status
db_videos_feed(struct arena *a, struct db *db, const bson_oid_t *owners, size_t n,
               int64_t cursor_at, const bson_oid_t *cursor_id, size_t limit, struct video **out,
               size_t *nout)
{
    /* Chunks of equal size (205 ids: 69 + 69 + 67, not 100 + 100 + 5): locally a chunk of 8
     * ids or fewer is planned one id at a time (~5 ms each; PATCHES.md), more is one range. */
    size_t want = limit + 1, have = 0, i, chunks = (n + FEED_CHUNK - 1) / FEED_CHUNK;
    size_t per = chunks == 0 ? 1 : (n + chunks - 1) / chunks;
    struct video *page = arena_calloc(a, 2 * want, sizeof(*page));
    enum db_status st = DB_OK;

    *nout = 0;
    *out = page;
    if (page == NULL) {
        return DB_ERROR;
    }
    for (i = 0; i < n && st == DB_OK; i += per) {
        bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
        struct tag_page t = {0};

        t.a = a;
        t.found = page + have; /* room for want more after the page so far */
        t.nids = want;
        feed_filter(&f, owners + i, n - i < per ? n - i : per, cursor_at, cursor_id,
                    have == want ? &page[want - 1] : NULL);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
        BSON_APPEND_INT32(&sort, "createdAt", -1);
        BSON_APPEND_INT32(&sort, "_id", -1);
        bson_append_document_end(&opts, &sort);
        BSON_APPEND_INT64(&opts, "limit", (int64_t)want);
        st = db_find_each(a, db, "videos", &f, &opts, collect_video, &t);
        bson_destroy(&f);
        bson_destroy(&opts);
        /* Merge: the best want of the page so far and this chunk's. */
        qsort(page, have + t.nfound, sizeof(*page), feed_before);
        have = have + t.nfound < want ? have + t.nfound : want;
    }
    *nout = have;
    return st;
}
