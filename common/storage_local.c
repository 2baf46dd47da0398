/*
 * storage_local.c - the local filesystem backend. Uploads stream into $MEDIA_ROOT/tmp/
 * (same filesystem as videos/, so rename is atomic) named <videoId>.<host tag>.<pid>, are
 * fsync'd, then renamed into videos/<id>/ and the folder fsync'd: a video's file is all
 * there or absent. A temp file of this host whose pid is no longer alive belongs to a
 * killed worker and is swept; any temp file untouched for a day is swept too (another
 * host's, or a pid that was reused).
 * Resumable uploads keep their bytes in uploads/<uploadId> (same filesystem), written under
 * an open-file-description lock (fcntl F_OFD_SETLK: per open, dropped when the holder
 * dies), and become a video's source by a hard link made durable before the part goes.
 * nginx serves committed files from videos/ itself once the app has checked the link.
 */
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "log.h"
#include "str.h"

#define MEDIA_DIR_MODE  0750
#define MEDIA_FILE_MODE 0640

#define MEDIA_ROOT_MAX 2048 /* bytes of the media root's real path: leaves room below it */

struct storage {
    char host[9]; /* 8 hex digits of a hash of the host name: temp files say who writes */
    char root[MEDIA_ROOT_MAX];
    char tmp[MEDIA_ROOT_MAX + 8];
    char videos[MEDIA_ROOT_MAX + 8];
    char uploads[MEDIA_ROOT_MAX + 16];
};

/* A failed write's errno as a status: a full disk (or quota) is the operator's to fix. */
static enum storage_status
status_of(int e)
{
    return e == ENOSPC || e == EDQUOT ? STORAGE_FULL : STORAGE_ERROR;
}

/* Creates path unless it exists. Returns 0, or -1 (logged) with errno set. */
static int
mkdir_p(const char *path)
{
    if (mkdir(path, MEDIA_DIR_MODE) == 0 || errno == EEXIST) {
        return 0;
    }
    log_errno("mkdir", path);
    return -1;
}

static void
host_tag(char out[9])
{
    char name[256] = "localhost";

    gethostname(name, sizeof(name) - 1);
    snprintf(out, 9, "%08x", str_hash(str_from(name)));
}

struct storage *
storage_new(const struct config *c, char *err, size_t errlen)
{
    char real[PATH_MAX];
    struct storage *s = calloc(1, sizeof(*s));

    real[0] = '\0';
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (realpath(c->media_root, real) == NULL || strlen(real) >= MEDIA_ROOT_MAX) {
        snprintf(err, errlen, "STREMORA_MEDIA_ROOT: %s: %s", c->media_root,
                 strlen(real) >= MEDIA_ROOT_MAX ? "path too long" : strerror(errno));
        free(s);
        return NULL;
    }
    memcpy(s->root, real, strlen(real) + 1);
    host_tag(s->host);
    snprintf(s->tmp, sizeof(s->tmp), "%s/tmp", s->root);
    snprintf(s->videos, sizeof(s->videos), "%s/videos", s->root);
    snprintf(s->uploads, sizeof(s->uploads), "%s/uploads", s->root);
    if (mkdir_p(s->tmp) == -1 || mkdir_p(s->videos) == -1 || mkdir_p(s->uploads) == -1) {
        snprintf(err, errlen, "STREMORA_MEDIA_ROOT: cannot create tmp/, videos/ and uploads/ in %s",
                 s->root);
        free(s);
        return NULL;
    }
    return s;
}

void
storage_free(struct storage *s)
{
    free(s);
}

bool
storage_is_writable(struct storage *s)
{
    return access(s->tmp, W_OK | X_OK) == 0 && access(s->videos, W_OK | X_OK) == 0 &&
           access(s->uploads, W_OK | X_OK) == 0;
}

enum storage_status
storage_upload_begin(struct storage *s, const char *video_id, struct storage_upload *u)
{
    memset(u, 0, sizeof(*u));
    u->s = s;
    u->fd = -1;
    snprintf(u->video_id, sizeof(u->video_id), "%s", video_id);
    snprintf(u->tmp, sizeof(u->tmp), "%s/%.24s.%s.%ld", s->tmp, video_id, s->host, (long)getpid());
    u->fd = open(u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, MEDIA_FILE_MODE);
    if (u->fd == -1) {
        log_errno("open", u->tmp);
        u->tmp[0] = '\0';
        return errno == ENOSPC || errno == EDQUOT ? STORAGE_FULL : STORAGE_ERROR;
    }
    return STORAGE_OK;
}

/* Writes all n bytes of p to fd: at off (pwrite), or at its position when off is -1.
 * Adds what was written to *count (if not NULL). STORAGE_FULL when the disk is full. */
static enum storage_status
write_full(int fd, int64_t off, const void *p, size_t n, const char *path, uint64_t *count)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = off < 0 ? write(fd, c, n) : pwrite(fd, c, n, (off_t)off);

        if (w == -1) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == ENOSPC || errno == EDQUOT) {
                log_ev(LOG_WARN, "storage_full", "writing an upload: %s", strerror(errno));
                return STORAGE_FULL;
            }
            log_errno("write", path);
            return STORAGE_ERROR;
        }
        c += w;
        n -= (size_t)w;
        off = off < 0 ? off : off + w;
        if (count != NULL) {
            *count += (uint64_t)w;
        }
    }
    return STORAGE_OK;
}

enum storage_status
storage_upload_write(struct storage_upload *u, const void *p, size_t n)
{
    return write_full(u->fd, -1, p, n, u->tmp, &u->size);
}

static int
fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd == -1) {
        log_errno("open", path);
        return -1;
    }
    if ((rc = fsync(fd)) == -1) {
        log_errno("fsync", path);
    }
    close(fd);
    return rc;
}

enum storage_status
storage_upload_commit(struct storage_upload *u, const char *name)
{
    char dir[MEDIA_ROOT_MAX + 64], dst[MEDIA_ROOT_MAX + 128];
    int e;

    snprintf(dir, sizeof(dir), "%s/%.24s", u->s->videos, u->video_id);
    snprintf(dst, sizeof(dst), "%s/%.32s", dir, name);
    if (fsync(u->fd) == -1) {
        e = errno;
        log_errno("fsync", u->tmp);
        return status_of(e);
    }
    if (mkdir_p(dir) == -1) {
        return status_of(errno);
    }
    if (rename(u->tmp, dst) == -1) { /* readers see all of the file or none */
        e = errno;
        log_errno("rename", dst);
        return status_of(e);
    }
    close(u->fd);
    u->fd = -1;
    u->tmp[0] = '\0';
    fsync_dir(dir);
    fsync_dir(u->s->videos);
    return STORAGE_OK;
}

void
storage_upload_abort(struct storage_upload *u)
{
    if (u->fd != -1) {
        close(u->fd);
        u->fd = -1;
    }
    if (u->tmp[0] != '\0' && unlink(u->tmp) == -1 && errno != ENOENT) {
        log_errno("unlink", u->tmp);
    }
    u->tmp[0] = '\0';
}

/* Removes dir and everything under it (the media layout is at most a few levels deep). */
static int
remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[PATH_MAX];
    int rc = 0;

    if (d == NULL) {
        return errno == ENOENT ? 0 : -1;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc |= remove_tree(path);
        } else if (unlink(path) == -1 && errno != ENOENT) {
            log_errno("unlink", path);
            rc = -1;
        }
    }
    closedir(d);
    if (rmdir(dir) == -1 && errno != ENOENT) {
        log_errno("rmdir", dir);
        rc = -1;
    }
    return rc;
}

/* Removes path, a file or a folder. */
static void
remove_tree_or_file(const char *path)
{
    struct stat st;

    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        remove_tree(path);
    } else if (unlink(path) == -1 && errno != ENOENT) {
        log_errno("unlink", path);
    }
}

enum storage_status
storage_delete_video(struct storage *s, const char *video_id)
{
    char dir[MEDIA_ROOT_MAX + 64];

    snprintf(dir, sizeof(dir), "%s/%.24s", s->videos, video_id);
    return remove_tree(dir) == 0 ? STORAGE_OK : STORAGE_ERROR;
}

bool
storage_has(struct storage *s, const char *video_id, const char *path)
{
    char p[PATH_MAX];

    if ((size_t)snprintf(p, sizeof(p), "%s/%.24s/%s", s->videos, video_id, path) >= sizeof(p)) {
        return false;
    }
    return access(p, R_OK) == 0;
}

enum storage_status
storage_work_begin(struct storage *s, const char *video_id, char *out, size_t len)
{
    if ((size_t)snprintf(out, len, "%s/%.24s.work.%s.%ld", s->tmp, video_id, s->host,
                         (long)getpid()) >= len) {
        return STORAGE_ERROR;
    }
    remove_tree(out); /* left by an earlier attempt of this pid */
    if (mkdir(out, MEDIA_DIR_MODE) == -1) {
        int e = errno;

        log_errno("mkdir", out);
        return status_of(e);
    }
    return STORAGE_OK;
}

void
storage_work_touch(const char *work)
{
    utimensat(AT_FDCWD, work, NULL, 0);
}

void
storage_work_end(const char *work)
{
    if (work[0] != '\0') {
        remove_tree(work);
    }
}

enum storage_status
storage_publish(struct storage *s, const char *video_id, const char *work, const char *name)
{
    char src[PATH_MAX], dir[MEDIA_ROOT_MAX + 64], dst[MEDIA_ROOT_MAX + 192],
        old[MEDIA_ROOT_MAX + 256];
    int e;

    snprintf(src, sizeof(src), "%s/%s", work, name);
    snprintf(dir, sizeof(dir), "%s/%.24s", s->videos, video_id);
    snprintf(dst, sizeof(dst), "%s/%.64s", dir, name);
    snprintf(old, sizeof(old), "%s/.old.%.64s.%ld", dir, name, (long)getpid());
    if (access(dir, F_OK) == -1) {
        return STORAGE_NOT_FOUND; /* the video went meanwhile: nothing to publish into */
    }
    /* An earlier attempt's copy steps aside first: rename(2) does not replace a folder
     * that holds files. Readers see the old one or the new one, never a mix. */
    if (rename(dst, old) == -1 && errno != ENOENT) {
        e = errno;
        log_errno("rename", dst);
        return status_of(e);
    }
    if (rename(src, dst) == -1) {
        e = errno;
        log_errno("rename", src);
        return status_of(e);
    }
    remove_tree_or_file(old);
    fsync_dir(dir);
    return STORAGE_OK;
}

int
storage_source_path(struct storage *s, const char *video_id, const char *source, char *out,
                    size_t len)
{
    return (size_t)snprintf(out, len, "%s/%.24s/%s", s->videos, video_id, source) < len ? 0 : -1;
}

void
storage_delete_tmp(struct storage *s, const char *video_id)
{
    DIR *d = opendir(s->tmp);
    struct dirent *de;
    char path[MEDIA_ROOT_MAX + 320];

    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, video_id, 24) == 0 && de->d_name[24] == '.') {
            snprintf(path, sizeof(path), "%s/%s", s->tmp, de->d_name);
            remove_tree_or_file(path);
        }
    }
    closedir(d);
}

/* Calls fn for each entry of dir whose name is, or starts with, a video id and a dot. */
static void
each_entry(const char *dir,
           void (*fn)(void *ctx, const char *video_id, const char *name, int64_t age_s), void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[MEDIA_ROOT_MAX + 320], id[25];
    time_t now = time(NULL);

    if (d == NULL) {
        log_errno("opendir", dir);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;

        if (strlen(de->d_name) < 24 || !str_is_oid_hex((struct str){de->d_name, 24}) ||
            (de->d_name[24] != '\0' && de->d_name[24] != '.')) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (lstat(path, &st) == -1) {
            continue;
        }
        memcpy(id, de->d_name, 24);
        id[24] = '\0';
        fn(ctx, id, de->d_name, (int64_t)(now - st.st_mtime));
    }
    closedir(d);
}

void
storage_each_video(struct storage *s,
                   void (*fn)(void *ctx, const char *video_id, const char *name, int64_t age_s),
                   void *ctx)
{
    each_entry(s->videos, fn, ctx);
}

void
storage_each_tmp(struct storage *s,
                 void (*fn)(void *ctx, const char *video_id, const char *name, int64_t age_s),
                 void *ctx)
{
    each_entry(s->tmp, fn, ctx);
}

void
storage_remove_tmp(struct storage *s, const char *name)
{
    char path[MEDIA_ROOT_MAX + 320];

    if (strchr(name, '/') != NULL || name[0] == '.') {
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", s->tmp, name);
    remove_tree_or_file(path);
}

static void
part_path(struct storage *s, const char *upload_id, char *out, size_t len)
{
    snprintf(out, len, "%s/%.24s", s->uploads, upload_id);
}

enum storage_status
storage_part_open(struct storage *s, const char *upload_id, bool create, struct storage_part *p)
{
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int e;

    p->s = s;
    part_path(s, upload_id, p->path, sizeof(p->path));
    p->fd = open(p->path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), MEDIA_FILE_MODE);
    if (p->fd == -1) {
        e = errno;
        if (e == ENOENT && !create) {
            return STORAGE_NOT_FOUND;
        }
        log_errno("open", p->path);
        return status_of(e);
    }
    if (fcntl(p->fd, F_OFD_SETLK, &lk) == -1) {
        e = errno;
        close(p->fd);
        p->fd = -1;
        if (e == EAGAIN || e == EACCES) {
            return STORAGE_BUSY;
        }
        log_errno("fcntl", p->path);
        return STORAGE_ERROR;
    }
    return STORAGE_OK;
}

enum storage_status
storage_part_truncate(struct storage_part *p, uint64_t off)
{
    struct stat st;

    if (fstat(p->fd, &st) == -1) {
        log_errno("fstat", p->path);
        return STORAGE_ERROR;
    }
    if ((uint64_t)st.st_size == off) {
        return STORAGE_OK;
    }
    if ((uint64_t)st.st_size < off) { /* growing it would count zeros as the client's bytes */
        log_ev(LOG_ERROR, "upload_part_short", "%s: %lld bytes, %llu counted", p->path,
               (long long)st.st_size, (unsigned long long)off);
        return STORAGE_ERROR;
    }
    if (ftruncate(p->fd, (off_t)off) == -1) {
        log_errno("ftruncate", p->path);
        return status_of(errno);
    }
    return STORAGE_OK;
}

enum storage_status
storage_part_write(struct storage_part *p, uint64_t off, const void *buf, size_t n)
{
    return write_full(p->fd, (int64_t)off, buf, n, p->path, NULL);
}

ssize_t
storage_part_read(struct storage_part *p, uint64_t off, void *buf, size_t n)
{
    ssize_t k;

    while ((k = pread(p->fd, buf, n, (off_t)off)) == -1 && errno == EINTR) {
    }
    if (k == -1) {
        log_errno("pread", p->path);
    }
    return k;
}

enum storage_status
storage_part_sync(struct storage_part *p)
{
    if (fsync(p->fd) == -1) {
        log_errno("fsync", p->path);
        return status_of(errno);
    }
    return STORAGE_OK;
}

enum storage_status
storage_part_publish(struct storage_part *p, const char *video_id, const char *name)
{
    char dir[MEDIA_ROOT_MAX + 64], dst[MEDIA_ROOT_MAX + 128], tmp[MEDIA_ROOT_MAX + 160];
    int e;

    if (fsync(p->fd) == -1) {
        e = errno;
        log_errno("fsync", p->path);
        return status_of(e);
    }
    snprintf(dir, sizeof(dir), "%s/%.24s", p->s->videos, video_id);
    snprintf(dst, sizeof(dst), "%s/%.32s", dir, name);
    /* One name for the second link whoever makes it: only the part's lock holder does, and
     * one a crash left is replaced, not kept beside the video for good. */
    snprintf(tmp, sizeof(tmp), "%s/.%.32s.link", dir, name);
    if (mkdir_p(dir) == -1) {
        return status_of(errno);
    }
    unlink(tmp);
    /* A second name first, then the final name in one step: readers see all or none. */
    if (link(p->path, tmp) == -1 || rename(tmp, dst) == -1) {
        e = errno;
        log_errno("link or rename", dst);
        unlink(tmp);
        return status_of(e);
    }
    fsync_dir(dir);
    fsync_dir(p->s->videos);
    return STORAGE_OK;
}

void
storage_part_close(struct storage_part *p)
{
    if (p->fd != -1) {
        close(p->fd);
        p->fd = -1;
    }
}

void
storage_part_remove(struct storage *s, const char *upload_id)
{
    char path[MEDIA_ROOT_MAX + 64];

    part_path(s, upload_id, path, sizeof(path));
    if (unlink(path) == -1 && errno != ENOENT) {
        log_errno("unlink", path);
    }
}

void
storage_each_part(struct storage *s,
                  void (*fn)(void *ctx, const char *upload_id, const char *name, int64_t age_s),
                  void *ctx)
{
    each_entry(s->uploads, fn, ctx);
}
