/*
 * test_route.c - the router: literal beats {param} whatever the order, params, 405 with
 * the Allow set (GET implies HEAD), 404, trailing slashes and empty segments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "route.h"

static int
h_a(struct request *r)
{
    (void)r;
    return 0;
}

static int
h_b(struct request *r)
{
    (void)r;
    return 1;
}

static const struct route table[] = {
    {METHOD_GET, "/api/v1/videos/{id}", h_a, AUTH_NONE, 0},
    {METHOD_PATCH, "/api/v1/videos/{id}", h_a, AUTH_TOKEN, 100},
    {METHOD_GET, "/api/v1/videos/trending", h_b, AUTH_NONE, 0},
    {METHOD_GET, "/api/v1/videos/{id}/comments/{cid}", h_b, AUTH_NONE, 0},
    {METHOD_POST, "/api/v1/auth/login", h_a, AUTH_NONE, 100},
    {METHOD_GET, "/api/v1/health", h_a, AUTH_NONE, 0},
    {METHOD_GET, "/media/{token}/{id}/{path*}", h_b, AUTH_NONE, 0},
};
#define N (sizeof(table) / sizeof(table[0]))

static enum route_result
match(enum method m, const char *path, struct request *r, const struct route **rt, unsigned *allow)
{
    memset(r, 0, sizeof(*r));
    return route_match(table, N, m, str_from(path), r, rt, allow);
}

static void
test_route_match_literal_beats_param(void **state)
{
    struct request r;
    const struct route *rt;
    unsigned allow;

    (void)state;
    assert_int_equal(match(METHOD_GET, "/api/v1/videos/trending", &r, &rt, &allow), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[2]);
    assert_int_equal(r.nparams, 0);
}

static void
test_route_match_param(void **state)
{
    struct request r;
    const struct route *rt;
    unsigned allow;
    struct str v;

    (void)state;
    assert_int_equal(match(METHOD_GET, "/api/v1/videos/abc123", &r, &rt, &allow), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[0]);
    v = req_param(&r, "id");
    assert_true(str_eq_cstr(v, "abc123"));
    assert_null(req_param(&r, "nope").p);
}

static void
test_route_match_two_params(void **state)
{
    struct request r;
    const struct route *rt;
    unsigned allow;

    (void)state;
    assert_int_equal(match(METHOD_GET, "/api/v1/videos/v1/comments/c9", &r, &rt, &allow),
                     ROUTE_FOUND);
    assert_ptr_equal(rt, &table[3]);
    assert_true(str_eq_cstr(req_param(&r, "id"), "v1"));
    assert_true(str_eq_cstr(req_param(&r, "cid"), "c9"));
}

static void
test_route_match_method_not_allowed(void **state)
{
    struct request r;
    const struct route *rt;
    unsigned allow;
    char buf[64];

    (void)state;
    assert_int_equal(match(METHOD_DELETE, "/api/v1/videos/x", &r, &rt, &allow),
                     ROUTE_METHOD_NOT_ALLOWED);
    assert_null(rt);
    route_allow_format(allow, buf, sizeof(buf));
    assert_string_equal(buf, "GET, HEAD, PATCH");
    assert_int_equal(match(METHOD_GET, "/api/v1/auth/login", &r, &rt, &allow),
                     ROUTE_METHOD_NOT_ALLOWED);
    route_allow_format(allow, buf, sizeof(buf));
    assert_string_equal(buf, "POST");
}

static void
test_route_match_head_is_get(void **state)
{
    struct request r;
    const struct route *rt;
    unsigned allow;

    (void)state;
    assert_int_equal(match(METHOD_HEAD, "/api/v1/health", &r, &rt, &allow), ROUTE_FOUND);
    assert_ptr_equal(rt, &table[5]);
}

static void
test_route_match_not_found(void **state)
{
    static const char *const paths[] = {
        "/api/v1/healthz",
        "/api/v1/health/",
        "/api/v1/videos/",
        "/api/v1/videos//comments/x",
        "/",
        "",
        "api/v1/health",
        "/api/v1/videos/a/b",
        "/api/v1",
        "/API/v1/health",
        "/api/v1/health?x",
        "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r",
    };
    struct request r;
    const struct route *rt;
    unsigned allow;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        assert_int_equal(match(METHOD_GET, paths[i], &r, &rt, &allow), ROUTE_NOT_FOUND);
        assert_int_equal(allow, 0);
    }
}

static void
test_route_match_unknown_method(void **state)
{
    struct request r;
    const struct route *rt;
    unsigned allow;

    (void)state;
    assert_int_equal(match(METHOD_UNKNOWN, "/api/v1/health", &r, &rt, &allow),
                     ROUTE_METHOD_NOT_ALLOWED);
}

static void
test_route_match_rest(void **state)
{
    struct request r;
    const struct route *rt;
    unsigned allow;

    (void)state;
    assert_int_equal(match(METHOD_GET, "/media/t.1.m/v1/hls/720/seg_001.ts", &r, &rt, &allow),
                     ROUTE_FOUND);
    assert_ptr_equal(rt, &table[6]);
    assert_true(str_eq_cstr(req_param(&r, "token"), "t.1.m"));
    assert_true(str_eq_cstr(req_param(&r, "id"), "v1"));
    assert_true(str_eq_cstr(req_param(&r, "path"), "hls/720/seg_001.ts"));
    assert_int_equal(match(METHOD_GET, "/media/t/v1/source.mp4", &r, &rt, &allow), ROUTE_FOUND);
    assert_true(str_eq_cstr(req_param(&r, "path"), "source.mp4"));
    assert_int_equal(match(METHOD_GET, "/media/t/v1/", &r, &rt, &allow), ROUTE_NOT_FOUND);
    assert_int_equal(match(METHOD_GET, "/media/t/v1", &r, &rt, &allow), ROUTE_NOT_FOUND);
}

static void
test_http_method_parse(void **state)
{
    (void)state;
    assert_int_equal(http_method_parse(STR_LIT("PATCH")), METHOD_PATCH);
    assert_int_equal(http_method_parse(STR_LIT("patch")), METHOD_UNKNOWN);
    assert_int_equal(http_method_parse(STR_LIT("GETX")), METHOD_UNKNOWN);
    assert_int_equal(http_method_parse(STR_NULL), METHOD_UNKNOWN);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_match_literal_beats_param),
        cmocka_unit_test(test_route_match_param),
        cmocka_unit_test(test_route_match_two_params),
        cmocka_unit_test(test_route_match_method_not_allowed),
        cmocka_unit_test(test_route_match_head_is_get),
        cmocka_unit_test(test_route_match_not_found),
        cmocka_unit_test(test_route_match_unknown_method),
        cmocka_unit_test(test_route_match_rest),
        cmocka_unit_test(test_http_method_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
