/*
 * route.h - the routing table's row type and the matcher. The table itself is data in
 * fcgi/routes.c: method, path pattern, handler, the auth it needs and the body limit;
 * main.c runs the middleware (auth, body limit) from the row. Patterns are literal
 * segments and {param} segments, and a final {rest*} that takes the rest of the path; a
 * literal segment beats a {param} in the same place (/videos/trending before /videos/{id}).
 */
#ifndef STREMORA_ROUTE_H
#define STREMORA_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "str.h"

typedef int (*handler_fn)(struct request *r);

enum route_auth {
    AUTH_NONE,     /* anyone; a token, if sent, is ignored */
    AUTH_OPTIONAL, /* anyone; a valid token sets r->user, a bad one is refused */
    AUTH_TOKEN,    /* a valid access token */
    AUTH_ADMIN,    /* a valid access token with role admin */
};

#define BODY_NONE   0
#define BODY_STREAM SIZE_MAX /* the handler streams the body up to its own limit */

struct route {
    enum method method;
    const char *pattern;
    handler_fn handler;
    enum route_auth auth;
    size_t body_limit; /* bytes; BODY_NONE refuses a body */
};

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_METHOD_NOT_ALLOWED };

/* Finds the row for method m and path. On ROUTE_FOUND *out is the row and r's params are
 * filled (names point into the pattern, values into path); on ROUTE_METHOD_NOT_ALLOWED
 * *allow has bit (1 << method) set for each method the path accepts (GET implies HEAD). */
enum route_result route_match(const struct route *table, size_t n, enum method m, struct str path,
                              struct request *r, const struct route **out, unsigned *allow);
/* Writes "GET, HEAD, POST" for the bits of allow into buf (cap bytes). */
void route_allow_format(unsigned allow, char *buf, size_t cap);

#endif
