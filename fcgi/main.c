/*
 * main.c - stremora-fcgi: start-up, the accept loop, and the middleware that runs from
 * the matched route's row (body limit, access token through bearer.c) before its handler.
 * One request at a time; everything a request allocates lives in one arena, reset after
 * the response. Start-up exits with one line naming what is wrong; once the loop runs,
 * nothing exits: a handler's failure answers 500 and the loop goes on (multiwatch gives up
 * on children that crash in a loop). The one exception is the watchdog (watchdog.h): a
 * request still running at STREMORA_REQUEST_TIMEOUT ends the process, which multiwatch
 * replaces, so a worker blocked for good costs one request, never the pool.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "arena.h"
#include "bearer.h"
#include "bounds.h"
#include "clock.h"
#include "db.h"
#include "handlers.h"
#include "host.h"
#include "http.h"
#include "keys.h"
#include "log.h"
#include "lru.h"
#include "route.h"
#include "storage.h"
#include "tus.h"
#include "watchdog.h"

static volatile sig_atomic_t reload_keys;

static void
on_sighup(int sig)
{
    (void)sig;
    reload_keys = 1;
}

/* Opens what the workers of this host share (host.h); a pool worker takes a row there.
 * A one-request run from a shell shares the caches' generations and the upload slots too.
 * Without the file the worker still serves correctly: caches fall back to their TTL,
 * uploads and workers go uncounted. */
static void
host_join(struct app *app, bool pool_worker)
{
    char err[512];

    if ((app->host = host_open(app->cfg.shm_file, err, sizeof(err))) == NULL) {
        log_ev(LOG_WARN, "host_file_unavailable", "%s", err);
        return;
    }
    if (pool_worker) {
        host_worker_join(app->host);
    }
}

/* Reloads the key file on SIGHUP or when it changes (inode or mtime in ns, checked at most
 * once a second: rotate-keys renames a new file into place). A bad file keeps the keys we
 * have and is reported once, until it changes again. */
static void
maybe_reload_keys(struct app *app)
{
    int64_t now = clock_mono_ms();
    struct keyring ring;
    struct stat st;
    char err[256];
    size_t n;

    if (!reload_keys && now - app->keys_checked_ms < 1000) {
        return;
    }
    app->keys_checked_ms = now;
    if (stat(app->cfg.key_file, &st) == -1 || (!reload_keys && st.st_ino == app->keys_ino &&
                                               st.st_mtim.tv_sec == app->keys_mtime.tv_sec &&
                                               st.st_mtim.tv_nsec == app->keys_mtime.tv_nsec)) {
        return;
    }
    reload_keys = 0;
    app->keys_ino = st.st_ino;
    app->keys_mtime = st.st_mtim;
    if (keys_load(app->cfg.key_file, &ring, err, sizeof(err)) == -1) {
        log_ev(LOG_ERROR, "keys_reload_failed", "%s", err);
        return;
    }
    n = ring.n;
    keys_fini(&app->keys);
    app->keys = ring;
    keys_fini(&ring); /* the copy in app->keys is the one kept */
    app->keys_generation++;
    log_ev(LOG_INFO, "keys_reloaded", "%zu keys", n);
}

static void
dispatch(struct request *r)
{
    const struct route *rt;
    char allow[96];
    unsigned allow_mask;
    uint64_t len = 0;
    struct str cl;

    /* tus: every answer of /api/v1/uploads names the protocol, those of the router and of
     * the auth middleware included (fcgi/uploads.c). */
    if (str_eq_cstr(r->path, "/api/v1/uploads") || str_has_prefix(r->path, "/api/v1/uploads/")) {
        respond_header(r, "Tus-Resumable: " TUS_VERSION);
    }
    switch (route_match(routes, nroutes, r->method, r->path, r, &rt, &allow_mask)) {
    case ROUTE_NOT_FOUND:
        r->route_pattern = "-";
        respond_problem(r, PROB_NOT_FOUND, NULL);
        return;
    case ROUTE_METHOD_NOT_ALLOWED:
        r->route_pattern = "-";
        route_allow_format(allow_mask, allow, sizeof(allow));
        respond_header(r, "Allow: %s", allow);
        respond_problem(r, PROB_METHOD_NOT_ALLOWED, NULL);
        return;
    case ROUTE_FOUND:
        break;
    }
    r->route_pattern = rt->pattern;
    r->body_limit = rt->body_limit;
    cl = req_env(r, "CONTENT_LENGTH");
    if (cl.len > 0 && (str_to_u64(cl, 0, UINT64_MAX, &len) == -1 ||
                       (rt->body_limit != BODY_STREAM && len > rt->body_limit))) {
        respond_problem(r, PROB_BODY_TOO_LARGE, NULL);
        return;
    }
    watchdog_arm(http_method_name(r->method), rt->pattern, r->request_id);
    if (rt->auth != AUTH_NONE && bearer_require(r, rt->auth) == -1) {
        return;
    }
    if (rt->handler(r) == -1 && !r->responded) {
        log_ev(LOG_ERROR, "handler_failed", "%s answered nothing", rt->pattern);
    }
    if (!r->responded) {
        respond_problem(r, PROB_INTERNAL, NULL);
    }
}

static void
access_line(const struct request *r, int64_t dur_us)
{
    char line[1024];
    size_t n = 0;
    time_t now = time(NULL);
    struct tm tm;
    char ts[32];

    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    n = (size_t)snprintf(line, sizeof(line),
                         "{\"ts\":\"%s\",\"level\":\"info\",\"event\":"
                         "\"access\",\"req\":\"",
                         ts);
    log_escape(line, sizeof(line) - 200, &n, r->request_id != NULL ? r->request_id : "");
    n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"method\":\"%s\",\"route\":\"",
                          http_method_name(r->method));
    log_escape(line, sizeof(line) - 160, &n, r->route_pattern != NULL ? r->route_pattern : "-");
    snprintf(line + n, sizeof(line) - n,
             "\",\"status\":%d,\"code\":\"%s\",\"dur_ms\":%.3f,\"user\":\"%s\",\"bytes\":%llu}",
             r->status, r->code != NULL ? r->code : "", (double)dur_us / 1000.0, r->user.id,
             (unsigned long long)r->bytes_out);
    log_raw(line);
}

static void
die(const char *what)
{
    fprintf(stderr, "stremora-fcgi: %s\n", what);
    exit(1);
}

int
main(void)
{
    struct app app;
    struct http_conn *conn;
    struct arena *arena;
    struct request r;
    struct stat st;
    char err[512];

    memset(&app, 0, sizeof(app));
    if (cfg_load(&app.cfg, err, sizeof(err)) == -1) {
        die(err);
    }
    log_init("stremora-fcgi", app.cfg.log_level);
    if (keys_load(app.cfg.key_file, &app.keys, err, sizeof(err)) == -1) {
        die(err);
    }
    if (stat(app.cfg.key_file, &st) == 0) {
        app.keys_ino = st.st_ino;
        app.keys_mtime = st.st_mtim;
    }
    if ((conn = http_conn_new()) == NULL) {
        die("cannot start libfcgi");
    }
    if ((app.db = db_new(&app.cfg, err, sizeof(err))) == NULL) {
        die(err);
    }
    if ((app.storage = storage_new(&app.cfg, err, sizeof(err))) == NULL) {
        die(err);
    }
    if ((arena = arena_new(MAX_REQ_ARENA)) == NULL) {
        die("out of memory");
    }
    /* Degrade rather than refuse: without it the worker still serves correctly. */
    app.cache = lru_new(app.cfg.cache_entries, app.cfg.cache_bytes, app.cfg.cache_ttl_ms);
    host_join(&app, !http_is_cgi(conn));
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, on_sighup);
    if (watchdog_init((unsigned)app.cfg.request_timeout) == -1) {
        die("cannot install the request watchdog");
    }

    r.arena = arena;
    r.app = &app;
    while (http_accept(conn, &r) == 0) {
        int64_t t0 = clock_mono_us();

        host_worker_busy(app.host, t0 / 1000);
        log_set_request(r.request_id);
        maybe_reload_keys(&app);
        dispatch(&r);
        /* What the request held (locks, upload slots, database handles) goes before its
         * answer does: a client that sends its next request the moment it has the answer
         * never meets its own leftovers (a tus upload's lock: 423). */
        arena_run_deferred(arena);
        access_line(&r, clock_mono_us() - t0); /* before finish: it frees the params */
        http_finish(conn);
        watchdog_disarm();
        host_worker_busy(app.host, 0);
        log_set_request(NULL);
        arena_reset(arena);
        r.arena = arena;
        r.app = &app;
    }
    arena_free(arena);
    lru_free(app.cache);
    host_close(app.host);
    storage_free(app.storage);
    db_free(app.db);
    http_conn_free(conn);
    keys_fini(&app.keys);
    return 0;
}
