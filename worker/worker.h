/*
 * worker.h - stremora-worker's process state and the job kinds it runs, one file each:
 * transcode.c (process: probe with common/probe.c, HLS ladder, thumbnail), cleanup.c (a
 * deleted video's files), events.c (an event's webhooks), webhook.c (one delivery),
 * sweep.c (housekeeping on a timer). main.c claims jobs and hands them over.
 */
#ifndef STREMORA_WORKER_H
#define STREMORA_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "config.h"
#include "job.h"

struct arena;
struct db;
struct host;
struct storage;

struct worker {
    struct config cfg;
    struct db *db;
    struct storage *storage;
    struct host *host;  /* this host's cache generations: the API's caches see our writes */
    char who[96];       /* lease owner: "<host>:<pid>" */
    struct arena *tick; /* for the writes of each heartbeat: emptied at every one, so that
                         * a job of hours does not fill its own arena with them */
    int64_t next_sweep_ms;
};

/* Set by SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1: finish or give back the current job,
 * then exit. */
extern volatile sig_atomic_t worker_stopping;

/* What running a job came to. */
enum job_outcome {
    JOB_OUTCOME_DONE,    /* finished (or nothing left to do) */
    JOB_OUTCOME_RETRY,   /* failed for now: again after a backoff */
    JOB_OUTCOME_FAILED,  /* failed for good */
    JOB_OUTCOME_RELEASE, /* stopped unfinished (shutdown): give it back */
    JOB_OUTCOME_DEFER,   /* not done, through no fault of the job's: again after a backoff,
                          * the attempt not counted (the database away at its last step) */
    JOB_OUTCOME_LOST,    /* the lease was lost: someone else has it now */
};

/* A job's run: the job, its arena, and why it failed (for the job document). */
struct job_run {
    struct worker *w;
    struct arena *a;
    struct job *job;
    char error[512];
};

/* Sets r->error from fmt and returns outcome. */
enum job_outcome job_run_fail(struct job_run *r, enum job_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Tells every cache of this host that the job's video changed (after each write to it):
 * the video and every cached list. */
void job_run_video_changed(struct job_run *r);
/* The same after a progress write: the video only (lists show progress as of their TTL). */
void job_run_progress_changed(struct job_run *r);
/* Extends r's lease, with progress $set (may be NULL). False when the lease is lost.
 * Empties w->tick first: what it held is gone. */
bool job_run_heartbeat(struct job_run *r, const bson_t *progress);
/* After DB_UNAVAILABLE: waits half a second for the database to come back (a restart, a
 * failover), at most 20 times per counter, so that an outage of a few seconds costs a job
 * no attempt. True: try the call again. False: give up (stopping, or waited enough). */
bool worker_db_wait(int *tries);
/* Every call at least a second after the last: job_run_heartbeat, else true. For callers
 * called far more often (curl's progress). */
bool job_run_heartbeat_due(struct job_run *r, int64_t *last_ms);

/* transcode.c */
enum job_outcome transcode_run(struct job_run *r);
/* Called when a process job is claimed past its attempts (its worker died each time). */
int transcode_give_up(struct job_run *r);

/* cleanup.c */
enum job_outcome cleanup_run(struct job_run *r);

/* drop.c */
enum job_outcome drop_run(struct job_run *r);

/* events.c */
/* Enqueues event type ("video.ready", ...) about the video whose owner-facing JSON is
 * video_json, once: the event's id is "<type>:<video id>". */
int events_emit(struct job_run *r, const char *type, const bson_oid_t *owner, const char *video_id,
                const char *video_json);
enum job_outcome events_run(struct job_run *r);

/* webhook.c */
enum job_outcome webhook_run(struct job_run *r);

/* sweep.c */
/* Housekeeping across every host: abandoned uploads, temp files and media folders without
 * a video, old jobs and deliveries. Runs when due (STREMORA_SWEEP_INTERVAL). */
void sweep_run(struct worker *w, struct arena *a);

#endif
