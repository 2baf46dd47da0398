/*
 * host.c - the host's shared file: a fixed layout (magic, layout version, size; cache
 * generations; worker rows) mapped MAP_SHARED by every worker, and byte-range locks on
 * the same file for what must be owned (worker rows, upload slots). Shared words change
 * with atomic builtins only, so no lock is held across processes while memory is written
 * and a worker killed mid-write leaves nothing half-done. Locks are open file description
 * locks (F_OFD_SETLK): they belong to this process's descriptor and die with it.
 * Distinct keys may share a generation slot: that costs a spurious miss, never a stale hit.
 */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "str.h"

#define HOST_MAGIC  0x54534f48524d5453ull /* "STMRHOST" */
#define HOST_LAYOUT 2u                    /* layout 1 had no version field and pid slots */
#define GEN_SLOTS   4096
#define OPEN_TRIES  4 /* another process may replace the file while we look at it */

/* Lock offsets: one byte each, independent of the bytes of the layout. */
#define LOCK_INIT   0
#define LOCK_WORKER 1
#define LOCK_UPLOAD (LOCK_WORKER + HOST_WORKERS)

struct host_row {
    int32_t pid;
    int32_t unused;
    int64_t busy_since_ms; /* 0: waiting for a request */
};

struct host_file {
    uint64_t magic;
    uint32_t layout;
    uint32_t size;
    uint64_t gen[GEN_SLOTS];
    struct host_row rows[HOST_WORKERS];
};

struct host {
    struct host_file *f;
    int fd;
    int row;         /* this process's worker row, or -1 */
    int upload_slot; /* the upload slot this process holds, or -1 */
};

/* F_OFD_SETLK, F_OFD_SETLKW or F_OFD_GETLK on one byte; type F_WRLCK or F_UNLCK. A wait
 * (SETLKW) goes on through signals. *seen (GETLK) gets the lock found, F_UNLCK if none. */
static int
lock_byte(int fd, int cmd, short type, off_t at, short *seen)
{
    struct flock l;
    int rc;

    memset(&l, 0, sizeof(l));
    l.l_type = type;
    l.l_whence = SEEK_SET;
    l.l_start = at;
    l.l_len = 1;
    while ((rc = fcntl(fd, cmd, &l)) == -1 && errno == EINTR && cmd == F_OFD_SETLKW) {
    }
    if (rc == -1) {
        return -1;
    }
    if (seen != NULL) {
        *seen = l.l_type;
    }
    return 0;
}

/* Takes (F_WRLCK, waiting) or drops (F_UNLCK) the lock under which a file is checked. */
static int
init_lock(int fd, short type)
{
    return lock_byte(fd, F_OFD_SETLKW, type, LOCK_INIT, NULL);
}

static void
header_write(struct host_file *f)
{
    f->layout = HOST_LAYOUT;
    f->size = (uint32_t)sizeof(*f);
    __atomic_store_n(&f->magic, HOST_MAGIC, __ATOMIC_RELEASE);
}

/* Makes a fresh file beside path and renames it over path: processes that still map the
 * old one keep it, unharmed, until they exit. Returns its descriptor or -1. */
static int
replace_file(const char *path, char *err, size_t errlen)
{
    char tmp[4200];
    struct host_file *f;
    int fd;

    snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid());
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1 ||
        ftruncate(fd, (off_t)sizeof(*f)) == -1) {
        snprintf(err, errlen, "STREMORA_SHM_FILE: cannot create %s: %s", tmp, strerror(errno));
        goto fail;
    }
    f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (f == MAP_FAILED) {
        snprintf(err, errlen, "STREMORA_SHM_FILE: mmap %s: %s", tmp, strerror(errno));
        goto fail;
    }
    header_write(f);
    munmap(f, sizeof(*f));
    if (rename(tmp, path) == -1) {
        snprintf(err, errlen, "STREMORA_SHM_FILE: rename to %s: %s", path, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    if (fd != -1) {
        close(fd);
        unlink(tmp);
    }
    return -1;
}

/* True if fd is still the file at path (another process may have replaced it). */
static bool
is_current(int fd, const char *path)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/* Checks the file's header under the init lock; fills it in if the file is new. Returns
 * 1 if fd is ready, 0 if it must be replaced, -1 on error. */
static int
check_file(int fd, const char *path, char *err, size_t errlen)
{
    struct host_file head;
    struct stat st;
    ssize_t n;

    if (fstat(fd, &st) == -1) {
        snprintf(err, errlen, "STREMORA_SHM_FILE: stat %s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_size == 0 && ftruncate(fd, (off_t)sizeof(head)) == -1) {
        snprintf(err, errlen, "STREMORA_SHM_FILE: cannot size %s: %s", path, strerror(errno));
        return -1;
    }
    memset(&head, 0, sizeof(head.magic) + sizeof(head.layout) + sizeof(head.size));
    n = pread(fd, &head, offsetof(struct host_file, gen), 0);
    if (n == (ssize_t)offsetof(struct host_file, gen) && head.magic == HOST_MAGIC &&
        head.layout == HOST_LAYOUT && head.size == sizeof(head) &&
        (size_t)st.st_size == sizeof(head)) {
        return 1;
    }
    if (head.magic == 0 && (st.st_size == 0 || (size_t)st.st_size == sizeof(head))) {
        return 2; /* new (or never finished): initialised once mapped */
    }
    log_ev(LOG_WARN, "host_file_replaced",
           "%s has another layout (magic %llx, layout %u, %lld bytes): replaced by layout %u", path,
           (unsigned long long)head.magic, head.layout, (long long)st.st_size, HOST_LAYOUT);
    return 0;
}

/* Opens (creating or replacing) the file and returns its descriptor, holding nothing. */
static int
open_file(const char *path, char *err, size_t errlen)
{
    int fd, i, ok;

    for (i = 0; i < OPEN_TRIES; i++) {
        if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
            snprintf(err, errlen, "STREMORA_SHM_FILE: cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        if (init_lock(fd, F_WRLCK) == -1) {
            snprintf(err, errlen, "STREMORA_SHM_FILE: cannot lock %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (!is_current(fd, path)) { /* replaced while we waited for the lock */
            close(fd);
            continue;
        }
        if ((ok = check_file(fd, path, err, errlen)) == -1) {
            close(fd);
            return -1;
        }
        if (ok == 0) {
            int nfd = replace_file(path, err, errlen);

            close(fd); /* drops the init lock of the old file */
            return nfd;
        }
        if (ok == 2) {
            struct host_file *f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

            if (f == MAP_FAILED) {
                snprintf(err, errlen, "STREMORA_SHM_FILE: mmap %s: %s", path, strerror(errno));
                close(fd);
                return -1;
            }
            header_write(f);
            munmap(f, sizeof(*f));
        }
        init_lock(fd, F_UNLCK);
        return fd;
    }
    snprintf(err, errlen, "STREMORA_SHM_FILE: %s keeps being replaced", path);
    return -1;
}

struct host *
host_open(const char *path, char *err, size_t errlen)
{
    struct host *h;
    void *p;
    int fd;

    if ((fd = open_file(path, err, errlen)) == -1) {
        return NULL;
    }
    p = mmap(NULL, sizeof(struct host_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "STREMORA_SHM_FILE: mmap %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if ((h = malloc(sizeof(*h))) == NULL) {
        snprintf(err, errlen, "out of memory");
        munmap(p, sizeof(struct host_file));
        close(fd);
        return NULL;
    }
    h->f = p;
    h->fd = fd;
    h->row = -1;
    h->upload_slot = -1;
    return h;
}

void
host_close(struct host *h)
{
    if (h == NULL) {
        return;
    }
    munmap(h->f, sizeof(struct host_file));
    close(h->fd); /* drops every lock this process held */
    free(h);
}

void
host_key(char out[HOST_KEY_MAX], char kind, const char *id_hex)
{
    snprintf(out, HOST_KEY_MAX, "%c:%.24s", kind, id_hex);
}

void
host_touch(struct host *h, char kind, const char *id_hex)
{
    char key[HOST_KEY_MAX];

    host_key(key, kind, id_hex);
    host_gen_bump(h, key);
    if (kind == 'v') {
        host_gen_bump(h, HOST_KEY_VIDEO_LISTS);
    }
}

uint64_t
host_gen(const struct host *h, const char *key)
{
    if (h == NULL) {
        return 0;
    }
    return __atomic_load_n(&h->f->gen[str_hash(str_from(key)) % GEN_SLOTS], __ATOMIC_ACQUIRE);
}

void
host_gen_bump(struct host *h, const char *key)
{
    if (h == NULL) {
        return;
    }
    __atomic_add_fetch(&h->f->gen[str_hash(str_from(key)) % GEN_SLOTS], 1, __ATOMIC_RELEASE);
}

int
host_worker_join(struct host *h)
{
    int i;

    if (h == NULL) {
        return -1;
    }
    for (i = 0; i < HOST_WORKERS; i++) {
        if (lock_byte(h->fd, F_OFD_SETLK, F_WRLCK, LOCK_WORKER + i, NULL) == 0) {
            h->row = i;
            __atomic_store_n(&h->f->rows[i].busy_since_ms, 0, __ATOMIC_RELEASE);
            __atomic_store_n(&h->f->rows[i].pid, (int32_t)getpid(), __ATOMIC_RELEASE);
            return 0;
        }
    }
    log_ev(LOG_WARN, "host_rows_full", "all %d worker rows are taken: this worker is uncounted",
           HOST_WORKERS);
    return -1;
}

void
host_worker_busy(struct host *h, int64_t now_ms)
{
    if (h != NULL && h->row >= 0) {
        __atomic_store_n(&h->f->rows[h->row].busy_since_ms, now_ms, __ATOMIC_RELEASE);
    }
}

/* True if another process holds the lock byte at, or this one holds it through h. */
static bool
is_held(const struct host *h, off_t at, off_t own)
{
    short seen = F_UNLCK;

    if (own >= 0 && at == own) {
        return true;
    }
    return lock_byte(h->fd, F_OFD_GETLK, F_WRLCK, at, &seen) == 0 && seen != F_UNLCK;
}

void
host_workers_count(const struct host *h, int64_t now_ms, int64_t stuck_ms, struct host_workers *out)
{
    int i;

    memset(out, 0, sizeof(*out));
    if (h == NULL) {
        return;
    }
    for (i = 0; i < HOST_WORKERS; i++) {
        int64_t since;

        if (!is_held(h, LOCK_WORKER + i, h->row >= 0 ? LOCK_WORKER + h->row : -1)) {
            continue;
        }
        out->alive++;
        since = __atomic_load_n(&h->f->rows[i].busy_since_ms, __ATOMIC_ACQUIRE);
        if (since != 0) {
            out->busy++;
        }
        if (since == 0 || now_ms - since <= stuck_ms) {
            out->answering++;
        }
    }
}

/* Takes a free slot of [first, first + n). */
static int
claim(struct host *h, unsigned first, unsigned n)
{
    unsigned i;

    if (h == NULL) {
        return HOST_NO_SLOT;
    }
    for (i = first; i < first + n && i < HOST_UPLOAD_SLOTS; i++) {
        if (lock_byte(h->fd, F_OFD_SETLK, F_WRLCK, (off_t)(LOCK_UPLOAD + i), NULL) == 0) {
            h->upload_slot = (int)i;
            return (int)i;
        }
    }
    return -1;
}

int
host_upload_claim(struct host *h, unsigned max)
{
    return claim(h, 0,
                 max < HOST_UPLOAD_SLOTS - HOST_IMAGE_SLOTS ? max
                                                            : HOST_UPLOAD_SLOTS - HOST_IMAGE_SLOTS);
}

int
host_image_claim(struct host *h)
{
    return claim(h, HOST_UPLOAD_SLOTS - HOST_IMAGE_SLOTS, HOST_IMAGE_SLOTS);
}

void
host_upload_release(struct host *h, int slot)
{
    if (h != NULL && slot >= 0 && slot < HOST_UPLOAD_SLOTS) {
        lock_byte(h->fd, F_OFD_SETLK, F_UNLCK, LOCK_UPLOAD + slot, NULL);
        if (h->upload_slot == slot) {
            h->upload_slot = -1;
        }
    }
}

unsigned
host_uploads_taken(const struct host *h, unsigned max)
{
    unsigned i, n = 0;

    if (h == NULL) {
        return 0;
    }
    for (i = 0; i < max && i < HOST_UPLOAD_SLOTS; i++) {
        n += is_held(h, (off_t)(LOCK_UPLOAD + i),
                     h->upload_slot >= 0 ? LOCK_UPLOAD + h->upload_slot : -1);
    }
    return n;
}
