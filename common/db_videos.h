/*
 * db_videos.h - the videos collection (sql-free-schemas/videos.json). A video is inserted
 * as "uploading" (never listed, never served) before its bytes are written, and becomes
 * "processing" once its file is in place; processing (a later issue) makes it "ready" or
 * "failed". Lists page by keyset on (createdAt, _id), newest first, never by skip.
 */
#ifndef STREMORA_DB_VIDEOS_H
#define STREMORA_DB_VIDEOS_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "bounds.h"
#include "db.h"

struct arena;

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
enum db_status db_videos_update(struct arena *a, struct db *db, const struct video *v,
                                unsigned mask);
/* Deletes by id; DB_NOT_FOUND if it was not there. */
enum db_status db_videos_delete(struct arena *a, struct db *db, const bson_oid_t *id);
/* Lists up to q->limit + 1 videos into out (arena array); *n gets the count. */
enum db_status db_videos_list(struct arena *a, struct db *db, const struct video_query *q,
                              struct video **out, size_t *n);
/* Deletes "uploading" videos last touched before before_ms or whose writer on this host is
 * gone; calls gone(ctx, id_hex) for each. */
enum db_status db_videos_delete_stale(struct arena *a, struct db *db, int64_t before_ms,
                                      void (*gone)(void *ctx, const char *id_hex), void *ctx);

#endif
