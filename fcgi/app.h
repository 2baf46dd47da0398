/*
 * app.h - the process-level state of one stremora-fcgi worker: made once at start-up
 * (after multiwatch forked and exec'd us, so the Mongo client is this process's own) and
 * freed at exit. Handlers reach it through r->app.
 */
#ifndef STREMORA_FCGI_APP_H
#define STREMORA_FCGI_APP_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "keys.h"

struct db;
struct lru;
struct host;
struct storage;

struct app {
    struct config cfg;
    struct keyring keys;
    ino_t keys_ino; /* of cfg.key_file when loaded: a change reloads */
    struct timespec keys_mtime;
    int64_t keys_checked_ms;  /* last stat of the key file */
    uint64_t keys_generation; /* bumped on reload: cached token checks become stale */
    struct db *db;
    struct lru *cache;
    struct host *host; /* the host's shared file: cache generations, worker rows, upload slots */
    struct storage *storage;
};

#endif
