/*
 * test_json.c - js_parse against RFC 8259 and the bounds.h limits (every rejection with a
 * concrete body), js_fields for every error code, and the response builders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "bounds.h"
#include "json.h"
#include "log.h"
#include "str.h"

#include "fixtures.h"

static enum js_status
parse_n(void **state, const char *p, size_t n)
{
    struct json_object *o = (struct json_object *)1;
    enum js_status st = js_parse(*state, (struct str){p, n}, &o);

    assert_true(st == JS_OK ? o != NULL : o == NULL);
    return st;
}

static enum js_status
parse(void **state, const char *s)
{
    return parse_n(state, s, strlen(s));
}

/* Parses a literal that holds NUL bytes. */
#define PARSE_BYTES(s) parse_n(state, (s), sizeof(s) - 1)

static struct json_object *
parse_ok(void **state, const char *s)
{
    struct json_object *o = NULL;

    assert_int_equal(js_parse(*state, str_from(s), &o), JS_OK);
    return o;
}

/* Returns pre + n copies of unit + post, in the arena. */
static char *
repeat(void **state, const char *pre, const char *unit, size_t n, const char *post)
{
    size_t u = strlen(unit), p = strlen(pre), len = p + u * n + strlen(post);
    char *s = arena_alloc(*state, len + 1), *w = s;
    size_t i;

    assert_non_null(s);
    memcpy(w, pre, p);
    w += p;
    for (i = 0; i < n; i++, w += u) {
        memcpy(w, unit, u);
    }
    strcpy(w, post);
    return s;
}

/* Returns depth nested objects: {"a":{"a":...{}...}} */
static char *
nested(void **state, size_t depth)
{
    char *open = repeat(state, "", "{\"a\":", depth - 1, "{");

    return repeat(state, open, "}", depth, "");
}

/* Returns an object with n members k0..k(n-1), each 1. */
static char *
members(void **state, size_t n)
{
    char *s = arena_alloc(*state, 16 * n + 3);
    size_t i, w = 0;

    assert_non_null(s);
    s[w++] = '{';
    for (i = 0; i < n; i++) {
        w += (size_t)sprintf(s + w, "%s\"k%zu\":1", i > 0 ? "," : "", i);
    }
    strcpy(s + w, "}");
    return s;
}

static void
test_js_parse_ok(void **state)
{
    struct json_object *o, *v;

    o = parse_ok(state, " \t\r\n{ \"a\" : [1, -0, 0.5, -1.25e-3, 1E+2, true, false, null, {}, []],"
                        " \"b\": {\"c\": \"d\"}, \"\": \"\" } \n");
    assert_int_equal(json_object_object_length(o), 3);
    assert_true(json_object_object_get_ex(o, "a", &v));
    assert_int_equal(json_object_array_length(v), 10);
    assert_int_equal(parse(state, "{}"), JS_OK);
}

static void
test_js_parse_ok_escapes(void **state)
{
    struct json_object *o, *v;

    o = parse_ok(state,
                 "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"}");
    assert_true(json_object_object_get_ex(o, "s", &v));
    assert_string_equal(json_object_get_string(v),
                        "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    parse_ok(state, "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
}

static void
test_js_parse_empty(void **state)
{
    assert_int_equal(parse(state, ""), JS_INVALID);
    assert_int_equal(parse(state, " \n\t"), JS_INVALID);
    assert_int_equal(js_parse(*state, STR_NULL, &(struct json_object *){NULL}), JS_INVALID);
}

static void
test_js_parse_trailing_comma(void **state)
{
    assert_int_equal(parse(state, "{\"a\":1,}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":[1,2,]}"), JS_INVALID);
    assert_int_equal(parse(state, "{,}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":1,,\"b\":2}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":[,1]}"), JS_INVALID);
}

static void
test_js_parse_single_quotes(void **state)
{
    assert_int_equal(parse(state, "{'a':1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":'b'}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\'\"}"), JS_INVALID);
}

static void
test_js_parse_comments(void **state)
{
    assert_int_equal(parse(state, "{/* c */\"a\":1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":1} // c"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":1 # c\n}"), JS_INVALID);
}

static void
test_js_parse_bad_numbers(void **state)
{
    static const char *const bad[] = {
        "01",   "-01",   "00",  "1.",  ".5",       "+1",        "1e",  "1e+", "-",   "1.e1",
        "0x10", "1_000", "--1", "NaN", "Infinity", "-Infinity", "nan", "inf", "1 2",
    };
    char buf[64];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"n\":%s}", bad[i]);
        assert_int_equal(parse(state, buf), JS_INVALID);
    }
}

static void
test_js_parse_bad_literals(void **state)
{
    assert_int_equal(parse(state, "{\"a\":True}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":nul}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":nulll}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":undefined}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":b}"), JS_INVALID);
}

static void
test_js_parse_bad_structure(void **state)
{
    assert_int_equal(parse(state, "{\"a\":}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\" 1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{a:1}"), JS_INVALID);
    assert_int_equal(parse(state, "{1:1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":[1 2]}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":[1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":{]}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":1"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"b}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":1}}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\f1}"), JS_INVALID);    /* \f is not whitespace */
    assert_int_equal(parse(state, "\xef\xbb\xbf{}"), JS_INVALID); /* no byte order mark */
}

static void
test_js_parse_control_chars(void **state)
{
    assert_int_equal(parse(state, "{\"a\":\"x\x01y\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"x\ny\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"x\ty\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\x1f\":1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"x\x7fy\"}"), JS_OK); /* DEL is allowed */
}

static void
test_js_parse_bad_escapes(void **state)
{
    assert_int_equal(parse(state, "{\"a\":\"\\x41\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\U0041\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\u41\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\u00G1\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\a\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\0\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\u00"), JS_INVALID);
    assert_int_equal(PARSE_BYTES("{\"a\":\"\\\0\"}"), JS_INVALID);
}

static void
test_js_parse_surrogates(void **state)
{
    assert_int_equal(parse(state, "{\"a\":\"\\ud800\"}"), JS_INVALID);        /* lone high */
    assert_int_equal(parse(state, "{\"a\":\"\\udc00\"}"), JS_INVALID);        /* lone low */
    assert_int_equal(parse(state, "{\"a\":\"\\udc00\\ud800\"}"), JS_INVALID); /* misordered */
    assert_int_equal(parse(state, "{\"a\":\"\\ud800\\u0041\"}"), JS_INVALID); /* high + BMP */
    assert_int_equal(parse(state, "{\"a\":\"\\ud800\\ud800\"}"), JS_INVALID); /* high + high */
    assert_int_equal(parse(state, "{\"a\":\"\\ud800x\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\ud800\\n\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\ud800\\"), JS_INVALID);
    assert_int_equal(parse(state, "{\"\\udfff\":1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\\uDBFF\\uDFFF\"}"), JS_OK); /* U+10FFFF */
}

static void
test_js_parse_invalid_utf8(void **state)
{
    assert_int_equal(parse(state, "{\"a\":\"\xc0\xaf\"}"), JS_INVALID);     /* overlong '/' */
    assert_int_equal(parse(state, "{\"a\":\"\xed\xa0\x80\"}"), JS_INVALID); /* surrogate */
    assert_int_equal(parse(state, "{\"a\":\"\xff\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"\x80\"}"), JS_INVALID);     /* lone continuation */
    assert_int_equal(parse(state, "{\"a\":\"\xe2\x82\"}"), JS_INVALID); /* truncated */
    assert_int_equal(parse(state, "{\"a\":\"\xf4\x90\x80\x80\"}"), JS_INVALID); /* > U+10FFFF */
    assert_int_equal(parse(state, "{\"\xc0\xaf\":1}"), JS_INVALID);             /* in a key */
    assert_int_equal(parse(state, "{\"a\":1}\xc3\xa9"), JS_INVALID);            /* outside */
}

static void
test_js_parse_nul(void **state)
{
    assert_int_equal(parse(state, "{\"a\":\"\\u0000\"}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"\\u0000\":1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":\"x\\u0000y\"}"), JS_INVALID);
    assert_int_equal(PARSE_BYTES("{\"a\":\"\0\"}"), JS_INVALID);
    assert_int_equal(PARSE_BYTES("{\"a\":1}\0"), JS_INVALID);
    assert_int_equal(PARSE_BYTES("{\0}"), JS_INVALID);
}

static void
test_js_parse_string_limit(void **state)
{
    assert_int_equal(parse(state, repeat(state, "{\"s\":\"", "x", MAX_JSON_STRING, "\"}")), JS_OK);
    assert_int_equal(parse(state, repeat(state, "{\"s\":\"", "x", MAX_JSON_STRING + 1, "\"}")),
                     JS_TOO_BIG);
    /* Counted after unescaping: "\u00e9" is 6 bytes in the body, 2 in the string. */
    assert_int_equal(
        parse(state, repeat(state, "{\"s\":\"", "\\u00e9", MAX_JSON_STRING / 2, "\"}")), JS_OK);
    assert_int_equal(
        parse(state, repeat(state, "{\"s\":\"", "\\u00e9", MAX_JSON_STRING / 2, "x\"}")),
        JS_TOO_BIG);
    assert_int_equal(
        parse(state, repeat(state, "{\"s\":\"", "\\ud83d\\ude00", MAX_JSON_STRING / 4, "\"}")),
        JS_OK);
    assert_int_equal(
        parse(state, repeat(state, "{\"s\":\"", "\\ud83d\\ude00", MAX_JSON_STRING / 4, "x\"}")),
        JS_TOO_BIG);
    assert_int_equal(parse(state, repeat(state, "{\"s\":\"", "\\n", MAX_JSON_STRING, "\"}")),
                     JS_OK);
    assert_int_equal(parse(state, repeat(state, "{\"", "k", MAX_JSON_STRING + 1, "\":1}")),
                     JS_TOO_BIG);
}

static void
test_js_parse_depth(void **state)
{
    assert_int_equal(parse(state, nested(state, MAX_JSON_DEPTH)), JS_OK);
    assert_int_equal(parse(state, nested(state, MAX_JSON_DEPTH + 1)), JS_TOO_DEEP);
    assert_int_equal(parse(state, nested(state, 1000)), JS_TOO_DEEP);
    /* Arrays count too: an object holding 15 nested arrays is 16 levels. */
    assert_int_equal(
        parse(state, repeat(state, repeat(state, "{\"a\":", "[", MAX_JSON_DEPTH - 1, ""), "]",
                            MAX_JSON_DEPTH - 1, "}")),
        JS_OK);
    assert_int_equal(parse(state, repeat(state, repeat(state, "{\"a\":", "[", MAX_JSON_DEPTH, ""),
                                         "]", MAX_JSON_DEPTH, "}")),
                     JS_TOO_DEEP);
    /* Depth is nesting, not the count of containers. */
    assert_int_equal(parse(state, repeat(state, "{\"a\":[", "{},[],", 100, "1]}")), JS_OK);
}

static void
test_js_parse_members(void **state)
{
    assert_int_equal(parse(state, members(state, MAX_JSON_MEMBERS)), JS_OK);
    assert_int_equal(parse(state, members(state, MAX_JSON_MEMBERS + 1)), JS_TOO_BIG);
    /* Counted over the whole document: 128 + 128 inside, 2 outside. */
    assert_int_equal(parse(state, repeat(state, "{\"a\":", members(state, 128), 1,
                                         repeat(state, ",\"b\":", members(state, 128), 1, "}"))),
                     JS_TOO_BIG);
    assert_int_equal(
        parse(state, repeat(state, "{\"a\":[", "{\"x\":1},", MAX_JSON_MEMBERS - 1, "{}]}")), JS_OK);
    assert_int_equal(
        parse(state, repeat(state, "{\"a\":[", "{\"x\":1},", MAX_JSON_MEMBERS, "{}]}")),
        JS_TOO_BIG);
}

static void
test_js_parse_body_limit(void **state)
{
    char *s = repeat(state, "{}", " ", MAX_JSON_BODY - 2, "");

    assert_int_equal(parse(state, s), JS_OK);
    s = repeat(state, "{}", " ", MAX_JSON_BODY - 1, "");
    assert_int_equal(parse(state, s), JS_TOO_BIG);
    /* Checked before anything else: even garbage is "too big" first. */
    assert_int_equal(parse(state, repeat(state, "", "x", MAX_JSON_BODY + 1, "")), JS_TOO_BIG);
}

static void
test_js_parse_trailing_garbage(void **state)
{
    assert_int_equal(parse(state, "{}x"), JS_INVALID);
    assert_int_equal(parse(state, "{} {}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":1}1"), JS_INVALID);
    assert_int_equal(parse(state, "{}]"), JS_INVALID);
    assert_int_equal(parse(state, "{}\n\r\t "), JS_OK);
}

static void
test_js_parse_duplicates(void **state)
{
    assert_int_equal(parse(state, "{\"a\":1,\"a\":2}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":1,\"b\":2,\"a\":1}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"x\":{\"a\":1,\"a\":1}}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"x\":[{\"b\":1},{\"a\":1,\"a\":{}}]}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a\":1,\"\\u0061\":2}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"a/\":1,\"a\\/\":2}"), JS_INVALID);
    assert_int_equal(parse(state, "{\"\\u00e9\":1,\"\xc3\xa9\":2}"), JS_INVALID);
    /* The same name in different objects is fine. */
    assert_int_equal(parse(state, "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}"), JS_OK);
    assert_int_equal(parse(state, "{\"a\":1,\"A\":2}"), JS_OK);
}

static void
test_js_parse_not_object(void **state)
{
    assert_int_equal(parse(state, "[]"), JS_NOT_OBJECT);
    assert_int_equal(parse(state, "1"), JS_NOT_OBJECT);
    assert_int_equal(parse(state, " \"s\" "), JS_NOT_OBJECT);
    assert_int_equal(parse(state, "null"), JS_NOT_OBJECT);
    assert_int_equal(parse(state, "true"), JS_NOT_OBJECT);
    assert_int_equal(parse(state, "[{\"a\":1}]"), JS_NOT_OBJECT);
    /* Invalid JSON is invalid first, whatever its top value. */
    assert_int_equal(parse(state, "[1,]"), JS_INVALID);
    assert_int_equal(parse(state, "01"), JS_INVALID);
}

static void
test_js_parse_arena_full(void **state)
{
    struct arena *small = arena_new(8);
    struct json_object *o = NULL;

    (void)state;
    assert_non_null(small);
    assert_int_equal(js_parse(small, STR_LIT("{\"a\":1}"), &o), JS_ERROR);
    assert_null(o);
    arena_free(small);
}

static struct json_object *
fields_obj(void **state, const char *s)
{
    return parse_ok(state, s);
}

static const struct js_field spec[] = {
    {"name", JS_STRING, true, 3, 5},
    {"public", JS_BOOL, false, 0, 0},
    {"limit", JS_INT, false, 1, 100},
};
#define NSPEC (sizeof(spec) / sizeof(spec[0]))

/* Runs js_fields with spec on body and expects exactly one error. */
static void
expect_one(void **state, const char *body, const char *field, const char *code)
{
    struct js_value vals[NSPEC];
    struct js_error errs[MAX_FIELD_ERRORS];
    size_t n;

    assert_int_equal(
        js_fields(*state, fields_obj(state, body), spec, NSPEC, vals, errs, MAX_FIELD_ERRORS, &n),
        -1);
    assert_int_equal(n, 1);
    assert_string_equal(errs[0].field, field);
    assert_string_equal(errs[0].code, code);
}

static void
test_js_fields_ok(void **state)
{
    struct js_value vals[NSPEC];
    struct js_error errs[MAX_FIELD_ERRORS];
    size_t n = 99;

    assert_int_equal(js_fields(*state,
                               fields_obj(state, "{\"limit\":100,\"name\":\"\xc3\xa9t\xc3\xa9\"}"),
                               spec, NSPEC, vals, errs, MAX_FIELD_ERRORS, &n),
                     0);
    assert_int_equal(n, 0);
    assert_true(vals[0].present);
    assert_int_equal(vals[0].s.len, 5); /* 3 code points, 5 bytes */
    assert_memory_equal(vals[0].s.p, "\xc3\xa9t\xc3\xa9", 5);
    assert_false(vals[1].present);
    assert_true(vals[2].present);
    assert_int_equal(vals[2].i, 100);

    assert_int_equal(js_fields(*state,
                               fields_obj(state, "{\"name\":\"abc\",\"public\":false,\"limit\":1}"),
                               spec, NSPEC, vals, errs, MAX_FIELD_ERRORS, &n),
                     0);
    assert_true(vals[1].present);
    assert_false(vals[1].b);
    assert_int_equal(vals[2].i, 1);
}

static void
test_js_fields_required(void **state)
{
    expect_one(state, "{}", "name", "required");
    expect_one(state, "{\"public\":true}", "name", "required");
}

static void
test_js_fields_wrong_type(void **state)
{
    expect_one(state, "{\"name\":12345}", "name", "wrong_type"); /* no coercion */
    expect_one(state, "{\"name\":true}", "name", "wrong_type");
    expect_one(state, "{\"name\":[\"abc\"]}", "name", "wrong_type");
    expect_one(state, "{\"name\":{}}", "name", "wrong_type");
    expect_one(state, "{\"name\":\"abc\",\"limit\":\"10\"}", "limit", "wrong_type");
    expect_one(state, "{\"name\":\"abc\",\"limit\":10.0}", "limit", "wrong_type");
    expect_one(state, "{\"name\":\"abc\",\"limit\":1e1}", "limit", "wrong_type");
    expect_one(state, "{\"name\":\"abc\",\"limit\":true}", "limit", "wrong_type");
    expect_one(state, "{\"name\":\"abc\",\"public\":1}", "public", "wrong_type");
    expect_one(state, "{\"name\":\"abc\",\"public\":\"true\"}", "public", "wrong_type");
}

static void
test_js_fields_too_short(void **state)
{
    expect_one(state, "{\"name\":\"ab\"}", "name", "too_short");
    expect_one(state, "{\"name\":\"\xc3\xa9\xc3\xa9\"}", "name", "too_short"); /* 4 bytes, 2 cp */
    expect_one(state, "{\"name\":\"\"}", "name", "too_short");
}

static void
test_js_fields_too_long(void **state)
{
    expect_one(state, "{\"name\":\"abcdef\"}", "name", "too_long");
    expect_one(state, "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", "name",
               "too_long");
}

static void
test_js_fields_out_of_range(void **state)
{
    expect_one(state, "{\"name\":\"abc\",\"limit\":0}", "limit", "out_of_range");
    expect_one(state, "{\"name\":\"abc\",\"limit\":101}", "limit", "out_of_range");
    expect_one(state, "{\"name\":\"abc\",\"limit\":-1}", "limit", "out_of_range");
    expect_one(state, "{\"name\":\"abc\",\"limit\":99999999999999999999}", "limit", "out_of_range");
    expect_one(state, "{\"name\":\"abc\",\"limit\":-99999999999999999999}", "limit",
               "out_of_range");
}

static void
test_js_fields_out_of_range_saturated(void **state)
{
    static const struct js_field wide[] = {{"n", JS_INT, true, 0, SIZE_MAX}};
    struct js_value v;
    struct js_error e;
    size_t n;

    assert_int_equal(
        js_fields(*state, fields_obj(state, "{\"n\":9223372036854775806}"), wide, 1, &v, &e, 1, &n),
        0);
    assert_int_equal(v.i, INT64_MAX - 1);
    assert_int_equal(js_fields(*state, fields_obj(state, "{\"n\":92233720368547758070}"), wide, 1,
                               &v, &e, 1, &n),
                     -1);
    assert_string_equal(e.code, "out_of_range");
    assert_false(v.present);
}

static void
test_js_fields_unknown_field(void **state)
{
    struct json_object *o = fields_obj(state, "{\"name\":\"abc\",\"admin\":true,\"x\\u0079\":1}");
    struct js_value vals[NSPEC];
    struct js_error errs[MAX_FIELD_ERRORS];
    size_t n;

    assert_int_equal(js_fields(*state, o, spec, NSPEC, vals, errs, MAX_FIELD_ERRORS, &n), -1);
    assert_int_equal(n, 2);
    assert_string_equal(errs[0].field, "admin");
    assert_string_equal(errs[0].code, "unknown_field");
    assert_string_equal(errs[1].field, "xy");
    assert_string_equal(errs[1].code, "unknown_field");
    assert_true(vals[0].present); /* known fields are still filled in */
}

static void
test_js_fields_null_not_allowed(void **state)
{
    expect_one(state, "{\"name\":null}", "name", "null_not_allowed");
    expect_one(state, "{\"name\":\"abc\",\"public\":null}", "public", "null_not_allowed");
    expect_one(state, "{\"name\":\"abc\",\"limit\":null}", "limit", "null_not_allowed");
}

static void
test_js_fields_maxerrs(void **state)
{
    struct json_object *o = fields_obj(state, "{\"limit\":\"x\",\"public\":0,\"a\":1,\"b\":2}");
    struct js_value vals[NSPEC];
    struct js_error errs[2];
    size_t n;

    /* 5 errors: name required, public and limit wrong_type, a and b unknown. */
    assert_int_equal(js_fields(*state, o, spec, NSPEC, vals, errs, 2, &n), -1);
    assert_int_equal(n, 2);
    assert_string_equal(errs[0].code, "required");
    assert_string_equal(errs[1].field, "public");
    assert_int_equal(js_fields(*state, o, spec, NSPEC, vals, NULL, 0, &n), -1);
    assert_int_equal(n, 0);
}

static void
test_js_fields_not_object(void **state)
{
    struct js_value vals[NSPEC];
    struct js_error errs[1];
    size_t n = 7;

    assert_int_equal(js_fields(*state, NULL, spec, NSPEC, vals, errs, 1, &n), -1);
    assert_int_equal(n, 0);
}

static void
test_js_string_null(void **state)
{
    assert_null(js_string(*state, NULL));
}

static void
test_js_string_plain(void **state)
{
    struct json_object *o =
        parse_ok(state, "{ \"u\" : \"a/b\\/c\", \"n\" : [1, 2.50, \"\\u00e9\\n\"] }");

    assert_string_equal(js_string(*state, o), "{\"u\":\"a/b/c\",\"n\":[1,2.50,\"\xc3\xa9\\n\"]}");
}

static void
test_js_new_object_builders(void **state)
{
    struct json_object *o = js_new_object(*state), *child = js_new_object(*state);

    assert_non_null(o);
    assert_non_null(child);
    assert_int_equal(js_add_str(o, "s", "a\"b/"), 0);
    assert_int_equal(js_add_str(o, "null", NULL), 0);
    assert_int_equal(js_add_strn(o, "n", (struct str){"xyz", 2}), 0);
    assert_int_equal(js_add_strn(o, "sn", STR_NULL), 0);
    assert_int_equal(js_add_int(o, "i", INT64_MIN), 0);
    assert_int_equal(js_add_bool(o, "t", true), 0);
    assert_int_equal(js_add_int(child, "c", 1), 0);
    assert_int_equal(js_add_obj(o, "o", child), 0);
    assert_int_equal(js_add_int(o, "i", 7), 0); /* replaces */
    assert_string_equal(js_string(*state, o), "{\"s\":\"a\\\"b/\",\"null\":null,\"n\":\"xy\","
                                              "\"sn\":null,\"i\":7,\"t\":true,\"o\":{\"c\":1}}");
    /* child is owned by the arena and by o: freeing the arena (teardown) releases both once. */
}

static void
test_js_new_object_arena_full(void **state)
{
    struct arena *small = arena_new(8);

    (void)state;
    assert_non_null(small);
    assert_null(js_new_object(small));
    arena_free(small);
}

static void
test_js_add_null_safety(void **state)
{
    struct json_object *o = js_new_object(*state);

    assert_int_equal(js_add_str(NULL, "k", "v"), -1);
    assert_int_equal(js_add_str(o, NULL, "v"), -1);
    assert_int_equal(js_add_strn(NULL, "k", STR_LIT("v")), -1);
    assert_int_equal(js_add_int(NULL, "k", 1), -1);
    assert_int_equal(js_add_bool(NULL, "k", false), -1);
    assert_int_equal(js_add_obj(NULL, "k", o), -1);
    assert_int_equal(js_add_obj(o, "k", NULL), -1);
    assert_int_equal(js_add_obj(o, "k", o), -1);
    assert_string_equal(js_string(*state, o), "{}");
}

#define T(f) cmocka_unit_test_setup_teardown(f, fixture_arena_setup, fixture_arena_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_js_parse_ok),
        T(test_js_parse_ok_escapes),
        T(test_js_parse_empty),
        T(test_js_parse_trailing_comma),
        T(test_js_parse_single_quotes),
        T(test_js_parse_comments),
        T(test_js_parse_bad_numbers),
        T(test_js_parse_bad_literals),
        T(test_js_parse_bad_structure),
        T(test_js_parse_control_chars),
        T(test_js_parse_bad_escapes),
        T(test_js_parse_surrogates),
        T(test_js_parse_invalid_utf8),
        T(test_js_parse_nul),
        T(test_js_parse_string_limit),
        T(test_js_parse_depth),
        T(test_js_parse_members),
        T(test_js_parse_body_limit),
        T(test_js_parse_trailing_garbage),
        T(test_js_parse_duplicates),
        T(test_js_parse_not_object),
        T(test_js_parse_arena_full),
        T(test_js_fields_ok),
        T(test_js_fields_required),
        T(test_js_fields_wrong_type),
        T(test_js_fields_too_short),
        T(test_js_fields_too_long),
        T(test_js_fields_out_of_range),
        T(test_js_fields_out_of_range_saturated),
        T(test_js_fields_unknown_field),
        T(test_js_fields_null_not_allowed),
        T(test_js_fields_maxerrs),
        T(test_js_fields_not_object),
        T(test_js_string_null),
        T(test_js_string_plain),
        T(test_js_new_object_builders),
        T(test_js_new_object_arena_full),
        T(test_js_add_null_safety),
    };

    log_init("test_json", LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
