/*
 * json.h - JSON request bodies (RFC 8259) into json-c objects, checked strictly, and typed
 * field validation for handlers; small builders for response bodies. Every json_object
 * this module makes for a caller is owned by the arena it was given (arena_defer): callers
 * never json_object_put what they get from here.
 */
#ifndef STREMORA_JSON_H
#define STREMORA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

struct arena;
struct json_object;

enum js_status {
    JS_OK,
    JS_INVALID,    /* not RFC 8259 JSON, bad UTF-8, \u0000, or a duplicate key */
    JS_TOO_DEEP,   /* nesting past MAX_JSON_DEPTH */
    JS_TOO_BIG,    /* past MAX_JSON_BODY, MAX_JSON_STRING or MAX_JSON_MEMBERS */
    JS_NOT_OBJECT, /* valid JSON whose top value is not an object */
    JS_ERROR,      /* our failure (arena full, json-c failed), logged: answer 500 */
};

enum js_type { JS_STRING, JS_BOOL, JS_INT };

/* One member a handler accepts. min and max bound a string's length in UTF-8 code points,
 * an integer's value (so integers are never negative). */
struct js_field {
    const char *name;
    enum js_type type;
    bool required;
    size_t min, max;
};

/* What js_fields found for one js_field; s points into the json object (lives as long as
 * its arena) and holds no NUL when the object came from js_parse. */
struct js_value {
    bool present;
    struct str s;
    bool b;
    int64_t i;
};

/* field is the spec's name or, for "unknown_field", the member's name in the arena. code is
 * one of "required", "wrong_type", "too_short", "too_long", "out_of_range", "unknown_field",
 * "null_not_allowed" (static strings, stable: clients match on them). */
struct js_error {
    const char *field;
    const char *code;
};

/* Parses body into *out (an object owned by a). Returns JS_OK, or why not; *out is then
 * NULL. Never reads past body.len. */
/* js_parse without an arena: on JS_OK the caller owns *out and puts it (json_object_put). */
enum js_status js_parse_owned(struct str body, struct json_object **out);
enum js_status js_parse(struct arena *a, struct str body, struct json_object **out);

/* Checks obj against spec (nspec entries) into vals (parallel to spec, zeroed first) and up
 * to maxerrs errors (spec order, then unknown members in document order); *nerrs gets how many
 * were stored. Returns 0 if obj is an object with no error, else -1. Integers at json-c's
 * saturation points (INT64_MIN, INT64_MAX) are always "out_of_range". */
int js_fields(struct arena *a, struct json_object *obj, const struct js_field *spec, size_t nspec,
              struct js_value *vals, struct js_error *errs, size_t maxerrs, size_t *nerrs);

/* Returns o serialized compactly (no slash escaping) as a copy in a, or NULL if o is NULL,
 * json-c fails or a is full. */
char *js_string(struct arena *a, struct json_object *o);
/* Returns a new empty object owned by a, or NULL (logged) if json-c or the arena fails. */
struct json_object *js_new_object(struct arena *a);

/* The adders set o[key] (replacing any old value) and return 0, or -1 if o or key is NULL or
 * json-c fails to allocate. js_add_str copies val; NULL gives JSON null. */
int js_add_str(struct json_object *o, const char *key, const char *val);
/* Copies val (may hold any bytes; p == NULL gives JSON null). -1 past INT_MAX bytes too. */
int js_add_strn(struct json_object *o, const char *key, struct str val);
int js_add_int(struct json_object *o, const char *key, int64_t v);
int js_add_bool(struct json_object *o, const char *key, bool v);
/* Sets o[key] to an array of copies of vals[0..n). */
int js_add_strs(struct json_object *o, const char *key, char *const *vals, size_t n);
/* Adds child by taking a new reference, so child may be owned by an arena as well. Returns -1
 * and adds nothing if child is NULL (a builder failed) or child == o. */
int js_add_obj(struct json_object *o, const char *key, struct json_object *child);

#endif
