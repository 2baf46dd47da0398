/*
 * users.c - the signed-in user's own account.
 *   GET   /api/v1/users/me           200 user (ETag; If-None-Match -> 304)
 *   PATCH /api/v1/users/me           {displayName?, email?, currentPassword?, bio?} -> 200 user
 *   POST  /api/v1/users/me/password  {currentPassword, newPassword} -> 204
 *   DELETE /api/v1/users/me/sessions  signs out every other session -> 204
 *   POST  /api/v1/users/me/deletion  {currentPassword} -> 204: the account and all it made go
 * GET is the hot path: the access token is verified without the database and the user
 * comes from this worker's LRU, whose entries the writes here invalidate on every worker of
 * the host (host.h generations). Changing the email or the password needs the current
 * one, and wrong ones are limited per account (MAX_PASSWORD_GUESSES in a window). Changing
 * the password revokes every other session: their refresh tokens at once, their access
 * tokens within seconds (bearer.c checks a token's session family). The user object is the
 * caller's own view (email, role); others see people.c's cards and channels. Its image links
 * come from people.c; images.c changes the images.
 */
#include "handlers.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "account.h"
#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "clock.h"
#include "db.h"
#include "db_sessions.h"
#include "db_users.h"
#include "host.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "lru.h"
#include "people.h"
#include "pwhash.h"
#include "str.h"

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
    js_add_str(o, "bio", u->bio != NULL ? u->bio : "");
    js_add_str(o, "avatarUrl", people_avatar_url(a, u, 256));
    js_add_str(o, "avatarSmallUrl", people_avatar_url(a, u, 64));
    js_add_str(o, "bannerUrl", people_banner_url(a, u));
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
    uint64_t gen, now = (uint64_t)clock_mono_ms();
    size_t len;
    enum db_status st;

    host_key(key, 'u', r->user.id);
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
        return respond_db_problem(r, st);
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

int
own_user(struct request *r, bson_oid_t *id, struct user *u, int *rc)
{
    enum db_status st;

    if (db_oid_parse(str_from(r->user.id), id) == -1) {
        *rc = respond_problem(r, PROB_INVALID_TOKEN, NULL);
        return -1;
    }
    if ((st = db_users_get(r->arena, r->app->db, id, u)) != DB_OK) {
        *rc = st == DB_NOT_FOUND ? respond_problem(r, PROB_USER_NOT_FOUND, NULL)
                                 : respond_db_problem(r, st);
        return -1;
    }
    return 0;
}

/* Checks the current password of u, at most MAX_PASSWORD_GUESSES wrong ones in
 * PASSWORD_GUESS_WINDOW: 0 when it is right, -1 after answering 403 wrong_password or
 * 429 too_many_attempts (Retry-After: when the window closes). Counted in the user's own
 * document, so the limit holds on every worker and host, whatever is in front of them. */
static int
check_current_password(struct request *r, const struct user *u, struct str pw, int *rc)
{
    int64_t now = db_now_ms(), window = (int64_t)PASSWORD_GUESS_WINDOW * 1000;
    enum db_status st;

    if (u->guess_count >= MAX_PASSWORD_GUESSES && now - u->guess_since < window) {
        respond_header(r, "Retry-After: %lld",
                       (long long)((u->guess_since + window - now + 999) / 1000));
        *rc = respond_problem(r, PROB_TOO_MANY_ATTEMPTS, "Too many wrong current passwords");
        return -1;
    }
    switch (u->password_hash != NULL ? pwhash_verify(pw, u->password_hash) : PWHASH_MISMATCH) {
    case PWHASH_MATCH:
    case PWHASH_MATCH_REHASH:
        if (u->guess_count > 0) {
            db_users_guess_reset(r->arena, r->app->db, &u->id); /* best effort */
        }
        return 0;
    case PWHASH_MISMATCH:
        if ((st = db_users_guess_failed(r->arena, r->app->db, &u->id, now, window)) != DB_OK) {
            *rc = respond_db_problem(r, st);
            return -1;
        }
        log_ev(LOG_INFO, "wrong_current_password", "user %s", u->id_hex);
        *rc = respond_problem(r, PROB_WRONG_PASSWORD, NULL);
        return -1;
    default:
        *rc = -1;
        return -1;
    }
}

/* PATCH /api/v1/users/me */
int
h_users_update_me(struct request *r)
{
    static const struct js_field spec[] = {
        {"displayName", JS_STRING, false, 1, MAX_DISPLAY_NAME},
        {"email", JS_STRING, false, 3, MAX_EMAIL},
        {"currentPassword", JS_STRING, false, 1, MAX_PASSWORD},
        {"bio", JS_STRING, false, 0, MAX_BIO},
    };
    struct js_value v[4];
    struct js_error errs[3];
    size_t nerrs = 0;
    char *name = NULL, *email = NULL, *bio = NULL;
    bson_oid_t id;
    struct user u;
    enum db_status st;
    int rc;

    if (!body_fields(r, spec, 4, v, false, &rc)) {
        return rc;
    }
    if (v[0].present && !account_valid_display_name(v[0].s)) {
        errs[nerrs++] = (struct js_error){"displayName", "invalid_format"};
    }
    if (v[1].present && !account_valid_email(v[1].s)) {
        errs[nerrs++] = (struct js_error){"email", "invalid_format"};
    }
    /* Lines are fine in a bio; control characters are not (other people read it). */
    if (v[3].present && !str_is_text(v[3].s, STR_MULTILINE)) {
        errs[nerrs++] = (struct js_error){"bio", "invalid_format"};
    }
    if (nerrs > 0) {
        return respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
    }
    if ((v[0].present && (name = str_cstr(r->arena, v[0].s)) == NULL) ||
        (v[1].present && (email = str_lower_cstr(r->arena, v[1].s)) == NULL) ||
        (v[3].present && (bio = str_cstr(r->arena, v[3].s)) == NULL)) {
        return -1;
    }
    if (own_user(r, &id, &u, &rc) == -1) {
        return rc;
    }
    /* A bearer token alone must not move the account to another mailbox. */
    if (email != NULL && strcmp(email, u.email != NULL ? u.email : "") != 0) {
        if (!v[2].present) {
            return respond_problem(r, PROB_CURRENT_PASSWORD_REQUIRED,
                                   "Changing the email needs currentPassword");
        }
        if (check_current_password(r, &u, v[2].s, &rc) == -1) {
            return rc;
        }
    }
    if (name != NULL || email != NULL || bio != NULL) {
        st = db_users_update_profile(r->arena, r->app->db, &id, name, email, bio);
        cache_invalidate(r, 'u', r->user.id);
        if (st == DB_DUPLICATE) {
            return respond_problem(r, PROB_EMAIL_TAKEN, NULL);
        }
        if (st != DB_OK) {
            return st == DB_NOT_FOUND ? respond_problem(r, PROB_USER_NOT_FOUND, NULL)
                                      : respond_db_problem(r, st);
        }
        if (own_user(r, &id, &u, &rc) == -1) {
            return rc;
        }
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
    const char *weak;
    char *hash;
    int rc;

    if (!body_fields(r, spec, 2, v, false, &rc)) {
        return rc;
    }
    if (v[1].s.len > MAX_PASSWORD_BYTES) {
        static const struct js_error too_long = {"newPassword", "too_long"};

        return respond_problem_errors(r, PROB_VALIDATION_FAILED, &too_long, 1);
    }
    if (db_oid_parse(str_from(r->user.sid), &family) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if (own_user(r, &id, &u, &rc) == -1 || check_current_password(r, &u, v[0].s, &rc) == -1) {
        return rc;
    }
    if ((weak = account_password_weakness(r->arena, v[1].s, u.username)) != NULL) {
        return respond_problem(r, PROB_PASSWORD_TOO_COMMON,
                               arena_sprintf(r->arena, "newPassword: %s", weak));
    }
    if ((hash = pwhash_hash(r->arena, v[1].s)) == NULL) {
        return -1;
    }
    /* Password first: if revoking then fails, the old password is already useless. */
    if ((st = db_users_set_password(r->arena, r->app->db, &id, hash)) != DB_OK ||
        (st = db_sessions_revoke_user(r->arena, r->app->db, &id, &family)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    /* Every other session's access tokens stop too (bearer.c checks families through the
     * user's generation). */
    cache_invalidate(r, 'u', r->user.id);
    return respond_empty(r, 204);
}

/* POST /api/v1/users/me/deletion {currentPassword}: deletes the account. Order: the drop job
 * first (it acts once the document is gone, so a failure below costs nothing), every session
 * revoked, then the document; the job removes the rest (videos, ratings, comments, posts,
 * subscriptions, playlists). The username and email are free again at once. */
int
h_users_delete_me(struct request *r)
{
    static const struct js_field spec[] = {
        {"currentPassword", JS_STRING, true, 1, MAX_PASSWORD},
    };
    struct js_value v[1];
    bson_oid_t id;
    struct user u;
    enum db_status st;
    int rc;

    if (!body_fields(r, spec, 1, v, false, &rc)) {
        return rc;
    }
    if (own_user(r, &id, &u, &rc) == -1 || check_current_password(r, &u, v[0].s, &rc) == -1) {
        return rc;
    }
    if ((st = drop_enqueue(r, "user", &id, u.avatar, u.banner)) != DB_OK ||
        (st = db_sessions_revoke_user(r->arena, r->app->db, &id, NULL)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    st = db_users_delete(r->arena, r->app->db, &id);
    cache_invalidate(r, 'u', r->user.id);
    if (st != DB_OK && st != DB_NOT_FOUND) {
        return respond_db_problem(r, st);
    }
    image_drop_user(r->app->cfg.media_root, u.avatar, u.banner);
    log_ev(LOG_INFO, "user_deleted", "user %s", u.id_hex);
    return respond_empty(r, 204);
}

/* DELETE /api/v1/users/me/sessions: signs out every other session (other browsers and
 * devices); the caller's own stays. */
int
h_users_sessions_delete(struct request *r)
{
    bson_oid_t id, family;
    enum db_status st;

    if (db_oid_parse(str_from(r->user.sid), &family) == -1 ||
        db_oid_parse(str_from(r->user.id), &id) == -1) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if ((st = db_sessions_revoke_user(r->arena, r->app->db, &id, &family)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    /* Their access tokens stop too, here at once (bearer.c checks a token's family
     * through the user's generation). */
    cache_invalidate(r, 'u', r->user.id);
    return respond_empty(r, 204);
}
