/*
 * body.c - JSON request bodies for handlers: Content-Type check (415), size (413, also
 * enforced from the route's limit before the handler runs), strict parse (400
 * invalid_json) and field validation against the handler's spec (422 validation_failed
 * with errors[]), and the rule of a comment's or post's text.
 */
#include "handlers.h"

#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "bounds.h"
#include "json.h"
#include "str.h"

/* application/json, optionally with parameters (charset=utf-8). */
static bool
is_json_type(struct str ct)
{
    struct str type;

    str_cut(ct, ';', &type);
    return str_ieq_cstr(str_trim(type), "application/json");
}

/* True if s holds nothing but blanks and line ends. */
static bool
is_blank(struct str s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        if (s.p[i] != ' ' && s.p[i] != '\t' && s.p[i] != '\n' && s.p[i] != '\r') {
            return false;
        }
    }
    return true;
}

bool
body_json(struct request *r, struct json_object **obj, int *rc)
{
    struct str body;
    enum body_status bs;

    if (!is_json_type(req_env(r, "CONTENT_TYPE"))) {
        *rc = respond_problem(r, PROB_UNSUPPORTED_MEDIA_TYPE, "Send application/json");
        return false;
    }
    bs = req_read_body(r, r->body_limit, &body);
    if (bs == BODY_TOO_LARGE) {
        *rc = respond_problem(r, PROB_BODY_TOO_LARGE, NULL);
        return false;
    }
    if (bs == BODY_ERROR) {
        *rc = respond_problem(r, PROB_INVALID_JSON, "Incomplete body");
        return false;
    }
    switch (js_parse(r->arena, body, obj)) {
    case JS_OK:
        return true;
    case JS_TOO_BIG: /* the body fits (checked above): a string or the member count does not */
        *rc = respond_problem(r, PROB_INVALID_JSON,
                              "A string or the number of members is over the limit");
        return false;
    case JS_ERROR:
        *rc = -1; /* js_parse logged it; main.c answers 500 */
        return false;
    case JS_NOT_OBJECT:
        *rc = respond_problem(r, PROB_INVALID_JSON, "The body must be a JSON object");
        return false;
    default:
        *rc = respond_problem(r, PROB_INVALID_JSON, NULL);
        return false;
    }
}

bool
body_fields(struct request *r, const struct js_field *spec, size_t n, struct js_value *vals,
            bool optional, int *rc)
{
    struct js_error errs[MAX_FIELD_ERRORS];
    struct json_object *obj = NULL;
    size_t nerrs = 0;

    memset(vals, 0, n * sizeof(vals[0]));
    if (optional &&
        (req_env(r, "CONTENT_LENGTH").len == 0 || str_eq_cstr(req_env(r, "CONTENT_LENGTH"), "0"))) {
        return true;
    }
    if (!body_json(r, &obj, rc)) {
        return false;
    }
    if (js_fields(r->arena, obj, spec, n, vals, errs, MAX_FIELD_ERRORS, &nerrs) == -1) {
        *rc = respond_problem_errors(r, PROB_VALIDATION_FAILED, errs, nerrs);
        return false;
    }
    return true;
}

const char *
body_text_check(struct str s)
{
    if (!str_is_text(s, STR_MULTILINE)) {
        return "invalid_format";
    }
    return is_blank(s) ? "too_short" : NULL;
}
