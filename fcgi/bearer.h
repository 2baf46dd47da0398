/*
 * bearer.h - who is asking: the access token of "Authorization: Bearer <token>" (RFC 6750),
 * verified by jwt.h, with a per-worker cache of tokens already verified. main.c runs
 * bearer_require() from a route's auth column; handlers that must decide without
 * answering (the upload check, logout) call bearer_get().
 */
#ifndef STREMORA_FCGI_BEARER_H
#define STREMORA_FCGI_BEARER_H

#include "http.h"
#include "problem.h"
#include "route.h"

enum bearer_status {
    BEARER_OK,      /* *who is filled */
    BEARER_ABSENT,  /* no Authorization header */
    BEARER_REFUSED, /* *why says which 401 */
};

/* Verifies the request's bearer token into *who. */
enum bearer_status bearer_get(struct request *r, struct principal *who, enum prob *why);
/* The middleware: fills r->user as need says. Returns 0, or -1 after answering 401/403. */
int bearer_require(struct request *r, enum route_auth need);

#endif
