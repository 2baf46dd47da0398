/*
 * fuzz_json.c - libFuzzer target for js_parse (RFC 8259 request bodies). Properties checked,
 * beyond "no crash": the scanner never accepts what json-c's strict parser refuses (JS_ERROR
 * never comes back, and json-c strict with UTF-8 validation accepts every JS_OK input); a
 * JS_OK tree stays within bounds.h (depth, string bytes, member count) and holds no NUL or
 * invalid UTF-8; and serializing with js_string, parsing again and serializing once more
 * gives JS_OK and the same bytes. js_fields runs over every accepted tree too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "bounds.h"
#include "json.h"
#include "log.h"
#include "str.h"

static struct arena *arena;

/* Checks the tree at o, depth levels deep; adds its object members to *members. */
static void
check_tree(struct json_object *o, size_t depth, size_t *members)
{
    struct str s;
    size_t i, n;

    switch (json_object_get_type(o)) {
    case json_type_object:
        if (depth + 1 > MAX_JSON_DEPTH) {
            abort();
        }
        json_object_object_foreach(o, key, val)
        {
            if (strlen(key) > MAX_JSON_STRING || !str_is_utf8(str_from(key))) {
                abort();
            }
            (*members)++;
            check_tree(val, depth + 1, members);
        }
        break;
    case json_type_array:
        if (depth + 1 > MAX_JSON_DEPTH) {
            abort();
        }
        n = json_object_array_length(o);
        for (i = 0; i < n; i++) {
            check_tree(json_object_array_get_idx(o, i), depth + 1, members);
        }
        break;
    case json_type_string:
        s = (struct str){json_object_get_string(o), (size_t)json_object_get_string_len(o)};
        if (s.len > MAX_JSON_STRING || strlen(s.p) != s.len || !str_is_utf8(s)) {
            abort();
        }
        break;
    default:
        break;
    }
}

/* json-c alone, strict and validating UTF-8: does it take all of p? */
static int
jsonc_accepts(const uint8_t *p, size_t n)
{
    struct json_tokener *tok = json_tokener_new_ex(MAX_JSON_DEPTH);
    struct json_object *o;
    int ok;

    if (tok == NULL) {
        abort();
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, (const char *)p, (int)n);
    ok = json_tokener_get_error(tok) == json_tokener_success && o != NULL &&
         json_tokener_get_parse_end(tok) == n;
    json_object_put(o);
    json_tokener_free(tok);
    return ok;
}

static void
check_fields(struct json_object *o)
{
    static const struct js_field spec[] = {
        {"name", JS_STRING, true, 1, 8},
        {"on", JS_BOOL, false, 0, 0},
        {"n", JS_INT, false, 0, 100},
    };
    struct js_value vals[3];
    struct js_error errs[MAX_FIELD_ERRORS];
    size_t nerrs, i;
    int rc = js_fields(arena, o, spec, 3, vals, errs, MAX_FIELD_ERRORS, &nerrs);

    if (nerrs > MAX_FIELD_ERRORS || (rc == 0) != (nerrs == 0)) {
        abort();
    }
    for (i = 0; i < nerrs; i++) {
        if (errs[i].field == NULL || errs[i].code == NULL) {
            abort();
        }
    }
    if (rc == 0 && (!vals[0].present || vals[0].s.len == 0 || vals[2].i > 100)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_object *o, *o2;
    enum js_status st;
    char *s1, *s2;
    size_t members = 0;

    if (arena == NULL) {
        log_init("fuzz_json", LOG_ERROR);
        if ((arena = arena_new(MAX_REQ_ARENA)) == NULL) {
            abort();
        }
    }
    arena_reset(arena);
    st = js_parse(arena, (struct str){(const char *)data, size}, &o);
    if (st == JS_ERROR) {
        abort(); /* the scanner let through something json-c refused */
    }
    if (st != JS_OK) {
        return 0;
    }
    if (size > MAX_JSON_BODY || !jsonc_accepts(data, size) ||
        !json_object_is_type(o, json_type_object)) {
        abort();
    }
    check_tree(o, 0, &members);
    if (members > MAX_JSON_MEMBERS) {
        abort();
    }
    check_fields(o);
    if ((s1 = js_string(arena, o)) == NULL) {
        abort();
    }
    if (js_parse(arena, str_from(s1), &o2) != JS_OK || (s2 = js_string(arena, o2)) == NULL ||
        strcmp(s1, s2) != 0) {
        abort();
    }
    return 0;
}
