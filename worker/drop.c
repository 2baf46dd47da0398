/*
 * drop.c - what hangs on a deleted post or user (a job of kind drop, queued by DELETE
 * /api/v1/posts/{id} and POST /api/v1/users/me/deletion before the document goes,
 * fcgi/drop.c).
 * Like cleanup.c it acts only once the document is gone: a job that still finds it is
 * retried after a backoff, and if the delete never happens, nothing is removed.
 *   post: its comments (and their likes) and its own likes.
 *   user: their ratings (taken off every counter), subscriptions both ways, comments (a
 *         comment with replies keeps the thread's shape), posts, playlists, images (named in
 *         the payload: the document that named them is gone), and each of their videos, an
 *         upload in progress too, as DELETE /api/v1/videos/{id} deletes one (a cleanup job
 *         each; the upload's last write then finds no video and fails).
 * Every step is idempotent, so a job that stops half-way is simply run again.
 */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "db_comments.h"
#include "db_playlists.h"
#include "db_posts.h"
#include "db_ratings.h"
#include "db_subscriptions.h"
#include "db_users.h"
#include "db_videos.h"
#include "host.h"
#include "image.h"
#include "job.h"
#include "json.h"
#include "log.h"
#include "storage.h"
#include "video.h"
#include "worker.h"

#define CLEANUP_ATTEMPTS 10 /* as fcgi/videos.c gives a deleted video's job */
#define VIDEOS_PER_READ  50
#define VIDEOS_ARENA     (8u << 20) /* one page of videos, their JSON and cleanup jobs */

/* Is the document still there? 1 yes, 0 gone, -1 the database did not answer. */
static int
still_there(struct job_run *r, const char *coll, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    st = db_find_one(r->a, r->w->db, coll, &f, &doc);
    bson_destroy(&f);
    return st == DB_OK ? 1 : st == DB_NOT_FOUND ? 0 : -1;
}

/* Deletes one video of a deleted user the way the API does: its cleanup job first (which
 * removes its files and tells the webhooks), then the document and its files. */
static enum db_status
delete_video(struct job_run *r, struct arena *a, const struct video *v)
{
    bson_t payload = BSON_INITIALIZER;
    struct job_spec spec = {JOB_CLEANUP, &v->id, NULL, &payload, 0, CLEANUP_ATTEMPTS, 0};
    const char *json = js_string(a, video_json(a, v));
    enum db_status st;

    if (json == NULL) {
        bson_destroy(&payload);
        return DB_ERROR;
    }
    BSON_APPEND_UTF8(&payload, "video", json);
    BSON_APPEND_OID(&payload, "ownerId", &v->owner_id);
    st = job_enqueue(a, r->w->db, &spec);
    bson_destroy(&payload);
    if (st != DB_OK) {
        return st;
    }
    st = db_videos_delete(a, r->w->db, &v->id);
    if (st != DB_OK && st != DB_NOT_FOUND) {
        return st;
    }
    host_touch(r->w->host, 'v', v->id_hex);         /* cached copies and lists end at once */
    storage_delete_video(r->w->storage, v->id_hex); /* the cleanup job tries again */
    return DB_OK;
}

struct ids {
    bson_oid_t ids[VIDEOS_PER_READ];
    size_t n;
};

static int
id_one(void *ctx, const bson_t *doc)
{
    struct ids *p = ctx;

    if (db_get_oid(doc, "_id", &p->ids[p->n]) == 0) {
        p->n++;
    }
    return p->n == VIDEOS_PER_READ;
}

/* Deletes every video of user, whatever its status, a page at a time (each read anew: the
 * deleted ones are gone from the next), in a scratch arena emptied every page. */
static enum db_status
delete_videos(struct job_run *r, const bson_oid_t *user)
{
    struct arena *a = arena_new(VIDEOS_ARENA);
    int64_t beat = 0;
    enum db_status st = DB_ERROR;

    while (a != NULL) {
        bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
        struct ids page = {.n = 0};
        size_t i;

        BSON_APPEND_OID(&f, "ownerId", user);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
        BSON_APPEND_INT32(&proj, "_id", 1);
        bson_append_document_end(&opts, &proj);
        BSON_APPEND_INT64(&opts, "limit", VIDEOS_PER_READ);
        arena_reset(a);
        st = db_find_each(a, r->w->db, "videos", &f, &opts, id_one, &page);
        bson_destroy(&f);
        bson_destroy(&opts);
        if (st != DB_OK || page.n == 0) {
            break;
        }
        for (i = 0; i < page.n && st == DB_OK; i++) {
            struct video v;

            st = db_videos_get(a, r->w->db, &page.ids[i], &v);
            if (st == DB_OK) {
                st = delete_video(r, a, &v);
            } else if (st == DB_NOT_FOUND) {
                st = DB_OK;
            }
            if (st == DB_OK && !job_run_heartbeat_due(r, &beat)) {
                st = DB_CONFLICT; /* no longer ours */
            }
        }
        if (st != DB_OK) {
            break;
        }
    }
    arena_free(a);
    return st;
}

static enum job_outcome
drop_post(struct job_run *r, const bson_oid_t *id)
{
    if (db_comments_drop_target(r->a, r->w->db, COMMENT_POST, id) != DB_OK ||
        db_ratings_drop_target(r->a, r->w->db, id) != DB_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "dropping the post's comments failed");
    }
    return JOB_OUTCOME_DONE;
}

static enum job_outcome
drop_user(struct job_run *r, const bson_oid_t *id)
{
    struct db *db = r->w->db;
    struct {
        const char *what;
        enum db_status (*fn)(struct arena *, struct db *, const bson_oid_t *);
    } steps[] = {
        {"ratings", db_ratings_drop_user},     {"subscriptions", db_subscriptions_drop_user},
        {"comments", db_comments_drop_user},   {"posts", db_posts_drop_user},
        {"playlists", db_playlists_drop_user},
    };
    int64_t beat = 0;
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i].fn(r->a, db, id) != DB_OK) {
            return job_run_fail(r, JOB_OUTCOME_RETRY, "dropping the user's %s failed",
                                steps[i].what);
        }
        if (!job_run_heartbeat_due(r, &beat)) {
            return job_run_fail(r, JOB_OUTCOME_RETRY, "the job is no longer ours");
        }
    }
    if (delete_videos(r, id) != DB_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "deleting the user's videos failed");
    }
    image_drop_user(r->w->cfg.media_root, db_get_str(r->a, r->job->payload, "avatar"),
                    db_get_str(r->a, r->job->payload, "banner"));
    /* Cached pages showed their comments, likes and subscriptions: they end now. */
    host_gen_bump(r->w->host, HOST_KEY_CHANNELS);
    host_gen_bump(r->w->host, HOST_KEY_VIDEO_LISTS);
    return JOB_OUTCOME_DONE;
}

enum job_outcome
drop_run(struct job_run *r)
{
    const bson_t *p = r->job->payload;
    char *what = db_get_str(r->a, p, "what");
    bool post;
    bson_oid_t id;
    char hex[25];
    int there;

    if (what == NULL || db_get_oid(p, "id", &id) == -1 ||
        (strcmp(what, "post") != 0 && strcmp(what, "user") != 0)) {
        return job_run_fail(r, JOB_OUTCOME_FAILED, "malformed drop job");
    }
    post = strcmp(what, "post") == 0;
    bson_oid_to_string(&id, hex);
    if ((there = still_there(r, post ? "posts" : "users", &id)) == -1) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "reading the %s: database unavailable", what);
    }
    if (there == 1) {
        if (r->job->attempts >= r->job->max_attempts) {
            return JOB_OUTCOME_DONE; /* the delete did not happen: everything stays */
        }
        return job_run_fail(r, JOB_OUTCOME_RETRY, "the %s is not deleted yet", what);
    }
    log_ev(LOG_INFO, "drop_started", "%s %s", what, hex);
    return post ? drop_post(r, &id) : drop_user(r, &id);
}
