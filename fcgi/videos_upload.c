/*
 * videos_upload.c - uploads (DESIGN.md sections 5 and 7).
 *   POST /upload-check/videos  internal: nginx's auth_request before it takes the body of
 *        POST /api/v1/videos: token, Content-Type and Content-Length, from the headers
 *        alone (204, or a refusal nginx turns into the problem)
 *   POST /api/v1/videos  multipart/form-data: file part "video"; fields title (1-200),
 *        description (<= 5000), tags (repeated or comma-separated), visibility -> 201 video
 * A worker never waits for a client: nginx takes the whole body (to a temp file) before
 * the pool sees the request, so however slowly people upload, a worker reads at disk
 * speed; the check above refuses what it can before anyone sends a byte. Then mp_ parses
 * the body in fixed memory, the file's first bytes must be a container we accept before
 * anything is written, and the bytes go to a temp file while being hashed. Order, so that a failure
 * at any point leaves no video behind: insert the document as "uploading" (never listed or served),
 * write the temp file, fsync, rename into place, then mark the video "processing". A failure undoes
 * what was done; a killed worker's leftovers are swept at the next start (videos_sweep).
 */
#include "handlers.h"

#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "bearer.h"
#include "bounds.h"
#include "clock.h"
#include "container.h"
#include "crypto.h"
#include "db.h"
#include "db_videos.h"
#include "host.h"
#include "job.h"
#include "json.h"
#include "log.h"
#include "multipart.h"
#include "storage.h"
#include "video.h"
#include "videos.h"

#define UPLOAD_READ         (256u * 1024) /* bytes read from nginx at a time */
#define UPLOAD_SLOT_WAIT_MS 20000         /* longest wait for a free upload slot */
#define UPLOAD_SLOT_POLL_MS 20            /* how often a waiting upload looks again */
#define UPLOAD_REFRESH_MS   60000         /* how often a long upload refreshes its document */

enum part { PART_NONE, PART_FILE, PART_TITLE, PART_DESCRIPTION, PART_TAGS, PART_VISIBILITY };

struct field {
    char *buf;
    size_t len, cap;
    bool seen;
};

struct upload {
    struct request *r;
    enum part part;
    struct field title, description, tags, visibility;
    bool file_seen, file_open, file_done, doc_inserted;
    int64_t refreshed_ms; /* monotonic: when the document was last refreshed */
    unsigned char sniff[CONTAINER_SNIFF_BYTES];
    size_t nsniff;
    enum container kind;
    struct crypto_sha256 *hash;
    struct storage_upload su;
    struct video v;
    uint64_t max;
    /* Why a callback stopped the parser. */
    enum prob fail;
    struct js_error err;
};

static int
field_init(struct arena *a, struct field *f, size_t cap)
{
    f->cap = cap;
    return (f->buf = arena_alloc(a, cap + 1)) == NULL ? -1 : 0;
}

static int
stop(struct upload *u, enum prob p, const char *field, const char *code)
{
    u->fail = p;
    u->err = (struct js_error){field, code};
    return -1;
}

/* True (with u->fail set) when a storage call failed: 507 for a full disk, else 500. */
static bool
storage_failed(struct upload *u, enum storage_status st)
{
    if (st == STORAGE_OK) {
        return false;
    }
    stop(u, st == STORAGE_FULL ? PROB_STORAGE_FULL : PROB_INTERNAL, NULL, NULL);
    return true;
}

/* The file's first bytes settle its container; only then is anything stored. */
static int
file_open(struct upload *u)
{
    struct app *app = u->r->app;
    enum db_status st;

    if (u->nsniff == 0) {
        return stop(u, PROB_VALIDATION_FAILED, "video", "required");
    }
    if ((u->kind = container_sniff(u->sniff, u->nsniff)) == CONTAINER_UNKNOWN) {
        return stop(u, PROB_UNSUPPORTED_MEDIA_TYPE, NULL, NULL);
    }
    if ((st = db_videos_insert(u->r->arena, app->db, &u->v)) != DB_OK) {
        return stop(u, db_prob(st), NULL, NULL);
    }
    u->doc_inserted = true;
    u->refreshed_ms = clock_mono_ms();
    if (storage_failed(u, storage_upload_begin(app->storage, u->v.id_hex, &u->su))) {
        return -1;
    }
    u->file_open = true;
    if ((u->hash = crypto_sha256_begin(u->r->arena)) == NULL) {
        return stop(u, PROB_INTERNAL, NULL, NULL);
    }
    return 0;
}

static int
file_write(struct upload *u, const void *p, size_t n)
{
    if (u->su.size + n > u->max) {
        return stop(u, PROB_UPLOAD_TOO_LARGE, NULL, NULL);
    }
    crypto_sha256_add(u->hash, p, n);
    return storage_failed(u, storage_upload_write(&u->su, p, n)) ? -1 : 0;
}

static int
on_part_begin(void *ctx, const struct mp_part_info *info)
{
    struct upload *u = ctx;
    static const struct {
        const char *name;
        enum part part;
    } names[] = {
        {"video", PART_FILE}, {"title", PART_TITLE},           {"description", PART_DESCRIPTION},
        {"tags", PART_TAGS},  {"visibility", PART_VISIBILITY},
    };
    size_t i;

    u->part = PART_NONE;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (str_eq_cstr(info->name, names[i].name)) {
            u->part = names[i].part;
        }
    }
    switch (u->part) {
    case PART_NONE:
        return stop(u, PROB_VALIDATION_FAILED, str_cstr(u->r->arena, info->name), "unknown_field");
    case PART_FILE:
        if (u->file_seen) {
            return stop(u, PROB_VALIDATION_FAILED, "video", "duplicate");
        }
        u->file_seen = true;
        return 0;
    case PART_TAGS: /* repeatable: values join with commas */
        if (u->tags.len > 0 && u->tags.len < u->tags.cap) {
            u->tags.buf[u->tags.len++] = ',';
        }
        return 0;
    default:
        return 0;
    }
}

static struct field *
field_of(struct upload *u, const char **name)
{
    switch (u->part) {
    case PART_TITLE:
        *name = "title";
        return &u->title;
    case PART_DESCRIPTION:
        *name = "description";
        return &u->description;
    case PART_TAGS:
        *name = "tags";
        return &u->tags;
    case PART_VISIBILITY:
        *name = "visibility";
        return &u->visibility;
    default:
        return NULL;
    }
}

static int
on_part_data(void *ctx, const char *p, size_t n)
{
    struct upload *u = ctx;
    const char *name;
    struct field *f;
    size_t k;

    if (u->part == PART_FILE) {
        if (u->file_open) {
            return file_write(u, p, n);
        }
        k = n < sizeof(u->sniff) - u->nsniff ? n : sizeof(u->sniff) - u->nsniff;
        memcpy(u->sniff + u->nsniff, p, k);
        u->nsniff += k;
        if (u->nsniff < sizeof(u->sniff)) {
            return 0;
        }
        if (file_open(u) == -1 || file_write(u, u->sniff, u->nsniff) == -1) {
            return -1;
        }
        return n > k ? file_write(u, p + k, n - k) : 0;
    }
    if ((f = field_of(u, &name)) == NULL) {
        return 0;
    }
    if (f->seen && u->part != PART_TAGS) {
        return stop(u, PROB_VALIDATION_FAILED, name, "duplicate");
    }
    if (n > f->cap - f->len) {
        return stop(u, PROB_VALIDATION_FAILED, name, "too_long");
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

static int
on_part_end(void *ctx)
{
    struct upload *u = ctx;
    const char *name;
    struct field *f;

    if (u->part == PART_FILE) {
        if (!u->file_open && (file_open(u) == -1 || file_write(u, u->sniff, u->nsniff) == -1)) {
            return -1;
        }
        u->file_done = true;
        return 0;
    }
    if ((f = field_of(u, &name)) != NULL && u->part != PART_TAGS) {
        f->seen = true;
    }
    u->part = PART_NONE;
    return 0;
}

/* Keeps a long upload's document fresh (every UPLOAD_REFRESH_MS, or a third of
 * STREMORA_UPLOAD_STALE if that is shorter), so that the sweep of abandoned uploads, on any
 * host, never takes a live one. */
static void
upload_refresh(struct upload *u)
{
    int64_t now = clock_mono_ms(), every = (int64_t)u->r->app->cfg.upload_stale * 1000 / 3;

    every = every < UPLOAD_REFRESH_MS ? every : UPLOAD_REFRESH_MS;
    if (!u->doc_inserted || now - u->refreshed_ms < every) {
        return;
    }
    u->refreshed_ms = now;
    if (db_videos_touch(u->r->arena, u->r->app->db, &u->v.id) != DB_OK) {
        log_ev(LOG_WARN, "upload_not_refreshed", "video %s", u->v.id_hex);
    }
}

/* Validates the text fields into u->v. Returns 0, or -1 with u->fail set. */
static int
fields_check(struct upload *u)
{
    struct str t = {u->title.buf, u->title.len}, d = {u->description.buf, u->description.len};
    struct str vis = {u->visibility.buf, u->visibility.len};
    struct arena *a = u->r->arena;
    const char *err;

    if (!u->file_done) {
        return stop(u, PROB_VALIDATION_FAILED, "video", "required");
    }
    if (!u->title.seen) {
        return stop(u, PROB_VALIDATION_FAILED, "title", "required");
    }
    if ((err = video_title_check(t)) != NULL) {
        return stop(u, PROB_VALIDATION_FAILED, "title",
                    strcmp(err, "too_short") == 0 ? "required" : err);
    }
    if ((err = video_description_check(d)) != NULL) {
        return stop(u, PROB_VALIDATION_FAILED, "description", err);
    }
    if (u->visibility.seen && !video_visibility_valid(vis)) {
        return stop(u, PROB_VALIDATION_FAILED, "visibility", "invalid_format");
    }
    if ((err = video_tags_add(a, &u->v, (struct str){u->tags.buf, u->tags.len})) != NULL) {
        return stop(u, PROB_VALIDATION_FAILED, "tags", err);
    }
    u->v.title = str_cstr(a, t);
    u->v.description = str_cstr(a, d);
    u->v.visibility = u->visibility.seen ? str_cstr(a, vis) : "public";
    return u->v.title == NULL || u->v.description == NULL || u->v.visibility == NULL
               ? stop(u, PROB_INTERNAL, NULL, NULL)
               : 0;
}

/* Stores the file under its name, queues its processing, then makes it "processing". */
static int
commit(struct upload *u)
{
    unsigned char digest[CRYPTO_SHA256_LEN];
    struct video *v = &u->v;
    struct job_spec spec = {
        JOB_PROCESS, &v->id, NULL, NULL, 0, (int32_t)u->r->app->cfg.job_attempts, 0};
    enum db_status st;
    char *hex;

    if ((hex = arena_alloc(u->r->arena, 2 * CRYPTO_SHA256_LEN + 1)) == NULL ||
        (v->source = arena_sprintf(u->r->arena, "source.%s", container_ext(u->kind))) == NULL) {
        return stop(u, PROB_INTERNAL, NULL, NULL);
    }
    if (crypto_sha256_end(u->hash, digest) == -1) { /* never store an unset digest */
        return stop(u, PROB_INTERNAL, NULL, NULL);
    }
    crypto_hex(digest, sizeof(digest), hex);
    v->sha256 = hex;
    v->size = (int64_t)u->su.size;
    v->mime = (char *)container_mime(u->kind);
    v->status = "processing";
    v->media.processing = true; /* as db_videos_finish_upload writes it */
    v->media.stage = "queued";
    v->media.percent = 0;
    v->updated_at = db_now_ms();
    if (storage_failed(u, storage_upload_commit(&u->su, v->source))) {
        return -1;
    }
    /* The job first: a video never sits "processing" with nobody to process it. A job
     * whose video then failed to commit finds no processing video and ends. */
    if ((st = job_enqueue(u->r->arena, u->r->app->db, &spec)) != DB_OK ||
        (st = db_videos_finish_upload(u->r->arena, u->r->app->db, v)) != DB_OK) {
        storage_delete_video(u->r->app->storage, v->id_hex);
        return stop(u, db_prob(st), NULL, NULL);
    }
    cache_invalidate(u->r, 'v', v->id_hex); /* a GET meanwhile cached it as missing */
    return 0;
}

/* Undoes what a failed upload did: the temp file, the document. */
static void
undo(struct upload *u)
{
    storage_upload_abort(&u->su);
    if (u->doc_inserted &&
        db_videos_delete(u->r->arena, u->r->app->db, &u->v.id) == DB_UNAVAILABLE) {
        log_ev(LOG_WARN, "upload_left", "video %s stays uploading until the sweep", u->v.id_hex);
    }
}

static int
answer_failure(struct upload *u)
{
    undo(u);
    if (u->fail == PROB_VALIDATION_FAILED) {
        return respond_problem_errors(u->r, u->fail, &u->err, 1);
    }
    if (u->fail == PROB_UNSUPPORTED_MEDIA_TYPE) {
        return respond_problem(u->r, u->fail,
                               "The file is not a video container we accept (MP4, MOV, "
                               "Matroska/WebM, AVI, MPEG-TS, FLV, Ogg)");
    }
    return respond_problem(u->r, u->fail, NULL);
}

static int
upload_init(struct request *r, struct upload *u)
{
    struct arena *a = r->arena;

    memset(u, 0, sizeof(*u));
    u->r = r;
    u->su.fd = -1;
    u->max = r->app->cfg.max_upload;
    bson_oid_init(&u->v.id, NULL);
    bson_oid_to_string(&u->v.id, u->v.id_hex);
    if (db_oid_parse(str_from(r->user.id), &u->v.owner_id) == -1) {
        return -1;
    }
    snprintf(u->v.owner_hex, sizeof(u->v.owner_hex), "%s", r->user.id);
    u->v.created_at = db_now_ms();
    u->v.comments_enabled = true; /* as db_videos_insert writes it */
    return field_init(a, &u->title, MAX_TITLE * MAX_FIELD_BYTES) |
           field_init(a, &u->description, MAX_DESCRIPTION * MAX_FIELD_BYTES) |
           field_init(a, &u->tags, MAX_TAGS_FIELD) | field_init(a, &u->visibility, 16);
}

struct upload_slot {
    struct host *host;
    int slot;
};

static void
upload_slot_free(void *p)
{
    struct upload_slot *s = p;

    host_upload_release(s->host, s->slot);
}

/* Claims one of the host's STREMORA_MAX_UPLOADS upload slots until the request ends, so
 * that uploads (a worker each, for as long as reading the body takes) leave workers for
 * the API. The body is already whole in nginx's temp file, so refusing it now would throw
 * away the client's whole transfer: when every slot is taken (uploads that finished at the
 * same moment), wait for one, for at most UPLOAD_SLOT_WAIT_MS. Returns false when none
 * came free. */
static bool
upload_slot_claim(struct request *r)
{
    struct upload_slot *s = arena_alloc(r->arena, sizeof(*s));
    struct timespec nap = {0, UPLOAD_SLOT_POLL_MS * 1000000L};
    int64_t waited = 0;

    if (s == NULL) {
        return true; /* degrade: uncounted */
    }
    s->host = r->app->host;
    while ((s->slot = host_upload_claim(s->host, (unsigned)r->app->cfg.max_uploads)) == -1) {
        if (waited >= UPLOAD_SLOT_WAIT_MS ||
            waited >= (int64_t)r->app->cfg.request_timeout * 1000 / 2) {
            return false;
        }
        nanosleep(&nap, NULL);
        waited += UPLOAD_SLOT_POLL_MS;
    }
    if (arena_defer(r->arena, upload_slot_free, s) == -1) {
        host_upload_release(s->host, s->slot);
    }
    return true;
}

/* POST /upload-check/videos: nginx's auth_request for an upload, before the body (internal).
 * UPLOAD_LENGTH is the upload's Content-Length (empty when it is sent chunked). */
int
h_videos_precheck(struct request *r)
{
    char boundary[MAX_MP_BOUNDARY + 1];
    struct str cl = req_env(r, "UPLOAD_LENGTH");
    struct principal who;
    enum prob why;
    uint64_t len = 0;
    size_t blen;

    if (bearer_get(r, &who, &why) != BEARER_OK) {
        return respond_refusal(r, why, NULL);
    }
    if (mp_boundary_parse(req_env(r, "CONTENT_TYPE"), boundary, sizeof(boundary), &blen) == -1) {
        return respond_refusal(r, PROB_UNSUPPORTED_MEDIA_TYPE, "Send multipart/form-data");
    }
    if (cl.len > 0 && (str_to_u64(cl, 0, UINT64_MAX, &len) == -1 ||
                       len > r->app->cfg.max_upload + MAX_UPLOAD_OVERHEAD)) {
        return respond_refusal(r, PROB_UPLOAD_TOO_LARGE, NULL);
    }
    return respond_empty(r, 204);
}

/* POST /api/v1/videos */
int
h_videos_create(struct request *r)
{
    static const struct mp_limits lim = {MAX_MP_PARTS, MAX_MP_HEADER, MAX_MP_HEADERS,
                                         MAX_MP_PREAMBLE, MAX_MP_EPILOGUE};
    struct mp_callbacks cb = {on_part_begin, on_part_data, on_part_end, NULL};
    struct str cl = req_env(r, "CONTENT_LENGTH");
    char boundary[MAX_MP_BOUNDARY + 1], *buf;
    uint64_t len = 0, total = 0, max_body;
    enum mp_status st = MP_AGAIN;
    struct mp_parser *mp;
    struct upload *u;
    size_t blen;

    if (mp_boundary_parse(req_env(r, "CONTENT_TYPE"), boundary, sizeof(boundary), &blen) == -1) {
        return respond_problem(r, PROB_UNSUPPORTED_MEDIA_TYPE, "Send multipart/form-data");
    }
    max_body = r->app->cfg.max_upload + MAX_UPLOAD_OVERHEAD;
    if (cl.len > 0 && (str_to_u64(cl, 0, UINT64_MAX, &len) == -1 || len > max_body)) {
        return respond_problem(r, PROB_UPLOAD_TOO_LARGE, NULL);
    }
    if (!upload_slot_claim(r)) {
        return respond_problem(r, PROB_TOO_MANY_UPLOADS, "Try again in a moment");
    }
    if ((u = arena_alloc(r->arena, sizeof(*u))) == NULL ||
        (mp = arena_alloc(r->arena, sizeof(*mp))) == NULL ||
        (buf = arena_alloc(r->arena, UPLOAD_READ)) == NULL || upload_init(r, u) == -1) {
        return -1;
    }
    cb.ctx = u;
    if (mp_init(mp, (struct str){boundary, blen}, &cb, &lim) == -1) {
        return respond_problem(r, PROB_UNSUPPORTED_MEDIA_TYPE, "Bad multipart boundary");
    }
    while (st == MP_AGAIN) {
        ssize_t k = req_read(r, buf, UPLOAD_READ);

        if (k <= 0) { /* the body ended (or the client went away) before the last boundary */
            if ((st = mp_finish(mp)) != MP_OK) {
                stop(u, PROB_UPLOAD_INCOMPLETE, NULL, NULL);
                return answer_failure(u);
            }
            break;
        }
        if ((total += (uint64_t)k) > max_body) {
            stop(u, PROB_UPLOAD_TOO_LARGE, NULL, NULL);
            return answer_failure(u);
        }
        upload_refresh(u);
        st = mp_feed(mp, buf, (size_t)k);
    }
    if (st == MP_EABORTED) {
        return answer_failure(u);
    }
    if (st != MP_OK) {
        stop(u, PROB_INVALID_MULTIPART, NULL, NULL);
        return answer_failure(u);
    }
    if (fields_check(u) == -1 || commit(u) == -1) {
        return answer_failure(u);
    }
    log_ev(LOG_INFO, "video_uploaded", "video %s: %lld bytes", u->v.id_hex, (long long)u->v.size);
    respond_header(r, "Location: /api/v1/videos/%s", u->v.id_hex);
    return respond_video(r, 201, &u->v); /* as GET shows it: owner card, myRating */
}
