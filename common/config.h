/*
 * config.h - settings from the environment (STREMORA_*, MONGODB_URI), optionally loaded
 * first from the KEY=VALUE file named by STREMORA_CONFIG (the environment wins). Read once
 * at start-up; a bad value stops start-up with one line naming the variable. docs/config.md
 * lists every variable with its default.
 */
#ifndef STREMORA_CONFIG_H
#define STREMORA_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CFG_URI_MAX 1024 /* bytes of MONGODB_URI */

struct config {
    char mongodb_uri[CFG_URI_MAX];  /* MONGODB_URI */
    char db_name[64];               /* STREMORA_DB_NAME */
    char key_file[PATH_MAX];        /* STREMORA_KEY_FILE */
    char media_root[PATH_MAX];      /* STREMORA_MEDIA_ROOT */
    char shm_file[PATH_MAX];        /* STREMORA_SHM_FILE: the host's shared file (host.h) */
    uint64_t max_upload;            /* STREMORA_MAX_UPLOAD: bytes of one upload */
    uint64_t link_ttl;              /* STREMORA_LINK_TTL: seconds a media link lives */
    uint64_t refresh_ttl;           /* STREMORA_REFRESH_TTL: seconds a refresh token lives */
    uint64_t refresh_grace;         /* STREMORA_REFRESH_GRACE: seconds a spent one still works */
    uint64_t refresh_retry;         /* STREMORA_REFRESH_RETRY: seconds a lost answer is re-sent */
    uint64_t cache_entries;         /* STREMORA_CACHE_ENTRIES */
    uint64_t cache_bytes;           /* STREMORA_CACHE_BYTES */
    uint64_t cache_ttl_ms;          /* STREMORA_CACHE_TTL_MS */
    uint64_t max_uploads;           /* STREMORA_MAX_UPLOADS: read at once on one host */
    uint64_t request_timeout;       /* STREMORA_REQUEST_TIMEOUT: seconds before the watchdog */
    uint64_t upload_stale;          /* STREMORA_UPLOAD_STALE: seconds an upload may go quiet */
    uint64_t upload_expiry;         /* STREMORA_UPLOAD_EXPIRY: seconds a resumable upload lives
                                       after its last PATCH */
    uint64_t job_attempts;          /* STREMORA_JOB_ATTEMPTS: tries of a processing job */
    uint64_t job_lease;             /* STREMORA_JOB_LEASE: seconds a claim holds unrenewed */
    uint64_t job_backoff_ms;        /* STREMORA_JOB_BACKOFF_MS: first wait before a retry */
    uint64_t job_poll_ms;           /* STREMORA_JOB_POLL_MS: idle wait between looks */
    uint64_t sweep_interval;        /* STREMORA_SWEEP_INTERVAL: seconds between sweeps */
    uint64_t transcode_timeout;     /* STREMORA_TRANSCODE_TIMEOUT: seconds of one ffmpeg run */
    uint64_t webhook_allow_private; /* STREMORA_WEBHOOK_ALLOW_PRIVATE: 1 lets webhooks reach
                                      loopback and private addresses (local stacks, tests) */
    enum log_level log_level;       /* STREMORA_LOG_LEVEL: debug, info, warn, error */
};

/* Fills c from the environment. Returns 0, or -1 with one line naming the bad variable in
 * err (errlen bytes). */
int cfg_load(struct config *c, char *err, size_t errlen);

#endif
