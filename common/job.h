/*
 * job.h - the job queue in MongoDB (sql-free-schemas/jobs.json, job_claims.json): work the
 * request path hands to stremora-worker (processing a video, removing a deleted one's
 * files, turning an event into webhook deliveries, one delivery), with leases, retries
 * and backoff. DESIGN.md section 1.
 *
 * A worker claims a job by inserting {_id: "<job id>:<attempt>"} into job_claims: the
 * unique _id, not a read-then-write, decides who won, on MongoDB 7 and on the local
 * server alike (DESIGN.md section 4). The winner then marks the job running under its
 * lease and heartbeats it; a job whose lease ran out (its worker died) is claimed again
 * as the next attempt. Every later write names the attempt, so a worker that lost its
 * lease cannot touch the job any more. Jobs with a key (events, deliveries) are enqueued
 * at most once: the key is unique.
 */
#ifndef STREMORA_JOB_H
#define STREMORA_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "db.h"

struct arena;

#define JOB_PROCESS "process" /* probe and transcode a video (video) */
#define JOB_CLEANUP "cleanup" /* remove a deleted video's files (video, payload.video) */
#define JOB_EVENT   "event"   /* fan an event out to its webhooks (payload) */
#define JOB_WEBHOOK "webhook" /* deliver one event to one webhook (payload) */
#define JOB_DROP    "drop"    /* remove what hung on a deleted post or user (payload.what, .id) */

struct job {
    bson_oid_t id;
    char id_hex[25];
    char *kind;
    char *key; /* the dedup key ("" for none) */
    bson_oid_t video_id;
    bool has_video;
    int32_t attempts;     /* including this one, once claimed */
    int32_t max_attempts; /* a claim past it is the worker's cue to give up */
    int64_t deadline;     /* ms; retries stop after it (0: none) */
    int64_t created_at;
    const bson_t *payload; /* in the arena; empty document if none */
};

/* What to enqueue. video may be NULL; key NULL for none; payload NULL for {}. */
struct job_spec {
    const char *kind;
    const bson_oid_t *video;
    const char *key;
    const bson_t *payload;
    int64_t run_after; /* ms; 0: now */
    int32_t max_attempts;
    int64_t deadline; /* ms; 0: none */
};

/* Enqueues a job. DB_DUPLICATE: a job with that key exists (it was enqueued before). */
enum db_status job_enqueue(struct arena *a, struct db *db, const struct job_spec *spec);
/* Enqueues spec (its key set) so that its work runs once more whatever came before: when
 * the key's job is queued or running that is it (DB_OK); when it already ended (its run
 * came too early, or failed) a fresh job without the key is queued. */
enum db_status job_enqueue_again(struct arena *a, struct db *db, const struct job_spec *spec);
/* Claims the oldest due job (queued and due, or running with its lease run out) for
 * worker who, leased for lease_ms. DB_NOT_FOUND when none is due. */
enum db_status job_claim(struct arena *a, struct db *db, const char *who, int64_t lease_ms,
                         struct job *out);
/* Extends the lease; progress (may be NULL) is $set on the job. DB_CONFLICT: the job is
 * no longer this worker's (its lease ran out and it was claimed again). */
enum db_status job_heartbeat(struct arena *a, struct db *db, const struct job *j, const char *who,
                             int64_t lease_ms, const bson_t *progress);
/* Marks the job done. DB_CONFLICT as for job_heartbeat. */
enum db_status job_done(struct arena *a, struct db *db, const struct job *j, const char *who);
/* Records a failed attempt: queued again after backoff_ms * 2^(attempts-1) (capped at an
 * hour), or failed for good when final, past max_attempts or past the deadline. */
enum db_status job_fail(struct arena *a, struct db *db, const struct job *j, const char *who,
                        const char *error, bool final, int64_t backoff_ms);
/* Gives the job back unfinished (the worker is stopping, or a step the job could not
 * help): due again after delay_ms, and this attempt not counted. */
enum db_status job_release(struct arena *a, struct db *db, const struct job *j, const char *who,
                           int64_t delay_ms);
/* Counts jobs by status (queued, running, done, failed) into out[4]. */
enum db_status job_count(struct arena *a, struct db *db, int64_t out[4]);
/* Deletes done and failed jobs finished before before_ms, with their claims; *n gets how
 * many jobs went. */
enum db_status job_prune(struct arena *a, struct db *db, int64_t before_ms, int64_t *n);

#endif
