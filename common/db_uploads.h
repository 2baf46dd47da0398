/*
 * db_uploads.h - the uploads collection (sql-free-schemas/uploads.json): the state of a
 * resumable (tus) upload, so that any worker on any host can take its next PATCH. Its
 * bytes live in storage (storage_part_*); the document says how many of them count
 * (offset), which is the only offset ever reported. An upload is "open" while bytes come,
 * "finishing" once all are in (the video is being made from them: idempotent, redone by
 * whoever sees it next) and "done" when its video exists (the video has the upload's id).
 * Every upload expires (expiresAt, pushed forward by each PATCH); the job worker removes
 * expired ones and their bytes.
 */
#ifndef STREMORA_DB_UPLOADS_H
#define STREMORA_DB_UPLOADS_H

#include <stdint.h>

#include <bson/bson.h>

#include "db.h"
#include "db_videos.h"

struct arena;

struct tus_upload {
    bson_oid_t id;
    char id_hex[25];
    bson_oid_t owner_id;
    int64_t length;    /* bytes announced by Upload-Length */
    int64_t offset;    /* bytes received and stored */
    struct video meta; /* title, description, tags, visibility of the video to be */
    char *filename;    /* as the client named it (metadata), or "" */
    char *container;   /* extension of the container the first bytes showed, or NULL */
    char *status;      /* open, finishing, done */
    int64_t created_at, updated_at, expires_at; /* ms */
};

enum db_status db_uploads_insert(struct arena *a, struct db *db, const struct tus_upload *u);
enum db_status db_uploads_get(struct arena *a, struct db *db, const bson_oid_t *id,
                              struct tus_upload *out);
/* Moves an open upload's offset from `from` to `to` (and sets its container when not
 * NULL, its status to "finishing" when to is its length), pushing expiresAt to
 * expires_at. DB_CONFLICT if the upload is not open at `from` any more. */
enum db_status db_uploads_advance(struct arena *a, struct db *db, const struct tus_upload *u,
                                  int64_t from, int64_t to, const char *container,
                                  int64_t expires_at);
/* Marks a finishing upload done (its video exists). */
enum db_status db_uploads_done(struct arena *a, struct db *db, const bson_oid_t *id);
enum db_status db_uploads_delete(struct arena *a, struct db *db, const bson_oid_t *id);
/* Deletes the upload if it is still expired at now (a PATCH meanwhile moved its expiry
 * on). DB_NOT_FOUND when it did not go. */
enum db_status db_uploads_delete_expired(struct arena *a, struct db *db, const bson_oid_t *id,
                                         int64_t now);
/* Calls fn for up to limit uploads that expired before now, oldest first. */
enum db_status db_uploads_each_expired(struct arena *a, struct db *db, int64_t now, int64_t limit,
                                       int (*fn)(void *ctx, const struct tus_upload *u), void *ctx);

#endif
