/*
 * users.c - the signed-in user's own account.
 *   GET   /api/v1/users/me           200 user (ETag; If-None-Match -> 304)
 *   PATCH /api/v1/users/me           {displayName?, email?} -> 200 user
 *   POST  /api/v1/users/me/password  {currentPassword, newPassword} -> 204
 * GET is the hot path: the access token is verified without the database and the user
 * comes from this worker's LRU, whose entries the writes here invalidate on every worker of
 * the host (host.h generations). Changing the password revokes every other session's
 * refresh tokens; their access tokens lapse within JWT_ACCESS_TTL.
 */
#include "handlers.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "account.h"
#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "db.h"
#include "db_sessions.h"
#include "db_users.h"
#include "host.h"
#include "json.h"
#include "lru.h"
#include "pwhash.h"

struct json_object *
user_json(struct arena *a, const struct user *u)
{
    struct json_object *o = js_new_object(a);
    char created[32];

    if (o == NULL) {
        return NULL;
    }
    db_time_format(u->created_at, created);
    js_add_str(o, "id", u->id_hex);
    js_add_str(o, "username", u->username);
    js_add_str(o, "email", u->email);
    js_add_str(o, "displayName", u->display_name);
    js_add_str(o, "role", u->role);
    js_add_str(o, "createdAt", created);
    return o;
}

/* Answers with a cached "<etag>\n<json>" entry, or 304 when the client has that ETag. */
static int
respond_cached(struct request *r, const char *entry, size_t len)
{
    return respond_etagged(r, (struct str){entry, CACHE_ETAG_LEN}, "private, no-cache",
                           entry + CACHE_ETAG_LEN + 1, len - CACHE_ETAG_LEN - 1);
}

/* GET /api/v1/users/me */
int
h_users_get_me(struct request *r)
{
    struct app *app = r->app;
    char key[MAX_CACHE_KEY + 1], etag[CACHE_ETAG_LEN + 1], *entry;
    const char *json, *hit;
    bson_oid_t id;
    struct user u;
    uint64_t gen, now = (uint64_t)db_now_ms();
    size_t len;
    enum db_status st;

    cache_key(key, 'u', r->user.id);
    /* Read the generation before the database: a write that lands in between then makes
     * the entry we store stale at once, never fresh with old data. */
    gen = host_gen(app->host, key);
    if ((hit = lru_get(app->cache, key, now, gen, &len)) != NULL) {
        return respond_cached(r, hit, len);
    }
    if (db_oid_parse(str_from(r->user.id), &id) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((st = db_users_get(r->arena, app->db, &id, &u)) == DB_NOT_FOUND) {
        return respond_problem(r, PROB_USER_NOT_FOUND, NULL);
    }
    if (st != DB_OK) {
        return respond_problem(r, st == DB_UNAVAILABLE ? PROB_DB_UNAVAILABLE : PROB_INTERNAL, NULL);
    }
    if ((json = js_string(r->arena, user_json(r->arena, &u))) == NULL) {
        return -1;
    }
    cache_etag(json, etag);
    if ((entry = arena_sprintf(r->arena, "%s\n%s", etag, json)) == NULL) {
        return -1;
    }
    len = strlen(entry);
    lru_put(app->cache, key, entry, len, now, gen);
    return respond_cached(r, entry, len);
}

/* PATCH /api/v1/users/me */
int
h_users_update_me(struct request *r)
{
    static const struct js_field spec[] = {
        {"displayName", JS_STRING, false, 1, MAX_DISPLAY_NAME},
        {"email", JS_STRING, false, 3, MAX_EMAIL},
    };
    struct js_value v[2];
    struct js_error errs[2];
    size_t nerrs = 0, i;
    char *name = NULL, *email = NULL;
    bson_oid_t id;
    struct user u;
    enum db_status st;
    int rc;

    if (!body_fields(r, spec, 2, v, false, &rc)) {
        return rc;
    }
    if (v[0].present && !account_valid_display_name(v[0].s)) {
        errs[nerrs++] = (struct js_error){"displayName", "invalid_format"};
    }
    if (v[1].present && !account_valid_email(v[1].s)) {
        errs[nerrs++] = (struct js_error){"email", "invalid_format"};
    }
    if (nerrs > 0) {
        return respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
    }
    if (db_oid_parse(str_from(r->user.id), &id) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((v[0].present && (name = str_cstr(r->arena, v[0].s)) == NULL) ||
        (v[1].present && (email = str_cstr(r->arena, v[1].s)) == NULL)) {
        return -1;
    }
    for (i = 0; email != NULL && email[i] != '\0'; i++) {
        email[i] = (char)tolower((unsigned char)email[i]);
    }
    if (name != NULL || email != NULL) {
        st = db_users_update_profile(r->arena, r->app->db, &id, name, email);
        cache_invalidate(r, 'u', r->user.id);
        if (st == DB_DUPLICATE) {
            return respond_problem(r, PROB_EMAIL_TAKEN, NULL);
        }
        if (st == DB_NOT_FOUND) {
            return respond_problem(r, PROB_USER_NOT_FOUND, NULL);
        }
        if (st != DB_OK) {
            return respond_problem(r, st == DB_UNAVAILABLE ? PROB_DB_UNAVAILABLE : PROB_INTERNAL,
                                   NULL);
        }
    }
    if ((st = db_users_get(r->arena, r->app->db, &id, &u)) != DB_OK) {
        return respond_problem(r,
                               st == DB_NOT_FOUND     ? PROB_USER_NOT_FOUND
                               : st == DB_UNAVAILABLE ? PROB_DB_UNAVAILABLE
                                                      : PROB_INTERNAL,
                               NULL);
    }
    return respond_json(r, 200, js_string(r->arena, user_json(r->arena, &u)));
}

/* POST /api/v1/users/me/password */
int
h_users_password_me(struct request *r)
{
    static const struct js_field spec[] = {
        {"currentPassword", JS_STRING, true, 1, MAX_PASSWORD},
        {"newPassword", JS_STRING, true, MIN_PASSWORD, MAX_PASSWORD},
    };
    struct js_value v[2];
    bson_oid_t id, family;
    struct user u;
    enum db_status st;
    char *hash;
    int rc;

    if (!body_fields(r, spec, 2, v, false, &rc)) {
        return rc;
    }
    if (v[1].s.len > MAX_PASSWORD_BYTES) {
        static const struct js_error too_long = {"newPassword", "too_long"};

        return respond_problem_errors(r, PROB_VALIDATION_FAILED, &too_long, 1);
    }
    if (db_oid_parse(str_from(r->user.id), &id) == -1 ||
        db_oid_parse(str_from(r->user.sid), &family) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((st = db_users_get(r->arena, r->app->db, &id, &u)) != DB_OK) {
        return respond_problem(r,
                               st == DB_NOT_FOUND     ? PROB_USER_NOT_FOUND
                               : st == DB_UNAVAILABLE ? PROB_DB_UNAVAILABLE
                                                      : PROB_INTERNAL,
                               NULL);
    }
    switch (u.password_hash != NULL ? pwhash_verify(v[0].s, u.password_hash) : PWHASH_MISMATCH) {
    case PWHASH_MATCH:
    case PWHASH_MATCH_REHASH:
        break;
    case PWHASH_MISMATCH:
        return respond_problem(r, PROB_WRONG_PASSWORD, NULL);
    default:
        return -1;
    }
    if ((hash = pwhash_hash(r->arena, v[1].s)) == NULL) {
        return -1;
    }
    /* Password first: if revoking then fails, the old password is already useless. */
    if ((st = db_users_set_password(r->arena, r->app->db, &id, hash)) != DB_OK ||
        (st = db_sessions_revoke_user(r->arena, r->app->db, &id, &family)) != DB_OK) {
        return respond_problem(r, st == DB_UNAVAILABLE ? PROB_DB_UNAVAILABLE : PROB_INTERNAL, NULL);
    }
    cache_invalidate(r, 'u', r->user.id);
    return respond_empty(r, 204);
}
