/*
 * config.c - settings from the environment. Every variable has a default that suits
 * `make run` on one machine; production sets MONGODB_URI and the paths. Numbers are read
 * with str_to_u64 and checked against a range, so "10k" or "-1" stop start-up instead of
 * becoming 10 or a huge value.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "str.h"

#define CFG_LINE 4096 /* bytes of one line in the STREMORA_CONFIG file */

struct num_var {
    const char *name;
    size_t offset;
    uint64_t def, min, max;
};

static const struct num_var num_vars[] = {
    {"STREMORA_MAX_UPLOAD", offsetof(struct config, max_upload), 2ull << 30, 1024, 1ull << 40},
    {"STREMORA_LINK_TTL", offsetof(struct config, link_ttl), 3600, 1, 7 * 86400},
    {"STREMORA_REFRESH_TTL", offsetof(struct config, refresh_ttl), 30 * 86400, 60, 365 * 86400},
    {"STREMORA_REFRESH_GRACE", offsetof(struct config, refresh_grace), 5, 0, 60},
    {"STREMORA_REFRESH_RETRY", offsetof(struct config, refresh_retry), 60, 0, 3600},
    {"STREMORA_CACHE_ENTRIES", offsetof(struct config, cache_entries), 10000, 0, 1000000},
    {"STREMORA_CACHE_BYTES", offsetof(struct config, cache_bytes), 8u << 20, 0, 1ull << 32},
    {"STREMORA_CACHE_TTL_MS", offsetof(struct config, cache_ttl_ms), 5000, 0, 3600000},
    {"STREMORA_MAX_UPLOADS", offsetof(struct config, max_uploads), 3, 1,
     HOST_UPLOAD_SLOTS - HOST_IMAGE_SLOTS},
    {"STREMORA_REQUEST_TIMEOUT", offsetof(struct config, request_timeout), 30, 1, 86400},
    {"STREMORA_UPLOAD_STALE", offsetof(struct config, upload_stale), 3600, 3, 30 * 86400},
    {"STREMORA_UPLOAD_EXPIRY", offsetof(struct config, upload_expiry), 86400, 5, 30 * 86400},
    {"STREMORA_JOB_ATTEMPTS", offsetof(struct config, job_attempts), 3, 1, 100},
    {"STREMORA_JOB_LEASE", offsetof(struct config, job_lease), 60, 2, 3600},
    {"STREMORA_JOB_BACKOFF_MS", offsetof(struct config, job_backoff_ms), 30000, 10, 3600000},
    {"STREMORA_JOB_POLL_MS", offsetof(struct config, job_poll_ms), 1000, 10, 60000},
    {"STREMORA_SWEEP_INTERVAL", offsetof(struct config, sweep_interval), 300, 1, 86400},
    {"STREMORA_TRANSCODE_TIMEOUT", offsetof(struct config, transcode_timeout), 6 * 3600, 10,
     7 * 86400},
    {"STREMORA_WEBHOOK_ALLOW_PRIVATE", offsetof(struct config, webhook_allow_private), 0, 0, 1},
};

struct str_var {
    const char *name;
    size_t offset, size;
    const char *def;
};

static const struct str_var str_vars[] = {
    {"MONGODB_URI", offsetof(struct config, mongodb_uri), CFG_URI_MAX, "mongodb://127.0.0.1:27017"},
    {"STREMORA_DB_NAME", offsetof(struct config, db_name), 64, "stremora"},
    {"STREMORA_KEY_FILE", offsetof(struct config, key_file), PATH_MAX, "var/keys.json"},
    {"STREMORA_MEDIA_ROOT", offsetof(struct config, media_root), PATH_MAX, "var/media"},
    {"STREMORA_SHM_FILE", offsetof(struct config, shm_file), PATH_MAX, "var/run/stremora.shm"},
};

/* Loads KEY=VALUE lines from path into the environment without overriding what is set. */
static int
load_file(const char *path, char *err, size_t errlen)
{
    char line[CFG_LINE];
    FILE *f = fopen(path, "re");
    int rc = 0;

    if (f == NULL) {
        snprintf(err, errlen, "STREMORA_CONFIG: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        struct str s = str_trim(str_from(line)), key, val;

        while (s.len > 0 && (s.p[s.len - 1] == '\n' || s.p[s.len - 1] == '\r')) {
            s.len--;
        }
        if (s.len == 0 || s.p[0] == '#') {
            continue;
        }
        val = str_cut(s, '=', &key);
        if (val.p == NULL || key.len == 0) {
            snprintf(err, errlen, "STREMORA_CONFIG: %s: a line is not KEY=VALUE", path);
            rc = -1;
            break;
        }
        line[(size_t)(key.p - line) + key.len] = '\0';
        line[(size_t)(val.p - line) + val.len] = '\0';
        setenv(key.p, val.p, 0);
    }
    fclose(f);
    return rc;
}

static int
parse_level(const char *s, enum log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int
cfg_load(struct config *c, char *err, size_t errlen)
{
    const char *v;
    size_t i;

    memset(c, 0, sizeof(*c));
    if ((v = getenv("STREMORA_CONFIG")) != NULL && *v != '\0' && load_file(v, err, errlen)) {
        return -1;
    }
    for (i = 0; i < sizeof(str_vars) / sizeof(str_vars[0]); i++) {
        const struct str_var *sv = &str_vars[i];

        v = getenv(sv->name);
        if (v == NULL || *v == '\0') {
            v = sv->def;
        }
        if (strlen(v) >= sv->size) {
            snprintf(err, errlen, "%s: longer than %zu bytes", sv->name, sv->size - 1);
            return -1;
        }
        strcpy((char *)c + sv->offset, v);
    }
    for (i = 0; i < sizeof(num_vars) / sizeof(num_vars[0]); i++) {
        const struct num_var *nv = &num_vars[i];
        uint64_t *dst = (uint64_t *)(void *)((char *)c + nv->offset);

        v = getenv(nv->name);
        if (v == NULL || *v == '\0') {
            *dst = nv->def;
        } else if (str_to_u64(str_from(v), nv->min, nv->max, dst) == -1) {
            snprintf(err, errlen, "%s: not a whole number in [%llu, %llu]: %.40s", nv->name,
                     (unsigned long long)nv->min, (unsigned long long)nv->max, v);
            return -1;
        }
    }
    c->log_level = LOG_INFO;
    v = getenv("STREMORA_LOG_LEVEL");
    if (v != NULL && *v != '\0' && parse_level(v, &c->log_level) == -1) {
        snprintf(err, errlen, "STREMORA_LOG_LEVEL: not one of debug, info, warn, error");
        return -1;
    }
    return 0;
}
