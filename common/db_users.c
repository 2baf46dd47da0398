/*
 * db_users.c - queries on users. Indexes they use (sql-free-schemas/users.json):
 * {username:1} unique, {email:1} unique. Every field a unique index covers is always
 * written: FerretDB's unique indexes admit many documents that lack the field.
 */
#include "db_users.h"

#include <ctype.h>
#include <string.h>

#include "arena.h"

static void
from_bson(struct arena *a, const bson_t *doc, struct user *u)
{
    memset(u, 0, sizeof(*u));
    db_get_oid(doc, "_id", &u->id);
    bson_oid_to_string(&u->id, u->id_hex);
    u->username = db_get_str(a, doc, "username");
    u->email = db_get_str(a, doc, "email");
    u->display_name = db_get_str(a, doc, "displayName");
    u->password_hash = db_get_str(a, doc, "passwordHash");
    u->role = db_get_str(a, doc, "role");
    if (u->role == NULL) {
        u->role = "user";
    }
    if (u->display_name == NULL) {
        u->display_name = u->username;
    }
    u->created_at = db_get_i64(doc, "createdAt", 0);
    u->updated_at = db_get_i64(doc, "updatedAt", u->created_at);
}

static enum db_status
find_one(struct arena *a, struct db *db, const bson_t *filter, struct user *out)
{
    const bson_t *doc;
    enum db_status st = db_find_one(a, db, "users", filter, &doc);

    if (st == DB_OK) {
        from_bson(a, doc, out);
    }
    return st;
}

enum db_status
db_users_get(struct arena *a, struct db *db, const bson_oid_t *id, struct user *out)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    st = find_one(a, db, &f, out);
    bson_destroy(&f);
    return st;
}

enum db_status
db_users_get_by_login(struct arena *a, struct db *db, const char *login, struct user *out)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;
    char *low;
    size_t i;

    if ((low = arena_strdup(a, login)) == NULL) {
        return DB_ERROR;
    }
    for (i = 0; low[i] != '\0'; i++) {
        low[i] = (char)tolower((unsigned char)low[i]);
    }
    BSON_APPEND_UTF8(&f, strchr(low, '@') != NULL ? "email" : "username", low);
    st = find_one(a, db, &f, out);
    bson_destroy(&f);
    return st;
}

/* After a duplicate on insert: which unique field was it? */
static const char *
which_taken(struct arena *a, struct db *db, const struct user *u)
{
    struct user other;

    if (db_users_get_by_login(a, db, u->username, &other) == DB_OK) {
        return "username";
    }
    return "email";
}

enum db_status
db_users_insert(struct arena *a, struct db *db, struct user *u, const char **taken)
{
    enum db_status cst;
    mongoc_collection_t *c = db_coll(a, db, "users", &cst);
    bson_t doc = BSON_INITIALIZER;
    bson_error_t e;
    enum db_status st = DB_OK;

    if (c == NULL) {
        return c == NULL ? cst : DB_ERROR;
    }
    bson_oid_init(&u->id, NULL);
    bson_oid_to_string(&u->id, u->id_hex);
    u->created_at = u->updated_at = db_now_ms();
    BSON_APPEND_OID(&doc, "_id", &u->id);
    BSON_APPEND_UTF8(&doc, "username", u->username);
    BSON_APPEND_UTF8(&doc, "email", u->email);
    BSON_APPEND_UTF8(&doc, "displayName", u->display_name);
    BSON_APPEND_UTF8(&doc, "passwordHash", u->password_hash);
    BSON_APPEND_UTF8(&doc, "role", u->role);
    BSON_APPEND_DATE_TIME(&doc, "createdAt", u->created_at);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", u->updated_at);
    if (!mongoc_collection_insert_one(c, &doc, NULL, NULL, &e)) {
        st = db_status_of(&e, "users.insert");
        if (st == DB_DUPLICATE) {
            *taken = which_taken(a, db, u);
        }
    }
    bson_destroy(&doc);
    return st;
}

static enum db_status
update_set(struct arena *a, struct db *db, const bson_oid_t *id, bson_t *set)
{
    enum db_status cst;
    mongoc_collection_t *c = db_coll(a, db, "users", &cst);
    bson_t f = BSON_INITIALIZER, upd = BSON_INITIALIZER, reply;
    bson_error_t e;
    enum db_status st = DB_OK;

    if (c == NULL) {
        bson_destroy(&f);
        bson_destroy(&upd);
        return c == NULL ? cst : DB_ERROR;
    }
    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_DATE_TIME(set, "updatedAt", db_now_ms());
    BSON_APPEND_DOCUMENT(&upd, "$set", set);
    if (!mongoc_collection_update_one(c, &f, &upd, NULL, &reply, &e)) {
        st = db_status_of(&e, "users.update");
    } else if (db_get_i64(&reply, "matchedCount", 0) == 0) {
        st = DB_NOT_FOUND;
    }
    bson_destroy(&reply);
    bson_destroy(&f);
    bson_destroy(&upd);
    return st;
}

enum db_status
db_users_update_profile(struct arena *a, struct db *db, const bson_oid_t *id,
                        const char *display_name, const char *email)
{
    bson_t set = BSON_INITIALIZER;
    enum db_status st;

    if (display_name != NULL) {
        BSON_APPEND_UTF8(&set, "displayName", display_name);
    }
    if (email != NULL) {
        BSON_APPEND_UTF8(&set, "email", email);
    }
    st = update_set(a, db, id, &set);
    bson_destroy(&set);
    return st;
}

enum db_status
db_users_set_password(struct arena *a, struct db *db, const bson_oid_t *id, const char *hash)
{
    bson_t set = BSON_INITIALIZER;
    enum db_status st;

    BSON_APPEND_UTF8(&set, "passwordHash", hash);
    st = update_set(a, db, id, &set);
    bson_destroy(&set);
    return st;
}
