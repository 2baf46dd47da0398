/*
 * bearer.c - access tokens on requests. A token's signature is checked once per worker:
 * verified tokens are remembered in the LRU under their signature, with the token's exact
 * bytes and claims, so a client's next request with the same token costs a lookup and a
 * compare instead of a JWT parse (~13 us, the largest part of a hot GET). A hit still
 * checks expiry; a key reload (keys_generation) makes every entry stale.
 * A valid signature is not enough: the token's session family (its sid) must not be
 * signed out. That answer is cached too, per family, for the cache's TTL: logout and a
 * password change invalidate it on every worker of the host at once (host.h generations
 * of the family and of the user), other hosts see it within the TTL, and a hot GET costs
 * no database read.
 */
#include "bearer.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "bounds.h"
#include "clock.h"
#include "db.h"
#include "db_sessions.h"
#include "handlers.h"
#include "host.h"
#include "jwt.h"
#include "lru.h"

#define BEARER_PREFIX     "Bearer "
#define BEARER_PREFIX_LEN 7

struct token_entry {
    struct jwt_claims claims;
    size_t len;
    char token[MAX_JWT];
};

static enum jwt_status
verify_token(struct request *r, struct str tok, struct jwt_claims *c)
{
    struct app *app = r->app;
    const struct token_entry *hit;
    struct token_entry e;
    struct str sig;
    const char *dot;
    char key[MAX_CACHE_KEY + 1];
    int64_t now = db_now_ms();
    uint64_t mono = (uint64_t)clock_mono_ms();
    enum jwt_status st;
    size_t len;

    dot = tok.len > 0 ? memrchr(tok.p, '.', tok.len) : NULL;
    sig = dot != NULL ? (struct str){dot + 1, tok.len - (size_t)(dot + 1 - tok.p)} : STR_NULL;
    if (tok.len <= MAX_JWT && sig.len > 0 && sig.len + 2 <= MAX_CACHE_KEY) {
        snprintf(key, sizeof(key), "t:%.*s", (int)sig.len, sig.p);
        hit = lru_get(app->cache, key, mono, app->keys_generation, &len);
        if (hit != NULL && hit->len == tok.len && memcmp(hit->token, tok.p, tok.len) == 0) {
            if (now / 1000 > hit->claims.exp + JWT_LEEWAY) {
                return JWT_EXPIRED;
            }
            *c = hit->claims;
            return JWT_OK;
        }
    } else {
        key[0] = '\0';
    }
    if ((st = jwt_verify(&app->keys, tok, now / 1000, c)) == JWT_OK && key[0] != '\0') {
        memset(&e, 0, offsetof(struct token_entry, token));
        e.claims = *c;
        e.len = tok.len;
        memcpy(e.token, tok.p, tok.len);
        lru_put(app->cache, key, &e, offsetof(struct token_entry, token) + tok.len, mono,
                app->keys_generation);
    }
    return st;
}

/* Whether the family of c is still signed in: from this worker's cache, else the
 * database. DB_OK with *alive set, or the database's failure. */
static enum db_status
family_alive(struct request *r, const struct jwt_claims *c, bool *alive)
{
    struct app *app = r->app;
    char fkey[HOST_KEY_MAX], ukey[HOST_KEY_MAX];
    uint64_t gen, now = (uint64_t)clock_mono_ms();
    bson_oid_t family;
    const char *hit;
    enum db_status st;
    size_t len;

    host_key(fkey, 'f', c->sid);
    host_key(ukey, 'u', c->sub);
    /* Either counter moving makes the entry stale: a sum of counters that only grow. */
    gen = host_gen(app->host, fkey) + host_gen(app->host, ukey);
    if ((hit = lru_get(app->cache, fkey, now, gen, &len)) != NULL && len == 1) {
        *alive = hit[0] == '1';
        return DB_OK;
    }
    if (db_oid_parse(str_from(c->sid), &family) == -1) {
        *alive = false;
        return DB_OK;
    }
    if ((st = db_sessions_family_alive(r->arena, app->db, &family, alive)) == DB_OK) {
        lru_put(app->cache, fkey, *alive ? "1" : "0", 1, now, gen);
    }
    return st;
}

enum bearer_status
bearer_get(struct request *r, struct principal *who, enum prob *why)
{
    struct str auth = req_env(r, "HTTP_AUTHORIZATION"), tok;
    struct jwt_claims c;
    enum jwt_status st;
    enum db_status dst;
    bool alive;

    memset(who, 0, sizeof(*who));
    if (auth.p == NULL) {
        *why = PROB_MISSING_TOKEN;
        return BEARER_ABSENT;
    }
    if (auth.len > MAX_JWT + BEARER_PREFIX_LEN || auth.len < BEARER_PREFIX_LEN ||
        strncasecmp(auth.p, BEARER_PREFIX, BEARER_PREFIX_LEN) != 0) {
        *why = PROB_INVALID_TOKEN;
        return BEARER_REFUSED;
    }
    tok = str_trim((struct str){auth.p + BEARER_PREFIX_LEN, auth.len - BEARER_PREFIX_LEN});
    if ((st = verify_token(r, tok, &c)) != JWT_OK) {
        *why = st == JWT_EXPIRED ? PROB_TOKEN_EXPIRED : PROB_INVALID_TOKEN;
        return BEARER_REFUSED;
    }
    if ((dst = family_alive(r, &c, &alive)) != DB_OK) {
        *why = db_prob(dst);
        return BEARER_REFUSED;
    }
    if (!alive) {
        *why = PROB_INVALID_TOKEN; /* signed out */
        return BEARER_REFUSED;
    }
    who->authenticated = true;
    memcpy(who->id, c.sub, sizeof(who->id));
    memcpy(who->role, c.role, sizeof(who->role));
    memcpy(who->sid, c.sid, sizeof(who->sid));
    return BEARER_OK;
}

int
bearer_require(struct request *r, enum route_auth need)
{
    enum prob why = PROB_INVALID_TOKEN;

    switch (bearer_get(r, &r->user, &why)) {
    case BEARER_OK:
        break;
    case BEARER_ABSENT:
        if (need == AUTH_OPTIONAL) {
            return 0;
        }
        respond_problem(r, why, NULL);
        return -1;
    case BEARER_REFUSED:
        respond_problem(r, why, NULL);
        return -1;
    }
    if (need == AUTH_ADMIN && strcmp(r->user.role, "admin") != 0) {
        respond_problem(r, PROB_FORBIDDEN, "Administrators only");
        return -1;
    }
    return 0;
}
