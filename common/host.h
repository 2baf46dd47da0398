/*
 * host.h - what the processes of one host share, in one file under the run folder
 * (STREMORA_SHM_FILE), mapped by every worker:
 *   - cache generations: a write bumps the slot of the object's key, and a cache entry
 *     recorded under another generation is a miss, so a change is seen by every worker of
 *     the host on its next request (DESIGN.md section 8);
 *   - a row per worker: its pid and since when it has been busy, for /health/ready;
 *   - upload slots: at most STREMORA_MAX_UPLOADS upload bodies are read at once, so that
 *     uploads never take every worker.
 * Rows and slots are owned through fcntl byte-range locks on the same file (open file
 * description locks), which the kernel drops when the owner dies however it dies: a
 * killed worker frees its slot, and a recycled pid never holds one it did not take.
 * The file starts with a magic number and a layout version; a file of another layout
 * (left by an older build) is replaced whole, never read as this one.
 */
#ifndef STREMORA_HOST_H
#define STREMORA_HOST_H

#include <stddef.h>
#include <stdint.h>

#define HOST_WORKERS      256 /* worker rows in the file (pool processes of one host) */
#define HOST_UPLOAD_SLOTS 64  /* upload slots in the file; STREMORA_MAX_UPLOADS <= this */

struct host;

/* What /health/ready reports of the host's workers. */
struct host_workers {
    unsigned alive;     /* rows held by a live process */
    unsigned busy;      /* of those, serving a request now */
    unsigned answering; /* idle, or busy for less than the given time */
};

/* Maps path, creating or replacing it as needed. Returns NULL with a reason in err. */
struct host *host_open(const char *path, char *err, size_t errlen);
void host_close(struct host *h);

#define HOST_KEY_MAX 32 /* bytes of an object's key: "<kind>:<24 hex>" and a NUL */
/* Writes the key of an object: kind 'u' user, 'v' video, 'f' session family ('l' names a
 * cached list). Every cache of the host (the workers' LRUs) names objects so. */
void host_key(char out[HOST_KEY_MAX], char kind, const char *id_hex);
/* Bumps the generation of an object (kind, id_hex) after a write: a shortcut of the two,
 * which for a video ('v') bumps HOST_KEY_VIDEO_LISTS too (any list may show it). */
void host_touch(struct host *h, char kind, const char *id_hex);
/* Returns the generation of key's slot (0 if h is NULL). */
uint64_t host_gen(const struct host *h, const char *key);
/* Bumps key's slot: every worker's cache entry for a key in that slot becomes stale. */
void host_gen_bump(struct host *h, const char *key);
/* The generation of every cached video list (fcgi/videos.c): any video's change ends them. */
#define HOST_KEY_VIDEO_LISTS "l:videos"
/* The generation of every cached page that shows a person (a card, a channel, a count of
 * subscribers): any user's change ends them. */
#define HOST_KEY_CHANNELS "l:channels"

/* Takes a worker row for this process until it exits. Returns 0, or -1 when all rows
 * are taken (logged; the worker runs uncounted). */
int host_worker_join(struct host *h);
/* Marks this process's row busy since now_ms (0: idle, waiting for a request). */
void host_worker_busy(struct host *h, int64_t now_ms);
/* Counts the rows of live processes; answering excludes those busy for more than
 * stuck_ms. */
void host_workers_count(const struct host *h, int64_t now_ms, int64_t stuck_ms,
                        struct host_workers *out);

#define HOST_NO_SLOT (-2) /* no file: uploads are not counted */
/* Takes an upload slot unless max are taken. Returns the slot, -1 when full, or
 * HOST_NO_SLOT when h is NULL. */
int host_upload_claim(struct host *h, unsigned max);
/* The last HOST_IMAGE_SLOTS slots are image encodes' (fcgi/images.c), never uploads': takes
 * one as host_upload_claim does; freed with host_upload_release. */
#define HOST_IMAGE_SLOTS 2
int host_image_claim(struct host *h);
/* Frees a slot from host_upload_claim (a negative slot is a no-op). */
void host_upload_release(struct host *h, int slot);
/* Returns how many of the first max slots are taken now (0 if h is NULL). */
unsigned host_uploads_taken(const struct host *h, unsigned max);

#endif
