/*
 * db_sessions.c - queries on sessions. Indexes they use (sql-free-schemas/sessions.json):
 * {tokenHash:1} unique, {familyId:1}, {userId:1}, {expiresAt:1} (for the expiry sweep).
 */
#include "db_sessions.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"

enum db_status
db_sessions_insert(struct arena *a, struct db *db, struct session *s)
{
    enum db_status cst;
    mongoc_collection_t *c = db_coll(a, db, "sessions", &cst);
    bson_t doc = BSON_INITIALIZER;
    bson_error_t e;
    enum db_status st = DB_OK;

    if (c == NULL) {
        return c == NULL ? cst : DB_ERROR;
    }
    bson_oid_init(&s->id, NULL);
    BSON_APPEND_OID(&doc, "_id", &s->id);
    BSON_APPEND_OID(&doc, "familyId", &s->family_id);
    BSON_APPEND_OID(&doc, "userId", &s->user_id);
    BSON_APPEND_UTF8(&doc, "tokenHash", s->token_hash);
    BSON_APPEND_BOOL(&doc, "spent", false);
    BSON_APPEND_BOOL(&doc, "revoked", false);
    BSON_APPEND_DATE_TIME(&doc, "spentAt", 0);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", s->created_at);
    BSON_APPEND_DATE_TIME(&doc, "expiresAt", s->expires_at);
    if (!mongoc_collection_insert_one(c, &doc, NULL, NULL, &e)) {
        st = db_status_of(&e, "sessions.insert");
    }
    bson_destroy(&doc);
    return st;
}

enum db_status
db_sessions_get_by_hash(struct arena *a, struct db *db, const char *hash, struct session *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_UTF8(&f, "tokenHash", hash);
    if ((st = db_find_one(a, db, "sessions", &f, &doc)) == DB_OK) {
        memset(out, 0, sizeof(*out));
        db_get_oid(doc, "_id", &out->id);
        db_get_oid(doc, "familyId", &out->family_id);
        db_get_oid(doc, "userId", &out->user_id);
        snprintf(out->token_hash, sizeof(out->token_hash), "%s", hash);
        out->spent = db_get_bool(doc, "spent", true);
        out->revoked = db_get_bool(doc, "revoked", true);
        out->spent_at = db_get_i64(doc, "spentAt", 0);
        out->created_at = db_get_i64(doc, "createdAt", 0);
        out->expires_at = db_get_i64(doc, "expiresAt", 0);
    }
    bson_destroy(&f);
    return st;
}

/* update (one or many) of filter with {$set: set}; *matched gets the matched count. */
static enum db_status
update(struct arena *a, struct db *db, const bson_t *filter, const bson_t *set, bool many,
       int64_t *matched)
{
    enum db_status cst;
    mongoc_collection_t *c = db_coll(a, db, "sessions", &cst);
    bson_t upd = BSON_INITIALIZER, reply;
    bson_error_t e;
    enum db_status st = DB_OK;
    bool ok;

    if (c == NULL) {
        bson_destroy(&upd);
        return c == NULL ? cst : DB_ERROR;
    }
    BSON_APPEND_DOCUMENT(&upd, "$set", set);
    ok = many ? mongoc_collection_update_many(c, filter, &upd, NULL, &reply, &e)
              : mongoc_collection_update_one(c, filter, &upd, NULL, &reply, &e);
    if (!ok) {
        st = db_status_of(&e, "sessions.update");
    }
    *matched = db_get_i64(&reply, "matchedCount", 0);
    bson_destroy(&reply);
    bson_destroy(&upd);
    return st;
}

enum db_status
db_sessions_spend(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_BOOL(&f, "spent", false);
    BSON_APPEND_BOOL(&f, "revoked", false);
    BSON_APPEND_BOOL(&set, "spent", true);
    BSON_APPEND_DATE_TIME(&set, "spentAt", db_now_ms());
    st = update(a, db, &f, &set, false, &matched);
    bson_destroy(&f);
    bson_destroy(&set);
    return st == DB_OK && matched == 0 ? DB_CONFLICT : st;
}

enum db_status
db_sessions_revoke_family(struct arena *a, struct db *db, const bson_oid_t *family)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "familyId", family);
    BSON_APPEND_BOOL(&set, "revoked", true);
    st = update(a, db, &f, &set, true, &matched);
    bson_destroy(&f);
    bson_destroy(&set);
    return st;
}

enum db_status
db_sessions_revoke_user(struct arena *a, struct db *db, const bson_oid_t *user,
                        const bson_oid_t *keep)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER, ne;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "userId", user);
    if (keep != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&f, "familyId", &ne);
        BSON_APPEND_OID(&ne, "$ne", keep);
        bson_append_document_end(&f, &ne);
    }
    BSON_APPEND_BOOL(&set, "revoked", true);
    st = update(a, db, &f, &set, true, &matched);
    bson_destroy(&f);
    bson_destroy(&set);
    return st;
}
