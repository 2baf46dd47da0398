/*
 * auth.c - accounts and sessions (DESIGN.md section 6).
 *   POST /api/v1/auth/register  {username, email, password, displayName?} -> 201 user
 *   POST /api/v1/auth/login     {login, password} -> 200 token pair + refresh cookie
 *   POST /api/v1/auth/refresh   {refreshToken} or the cookie -> 200 new pair
 *   POST /api/v1/auth/logout    refresh token, cookie or bearer token -> 204
 * A refresh token is 256 random bits, kept in sessions only as its SHA-256. Each use spends
 * it and issues the next one in the same family; a spent token presented again after the
 * grace (two tabs racing) revokes the family. Login failures look and take the same
 * whether or not the account exists.
 */
#include "handlers.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "account.h"
#include "app.h"
#include "arena.h"
#include "bearer.h"
#include "bounds.h"
#include "crypto.h"
#include "db.h"
#include "db_sessions.h"
#include "db_users.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "pwhash.h"

#define REFRESH_COOKIE "stremora_refresh"

static int
db_problem(struct request *r, enum db_status st)
{
    return respond_problem(r, st == DB_UNAVAILABLE ? PROB_DB_UNAVAILABLE : PROB_INTERNAL, NULL);
}

static void
set_refresh_cookie(struct request *r, const char *token, uint64_t max_age)
{
    respond_header(r,
                   "Set-Cookie: " REFRESH_COOKIE "=%s; Path=/api/v1/auth; Max-Age=%llu; "
                   "HttpOnly; SameSite=Strict%s",
                   token, (unsigned long long)max_age, r->https ? "; Secure" : "");
}

/* Starts (family NULL) or continues a session family for u and answers 200 with the pair.
 * Continuing from the presented token's hash: once the new session is stored, the presented
 * one is read again, and if it was revoked meanwhile (logout, password change, reuse) the
 * family is revoked again, the new session with it, and the answer is 401. */
static int
issue_tokens(struct request *r, const struct user *u, const bson_oid_t *family,
             const char *presented)
{
    struct app *app = r->app;
    unsigned char raw[REFRESH_TOKEN_BYTES], digest[CRYPTO_SHA256_LEN], jti[16];
    struct session s = {0};
    struct jwt_claims c = {0};
    struct json_object *o;
    char *refresh, *access;
    int64_t now = db_now_ms();
    enum db_status st;

    if (crypto_random(raw, sizeof(raw)) == -1 || crypto_random(jti, sizeof(jti)) == -1) {
        return -1;
    }
    refresh = crypto_b64url(r->arena, raw, sizeof(raw));
    crypto_wipe(raw, sizeof(raw));
    if (refresh == NULL) {
        return -1;
    }
    crypto_sha256(refresh, strlen(refresh), digest);
    crypto_hex(digest, sizeof(digest), s.token_hash);
    if (family != NULL) {
        bson_oid_copy(family, &s.family_id);
    } else {
        bson_oid_init(&s.family_id, NULL);
    }
    bson_oid_copy(&u->id, &s.user_id);
    s.created_at = now;
    s.expires_at = now + (int64_t)app->cfg.refresh_ttl * 1000;
    if ((st = db_sessions_insert(r->arena, app->db, &s)) != DB_OK) {
        return db_problem(r, st);
    }
    if (presented != NULL) {
        struct session again;

        if ((st = db_sessions_get_by_hash(r->arena, app->db, presented, &again)) != DB_OK ||
            again.revoked) {
            db_sessions_revoke_family(r->arena, app->db, &s.family_id);
            return st == DB_OK || st == DB_NOT_FOUND
                       ? respond_problem(r, PROB_INVALID_REFRESH_TOKEN, NULL)
                       : db_problem(r, st);
        }
    }

    snprintf(c.sub, sizeof(c.sub), "%s", u->id_hex);
    snprintf(c.role, sizeof(c.role), "%s", u->role);
    bson_oid_to_string(&s.family_id, c.sid);
    crypto_hex(jti, sizeof(jti), c.jti);
    c.iat = now / 1000;
    c.exp = c.iat + JWT_ACCESS_TTL;
    if ((access = jwt_sign(r->arena, keys_current(&app->keys), &c)) == NULL) {
        return -1;
    }
    if ((o = js_new_object(r->arena)) == NULL) {
        return -1;
    }
    js_add_str(o, "accessToken", access);
    js_add_str(o, "refreshToken", refresh);
    js_add_str(o, "tokenType", "Bearer");
    js_add_int(o, "expiresIn", JWT_ACCESS_TTL);
    js_add_obj(o, "user", user_json(r->arena, u));
    set_refresh_cookie(r, refresh, app->cfg.refresh_ttl);
    return respond_json(r, 200, js_string(r->arena, o));
}

static char *
lower_copy(struct arena *a, struct str s)
{
    char *c = str_cstr(a, s);
    size_t i;

    for (i = 0; c != NULL && c[i] != '\0'; i++) {
        c[i] = (char)tolower((unsigned char)c[i]);
    }
    return c;
}

/* POST /api/v1/auth/register */
int
h_auth_register(struct request *r)
{
    static const struct js_field spec[] = {
        {"username", JS_STRING, true, MIN_USERNAME, MAX_USERNAME},
        {"email", JS_STRING, true, 3, MAX_EMAIL},
        {"password", JS_STRING, true, MIN_PASSWORD, MAX_PASSWORD},
        {"displayName", JS_STRING, false, 1, MAX_DISPLAY_NAME},
    };
    struct js_value v[4];
    struct js_error errs[4];
    struct user u = {0};
    const char *taken = "username";
    size_t nerrs = 0;
    enum db_status st;
    int rc;

    if (!body_fields(r, spec, 4, v, false, &rc)) {
        return rc;
    }
    if (!account_valid_username(v[0].s)) {
        errs[nerrs++] = (struct js_error){"username", "invalid_format"};
    }
    if (!account_valid_email(v[1].s)) {
        errs[nerrs++] = (struct js_error){"email", "invalid_format"};
    }
    if (v[2].s.len > MAX_PASSWORD_BYTES) { /* 128 four-byte characters: too many for crypt */
        errs[nerrs++] = (struct js_error){"password", "too_long"};
    }
    if (v[3].present && !account_valid_display_name(v[3].s)) {
        errs[nerrs++] = (struct js_error){"displayName", "invalid_format"};
    }
    if (nerrs > 0) {
        return respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
    }
    u.username = str_cstr(r->arena, v[0].s);
    u.email = lower_copy(r->arena, v[1].s);
    u.display_name = v[3].present ? str_cstr(r->arena, v[3].s) : u.username;
    u.role = "user";
    if (u.username == NULL || u.email == NULL || u.display_name == NULL) {
        return -1;
    }
    if ((u.password_hash = pwhash_hash(r->arena, v[2].s)) == NULL) {
        return -1;
    }
    st = db_users_insert(r->arena, r->app->db, &u, &taken);
    if (st == DB_DUPLICATE) {
        return respond_problem(
            r, strcmp(taken, "email") == 0 ? PROB_EMAIL_TAKEN : PROB_USERNAME_TAKEN, NULL);
    }
    if (st != DB_OK) {
        return db_problem(r, st);
    }
    log_ev(LOG_INFO, "user_registered", "user %s", u.id_hex);
    respond_header(r, "Location: /api/v1/users/me");
    return respond_json(r, 201, js_string(r->arena, user_json(r->arena, &u)));
}

/* POST /api/v1/auth/login */
int
h_auth_login(struct request *r)
{
    static const struct js_field spec[] = {
        {"login", JS_STRING, true, 1, MAX_EMAIL},
        {"password", JS_STRING, true, 1, MAX_PASSWORD},
    };
    struct js_value v[2];
    struct user u;
    enum db_status st;
    char *login;
    int rc;

    if (!body_fields(r, spec, 2, v, false, &rc)) {
        return rc;
    }
    if ((login = str_cstr(r->arena, v[0].s)) == NULL) {
        return -1;
    }
    st = db_users_get_by_login(r->arena, r->app->db, login, &u);
    if (st == DB_NOT_FOUND || (st == DB_OK && u.password_hash == NULL)) {
        pwhash_dummy_verify(v[1].s); /* the same time as a wrong password */
        return respond_problem(r, PROB_INVALID_CREDENTIALS, NULL);
    }
    if (st != DB_OK) {
        return db_problem(r, st);
    }
    switch (pwhash_verify(v[1].s, u.password_hash)) {
    case PWHASH_MATCH:
        break;
    case PWHASH_MATCH_REHASH: {
        char *h = pwhash_hash(r->arena, v[1].s);

        /* Upgrading an imported bcrypt hash is best effort: the login stands either way. */
        if (h != NULL && db_users_set_password(r->arena, r->app->db, &u.id, h) == DB_OK) {
            log_ev(LOG_INFO, "password_rehashed", "user %s", u.id_hex);
        }
        break;
    }
    case PWHASH_MISMATCH:
        return respond_problem(r, PROB_INVALID_CREDENTIALS, NULL);
    default:
        return -1;
    }
    return issue_tokens(r, &u, NULL, NULL);
}

/* The refresh token from the body ({refreshToken}) or, without one, the cookie. Returns
 * true when found; false when a problem was sent. */
static bool
refresh_token_of(struct request *r, struct str *tok, int *rc)
{
    static const struct js_field spec[] = {
        {"refreshToken", JS_STRING, false, 1, MAX_REFRESH_TOKEN},
    };
    struct js_value v[1];

    if (!body_fields(r, spec, 1, v, true, rc)) {
        return false;
    }
    *tok = v[0].present ? v[0].s : req_cookie(r, REFRESH_COOKIE);
    return true;
}

/* Finds the session of a presented refresh token. */
static enum db_status
session_of(struct request *r, struct str tok, struct session *s)
{
    unsigned char digest[CRYPTO_SHA256_LEN];
    char hex[65];

    if (tok.len == 0 || tok.len > MAX_REFRESH_TOKEN) {
        return DB_NOT_FOUND;
    }
    crypto_sha256(tok.p, tok.len, digest);
    crypto_hex(digest, sizeof(digest), hex);
    return db_sessions_get_by_hash(r->arena, r->app->db, hex, s);
}

/* POST /api/v1/auth/refresh */
int
h_auth_refresh(struct request *r)
{
    struct app *app = r->app;
    struct session s;
    struct user u;
    struct str tok;
    int64_t now = db_now_ms();
    enum db_status st;
    int rc;

    if (!refresh_token_of(r, &tok, &rc)) {
        return rc;
    }
    if (tok.p == NULL) {
        return respond_problem(r, PROB_MISSING_TOKEN, "Send refreshToken or the cookie");
    }
    st = session_of(r, tok, &s);
    if (st == DB_NOT_FOUND || (st == DB_OK && (s.revoked || s.expires_at <= now))) {
        return respond_problem(r, PROB_INVALID_REFRESH_TOKEN, NULL);
    }
    if (st != DB_OK) {
        return db_problem(r, st);
    }
    if (!s.spent) {
        st = db_sessions_spend(r->arena, app->db, &s.id);
        if (st == DB_CONFLICT) { /* spent or revoked a moment ago: read which */
            char hash[sizeof(s.token_hash)];

            memcpy(hash, s.token_hash, sizeof(hash));
            st = db_sessions_get_by_hash(r->arena, app->db, hash, &s);
            if (st == DB_NOT_FOUND || (st == DB_OK && s.revoked)) {
                return respond_problem(r, PROB_INVALID_REFRESH_TOKEN, NULL);
            }
        }
        if (st != DB_OK) {
            return db_problem(r, st);
        }
        if (!s.spent) {
            s.spent = true; /* our own spend: the stored spentAt is now */
            s.spent_at = now;
        }
    }
    if (s.spent && now - s.spent_at > (int64_t)app->cfg.refresh_grace * 1000) {
        if ((st = db_sessions_revoke_family(r->arena, app->db, &s.family_id)) != DB_OK) {
            return db_problem(r, st);
        }
        log_ev(LOG_WARN, "refresh_token_reused", "session family revoked");
        return respond_problem(r, PROB_REFRESH_TOKEN_REUSED, NULL);
    }
    st = db_users_get(r->arena, app->db, &s.user_id, &u);
    if (st == DB_NOT_FOUND) {
        return respond_problem(r, PROB_INVALID_REFRESH_TOKEN, NULL);
    }
    if (st != DB_OK) {
        return db_problem(r, st);
    }
    return issue_tokens(r, &u, &s.family_id, s.token_hash);
}

/* The session family named by a bearer token's sid, if the token verifies. */
static bool
family_of_bearer(struct request *r, bson_oid_t *family)
{
    struct principal who;
    enum prob why;

    return bearer_get(r, &who, &why) == BEARER_OK && db_oid_parse(str_from(who.sid), family) == 0;
}

/* POST /api/v1/auth/logout */
int
h_auth_logout(struct request *r)
{
    struct session s;
    struct str tok;
    bson_oid_t family;
    bool have_family = false;
    enum db_status st;
    int rc;

    if (!refresh_token_of(r, &tok, &rc)) {
        return rc;
    }
    if (tok.p != NULL) {
        /* An unknown token has nothing to revoke: logout stays idempotent. */
        if ((st = session_of(r, tok, &s)) == DB_OK) {
            bson_oid_copy(&s.family_id, &family);
            have_family = true;
        } else if (st != DB_NOT_FOUND) {
            return db_problem(r, st);
        }
    } else if (req_env(r, "HTTP_AUTHORIZATION").p == NULL) {
        return respond_problem(r, PROB_MISSING_TOKEN, "Send the refresh token or a bearer token");
    } else if (!(have_family = family_of_bearer(r, &family))) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if (have_family && (st = db_sessions_revoke_family(r->arena, r->app->db, &family)) != DB_OK) {
        return db_problem(r, st);
    }
    set_refresh_cookie(r, "", 0);
    return respond_empty(r, 204);
}
