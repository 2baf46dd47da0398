/*
 * metrics.c - the shared-memory file. A fixed layout (magic, version, slots) mapped
 * MAP_SHARED by every worker; slots are updated with atomic builtins only, so no lock is
 * shared between processes and a worker killed mid-write leaves nothing half-done.
 * Distinct keys may share a slot: that costs a spurious miss, never a stale hit.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define METRICS_MAGIC     0x53544d5231ull /* "STMR1" */
#define METRICS_GEN_SLOTS 4096

struct metrics_file {
    uint64_t magic;
    uint64_t gen[METRICS_GEN_SLOTS];
    int32_t uploads[METRICS_UPLOAD_SLOTS]; /* pid of a worker reading an upload, or 0 */
};

struct metrics {
    struct metrics_file *f;
};

struct metrics *
metrics_open(const char *path)
{
    struct metrics *m;
    struct stat st;
    void *p;
    int fd;

    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
        log_errno("open", path);
        return NULL;
    }
    if (fstat(fd, &st) == -1 || ((size_t)st.st_size < sizeof(struct metrics_file) &&
                                 ftruncate(fd, (off_t)sizeof(struct metrics_file)) == -1)) {
        log_errno("ftruncate", path);
        close(fd);
        return NULL;
    }
    p = mmap(NULL, sizeof(struct metrics_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        log_errno("mmap", path);
        return NULL;
    }
    if ((m = malloc(sizeof(*m))) == NULL) {
        munmap(p, sizeof(struct metrics_file));
        return NULL;
    }
    m->f = p;
    /* A fresh file is all zeros; stamping it twice from two workers is harmless. */
    __atomic_store_n(&m->f->magic, METRICS_MAGIC, __ATOMIC_RELAXED);
    return m;
}

void
metrics_close(struct metrics *m)
{
    if (m == NULL) {
        return;
    }
    munmap(m->f, sizeof(struct metrics_file));
    free(m);
}

static size_t
slot_of(const char *key)
{
    uint32_t h = 2166136261u;

    for (; *key != '\0'; key++) {
        h = (h ^ (unsigned char)*key) * 16777619u;
    }
    return h % METRICS_GEN_SLOTS;
}

uint64_t
metrics_gen(const struct metrics *m, const char *key)
{
    if (m == NULL) {
        return 0;
    }
    return __atomic_load_n(&m->f->gen[slot_of(key)], __ATOMIC_ACQUIRE);
}

void
metrics_gen_bump(struct metrics *m, const char *key)
{
    if (m != NULL) {
        __atomic_add_fetch(&m->f->gen[slot_of(key)], 1, __ATOMIC_RELEASE);
    }
}

/* A slot is free when it holds 0 or the pid of a process that is gone (a killed worker). */
static bool
slot_is_free(int32_t pid)
{
    return pid == 0 || (kill((pid_t)pid, 0) == -1 && errno == ESRCH);
}

int
metrics_upload_begin(struct metrics *m, unsigned max)
{
    int32_t me = (int32_t)getpid(), pid;
    unsigned busy = 0;
    int i, free_slot = -1;

    if (m == NULL) {
        return METRICS_NO_SLOT;
    }
    for (i = 0; i < METRICS_UPLOAD_SLOTS; i++) {
        pid = __atomic_load_n(&m->f->uploads[i], __ATOMIC_ACQUIRE);
        if (!slot_is_free(pid)) {
            busy++;
        } else if (free_slot == -1) {
            free_slot = i;
        }
    }
    if (busy >= max || free_slot == -1) {
        return -1;
    }
    /* Two workers may race for the same free slot: the compare-and-swap decides; the loser
     * looks again. Two may also both see busy == max - 1 and both start: one too many, for
     * the length of one upload, which the cap tolerates. */
    for (i = free_slot; i < METRICS_UPLOAD_SLOTS; i++) {
        pid = __atomic_load_n(&m->f->uploads[i], __ATOMIC_ACQUIRE);
        if (slot_is_free(pid) && __atomic_compare_exchange_n(&m->f->uploads[i], &pid, me, false,
                                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            return i;
        }
    }
    return -1;
}

void
metrics_upload_end(struct metrics *m, int slot)
{
    if (m != NULL && slot >= 0 && slot < METRICS_UPLOAD_SLOTS) {
        __atomic_store_n(&m->f->uploads[slot], 0, __ATOMIC_RELEASE);
    }
}
