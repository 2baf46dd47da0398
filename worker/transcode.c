/*
 * transcode.c - a processing job: an uploaded video becomes an HLS ladder with a thumbnail
 * (DESIGN.md section 7). Steps, each reported on the video as processing {stage, percent}:
 * probe (ffprobe: is it a video at all?), transcode (one ffmpeg, every rung: hls.h),
 * thumbnail, publish (the work folder's hls/ and thumb.jpg moved into the video's folder in
 * one step each), then the video is "ready" and video.ready is emitted. A file that is not
 * a playable video ends "failed" with a reason for its owner and video.failed.
 * The video may be deleted at any moment: every heartbeat looks, ffmpeg is stopped, the
 * work folder goes, and the job ends. Anything that may pass (a crash, a full disk, the
 * database away) is retried; past the last attempt the video fails.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "child.h"
#include "clock.h"
#include "db.h"
#include "db_videos.h"
#include "hls.h"
#include "json.h"
#include "log.h"
#include "probe.h"
#include "storage.h"
#include "video.h"
#include "worker.h"

#define FFMPEG            "/usr/bin/ffmpeg"
#define FFPROBE           "/usr/bin/ffprobe"
#define PROBE_TIMEOUT_MS  60000
#define PROBE_MEM         (1ull << 30)
#define FFMPEG_MEM        (4ull << 30) /* address space: x264 with five rungs uses ~600 MB */
#define THUMB_TIMEOUT_MS  120000
#define TICK_MS           1000 /* heartbeat, progress and cancellation check */
#define PROGRESS_EVERY_MS 2000 /* progress written to the video at most this often */

/* State of a running ffmpeg, for its callbacks. */
struct run_ctx {
    struct job_run *r;
    const char *stage;
    const char *work;
    double duration; /* seconds of the source: progress is out_time over it */
    int percent;
    int written; /* the percent last written to the video */
    int64_t written_ms;
    bool cancelled; /* the video is gone (or no longer processing) */
    bool lost;      /* the job's lease is gone */
};

/* ffmpeg's -progress lines: out_time_us=<microseconds done>. */
static int
on_progress(void *ctx, const char *line, size_t len)
{
    struct run_ctx *c = ctx;
    struct str l = {line, len};
    uint64_t us;

    if (str_has_prefix(l, "out_time_us=") &&
        str_to_u64((struct str){line + 12, len - 12}, 1, UINT64_MAX, &us) == 0 && c->duration > 0) {
        int p = (int)fmin(floor((double)us / 1e6 / c->duration * 100), 99);

        c->percent = p < 0 ? 0 : p > 99 ? 99 : p;
    }
    return 0;
}

/* Every TICK_MS: the lease, the video still there, the progress, a shutdown. Nonzero stops
 * ffmpeg. */
static int
on_tick(void *ctx)
{
    struct run_ctx *c = ctx;
    struct job_run *r = c->r;
    int64_t now = clock_mono_ms();
    enum db_status st;

    if (worker_stopping) {
        return 1;
    }
    if (!job_run_heartbeat(r, NULL)) {
        c->lost = true;
        return 1;
    }
    storage_work_touch(c->work);
    if (c->percent != c->written && now - c->written_ms >= PROGRESS_EVERY_MS) {
        st = db_videos_set_progress(r->w->tick, r->w->db, &r->job->video_id, c->stage, c->percent);
        if (st == DB_CONFLICT) {
            c->cancelled = true;
            return 1;
        }
        job_run_progress_changed(r);
        c->written = c->percent;
        c->written_ms = now;
    }
    return 0;
}

/* The last line of ffmpeg's standard error, for a failure reason. */
static const char *
last_line(char *tail)
{
    size_t n = strlen(tail);
    char *nl;

    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r')) {
        tail[--n] = '\0';
    }
    nl = strrchr(tail, '\n');
    return nl != NULL ? nl + 1 : tail;
}

/* Runs argv as stage (ffmpeg). Returns the outcome to go on with (DONE to go on). */
static enum job_outcome
run_stage(struct run_ctx *c, char **argv, int64_t timeout_ms, uint64_t cpu_secs)
{
    struct child_limits lim = {FFMPEG_MEM, cpu_secs, timeout_ms, TICK_MS};
    struct child_callbacks cb = {on_progress, on_tick, c};
    struct child_outcome out;

    if (argv == NULL) {
        return job_run_fail(c->r, JOB_OUTCOME_RETRY, "out of memory for the %s command", c->stage);
    }
    db_videos_set_progress(c->r->a, c->r->w->db, &c->r->job->video_id, c->stage, 0);
    job_run_video_changed(c->r);
    c->percent = c->written = 0;
    c->written_ms = clock_mono_ms();
    child_run(argv, &lim, &cb, &out);
    if (c->lost) {
        return JOB_OUTCOME_LOST;
    }
    if (c->cancelled) {
        return JOB_OUTCOME_DONE; /* the caller sees cancelled */
    }
    /* A shutdown may have signalled ffmpeg too (a service manager stops the whole group):
     * however it ended, the file is not to blame. */
    if (out.result == CHILD_STOPPED || worker_stopping) {
        return JOB_OUTCOME_RELEASE;
    }
    if (out.result == CHILD_EXITED && out.status == 0) {
        return JOB_OUTCOME_DONE;
    }
    if (out.result == CHILD_TIMEOUT) {
        return job_run_fail(c->r, JOB_OUTCOME_RETRY, "%s took longer than %lld s", c->stage,
                            (long long)(timeout_ms / 1000));
    }
    return job_run_fail(c->r, JOB_OUTCOME_RETRY, "%s failed (%s %d): %.300s", c->stage,
                        out.result == CHILD_SIGNAL ? "signal" : "exit", out.status,
                        last_line(out.err_tail));
}

/* Emits video.<outcome> (ready or failed) for v as it is now. 0, or -1 if it could not be
 * queued: the job is then retried, and its next attempt, finding the video finished,
 * emits it (events are keyed: never twice). */
static int
announce(struct job_run *r, const char *type, const struct video *v)
{
    return events_emit(r, type, &v->owner_id, v->id_hex, js_string(r->a, video_json(r->a, v)));
}

/* Marks the video failed for good and tells its owner's webhooks. 0, or -1 if that is not
 * done yet (the database): the caller retries. */
static int
fail_video(struct job_run *r, const char *reason)
{
    struct video v;
    enum db_status st = db_videos_set_failed(r->a, r->w->db, &r->job->video_id, reason);

    if (st == DB_CONFLICT) {
        return 0; /* deleted, or finished by another attempt */
    }
    job_run_video_changed(r);
    if (st != DB_OK || db_videos_get(r->a, r->w->db, &r->job->video_id, &v) != DB_OK) {
        return -1;
    }
    log_ev(LOG_INFO, "video_failed", "video %s: %s", v.id_hex, reason);
    return announce(r, "video.failed", &v);
}

int
transcode_give_up(struct job_run *r)
{
    return fail_video(r,
                      "Processing stopped on every attempt; the file may be too large or damaged");
}

/* Every TICK_MS while ffprobe runs: the lease and a shutdown. */
static int
on_probe_tick(void *ctx)
{
    struct job_run *r = ctx;

    return worker_stopping || !job_run_heartbeat(r, NULL);
}

/* The probe stage: fills p, or says why not. */
static enum job_outcome
probe_stage(struct job_run *r, const char *src, struct probe *p, bool *bad)
{
    struct probe_options opt = {FFPROBE, PROBE_MEM,     60, PROBE_TIMEOUT_MS,
                                TICK_MS, on_probe_tick, r};
    const char *why = NULL;

    *bad = false;
    db_videos_set_progress(r->a, r->w->db, &r->job->video_id, "probe", 0);
    job_run_video_changed(r);
    switch (probe_file(r->a, &opt, src, p, &why)) {
    case PROBE_STOPPED:
        return worker_stopping ? JOB_OUTCOME_RELEASE : JOB_OUTCOME_LOST;
    case PROBE_OK:
        return JOB_OUTCOME_DONE;
    case PROBE_BAD:
        *bad = true;
        if (fail_video(r, why) == -1) {
            return job_run_fail(r, JOB_OUTCOME_RETRY, "recording the failure failed");
        }
        return job_run_fail(r, JOB_OUTCOME_FAILED, "%s", why);
    default:
        if (worker_stopping) { /* ffprobe got the service's stop signal too */
            return JOB_OUTCOME_RELEASE;
        }
        return job_run_fail(r, JOB_OUTCOME_RETRY, "%s", why);
    }
}

/* Makes the ladder and the thumbnail in work; fills m. */
static enum job_outcome
make(struct run_ctx *c, const char *src, const struct probe *p, struct video_media *m)
{
    struct job_run *r = c->r;
    struct worker *w = r->w;
    struct hls_ladder l;
    char *hls = arena_sprintf(r->a, "%s/hls", c->work);
    char *thumb = arena_sprintf(r->a, "%s/thumb.jpg", c->work);
    uint64_t cpu = (uint64_t)(p->duration * 30) + 600; /* seconds of CPU: generous, bounded */
    enum job_outcome o;

    if (hls == NULL || thumb == NULL) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "out of memory");
    }
    hls_plan(p->width, p->height, p->fps, p->has_audio, &l);
    l.video_stream = p->video_stream;
    l.audio_stream = p->audio_stream;
    c->stage = "transcode";
    c->duration = p->duration;
    o = run_stage(c, hls_command(r->a, FFMPEG, &l, src, hls),
                  (int64_t)w->cfg.transcode_timeout * 1000, cpu);
    if (o != JOB_OUTCOME_DONE || c->cancelled) {
        return o;
    }
    if (hls_finish(&l, hls, m) == -1) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "ffmpeg made no playable segments");
    }
    c->stage = "thumbnail";
    o = run_stage(c, hls_thumbnail_command(r->a, FFMPEG, p->duration, p->video_stream, src, thumb),
                  THUMB_TIMEOUT_MS, 120);
    if (o != JOB_OUTCOME_DONE || c->cancelled) {
        return o;
    }
    m->duration = p->duration;
    m->width = p->width;
    m->height = p->height;
    m->has_thumbnail = true;
    return JOB_OUTCOME_DONE;
}

/* Moves the results into the video's folder and marks it ready. */
static enum job_outcome
publish(struct run_ctx *c, const struct video_media *m, struct video *v)
{
    struct job_run *r = c->r;
    struct storage *s = r->w->storage;
    enum storage_status ss;
    enum db_status st;
    int tries = 0;

    db_videos_set_progress(r->a, r->w->db, &v->id, "publish", 100);
    job_run_video_changed(r);
    if ((ss = storage_publish(s, v->id_hex, c->work, "hls")) == STORAGE_OK) {
        ss = storage_publish(s, v->id_hex, c->work, "thumb.jpg");
    }
    if (ss == STORAGE_NOT_FOUND) {
        c->cancelled = true;
        return JOB_OUTCOME_DONE;
    }
    if (ss != STORAGE_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "publishing the files failed%s",
                            ss == STORAGE_FULL ? ": the disk is full" : "");
    }
    while ((st = db_videos_set_ready(r->a, r->w->db, &v->id, m)) == DB_UNAVAILABLE &&
           worker_db_wait(&tries)) {
    }
    job_run_video_changed(r);
    if (st == DB_CONFLICT) {
        c->cancelled = true; /* deleted meanwhile: its cleanup job takes the files */
        return JOB_OUTCOME_DONE;
    }
    if (st != DB_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "marking the video ready failed");
    }
    return JOB_OUTCOME_DONE;
}

static enum job_outcome
process(struct job_run *r)
{
    struct worker *w = r->w;
    struct run_ctx c = {.r = r};
    char src[4096], work[4096];
    struct video_media m = {0};
    struct probe p;
    struct video v;
    enum job_outcome o;
    enum db_status st;
    int tries = 0;
    bool bad;

    work[0] = '\0';
    c.work = work;
    if (!r->job->has_video) {
        return job_run_fail(r, JOB_OUTCOME_FAILED, "malformed processing job");
    }
    while ((st = db_videos_get(r->a, w->db, &r->job->video_id, &v)) == DB_UNAVAILABLE &&
           worker_db_wait(&tries)) {
    }
    if (st != DB_OK && st != DB_NOT_FOUND) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "reading the video: database unavailable");
    }
    if (st == DB_OK && (strcmp(v.status, "ready") == 0 || strcmp(v.status, "failed") == 0)) {
        /* Finished by an attempt that could not announce it: announce it now. */
        return announce(r, strcmp(v.status, "ready") == 0 ? "video.ready" : "video.failed", &v) == 0
                   ? JOB_OUTCOME_DONE
                   : job_run_fail(r, JOB_OUTCOME_RETRY, "emitting the outcome failed");
    }
    if (st == DB_OK && strcmp(v.status, "uploading") == 0) {
        /* The job is queued just before the upload commits: look again after a backoff,
         * the attempt not counted (an upload that never commits is deleted, by its
         * request or by the sweep, and then this job ends). */
        return job_run_fail(r, JOB_OUTCOME_DEFER, "the upload has not committed yet");
    }
    if (st == DB_NOT_FOUND || strcmp(v.status, "processing") != 0) {
        return JOB_OUTCOME_DONE; /* deleted */
    }
    /* Said once per video, whichever attempt gets here first. */
    if (events_emit(r, "video.uploaded", &v.owner_id, v.id_hex,
                    js_string(r->a, video_json(r->a, &v))) == -1) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "emitting video.uploaded failed");
    }
    if (v.source == NULL ||
        storage_source_path(w->storage, v.id_hex, v.source, src, sizeof(src)) == -1) {
        return fail_video(r, "The uploaded file is missing") == 0
                   ? job_run_fail(r, JOB_OUTCOME_FAILED, "no source file")
                   : job_run_fail(r, JOB_OUTCOME_RETRY, "recording the failure failed");
    }
    if ((o = probe_stage(r, src, &p, &bad)) != JOB_OUTCOME_DONE) {
        return o;
    }
    if (storage_work_begin(w->storage, v.id_hex, work, sizeof(work)) != STORAGE_OK) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "no room for the work folder");
    }
    o = make(&c, src, &p, &m);
    if (o == JOB_OUTCOME_DONE && !c.cancelled) {
        o = publish(&c, &m, &v);
    }
    storage_work_end(work);
    if (c.cancelled) {
        log_ev(LOG_INFO, "processing_cancelled", "video %s: gone while processing", v.id_hex);
        return JOB_OUTCOME_DONE;
    }
    if (o != JOB_OUTCOME_DONE) {
        return o;
    }
    log_ev(LOG_INFO, "video_ready", "video %s: %zu renditions", v.id_hex, m.nrenditions);
    if (db_videos_get(r->a, w->db, &v.id, &v) != DB_OK || announce(r, "video.ready", &v) == -1) {
        return job_run_fail(r, JOB_OUTCOME_RETRY, "emitting video.ready failed");
    }
    return JOB_OUTCOME_DONE;
}

enum job_outcome
transcode_run(struct job_run *r)
{
    enum job_outcome o = process(r);

    /* The last attempt failed, whatever the step: the video fails for good (if that cannot
     * be recorded now, the job's give-up after its attempts does it). */
    if (o == JOB_OUTCOME_RETRY && r->job->attempts >= r->job->max_attempts) {
        /* Failing the video may not work now (the database): then the job comes back with
         * its last attempt again, so that the video never stays processing for ever. */
        return fail_video(r, "Processing failed; the file may be damaged") == 0
                   ? JOB_OUTCOME_FAILED
                   : job_run_fail(r, JOB_OUTCOME_DEFER, "recording the failure failed");
    }
    return o;
}
