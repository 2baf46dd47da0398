/*
 * cleanup.c - a deleted video's files (a job of kind cleanup, queued by DELETE
 * /api/v1/videos/{id} before the document goes). Its files go only once the document is
 * gone: a job that finds the document is retried after a backoff (the delete is usually a
 * moment behind it), and if the delete never happens, nothing is removed. What hangs on it
 * goes too (its ratings, comments and playlist items, counters kept right). Then
 * video.deleted is emitted, with the video as it was when it was deleted.
 */
#include "arena.h"
#include "db.h"
#include "db_comments.h"
#include "db_playlists.h"
#include "db_ratings.h"
#include "db_videos.h"
#include "log.h"
#include "storage.h"
#include "worker.h"

enum job_outcome
cleanup_run(struct job_run *r)
{
    const bson_t *p = r->job->payload;
    char *json = db_get_str(r->a, p, "video");
    struct video v;
    bson_oid_t owner;
    enum db_status st;

    if (!r->job->has_video || json == NULL || db_get_oid(p, "ownerId", &owner) == -1) {
        return job_run_fail(r, JOB_OUTCOME_FAILED, "malformed cleanup job");
    }
    bson_oid_to_string(&r->job->video_id, v.id_hex);
    if ((st = db_videos_get(r->a, r->w->db, &r->job->video_id, &v)) == DB_OK) {
        if (r->job->attempts >= r->job->max_attempts) {
            return JOB_OUTCOME_DONE; /* the delete did not happen: the video stays whole */
        }
        return job_run_fail(r, JOB_OUTCOME_RETRY, "the video is not deleted yet");
    }
    if (st != DB_NOT_FOUND) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "reading the video: database unavailable");
    }
    /* Its tag lists' mirrors (again: a write racing the delete may have made some). */
    if (db_videos_tags_drop(r->a, r->w->db, &r->job->video_id) != DB_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "dropping its tag mirrors failed");
    }
    /* What hangs on it: its ratings, and its place in every playlist (their counts too). */
    if (db_ratings_drop_target(r->a, r->w->db, &r->job->video_id) != DB_OK ||
        db_comments_drop_target(r->a, r->w->db, COMMENT_VIDEO, &r->job->video_id) != DB_OK ||
        db_playlists_drop_video(r->a, r->w->db, &r->job->video_id) != DB_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "dropping what hangs on it failed");
    }
    storage_delete_tmp(r->w->storage, v.id_hex);
    if (storage_delete_video(r->w->storage, v.id_hex) != STORAGE_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "removing the files failed");
    }
    if (events_emit(r, "video.deleted", &owner, v.id_hex, json) == -1) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "emitting video.deleted failed");
    }
    log_ev(LOG_INFO, "video_files_removed", "video %s", v.id_hex);
    return JOB_OUTCOME_DONE;
}
