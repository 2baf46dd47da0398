/*
 * job.c - the job queue (job.h). Indexes its queries use (sql-free-schemas/jobs.json):
 * {key:1} unique, {status:1, runAfter:1} (due queued jobs, oldest first), {status:1,
 * leaseExpires:1} (running jobs whose lease ran out), {status:1, finishedAt:1} (pruning);
 * job_claims is looked up by _id only. Every write that moves a claimed job names its
 * attempt and its lease owner in the filter: single-document atomicity is all it needs.
 */
#include "job.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "log.h"

#define JOB_CANDIDATES  8                 /* due jobs looked at per claim */
#define JOB_BACKOFF_MAX (3600LL * 1000)   /* ms: the longest wait between attempts */
#define JOB_CLAIM_KEY   (24 + 1 + 11 + 1) /* "<job id>:<attempt>" */

static const char *const statuses[] = {"queued", "running", "done", "failed"};

static void
from_bson(struct arena *a, const bson_t *doc, struct job *j)
{
    bson_iter_t it;
    bson_t *payload;

    memset(j, 0, sizeof(*j));
    db_get_oid(doc, "_id", &j->id);
    bson_oid_to_string(&j->id, j->id_hex);
    j->kind = db_get_str(a, doc, "kind");
    j->key = db_get_str(a, doc, "key");
    j->has_video = db_get_oid(doc, "videoId", &j->video_id) == 0;
    j->attempts = (int32_t)db_get_i64(doc, "attempts", 0);
    j->max_attempts = (int32_t)db_get_i64(doc, "maxAttempts", 1);
    j->deadline = db_get_i64(doc, "deadline", 0);
    j->created_at = db_get_i64(doc, "createdAt", 0);
    if (j->kind == NULL) {
        j->kind = "";
    }
    if (j->key == NULL) {
        j->key = "";
    }
    if ((payload = db_bson_new(a)) != NULL && bson_iter_init_find(&it, doc, "payload") &&
        BSON_ITER_HOLDS_DOCUMENT(&it)) {
        const uint8_t *data;
        uint32_t len;
        bson_t sub;

        bson_iter_document(&it, &len, &data);
        if (bson_init_static(&sub, data, len)) {
            bson_copy_to_excluding_noinit(&sub, payload, "", NULL);
        }
    }
    j->payload = payload;
}

enum db_status
job_enqueue(struct arena *a, struct db *db, const struct job_spec *spec)
{
    bson_t doc = BSON_INITIALIZER, empty = BSON_INITIALIZER;
    int64_t now = db_now_ms();
    bson_oid_t id;
    char hex[25];
    enum db_status st;

    bson_oid_init(&id, NULL);
    bson_oid_to_string(&id, hex);
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_UTF8(&doc, "kind", spec->kind);
    /* The key is always written (a unique index admits many documents without it). */
    BSON_APPEND_UTF8(&doc, "key", spec->key != NULL ? spec->key : hex);
    if (spec->video != NULL) {
        BSON_APPEND_OID(&doc, "videoId", spec->video);
    }
    BSON_APPEND_UTF8(&doc, "status", "queued");
    BSON_APPEND_INT32(&doc, "attempts", 0);
    BSON_APPEND_INT32(&doc, "maxAttempts", spec->max_attempts > 0 ? spec->max_attempts : 1);
    BSON_APPEND_DATE_TIME(&doc, "runAfter", spec->run_after > 0 ? spec->run_after : now);
    BSON_APPEND_DATE_TIME(&doc, "leaseExpires", 0);
    BSON_APPEND_UTF8(&doc, "leaseOwner", "");
    BSON_APPEND_DATE_TIME(&doc, "deadline", spec->deadline);
    BSON_APPEND_DOCUMENT(&doc, "payload", spec->payload != NULL ? spec->payload : &empty);
    BSON_APPEND_UTF8(&doc, "error", "");
    BSON_APPEND_DATE_TIME(&doc, "createdAt", now);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", now);
    BSON_APPEND_DATE_TIME(&doc, "finishedAt", 0);
    st = db_insert(a, db, "jobs", &doc);
    bson_destroy(&doc);
    return st;
}

enum db_status
job_enqueue_again(struct arena *a, struct db *db, const struct job_spec *spec)
{
    struct job_spec fresh = *spec;
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st = job_enqueue(a, db, spec);
    char *status;

    if (st != DB_DUPLICATE) {
        return st;
    }
    BSON_APPEND_UTF8(&f, "key", spec->key);
    st = db_find_one(a, db, "jobs", &f, &doc);
    bson_destroy(&f);
    if (st == DB_NOT_FOUND) { /* pruned between the two: queue it under its key */
        st = job_enqueue(a, db, spec);
        return st == DB_DUPLICATE ? DB_OK : st;
    }
    if (st != DB_OK) {
        return st;
    }
    status = db_get_str(a, doc, "status");
    if (status != NULL && (strcmp(status, "queued") == 0 || strcmp(status, "running") == 0)) {
        return DB_OK; /* it will run */
    }
    fresh.key = NULL; /* it ended before the work it stands for was there: a new one */
    return job_enqueue(a, db, &fresh);
}

/* Up to JOB_CANDIDATES jobs with status st and field (runAfter or leaseExpires) at most
 * until, oldest first, into out (room for JOB_CANDIDATES); *n gets how many. */
/* The candidates being gathered. */
struct gather {
    struct arena *a;
    struct job *out;
    size_t n;
};

static int
gather_one(void *ctx, const bson_t *doc)
{
    struct gather *g = ctx;

    from_bson(g->a, doc, &g->out[g->n++]);
    return g->n == JOB_CANDIDATES;
}

static enum db_status
candidates(struct arena *a, struct db *db, const char *st, const char *field, int64_t until,
           struct job *out, size_t *n)
{
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, cmp;
    struct gather g = {a, out, 0};
    enum db_status rc;

    BSON_APPEND_UTF8(&f, "status", st);
    BSON_APPEND_DOCUMENT_BEGIN(&f, field, &cmp);
    BSON_APPEND_DATE_TIME(&cmp, "$lte", until);
    bson_append_document_end(&f, &cmp);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "status", 1);
    BSON_APPEND_INT32(&sort, field, 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", JOB_CANDIDATES);
    rc = db_find_each(a, db, "jobs", &f, &opts, gather_one, &g);
    *n = g.n;
    bson_destroy(&f);
    bson_destroy(&opts);
    return rc;
}

static void
claim_key(const struct job *j, int32_t attempt, char out[JOB_CLAIM_KEY + 1])
{
    snprintf(out, JOB_CLAIM_KEY + 1, "%s:%d", j->id_hex, (int)attempt);
}

/* Removes a claim that was inserted but never followed by the job's update (its worker
 * died in between) once it is older than a lease; the delete names the claim's time, so
 * of several workers doing this at once only one succeeds. True when it is gone. */
static bool
clear_stale_claim(struct arena *a, struct db *db, const char *key, int64_t now, int64_t lease_ms)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    int64_t at, deleted = 0;

    BSON_APPEND_UTF8(&f, "_id", key);
    if (db_find_one(a, db, "job_claims", &f, &doc) != DB_OK ||
        (at = db_get_i64(doc, "at", now)) > now - lease_ms) {
        bson_destroy(&f);
        return false;
    }
    BSON_APPEND_DATE_TIME(&f, "at", at);
    db_write(a, db, "job_claims", DB_DELETE_ONE, &f, NULL, &deleted);
    bson_destroy(&f);
    return deleted == 1;
}

/* Tries to take candidate j, found with status and field <= until, as its next attempt.
 * DB_OK: taken; DB_CONFLICT: someone else did, or it changed since it was read (its holder
 * heartbeated, finished or gave it back): the update names all that it was read with. */
static enum db_status
take(struct arena *a, struct db *db, struct job *j, const char *status, const char *field,
     int64_t until, const char *who, int64_t lease_ms)
{
    bson_t claim = BSON_INITIALIZER, f = BSON_INITIALIZER, upd = BSON_INITIALIZER, set, cmp;
    char key[JOB_CLAIM_KEY + 1];
    int64_t now = db_now_ms(), matched = 0;
    enum db_status st;

    claim_key(j, j->attempts + 1, key);
    BSON_APPEND_UTF8(&claim, "_id", key);
    BSON_APPEND_OID(&claim, "jobId", &j->id);
    BSON_APPEND_UTF8(&claim, "worker", who);
    BSON_APPEND_DATE_TIME(&claim, "at", now);
    st = db_insert(a, db, "job_claims", &claim);
    if (st == DB_DUPLICATE && clear_stale_claim(a, db, key, now, lease_ms)) {
        st = db_insert(a, db, "job_claims", &claim);
    }
    bson_destroy(&claim);
    if (st != DB_OK) {
        return st == DB_DUPLICATE ? DB_CONFLICT : st;
    }
    BSON_APPEND_OID(&f, "_id", &j->id);
    BSON_APPEND_INT32(&f, "attempts", j->attempts);
    BSON_APPEND_UTF8(&f, "status", status);
    BSON_APPEND_DOCUMENT_BEGIN(&f, field, &cmp);
    BSON_APPEND_DATE_TIME(&cmp, "$lte", until);
    bson_append_document_end(&f, &cmp);
    BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &set);
    BSON_APPEND_UTF8(&set, "status", "running");
    BSON_APPEND_INT32(&set, "attempts", j->attempts + 1);
    BSON_APPEND_UTF8(&set, "leaseOwner", who);
    BSON_APPEND_DATE_TIME(&set, "leaseExpires", now + lease_ms);
    BSON_APPEND_DATE_TIME(&set, "updatedAt", now);
    bson_append_document_end(&upd, &set);
    st = db_write(a, db, "jobs", DB_UPDATE_ONE, &f, &upd, &matched);
    bson_destroy(&f);
    bson_destroy(&upd);
    if (st == DB_OK && matched == 0) {
        /* The job moved on: our claim goes, so that its next attempt is free to take. */
        bson_init(&f);
        BSON_APPEND_UTF8(&f, "_id", key);
        BSON_APPEND_UTF8(&f, "worker", who);
        db_write(a, db, "job_claims", DB_DELETE_ONE, &f, NULL, &matched);
        bson_destroy(&f);
        st = DB_CONFLICT;
    }
    if (st == DB_OK) {
        j->attempts++;
    }
    return st;
}

enum db_status
job_claim(struct arena *a, struct db *db, const char *who, int64_t lease_ms, struct job *out)
{
    static const struct {
        const char *status, *field;
    } pools[] = {{"queued", "runAfter"}, {"running", "leaseExpires"}};
    struct job *cands;
    size_t p, i, n;
    int64_t now = db_now_ms();
    enum db_status st;

    if ((cands = arena_calloc(a, JOB_CANDIDATES, sizeof(*cands))) == NULL) {
        return DB_ERROR;
    }
    for (p = 0; p < sizeof(pools) / sizeof(pools[0]); p++) {
        if ((st = candidates(a, db, pools[p].status, pools[p].field, now, cands, &n)) != DB_OK) {
            return st;
        }
        for (i = 0; i < n; i++) {
            if ((st = take(a, db, &cands[i], pools[p].status, pools[p].field, now, who,
                           lease_ms)) == DB_OK) {
                *out = cands[i];
                return DB_OK;
            }
            if (st != DB_CONFLICT) {
                return st;
            }
        }
    }
    return DB_NOT_FOUND;
}

/* {_id, attempts, leaseOwner}: the filter of every write by the job's current holder. */
static void
mine(bson_t *f, const struct job *j, const char *who)
{
    BSON_APPEND_OID(f, "_id", &j->id);
    BSON_APPEND_INT32(f, "attempts", j->attempts);
    BSON_APPEND_UTF8(f, "leaseOwner", who);
    BSON_APPEND_UTF8(f, "status", "running");
}

/* $set of set (and extra, may be NULL) on the job if it is still ours. */
static enum db_status
update_mine(struct arena *a, struct db *db, const struct job *j, const char *who, bson_t *set,
            const bson_t *extra)
{
    bson_t f = BSON_INITIALIZER, upd = BSON_INITIALIZER;
    int64_t matched = 0;
    enum db_status st;

    mine(&f, j, who);
    BSON_APPEND_DATE_TIME(set, "updatedAt", db_now_ms());
    if (extra != NULL) {
        bson_concat(set, extra);
    }
    BSON_APPEND_DOCUMENT(&upd, "$set", set);
    st = db_write(a, db, "jobs", DB_UPDATE_ONE, &f, &upd, &matched);
    bson_destroy(&f);
    bson_destroy(&upd);
    return st == DB_OK && matched == 0 ? DB_CONFLICT : st;
}

enum db_status
job_heartbeat(struct arena *a, struct db *db, const struct job *j, const char *who,
              int64_t lease_ms, const bson_t *progress)
{
    bson_t set = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_DATE_TIME(&set, "leaseExpires", db_now_ms() + lease_ms);
    st = update_mine(a, db, j, who, &set, progress);
    bson_destroy(&set);
    return st;
}

/* Sets a finished status (done or failed) with error text. */
static enum db_status
finish(struct arena *a, struct db *db, const struct job *j, const char *who, const char *status,
       const char *error)
{
    bson_t set = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_UTF8(&set, "status", status);
    BSON_APPEND_UTF8(&set, "error", error != NULL ? error : "");
    BSON_APPEND_DATE_TIME(&set, "finishedAt", db_now_ms());
    BSON_APPEND_DATE_TIME(&set, "leaseExpires", 0);
    st = update_mine(a, db, j, who, &set, NULL);
    bson_destroy(&set);
    return st;
}

enum db_status
job_done(struct arena *a, struct db *db, const struct job *j, const char *who)
{
    return finish(a, db, j, who, "done", NULL);
}

enum db_status
job_fail(struct arena *a, struct db *db, const struct job *j, const char *who, const char *error,
         bool final, int64_t backoff_ms)
{
    int64_t now = db_now_ms(), wait = backoff_ms;
    bson_t set = BSON_INITIALIZER;
    enum db_status st;
    int32_t i;

    if (final || j->attempts >= j->max_attempts || (j->deadline > 0 && now >= j->deadline)) {
        log_ev(LOG_WARN, "job_failed", "%s %s: %s", j->kind, j->id_hex, error);
        return finish(a, db, j, who, "failed", error);
    }
    for (i = 1; i < j->attempts && wait < JOB_BACKOFF_MAX; i++) {
        wait *= 2;
    }
    wait = wait < JOB_BACKOFF_MAX ? wait : JOB_BACKOFF_MAX;
    log_ev(LOG_INFO, "job_retry", "%s %s: attempt %d failed (%s); next in %lld ms", j->kind,
           j->id_hex, (int)j->attempts, error, (long long)wait);
    BSON_APPEND_UTF8(&set, "status", "queued");
    BSON_APPEND_UTF8(&set, "error", error);
    BSON_APPEND_DATE_TIME(&set, "runAfter", now + wait);
    BSON_APPEND_DATE_TIME(&set, "leaseExpires", 0);
    st = update_mine(a, db, j, who, &set, NULL);
    bson_destroy(&set);
    return st;
}

enum db_status
job_release(struct arena *a, struct db *db, const struct job *j, const char *who, int64_t delay_ms)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER, upd = BSON_INITIALIZER;
    char key[JOB_CLAIM_KEY + 1];
    int64_t n = 0;
    enum db_status st;

    /* The claim first: once the job says attempt n-1 again, the next claimer needs the
     * key "<id>:<n>" free. If this fails, the job is simply retaken after its lease. */
    claim_key(j, j->attempts, key);
    BSON_APPEND_UTF8(&f, "_id", key);
    BSON_APPEND_UTF8(&f, "worker", who);
    if ((st = db_write(a, db, "job_claims", DB_DELETE_ONE, &f, NULL, &n)) != DB_OK || n == 0) {
        bson_destroy(&f);
        return st == DB_OK ? DB_CONFLICT : st;
    }
    bson_reinit(&f);
    mine(&f, j, who);
    BSON_APPEND_UTF8(&set, "status", "queued");
    BSON_APPEND_INT32(&set, "attempts", j->attempts - 1);
    BSON_APPEND_DATE_TIME(&set, "runAfter", db_now_ms() + delay_ms);
    BSON_APPEND_DATE_TIME(&set, "leaseExpires", 0);
    BSON_APPEND_UTF8(&set, "leaseOwner", "");
    BSON_APPEND_DOCUMENT(&upd, "$set", &set);
    st = db_write(a, db, "jobs", DB_UPDATE_ONE, &f, &upd, &n);
    bson_destroy(&f);
    bson_destroy(&set);
    bson_destroy(&upd);
    return st == DB_OK && n == 0 ? DB_CONFLICT : st;
}

enum db_status
job_count(struct arena *a, struct db *db, int64_t out[4])
{
    enum db_status st = DB_OK;
    mongoc_collection_t *c = db_coll(a, db, "jobs", &st);
    bson_t f;
    bson_error_t e;
    size_t i;

    memset(out, 0, 4 * sizeof(out[0]));
    for (i = 0; c != NULL && i < 4 && st == DB_OK; i++) {
        bson_init(&f);
        BSON_APPEND_UTF8(&f, "status", statuses[i]);
        out[i] = mongoc_collection_count_documents(c, &f, NULL, NULL, NULL, &e);
        if (out[i] < 0) {
            st = db_status_of(&e, "jobs.count");
            out[i] = 0;
        }
        bson_destroy(&f);
    }
    return st;
}

enum db_status
job_prune(struct arena *a, struct db *db, int64_t before_ms, int64_t *n)
{
    bson_t f = BSON_INITIALIZER, in, arr, cmp;
    int64_t gone = 0;
    enum db_status st;

    *n = 0;
    BSON_APPEND_DOCUMENT_BEGIN(&f, "status", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    BSON_APPEND_UTF8(&arr, "0", "done");
    BSON_APPEND_UTF8(&arr, "1", "failed");
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&f, &in);
    BSON_APPEND_DOCUMENT_BEGIN(&f, "finishedAt", &cmp);
    BSON_APPEND_DATE_TIME(&cmp, "$lt", before_ms);
    bson_append_document_end(&f, &cmp);
    st = db_write(a, db, "jobs", DB_DELETE_MANY, &f, NULL, &gone);
    bson_destroy(&f);
    if (st != DB_OK) {
        return st;
    }
    *n = gone;
    /* Claims are only ever read by key while their job runs: old ones are dead weight. */
    bson_init(&f);
    BSON_APPEND_DOCUMENT_BEGIN(&f, "at", &cmp);
    BSON_APPEND_DATE_TIME(&cmp, "$lt", before_ms);
    bson_append_document_end(&f, &cmp);
    st = db_write(a, db, "job_claims", DB_DELETE_MANY, &f, NULL, &gone);
    bson_destroy(&f);
    return st;
}
