/*
 * image.c - avatars and banners (image.h). The upload is untrusted: its format is decided
 * by its signature, and ffprobe and ffmpeg are told that format (-f <x>_pipe) rather than
 * left to guess, so a polyglot never reaches a demuxer that follows references (playlists,
 * concat lists). ffprobe learns the frame size first, under -max_pixels (a decoder refuses a
 * frame over IMAGE_MAX_SIDE squared before allocating it), and a side over IMAGE_MAX_SIDE is
 * refused before ffmpeg runs; ffmpeg's own -max_pixels, the child's address-space and CPU
 * caps and its timeout stand behind that check. The output is a fresh JPEG encoded from
 * pixels, with no metadata copied (-map_metadata -1, bitexact: no encoder comment).
 * Invariant: a file is under avatars/ or banners/ only once it is whole and durable.
 */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "child.h"
#include "crypto.h"
#include "log.h"
#include "str.h"

#define IMAGE_DIR_MODE  0750
#define IMAGE_FILE_MODE 0640
#define IMAGE_TMP_STALE 600           /* seconds before a temp file is a killed worker's */
#define IMAGE_PIXELS    (67108864ull) /* IMAGE_MAX_SIDE squared: ffmpeg's own limit */
#define IMAGE_PATH_MAX  4096
#define IMAGE_OUTS      2 /* files of one kind at most */

/* The files of a kind: suffix of each, and the size ffmpeg makes. */
struct image_out {
    const char *suffix;
    int width, height;
};

static const struct image_out avatar_outs[] = {{"-256", 256, 256}, {"-64", 64, 64}};
static const struct image_out banner_outs[] = {{"", 2048, 512}};

static const char *
kind_dir(enum image_kind kind)
{
    return kind == IMAGE_AVATAR ? "avatars" : "banners";
}

static size_t
kind_outs(enum image_kind kind, const struct image_out **outs)
{
    if (kind == IMAGE_AVATAR) {
        *outs = avatar_outs;
        return sizeof(avatar_outs) / sizeof(avatar_outs[0]);
    }
    *outs = banner_outs;
    return sizeof(banner_outs) / sizeof(banner_outs[0]);
}

enum image_format
image_sniff(const unsigned char *p, size_t n)
{
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    if (n < IMAGE_SNIFF_LEN) {
        return IMAGE_NONE;
    }
    if (p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        return IMAGE_JPEG;
    }
    /* The signature, then the first chunk, which must be IHDR (PNG section 5.6). */
    if (memcmp(p, png, sizeof(png)) == 0 && memcmp(p + 12, "IHDR", 4) == 0) {
        return IMAGE_PNG;
    }
    /* A RIFF container of form WEBP whose first chunk is an image (VP8, VP8L, VP8X). */
    if (memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0 &&
        (memcmp(p + 12, "VP8 ", 4) == 0 || memcmp(p + 12, "VP8L", 4) == 0 ||
         memcmp(p + 12, "VP8X", 4) == 0)) {
        return IMAGE_WEBP;
    }
    return IMAGE_NONE;
}

bool
image_name_is_valid(const char *name)
{
    size_t i;

    if (name == NULL) {
        return false;
    }
    for (i = 0; i < IMAGE_NAME_LEN; i++) {
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) {
            return false;
        }
    }
    return name[IMAGE_NAME_LEN] == '\0';
}

/* Writes root/images[/sub] into out; -1 if it does not fit. */
static int
dir_path(char *out, size_t len, const char *root, const char *sub)
{
    int k =
        snprintf(out, len, "%s/images%s%s", root, sub != NULL ? "/" : "", sub != NULL ? sub : "");

    return k < 0 || (size_t)k >= len ? -1 : 0;
}

static int
make_dir(const char *path)
{
    if (mkdir(path, IMAGE_DIR_MODE) == 0 || errno == EEXIST) {
        return 0;
    }
    log_errno("mkdir", path);
    return -1;
}

/* Makes images/ and its folders when missing. */
static int
make_dirs(const char *root)
{
    static const char *const subs[] = {NULL, "tmp", "avatars", "banners"};
    char path[IMAGE_PATH_MAX];
    size_t i;

    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (dir_path(path, sizeof(path), root, subs[i]) == -1 || make_dir(path) == -1) {
            return -1;
        }
    }
    return 0;
}

/* Removes what a killed worker left in images/tmp/: nothing there lives longer than one
 * request, which ends (watchdog) long before IMAGE_TMP_STALE. */
static void
sweep_tmp(const char *dir)
{
    char path[IMAGE_PATH_MAX];
    time_t now = time(NULL);
    struct dirent *de;
    struct stat st;
    DIR *d;

    if ((d = opendir(dir)) == NULL) {
        log_errno("opendir", dir);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' ||
            (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path)) {
            continue;
        }
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > IMAGE_TMP_STALE &&
            unlink(path) == 0) {
            log_ev(LOG_INFO, "image_tmp_swept", "%s", de->d_name);
        }
    }
    closedir(d);
}

/* A temp file: closed (if open) and removed when the arena goes. */
struct tmp {
    int fd;
    char path[IMAGE_PATH_MAX];
};

static void
tmp_drop(void *p)
{
    struct tmp *t = p;

    if (t->fd != -1) {
        close(t->fd);
    }
    unlink(t->path); /* ENOENT after a rename: fine */
}

/* Registers a temp path "root/images/tmp/<pid>.<random><suffix>" with the arena. */
static struct tmp *
tmp_new(struct arena *a, const char *root, const char *suffix)
{
    unsigned char rnd[8];
    char hex[17], dir[IMAGE_PATH_MAX];
    struct tmp *t = arena_calloc(a, 1, sizeof(*t));
    int k;

    if (t == NULL || dir_path(dir, sizeof(dir), root, "tmp") == -1 ||
        crypto_random(rnd, sizeof(rnd)) == -1) {
        return NULL;
    }
    crypto_hex(rnd, sizeof(rnd), hex);
    k = snprintf(t->path, sizeof(t->path), "%s/%ld.%s%s", dir, (long)getpid(), hex, suffix);
    if (k < 0 || (size_t)k >= sizeof(t->path)) {
        return NULL;
    }
    t->fd = -1;
    if (arena_defer(a, tmp_drop, t) == -1) {
        return NULL;
    }
    return t;
}

int
image_tmp_open(struct arena *a, const char *media_root, char **path)
{
    char dir[IMAGE_PATH_MAX];
    struct tmp *t;

    if (make_dirs(media_root) == -1 || dir_path(dir, sizeof(dir), media_root, "tmp") == -1) {
        return -1;
    }
    sweep_tmp(dir);
    if ((t = tmp_new(a, media_root, ".up")) == NULL) {
        return -1;
    }
    if ((t->fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, IMAGE_FILE_MODE)) == -1) {
        log_errno("open", t->path);
        return -1;
    }
    *path = t->path;
    return t->fd;
}

/* ffprobe's answer: the first video stream's codec and size (0 when unreadable). */
struct probe_ctx {
    const struct image_options *opt;
    char codec[16];
    uint64_t width, height;
};

static int
probe_line(void *ctx, const char *line, size_t len)
{
    struct probe_ctx *p = ctx;
    struct str s = {line, len};

    if (str_has_prefix(s, "codec_name=")) {
        snprintf(p->codec, sizeof(p->codec), "%s", line + 11);
    } else if (str_has_prefix(s, "width=") &&
               str_to_u64((struct str){line + 6, len - 6}, 1, UINT32_MAX, &p->width) == -1) {
        p->width = 0;
    } else if (str_has_prefix(s, "height=") &&
               str_to_u64((struct str){line + 7, len - 7}, 1, UINT32_MAX, &p->height) == -1) {
        p->height = 0;
    }
    return 0;
}

static int
probe_tick(void *ctx)
{
    struct probe_ctx *p = ctx;

    return p->opt->on_tick != NULL ? p->opt->on_tick(p->opt->ctx) : 0;
}

static const char *
demuxer(enum image_format fmt)
{
    return fmt == IMAGE_JPEG ? "jpeg_pipe" : fmt == IMAGE_PNG ? "png_pipe" : "webp_pipe";
}

static const char *
codec(enum image_format fmt)
{
    return fmt == IMAGE_JPEG ? "mjpeg" : fmt == IMAGE_PNG ? "png" : "webp";
}

static bool
ran_ok(const struct child_outcome *res, const char *what)
{
    if (res->result == CHILD_EXITED && res->status == 0) {
        return true;
    }
    log_ev(LOG_INFO, "image_refused", "%s: result %d status %d: %.200s", what, (int)res->result,
           res->status, res->err_tail);
    return false;
}

/* Checks that src is an image of format fmt within IMAGE_MAX_SIDE. ffprobe may decode the
 * first frame to learn its size: -max_pixels makes the decoder refuse a huge frame before
 * allocating it (the size then reads 0). IMAGE_BAD when it is not such an image. */
static enum image_status
probe(const struct image_options *opt, enum image_format fmt, const char *src)
{
    char pixels[32];
    char *argv[] = {(char *)opt->ffprobe,
                    "-v",
                    "error",
                    "-f",
                    (char *)demuxer(fmt),
                    "-max_pixels",
                    pixels,
                    "-select_streams",
                    "v:0",
                    "-show_entries",
                    "stream=codec_name,width,height",
                    "-of",
                    "default=noprint_wrappers=1",
                    (char *)src,
                    NULL};
    struct child_limits lim = {opt->mem_bytes, opt->cpu_secs, opt->timeout_ms, 1000};
    struct probe_ctx p = {opt, {0}, 0, 0};
    struct child_callbacks cb = {probe_line, probe_tick, &p};
    struct child_outcome res;

    snprintf(pixels, sizeof(pixels), "%llu", IMAGE_PIXELS);
    child_run(argv, &lim, &cb, &res);
    if (res.result == CHILD_FAILED) {
        return IMAGE_ERROR;
    }
    if (!ran_ok(&res, "ffprobe")) {
        return IMAGE_BAD;
    }
    if (strcmp(p.codec, codec(fmt)) != 0 || p.width == 0 || p.height == 0 ||
        p.width > IMAGE_MAX_SIDE || p.height > IMAGE_MAX_SIDE) {
        log_ev(LOG_INFO, "image_refused", "ffprobe: codec %.15s, %" PRIu64 "x%" PRIu64, p.codec,
               p.width, p.height);
        return IMAGE_BAD;
    }
    return IMAGE_OK;
}

/* The filter graph: the source cropped to the kind's aspect around the center, then each
 * size, laid on white (transparent pixels would otherwise turn black) as [o<i>]. */
static char *
graph(struct arena *a, enum image_kind kind)
{
    const struct image_out *outs;
    size_t n = kind_outs(kind, &outs), i;
    const char *crop = kind == IMAGE_AVATAR ? "crop='min(iw,ih)':'min(iw,ih)'"
                                            : "crop='min(iw,ih*4)':'max(1,min(ih,trunc(iw/4)))'";
    char *g = arena_sprintf(a, "[0:v:0]%s,split=%zu", crop, n);

    for (i = 0; i < n && g != NULL; i++) {
        g = arena_sprintf(a, "%s[s%zu]", g, i);
    }
    for (i = 0; i < n && g != NULL; i++) {
        int w = outs[i].width, h = outs[i].height;

        g = arena_sprintf(a,
                          "%s;[s%zu]scale=%d:%d:flags=lanczos,format=rgba[f%zu];"
                          "color=c=white:s=%dx%d[b%zu];"
                          "[b%zu][f%zu]overlay=shortest=1,format=yuvj420p[o%zu]",
                          g, i, w, h, i, w, h, i, i, i, i);
    }
    return g;
}

/* Runs ffmpeg: src to the n temp files of kind. */
static enum image_status
encode(struct arena *a, const struct image_options *opt, enum image_kind kind,
       enum image_format fmt, const char *src, struct tmp **tmps, size_t n)
{
    static const char *const per_out[] = {"-frames:v",
                                          "1",
                                          "-map_metadata",
                                          "-1",
                                          "-map_chapters",
                                          "-1",
                                          "-fflags",
                                          "+bitexact",
                                          "-flags:v",
                                          "+bitexact",
                                          "-c:v",
                                          "mjpeg",
                                          "-q:v",
                                          "3",
                                          "-f",
                                          "image2",
                                          "-update",
                                          "1",
                                          "-n"};
    enum { PER_OUT = sizeof(per_out) / sizeof(per_out[0]) };
    char *argv[24 + IMAGE_OUTS * (PER_OUT + 3)], pixels[32];
    struct child_limits lim = {opt->mem_bytes, opt->cpu_secs, opt->timeout_ms, 1000};
    struct child_callbacks cb = {NULL, opt->on_tick, opt->ctx};
    struct child_outcome res;
    char *g = graph(a, kind);
    size_t k = 0, i, j;

    if (g == NULL) {
        return IMAGE_ERROR;
    }
    snprintf(pixels, sizeof(pixels), "%llu", IMAGE_PIXELS);
    argv[k++] = (char *)opt->ffmpeg;
    argv[k++] = "-hide_banner";
    argv[k++] = "-nostdin";
    argv[k++] = "-loglevel";
    argv[k++] = "error";
    argv[k++] = "-threads";
    argv[k++] = "1";
    argv[k++] = "-f";
    argv[k++] = (char *)demuxer(fmt);
    argv[k++] = "-max_pixels";
    argv[k++] = pixels;
    argv[k++] = "-i";
    argv[k++] = (char *)src;
    argv[k++] = "-filter_complex";
    argv[k++] = g;
    for (i = 0; i < n; i++) {
        argv[k++] = "-map";
        argv[k++] = i == 0 ? "[o0]" : "[o1]";
        for (j = 0; j < PER_OUT; j++) {
            argv[k++] = (char *)per_out[j];
        }
        argv[k++] = tmps[i]->path;
    }
    argv[k] = NULL;
    child_run(argv, &lim, &cb, &res);
    if (res.result == CHILD_FAILED) {
        return IMAGE_ERROR;
    }
    return ran_ok(&res, "ffmpeg") ? IMAGE_OK : IMAGE_BAD;
}

/* Makes path durable and adds its bytes to the hash. */
static int
sync_and_hash(const char *path, struct crypto_sha256 *sha)
{
    char buf[16384];
    ssize_t k;
    int fd, rc = -1;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
        log_errno("open", path);
        return -1;
    }
    if (fsync(fd) == -1) {
        log_errno("fsync", path);
        goto out;
    }
    while ((k = read(fd, buf, sizeof(buf))) > 0) {
        crypto_sha256_add(sha, buf, (size_t)k);
    }
    if (k == -1) {
        log_errno("read", path);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

static int
final_path(char *out, size_t len, const char *root, enum image_kind kind, const char *name,
           const char *suffix)
{
    int k = snprintf(out, len, "%s/images/%s/%s%s.jpg", root, kind_dir(kind), name, suffix);

    return k < 0 || (size_t)k >= len ? -1 : 0;
}

static void
sync_dir(const char *root, enum image_kind kind)
{
    char path[IMAGE_PATH_MAX];
    int fd;

    if (dir_path(path, sizeof(path), root, kind_dir(kind)) == -1 ||
        (fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
        return;
    }
    if (fsync(fd) == -1) {
        log_errno("fsync", path);
    }
    close(fd);
}

/* Names the files by their content and moves them into kind's folder. */
static enum image_status
place(struct arena *a, const char *root, enum image_kind kind, const char *owner_hex,
      struct tmp **tmps, size_t n, char name[IMAGE_NAME_LEN + 1])
{
    const struct image_out *outs;
    struct crypto_sha256 *sha = crypto_sha256_begin(a);
    unsigned char digest[CRYPTO_SHA256_LEN];
    char dst[IMAGE_PATH_MAX];
    size_t i;

    kind_outs(kind, &outs);
    if (sha == NULL) {
        return IMAGE_ERROR;
    }
    crypto_sha256_add(sha, owner_hex, strlen(owner_hex));
    for (i = 0; i < n; i++) {
        if (sync_and_hash(tmps[i]->path, sha) == -1) {
            return IMAGE_ERROR;
        }
    }
    if (crypto_sha256_end(sha, digest) == -1) {
        return IMAGE_ERROR;
    }
    crypto_hex(digest, IMAGE_NAME_LEN / 2, name);
    for (i = 0; i < n; i++) {
        if (final_path(dst, sizeof(dst), root, kind, name, outs[i].suffix) == -1 ||
            rename(tmps[i]->path, dst) == -1) {
            log_errno("rename", dst);
            image_remove(root, kind, name); /* none of a set, rather than part of one */
            return IMAGE_ERROR;
        }
    }
    sync_dir(root, kind);
    return IMAGE_OK;
}

enum image_status
image_publish(struct arena *a, const struct image_options *opt, const char *media_root,
              enum image_kind kind, enum image_format fmt, const char *src, const char *owner_hex,
              char name[IMAGE_NAME_LEN + 1])
{
    const struct image_out *outs;
    size_t n = kind_outs(kind, &outs), i;
    struct tmp *tmps[IMAGE_OUTS];
    enum image_status st;

    if (fmt == IMAGE_NONE) {
        return IMAGE_BAD;
    }
    if (make_dirs(media_root) == -1) {
        return IMAGE_ERROR;
    }
    for (i = 0; i < n; i++) {
        char *suffix = arena_sprintf(a, "%s.jpg", outs[i].suffix);

        if (suffix == NULL || (tmps[i] = tmp_new(a, media_root, suffix)) == NULL) {
            return IMAGE_ERROR;
        }
    }
    if ((st = probe(opt, fmt, src)) != IMAGE_OK ||
        (st = encode(a, opt, kind, fmt, src, tmps, n)) != IMAGE_OK) {
        return st;
    }
    return place(a, media_root, kind, owner_hex, tmps, n, name);
}

void
image_remove(const char *media_root, enum image_kind kind, const char *name)
{
    const struct image_out *outs;
    size_t n = kind_outs(kind, &outs), i;
    char path[IMAGE_PATH_MAX];

    if (!image_name_is_valid(name)) {
        return;
    }
    for (i = 0; i < n; i++) {
        if (final_path(path, sizeof(path), media_root, kind, name, outs[i].suffix) == 0 &&
            unlink(path) == -1 && errno != ENOENT) {
            log_errno("unlink", path);
        }
    }
}

void
image_drop_user(const char *media_root, const char *avatar, const char *banner)
{
    image_remove(media_root, IMAGE_AVATAR, avatar);
    image_remove(media_root, IMAGE_BANNER, banner);
}
