/*
 * bearer.c - access tokens on requests. A token's signature is checked once per worker:
 * verified tokens are remembered in the LRU under their signature, with the token's exact
 * bytes and claims, so a client's next request with the same token costs a lookup and a
 * compare instead of a JWT parse (~13 us, the largest part of a hot GET). A hit still
 * checks expiry; a key reload (keys_generation) makes every entry stale.
 */
#include "bearer.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "bounds.h"
#include "db.h"
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
    enum jwt_status st;
    size_t len;

    dot = tok.len > 0 ? memrchr(tok.p, '.', tok.len) : NULL;
    sig = dot != NULL ? (struct str){dot + 1, tok.len - (size_t)(dot + 1 - tok.p)} : STR_NULL;
    if (tok.len <= MAX_JWT && sig.len > 0 && sig.len + 2 <= MAX_CACHE_KEY) {
        snprintf(key, sizeof(key), "t:%.*s", (int)sig.len, sig.p);
        hit = lru_get(app->cache, key, (uint64_t)now, app->keys_generation, &len);
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
        lru_put(app->cache, key, &e, offsetof(struct token_entry, token) + tok.len, (uint64_t)now,
                app->keys_generation);
    }
    return st;
}

enum bearer_status
bearer_get(struct request *r, struct principal *who, enum prob *why)
{
    struct str auth = req_env(r, "HTTP_AUTHORIZATION"), tok;
    struct jwt_claims c;
    enum jwt_status st;

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
