/*
 * db_playlists.c - queries on playlists and playlist_items. Indexes they use
 * (sql-free-schemas/): playlists {_id} (by id, Watch later's uniqueness: its _id is its
 * owner's), {ownerId:1, kind:1, createdAt:-1, _id:-1} (an owner's playlists, newest first;
 * a user's drop by its ownerId prefix), {ownerId:1, kind:1, visibility:1, createdAt:-1,
 * _id:-1} (a channel's public ones); playlist_items {playlistId:1, videoId:1} unique (one
 * item per video and playlist: add decides by it), {videoId:1, playlistId:1} (a video's
 * drop; and get and remove, because the local server reads a unique index only by its
 * untyped expression, not as a compound seek), {playlistId:1, rank:1, _id:1} (a playlist
 * in order, a playlist's drop). Videos are read by _id ($in of 100).
 * Ranks are stored as 16 lowercase hex digits of a non-negative int64 (RANK_MAX bounds
 * them): the local server pushes ranges on strings down to the index but not on numbers, so
 * a page after a cursor is an index range, never a read from the playlist's start.
 */
#include "db_playlists.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "bounds.h"

#define RANK_STEP       (INT64_C(1) << 20) /* between neighbours written anew */
#define RANK_BASE       (INT64_C(1) << 40) /* the first item's: room for 2^20 inserts in front */
#define RANK_ROOM       (RANK_STEP / 4)    /* apart after a renumber: 18 halvings before the next */
#define RANK_MAX        PLAYLIST_RANK_MAX
#define ITEMS_SLACK     64  /* items a racing add may hold before giving back */
#define RANK_LEN        16  /* hex digits of a stored rank */
#define VIDEOS_PER_READ 100 /* ids in one $in (the local planner's limit) */
#define DROP_PAGE       200

static void
playlist_of(struct arena *a, const bson_t *doc, struct playlist *p)
{
    const char *kind = db_get_str(a, doc, "kind");

    memset(p, 0, sizeof(*p));
    db_get_oid(doc, "_id", &p->id);
    bson_oid_to_string(&p->id, p->id_hex);
    db_get_oid(doc, "ownerId", &p->owner_id);
    bson_oid_to_string(&p->owner_id, p->owner_hex);
    p->title = db_get_str(a, doc, "title");
    p->description = db_get_str(a, doc, "description");
    p->visibility = db_get_str(a, doc, "visibility");
    p->watch_later = kind != NULL && strcmp(kind, "watch_later") == 0;
    p->item_count = db_get_i64(doc, "itemCount", 0);
    p->created_at = db_get_i64(doc, "createdAt", 0);
    p->updated_at = db_get_i64(doc, "updatedAt", p->created_at);
    p->title = p->title != NULL ? p->title : "";
    p->description = p->description != NULL ? p->description : "";
    p->visibility = p->visibility != NULL ? p->visibility : "private";
}

static enum db_status
insert_doc(struct arena *a, struct db *db, const struct playlist *p)
{
    bson_t doc = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&doc, "_id", &p->id);
    BSON_APPEND_OID(&doc, "ownerId", &p->owner_id);
    BSON_APPEND_UTF8(&doc, "kind", p->watch_later ? "watch_later" : "playlist");
    BSON_APPEND_UTF8(&doc, "title", p->title);
    BSON_APPEND_UTF8(&doc, "description", p->description);
    BSON_APPEND_UTF8(&doc, "visibility", p->visibility);
    BSON_APPEND_INT64(&doc, "itemCount", 0);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", p->created_at);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", p->updated_at);
    st = db_insert(a, db, "playlists", &doc);
    bson_destroy(&doc);
    return st;
}

enum db_status
db_playlists_insert(struct arena *a, struct db *db, struct playlist *p)
{
    bson_oid_init(&p->id, NULL);
    bson_oid_to_string(&p->id, p->id_hex);
    bson_oid_to_string(&p->owner_id, p->owner_hex);
    p->watch_later = false;
    p->item_count = 0;
    p->created_at = p->updated_at = db_now_ms();
    return insert_doc(a, db, p);
}

enum db_status
db_playlists_get(struct arena *a, struct db *db, const bson_oid_t *id, struct playlist *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    if ((st = db_find_one(a, db, "playlists", &f, &doc)) == DB_OK) {
        playlist_of(a, doc, out);
    }
    bson_destroy(&f);
    return st;
}

enum db_status
db_playlists_watch_later(struct arena *a, struct db *db, const bson_oid_t *owner,
                         struct playlist *out)
{
    struct playlist p = {0};
    enum db_status st;

    if ((st = db_playlists_get(a, db, owner, out)) != DB_NOT_FOUND) {
        return st;
    }
    bson_oid_copy(owner, &p.id);
    bson_oid_copy(owner, &p.owner_id);
    p.title = PLAYLIST_WATCH_LATER_TITLE;
    p.description = "";
    p.visibility = "private";
    p.watch_later = true;
    p.created_at = p.updated_at = db_now_ms();
    /* A racing first request may have made it: the _id index said so, read theirs. */
    st = insert_doc(a, db, &p);
    if (st != DB_OK && st != DB_DUPLICATE) {
        return st;
    }
    return db_playlists_get(a, db, owner, out);
}

enum db_status
db_playlists_update(struct arena *a, struct db *db, const struct playlist *p, unsigned mask)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", &p->id);
    BSON_APPEND_OID(&f, "ownerId", &p->owner_id);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    if (mask & PLAYLIST_SET_TITLE) {
        BSON_APPEND_UTF8(&set, "title", p->title);
    }
    if (mask & PLAYLIST_SET_DESCRIPTION) {
        BSON_APPEND_UTF8(&set, "description", p->description);
    }
    if (mask & PLAYLIST_SET_VISIBILITY) {
        BSON_APPEND_UTF8(&set, "visibility", p->visibility);
    }
    BSON_APPEND_DATE_TIME(&set, "updatedAt", p->updated_at);
    bson_append_document_end(&u, &set);
    st = db_write(a, db, "playlists", DB_UPDATE_ONE, &f, &u, &matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st == DB_OK && matched == 0 ? DB_NOT_FOUND : st;
}

static enum db_status
items_drop(struct arena *a, struct db *db, const bson_oid_t *playlist)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "playlistId", playlist);
    st = db_write(a, db, "playlist_items", DB_DELETE_MANY, &f, NULL, NULL);
    bson_destroy(&f);
    return st;
}

enum db_status
db_playlists_delete(struct arena *a, struct db *db, const bson_oid_t *owner, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    int64_t gone = 0;
    enum db_status st;

    /* Items first: a crash between leaves a playlist whose count recount mends, never
     * items nobody can reach. Once more after: an add that raced the first sweep. */
    if ((st = items_drop(a, db, id)) != DB_OK) {
        return st;
    }
    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_OID(&f, "ownerId", owner);
    st = db_write(a, db, "playlists", DB_DELETE_ONE, &f, NULL, &gone);
    bson_destroy(&f);
    if (st != DB_OK) {
        return st;
    }
    if ((st = items_drop(a, db, id)) != DB_OK) {
        return st;
    }
    return gone == 0 ? DB_NOT_FOUND : DB_OK;
}

struct gather {
    struct arena *a;
    struct playlist *items;
    size_t n, max;
};

static int
gather_one(void *ctx, const bson_t *doc)
{
    struct gather *g = ctx;

    if (g->n == g->max) {
        return 1;
    }
    playlist_of(g->a, doc, &g->items[g->n++]);
    return 0;
}

enum db_status
db_playlists_list(struct arena *a, struct db *db, const struct playlist_query *q,
                  struct playlist **out, size_t *n)
{
    struct gather g = {a, NULL, 0, q->limit + 1};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    enum db_status st;

    *n = 0;
    if ((g.items = arena_calloc(a, q->limit + 1, sizeof(*g.items))) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_OID(&f, "ownerId", q->owner);
    BSON_APPEND_UTF8(&f, "kind", "playlist");
    if (q->public_only) {
        BSON_APPEND_UTF8(&f, "visibility", "public");
    }
    if (q->has_cursor) {
        db_append_keyset(&f, "createdAt", DB_KEY_DATE, q->cursor_created, &q->cursor_id, false);
    }
    /* The equality fields lead the sort too, so that the planner sees the index's order. */
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "ownerId", 1);
    BSON_APPEND_INT32(&sort, "kind", 1);
    if (q->public_only) {
        BSON_APPEND_INT32(&sort, "visibility", 1);
    }
    BSON_APPEND_INT32(&sort, "createdAt", -1);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)(q->limit + 1));
    st = db_find_each(a, db, "playlists", &f, &opts, gather_one, &g);
    bson_destroy(&f);
    bson_destroy(&opts);
    *out = g.items;
    *n = g.n;
    return st;
}

/* ---- items ---- */

/* A stored rank: 16 hex digits; anything else reads as 0 (first). */
static int64_t
rank_of(const bson_t *doc)
{
    bson_iter_t it;
    uint32_t len;
    const char *p;
    int64_t v = 0;
    uint32_t i;

    if (!bson_iter_init_find(&it, doc, "rank") || !BSON_ITER_HOLDS_UTF8(&it)) {
        return 0;
    }
    p = bson_iter_utf8(&it, &len);
    if (len != RANK_LEN) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        int d = p[i] >= '0' && p[i] <= '9'   ? p[i] - '0'
                : p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10
                                             : -1;
        if (d < 0 || v > (INT64_MAX >> 4)) {
            return 0;
        }
        v = v * 16 + d;
    }
    return v;
}

static void
rank_append(bson_t *b, const char *key, int64_t rank)
{
    char hex[RANK_LEN + 1];

    snprintf(hex, sizeof(hex), "%016" PRIx64, (uint64_t)rank);
    BSON_APPEND_UTF8(b, key, hex);
}

static void
item_of(const bson_t *doc, struct playlist_item *it)
{
    memset(it, 0, sizeof(*it));
    db_get_oid(doc, "_id", &it->id);
    bson_oid_to_string(&it->id, it->id_hex);
    db_get_oid(doc, "videoId", &it->video);
    it->rank = rank_of(doc);
    it->added_at = db_get_i64(doc, "addedAt", 0);
}

struct item_page {
    struct playlist_item *items;
    size_t n, max;
};

static int
item_one(void *ctx, const bson_t *doc)
{
    struct item_page *p = ctx;

    if (p->n == p->max) {
        return 1;
    }
    item_of(doc, &p->items[p->n++]);
    return 0;
}

/* opts {sort: {playlistId: 1, rank: dir, _id: dir}, limit}. */
static void
in_order(bson_t *opts, int dir, size_t limit)
{
    bson_t sort;

    BSON_APPEND_DOCUMENT_BEGIN(opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "playlistId", 1);
    BSON_APPEND_INT32(&sort, "rank", dir);
    BSON_APPEND_INT32(&sort, "_id", dir);
    bson_append_document_end(opts, &sort);
    BSON_APPEND_INT64(opts, "limit", (int64_t)limit);
}

enum db_status
db_playlists_items(struct arena *a, struct db *db, const bson_oid_t *playlist,
                   struct playlist_item **out, size_t *n)
{
    struct item_page p = {NULL, 0, MAX_PLAYLIST_ITEMS + ITEMS_SLACK};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    enum db_status st;

    *n = 0;
    if ((p.items = arena_calloc(a, p.max, sizeof(*p.items))) == NULL) {
        return DB_ERROR;
    }
    BSON_APPEND_OID(&f, "playlistId", playlist);
    in_order(&opts, 1, p.max);
    st = db_find_each(a, db, "playlist_items", &f, &opts, item_one, &p);
    bson_destroy(&f);
    bson_destroy(&opts);
    *out = p.items;
    *n = p.n;
    return st;
}

enum db_status
db_playlists_items_after(struct arena *a, struct db *db, const bson_oid_t *playlist,
                         const struct playlist_item *after, size_t limit, struct playlist_item *out,
                         size_t *n)
{
    struct item_page p = {out, 0, limit};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, or, br, cmp;
    enum db_status st;

    BSON_APPEND_OID(&f, "playlistId", playlist);
    if (after != NULL) {
        /* {$or: [{rank: {$gt: R}}, {rank: R, _id: {$gt: I}}]}: the planner reads it as the
         * index range rank >= R (a string), then checks _id per row. */
        BSON_APPEND_ARRAY_BEGIN(&f, "$or", & or);
        BSON_APPEND_DOCUMENT_BEGIN(& or, "0", &br);
        BSON_APPEND_DOCUMENT_BEGIN(&br, "rank", &cmp);
        rank_append(&cmp, "$gt", after->rank);
        bson_append_document_end(&br, &cmp);
        bson_append_document_end(& or, &br);
        BSON_APPEND_DOCUMENT_BEGIN(& or, "1", &br);
        rank_append(&br, "rank", after->rank);
        BSON_APPEND_DOCUMENT_BEGIN(&br, "_id", &cmp);
        BSON_APPEND_OID(&cmp, "$gt", &after->id);
        bson_append_document_end(&br, &cmp);
        bson_append_document_end(& or, &br);
        bson_append_array_end(&f, & or);
    }
    in_order(&opts, 1, limit);
    st = db_find_each(a, db, "playlist_items", &f, &opts, item_one, &p);
    bson_destroy(&f);
    bson_destroy(&opts);
    *n = p.n;
    return st;
}

enum db_status
db_playlists_item_get(struct arena *a, struct db *db, const bson_oid_t *playlist,
                      const bson_oid_t *video, struct playlist_item *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "playlistId", playlist);
    BSON_APPEND_OID(&f, "videoId", video);
    if ((st = db_find_one(a, db, "playlist_items", &f, &doc)) == DB_OK) {
        item_of(doc, out);
    }
    bson_destroy(&f);
    return st;
}

struct states {
    struct arena *a;
    const struct playlist_item *items;
    size_t from, n;
    struct playlist_video_state *out;
};

static int
state_one(void *ctx, const bson_t *doc)
{
    struct states *s = ctx;
    bson_oid_t id, owner;
    size_t i;

    if (db_get_oid(doc, "_id", &id) == -1) {
        return 0;
    }
    /* The same video may sit once per playlist only, but a page is small: a scan will do. */
    for (i = s->from; i < s->from + s->n; i++) {
        struct playlist_video_state *v = &s->out[i];

        if (!bson_oid_equal(&id, &s->items[i].video)) {
            continue;
        }
        v->visibility = db_get_str(s->a, doc, "visibility");
        v->status = db_get_str(s->a, doc, "status");
        if (v->visibility == NULL || v->status == NULL ||
            db_get_oid(doc, "ownerId", &owner) == -1) {
            return 0; /* not a video we wrote: hidden */
        }
        bson_oid_to_string(&owner, v->owner_hex);
        v->found = true;
        break;
    }
    return 0;
}

enum db_status
db_playlists_video_states(struct arena *a, struct db *db, const struct playlist_item *items,
                          size_t n, struct playlist_video_state *out)
{
    enum db_status st = DB_OK;
    size_t from;

    memset(out, 0, n * sizeof(*out));
    for (from = 0; from < n && st == DB_OK; from += VIDEOS_PER_READ) {
        struct states s = {a, items, from, n - from < VIDEOS_PER_READ ? n - from : VIDEOS_PER_READ,
                           out};
        bson_t f = BSON_INITIALIZER, in, arr, opts = BSON_INITIALIZER, proj;
        size_t i;

        BSON_APPEND_DOCUMENT_BEGIN(&f, "_id", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
        for (i = 0; i < s.n; i++) {
            const char *kp;
            char k[16];

            bson_uint32_to_string((uint32_t)i, &kp, k, sizeof(k));
            BSON_APPEND_OID(&arr, kp, &items[from + i].video);
        }
        bson_append_array_end(&in, &arr);
        bson_append_document_end(&f, &in);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
        BSON_APPEND_INT32(&proj, "visibility", 1);
        BSON_APPEND_INT32(&proj, "status", 1);
        BSON_APPEND_INT32(&proj, "ownerId", 1);
        bson_append_document_end(&opts, &proj);
        st = db_find_each(a, db, "videos", &f, &opts, state_one, &s);
        bson_destroy(&f);
        bson_destroy(&opts);
    }
    return st;
}

static enum db_status
set_rank(struct arena *a, struct db *db, const bson_oid_t *item, int64_t rank, int64_t *matched)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, set;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", item);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    rank_append(&set, "rank", rank);
    bson_append_document_end(&u, &set);
    st = db_write(a, db, "playlist_items", DB_UPDATE_ONE, &f, &u, matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st;
}

/* Makes room just before the item next (NULL: at the end) and gives *rank that place.
 * Only a window around the place is rewritten: it widens (doubling) until the ranks its
 * neighbours leave are enough to spread its items and the new one RANK_ROOM apart, so a
 * crowded spot costs a few writes, not one per item of the playlist. Items moving down are
 * written first, lowest first, then those moving up, highest first: each write leaves a
 * valid order. */
static enum db_status
renumber(struct arena *a, struct db *db, const bson_oid_t *playlist,
         const struct playlist_item *next, int64_t *rank)
{
    struct playlist_item *order;
    int64_t low, high, step, *want;
    size_t n, i, at, lo, hi, w;
    enum db_status st;

    if ((st = db_playlists_items(a, db, playlist, &order, &n)) != DB_OK) {
        return st;
    }
    for (at = 0; at < n && (next == NULL || !bson_oid_equal(&order[at].id, &next->id)); at++) {
    }
    for (w = 1;; w *= 2) {
        lo = at > w ? at - w : 0;
        hi = n - at > w ? at + w : n;
        low = lo > 0 ? order[lo - 1].rank : 0;
        high = hi < n ? order[hi].rank : RANK_MAX;
        step = (high - low) / (int64_t)(hi - lo + 2);
        if (step >= RANK_ROOM || (lo == 0 && hi == n)) {
            break;
        }
    }
    /* A whole playlist spreads over RANK_MAX with steps of 2^37: step is never below 2. */
    if ((want = arena_alloc(a, (hi - lo + 1) * sizeof(*want))) == NULL) {
        return DB_ERROR;
    }
    for (i = lo; i < hi; i++) {
        want[i - lo] = low + (int64_t)(i - lo + (i < at ? 1 : 2)) * step;
    }
    for (i = lo; i < hi; i++) {
        if (want[i - lo] < order[i].rank &&
            (st = set_rank(a, db, &order[i].id, want[i - lo], NULL)) != DB_OK) {
            return st;
        }
    }
    for (i = hi; i-- > lo;) {
        if (want[i - lo] > order[i].rank &&
            (st = set_rank(a, db, &order[i].id, want[i - lo], NULL)) != DB_OK) {
            return st;
        }
    }
    *rank = low + (int64_t)(at - lo + 1) * step;
    return DB_OK;
}

enum db_status
db_playlists_rank_between(struct arena *a, struct db *db, const bson_oid_t *playlist,
                          const struct playlist_item *prev, const struct playlist_item *next,
                          int64_t *rank)
{
    int64_t low, high;

    if (prev == NULL && next == NULL) {
        *rank = RANK_BASE;
        return DB_OK;
    }
    if (prev == NULL && next->rank > RANK_STEP) {
        *rank = next->rank - RANK_STEP;
        return DB_OK;
    }
    if (next == NULL && prev->rank < RANK_MAX - RANK_STEP) {
        *rank = prev->rank + RANK_STEP;
        return DB_OK;
    }
    /* Halving what is left: between neighbours, and at the ends towards 0 and RANK_MAX. */
    low = prev != NULL ? prev->rank : 0;
    high = next != NULL ? next->rank : RANK_MAX;
    if (high - low >= 2) {
        *rank = low + (high - low) / 2;
        return DB_OK;
    }
    return renumber(a, db, playlist, next, rank);
}

enum db_status
db_playlists_last(struct arena *a, struct db *db, const bson_oid_t *playlist,
                  struct playlist_item *out, bool *found)
{
    struct item_page p = {out, 0, 1};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "playlistId", playlist);
    in_order(&opts, -1, 1);
    st = db_find_each(a, db, "playlist_items", &f, &opts, item_one, &p);
    bson_destroy(&f);
    bson_destroy(&opts);
    *found = p.n == 1;
    return st;
}

/* $inc itemCount by delta (and updatedAt now); with a cap, only while below it. *matched
 * says whether it moved. */
static enum db_status
count_add(struct arena *a, struct db *db, const bson_oid_t *playlist, int64_t delta, bool capped,
          int64_t *matched)
{
    bson_t f = BSON_INITIALIZER, u = BSON_INITIALIZER, doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", playlist);
    if (capped) {
        BSON_APPEND_DOCUMENT_BEGIN(&f, "itemCount", &doc);
        BSON_APPEND_INT64(&doc, "$lt", MAX_PLAYLIST_ITEMS);
        bson_append_document_end(&f, &doc);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$inc", &doc);
    BSON_APPEND_INT64(&doc, "itemCount", delta);
    bson_append_document_end(&u, &doc);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &doc);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", db_now_ms());
    bson_append_document_end(&u, &doc);
    st = db_write(a, db, "playlists", DB_UPDATE_ONE, &f, &u, matched);
    bson_destroy(&f);
    bson_destroy(&u);
    return st;
}

static enum db_status
item_delete(struct arena *a, struct db *db, const bson_oid_t *item, int64_t *gone)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", item);
    st = db_write(a, db, "playlist_items", DB_DELETE_ONE, &f, NULL, gone);
    bson_destroy(&f);
    return st;
}

enum db_status
db_playlists_item_add(struct arena *a, struct db *db, const bson_oid_t *playlist,
                      const bson_oid_t *video, int64_t rank)
{
    bson_t doc = BSON_INITIALIZER;
    struct playlist p;
    bson_oid_t id;
    int64_t matched = 0;
    enum db_status st;

    bson_oid_init(&id, NULL);
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_OID(&doc, "playlistId", playlist);
    BSON_APPEND_OID(&doc, "videoId", video);
    rank_append(&doc, "rank", rank);
    BSON_APPEND_DATE_TIME(&doc, "addedAt", db_now_ms());
    /* The unique index decides "already there"; the count moves only after a real insert,
     * and only while below the cap: 5000 racing adds cannot pass it. */
    st = db_insert(a, db, "playlist_items", &doc);
    bson_destroy(&doc);
    if (st != DB_OK) {
        return st;
    }
    if ((st = count_add(a, db, playlist, 1, true, &matched)) == DB_OK && matched == 1) {
        return DB_OK;
    }
    /* Full, gone, or the count could not be written: the item goes back. */
    if (item_delete(a, db, &id, NULL) != DB_OK || st != DB_OK) {
        return st != DB_OK ? st : DB_UNAVAILABLE;
    }
    st = db_playlists_get(a, db, playlist, &p);
    return st == DB_OK ? DB_CONFLICT : st;
}

enum db_status
db_playlists_item_move(struct arena *a, struct db *db, const bson_oid_t *item, int64_t rank)
{
    int64_t matched = 0;
    enum db_status st = set_rank(a, db, item, rank, &matched);

    return st == DB_OK && matched == 0 ? DB_NOT_FOUND : st;
}

enum db_status
db_playlists_item_remove(struct arena *a, struct db *db, const bson_oid_t *playlist,
                         const bson_oid_t *video)
{
    bson_t f = BSON_INITIALIZER;
    int64_t gone = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "playlistId", playlist);
    BSON_APPEND_OID(&f, "videoId", video);
    st = db_write(a, db, "playlist_items", DB_DELETE_ONE, &f, NULL, &gone);
    bson_destroy(&f);
    if (st != DB_OK) {
        return st;
    }
    if (gone == 0) {
        return DB_NOT_FOUND;
    }
    return count_add(a, db, playlist, -1, false, NULL);
}

/* ---- cleanup ---- */

struct owned {
    bson_oid_t id, playlist;
};

struct owned_page {
    struct owned *items;
    size_t n, max;
};

static int
owned_one(void *ctx, const bson_t *doc)
{
    struct owned_page *p = ctx;
    struct owned *o = &p->items[p->n];

    if (p->n < p->max && db_get_oid(doc, "_id", &o->id) == 0) {
        if (db_get_oid(doc, "playlistId", &o->playlist) == -1) {
            bson_oid_copy(&o->id, &o->playlist);
        }
        p->n++;
    }
    return p->n == p->max;
}

/* Reads up to DROP_PAGE documents of coll where field is id into p. */
static enum db_status
owned_read(struct arena *a, struct db *db, const char *coll, const char *field,
           const bson_oid_t *id, struct owned_page *p)
{
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    enum db_status st;

    p->n = 0;
    BSON_APPEND_OID(&f, field, id);
    BSON_APPEND_INT64(&opts, "limit", DROP_PAGE);
    st = db_find_each(a, db, coll, &f, &opts, owned_one, p);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}

enum db_status
db_playlists_drop_video(struct arena *a, struct db *db, const bson_oid_t *video)
{
    struct owned_page p = {NULL, 0, DROP_PAGE};
    enum db_status st;

    if ((p.items = arena_calloc(a, DROP_PAGE, sizeof(*p.items))) == NULL) {
        return DB_ERROR;
    }
    /* A page at a time, each read anew: the ones taken away are gone from the next read. */
    do {
        size_t i;

        st = owned_read(a, db, "playlist_items", "videoId", video, &p);
        for (i = 0; st == DB_OK && i < p.n; i++) {
            int64_t gone = 0;

            st = item_delete(a, db, &p.items[i].id, &gone);
            if (st == DB_OK && gone == 1) {
                st = count_add(a, db, &p.items[i].playlist, -1, false, NULL);
            }
        }
    } while (st == DB_OK && p.n == DROP_PAGE);
    return st;
}

enum db_status
db_playlists_drop_user(struct arena *a, struct db *db, const bson_oid_t *user)
{
    struct owned_page p = {NULL, 0, DROP_PAGE};
    enum db_status st;

    if ((p.items = arena_calloc(a, DROP_PAGE, sizeof(*p.items))) == NULL) {
        return DB_ERROR;
    }
    do {
        size_t i;

        st = owned_read(a, db, "playlists", "ownerId", user, &p);
        for (i = 0; st == DB_OK && i < p.n; i++) {
            st = db_playlists_delete(a, db, user, &p.items[i].id);
            st = st == DB_NOT_FOUND ? DB_OK : st;
        }
    } while (st == DB_OK && p.n == DROP_PAGE);
    return st;
}
