/*
 * main.c - stremora-fcgi: start-up, the accept loop, and the middleware that runs from
 * the matched route's row (body limit, access token) before its handler. One request at
 * a time; everything a request allocates lives in one arena, reset after the response.
 * Start-up exits with one line naming what is wrong; once the loop runs, nothing exits:
 * a handler's failure answers 500 and the loop goes on (multiwatch gives up on children
 * that crash in a loop).
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
#include "bounds.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "jwt.h"
#include "keys.h"
#include "log.h"
#include "lru.h"
#include "metrics.h"
#include "route.h"
#include "storage.h"

static volatile sig_atomic_t reload_keys;

static void
on_sighup(int sig)
{
    (void)sig;
    reload_keys = 1;
}

static int64_t
mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Reloads the key file on SIGHUP or when it changes (inode or mtime in ns, checked at most
 * once a second: rotate-keys renames a new file into place). A bad file keeps the keys we
 * have and is reported once, until it changes again. */
static void
maybe_reload_keys(struct app *app)
{
    int64_t now = db_now_ms();
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

/*
 * Verified tokens are remembered in the LRU under their signature, with the token's exact
 * bytes and claims: a client's next request with the same token costs a lookup and a
 * compare instead of a JWT parse (~13 us, the largest part of a hot GET). A hit still
 * checks expiry; a key reload (keys_generation) makes every entry stale.
 */
struct token_entry {
    struct jwt_claims claims;
    size_t len;
    char token[MAX_JWT];
};

static enum jwt_status
verify_token(struct request *r, struct str tok, struct jwt_claims *c)
{
    struct app *app = r->app;
    const struct token_entry *hit;
    struct token_entry e;
    struct str sig;
    const char *dot;
    char key[MAX_CACHE_KEY + 1];
    int64_t now = db_now_ms();
    enum jwt_status st;
    size_t len;

    dot = tok.len > 0 ? memrchr(tok.p, '.', tok.len) : NULL;
    sig = dot != NULL ? (struct str){dot + 1, tok.len - (size_t)(dot + 1 - tok.p)} : STR_NULL;
    if (tok.len <= MAX_JWT && sig.len > 0 && sig.len + 2 <= MAX_CACHE_KEY) {
        snprintf(key, sizeof(key), "t:%.*s", (int)sig.len, sig.p);
        hit = lru_get(app->cache, key, (uint64_t)now, app->keys_generation, &len);
        if (hit != NULL && hit->len == tok.len && memcmp(hit->token, tok.p, tok.len) == 0) {
            if (now / 1000 > hit->claims.exp + JWT_LEEWAY) {
                return JWT_EXPIRED;
            }
            *c = hit->claims;
            return JWT_OK;
        }
    } else {
        key[0] = '\0';
    }
    if ((st = jwt_verify(&app->keys, tok, now / 1000, c)) == JWT_OK && key[0] != '\0') {
        memset(&e, 0, offsetof(struct token_entry, token));
        e.claims = *c;
        e.len = tok.len;
        memcpy(e.token, tok.p, tok.len);
        lru_put(app->cache, key, &e, offsetof(struct token_entry, token) + tok.len, (uint64_t)now,
                app->keys_generation);
    }
    return st;
}

/* Verifies the bearer token and fills r->user. Returns 0, or -1 after answering 401/403. */
static int
authenticate(struct request *r, enum route_auth need)
{
    struct str auth = req_env(r, "HTTP_AUTHORIZATION"), tok;
    struct jwt_claims c;
    enum jwt_status st;

    if (auth.p == NULL) {
        if (need == AUTH_OPTIONAL) {
            return 0;
        }
        respond_problem(r, PROB_MISSING_TOKEN, NULL);
        return -1;
    }
    if (auth.len > MAX_JWT + 7 || auth.len < 7 || strncasecmp(auth.p, "Bearer ", 7) != 0) {
        respond_problem(r, PROB_INVALID_TOKEN, "Use Authorization: Bearer <token>");
        return -1;
    }
    tok = str_trim((struct str){auth.p + 7, auth.len - 7});
    if ((st = verify_token(r, tok, &c)) != JWT_OK) {
        respond_problem(r, st == JWT_EXPIRED ? PROB_TOKEN_EXPIRED : PROB_INVALID_TOKEN, NULL);
        return -1;
    }
    r->user.authenticated = true;
    memcpy(r->user.id, c.sub, sizeof(r->user.id));
    memcpy(r->user.role, c.role, sizeof(r->user.role));
    memcpy(r->user.sid, c.sid, sizeof(r->user.sid));
    if (need == AUTH_ADMIN && strcmp(c.role, "admin") != 0) {
        respond_problem(r, PROB_FORBIDDEN, "Administrators only");
        return -1;
    }
    return 0;
}

static void
dispatch(struct request *r)
{
    const struct route *rt;
    char allow[96];
    unsigned allow_mask;
    uint64_t len = 0;
    struct str cl;

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
    if (rt->auth != AUTH_NONE && authenticate(r, rt->auth) == -1) {
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
    /* Degrade rather than refuse: without them the worker still serves correctly. */
    app.cache = lru_new(app.cfg.cache_entries, app.cfg.cache_bytes, app.cfg.cache_ttl_ms);
    if (!http_is_cgi(conn)) {
        app.shm = metrics_open(app.cfg.shm_file);
    }
    if (!http_is_cgi(conn)) {
        videos_sweep(&app);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, on_sighup);

    r.arena = arena;
    r.app = &app;
    while (http_accept(conn, &r) == 0) {
        int64_t t0 = mono_us();

        log_set_request(r.request_id);
        maybe_reload_keys(&app);
        dispatch(&r);
        access_line(&r, mono_us() - t0); /* before finish: it frees the params */
        http_finish(conn);
        log_set_request(NULL);
        arena_reset(arena);
        r.arena = arena;
        r.app = &app;
    }
    arena_free(arena);
    lru_free(app.cache);
    metrics_close(app.shm);
    storage_free(app.storage);
    db_free(app.db);
    http_conn_free(conn);
    keys_fini(&app.keys);
    return 0;
}
