/*
 * json.c - strict JSON request bodies. Our own single-pass scanner checks the grammar of
 * RFC 8259 (sections 2-8: structure, numbers, strings and escapes, UTF-8 per section 8.1 and
 * RFC 3629) and the limits in bounds.h before json-c (JSON_TOKENER_STRICT) builds the tree,
 * because json-c alone accepts "1.", raw control characters, lone surrogates and \u0000, and
 * silently keeps the last of duplicate keys (section 4 leaves that to us: we refuse).
 * The scanner never recurses: an explicit stack of MAX_JSON_DEPTH bytes tracks nesting.
 * Invariant: a tree js_parse returns holds exactly the members the body spelled out, so
 * counting members in the body and in the tree finds every duplicate, however it is escaped.
 */
#include "json.h"

#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "bounds.h"
#include "log.h"

struct scanner {
    const unsigned char *p;
    size_t n, i;
    size_t members; /* object members in the whole document */
    size_t depth;
    unsigned char stack[MAX_JSON_DEPTH]; /* '{' or '[' per open container */
};

static void
put_object(void *p)
{
    json_object_put(p);
}

static void
skip_ws(struct scanner *s)
{
    while (s->i < s->n &&
           (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\n' || s->p[s->i] == '\r')) {
        s->i++;
    }
}

/* Reads the 4 hex digits of a \u escape at s->i. Returns the code unit, or -1. */
static long
scan_hex4(struct scanner *s)
{
    long v = 0;
    size_t k;

    if (s->n - s->i < 4) {
        return -1;
    }
    for (k = 0; k < 4; k++) {
        unsigned char c = s->p[s->i++];

        if (c >= '0' && c <= '9') {
            v = v * 16 + (c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v = v * 16 + (c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v = v * 16 + (c - 'A' + 10);
        } else {
            return -1;
        }
    }
    return v;
}

/* Reads a \u escape after the 'u' (section 7) and returns how many UTF-8 bytes it stands
 * for, or 0 if it is \u0000, a lone or misordered surrogate, or not hex. */
static size_t
scan_unicode_escape(struct scanner *s)
{
    long u = scan_hex4(s), lo;

    if (u <= 0 || (u >= 0xDC00 && u <= 0xDFFF)) {
        return 0;
    }
    if (u < 0xD800 || u > 0xDBFF) {
        return u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
    }
    if (s->n - s->i < 2 || s->p[s->i] != '\\' || s->p[s->i + 1] != 'u') {
        return 0;
    }
    s->i += 2;
    lo = scan_hex4(s);
    return lo >= 0xDC00 && lo <= 0xDFFF ? 4 : 0;
}

/* Reads a string (section 7) starting at its opening quote. UTF-8 was checked already. */
static enum js_status
scan_string(struct scanner *s)
{
    size_t len = 0, k;

    s->i++;
    while (s->i < s->n) {
        unsigned char c = s->p[s->i++];

        if (c == '"') {
            return JS_OK;
        }
        if (c < 0x20) {
            return JS_INVALID;
        }
        k = 1;
        if (c == '\\') {
            if (s->i == s->n) {
                return JS_INVALID;
            }
            c = s->p[s->i++];
            if (c == 'u') {
                k = scan_unicode_escape(s);
            } else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
                k = 0;
            }
            if (k == 0) {
                return JS_INVALID;
            }
        }
        if ((len += k) > MAX_JSON_STRING) {
            return JS_TOO_BIG;
        }
    }
    return JS_INVALID;
}

static size_t
skip_digits(struct scanner *s)
{
    size_t start = s->i;

    while (s->i < s->n && s->p[s->i] >= '0' && s->p[s->i] <= '9') {
        s->i++;
    }
    return s->i - start;
}

/* Reads a number (section 6): -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static enum js_status
scan_number(struct scanner *s)
{
    if (s->p[s->i] == '-') {
        s->i++;
    }
    if (s->i < s->n && s->p[s->i] == '0') {
        s->i++; /* a digit after it is caught by the caller as a missing separator */
    } else if (skip_digits(s) == 0) {
        return JS_INVALID;
    }
    if (s->i < s->n && s->p[s->i] == '.') {
        s->i++;
        if (skip_digits(s) == 0) {
            return JS_INVALID;
        }
    }
    if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
        s->i++;
        if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-')) {
            s->i++;
        }
        if (skip_digits(s) == 0) {
            return JS_INVALID;
        }
    }
    return JS_OK;
}

static enum js_status
scan_literal(struct scanner *s, const char *lit)
{
    size_t n = strlen(lit);

    if (s->n - s->i < n || memcmp(s->p + s->i, lit, n) != 0) {
        return JS_INVALID;
    }
    s->i += n;
    return JS_OK;
}

/* Reads a member's name and the ':' after it (section 4), counting the member. */
static enum js_status
scan_key(struct scanner *s)
{
    enum js_status st;

    skip_ws(s);
    if (s->i == s->n || s->p[s->i] != '"') {
        return JS_INVALID;
    }
    if ((st = scan_string(s)) != JS_OK) {
        return st;
    }
    skip_ws(s);
    if (s->i == s->n || s->p[s->i] != ':') {
        return JS_INVALID;
    }
    s->i++;
    return ++s->members > MAX_JSON_MEMBERS ? JS_TOO_BIG : JS_OK;
}

/* Reads one value where one is expected. *done is set when the value is complete (a scalar
 * or an empty container); a non-empty container stays open with its first value to come. */
static enum js_status
scan_value(struct scanner *s, bool *done)
{
    unsigned char c = s->p[s->i];

    *done = true;
    switch (c) {
    case '{':
    case '[':
        if (s->depth == MAX_JSON_DEPTH) {
            return JS_TOO_DEEP;
        }
        s->stack[s->depth++] = c;
        s->i++;
        skip_ws(s);
        if (s->i < s->n && s->p[s->i] == (c == '{' ? '}' : ']')) {
            s->i++;
            s->depth--;
            return JS_OK;
        }
        *done = false;
        return c == '{' ? scan_key(s) : JS_OK;
    case '"':
        return scan_string(s);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        return c == '-' || (c >= '0' && c <= '9') ? scan_number(s) : JS_INVALID;
    }
}

/* After a complete value: reads ',' (and the next key) or closes containers. *more is set
 * when another value is expected. */
static enum js_status
scan_after_value(struct scanner *s, bool *more)
{
    unsigned char c, open;

    *more = false;
    for (skip_ws(s); s->i < s->n; skip_ws(s)) {
        if (s->depth == 0) {
            return JS_INVALID; /* trailing bytes after the top value */
        }
        c = s->p[s->i++];
        open = s->stack[s->depth - 1];
        if (c == ',') {
            *more = true;
            return open == '{' ? scan_key(s) : JS_OK;
        }
        if (c != (open == '{' ? '}' : ']')) {
            return JS_INVALID;
        }
        s->depth--;
    }
    return s->depth == 0 ? JS_OK : JS_INVALID;
}

/* Checks all of the body; *members gets the number of object members it spells out, *top
 * the first byte of the top value. */
static enum js_status
scan_document(struct str body, size_t *members, unsigned char *top)
{
    struct scanner s = {.p = (const unsigned char *)body.p, .n = body.len};
    enum js_status st;
    bool more = true, done;

    if (!str_is_utf8(body)) {
        return JS_INVALID;
    }
    skip_ws(&s);
    *top = s.i < s.n ? s.p[s.i] : 0;
    while (more) {
        skip_ws(&s);
        if (s.i == s.n) {
            return JS_INVALID; /* empty body, or a value missing after ':' '[' ',' */
        }
        if ((st = scan_value(&s, &done)) != JS_OK) {
            return st;
        }
        if (!done) {
            continue;
        }
        if ((st = scan_after_value(&s, &more)) != JS_OK) {
            return st;
        }
    }
    *members = s.members;
    return JS_OK;
}

/* Returns the members of all objects in the tree at o. Recursion is bounded by the
 * scanner's MAX_JSON_DEPTH check, which has run before. */
static size_t
count_members(struct json_object *o)
{
    size_t n = 0, i, len;

    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            n += 1 + count_members(val);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        len = json_object_array_length(o);
        for (i = 0; i < len; i++) {
            n += count_members(json_object_array_get_idx(o, i));
        }
    }
    return n;
}

/* Builds the tree of a body the scanner accepted. Returns JS_OK with *out set, or JS_ERROR:
 * json-c (which has no error of its own for it) ran out of memory, or it and the scanner
 * disagree, which is our bug either way. */
static enum js_status
build_tree(struct str body, struct json_object **out)
{
    struct json_tokener *tok;
    enum json_tokener_error err;

    if ((tok = json_tokener_new_ex(MAX_JSON_DEPTH + 1)) == NULL) {
        log_ev(LOG_ERROR, "json_tokener_new", "out of memory");
        return JS_ERROR;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    /* body.len <= MAX_JSON_BODY, checked by js_parse, so it fits an int. */
    *out = json_tokener_parse_ex(tok, body.p, (int)body.len);
    err = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (err != json_tokener_success || !json_object_is_type(*out, json_type_object)) {
        log_ev(LOG_ERROR, "json_tokener_parse_ex", "refused a body the scanner accepted: %s",
               json_tokener_error_desc(err));
        json_object_put(*out);
        *out = NULL;
        return JS_ERROR;
    }
    return JS_OK;
}

enum js_status
js_parse_owned(struct str body, struct json_object **out)
{
    struct json_object *o;
    enum js_status st;
    size_t members = 0;
    unsigned char top;

    _Static_assert(MAX_JSON_BODY <= INT_MAX, "json-c takes the body length as an int");
    *out = NULL;
    if (body.len > MAX_JSON_BODY) {
        return JS_TOO_BIG;
    }
    if ((st = scan_document(body, &members, &top)) != JS_OK) {
        return st;
    }
    if (top != '{') {
        return JS_NOT_OBJECT;
    }
    if ((st = build_tree(body, &o)) != JS_OK) {
        return st;
    }
    if (count_members(o) != members) {
        json_object_put(o);
        return JS_INVALID; /* json-c kept one of two members with the same name */
    }
    *out = o;
    return JS_OK;
}

enum js_status
js_parse(struct arena *a, struct str body, struct json_object **out)
{
    struct json_object *o;
    enum js_status st;

    *out = NULL;
    if ((st = js_parse_owned(body, &o)) != JS_OK) {
        return st;
    }
    if (arena_defer(a, put_object, o) == -1) {
        json_object_put(o);
        log_ev(LOG_ERROR, "arena_full", "js_parse: arena_defer failed");
        return JS_ERROR;
    }
    *out = o;
    return JS_OK;
}

static void
add_error(struct js_error *errs, size_t maxerrs, size_t *nerrs, const char *field, const char *code)
{
    if (*nerrs < maxerrs) {
        errs[*nerrs] = (struct js_error){field, code};
        (*nerrs)++;
    }
}

/* Checks one present value against its spec. Returns the error code, or NULL. */
static const char *
check_value(const struct js_field *f, struct json_object *v, struct js_value *out)
{
    enum json_type t = json_object_get_type(v);
    size_t n;

    if (t == json_type_null) {
        return "null_not_allowed";
    }
    switch (f->type) {
    case JS_STRING:
        if (t != json_type_string) {
            return "wrong_type";
        }
        out->s.p = json_object_get_string(v);
        out->s.len = (size_t)json_object_get_string_len(v);
        n = str_utf8_len(out->s);
        return n < f->min ? "too_short" : n > f->max ? "too_long" : NULL;
    case JS_BOOL:
        if (t != json_type_boolean) {
            return "wrong_type";
        }
        out->b = json_object_get_boolean(v) != 0;
        return NULL;
    case JS_INT:
        if (t != json_type_int) {
            return "wrong_type"; /* a double, even 1.0 or 1e2 */
        }
        out->i = json_object_get_int64(v);
        if (out->i == INT64_MIN || out->i == INT64_MAX || out->i < 0 || (uint64_t)out->i < f->min ||
            (uint64_t)out->i > f->max) {
            return "out_of_range";
        }
        return NULL;
    }
    return "wrong_type";
}

static bool
spec_has(const struct js_field *spec, size_t nspec, const char *name)
{
    size_t i;

    for (i = 0; i < nspec; i++) {
        if (strcmp(spec[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

int
js_fields(struct arena *a, struct json_object *obj, const struct js_field *spec, size_t nspec,
          struct js_value *vals, struct js_error *errs, size_t maxerrs, size_t *nerrs)
{
    struct json_object *v;
    const char *code, *name;
    size_t i, found = 0;

    *nerrs = 0;
    memset(vals, 0, nspec * sizeof(*vals));
    if (!json_object_is_type(obj, json_type_object)) {
        return -1;
    }
    for (i = 0; i < nspec; i++) {
        if (!json_object_object_get_ex(obj, spec[i].name, &v)) {
            code = spec[i].required ? "required" : NULL;
        } else if ((code = check_value(&spec[i], v, &vals[i])) == NULL) {
            vals[i].present = true;
        }
        if (code != NULL) {
            vals[i] = (struct js_value){0};
            add_error(errs, maxerrs, nerrs, spec[i].name, code);
            found++;
        }
    }
    json_object_object_foreach(obj, key, val)
    {
        (void)val;
        if (!spec_has(spec, nspec, key)) {
            /* Falls back to json-c's copy, which lives as long as obj, if a is full. */
            name = *nerrs < maxerrs ? arena_strdup(a, key) : NULL;
            add_error(errs, maxerrs, nerrs, name != NULL ? name : key, "unknown_field");
            found++;
        }
    }
    return found == 0 ? 0 : -1;
}

char *
js_string(struct arena *a, struct json_object *o)
{
    const char *s;

    if (o == NULL) {
        return NULL;
    }
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    return s != NULL ? arena_strdup(a, s) : NULL;
}

struct json_object *
js_new_object(struct arena *a)
{
    struct json_object *o = json_object_new_object();

    if (o == NULL) {
        log_ev(LOG_ERROR, "json_object_new_object", "out of memory");
        return NULL;
    }
    if (arena_defer(a, put_object, o) == -1) {
        json_object_put(o);
        log_ev(LOG_ERROR, "arena_full", "js_new_object: arena_defer failed");
        return NULL;
    }
    return o;
}

/* Sets o[key] to v, which the object then owns (NULL is JSON null). Releases v on failure. */
static int
add(struct json_object *o, const char *key, struct json_object *v)
{
    if (o == NULL || key == NULL || json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

int
js_add_str(struct json_object *o, const char *key, const char *val)
{
    struct json_object *v = NULL;

    if (val != NULL && (v = json_object_new_string(val)) == NULL) {
        return -1;
    }
    return add(o, key, v);
}

int
js_add_strn(struct json_object *o, const char *key, struct str val)
{
    struct json_object *v = NULL;

    if (val.p != NULL) {
        if (val.len > INT_MAX || (v = json_object_new_string_len(val.p, (int)val.len)) == NULL) {
            return -1;
        }
    }
    return add(o, key, v);
}

int
js_add_int(struct json_object *o, const char *key, int64_t v)
{
    struct json_object *j = json_object_new_int64(v);

    return j != NULL ? add(o, key, j) : -1;
}

int
js_add_bool(struct json_object *o, const char *key, bool v)
{
    struct json_object *j = json_object_new_boolean(v);

    return j != NULL ? add(o, key, j) : -1;
}

int
js_add_strs(struct json_object *o, const char *key, char *const *vals, size_t n)
{
    struct json_object *arr = json_object_new_array();
    size_t i;

    if (arr == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        struct json_object *s = json_object_new_string(vals[i]);

        if (s == NULL || json_object_array_add(arr, s) != 0) {
            json_object_put(s);
            json_object_put(arr);
            return -1;
        }
    }
    return add(o, key, arr);
}

int
js_add_obj(struct json_object *o, const char *key, struct json_object *child)
{
    if (child == NULL || child == o) {
        return -1;
    }
    return add(o, key, json_object_get(child));
}
