/*
 * images.c - the signed-in user's avatar and banner.
 *   PUT    /api/v1/users/me/avatar   body: the image (JPEG, PNG or WebP, <= MAX_IMAGE_BYTES)
 *                                    -> 200 user (users.c user_json)
 *   DELETE /api/v1/users/me/avatar   back to the default -> 204
 *   PUT    /api/v1/users/me/banner   likewise -> 200 user
 *   DELETE /api/v1/users/me/banner   -> 204
 * The body is streamed to a temp file (never held in the arena) and judged by its first
 * bytes: the name and Content-Type are the client's word and are not read. image.c checks
 * it with ffprobe and re-encodes it with ffmpeg into the fixed sizes, so only our own JPEG
 * bytes reach other users. Order: the new files are in place first, then the user points at
 * them (a compare-and-set, so two racing uploads each remove exactly what they replaced),
 * then the replaced files go. A crash in between leaves an unused file, never a broken link.
 */
#include "handlers.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "db.h"
#include "db_users.h"
#include "host.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "watchdog.h"

#define IMAGE_FFMPEG     "/usr/bin/ffmpeg"
#define IMAGE_FFPROBE    "/usr/bin/ffprobe"
#define IMAGE_MEM        (1ull << 30) /* address space: an 8192x8192 RGBA frame is 256 MiB */
#define IMAGE_CPU_SECS   20
#define IMAGE_TIMEOUT_MS 15000 /* each of ffprobe and ffmpeg; a still image takes < 1 s */
#define IMAGE_SWAP_TRIES 5     /* compare-and-set rounds against racing uploads */
#define IMAGE_ENCODES    2     /* encodes at once on a host (upload slots; 503 past them) */

/* The child runs while the request waits: its own timeout bounds it, not the watchdog's. */
static int
kick(void *ctx)
{
    (void)ctx;
    watchdog_kick();
    return 0;
}

static const char *
field_of(enum image_kind kind)
{
    return kind == IMAGE_AVATAR ? "avatar" : "banner";
}

static const char *
current(const struct user *u, enum image_kind kind)
{
    const char *name = kind == IMAGE_AVATAR ? u->avatar : u->banner;

    return name != NULL && name[0] != '\0' ? name : NULL;
}

/* Writes all of buf to fd. Returns 0, or the errno (logged). */
static int
write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, buf, n);

        if (k < 0) {
            int e = errno;

            log_errno("write", "image upload");
            return e != 0 ? e : EIO;
        }
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Streams the body into a temp file, judging its first IMAGE_SNIFF_LEN bytes before the
 * rest: *fmt gets the format, IMAGE_NONE when it is not one we take (the rest is then not
 * read). Returns 0, or -1 after answering (400 for a body cut short, 507, 500). main.c has
 * already refused a Content-Length over the route's MAX_IMAGE_BYTES with 413. */
static int
receive(struct request *r, char **path, enum image_format *fmt, int *rc)
{
    struct str cl = req_env(r, "CONTENT_LENGTH");
    unsigned char head[IMAGE_SNIFF_LEN];
    char buf[65536];
    uint64_t want = 0, got = 0;
    int fd, e;

    *fmt = IMAGE_NONE;
    if ((cl.len > 0 && str_to_u64(cl, 0, MAX_IMAGE_BYTES, &want) == -1) || want < IMAGE_SNIFF_LEN) {
        return 0; /* empty, or too short to be any image */
    }
    if ((fd = image_tmp_open(r->arena, r->app->cfg.media_root, path)) == -1) {
        *rc = -1;
        return -1;
    }
    while (got < want) {
        size_t room = want - got < sizeof(buf) ? (size_t)(want - got) : sizeof(buf);
        ssize_t k = req_read(r, buf, room);

        if (k <= 0) {
            *rc = respond_problem(r, PROB_UPLOAD_INCOMPLETE, "The body ended early");
            return -1;
        }
        if (got < IMAGE_SNIFF_LEN) {
            size_t take = IMAGE_SNIFF_LEN - (size_t)got < (size_t)k ? IMAGE_SNIFF_LEN - (size_t)got
                                                                    : (size_t)k;

            memcpy(head + got, buf, take);
            if (got + take == IMAGE_SNIFF_LEN &&
                (*fmt = image_sniff(head, sizeof(head))) == IMAGE_NONE) {
                return 0;
            }
        }
        if ((e = write_all(fd, buf, (size_t)k)) != 0) {
            *rc = e == ENOSPC ? respond_problem(r, PROB_STORAGE_FULL, NULL) : -1;
            return -1;
        }
        got += (uint64_t)k;
    }
    return 0;
}

/* Points the user at name (NULL: the default), then removes the files it replaced. u is
 * the user as last read. On failure, name's files go unless the user points at them. */
static enum db_status
swap(struct request *r, const bson_oid_t *id, enum image_kind kind, const char *name,
     struct user *u)
{
    const char *root = r->app->cfg.media_root, *old = current(u, kind);
    enum db_status st = DB_CONFLICT;
    int i;

    for (i = 0; i < IMAGE_SWAP_TRIES && st == DB_CONFLICT; i++) {
        if (i > 0) {
            if ((st = db_users_get(r->arena, r->app->db, id, u)) != DB_OK) {
                break;
            }
            old = current(u, kind);
        }
        st = db_users_swap_image(r->arena, r->app->db, id, field_of(kind), old, name);
    }
    cache_invalidate(r, 'u', r->user.id);
    if (st == DB_OK) {
        /* The same image again has the same name: then its files are the new ones. */
        if (old != NULL && (name == NULL || strcmp(old, name) != 0)) {
            image_remove(root, kind, old);
        }
    } else if (name != NULL && (old == NULL || strcmp(old, name) != 0)) {
        image_remove(root, kind, name);
    }
    return st;
}

static int
put(struct request *r, enum image_kind kind)
{
    struct image_options opt = {IMAGE_FFMPEG,     IMAGE_FFPROBE, IMAGE_MEM, IMAGE_CPU_SECS,
                                IMAGE_TIMEOUT_MS, kick,          NULL};
    char name[IMAGE_NAME_LEN + 1], *src = NULL;
    enum image_format fmt;
    enum image_status ir;
    enum db_status st;
    bson_oid_t id;
    struct user u;
    int rc, slot;

    if (own_user(r, &id, &u, &rc) == -1 || receive(r, &src, &fmt, &rc) == -1) {
        return rc;
    }
    if (fmt == IMAGE_NONE) {
        return respond_problem(r, PROB_INVALID_IMAGE, "The body is not a JPEG, PNG or WebP image");
    }
    /* Encodes take a worker and up to IMAGE_MEM each: HOST_IMAGE_SLOTS at a time per host
     * (slots of their own: uploads never wait for them, nor they for uploads), so that
     * images sent in parallel never hold the whole pool. */
    if ((slot = host_image_claim(r->app->host)) == -1) {
        respond_header(r, "Retry-After: 2");
        return respond_problem(r, PROB_TOO_MANY_UPLOADS, "Too many images being encoded");
    }
    ir = image_publish(r->arena, &opt, r->app->cfg.media_root, kind, fmt, src, u.id_hex, name);
    host_upload_release(r->app->host, slot);
    switch (ir) {
    case IMAGE_OK:
        break;
    case IMAGE_BAD:
        return respond_problem(r, PROB_INVALID_IMAGE,
                               "The image could not be read, or is larger than 8192x8192");
    default:
        return -1;
    }
    if ((st = swap(r, &id, kind, name, &u)) != DB_OK) {
        return st == DB_NOT_FOUND ? respond_problem(r, PROB_USER_NOT_FOUND, NULL)
                                  : respond_db_problem(r, st);
    }
    if (own_user(r, &id, &u, &rc) == -1) {
        return rc;
    }
    log_ev(LOG_INFO, "image_set", "user %s %s %s", u.id_hex, field_of(kind), name);
    return respond_json(r, 200, js_string(r->arena, user_json(r->arena, &u)));
}

static int
remove_image(struct request *r, enum image_kind kind)
{
    enum db_status st;
    bson_oid_t id;
    struct user u;
    int rc;

    if (own_user(r, &id, &u, &rc) == -1) {
        return rc;
    }
    if (current(&u, kind) != NULL && (st = swap(r, &id, kind, NULL, &u)) != DB_OK) {
        return st == DB_NOT_FOUND ? respond_problem(r, PROB_USER_NOT_FOUND, NULL)
                                  : respond_db_problem(r, st);
    }
    return respond_empty(r, 204);
}

/* PUT /api/v1/users/me/avatar */
int
h_images_avatar_put(struct request *r)
{
    return put(r, IMAGE_AVATAR);
}

/* DELETE /api/v1/users/me/avatar */
int
h_images_avatar_delete(struct request *r)
{
    return remove_image(r, IMAGE_AVATAR);
}

/* PUT /api/v1/users/me/banner */
int
h_images_banner_put(struct request *r)
{
    return put(r, IMAGE_BANNER);
}

/* DELETE /api/v1/users/me/banner */
int
h_images_banner_delete(struct request *r)
{
    return remove_image(r, IMAGE_BANNER);
}
