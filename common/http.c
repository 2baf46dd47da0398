/*
 * http.c - the only file that knows FastCGI. It adapts an FCGX_Request (or, run from a
 * shell, the CGI environment and stdin/stdout) to struct request, and writes every
 * response: status line, headers, body in one FCGX_PutStr. Problems are RFC 9457 JSON.
 * Invariant: a request gets exactly one response; respond_* refuses a second.
 */
#include "http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "arena.h"
#include "json.h"
#include "log.h"
#include "watchdog.h"

extern char **environ;

struct http_conn {
    FCGX_Request fcgi;
    bool cgi;
    bool cgi_done;
    bool accepted;
};

static const char *const method_names[METHOD__MAX] = {
    [METHOD_GET] = "GET",         [METHOD_HEAD] = "HEAD",   [METHOD_POST] = "POST",
    [METHOD_PUT] = "PUT",         [METHOD_PATCH] = "PATCH", [METHOD_DELETE] = "DELETE",
    [METHOD_OPTIONS] = "OPTIONS",
};

const char *
http_method_name(enum method m)
{
    return m < METHOD__MAX ? method_names[m] : "UNKNOWN";
}

enum method
http_method_parse(struct str s)
{
    int m;

    for (m = 0; m < METHOD__MAX; m++) {
        if (str_eq_cstr(s, method_names[m])) {
            return (enum method)m;
        }
    }
    return METHOD_UNKNOWN;
}

struct http_conn *
http_conn_new(void)
{
    struct http_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    if (FCGX_Init() != 0) {
        free(c);
        return NULL;
    }
    c->cgi = FCGX_IsCGI() != 0;
    if (!c->cgi && FCGX_InitRequest(&c->fcgi, 0, 0) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void
http_conn_free(struct http_conn *c)
{
    if (c == NULL) {
        return;
    }
    if (!c->cgi) {
        FCGX_Free(&c->fcgi, 1);
    }
    free(c);
}

bool
http_is_cgi(const struct http_conn *c)
{
    return c->cgi;
}

static char **
envp_of(const struct request *r)
{
    return r->conn->cgi ? environ : r->conn->fcgi.envp;
}

struct str
req_env(const struct request *r, const char *name)
{
    const char *v = FCGX_GetParam(name, envp_of(r));

    return v != NULL ? str_from(v) : STR_NULL;
}

int
http_accept(struct http_conn *c, struct request *r)
{
    struct arena *a = r->arena;
    struct app *app = r->app;
    struct str uri, path, https;

    if (c->cgi) {
        if (c->cgi_done) {
            return -1;
        }
        c->cgi_done = true;
    } else if (FCGX_Accept_r(&c->fcgi) < 0) {
        return -1;
    }
    c->accepted = true;
    memset(r, 0, sizeof(*r));
    r->arena = a;
    r->app = app;
    r->conn = c;
    r->method = http_method_parse(req_env(r, "REQUEST_METHOD"));
    /* nginx's $document_uri is decoded and normalised; from a shell only REQUEST_URI. */
    uri = req_env(r, "REQUEST_URI");
    r->query = str_cut(uri, '?', &path);
    if (req_env(r, "DOCUMENT_URI").p != NULL) {
        path = req_env(r, "DOCUMENT_URI");
    }
    if (req_env(r, "QUERY_STRING").p != NULL) {
        r->query = req_env(r, "QUERY_STRING");
    }
    r->path = path;
    https = req_env(r, "HTTPS");
    r->https = https.len > 0 && !str_ieq_cstr(https, "off");
    r->request_id = req_env(r, "REQUEST_ID").p;
    if (r->request_id == NULL) {
        r->request_id = req_env(r, "HTTP_X_REQUEST_ID").p;
    }
    return 0;
}

void
http_finish(struct http_conn *c)
{
    if (c->cgi) {
        fflush(stdout);
    } else if (c->accepted) {
        FCGX_Finish_r(&c->fcgi);
    }
    c->accepted = false;
}

struct str
req_cookie(const struct request *r, const char *name)
{
    struct str rest = req_env(r, "HTTP_COOKIE"), pair, key;
    size_t n = strlen(name), i;

    if (rest.len > MAX_HEADER_VALUE) {
        return STR_NULL;
    }
    /* RFC 6265 section 5.4: "name=value" pairs separated by "; ". */
    for (i = 0; i < MAX_COOKIES && rest.p != NULL; i++) {
        struct str val;

        rest = str_cut(rest, ';', &pair);
        val = str_cut(str_trim(pair), '=', &key);
        if (val.p != NULL && key.len == n && memcmp(key.p, name, n) == 0) {
            return val;
        }
    }
    return STR_NULL;
}

struct str
req_param(const struct request *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nparams; i++) {
        if (str_eq_cstr(r->param_names[i], name)) {
            return r->params[i];
        }
    }
    return STR_NULL;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Percent-decodes s into a ('+' is a space in a query). NULL for bad escapes or NUL. */
static char *
url_decode(struct arena *a, struct str s, size_t *len)
{
    char *out = arena_alloc(a, s.len + 1);
    size_t i, n = 0;

    if (out == NULL) {
        return NULL;
    }
    for (i = 0; i < s.len; i++) {
        char c = s.p[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;

            if (s.len - i < 3) {
                return NULL;
            }
            if ((hi = hexval(s.p[i + 1])) < 0 || (lo = hexval(s.p[i + 2])) < 0) {
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            return NULL;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

bool
http_query_is_valid(struct str q)
{
    size_t i;

    for (i = 0; i < q.len; i++) {
        if (q.p[i] == '\0') {
            return false;
        }
        if (q.p[i] == '%') {
            if (q.len - i < 3 || hexval(q.p[i + 1]) < 0 || hexval(q.p[i + 2]) < 0 ||
                (q.p[i + 1] == '0' && q.p[i + 2] == '0')) {
                return false;
            }
            i += 2;
        }
    }
    return true;
}

struct str
req_query(const struct request *r, const char *name)
{
    return http_query_value(r->arena, r->query, name);
}

struct str
http_query_value(struct arena *a, struct str query, const char *name)
{
    struct str rest = query, pair, key;
    size_t n = strlen(name);

    while (rest.p != NULL) {
        struct str val;

        rest = str_cut(rest, '&', &pair);
        val = str_cut(pair, '=', &key);
        if (key.len == n && memcmp(key.p, name, n) == 0) {
            size_t len = 0;
            char *d;

            if (val.p == NULL) {
                return STR_LIT("");
            }
            d = url_decode(a, val, &len);
            return d != NULL ? (struct str){d, len} : STR_NULL;
        }
    }
    return STR_NULL;
}

ssize_t
req_read(struct request *r, void *buf, size_t n)
{
    int chunk = n > (1u << 30) ? 1 << 30 : (int)n;

    if (r->conn->cgi) {
        ssize_t k;

        do {
            k = read(STDIN_FILENO, buf, (size_t)chunk);
        } while (k == -1 && errno == EINTR);
        if (k > 0) {
            watchdog_kick();
        }
        return k;
    }
    chunk = FCGX_GetStr(buf, chunk, r->conn->fcgi.in);
    if (chunk == 0 && FCGX_GetError(r->conn->fcgi.in) != 0) {
        return -1;
    }
    if (chunk > 0) {
        watchdog_kick(); /* the body is arriving: the request is not stuck */
    }
    return chunk;
}

enum body_status
req_read_body(struct request *r, size_t max, struct str *out)
{
    struct str cl = req_env(r, "CONTENT_LENGTH");
    uint64_t want = 0;
    size_t got = 0, cap;
    char *buf;

    *out = STR_LIT("");
    if (cl.len > 0 && str_to_u64(cl, 0, UINT64_MAX, &want) == -1) {
        return BODY_ERROR;
    }
    if (want > max) {
        return BODY_TOO_LARGE;
    }
    if (cl.len == 0) {
        return BODY_OK; /* nginx buffers request bodies for these routes: no length, no body */
    }
    cap = (size_t)want;
    if ((buf = arena_alloc(r->arena, cap + 1)) == NULL) {
        return BODY_ERROR;
    }
    while (got < cap) {
        ssize_t k = req_read(r, buf + got, cap - got);

        if (k <= 0) {
            return BODY_ERROR;
        }
        got += (size_t)k;
    }
    *out = (struct str){buf, got};
    return BODY_OK;
}

int
respond_header(struct request *r, const char *fmt, ...)
{
    va_list ap;
    char *h;

    if (r->nout == HTTP_MAX_OUT_HEADERS) {
        return -1;
    }
    va_start(ap, fmt);
    h = arena_vsprintf(r->arena, fmt, ap);
    va_end(ap);
    if (h == NULL) {
        return -1;
    }
    r->out_headers[r->nout++] = h;
    return 0;
}

void
respond_header_drop(struct request *r, const char *name)
{
    size_t i, j, n = strlen(name);

    for (i = j = 0; i < r->nout; i++) {
        if (!(strncasecmp(r->out_headers[i], name, n) == 0 && r->out_headers[i][n] == ':')) {
            r->out_headers[j++] = r->out_headers[i];
        }
    }
    r->nout = j;
}

static const char *
reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 410:
        return "Gone";
    case 412:
        return "Precondition Failed";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 423:
        return "Locked";
    case 429:
        return "Too Many Requests";
    case 460:
        return "Checksum Mismatch";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return "Status";
    }
}

static int
write_all(struct request *r, const char *p, size_t n)
{
    if (r->conn->cgi) {
        return fwrite(p, 1, n, stdout) == n ? 0 : -1;
    }
    while (n > 0) {
        int chunk = n > (1u << 30) ? 1 << 30 : (int)n;

        if (FCGX_PutStr(p, chunk, r->conn->fcgi.out) != chunk) {
            return -1;
        }
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

int
respond_body(struct request *r, int status, const char *content_type, const char *body, size_t len)
{
    char head[2048];
    size_t n = 0, i;
    bool cache_set = false;
    int k;

    if (r->responded) {
        log_ev(LOG_ERROR, "double_response", "%s answered twice", r->route_pattern);
        return -1;
    }
    r->responded = true;
    r->status = status;
    k = snprintf(head, sizeof(head), "Status: %d %s\r\n", status, reason(status));
    n = (size_t)k;
    for (i = 0; i < r->nout && n < sizeof(head); i++) {
        cache_set |= strncasecmp(r->out_headers[i], "Cache-Control:", 14) == 0;
        k = snprintf(head + n, sizeof(head) - n, "%s\r\n", r->out_headers[i]);
        n += (size_t)k;
    }
    if (!cache_set && n < sizeof(head)) {
        n += (size_t)snprintf(head + n, sizeof(head) - n, "Cache-Control: no-store\r\n");
    }
    if (content_type != NULL && n < sizeof(head)) {
        n += (size_t)snprintf(head + n, sizeof(head) - n,
                              "Content-Type: %s\r\nContent-Length: %zu\r\n", content_type, len);
    }
    if (n + 2 >= sizeof(head)) {
        log_ev(LOG_ERROR, "headers_too_big", "%s: response headers overflow", r->route_pattern);
        return -1;
    }
    memcpy(head + n, "\r\n", 2);
    n += 2;
    if (write_all(r, head, n) == -1) {
        return -1;
    }
    if (body != NULL && len > 0 && r->method != METHOD_HEAD) {
        if (write_all(r, body, len) == -1) {
            return -1;
        }
        r->bytes_out = len;
    }
    return 0;
}

int
respond_json(struct request *r, int status, const char *json)
{
    if (json == NULL) {
        log_ev(LOG_ERROR, "response_build_failed", "%s", r->route_pattern);
        return respond_problem(r, PROB_INTERNAL, NULL);
    }
    return respond_body(r, status, "application/json", json, strlen(json));
}

int
respond_empty(struct request *r, int status)
{
    return respond_body(r, status, NULL, NULL, 0);
}

static struct json_object *
problem_object(struct request *r, enum prob p, const char *detail)
{
    const struct problem *pr = problem_get(p);
    struct json_object *o = js_new_object(r->arena);
    char type[96];

    if (o == NULL) {
        return NULL;
    }
    snprintf(type, sizeof(type), "urn:stremora:problem:%s", pr->code);
    js_add_str(o, "type", type);
    js_add_str(o, "title", pr->title);
    js_add_int(o, "status", pr->status);
    js_add_str(o, "detail", detail != NULL ? detail : pr->title);
    js_add_str(o, "code", pr->code);
    return o;
}

static int
send_problem(struct request *r, enum prob p, struct json_object *o)
{
    const struct problem *pr = problem_get(p);
    const char *body = js_string(r->arena, o);

    r->code = pr->code;
    if (body == NULL) { /* out of memory for the problem itself: a fixed answer */
        static const char fixed[] = "{\"type\":\"urn:stremora:problem:internal\","
                                    "\"title\":\"Internal error\",\"status\":500,"
                                    "\"detail\":\"Internal error\",\"code\":\"internal\"}";
        r->code = "internal";
        return respond_body(r, 500, "application/problem+json", fixed, sizeof(fixed) - 1);
    }
    if (pr->status == 503) {
        respond_header(r, "Retry-After: 2");
    }
    if (pr->status == 401) {
        respond_header(r, "WWW-Authenticate: Bearer");
    }
    return respond_body(r, pr->status, "application/problem+json", body, strlen(body));
}

int
respond_problem(struct request *r, enum prob p, const char *detail)
{
    return send_problem(r, p, problem_object(r, p, detail));
}

int
respond_refusal(struct request *r, enum prob p, const char *detail)
{
    const struct problem *pr = problem_get(p);
    const char *body = js_string(r->arena, problem_object(r, p, detail));

    if (body == NULL) {
        return -1;
    }
    r->code = pr->code;
    respond_header(r, "X-Stremora-Status: %d", pr->status);
    respond_header(r, "X-Stremora-Problem: %s", body);
    if (pr->status == 401) {
        respond_header(r, "WWW-Authenticate: Bearer");
    }
    return respond_body(r, pr->status == 401 ? 401 : 403, NULL, NULL, 0);
}

int
respond_problem_errors(struct request *r, enum prob p, const struct js_error *errs, size_t nerrs)
{
    struct json_object *o = problem_object(r, p, NULL), *arr, *e;
    size_t i;

    if (o != NULL && (arr = json_object_new_array()) != NULL) {
        for (i = 0; i < nerrs && i < MAX_FIELD_ERRORS; i++) {
            if ((e = json_object_new_object()) == NULL) {
                break;
            }
            js_add_str(e, "field", errs[i].field);
            js_add_str(e, "code", errs[i].code);
            json_object_array_add(arr, e);
        }
        json_object_object_add(o, "errors", arr);
    }
    return send_problem(r, p, o);
}
