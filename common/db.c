/*
 * db.c - the process's MongoDB client and the helpers every db_<collection>.c shares.
 * The client comes from a mongoc_client_pool_t of this process, popped once and kept:
 * a pooled client never scans the topology in the caller's thread (background monitor
 * threads do), so it never reaches the single-threaded scanner that deadlocks on a
 * failed connection in Debian's libmongoc 1.23 (upstream CDRIVER-4666). A request that
 * meets a down server waits at most serverSelectionTimeoutMS and fails; the monitors
 * reconnect when the server is back, with no restart. While the monitors still see the
 * server down after a failure (DB_FAIL_FAST_MS), requests fail at once instead of each
 * waiting out a selection: a worker then answers 503 in microseconds and stays free for
 * what needs no database (cached GETs).
 */
#include "db.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "clock.h"
#include "config.h"
#include "log.h"

#define DB_FAIL_FAST_MS 5000 /* after a failure, how long "the monitors say down" is trusted */
#define DB_HEARTBEAT_MS 1000 /* monitor checks: how soon a server that is back is seen */
#define DB_DROP_ARENA   (1u << 20) /* bytes of a drop's scratch arena: one page and its writes */

struct db {
    mongoc_client_pool_t *pool;
    mongoc_client_t *client; /* popped from pool at start, pushed back at the end */
    mongoc_database_t *database;
};

static bool mongoc_ready;
static int64_t failed_at_ms; /* monotonic time of the last DB_UNAVAILABLE; 0 if none */

static void
set_default_ms(mongoc_uri_t *uri, const char *option, int32_t ms)
{
    if (!mongoc_uri_has_option(uri, option)) {
        mongoc_uri_set_option_as_int32(uri, option, ms);
    }
}

/* Pops the client, which starts the pool's monitor threads. They start with every signal
 * blocked, so that the process's signals (SIGALRM, SIGHUP, libfcgi's SIGUSR1) always
 * reach the thread that runs requests, whose blocking calls they must interrupt. */
static mongoc_client_t *
pop_client(mongoc_client_pool_t *pool)
{
    sigset_t all, old;
    mongoc_client_t *client;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    client = mongoc_client_pool_pop(pool);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return client;
}

struct db *
db_new(const struct config *c, char *err, size_t errlen)
{
    bson_error_t e;
    mongoc_uri_t *uri;
    struct db *db;

    if (!mongoc_ready) {
        mongoc_init();
        mongoc_ready = true;
    }
    if ((uri = mongoc_uri_new_with_error(c->mongodb_uri, &e)) == NULL) {
        snprintf(err, errlen, "MONGODB_URI: %s", e.message);
        return NULL;
    }
    set_default_ms(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000);
    set_default_ms(uri, MONGOC_URI_CONNECTTIMEOUTMS, 2000);
    set_default_ms(uri, MONGOC_URI_SOCKETTIMEOUTMS, 5000);
    set_default_ms(uri, MONGOC_URI_HEARTBEATFREQUENCYMS, DB_HEARTBEAT_MS);
    /* One worker's retries must not stretch an outage past the 3 s promise. */
    mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYREADS, false);
    mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYWRITES, false);
    /* A single-threaded process uses one client; the pool is for its monitors. */
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_MAXPOOLSIZE, 1);
    if ((db = calloc(1, sizeof(*db))) == NULL) {
        mongoc_uri_destroy(uri);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    db->pool = mongoc_client_pool_new_with_error(uri, &e);
    mongoc_uri_destroy(uri);
    if (db->pool == NULL) {
        snprintf(err, errlen, "MONGODB_URI: %s", e.message);
        free(db);
        return NULL;
    }
    mongoc_client_pool_set_error_api(db->pool, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_set_appname(db->pool, "stremora");
    if ((db->client = pop_client(db->pool)) == NULL) {
        snprintf(err, errlen, "MONGODB_URI: cannot make a client");
        mongoc_client_pool_destroy(db->pool);
        free(db);
        return NULL;
    }
    db->database = mongoc_client_get_database(db->client, c->db_name);
    return db;
}

void
db_free(struct db *db)
{
    if (db == NULL) {
        return;
    }
    mongoc_database_destroy(db->database);
    mongoc_client_pool_push(db->pool, db->client);
    mongoc_client_pool_destroy(db->pool);
    free(db);
}

static void
coll_destroy(void *p)
{
    mongoc_collection_destroy(p);
}

/* True if a command failed for want of a server lately and every server the monitors know
 * of is still down: another attempt would only wait out serverSelectionTimeoutMS. */
static bool
is_known_down(struct db *db)
{
    mongoc_server_description_t **sds;
    bool down = true;
    size_t i, n = 0;

    if (failed_at_ms == 0 || clock_mono_ms() - failed_at_ms > DB_FAIL_FAST_MS) {
        return false;
    }
    sds = mongoc_client_get_server_descriptions(db->client, &n);
    for (i = 0; i < n; i++) {
        down &= strcmp(mongoc_server_description_type(sds[i]), "Unknown") == 0;
    }
    mongoc_server_descriptions_destroy_all(sds, n);
    return down;
}

mongoc_collection_t *
db_coll(struct arena *a, struct db *db, const char *name, enum db_status *st)
{
    mongoc_collection_t *c;

    if (is_known_down(db)) {
        *st = DB_UNAVAILABLE;
        return NULL;
    }
    *st = DB_ERROR;
    c = mongoc_database_get_collection(db->database, name);
    if (c != NULL && arena_defer(a, coll_destroy, c) == -1) {
        mongoc_collection_destroy(c);
        return NULL;
    }
    return c;
}

static void
bson_free_cb(void *p)
{
    bson_destroy(p);
}

bson_t *
db_bson_new(struct arena *a)
{
    bson_t *b = bson_new();

    if (b != NULL && arena_defer(a, bson_free_cb, b) == -1) {
        bson_destroy(b);
        return NULL;
    }
    return b;
}

enum db_status
db_find_one(struct arena *a, struct db *db, const char *coll, const bson_t *filter,
            const bson_t **out)
{
    enum db_status st;
    mongoc_collection_t *c = db_coll(a, db, coll, &st);
    bson_t opts = BSON_INITIALIZER, *copy;
    mongoc_cursor_t *cur;
    const bson_t *doc;
    bson_error_t e;

    if (c == NULL) {
        return st;
    }
    st = DB_NOT_FOUND;
    BSON_APPEND_INT64(&opts, "limit", 1);
    cur = mongoc_collection_find_with_opts(c, filter, &opts, NULL);
    if (mongoc_cursor_next(cur, &doc)) {
        st = (copy = bson_copy(doc)) == NULL || arena_defer(a, bson_free_cb, copy) == -1 ? DB_ERROR
                                                                                         : DB_OK;
        if (st == DB_ERROR) {
            bson_destroy(copy);
        } else {
            *out = copy;
        }
    } else if (mongoc_cursor_error(cur, &e)) {
        st = db_status_of(&e, coll);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    return st;
}

enum db_status
db_find_each(struct arena *a, struct db *db, const char *coll, const bson_t *filter,
             const bson_t *opts, int (*fn)(void *ctx, const bson_t *doc), void *ctx)
{
    enum db_status st;
    mongoc_collection_t *c = db_coll(a, db, coll, &st);
    mongoc_cursor_t *cur;
    const bson_t *doc;
    bson_error_t e;

    if (c == NULL) {
        return st;
    }
    cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        if (fn(ctx, doc) != 0) {
            break;
        }
    }
    st = mongoc_cursor_error(cur, &e) ? db_status_of(&e, coll) : DB_OK;
    mongoc_cursor_destroy(cur);
    return st;
}

void
db_append_keyset(bson_t *f, const char *field, enum db_key_type type, int64_t key,
                 const bson_oid_t *id, bool ascending)
{
    const char *cmp = ascending ? "$gt" : "$lt";
    bson_t or, beyond, same, op;

    BSON_APPEND_ARRAY_BEGIN(f, "$or", & or);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "0", &beyond);
    BSON_APPEND_DOCUMENT_BEGIN(&beyond, field, &op);
    if (type == DB_KEY_DATE) {
        BSON_APPEND_DATE_TIME(&op, cmp, key);
    } else {
        BSON_APPEND_INT64(&op, cmp, key);
    }
    bson_append_document_end(&beyond, &op);
    bson_append_document_end(& or, &beyond);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "1", &same);
    if (type == DB_KEY_DATE) {
        BSON_APPEND_DATE_TIME(&same, field, key);
    } else {
        BSON_APPEND_INT64(&same, field, key);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&same, "_id", &op);
    BSON_APPEND_OID(&op, cmp, id);
    bson_append_document_end(&same, &op);
    bson_append_document_end(& or, &same);
    bson_append_array_end(f, & or);
}

void
db_append_keyset_before(bson_t *f, const char *field, int64_t at, const bson_oid_t *id)
{
    db_append_keyset(f, field, DB_KEY_DATE, at, id, false);
}

enum db_status
db_insert(struct arena *a, struct db *db, const char *coll, const bson_t *doc)
{
    enum db_status st;
    mongoc_collection_t *c = db_coll(a, db, coll, &st);
    bson_error_t e;

    if (c == NULL) {
        return st;
    }
    return mongoc_collection_insert_one(c, doc, NULL, NULL, &e) ? DB_OK : db_status_of(&e, coll);
}

enum db_status
db_write(struct arena *a, struct db *db, const char *coll, enum db_write_op op,
         const bson_t *filter, const bson_t *update, int64_t *count)
{
    enum db_status st;
    mongoc_collection_t *c = db_coll(a, db, coll, &st);
    bson_t reply;
    bson_error_t e;
    bool ok;
    int64_t ignored;

    if (count == NULL) {
        count = &ignored;
    }
    *count = 0;
    if (c == NULL) {
        return st;
    }
    switch (op) {
    case DB_UPDATE_ONE:
        ok = mongoc_collection_update_one(c, filter, update, NULL, &reply, &e);
        break;
    case DB_UPDATE_MANY:
        ok = mongoc_collection_update_many(c, filter, update, NULL, &reply, &e);
        break;
    case DB_DELETE_ONE:
        ok = mongoc_collection_delete_one(c, filter, NULL, &reply, &e);
        break;
    default:
        ok = mongoc_collection_delete_many(c, filter, NULL, &reply, &e);
        break;
    }
    st = ok ? DB_OK : db_status_of(&e, coll);
    if (ok) {
        *count = db_get_i64(
            &reply, op == DB_UPDATE_ONE || op == DB_UPDATE_MANY ? "matchedCount" : "deletedCount",
            0);
    }
    bson_destroy(&reply);
    return st;
}

enum db_status
db_drop_pages(struct db *db, db_page_fn page, const void *ctx)
{
    struct arena *pa = arena_new(DB_DROP_ARENA);
    enum db_status st;
    bool more;

    if (pa == NULL) {
        return DB_ERROR;
    }
    do {
        arena_reset(pa);
        more = false;
        st = page(pa, db, ctx, &more);
    } while (st == DB_OK && more);
    arena_free(pa);
    return st;
}

mongoc_database_t *
db_database(struct db *db)
{
    return db->database;
}

bool
db_is_duplicate(const bson_error_t *e)
{
    return e->code == 11000 || e->code == 11001 ||
           (e->code == 1 && strstr(e->message, "UNIQUE constraint failed") != NULL);
}

enum db_status
db_status_of(const bson_error_t *e, const char *what)
{
    if (db_is_duplicate(e)) {
        return DB_DUPLICATE;
    }
    if (e->domain == MONGOC_ERROR_SERVER_SELECTION || e->domain == MONGOC_ERROR_STREAM ||
        (e->domain == MONGOC_ERROR_CLIENT && e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)) {
        failed_at_ms = clock_mono_ms();
        log_ev(LOG_WARN, "db_unavailable", "%s: %s", what, e->message);
        return DB_UNAVAILABLE;
    }
    log_ev(LOG_ERROR, "db_error", "%s: domain %u code %u: %s", what, e->domain, e->code,
           e->message);
    return DB_ERROR;
}

enum db_status
db_ping(struct db *db)
{
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t e;
    bool ok;

    if (is_known_down(db)) {
        return DB_UNAVAILABLE;
    }
    BSON_APPEND_INT32(&cmd, "ping", 1);
    ok = mongoc_database_command_simple(db->database, &cmd, NULL, NULL, &e);
    bson_destroy(&cmd);
    if (!ok) {
        return db_status_of(&e, "ping") == DB_UNAVAILABLE ? DB_UNAVAILABLE : DB_ERROR;
    }
    return DB_OK;
}

char *
db_regex_escape(struct arena *a, struct str s)
{
    char *out, *p;
    size_t i;

    if (memchr(s.p, '\0', s.len) != NULL || (out = arena_alloc(a, s.len * 2 + 1)) == NULL) {
        return NULL;
    }
    for (p = out, i = 0; i < s.len; i++) {
        if (strchr("\\^$.|?*+()[]{}/-", s.p[i]) != NULL) {
            *p++ = '\\';
        }
        *p++ = s.p[i];
    }
    *p = '\0';
    return out;
}

int
db_oid_parse(struct str s, bson_oid_t *oid)
{
    char buf[STR_OID_HEX + 1];

    if (!str_is_oid_hex(s)) {
        return -1;
    }
    memcpy(buf, s.p, STR_OID_HEX);
    buf[STR_OID_HEX] = '\0';
    bson_oid_init_from_string(oid, buf);
    return 0;
}

int64_t
db_now_ms(void)
{
    return clock_real_ms();
}

void
db_time_format(int64_t ms, char out[32])
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char base[24];

    gmtime_r(&sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.20s.%03uZ", base, (unsigned)(ms % 1000));
}

char *
db_get_str(struct arena *a, const bson_t *doc, const char *key)
{
    bson_iter_t it;
    uint32_t len;
    const char *s;

    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it)) {
        return NULL;
    }
    s = bson_iter_utf8(&it, &len);
    return arena_strndup(a, s, len);
}

int64_t
db_get_i64(const bson_t *doc, const char *key, int64_t def)
{
    bson_iter_t it;

    if (!bson_iter_init_find(&it, doc, key)) {
        return def;
    }
    if (BSON_ITER_HOLDS_DATE_TIME(&it)) {
        return bson_iter_date_time(&it);
    }
    if (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it)) {
        return bson_iter_as_int64(&it);
    }
    return def;
}

bool
db_get_bool(const bson_t *doc, const char *key, bool def)
{
    bson_iter_t it;

    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_BOOL(&it)) {
        return def;
    }
    return bson_iter_bool(&it);
}

int
db_get_oid(const bson_t *doc, const char *key, bson_oid_t *out)
{
    bson_iter_t it;

    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_OID(&it)) {
        return -1;
    }
    bson_oid_copy(bson_iter_oid(&it), out);
    return 0;
}
