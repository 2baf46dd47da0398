/*
 * db.h - MongoDB through libmongoc: one client per process, popped from the process's own
 * client pool (whose monitor threads watch the server) and made after fork (each worker
 * calls db_new itself). The URI gets short timeouts unless it sets its own, so a database
 * outage answers DB_UNAVAILABLE within about 3 s and the same client recovers when the
 * server is back. Queries for one collection live in db_<collection>.c; they all keep to
 * DESIGN.md section 4: single-document atomicity only, uniqueness decided by inserts, no
 * element-match queries, no positional updates.
 */
#ifndef STREMORA_DB_H
#define STREMORA_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include "str.h"

struct arena;
struct config;

enum db_status {
    DB_OK,
    DB_NOT_FOUND,
    DB_DUPLICATE,   /* a unique index refused the write */
    DB_CONFLICT,    /* a conditional update matched nothing: someone else won */
    DB_UNAVAILABLE, /* the server did not answer: 503 */
    DB_ERROR,       /* anything else: logged, 500 */
};

struct db;

/* Returns a client for c's URI and database, or NULL with a reason in err. Never waits
 * for the server: the pool's monitors connect in the background. */
struct db *db_new(const struct config *c, char *err, size_t errlen);
void db_free(struct db *db);

/* Returns the named collection, released with the arena; NULL with *st DB_UNAVAILABLE
 * while the server is known to be down (fail fast), or DB_ERROR if the arena is full. */
mongoc_collection_t *db_coll(struct arena *a, struct db *db, const char *name, enum db_status *st);
/* Returns an empty bson_t released with the arena, or NULL. */
bson_t *db_bson_new(struct arena *a);
/* Finds the first document of coll matching filter; *out (released with the arena) is it.
 * DB_NOT_FOUND if none. */
enum db_status db_find_one(struct arena *a, struct db *db, const char *coll, const bson_t *filter,
                           const bson_t **out);
/* Calls fn(ctx, doc) for each document of coll that filter matches (opts: sort, limit,
 * projection; may be NULL) until fn returns nonzero. doc lives until the next call. */
enum db_status db_find_each(struct arena *a, struct db *db, const char *coll, const bson_t *filter,
                            const bson_t *opts, int (*fn)(void *ctx, const bson_t *doc), void *ctx);
/* Appends the keyset condition "strictly after (at, id) in (field desc, _id desc) order"
 * to f: {$or: [{field: {$lt: at}}, {field: at, _id: {$lt: id}}]}. */
void db_append_keyset_before(bson_t *f, const char *field, int64_t at, const bson_oid_t *id);
/* The general form: "strictly after (key, id)" in (field, _id) order, both descending, or
 * both ascending; key is a BSON date (ms) or a 64-bit integer (a counter such as viewCount:
 * write counters as int64 so that the keyset compares like with like). */
enum db_key_type { DB_KEY_DATE, DB_KEY_INT };
void db_append_keyset(bson_t *f, const char *field, enum db_key_type type, int64_t key,
                      const bson_oid_t *id, bool ascending);
/* Inserts doc into coll. DB_DUPLICATE when a unique index refuses it. */
enum db_status db_insert(struct arena *a, struct db *db, const char *coll, const bson_t *doc);

enum db_write_op { DB_UPDATE_ONE, DB_UPDATE_MANY, DB_DELETE_ONE, DB_DELETE_MANY };
/* Updates (with update, an operator document such as {$set: ...}) or deletes what filter
 * matches in coll; *count (count may be NULL) gets how many documents matched (updates) or
 * went (deletes). */
enum db_status db_write(struct arena *a, struct db *db, const char *coll, enum db_write_op op,
                        const bson_t *filter, const bson_t *update, int64_t *count);
/* One page of a drop: reads a page in a, acts on it and sets *more when another may follow.
 * ctx is the caller's (what is being dropped). */
typedef enum db_status (*db_page_fn)(struct arena *a, struct db *db, const void *ctx, bool *more);
/* Calls page until it fails or sets no *more, each time in the same scratch arena emptied
 * first, so that a drop's memory stays bounded however many documents it goes through.
 * Returns page's last status, or DB_ERROR if the scratch arena cannot be made. */
enum db_status db_drop_pages(struct db *db, db_page_fn page, const void *ctx);
/* Returns the underlying database handle (for commands); owned by db. */
mongoc_database_t *db_database(struct db *db);

/* Sends ping. DB_OK or DB_UNAVAILABLE. */
enum db_status db_ping(struct db *db);
/* Classifies a libmongoc error and logs what is not the client's doing. */
enum db_status db_status_of(const bson_error_t *e, const char *what);
/* True for a duplicate-key error, in both forms the servers give (11000 from MongoDB and
 * from FerretDB's inserts; code 1 "UNIQUE constraint failed" from FerretDB's updates). */
bool db_is_duplicate(const bson_error_t *e);

/* Returns s in a with every regex metacharacter escaped, so that client text matches
 * literally in a $regex (PCRE syntax); NULL if s holds a NUL or a is full. */
char *db_regex_escape(struct arena *a, struct str s);
/* Parses a 24-hex-digit ObjectId. Returns 0 or -1. */
int db_oid_parse(struct str s, bson_oid_t *oid);
/* Milliseconds since the epoch, for BSON dates. */
int64_t db_now_ms(void);
/* Formats ms since the epoch as RFC 3339 UTC with milliseconds into out (32 bytes). */
void db_time_format(int64_t ms, char out[32]);
/* Copies a UTF-8 field of doc into the arena; NULL if absent or not a string. */
char *db_get_str(struct arena *a, const bson_t *doc, const char *key);
/* Returns a date or int field as int64 ms/number, or def. */
int64_t db_get_i64(const bson_t *doc, const char *key, int64_t def);
bool db_get_bool(const bson_t *doc, const char *key, bool def);
/* Copies an ObjectId field; returns 0 or -1. */
int db_get_oid(const bson_t *doc, const char *key, bson_oid_t *out);

#endif
