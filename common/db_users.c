/*
 * db_users.c - queries on users. Indexes they use (sql-free-schemas/users.json):
 * {username:1} unique, {email:1} unique. Every field a unique index covers is always
 * written: FerretDB's unique indexes admit many documents that lack the field.
 */
#include "db_users.h"

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
    u->guess_count = db_get_i64(doc, "guessCount", 0);
    u->guess_since = db_get_i64(doc, "guessSince", 0);
    u->bio = db_get_str(a, doc, "bio");
    if (u->bio == NULL) {
        u->bio = "";
    }
    u->avatar = db_get_str(a, doc, "avatar");
    u->banner = db_get_str(a, doc, "banner");
    u->subscriber_count = db_get_i64(doc, "subscriberCount", 0);
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

struct many {
    struct arena *a;
    const bson_oid_t *ids;
    size_t n;
    struct user *out;
    bool *found;
};

static int
many_one(void *ctx, const bson_t *doc)
{
    struct many *m = ctx;
    struct user u;
    size_t i;

    from_bson(m->a, doc, &u);
    for (i = 0; i < m->n; i++) {
        if (bson_oid_equal(&u.id, &m->ids[i])) {
            m->out[i] = u;
            m->found[i] = true;
        }
    }
    return 0;
}

enum db_status
db_users_get_many(struct arena *a, struct db *db, const bson_oid_t *ids, size_t n, struct user *out,
                  bool *found)
{
    struct many m = {a, ids, n, out, found};
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, in, arr, proj;
    enum db_status st;
    size_t i;

    for (i = 0; i < n; i++) {
        found[i] = false;
    }
    if (n == 0) {
        return DB_OK;
    }
    BSON_APPEND_DOCUMENT_BEGIN(&f, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (i = 0; i < n; i++) {
        const char *kp;
        char k[16];

        bson_uint32_to_string((uint32_t)i, &kp, k, sizeof(k));
        BSON_APPEND_OID(&arr, kp, &ids[i]);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&f, &in);
    /* Only what others may see of a user: no hash, email or role is read for a card. */
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "username", 1);
    BSON_APPEND_INT32(&proj, "displayName", 1);
    BSON_APPEND_INT32(&proj, "avatar", 1);
    BSON_APPEND_INT32(&proj, "banner", 1);
    BSON_APPEND_INT32(&proj, "bio", 1);
    BSON_APPEND_INT32(&proj, "subscriberCount", 1);
    BSON_APPEND_INT32(&proj, "createdAt", 1);
    bson_append_document_end(&opts, &proj);
    st = db_find_each(a, db, "users", &f, &opts, many_one, &m);
    bson_destroy(&f);
    bson_destroy(&opts);
    return st;
}

enum db_status
db_users_get_by_login(struct arena *a, struct db *db, const char *login, struct user *out)
{
    bson_t f = BSON_INITIALIZER;
    enum db_status st;
    char *low;

    if ((low = str_lower_cstr(a, str_from(login))) == NULL) {
        return DB_ERROR;
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
    bson_t doc = BSON_INITIALIZER;
    enum db_status st;

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
    BSON_APPEND_INT32(&doc, "guessCount", 0);
    BSON_APPEND_DATE_TIME(&doc, "guessSince", 0);
    BSON_APPEND_UTF8(&doc, "bio", "");
    BSON_APPEND_INT64(&doc, "subscriberCount", 0);
    if ((st = db_insert(a, db, "users", &doc)) == DB_DUPLICATE) {
        *taken = which_taken(a, db, u);
    }
    bson_destroy(&doc);
    return st;
}

static enum db_status
update_set(struct arena *a, struct db *db, const bson_oid_t *id, bson_t *set)
{
    bson_t f = BSON_INITIALIZER, upd = BSON_INITIALIZER;
    int64_t matched;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_DATE_TIME(set, "updatedAt", db_now_ms());
    BSON_APPEND_DOCUMENT(&upd, "$set", set);
    st = db_write(a, db, "users", DB_UPDATE_ONE, &f, &upd, &matched);
    bson_destroy(&f);
    bson_destroy(&upd);
    return st == DB_OK && matched == 0 ? DB_NOT_FOUND : st;
}

enum db_status
db_users_update_profile(struct arena *a, struct db *db, const bson_oid_t *id,
                        const char *display_name, const char *email, const char *bio)
{
    bson_t set = BSON_INITIALIZER;
    enum db_status st;

    if (display_name != NULL) {
        BSON_APPEND_UTF8(&set, "displayName", display_name);
    }
    if (email != NULL) {
        BSON_APPEND_UTF8(&set, "email", email);
    }
    if (bio != NULL) {
        BSON_APPEND_UTF8(&set, "bio", bio);
    }
    st = update_set(a, db, id, &set);
    bson_destroy(&set);
    return st;
}

enum db_status
db_users_swap_image(struct arena *a, struct db *db, const bson_oid_t *id, const char *field,
                    const char *old, const char *name)
{
    bson_t f = BSON_INITIALIZER, upd = BSON_INITIALIZER, doc;
    int64_t matched = 0;
    enum db_status st;
    struct user u;

    /* {field: null} also matches a document without the field (the default). */
    BSON_APPEND_OID(&f, "_id", id);
    if (old != NULL) {
        BSON_APPEND_UTF8(&f, field, old);
    } else {
        BSON_APPEND_NULL(&f, field);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &doc);
    BSON_APPEND_DATE_TIME(&doc, "updatedAt", db_now_ms());
    if (name != NULL) {
        BSON_APPEND_UTF8(&doc, field, name);
    }
    bson_append_document_end(&upd, &doc);
    if (name == NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&upd, "$unset", &doc);
        BSON_APPEND_UTF8(&doc, field, "");
        bson_append_document_end(&upd, &doc);
    }
    st = db_write(a, db, "users", DB_UPDATE_ONE, &f, &upd, &matched);
    bson_destroy(&f);
    bson_destroy(&upd);
    if (st != DB_OK || matched > 0) {
        return st;
    }
    /* Nothing matched: someone changed the field first, or the user is gone. */
    st = db_users_get(a, db, id, &u);
    return st == DB_OK ? DB_CONFLICT : st;
}

enum db_status
db_users_delete(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER;
    int64_t gone = 0;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    st = db_write(a, db, "users", DB_DELETE_ONE, &f, NULL, &gone);
    bson_destroy(&f);
    return st == DB_OK && gone == 0 ? DB_NOT_FOUND : st;
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

enum db_status
db_users_guess_failed(struct arena *a, struct db *db, const bson_oid_t *id, int64_t now_ms,
                      int64_t window_ms)
{
    bson_t f = BSON_INITIALIZER, upd = BSON_INITIALIZER, doc, or, alt, cmp;
    int64_t matched = 0;
    enum db_status st;
    int tries;

    /* Two single-document updates, each atomic: count the guess in the current window, or
     * (none open) open a new one. A racer that opened it first makes the second match
     * nothing, and the count is tried again. */
    for (tries = 0; tries < 2 && matched == 0; tries++) {
        bson_reinit(&f);
        bson_reinit(&upd);
        BSON_APPEND_OID(&f, "_id", id);
        BSON_APPEND_DOCUMENT_BEGIN(&f, "guessSince", &cmp);
        BSON_APPEND_DATE_TIME(&cmp, "$gt", now_ms - window_ms);
        bson_append_document_end(&f, &cmp);
        BSON_APPEND_DOCUMENT_BEGIN(&upd, "$inc", &doc);
        BSON_APPEND_INT32(&doc, "guessCount", 1);
        bson_append_document_end(&upd, &doc);
        if ((st = db_write(a, db, "users", DB_UPDATE_ONE, &f, &upd, &matched)) != DB_OK ||
            matched > 0) {
            break;
        }
        bson_reinit(&f);
        bson_reinit(&upd);
        BSON_APPEND_OID(&f, "_id", id);
        BSON_APPEND_ARRAY_BEGIN(&f, "$or", & or);
        BSON_APPEND_DOCUMENT_BEGIN(& or, "0", &alt);
        BSON_APPEND_DOCUMENT_BEGIN(&alt, "guessSince", &cmp);
        BSON_APPEND_DATE_TIME(&cmp, "$lte", now_ms - window_ms);
        bson_append_document_end(&alt, &cmp);
        bson_append_document_end(& or, &alt);
        BSON_APPEND_DOCUMENT_BEGIN(& or, "1", &alt);
        BSON_APPEND_DOCUMENT_BEGIN(&alt, "guessSince", &cmp);
        BSON_APPEND_BOOL(&cmp, "$exists", false);
        bson_append_document_end(&alt, &cmp);
        bson_append_document_end(& or, &alt);
        bson_append_array_end(&f, & or);
        BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &doc);
        BSON_APPEND_DATE_TIME(&doc, "guessSince", now_ms);
        BSON_APPEND_INT32(&doc, "guessCount", 1);
        bson_append_document_end(&upd, &doc);
        if ((st = db_write(a, db, "users", DB_UPDATE_ONE, &f, &upd, &matched)) != DB_OK) {
            break;
        }
    }
    bson_destroy(&f);
    bson_destroy(&upd);
    return st;
}

enum db_status
db_users_guess_reset(struct arena *a, struct db *db, const bson_oid_t *id)
{
    bson_t f = BSON_INITIALIZER, upd = BSON_INITIALIZER, doc;
    int64_t matched;
    enum db_status st;

    BSON_APPEND_OID(&f, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &doc);
    BSON_APPEND_INT32(&doc, "guessCount", 0);
    bson_append_document_end(&upd, &doc);
    st = db_write(a, db, "users", DB_UPDATE_ONE, &f, &upd, &matched);
    bson_destroy(&f);
    bson_destroy(&upd);
    return st;
}
