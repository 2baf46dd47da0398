/*
 * sweep.c - housekeeping for every host that shares the database, run by whichever worker
 * finds it due (it is idempotent: several at once do no harm):
 *   - uploads whose document was not refreshed for STREMORA_UPLOAD_STALE (their uploader
 *     died, on whatever host): the document, its temp file, any folder;
 *   - temp files of videos that are gone, work folders whose worker stopped touching them,
 *     and media folders without a video document (a crash between a delete and its
 *     cleanup), once they have not changed for SWEEP_GRACE_S (nothing being made right now
 *     is touched);
 *   - resumable uploads past their expiry (STREMORA_UPLOAD_EXPIRY after their last PATCH):
 *     the document and its bytes; and upload bytes whose document is gone;
 *   - finished jobs older than a week, delivery records older than 30 days.
 */
#include <string.h>

#include "arena.h"
#include "db.h"
#include "db_uploads.h"
#include "db_videos.h"
#include "db_webhooks.h"
#include "job.h"
#include "log.h"
#include "storage.h"
#include "worker.h"

#define SWEEP_GRACE_S    600                       /* seconds a leftover must be quiet */
#define SWEEP_BATCH      100                       /* folders checked per database query */
#define JOBS_KEPT_MS     (7LL * 24 * 3600 * 1000)  /* finished jobs are kept a week */
#define DELIVERY_KEPT_MS (30LL * 24 * 3600 * 1000) /* delivery records, 30 days */

struct sweep {
    struct worker *w;
    struct arena *a;
    bool tmp; /* the batch is of temp entries (else of video folders) */
    bson_oid_t ids[SWEEP_BATCH];
    char names[SWEEP_BATCH][256];
    size_t n;
    int removed;
};

static void
stale_upload(void *ctx, const char *id_hex)
{
    struct sweep *s = ctx;

    storage_delete_tmp(s->w->storage, id_hex);
    storage_delete_video(s->w->storage, id_hex);
    log_ev(LOG_INFO, "upload_swept", "video %s: abandoned upload removed", id_hex);
    s->removed++;
}

/* Checks the batch against the database and removes what has no video. A temp file of a
 * video that still exists stays: its upload may be alive (a dead one's goes with its
 * stale document). */
static void
flush(struct sweep *s)
{
    bool exists[SWEEP_BATCH];
    size_t i;

    if (s->n == 0) {
        return;
    }
    if (db_videos_existing(s->a, s->w->db, s->ids, s->n, exists) == DB_OK) {
        for (i = 0; i < s->n; i++) {
            if (exists[i]) {
                continue;
            }
            if (s->tmp) {
                storage_remove_tmp(s->w->storage, s->names[i]);
            } else {
                storage_delete_video(s->w->storage, s->names[i]);
            }
            log_ev(LOG_INFO, "orphan_swept", "%s %s: no video", s->tmp ? "temp" : "folder",
                   s->names[i]);
            s->removed++;
        }
    }
    s->n = 0;
}

static void
consider(void *ctx, const char *video_id, const char *name, int64_t age_s)
{
    struct sweep *s = ctx;

    if (age_s < SWEEP_GRACE_S || strlen(name) >= sizeof(s->names[0]) ||
        db_oid_parse(str_from(video_id), &s->ids[s->n]) == -1) {
        return;
    }
    /* A live transcode touches its work folder at every heartbeat: a quiet one is dead. */
    if (s->tmp && strstr(name, ".work.") != NULL) {
        storage_remove_tmp(s->w->storage, name);
        log_ev(LOG_INFO, "orphan_swept", "work folder %s: its worker is gone", name);
        s->removed++;
        return;
    }
    memcpy(s->names[s->n], name, strlen(name) + 1);
    if (++s->n == SWEEP_BATCH) {
        flush(s);
    }
}

static int
expired_upload(void *ctx, const struct tus_upload *u)
{
    struct sweep *s = ctx;
    struct storage_part p;

    /* Not while a request writes it (the lock), and only if still expired then. */
    if (storage_part_open(s->w->storage, u->id_hex, false, &p) == STORAGE_BUSY) {
        return 0;
    }
    if (db_uploads_delete_expired(s->a, s->w->db, &u->id, db_now_ms()) == DB_OK) {
        storage_part_remove(s->w->storage, u->id_hex);
        log_ev(LOG_INFO, "upload_expired", "upload %s (%s, %lld of %lld bytes) removed", u->id_hex,
               u->status != NULL ? u->status : "?", (long long)u->offset, (long long)u->length);
        s->removed++;
    }
    storage_part_close(&p);
    return 0;
}

/* Upload bytes whose document is gone (a crash between the two removals). */
static void
orphan_part(void *ctx, const char *upload_id, const char *name, int64_t age_s)
{
    struct sweep *s = ctx;
    struct tus_upload u;
    bson_oid_t id;

    if (age_s < SWEEP_GRACE_S || strcmp(name, upload_id) != 0 ||
        db_oid_parse(str_from(upload_id), &id) == -1 ||
        db_uploads_get(s->a, s->w->db, &id, &u) != DB_NOT_FOUND) {
        return;
    }
    storage_part_remove(s->w->storage, upload_id);
    log_ev(LOG_INFO, "orphan_swept", "upload bytes %s: no upload", upload_id);
    s->removed++;
}

void
sweep_run(struct worker *w, struct arena *a)
{
    struct sweep *s = arena_calloc(a, 1, sizeof(*s));
    int64_t now = db_now_ms(), jobs = 0, deliveries = 0;

    if (s == NULL) {
        return;
    }
    s->w = w;
    s->a = a;
    db_videos_delete_stale(a, w->db, now - (int64_t)w->cfg.upload_stale * 1000, stale_upload, s);
    s->tmp = true;
    storage_each_tmp(w->storage, consider, s);
    flush(s);
    s->tmp = false;
    storage_each_video(w->storage, consider, s);
    flush(s);
    db_uploads_each_expired(a, w->db, now, SWEEP_BATCH, expired_upload, s);
    storage_each_part(w->storage, orphan_part, s);
    job_prune(a, w->db, now - JOBS_KEPT_MS, &jobs);
    db_webhooks_prune(a, w->db, now - DELIVERY_KEPT_MS, &deliveries);
    if (s->removed > 0 || jobs > 0 || deliveries > 0) {
        log_ev(LOG_INFO, "swept", "%d leftovers, %lld old jobs, %lld old delivery records",
               s->removed, (long long)jobs, (long long)deliveries);
    }
}
