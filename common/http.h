/*
 * http.h - the request and response types handlers see, and the one adapter to FastCGI
 * (libfcgi) behind them. Handlers read with req_*, answer with respond_*; only http.c
 * includes fcgiapp.h. Run from a shell (not under spawn-fcgi), http_accept() builds one
 * request from the CGI environment and stdin, so one request can be replayed:
 *   REQUEST_METHOD=GET REQUEST_URI=/api/v1/health build/stremora-fcgi
 */
#ifndef STREMORA_HTTP_H
#define STREMORA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bounds.h"
#include "problem.h"
#include "str.h"

struct arena;
struct app;
struct http_conn;
struct js_error;

enum method {
    METHOD_GET,
    METHOD_HEAD,
    METHOD_POST,
    METHOD_PUT,
    METHOD_PATCH,
    METHOD_DELETE,
    METHOD_OPTIONS,
    METHOD__MAX,
    METHOD_UNKNOWN = METHOD__MAX
};

#define HTTP_MAX_OUT_HEADERS 8 /* extra response headers a handler may add */

/* Who made the request, from a verified access token (authenticated false otherwise). */
struct principal {
    bool authenticated;
    char id[25];   /* user ObjectId, hex */
    char role[16]; /* "user" or "admin" */
    char sid[25];  /* session family id, hex */
};

struct request {
    struct arena *arena;
    struct app *app; /* process state (fcgi/app.h); common/ never looks inside */
    struct http_conn *conn;
    enum method method;
    struct str path;           /* decoded path, no query */
    struct str query;          /* raw query string, no '?' */
    const char *route_pattern; /* for logs: never the raw path */
    struct str param_names[MAX_ROUTE_PARAMS];
    struct str params[MAX_ROUTE_PARAMS];
    size_t nparams;
    size_t body_limit; /* bytes the route accepts */
    struct principal user;
    bool https;
    const char *request_id;
    const char *out_headers[HTTP_MAX_OUT_HEADERS];
    size_t nout;
    /* Filled by respond_*: for the access line. */
    bool responded;
    int status;
    const char *code;
    uint64_t bytes_out;
};

/* Returns a connection for the accept loop (FastCGI, or one CGI request when run from a
 * shell), or NULL if libfcgi fails to start. */
struct http_conn *http_conn_new(void);
void http_conn_free(struct http_conn *c);
/* Waits for the next request and fills r (r->arena and r->app must be set; the rest is
 * reset). Returns 0, or -1 when there are no more requests (CGI mode after one, or the
 * listening socket failed). */
int http_accept(struct http_conn *c, struct request *r);
/* Ends the current request: flushes and closes its streams. */
void http_finish(struct http_conn *c);
/* Returns true when the process serves one CGI request instead of a FastCGI socket. */
bool http_is_cgi(const struct http_conn *c);

/* Returns the CGI parameter (e.g. "CONTENT_TYPE", "HTTP_AUTHORIZATION") or the null str. */
struct str req_env(const struct request *r, const char *name);
/* Returns the named cookie's value from the Cookie header, or the null str. */
struct str req_cookie(const struct request *r, const char *name);
/* Returns the route parameter {name}, or the null str. */
struct str req_param(const struct request *r, const char *name);
/* Returns the decoded value of query parameter name, or the null str; NULL-free. */
struct str req_query(const struct request *r, const char *name);
/* The same for any query string (application/x-www-form-urlencoded): the first name=value
 * pair's value, percent- and '+'-decoded into a; "" for a bare name; the null str if the
 * name is absent or its value holds a bad escape or a NUL. */
struct str http_query_value(struct arena *a, struct str query, const char *name);
/* True if every %-escape of q is two hex digits and none decodes to NUL. */
bool http_query_is_valid(struct str q);
/* Reads up to n body bytes. Returns the count, 0 at the end, or -1 if the client or
 * nginx went away. */
ssize_t req_read(struct request *r, void *buf, size_t n);

enum body_status { BODY_OK, BODY_TOO_LARGE, BODY_ERROR };
/* Reads the whole body (at most max bytes) into r->arena. */
enum body_status req_read_body(struct request *r, size_t max, struct str *out);

/* Adds a response header line ("Name: value"), copied into the arena. Returns 0 or -1. */
int respond_header(struct request *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Forgets the headers named name (any case) that respond_header added. */
void respond_header_drop(struct request *r, const char *name);
/* Each respond_* sends the whole response and returns 0, or -1 if it could not be sent.
 * A body of NULL (a builder that failed) answers 500 internal instead. */
int respond_json(struct request *r, int status, const char *json);
int respond_body(struct request *r, int status, const char *content_type, const char *body,
                 size_t len);
int respond_empty(struct request *r, int status);
/* RFC 9457 problem details; detail NULL uses the row's title. */
int respond_problem(struct request *r, enum prob p, const char *detail);
/* Refuses an nginx auth_request subrequest (nginx tells only 2xx, 401 and 403 apart):
 * answers 401 or 403 with the problem's own status in X-Stremora-Status and its JSON in
 * X-Stremora-Problem, from which nginx answers the client (nginx-conf/snippets). */
int respond_refusal(struct request *r, enum prob p, const char *detail);
/* 422-style problem with errors: [{field, code}]. */
int respond_problem_errors(struct request *r, enum prob p, const struct js_error *errs,
                           size_t nerrs);

/* Returns "GET", "POST", ... for m. */
const char *http_method_name(enum method m);
/* Returns the method for its name, or METHOD_UNKNOWN. */
enum method http_method_parse(struct str s);

#endif
