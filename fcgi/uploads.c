/*
 * uploads.c - resumable uploads, tus 1.0 (https://tus.io/protocols/resumable-upload) with
 * the creation, creation-with-upload, termination, expiration and checksum extensions
 * (DESIGN.md section 7).
 *   OPTIONS /api/v1/uploads       what we speak: versions, extensions, sizes, checksums
 *   POST    /api/v1/uploads       Upload-Length, Upload-Metadata [+ first bytes] -> 201
 *   HEAD    /api/v1/uploads/{id}  Upload-Offset, Upload-Length (no-store)
 *   PATCH   /api/v1/uploads/{id}  application/offset+octet-stream at Upload-Offset -> 204
 *   DELETE  /api/v1/uploads/{id}  -> 204
 * nginx takes each request's body in full (at most MAX_TUS_CHUNK) before the pool sees
 * it, so a worker reads a chunk at disk speed however slow the client is; that is why
 * tus uploads take no upload slot. An upload is its creator's (others get 404), its state is
 * a document (db_uploads.h) so any worker on any host takes its next PATCH, and its bytes
 * are a part file written under a lock (storage_part_*): a second PATCH on the same upload
 * meanwhile gets 423, and a killed writer's lock goes with it. The document's offset moves
 * only after the bytes are durable, and only from the offset the writer read under the
 * lock, so HEAD never reports a byte that is not stored; bytes a killed writer left beyond
 * it are cut away by the next PATCH. The first bytes must show a container we accept.
 * The last PATCH makes the video, with the upload's id, exactly as POST /api/v1/videos
 * does (finish()); the steps are idempotent and whoever sees the upload "finishing" next
 * (a PATCH or HEAD after a crash) completes them.
 */
#include "handlers.h"

#include <string.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "container.h"
#include "crypto.h"
#include "db.h"
#include "db_uploads.h"
#include "db_videos.h"
#include "job.h"
#include "json.h"
#include "log.h"
#include "storage.h"
#include "tus.h"
#include "watchdog.h"

#define TUS_READ (256u * 1024) /* bytes read from nginx, or from a part, at a time */
#define OCTETS   "application/offset+octet-stream"

/* A problem with the headers the protocol pairs with it. (Tus-Resumable, which every
 * answer of this resource carries, comes from dispatch in main.c.) */
static int
tus_problem(struct request *r, enum prob p, const char *detail)
{
    if (p == PROB_UNSUPPORTED_TUS_VERSION) {
        respond_header(r, "Tus-Version: " TUS_VERSION);
    }
    if (p == PROB_UPLOAD_TOO_LARGE && r->method == METHOD_POST && detail == NULL) {
        respond_header(r, "Tus-Max-Size: %llu", (unsigned long long)r->app->cfg.max_upload);
    }
    return respond_problem(r, p, detail);
}

static int
tus_storage_problem(struct request *r, enum storage_status st)
{
    return tus_problem(r, st == STORAGE_FULL ? PROB_STORAGE_FULL : PROB_INTERNAL, NULL);
}

/* Every request but OPTIONS names the version it speaks (tus core protocol). */
static bool
version_ok(struct request *r)
{
    return str_eq_cstr(req_env(r, "HTTP_TUS_RESUMABLE"), TUS_VERSION);
}

static bool
is_octets(struct request *r)
{
    struct str ct = req_env(r, "CONTENT_TYPE"), type;

    str_cut(ct, ';', &type);
    return str_ieq_cstr(str_trim(type), OCTETS);
}

static uint64_t
content_length(struct request *r)
{
    uint64_t n = 0;

    return str_to_u64(req_env(r, "CONTENT_LENGTH"), 0, UINT64_MAX, &n) == 0 ? n : 0;
}

static void
expires_header(struct request *r, const struct tus_upload *u)
{
    char date[32];

    if (strcmp(u->status, "open") == 0) {
        tus_http_date(u->expires_at, date);
        respond_header(r, "Upload-Expires: %s", date);
    }
}

/* The upload named in the path if it is the caller's: 404 otherwise (another user's
 * upload does not exist for them), 410 once expired. Returns 0, or the answer. */
static int
upload_of(struct request *r, struct tus_upload *u, int *rc)
{
    bson_oid_t id, me;
    enum db_status st;

    if (db_oid_parse(req_param(r, "id"), &id) == -1 ||
        db_oid_parse(str_from(r->user.id), &me) == -1) {
        *rc = tus_problem(r, PROB_UPLOAD_NOT_FOUND, NULL);
        return -1;
    }
    if ((st = db_uploads_get(r->arena, r->app->db, &id, u)) != DB_OK) {
        *rc = st == DB_NOT_FOUND ? tus_problem(r, PROB_UPLOAD_NOT_FOUND, NULL)
                                 : respond_db_problem(r, st);
        return -1;
    }
    if (!bson_oid_equal(&u->owner_id, &me) || u->status == NULL) {
        *rc = tus_problem(r, PROB_UPLOAD_NOT_FOUND, NULL);
        return -1;
    }
    if (strcmp(u->status, "open") == 0 && u->expires_at <= db_now_ms()) {
        *rc = tus_problem(r, PROB_UPLOAD_EXPIRED, "Start a new upload");
        return -1;
    }
    return 0;
}

/* SHA-256 of the whole part, for the video's sha256 (as multipart records it). */
static int
part_sha256(struct request *r, struct storage_part *p, uint64_t len, char hex[65])
{
    unsigned char digest[CRYPTO_SHA256_LEN], *buf = arena_alloc(r->arena, TUS_READ);
    struct crypto_sha256 *h = crypto_sha256_begin(r->arena);
    uint64_t off = 0;

    if (buf == NULL || h == NULL) {
        return -1;
    }
    while (off < len) {
        size_t want = len - off < TUS_READ ? (size_t)(len - off) : TUS_READ;
        ssize_t k = storage_part_read(p, off, buf, want);

        if (k <= 0) {
            return -1;
        }
        crypto_sha256_add(h, buf, (size_t)k);
        off += (uint64_t)k;
        watchdog_kick(); /* a large file takes seconds; it is progress, not a hang */
    }
    if (crypto_sha256_end(h, digest) == -1) {
        return -1;
    }
    crypto_hex(digest, sizeof(digest), hex);
    return 0;
}

/*
 * Makes the video of a finishing upload, whose part p holds (locked): insert it
 * "uploading" with the upload's id, link the bytes in as its source, queue its
 * processing, make it "processing" (as videos_upload.c's commit does), then mark the upload
 * done and drop the part. Each step accepts that it was done before (a crashed earlier
 * attempt), so running it again completes rather than duplicates. Returns 0 or the answer.
 */
static int
finish(struct request *r, struct tus_upload *u, struct storage_part *p, int *rc)
{
    struct app *app = r->app;
    struct video v = u->meta, cur;
    struct job_spec spec = {JOB_PROCESS, &u->id, NULL, NULL, 0, (int32_t)app->cfg.job_attempts, 0};
    enum container kind = container_from_ext(u->container);
    enum storage_status ss;
    enum db_status st;
    bool earlier = false; /* the video was made by an attempt before this one */
    char hex[65];

    bson_oid_copy(&u->id, &v.id);
    memcpy(v.id_hex, u->id_hex, sizeof(v.id_hex));
    bson_oid_copy(&u->owner_id, &v.owner_id);
    bson_oid_to_string(&v.owner_id, v.owner_hex);
    v.created_at = db_now_ms();
    v.comments_enabled = true; /* as db_videos_insert writes it */
    if (kind == CONTAINER_UNKNOWN || part_sha256(r, p, (uint64_t)u->length, hex) == -1 ||
        (spec.key = arena_sprintf(r->arena, "process:%s", u->id_hex)) == NULL ||
        (v.source = arena_sprintf(r->arena, "source.%s", container_ext(kind))) == NULL) {
        *rc = tus_problem(r, PROB_INTERNAL, NULL);
        return -1;
    }
    v.sha256 = hex;
    v.size = u->length;
    v.mime = (char *)container_mime(kind);
    v.updated_at = db_now_ms();
    st = db_videos_insert(r->arena, app->db, &v);
    if (st == DB_DUPLICATE) { /* an earlier attempt got this far */
        st = db_videos_get(r->arena, app->db, &u->id, &cur);
        if (st == DB_OK && strcmp(cur.status, "uploading") != 0) {
            earlier = true;
            goto done;
        }
    }
    if (st != DB_OK) {
        *rc = respond_db_problem(r, st);
        return -1;
    }
    if ((ss = storage_part_publish(p, u->id_hex, v.source)) != STORAGE_OK) {
        *rc = tus_storage_problem(r, ss);
        return -1;
    }
    /* The job first: a video never sits "processing" with nobody to process it (one that
     * ran out while the video was still "uploading", in an earlier attempt, is queued anew). */
    if ((st = job_enqueue_again(r->arena, app->db, &spec)) != DB_OK) {
        *rc = respond_db_problem(r, st);
        return -1;
    }
    if ((st = db_videos_finish_upload(r->arena, app->db, &v)) == DB_CONFLICT) {
        st = db_videos_get(r->arena, app->db, &u->id, &cur);
        st = st == DB_OK && strcmp(cur.status, "uploading") != 0 ? DB_OK : DB_CONFLICT;
        earlier = st == DB_OK;
    }
    if (st != DB_OK) {
        *rc = respond_db_problem(r, st);
        return -1;
    }
    log_ev(LOG_INFO, "video_uploaded", "video %s: %lld bytes (resumable)", u->id_hex,
           (long long)u->length);
done:
    if (earlier) { /* an earlier attempt made the video: its tag mirrors may lag */
        db_videos_tags_sync(r->arena, app->db, &u->id);
    }
    cache_invalidate(r, 'v', u->id_hex); /* a GET meanwhile cached it as missing */
    if ((st = db_uploads_done(r->arena, app->db, &u->id)) != DB_OK && st != DB_CONFLICT) {
        *rc = respond_db_problem(r, st);
        return -1;
    }
    storage_part_remove(app->storage, u->id_hex);
    u->status = "done";
    return 0;
}

static void
part_close(void *p)
{
    storage_part_close(p);
}

/* Opens u's part, locked: 423 while another request writes it. */
static int
part_lock(struct request *r, struct tus_upload *u, struct storage_part *p, int *rc)
{
    enum storage_status ss = storage_part_open(r->app->storage, u->id_hex, false, p);

    if (ss == STORAGE_BUSY) {
        *rc = tus_problem(r, PROB_UPLOAD_LOCKED, "Try again when the other request ends");
        return -1;
    }
    if (ss == STORAGE_NOT_FOUND) { /* terminated meanwhile */
        *rc = tus_problem(r, PROB_UPLOAD_NOT_FOUND, NULL);
        return -1;
    }
    if (ss != STORAGE_OK) {
        *rc = tus_storage_problem(r, ss);
        return -1;
    }
    if (arena_defer(r->arena, part_close, p) == -1) {
        storage_part_close(p);
        *rc = tus_problem(r, PROB_INTERNAL, NULL);
        return -1;
    }
    return 0;
}

/* Completes an upload a crash left "finishing", unless another request is at it (then u
 * stays as it is: all its bytes are in either way). */
static int
finish_left(struct request *r, struct tus_upload *u, int *rc)
{
    struct storage_part *p = arena_alloc(r->arena, sizeof(*p));
    enum storage_status ss;
    enum db_status st;

    if (p == NULL) {
        *rc = tus_problem(r, PROB_INTERNAL, NULL);
        return -1;
    }
    if ((ss = storage_part_open(r->app->storage, u->id_hex, false, p)) == STORAGE_BUSY) {
        return 0;
    }
    if (ss == STORAGE_OK && arena_defer(r->arena, part_close, p) == -1) {
        storage_part_close(p);
        *rc = tus_problem(r, PROB_INTERNAL, NULL);
        return -1;
    }
    if (ss != STORAGE_OK && ss != STORAGE_NOT_FOUND) {
        *rc = tus_storage_problem(r, ss);
        return -1;
    }
    /* Under the lock (or with the part gone: finished meanwhile) the document is the truth. */
    if ((st = db_uploads_get(r->arena, r->app->db, &u->id, u)) != DB_OK) {
        *rc = st == DB_NOT_FOUND ? tus_problem(r, PROB_UPLOAD_NOT_FOUND, NULL)
                                 : respond_db_problem(r, st);
        return -1;
    }
    return ss == STORAGE_OK && strcmp(u->status, "finishing") == 0 ? finish(r, u, p, rc) : 0;
}

/* Checks the first bytes once they are all stored. -1 (415) when they are no video. */
static int
sniff(struct tus_upload *u, struct storage_part *p, uint64_t upto, const char **container)
{
    unsigned char head[CONTAINER_SNIFF_BYTES];
    uint64_t need = (uint64_t)u->length < sizeof(head) ? (uint64_t)u->length : sizeof(head);
    ssize_t k;
    enum container kind;

    *container = NULL;
    if (u->container != NULL || upto < need) {
        return 0;
    }
    if ((k = storage_part_read(p, 0, head, (size_t)need)) != (ssize_t)need) {
        return -1;
    }
    if ((kind = container_sniff(head, (size_t)k)) == CONTAINER_UNKNOWN) {
        return -1;
    }
    *container = container_ext(kind);
    return 0;
}

/*
 * Appends the request's body to u at u->offset (the caller holds p's lock and checked
 * that offset). Returns 0 with u->offset moved, or the answer; on any failure the part is
 * cut back and the document keeps its offset.
 */
static int
append(struct request *r, struct tus_upload *u, struct storage_part *p, int *rc)
{
    struct str cs = req_env(r, "HTTP_UPLOAD_CHECKSUM");
    uint64_t from = (uint64_t)u->offset, off = from, len = content_length(r);
    struct tus_hash *h = NULL;
    struct tus_checksum sum;
    const char *container = NULL;
    enum storage_status ss;
    enum db_status st;
    enum prob fail = PROB_INTERNAL;
    unsigned char *buf;

    if (cs.p != NULL) {
        switch (tus_checksum_parse(cs, &sum)) {
        case TUS_CHECKSUM_OK:
            break;
        case TUS_CHECKSUM_UNSUPPORTED:
            *rc = tus_problem(r, PROB_UNSUPPORTED_CHECKSUM, "Use sha1 or sha256");
            return -1;
        default:
            *rc = tus_problem(r, PROB_INVALID_UPLOAD_HEADER, "Upload-Checksum");
            return -1;
        }
        if ((h = tus_hash_begin(r->arena, sum.algo)) == NULL) {
            *rc = tus_problem(r, PROB_INTERNAL, NULL);
            return -1;
        }
    }
    if (len > MAX_TUS_CHUNK) {
        *rc = tus_problem(r, PROB_BODY_TOO_LARGE, "At most 16 MiB per request");
        return -1;
    }
    if (from + len > (uint64_t)u->length) {
        *rc = tus_problem(r, PROB_UPLOAD_TOO_LARGE, "The bytes go past Upload-Length");
        return -1;
    }
    if ((buf = arena_alloc(r->arena, TUS_READ)) == NULL) {
        *rc = tus_problem(r, PROB_INTERNAL, NULL);
        return -1;
    }
    /* What a killed writer left past the counted offset is not the upload's. A part
     * shorter than that offset has lost counted bytes: never fill the gap. */
    if ((ss = storage_part_truncate(p, from)) != STORAGE_OK) {
        *rc = tus_storage_problem(r, ss);
        return -1;
    }
    while (off - from < len) {
        size_t want = len - (off - from) < TUS_READ ? (size_t)(len - (off - from)) : TUS_READ;
        ssize_t k = req_read(r, buf, want);

        if (k <= 0) {
            fail = PROB_UPLOAD_INCOMPLETE;
            goto undo;
        }
        if ((ss = storage_part_write(p, off, buf, (size_t)k)) != STORAGE_OK) {
            fail = ss == STORAGE_FULL ? PROB_STORAGE_FULL : PROB_INTERNAL;
            goto undo;
        }
        if (h != NULL) {
            tus_hash_add(h, buf, (size_t)k);
        }
        off += (uint64_t)k;
    }
    if (h != NULL && !tus_hash_matches(h, &sum)) {
        fail = PROB_CHECKSUM_MISMATCH;
        goto undo;
    }
    if (sniff(u, p, off, &container) == -1) {
        storage_part_truncate(p, from);
        /* The upload can never become a video: it goes, bytes and all. */
        db_uploads_delete(r->arena, r->app->db, &u->id);
        storage_part_remove(r->app->storage, u->id_hex);
        respond_header_drop(r, "Location"); /* a POST's: it names nothing now */
        *rc = tus_problem(r, PROB_UNSUPPORTED_MEDIA_TYPE,
                          "The file is not a video container we accept (MP4, MOV, "
                          "Matroska/WebM, AVI, MPEG-TS, FLV, Ogg)");
        return -1;
    }
    if (off == from) {
        return 0;
    }
    if ((ss = storage_part_sync(p)) != STORAGE_OK) {
        fail = ss == STORAGE_FULL ? PROB_STORAGE_FULL : PROB_INTERNAL;
        goto undo;
    }
    st = db_uploads_advance(r->arena, r->app->db, u, (int64_t)from, (int64_t)off, container,
                            db_now_ms() + (int64_t)r->app->cfg.upload_expiry * 1000);
    if (st != DB_OK) {
        /* The part keeps the bytes: an answer lost on the way (the write may have been
         * made) must not take away what the document may count. The next writer cuts
         * the part to whatever the document says. */
        *rc = st == DB_CONFLICT ? tus_problem(r, PROB_OFFSET_MISMATCH, NULL)
                                : respond_db_problem(r, st);
        return -1;
    }
    u->offset = (int64_t)off;
    u->expires_at = db_now_ms() + (int64_t)r->app->cfg.upload_expiry * 1000;
    if (container != NULL) {
        u->container = (char *)container;
    }
    if (u->offset == u->length) {
        u->status = "finishing";
    }
    return 0;
undo:
    storage_part_truncate(p, from);
    *rc = tus_problem(r, fail,
                      fail == PROB_CHECKSUM_MISMATCH ? "Nothing was stored; send it again" : NULL);
    return -1;
}

/* The answer to a PATCH or to a POST with bytes: where the upload stands. */
static int
answer_progress(struct request *r, const struct tus_upload *u, int status)
{
    respond_header(r, "Upload-Offset: %lld", (long long)u->offset);
    expires_header(r, u);
    if (strcmp(u->status, "done") == 0) {
        respond_header(r, "Stremora-Video-Id: %s", u->id_hex);
    }
    return respond_empty(r, status);
}

/* OPTIONS /api/v1/uploads */
int
h_uploads_options(struct request *r)
{
    respond_header(r, "Tus-Version: " TUS_VERSION);
    respond_header(r, "Tus-Extension: " TUS_EXTENSIONS);
    respond_header(r, "Tus-Max-Size: %llu", (unsigned long long)r->app->cfg.max_upload);
    respond_header(r, "Tus-Checksum-Algorithm: " TUS_CHECKSUMS);
    respond_header(r, "Stremora-Max-Chunk-Size: %u", MAX_TUS_CHUNK);
    return respond_empty(r, 204);
}

/* The video's fields from Upload-Metadata, checked as POST /api/v1/videos checks them.
 * A missing title is the file's name without its extension. Returns 0 or the answer. */
static int
metadata_of(struct request *r, struct tus_upload *u, int *rc)
{
    struct tus_pair pairs[MAX_TUS_PAIRS];
    struct str title, desc, tags, vis, name;
    struct js_error err = {NULL, NULL};
    int n = tus_metadata_parse(r->arena, req_env(r, "HTTP_UPLOAD_METADATA"), pairs, MAX_TUS_PAIRS);
    const char *e;
    size_t i;

    if (n < 0) {
        *rc = tus_problem(r, PROB_INVALID_UPLOAD_HEADER, "Upload-Metadata");
        return -1;
    }
    title = tus_metadata_get(pairs, (size_t)n, "title");
    desc = tus_metadata_get(pairs, (size_t)n, "description");
    tags = tus_metadata_get(pairs, (size_t)n, "tags");
    vis = tus_metadata_get(pairs, (size_t)n, "visibility");
    name = tus_metadata_get(pairs, (size_t)n, "filename");
    if (name.p != NULL && (name.len > MAX_TUS_FILENAME || !str_is_text(name, 0))) {
        err = (struct js_error){"filename", "invalid_format"};
    }
    if (title.p == NULL && name.p != NULL && err.field == NULL) {
        title = name;
        for (i = name.len; i > 1; i--) { /* "holiday.mp4" -> "holiday" */
            if (name.p[i - 1] == '.') {
                title.len = i - 1;
                break;
            }
        }
    }
    if (err.field != NULL) { /* the filename is wrong: say so first */
    } else if (title.p == NULL) {
        err = (struct js_error){"title", "required"};
    } else if ((e = video_title_check(title)) != NULL) {
        err = (struct js_error){"title", strcmp(e, "too_short") == 0 ? "required" : e};
    } else if (desc.p != NULL && (e = video_description_check(desc)) != NULL) {
        err = (struct js_error){"description", e};
    } else if (vis.p != NULL && !video_visibility_valid(vis)) {
        err = (struct js_error){"visibility", "invalid_format"};
    } else if (tags.p != NULL && (e = video_tags_add(r->arena, &u->meta, tags)) != NULL) {
        err = (struct js_error){"tags", e};
    }
    if (err.field != NULL) {
        *rc = respond_problem_errors(r, PROB_VALIDATION_FAILED, &err, 1);
        return -1;
    }
    u->meta.title = str_cstr(r->arena, title);
    u->meta.description = desc.p != NULL ? str_cstr(r->arena, desc) : "";
    u->meta.visibility = vis.p != NULL ? str_cstr(r->arena, vis) : "public";
    u->filename = name.p != NULL ? str_cstr(r->arena, name) : "";
    if (u->meta.title == NULL || u->meta.description == NULL || u->meta.visibility == NULL ||
        u->filename == NULL) {
        *rc = tus_problem(r, PROB_INTERNAL, NULL);
        return -1;
    }
    return 0;
}

/* POST /api/v1/uploads */
int
h_uploads_create(struct request *r)
{
    struct storage_part *p;
    struct tus_upload *u;
    enum storage_status ss;
    enum db_status st;
    uint64_t length;
    int rc;

    if (!version_ok(r)) {
        return tus_problem(r, PROB_UNSUPPORTED_TUS_VERSION, "Send Tus-Resumable: " TUS_VERSION);
    }
    if (req_env(r, "HTTP_UPLOAD_DEFER_LENGTH").p != NULL) {
        return tus_problem(r, PROB_INVALID_UPLOAD_HEADER,
                           "Upload-Defer-Length is not supported: send Upload-Length");
    }
    if (tus_number_parse(req_env(r, "HTTP_UPLOAD_LENGTH"), UINT64_MAX, &length) == -1 ||
        length == 0) {
        return tus_problem(r, PROB_INVALID_UPLOAD_HEADER, "Upload-Length: the file's size, > 0");
    }
    if (length > r->app->cfg.max_upload) {
        return tus_problem(r, PROB_UPLOAD_TOO_LARGE, NULL);
    }
    if (content_length(r) > 0 && !is_octets(r)) {
        return tus_problem(r, PROB_UNSUPPORTED_MEDIA_TYPE, "Send " OCTETS);
    }
    if ((u = arena_alloc(r->arena, sizeof(*u))) == NULL ||
        (p = arena_alloc(r->arena, sizeof(*p))) == NULL) {
        return tus_problem(r, PROB_INTERNAL, NULL);
    }
    memset(u, 0, sizeof(*u));
    p->fd = -1;
    if (metadata_of(r, u, &rc) == -1) {
        return rc;
    }
    bson_oid_init(&u->id, NULL);
    bson_oid_to_string(&u->id, u->id_hex);
    if (db_oid_parse(str_from(r->user.id), &u->owner_id) == -1) {
        return tus_problem(r, PROB_INTERNAL, NULL);
    }
    u->length = (int64_t)length;
    u->status = "open";
    u->created_at = db_now_ms();
    u->expires_at = u->created_at + (int64_t)r->app->cfg.upload_expiry * 1000;
    if ((ss = storage_part_open(r->app->storage, u->id_hex, true, p)) != STORAGE_OK) {
        return tus_storage_problem(r, ss);
    }
    if (arena_defer(r->arena, part_close, p) == -1) {
        storage_part_close(p);
        storage_part_remove(r->app->storage, u->id_hex);
        return tus_problem(r, PROB_INTERNAL, NULL);
    }
    if ((st = db_uploads_insert(r->arena, r->app->db, u)) != DB_OK) {
        storage_part_remove(r->app->storage, u->id_hex);
        return respond_db_problem(r, st);
    }
    respond_header(r, "Location: /api/v1/uploads/%s", u->id_hex);
    /* creation-with-upload: the first bytes came along. If they fail, the upload stays
     * (created, at offset 0) and the answer says why. */
    if (content_length(r) > 0 &&
        (append(r, u, p, &rc) == -1 ||
         (strcmp(u->status, "finishing") == 0 && finish(r, u, p, &rc) == -1))) {
        return rc;
    }
    return answer_progress(r, u, 201);
}

/* HEAD /api/v1/uploads/{id} */
int
h_uploads_head(struct request *r)
{
    struct tus_upload u;
    int rc;

    if (!version_ok(r)) {
        return tus_problem(r, PROB_UNSUPPORTED_TUS_VERSION, NULL);
    }
    if (upload_of(r, &u, &rc) == -1) {
        return rc;
    }
    if (strcmp(u.status, "finishing") == 0 && finish_left(r, &u, &rc) == -1) {
        return rc;
    }
    respond_header(r, "Cache-Control: no-store");
    respond_header(r, "Upload-Length: %lld", (long long)u.length);
    return answer_progress(r, &u, 200);
}

/* PATCH /api/v1/uploads/{id} */
int
h_uploads_patch(struct request *r)
{
    struct storage_part *p = arena_alloc(r->arena, sizeof(*p));
    struct tus_upload u;
    enum db_status st;
    uint64_t at;
    int rc;

    if (!version_ok(r)) {
        return tus_problem(r, PROB_UNSUPPORTED_TUS_VERSION, NULL);
    }
    if (!is_octets(r)) {
        return tus_problem(r, PROB_UNSUPPORTED_MEDIA_TYPE, "Send " OCTETS);
    }
    if (tus_number_parse(req_env(r, "HTTP_UPLOAD_OFFSET"), INT64_MAX, &at) == -1) {
        return tus_problem(r, PROB_INVALID_UPLOAD_HEADER, "Upload-Offset");
    }
    if (content_length(r) > MAX_TUS_CHUNK) {
        return tus_problem(r, PROB_BODY_TOO_LARGE, "At most 16 MiB per request");
    }
    if (p == NULL) {
        return tus_problem(r, PROB_INTERNAL, NULL);
    }
    p->fd = -1;
    if (upload_of(r, &u, &rc) == -1) {
        return rc;
    }
    if (strcmp(u.status, "open") != 0) {
        if (strcmp(u.status, "finishing") == 0 && finish_left(r, &u, &rc) == -1) {
            return rc;
        }
        if (at == (uint64_t)u.length && content_length(r) == 0) {
            return answer_progress(r, &u, 204);
        }
        respond_header(r, "Upload-Offset: %lld", (long long)u.offset);
        return tus_problem(r, PROB_OFFSET_MISMATCH, "The upload is complete");
    }
    if (part_lock(r, &u, p, &rc) == -1) {
        return rc;
    }
    /* Under the lock the document's offset is the truth: read it again. */
    if ((st = db_uploads_get(r->arena, r->app->db, &u.id, &u)) != DB_OK) {
        return st == DB_NOT_FOUND ? tus_problem(r, PROB_UPLOAD_NOT_FOUND, NULL)
                                  : respond_db_problem(r, st);
    }
    if (strcmp(u.status, "open") != 0 || at != (uint64_t)u.offset) {
        respond_header(r, "Upload-Offset: %lld", (long long)u.offset);
        return tus_problem(r, PROB_OFFSET_MISMATCH, NULL);
    }
    if (append(r, &u, p, &rc) == -1 ||
        (strcmp(u.status, "finishing") == 0 && finish(r, &u, p, &rc) == -1)) {
        return rc;
    }
    return answer_progress(r, &u, 204);
}

/* DELETE /api/v1/uploads/{id}: the upload and its bytes go (a finished upload's video
 * stays: delete that through /api/v1/videos/{id}). */
int
h_uploads_delete(struct request *r)
{
    struct storage_part *p = arena_alloc(r->arena, sizeof(*p));
    struct tus_upload u;
    enum db_status st;
    int rc;

    if (!version_ok(r)) {
        return tus_problem(r, PROB_UNSUPPORTED_TUS_VERSION, NULL);
    }
    if (p == NULL) {
        return tus_problem(r, PROB_INTERNAL, NULL);
    }
    p->fd = -1;
    if (upload_of(r, &u, &rc) == -1) {
        return rc;
    }
    /* One a crash left finishing is finished first: its video is kept, as for any
     * finished upload. */
    if (strcmp(u.status, "finishing") == 0 && finish_left(r, &u, &rc) == -1) {
        return rc;
    }
    /* Not while a PATCH writes it; a part already gone is no reason to keep the rest. */
    if (storage_part_open(r->app->storage, u.id_hex, false, p) == STORAGE_BUSY) {
        return tus_problem(r, PROB_UPLOAD_LOCKED, "Try again when the other request ends");
    }
    if (p->fd != -1 && arena_defer(r->arena, part_close, p) == -1) {
        storage_part_close(p);
    }
    if ((st = db_uploads_delete(r->arena, r->app->db, &u.id)) != DB_OK && st != DB_NOT_FOUND) {
        return respond_db_problem(r, st);
    }
    storage_part_remove(r->app->storage, u.id_hex);
    return respond_empty(r, 204);
}
