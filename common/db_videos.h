/*
 * db_videos.h - the videos collection (sql-free-schemas/videos.json). A video is inserted
 * as "uploading" (never listed, never served) before its bytes are written, and becomes
 * "processing" once its file is in place; stremora-worker then makes it "ready" or
 * "failed", recording its stage and percent meanwhile. Lists page by keyset on (createdAt, _id),
 * newest first, never by skip.
 */
#ifndef STREMORA_DB_VIDEOS_H
#define STREMORA_DB_VIDEOS_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "bounds.h"
#include "db.h"

struct arena;

#define MAX_RENDITIONS 5 /* 1080p, 720p, 480p, 360p, 240p */

struct rendition {
    char *name; /* "1080p": also its folder under hls/ */
    int width, height;
    int64_t bandwidth;         /* bits/s: the peak of its segments */
    int64_t average_bandwidth; /* bits/s over the whole video */
};

/* What processing found and made. */
struct video_media {
    bool processing; /* a worker is on it: stage and percent say how far */
    char *stage;     /* "queued", "probe", "transcode", "thumbnail", "publish" */
    int percent;     /* 0-100, -1 unknown */
    double duration; /* seconds */
    int width, height;
    bool has_thumbnail;
    struct rendition renditions[MAX_RENDITIONS];
    size_t nrenditions;
};

struct video {
    bson_oid_t id;
    char id_hex[25];
    bson_oid_t owner_id;
    char owner_hex[25];
    char *title;
    char *description;
    char *tags[MAX_TAGS];
    size_t ntags;
    char *visibility; /* public, unlisted, private */
    char *status;     /* uploading, processing, ready, failed */
    int64_t size;     /* bytes of the source */
    char *sha256;     /* hex of the source */
    char *source;     /* file name under the video: source.<ext> */
    char *mime;
    bool has_hls;
    bool has_thumbnail;
    int64_t created_at; /* ms */
    int64_t updated_at;
    char *failure_reason; /* failed: why, for the owner */
    struct video_media media;
    /* Community counters: $inc'd where they change, rebuilt by stremoractl recount. */
    int64_t view_count;
    int64_t like_count;
    int64_t dislike_count;
    int64_t comment_count;
    bool comments_enabled; /* the owner's switch; true unless turned off */
};

/* What a list asks for. NULL/empty members do not filter. */
struct video_query {
    const bson_oid_t *viewer; /* signed-in caller: also sees their own non-public videos */
    const bson_oid_t *owner;
    const char *tag;
    struct str title_q; /* client text the title must contain (any case); null str: any */
    bool has_cursor;
    int64_t cursor_created; /* ms */
    bson_oid_t cursor_id;
    size_t limit;
};

/* Inserts v (id, owner, created_at set by the caller) with status "uploading". */
enum db_status db_videos_insert(struct arena *a, struct db *db, const struct video *v);
/* Sets the metadata and size/sha256/source/mime of an "uploading" video and makes it
 * "processing". DB_CONFLICT if it is no longer uploading. */
enum db_status db_videos_finish_upload(struct arena *a, struct db *db, const struct video *v);
/* Finds by id (any status). */
enum db_status db_videos_get(struct arena *a, struct db *db, const bson_oid_t *id,
                             struct video *out);
/* Updates the fields of v named in mask (VIDEO_SET_*). */
#define VIDEO_SET_TITLE       1u
#define VIDEO_SET_DESCRIPTION 2u
#define VIDEO_SET_TAGS        4u
#define VIDEO_SET_VISIBILITY  8u
#define VIDEO_SET_COMMENTS    16u /* commentsEnabled */
enum db_status db_videos_update(struct arena *a, struct db *db, const struct video *v,
                                unsigned mask);
/* The tag lists' index (sql-free-schemas/video_tags.json): db_videos_tag_doc writes the
 * mirror of v's tag i into doc (stremoractl seed and migrate write them in bulk);
 * db_videos_tags_drop removes a video's. The writes below keep them in step. */
void db_videos_tag_doc(const struct video *v, size_t i, bson_t *doc);
enum db_status db_videos_tags_drop(struct arena *a, struct db *db, const bson_oid_t *id);
/* Rewrites video id's mirrors from its document as it is now (drops them if it is gone). */
enum db_status db_videos_tags_sync(struct arena *a, struct db *db, const bson_oid_t *id);
/* Makes every mirror anew from the videos (stremoractl migrate on a database without them,
 * stremoractl seed); *made gets how many. */
enum db_status db_videos_tags_rebuild(struct arena *a, struct db *db, long *made);
/* Deletes by id; DB_NOT_FOUND if it was not there. */
enum db_status db_videos_delete(struct arena *a, struct db *db, const bson_oid_t *id);
/* Lists up to q->limit + 1 videos into out (arena array); *n gets the count. */
enum db_status db_videos_list(struct arena *a, struct db *db, const struct video_query *q,
                              struct video **out, size_t *n);
/* Deletes "uploading" videos not refreshed since before_ms (their uploader, on any host,
 * is gone: a live upload refreshes its document); calls gone(ctx, id_hex) for each. */
enum db_status db_videos_delete_stale(struct arena *a, struct db *db, int64_t before_ms,
                                      void (*gone)(void *ctx, const char *id_hex), void *ctx);
/* Sets exists[i] for each of the n ids that has a document. */
enum db_status db_videos_existing(struct arena *a, struct db *db, const bson_oid_t *ids, size_t n,
                                  bool *exists);
/* Refreshes an "uploading" video's updatedAt: its upload is alive. */
enum db_status db_videos_touch(struct arena *a, struct db *db, const bson_oid_t *id);
/* The next three change a video only while it is "processing": DB_CONFLICT when it is not
 * (deleted meanwhile, or finished). Progress of a stage, in percent. */
enum db_status db_videos_set_progress(struct arena *a, struct db *db, const bson_oid_t *id,
                                      const char *stage, int percent);
/* Ready: its HLS ladder and thumbnail are in place. */
enum db_status db_videos_set_ready(struct arena *a, struct db *db, const bson_oid_t *id,
                                   const struct video_media *m);
/* Failed for good, with a reason for its owner. */
enum db_status db_videos_set_failed(struct arena *a, struct db *db, const bson_oid_t *id,
                                    const char *reason);

/* ---- channels and the feed (fcgi/channels.c) ---- */

/* A channel's page order: latest (createdAt, _id desc), popular (viewCount, _id desc),
 * oldest (createdAt, _id asc). */
enum video_sort { VIDEO_SORT_LATEST, VIDEO_SORT_POPULAR, VIDEO_SORT_OLDEST };

/* What a channel's page asks for. */
struct channel_query {
    const bson_oid_t *owner;
    bool all; /* the owner or an admin: every video but uploads (private, unlisted, failed) */
    enum video_sort sort;
    bool has_cursor;
    int64_t cursor_key; /* createdAt ms, or viewCount for popular */
    bson_oid_t cursor_id;
    size_t limit;
};

/* Lists up to q->limit + 1 of a channel's videos into out (arena array); *n the count.
 * Without q->all: the public, listed ones (as the public list). */
enum db_status db_videos_channel(struct arena *a, struct db *db, const struct channel_query *q,
                                 struct video **out, size_t *n);
/* *n gets how many of owner's videos anyone may see listed (public, processing or ready). */
enum db_status db_videos_count_listed(struct arena *a, struct db *db, const bson_oid_t *owner,
                                      int64_t *n);
/* The feed: the public, listed videos of the n owners (<= MAX_FEED_CHANNELS), newest first
 * (createdAt, _id desc), strictly after (cursor_at, cursor_id) if cursor_id is not NULL: up to
 * limit + 1 into out (arena array), *nout their count. */
enum db_status db_videos_feed(struct arena *a, struct db *db, const bson_oid_t *owners, size_t n,
                              int64_t cursor_at, const bson_oid_t *cursor_id, size_t limit,
                              struct video **out, size_t *nout);

#endif
