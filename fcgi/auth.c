/*
 * auth.c - accounts and sessions (DESIGN.md section 6).
 *   POST /api/v1/auth/register  {username, email, password, displayName?} -> 201 user
 *   POST /api/v1/auth/login     {login, password, session?} -> 200 token pair + refresh cookie
 *   POST /api/v1/auth/refresh   {refreshToken?, session?} or the cookie -> 200 next pair
 *   POST /api/v1/auth/logout    refresh token, cookie or bearer token -> 204
 * A refresh token is 256 bits (random at login, then each derived from the one before),
 * kept in sessions only as its SHA-256. Each use spends it and issues the next one in the
 * same family; a spent token presented again gets that same next one within the grace
 * (two tabs racing) or the retry window (a lost answer), and after that revokes the
 * family. Browsers may ask for the cookie only ("session": "cookie" or the header
 * X-Stremora-Session: cookie): the refresh token then never reaches a script. Login
 * failures look and take the same whether or not the account exists.
 */
#include "handlers.h"

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

#define REFRESH_COOKIE    "stremora_refresh"
#define SESSION_HEADER    "HTTP_X_STREMORA_SESSION"
#define SUCCESSOR_CONTEXT "stremora refresh successor|"
#define CHAIN_HOPS        4 /* successors followed to a live token within the grace */

static void
set_refresh_cookie(struct request *r, const char *token, uint64_t max_age)
{
    respond_header(r,
                   "Set-Cookie: " REFRESH_COOKIE "=%s; Path=/api/v1/auth; Max-Age=%llu; "
                   "HttpOnly; SameSite=Strict%s",
                   token, (unsigned long long)max_age, r->https ? "; Secure" : "");
}

/* The SHA-256 (hex) that sessions keep of a refresh token. */
static void
token_hash(const char *tok, size_t len, char out[65])
{
    unsigned char digest[CRYPTO_SHA256_LEN];

    crypto_sha256(tok, len, digest);
    crypto_hex(digest, sizeof(digest), out);
}

/*
 * The token that follows tok, made with the key kid: base64url(HMAC-SHA256(key,
 * SUCCESSOR_CONTEXT tok)). Anyone holding tok gets the same successor, so a spent token
 * presented again is answered with the token already issued, never a second one: a family
 * has one live chain. Returns it in a, or NULL (kid no longer in the ring, arena full).
 */
static char *
successor_of(struct request *r, struct str tok, const char *kid)
{
    const struct key *k = keys_get(&r->app->keys, str_from(kid));
    unsigned char mac[CRYPTO_SHA256_LEN];
    char msg[sizeof(SUCCESSOR_CONTEXT) + MAX_REFRESH_TOKEN];
    char *next;

    if (k == NULL || tok.len > MAX_REFRESH_TOKEN) {
        return NULL;
    }
    memcpy(msg, SUCCESSOR_CONTEXT, sizeof(SUCCESSOR_CONTEXT) - 1);
    memcpy(msg + sizeof(SUCCESSOR_CONTEXT) - 1, tok.p, tok.len);
    crypto_hmac_sha256(k->key, k->len, msg, sizeof(SUCCESSOR_CONTEXT) - 1 + tok.len, mac);
    next = crypto_b64url(r->arena, mac, sizeof(mac));
    crypto_wipe(mac, sizeof(mac));
    return next;
}

/* A "session" member is "cookie" (the refresh token in the HttpOnly cookie only: the web
 * app's mode) or "body" (also in the body: API clients, the default). Returns false after
 * answering 422. */
static bool
session_mode_valid(struct request *r, const struct js_value *session, int *rc)
{
    static const struct js_error bad = {"session", "invalid_format"};

    if (session->present && !str_eq_cstr(session->s, "cookie") &&
        !str_eq_cstr(session->s, "body")) {
        *rc = respond_problem_errors(r, PROB_VALIDATION_FAILED, &bad, 1);
        return false;
    }
    return true;
}

/* True when the client asked for the cookie only: no refresh token in the body. */
static bool
cookie_only(struct request *r, const struct js_value *session)
{
    return (session->present && str_eq_cstr(session->s, "cookie")) ||
           str_ieq_cstr(req_env(r, SESSION_HEADER), "cookie");
}

/* Answers 200 with an access token for u in family and the refresh token refresh (in
 * the cookie, and in the body unless the client asked for the cookie only). */
static int
answer_tokens(struct request *r, const struct user *u, const bson_oid_t *family,
              const char *refresh, int64_t expires_at, bool cookie)
{
    struct app *app = r->app;
    unsigned char jti[16];
    struct jwt_claims c = {0};
    struct json_object *o;
    int64_t now = db_now_ms();
    char *access;

    if (crypto_random(jti, sizeof(jti)) == -1) {
        return -1;
    }
    snprintf(c.sub, sizeof(c.sub), "%s", u->id_hex);
    snprintf(c.role, sizeof(c.role), "%s", u->role);
    bson_oid_to_string(family, c.sid);
    crypto_hex(jti, sizeof(jti), c.jti);
    c.iat = now / 1000;
    c.exp = c.iat + JWT_ACCESS_TTL;
    if ((access = jwt_sign(r->arena, keys_current(&app->keys), &c)) == NULL ||
        (o = js_new_object(r->arena)) == NULL) {
        return -1;
    }
    js_add_str(o, "accessToken", access);
    if (!cookie) {
        js_add_str(o, "refreshToken", refresh);
    }
    js_add_str(o, "tokenType", "Bearer");
    js_add_int(o, "expiresIn", JWT_ACCESS_TTL);
    js_add_obj(o, "user", user_json(r->arena, u));
    set_refresh_cookie(r, refresh, (uint64_t)(expires_at > now ? (expires_at - now) / 1000 : 0));
    return respond_json(r, 200, js_string(r->arena, o));
}

/* Stores a session for refresh (family, user) expiring refresh_ttl from now. DB_DUPLICATE
 * when it is stored already (the same successor, made by a racing or earlier request). */
static enum db_status
store_session(struct request *r, const char *refresh, const bson_oid_t *family,
              const bson_oid_t *user, struct session *s)
{
    int64_t now = db_now_ms();

    memset(s, 0, sizeof(*s));
    token_hash(refresh, strlen(refresh), s->token_hash);
    bson_oid_copy(family, &s->family_id);
    bson_oid_copy(user, &s->user_id);
    s->created_at = now;
    s->expires_at = now + (int64_t)r->app->cfg.refresh_ttl * 1000;
    return db_sessions_insert(r->arena, r->app->db, s);
}

/* Starts a session family for u (login) and answers with its first pair. */
static int
start_session(struct request *r, const struct user *u, bool cookie)
{
    unsigned char raw[REFRESH_TOKEN_BYTES];
    struct session s;
    bson_oid_t family;
    enum db_status st;
    char *refresh;

    if (crypto_random(raw, sizeof(raw)) == -1) {
        return -1;
    }
    refresh = crypto_b64url(r->arena, raw, sizeof(raw));
    crypto_wipe(raw, sizeof(raw));
    if (refresh == NULL) {
        return -1;
    }
    bson_oid_init(&family, NULL);
    if ((st = store_session(r, refresh, &family, &u->id, &s)) != DB_OK) {
        return respond_db_problem(r, st);
    }
    return answer_tokens(r, u, &family, refresh, s.expires_at, cookie);
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
    const char *taken = "username", *weak;
    size_t nerrs = 0;
    enum db_status st;
    int rc;

    if (!body_fields(r, spec, 4, v, false, &rc)) {
        return rc;
    }
    if (!account_valid_username(v[0].s)) {
        errs[nerrs++] = (struct js_error){"username", "invalid_format"};
    } else if (account_username_is_reserved(v[0].s)) {
        errs[nerrs++] = (struct js_error){"username", "reserved"};
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
    if (u.username != NULL &&
        (weak = account_password_weakness(r->arena, v[2].s, u.username)) != NULL) {
        return respond_problem(r, PROB_PASSWORD_TOO_COMMON,
                               arena_sprintf(r->arena, "password: %s", weak));
    }
    u.email = str_lower_cstr(r->arena, v[1].s);
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
        return respond_db_problem(r, st);
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
        {"session", JS_STRING, false, 1, MAX_SESSION_MODE},
    };
    struct js_value v[3];
    struct user u;
    enum db_status st;
    char *login;
    int rc;

    if (!body_fields(r, spec, 3, v, false, &rc) || !session_mode_valid(r, &v[2], &rc)) {
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
        return respond_db_problem(r, st);
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
    return start_session(r, &u, cookie_only(r, &v[2]));
}

/* The refresh token from the body ({refreshToken}) or, without one, the cookie, and the
 * session mode asked for. Returns true when found; false when a problem was sent. */
static bool
refresh_token_of(struct request *r, struct str *tok, bool *cookie, int *rc)
{
    static const struct js_field spec[] = {
        {"refreshToken", JS_STRING, false, 1, MAX_REFRESH_TOKEN},
        {"session", JS_STRING, false, 1, MAX_SESSION_MODE},
    };
    struct js_value v[2];

    if (!body_fields(r, spec, 2, v, true, rc) || !session_mode_valid(r, &v[1], rc)) {
        return false;
    }
    *tok = v[0].present ? v[0].s : req_cookie(r, REFRESH_COOKIE);
    *cookie = cookie_only(r, &v[1]);
    return true;
}

/* Finds the session of a presented refresh token. */
static enum db_status
session_of(struct request *r, struct str tok, struct session *s)
{
    char hex[65];

    if (tok.len == 0 || tok.len > MAX_REFRESH_TOKEN) {
        return DB_NOT_FOUND;
    }
    token_hash(tok.p, tok.len, hex);
    return db_sessions_get_by_hash(r->arena, r->app->db, hex, s);
}

/* Spends the unspent session s of token tok: stores its successor first, then marks s
 * spent naming the key it was made with, so the spend and the successor are one outcome
 * (a retry after a lost answer derives and finds the same successor). On success *next
 * is the successor token and *ns its session. */
static enum db_status
rotate(struct request *r, struct str tok, struct session *s, char **next, struct session *ns)
{
    const char *kid = keys_current(&r->app->keys)->kid;
    enum db_status st;

    if ((*next = successor_of(r, tok, kid)) == NULL) {
        return DB_ERROR;
    }
    st = store_session(r, *next, &s->family_id, &s->user_id, ns);
    if (st != DB_OK && st != DB_DUPLICATE) {
        return st;
    }
    if ((st = db_sessions_spend(r->arena, r->app->db, &s->id, kid)) == DB_OK) {
        s->spent = true;
        s->spent_at = db_now_ms();
        snprintf(s->next_kid, sizeof(s->next_kid), "%s", kid);
        return DB_OK;
    }
    return st; /* DB_CONFLICT: spent (by a racer) or revoked a moment ago */
}

/* Follows s's successors (s was spent) to the first unspent one, at most hops steps. */
static enum db_status
live_successor(struct request *r, struct str tok, const struct session *s, int hops, char **next,
               struct session *ns)
{
    struct session cur = *s;
    struct str t = tok;
    enum db_status st;

    while (hops-- > 0) {
        if (cur.next_kid[0] == '\0' || (*next = successor_of(r, t, cur.next_kid)) == NULL) {
            return DB_NOT_FOUND;
        }
        if ((st = session_of(r, str_from(*next), ns)) != DB_OK) {
            return st;
        }
        if (!ns->spent) {
            return DB_OK;
        }
        cur = *ns;
        t = str_from(*next);
    }
    return DB_NOT_FOUND;
}

/* A spent token s presented again. Within the grace (two tabs racing) it gets the live
 * token its chain has reached; within the retry window, the successor already issued if
 * nobody has used it yet (the answer was lost on its way); either way the same token, so
 * a family has one live chain. Later, or with a used successor, it was copied: the family
 * is revoked. (A window, not "whenever the successor is unused": two holders of one chain
 * would then hand each other every next token, and reuse would never show.) Returns 0
 * with *next and *ns set, or -1 after answering. */
static int
spent_token(struct request *r, struct str tok, const struct session *s, char **next,
            struct session *ns, int *rc)
{
    int64_t now = db_now_ms(), since = now - s->spent_at;
    bool in_grace = since <= (int64_t)r->app->cfg.refresh_grace * 1000;
    bool in_retry = since <= (int64_t)r->app->cfg.refresh_retry * 1000;
    enum db_status st = DB_NOT_FOUND;
    char family[25];

    if (in_grace || in_retry) {
        st = live_successor(r, tok, s, in_grace ? CHAIN_HOPS : 1, next, ns);
    }
    if (st != DB_OK && st != DB_NOT_FOUND) {
        *rc = respond_db_problem(r, st);
        return -1;
    }
    if (st == DB_OK && !ns->revoked && ns->expires_at > now) {
        if (!in_grace) {
            log_ev(LOG_INFO, "refresh_retried", "a spent token's unused successor sent again");
        }
        return 0;
    }
    if ((st = db_sessions_revoke_family(r->arena, r->app->db, &s->family_id)) != DB_OK) {
        *rc = respond_db_problem(r, st);
        return -1;
    }
    bson_oid_to_string(&s->family_id, family);
    cache_invalidate(r, 'f', family);
    log_ev(LOG_WARN, "refresh_token_reused", "session family %s revoked", family);
    *rc = respond_problem(r, PROB_REFRESH_TOKEN_REUSED, NULL);
    return -1;
}

/* POST /api/v1/auth/refresh */
int
h_auth_refresh(struct request *r)
{
    struct app *app = r->app;
    struct session s, ns;
    struct user u;
    struct str tok;
    bool cookie;
    enum db_status st;
    char *next = NULL;
    int rc;

    if (!refresh_token_of(r, &tok, &cookie, &rc)) {
        return rc;
    }
    if (tok.p == NULL) {
        return respond_problem(r, PROB_MISSING_TOKEN, "Send refreshToken or the cookie");
    }
    st = session_of(r, tok, &s);
    if (st == DB_NOT_FOUND || (st == DB_OK && (s.revoked || s.expires_at <= db_now_ms()))) {
        return respond_problem(r, PROB_INVALID_REFRESH_TOKEN, NULL);
    }
    if (st != DB_OK) {
        return respond_db_problem(r, st);
    }
    st = s.spent ? DB_CONFLICT : rotate(r, tok, &s, &next, &ns);
    if (st == DB_CONFLICT && !s.spent) { /* spent or revoked a moment ago: read which */
        char hash[sizeof(s.token_hash)];

        memcpy(hash, s.token_hash, sizeof(hash));
        if ((st = db_sessions_get_by_hash(r->arena, app->db, hash, &s)) == DB_OK && s.revoked) {
            /* Revoked (logout, password change, reuse) while we rotated: revoke again, so
             * that the successor we may have stored goes with the rest of the family. */
            db_sessions_revoke_family(r->arena, app->db, &s.family_id);
            return respond_problem(r, PROB_INVALID_REFRESH_TOKEN, NULL);
        }
        st = st == DB_OK ? DB_CONFLICT : st;
    }
    if (st == DB_CONFLICT && spent_token(r, tok, &s, &next, &ns, &rc) == -1) {
        return rc;
    }
    if (st != DB_OK && st != DB_CONFLICT) {
        return st == DB_NOT_FOUND ? respond_problem(r, PROB_INVALID_REFRESH_TOKEN, NULL)
                                  : respond_db_problem(r, st);
    }
    if ((st = db_users_get(r->arena, app->db, &s.user_id, &u)) != DB_OK) {
        return st == DB_NOT_FOUND ? respond_problem(r, PROB_INVALID_REFRESH_TOKEN, NULL)
                                  : respond_db_problem(r, st);
    }
    return answer_tokens(r, &u, &s.family_id, next, ns.expires_at, cookie);
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
    bool have_family = false, cookie;
    enum db_status st;
    char family_hex[25];
    int rc;

    if (!refresh_token_of(r, &tok, &cookie, &rc)) {
        return rc;
    }
    if (tok.p != NULL) {
        /* An unknown token has nothing to revoke: logout stays idempotent. */
        if ((st = session_of(r, tok, &s)) == DB_OK) {
            bson_oid_copy(&s.family_id, &family);
            have_family = true;
        } else if (st != DB_NOT_FOUND) {
            return respond_db_problem(r, st);
        }
    } else if (req_env(r, "HTTP_AUTHORIZATION").p == NULL) {
        return respond_problem(r, PROB_MISSING_TOKEN, "Send the refresh token or a bearer token");
    } else if (!(have_family = family_of_bearer(r, &family))) {
        return respond_problem(r, PROB_INVALID_TOKEN, NULL);
    }
    if (have_family) {
        if ((st = db_sessions_revoke_family(r->arena, r->app->db, &family)) != DB_OK) {
            return respond_db_problem(r, st);
        }
        /* The family's access tokens stop on this host at once, elsewhere within the
         * cache's TTL (bearer.c). */
        bson_oid_to_string(&family, family_hex);
        cache_invalidate(r, 'f', family_hex);
    }
    set_refresh_cookie(r, "", 0);
    return respond_empty(r, 204);
}
