/*
 * storage.h - where media lives, behind one interface (DESIGN.md section 5). The local
 * backend keeps $MEDIA_ROOT/videos/<id>/source.<ext> (and, from processing, hls/ and
 * thumb.jpg); S3 and Cloudinary backends come later and fit the same calls: an upload is
 * begun, written in order, then committed (all of it appears at once) or aborted (nothing
 * appears). Players never read through this interface: nginx serves media after the app's
 * link check (fcgi/media.c), from the media root for local files; for S3 the check's
 * answer will name a presigned URL that nginx proxies, for Cloudinary a signed URL.
 * Paths are never built from client strings: callers pass validated ObjectIds and names
 * that slink_path_is_safe() accepted.
 */
#ifndef STREMORA_STORAGE_H
#define STREMORA_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "str.h"

struct arena;
struct config;

enum storage_status { STORAGE_OK, STORAGE_FULL, STORAGE_NOT_FOUND, STORAGE_BUSY, STORAGE_ERROR };

struct storage;

/* A write in progress. Owned by the caller; end it with commit or abort. */
struct storage_upload {
    struct storage *s;
    char video_id[25];
    int fd;
    uint64_t size;
    char tmp[4096];
};

/* Returns the backend for c (local now), or NULL with a reason in err. Creates the
 * media root's folders if missing. */
struct storage *storage_new(const struct config *c, char *err, size_t errlen);
void storage_free(struct storage *s);
/* True if new media can be written now. */
bool storage_is_writable(struct storage *s);

/* Opens a temp file for video_id's source (0/-1, logged). */
enum storage_status storage_upload_begin(struct storage *s, const char *video_id,
                                         struct storage_upload *u);
/* Appends n bytes. STORAGE_FULL when the disk is full. */
enum storage_status storage_upload_write(struct storage_upload *u, const void *p, size_t n);
/* Makes the upload durable (fsync) and visible as <name> under the video in one step. */
enum storage_status storage_upload_commit(struct storage_upload *u, const char *name);
/* Drops the upload; nothing of it remains. Safe to call after commit (a no-op). */
void storage_upload_abort(struct storage_upload *u);

/* A resumable upload's bytes (tus), kept as uploads/<uploadId> until they become a video's
 * source. Only one request writes a part at a time: opening it takes a lock that the
 * kernel drops when its holder dies, so a killed worker never blocks the upload. What a
 * part holds beyond the upload's counted offset (a write cut short) is cut away before
 * the next write. */
struct storage_part {
    struct storage *s;
    int fd;
    char path[4096];
};
/* Opens upload_id's part, creating it when create, locked. STORAGE_BUSY when another
 * request holds it; STORAGE_NOT_FOUND when it is absent and !create. */
enum storage_status storage_part_open(struct storage *s, const char *upload_id, bool create,
                                      struct storage_part *p);
/* Cuts the part to off bytes. STORAGE_ERROR (logged) if it holds fewer: never grows it. */
enum storage_status storage_part_truncate(struct storage_part *p, uint64_t off);
/* Writes n bytes at off. STORAGE_FULL when the disk is full. */
enum storage_status storage_part_write(struct storage_part *p, uint64_t off, const void *buf,
                                       size_t n);
/* Reads up to n bytes at off; returns how many, or -1. */
ssize_t storage_part_read(struct storage_part *p, uint64_t off, void *buf, size_t n);
/* Makes what was written durable. */
enum storage_status storage_part_sync(struct storage_part *p);
/* Gives the part's bytes a second name, the video's <name>, replacing an earlier one in
 * one step, durably (the part stays until storage_part_remove). */
enum storage_status storage_part_publish(struct storage_part *p, const char *video_id,
                                         const char *name);
/* Closes (and unlocks) the part. Safe on a part never opened (fd -1). */
void storage_part_close(struct storage_part *p);
/* Removes upload_id's part; nothing when it is absent. */
void storage_part_remove(struct storage *s, const char *upload_id);
/* Calls fn for each part with its upload id and how many seconds ago it changed. */
void storage_each_part(struct storage *s,
                       void (*fn)(void *ctx, const char *upload_id, const char *name,
                                  int64_t age_s),
                       void *ctx);

/* Removes everything stored for a video. STORAGE_OK also when there was nothing. */
enum storage_status storage_delete_video(struct storage *s, const char *video_id);
/* Returns true if the file <path> of video_id exists. */
bool storage_has(struct storage *s, const char *video_id, const char *path);
/* Work space for processing video_id (a fresh folder under tmp/, path in out). */
enum storage_status storage_work_begin(struct storage *s, const char *video_id, char *out,
                                       size_t len);
/* Marks a work folder alive (the sweep removes one left quiet for long). */
void storage_work_touch(const char *work);
/* Removes a work folder and all in it (no-op for ""). */
void storage_work_end(const char *work);
/* Moves work/name to the video's name (a file or a folder), replacing what was there in
 * one step. STORAGE_NOT_FOUND if the video's folder is gone (deleted meanwhile). */
enum storage_status storage_publish(struct storage *s, const char *video_id, const char *work,
                                    const char *name);
/* Writes the path of a video's source file (local backend: for ffprobe/ffmpeg). */
int storage_source_path(struct storage *s, const char *video_id, const char *source, char *out,
                        size_t len);
/* Removes every temp file and work folder of video_id. */
void storage_delete_tmp(struct storage *s, const char *video_id);
/* Calls fn for each video folder (storage_each_video) or temp entry (storage_each_tmp),
 * with its video id, its name and how many seconds ago it changed. */
void storage_each_video(struct storage *s,
                        void (*fn)(void *ctx, const char *video_id, const char *name,
                                   int64_t age_s),
                        void *ctx);
void storage_each_tmp(struct storage *s,
                      void (*fn)(void *ctx, const char *video_id, const char *name, int64_t age_s),
                      void *ctx);
/* Removes the temp entry name (a name storage_each_tmp gave). */
void storage_remove_tmp(struct storage *s, const char *name);

#endif
