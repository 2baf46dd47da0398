/*
 * main.c - stremora-worker: start-up, the claim loop and shutdown (DESIGN.md section 1).
 * It claims one job at a time from the jobs collection (job.h), runs it by its kind, and
 * records the outcome: done, retried after a backoff, failed, or given back. Housekeeping
 * (sweep.c) runs between jobs when due. Several workers on one host or many share the
 * queue; the claim decides who runs what.
 * SIGTERM (or SIGINT, SIGHUP, SIGUSR1, or SIGQUIT, which multiwatch sends its children
 * when it is stopped) lets the current job end or gives it back, kills its ffmpeg, and
 * exits 0. Start-up exits with one line naming what is wrong;
 * once the loop runs, nothing exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "arena.h"
#include "bounds.h"
#include "clock.h"
#include "db.h"
#include "host.h"
#include "job.h"
#include "log.h"
#include "storage.h"
#include "worker.h"

#define WORKER_ARENA (64u << 20) /* bytes one job may allocate (events carry a video's JSON) */

volatile sig_atomic_t worker_stopping;

static void
on_stop(int sig)
{
    (void)sig;
    worker_stopping = 1;
}

/* Sleeps up to ms, less if a signal comes. */
static void
nap(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

bool
worker_db_wait(int *tries)
{
    if (worker_stopping || ++*tries > 20) {
        return false;
    }
    nap(500);
    return true;
}

enum job_outcome
job_run_fail(struct job_run *r, enum job_outcome outcome, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    return outcome;
}

void
job_run_video_changed(struct job_run *r)
{
    char hex[25];

    if (r->job->has_video) {
        bson_oid_to_string(&r->job->video_id, hex);
        host_touch(r->w->host, 'v', hex);
    }
}

void
job_run_progress_changed(struct job_run *r)
{
    char hex[25], key[HOST_KEY_MAX];

    if (r->job->has_video) {
        bson_oid_to_string(&r->job->video_id, hex);
        host_key(key, 'v', hex);
        host_gen_bump(r->w->host, key);
    }
}

bool
job_run_heartbeat(struct job_run *r, const bson_t *progress)
{
    struct worker *w = r->w;

    arena_reset(w->tick);
    return job_heartbeat(w->tick, w->db, r->job, w->who, (int64_t)w->cfg.job_lease * 1000,
                         progress) != DB_CONFLICT;
}

bool
job_run_heartbeat_due(struct job_run *r, int64_t *last_ms)
{
    int64_t now = clock_mono_ms();

    if (now - *last_ms < 1000) {
        return true;
    }
    *last_ms = now;
    return job_run_heartbeat(r, NULL);
}

/* Runs j by its kind. */
static enum job_outcome
dispatch(struct job_run *r)
{
    const char *kind = r->job->kind;

    if (strcmp(kind, JOB_PROCESS) == 0) {
        if (r->job->attempts > r->job->max_attempts) {
            if (transcode_give_up(r) == -1) { /* the video must not stay processing */
                return job_run_fail(r, JOB_OUTCOME_DEFER, "recording the failure failed");
            }
            return job_run_fail(r, JOB_OUTCOME_FAILED, "its worker stopped on every attempt");
        }
        return transcode_run(r);
    }
    if (r->job->attempts > r->job->max_attempts) {
        return job_run_fail(r, JOB_OUTCOME_FAILED, "its worker stopped on every attempt");
    }
    if (strcmp(kind, JOB_CLEANUP) == 0) {
        return cleanup_run(r);
    }
    if (strcmp(kind, JOB_DROP) == 0) {
        return drop_run(r);
    }
    if (strcmp(kind, JOB_EVENT) == 0) {
        return events_run(r);
    }
    if (strcmp(kind, JOB_WEBHOOK) == 0) {
        return webhook_run(r);
    }
    return job_run_fail(r, JOB_OUTCOME_FAILED, "unknown kind %s", kind);
}

/* Records the outcome of r in its job. */
static void
settle(struct job_run *r, enum job_outcome outcome)
{
    struct worker *w = r->w;
    struct job *j = r->job;
    enum db_status st = DB_OK;
    int tries = 0;

again:
    switch (outcome) {
    case JOB_OUTCOME_DONE:
        st = job_done(r->a, w->db, j, w->who);
        break;
    case JOB_OUTCOME_RETRY:
    case JOB_OUTCOME_FAILED:
        st = job_fail(r->a, w->db, j, w->who, r->error, outcome == JOB_OUTCOME_FAILED,
                      (int64_t)w->cfg.job_backoff_ms);
        break;
    case JOB_OUTCOME_RELEASE:
        st = job_release(r->a, w->db, j, w->who, 0);
        break;
    case JOB_OUTCOME_DEFER:
        log_ev(LOG_INFO, "job_deferred", "%s %s: %s", j->kind, j->id_hex, r->error);
        st = job_release(r->a, w->db, j, w->who, (int64_t)w->cfg.job_backoff_ms);
        break;
    case JOB_OUTCOME_LOST:
        log_ev(LOG_WARN, "job_lost", "%s %s: lease lost; another worker has it", j->kind,
               j->id_hex);
        return;
    }
    if (st == DB_UNAVAILABLE && worker_db_wait(&tries)) {
        goto again; /* an outcome not stored costs the job an attempt (retaken after its lease) */
    }
    if (st == DB_CONFLICT) {
        log_ev(LOG_WARN, "job_lost", "%s %s: lease lost before the outcome was stored", j->kind,
               j->id_hex);
    } else if (st != DB_OK) {
        log_ev(LOG_WARN, "job_unsettled", "%s %s: outcome not stored; retaken after its lease",
               j->kind, j->id_hex);
    }
}

/* One pass: housekeeping if due, then at most one job. Returns true if a job ran. */
static bool
step(struct worker *w, struct arena *a)
{
    struct job job;
    struct job_run r = {.w = w, .a = a, .job = &job};
    enum db_status st;

    if (clock_mono_ms() >= w->next_sweep_ms) {
        sweep_run(w, a);
        w->next_sweep_ms = clock_mono_ms() + (int64_t)w->cfg.sweep_interval * 1000;
        arena_reset(a);
    }
    if (worker_stopping) {
        return false; /* a stop during the sweep: take nothing new */
    }
    st = job_claim(a, w->db, w->who, (int64_t)w->cfg.job_lease * 1000, &job);
    if (st != DB_OK) {
        return false;
    }
    log_ev(LOG_INFO, "job_started", "%s %s attempt %d", job.kind, job.id_hex, (int)job.attempts);
    settle(&r, dispatch(&r));
    return true;
}

static void
die(const char *what)
{
    fprintf(stderr, "stremora-worker: %s\n", what);
    exit(1);
}

int
main(void)
{
    struct worker w;
    struct sigaction sa;
    struct arena *a;
    char err[512], host[64] = "localhost";

    memset(&w, 0, sizeof(w));
    if (cfg_load(&w.cfg, err, sizeof(err)) == -1) {
        die(err);
    }
    log_init("stremora-worker", w.cfg.log_level);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        die("cannot start libcurl");
    }
    if ((w.db = db_new(&w.cfg, err, sizeof(err))) == NULL ||
        (w.storage = storage_new(&w.cfg, err, sizeof(err))) == NULL) {
        die(err);
    }
    if ((a = arena_new(WORKER_ARENA)) == NULL || (w.tick = arena_new(1u << 20)) == NULL) {
        die("out of memory");
    }
    /* Without it the API's caches see our writes after their TTL instead of at once. */
    if ((w.host = host_open(w.cfg.shm_file, err, sizeof(err))) == NULL) {
        log_ev(LOG_WARN, "host_file_unavailable", "%s", err);
    }
    gethostname(host, sizeof(host) - 1);
    snprintf(w.who, sizeof(w.who), "%s:%ld", host, (long)getpid());
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop; /* no SA_RESTART: a wait ends at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL); /* what multiwatch sends its children when told to stop */
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    log_ev(LOG_INFO, "worker_started", "%s", w.who);
    while (!worker_stopping) {
        bool ran = step(&w, a);

        arena_reset(a);
        if (!ran && !worker_stopping) {
            nap((int64_t)w.cfg.job_poll_ms);
        }
    }
    log_ev(LOG_INFO, "worker_stopped", "%s", w.who);
    arena_free(a);
    arena_free(w.tick);
    host_close(w.host);
    storage_free(w.storage);
    db_free(w.db);
    curl_global_cleanup();
    mongoc_cleanup();
    return 0;
}
