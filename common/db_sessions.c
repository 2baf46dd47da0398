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
    bson_t doc = BSON_INITIALIZER;
    enum db_status st;

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
    st = db_insert(a, db, "sessions", &doc);
    bson_destroy(&doc);
    return st;
}

enum db_status
db_sessions_get_by_hash(struct arena *a, struct db *db, const char *hash, struct session *out)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;
    const char *kid;

    BSON_APPEND_UTF8(&f, "tokenHash", hash);
    if ((st = db_find_one(a, db, "sessions", &f, &doc)) == DB_OK) {
        memset(out, 0, sizeof(*out));
        db_get_oid(doc, "_id", &out->id);
        db_get_oid(doc, "familyId", &out->family_id);
        db_get_oid(doc, "userId", &out->user_id);
        snprintf(out->token_hash, sizeof(out->token_hash), "%s", hash);
        out->spent = db_get_bool(doc, "spent", true);
        kid = db_get_str(a, doc, "nextKid");
        snprintf(out->next_kid, sizeof(out->next_kid), "%s", kid != NULL ? kid : "");
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
    bson_t upd = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_DOCUMENT(&upd, "$set", set);
    st = db_write(a, db, "sessions", many ? DB_UPDATE_MANY : DB_UPDATE_ONE, filter, &upd, matched);
    bson_destroy(&upd);
    return st;
}

enum db_status
db_sessions_spend(struct arena *a, struct db *db, const bson_oid_t *id, const char *next_kid)
{
    bson_t f = BSON_INITIALIZER, set = BSON_INITIALIZER;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_BOOL(&f, "spent", false);
    BSON_APPEND_BOOL(&f, "revoked", false);
    BSON_APPEND_BOOL(&set, "spent", true);
    BSON_APPEND_DATE_TIME(&set, "spentAt", db_now_ms());
    BSON_APPEND_UTF8(&set, "nextKid", next_kid);
    st = update(a, db, &f, &set, false, &matched);
    bson_destroy(&f);
    bson_destroy(&set);
    return st == DB_OK && matched == 0 ? DB_CONFLICT : st;
}

/* Revokes every session filter matches. */
static enum db_status
revoke_where(struct arena *a, struct db *db, const bson_t *filter)
{
    bson_t set = BSON_INITIALIZER;
    int64_t matched = 0;
    enum db_status st;

    BSON_APPEND_BOOL(&set, "revoked", true);
    st = update(a, db, filter, &set, true, &matched);
    bson_destroy(&set);
    return st;
}

enum db_status
db_sessions_revoke_family(struct arena *a, struct db *db, const bson_oid_t *family)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "familyId", family);
    st = revoke_where(a, db, &f);
    bson_destroy(&f);
    return st;
}

enum db_status
db_sessions_revoke_user(struct arena *a, struct db *db, const bson_oid_t *user,
                        const bson_oid_t *keep)
{
    bson_t f = BSON_INITIALIZER, ne;
    enum db_status st;

    BSON_APPEND_OID(&f, "userId", user);
    if (keep != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&f, "familyId", &ne);
        BSON_APPEND_OID(&ne, "$ne", keep);
        bson_append_document_end(&f, &ne);
    }
    st = revoke_where(a, db, &f);
    bson_destroy(&f);
    return st;
}

enum db_status
db_sessions_family_alive(struct arena *a, struct db *db, const bson_oid_t *family, bool *alive)
{
    bson_t f = BSON_INITIALIZER;
    const bson_t *doc;
    enum db_status st;

    BSON_APPEND_OID(&f, "familyId", family);
    BSON_APPEND_BOOL(&f, "revoked", false);
    st = db_find_one(a, db, "sessions", &f, &doc);
    bson_destroy(&f);
    *alive = st == DB_OK;
    return st == DB_NOT_FOUND ? DB_OK : st;
}
