"""What every route does with a request it cannot take: unknown routes, wrong methods, bodies
too large, bodies that are not strict JSON, other media types, and the problem+json shape.
And docs/openapi.yaml itself, which these tests hold to what the server says."""

import json

import pytest

from conftest import (
    VALIDATION_CODES,
    assert_problem,
    assert_validation,
    describe,
    openapi_spec,
    problem_codes,
)

LOGIN = "/api/v1/auth/login"
MAX_JSON_BODY = 128 * 1024
MAX_JSON_DEPTH = 16


def _allow(r):
    return {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}


# ---------------------------------------------------------------------------------------------
# Routes and methods


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/v1/does-not-exist"),
        ("POST", "/api/v1/does-not-exist"),
        ("GET", "/api/v1/nothing/here/at/all"),
        ("GET", "/api/v1/health/ready/more"),
        ("GET", "/api/v1/auth"),
        ("POST", "/api/v1/auth/login/extra"),
    ],
)
def test_unknown_route_is_not_found(api, method, path):
    r = api.request(method, path)
    assert_problem(r, 404, "not_found")


@pytest.mark.parametrize(
    "method,path,allowed,refused",
    [
        ("DELETE", "/api/v1/health", {"GET", "HEAD"}, "DELETE"),
        ("POST", "/api/v1/health", {"GET", "HEAD"}, "POST"),
        ("GET", "/api/v1/auth/login", {"POST"}, "GET"),
        ("GET", "/api/v1/auth/register", {"POST"}, "GET"),
        ("PUT", "/api/v1/auth/refresh", {"POST"}, "PUT"),
        ("GET", "/api/v1/auth/logout", {"POST"}, "GET"),
        ("PUT", "/api/v1/users/me", {"GET", "PATCH"}, "PUT"),
        ("DELETE", "/api/v1/users/me", {"GET", "PATCH"}, "DELETE"),
        ("GET", "/api/v1/users/me/password", {"POST"}, "GET"),
    ],
)
def test_wrong_method_is_not_allowed(api, method, path, allowed, refused):
    r = api.request(method, path)
    assert_problem(r, 405, "method_not_allowed")
    allow = _allow(r)
    assert allowed <= allow and refused not in allow, f"Allow: {r.headers.get('Allow')!r}"


def test_wrong_method_exact_allow_for_health_and_login(api):
    assert _allow(api.delete("/api/v1/health")) == {"GET", "HEAD"}
    assert _allow(api.get(LOGIN)) == {"POST"}


# ---------------------------------------------------------------------------------------------
# Body size


def _login_body_of(size):
    """A login body of exactly size bytes of valid JSON, made of strings short enough
    (8000 characters; MAX_JSON_STRING is 8192 bytes) that only its total size can be refused:
    the extra members are unknown fields, a 422 when the size is allowed."""
    doc = {"login": "someone", "password": "whatever1"}
    i = 0
    while len(json.dumps(doc)) < size:
        room = size - len(json.dumps(doc)) - len(', "f000": ""')
        if room <= 0:
            break
        doc["f%03d" % i] = "x" * min(8000, room)
        i += 1
    body = json.dumps(doc).encode()
    body = body[:-1] + b" " * (size - len(body)) + b"}"  # pad with whitespace to the byte
    assert len(body) == size, len(body)
    return body


def test_body_over_limit_is_too_large(api):
    r = api.post(LOGIN, data=_login_body_of(MAX_JSON_BODY + 1), headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "body_too_large")


def test_body_far_over_limit_is_too_large(api):
    r = api.post(LOGIN, data=_login_body_of(512 * 1024), headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "body_too_large")


def test_body_over_limit_chunked_is_too_large(api):
    body = _login_body_of(MAX_JSON_BODY + 4096)

    def chunks():
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    r = api.post(LOGIN, data=chunks(), headers={"Content-Type": "application/json"})
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert_problem(r, 413, "body_too_large")


def test_body_at_limit_is_not_too_large(api):
    r = api.post(LOGIN, data=_login_body_of(MAX_JSON_BODY), headers={"Content-Type": "application/json"})
    assert r.status_code != 413, describe(r)
    assert_validation(r, "f000", "unknown_field")


# ---------------------------------------------------------------------------------------------
# Strict JSON


def _nested(depth):
    """A login body whose nesting is depth levels, the top object counted as one."""
    inner = "1"
    for _ in range(depth - 1):
        inner = "[" + inner + "]"
    return ('{"login":%s,"password":"whatever1"}' % inner).encode()


INVALID_JSON = [
    ("truncated", b'{"login":"a","password":'),
    ("empty", b""),
    ("whitespace", b"   "),
    ("array", b'["login","password"]'),
    ("string", b'"login"'),
    ("number", b"42"),
    ("null", b"null"),
    ("true", b"true"),
    ("single-quotes", b"{'login':'a','password':'whatever1'}"),
    ("trailing-comma", b'{"login":"a","password":"whatever1",}'),
    ("trailing-garbage", b'{"login":"a","password":"whatever1"} x'),
    ("two-documents", b'{"login":"a","password":"whatever1"}{}'),
    ("comment", b'{"login":"a", /* c */ "password":"whatever1"}'),
    ("unquoted-key", b'{login:"a","password":"whatever1"}'),
    ("duplicate-key", b'{"login":"a","login":"b","password":"whatever1"}'),
    ("duplicate-key-same-value", b'{"login":"a","password":"whatever1","password":"whatever1"}'),
    ("invalid-utf8", b'{"login":"\xff\xfe","password":"whatever1"}'),
    ("overlong-utf8", b'{"login":"\xc0\xaf","password":"whatever1"}'),
    ("truncated-utf8", b'{"login":"a\xe2\x82","password":"whatever1"}'),
    ("utf8-surrogate", b'{"login":"\xed\xa0\x80","password":"whatever1"}'),
    ("nul-escape", b'{"login":"a\\u0000b","password":"whatever1"}'),
    ("raw-control-char", b'{"login":"a\x01b","password":"whatever1"}'),
    ("bad-escape", b'{"login":"a\\qb","password":"whatever1"}'),
    ("nan", b'{"login":NaN,"password":"whatever1"}'),
    ("leading-zero", b'{"login":01,"password":"whatever1"}'),
    ("depth-17", _nested(MAX_JSON_DEPTH + 1)),
    ("depth-1000", _nested(1000)),
]


@pytest.mark.parametrize("body", [b for _, b in INVALID_JSON], ids=[n for n, _ in INVALID_JSON])
def test_invalid_json_is_refused(api, body):
    r = api.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "invalid_json")


def test_json_at_depth_limit_is_parsed(api):
    # 16 levels parse; the array where a string belongs is then a validation error.
    r = api.post(LOGIN, data=_nested(MAX_JSON_DEPTH), headers={"Content-Type": "application/json"})
    assert_validation(r, "login", "wrong_type")


def test_invalid_json_on_an_authenticated_route(api, user):
    r = api.patch("/api/v1/users/me", token=user["access"], data=b"{", headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "invalid_json")


def test_escaped_unicode_is_accepted(api, user):
    # A correct \\u escape (with a surrogate pair) is valid JSON, not to be confused with the above.
    body = b'{"displayName":"Zo\\u00eb \\ud83c\\udfac"}'
    r = api.patch("/api/v1/users/me", token=user["access"], data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, describe(r)
    assert r.json()["displayName"] == "Zoë 🎬"


# ---------------------------------------------------------------------------------------------
# Media types


@pytest.mark.parametrize(
    "ctype",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json-patch+json",
        "text/json",
    ],
)
def test_other_media_type_is_unsupported(api, ctype):
    body = b'{"login":"a","password":"whatever1"}'
    r = api.post(LOGIN, data=body, headers={"Content-Type": ctype})
    assert_problem(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "application/json;charset=UTF-8"])
def test_json_with_charset_is_supported(api, ctype):
    body = b'{"login":"nobody-at-all","password":"whatever1"}'
    r = api.post(LOGIN, data=body, headers={"Content-Type": ctype})
    assert_problem(r, 401, "invalid_credentials")


def test_unsupported_media_type_on_patch(api, user):
    r = api.patch(
        "/api/v1/users/me", token=user["access"], data=b'{"displayName":"x"}', headers={"Content-Type": "text/plain"}
    )
    assert_problem(r, 415, "unsupported_media_type")
    assert api.get("/api/v1/users/me", token=user["access"]).json()["displayName"] == user["username"]


# ---------------------------------------------------------------------------------------------
# Validation problems


def test_number_for_string_is_wrong_type(api):
    r = api.post(LOGIN, json={"login": 12, "password": "whatever1"})
    assert_validation(r, "login", "wrong_type")


def test_unknown_member_is_named(api):
    r = api.post(LOGIN, json={"login": "a", "password": "whatever1", "otp": "123456"})
    assert_validation(r, "otp", "unknown_field")


def test_validation_problem_shape(api):
    r = api.post("/api/v1/auth/register", json={"username": 1, "email": None, "extra": 1})
    body = assert_validation(r, "username", "wrong_type")
    assert isinstance(body["type"], str) and body["type"]
    for e in body["errors"]:
        assert set(e) >= {"field", "code"}
        assert e["code"] in VALIDATION_CODES
    pairs = {(e["field"], e["code"]) for e in body["errors"]}
    assert ("extra", "unknown_field") in pairs, pairs


# ---------------------------------------------------------------------------------------------
# docs/openapi.yaml

OPERATIONS = {
    "health_get": ("get", "/api/v1/health"),
    "health_ready": ("get", "/api/v1/health/ready"),
    "auth_register": ("post", "/api/v1/auth/register"),
    "auth_login": ("post", "/api/v1/auth/login"),
    "auth_refresh": ("post", "/api/v1/auth/refresh"),
    "auth_logout": ("post", "/api/v1/auth/logout"),
    "users_get_me": ("get", "/api/v1/users/me"),
    "users_update_me": ("patch", "/api/v1/users/me"),
    "users_password_me": ("post", "/api/v1/users/me/password"),
    "users_sessions_delete": ("delete", "/api/v1/users/me/sessions"),
    "videos_list": ("get", "/api/v1/videos"),
    "videos_create": ("post", "/api/v1/videos"),
    "videos_get": ("get", "/api/v1/videos/{id}"),
    "videos_update": ("patch", "/api/v1/videos/{id}"),
    "videos_delete": ("delete", "/api/v1/videos/{id}"),
    "videos_playback": ("get", "/api/v1/videos/{id}/playback"),
    "media_get": ("get", "/media/{token}/{id}/{path}"),
    "uploads_options": ("options", "/api/v1/uploads"),
    "uploads_create": ("post", "/api/v1/uploads"),
    "uploads_head": ("head", "/api/v1/uploads/{id}"),
    "uploads_patch": ("patch", "/api/v1/uploads/{id}"),
    "uploads_delete": ("delete", "/api/v1/uploads/{id}"),
    "webhooks_list": ("get", "/api/v1/webhooks"),
    "webhooks_create": ("post", "/api/v1/webhooks"),
    "webhooks_delete": ("delete", "/api/v1/webhooks/{id}"),
    "webhooks_deliveries": ("get", "/api/v1/webhooks/{id}/deliveries"),
    "users_delete_me": ("post", "/api/v1/users/me/deletion"),
    "images_avatar_put": ("put", "/api/v1/users/me/avatar"),
    "images_avatar_delete": ("delete", "/api/v1/users/me/avatar"),
    "images_banner_put": ("put", "/api/v1/users/me/banner"),
    "images_banner_delete": ("delete", "/api/v1/users/me/banner"),
    "channels_subscriptions": ("get", "/api/v1/users/me/subscriptions"),
    "ratings_likes": ("get", "/api/v1/users/me/likes"),
    "playlists_list_mine": ("get", "/api/v1/users/me/playlists"),
    "channels_get": ("get", "/api/v1/channels/{username}"),
    "channels_videos": ("get", "/api/v1/channels/{username}/videos"),
    "channels_subscribe": ("put", "/api/v1/channels/{username}/subscription"),
    "channels_unsubscribe": ("delete", "/api/v1/channels/{username}/subscription"),
    "posts_list_channel": ("get", "/api/v1/channels/{username}/posts"),
    "playlists_list_channel": ("get", "/api/v1/channels/{username}/playlists"),
    "channels_feed": ("get", "/api/v1/feed"),
    "ratings_video_put": ("put", "/api/v1/videos/{id}/rating"),
    "ratings_video_delete": ("delete", "/api/v1/videos/{id}/rating"),
    "comments_video_list": ("get", "/api/v1/videos/{id}/comments"),
    "comments_video_create": ("post", "/api/v1/videos/{id}/comments"),
    "comments_replies": ("get", "/api/v1/comments/{id}/replies"),
    "comments_update": ("patch", "/api/v1/comments/{id}"),
    "comments_delete": ("delete", "/api/v1/comments/{id}"),
    "comments_like_put": ("put", "/api/v1/comments/{id}/like"),
    "comments_like_delete": ("delete", "/api/v1/comments/{id}/like"),
    "posts_create": ("post", "/api/v1/posts"),
    "posts_get": ("get", "/api/v1/posts/{id}"),
    "posts_update": ("patch", "/api/v1/posts/{id}"),
    "posts_delete": ("delete", "/api/v1/posts/{id}"),
    "posts_like_put": ("put", "/api/v1/posts/{id}/like"),
    "posts_like_delete": ("delete", "/api/v1/posts/{id}/like"),
    "comments_post_list": ("get", "/api/v1/posts/{id}/comments"),
    "comments_post_create": ("post", "/api/v1/posts/{id}/comments"),
    "playlists_create": ("post", "/api/v1/playlists"),
    "playlists_get": ("get", "/api/v1/playlists/{id}"),
    "playlists_update": ("patch", "/api/v1/playlists/{id}"),
    "playlists_delete": ("delete", "/api/v1/playlists/{id}"),
    "playlists_items": ("get", "/api/v1/playlists/{id}/items"),
    "playlists_item_add": ("post", "/api/v1/playlists/{id}/items"),
    "playlists_item_move": ("patch", "/api/v1/playlists/{id}/items/{videoId}"),
    "playlists_item_remove": ("delete", "/api/v1/playlists/{id}/items/{videoId}"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_openapi_lists_exactly_the_operations():
    spec = openapi_spec()
    assert str(spec.get("openapi", "")).startswith("3.1"), spec.get("openapi")
    found = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                found[op["operationId"]] = (method, path)
    assert found == OPERATIONS


def test_openapi_every_error_response_is_a_problem_with_codes():
    spec = openapi_spec()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            statuses = set(op["responses"])
            # Media bytes are nginx's alone: whatever fails there is 503 unavailable.
            if op["operationId"] != "media_get":
                assert "500" in statuses, f"{op['operationId']} lists no 500"
            for status, resp in op["responses"].items():
                if int(status) < 400:
                    continue
                codes = problem_codes(spec, resp)
                assert codes, f"{op['operationId']} {status} lists no problem code"
    for name in ("NotFound", "MethodNotAllowed"):
        assert problem_codes(spec, spec["components"]["responses"][name])
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {"type", "title", "status", "detail", "code"}


def test_openapi_validation_codes_match():
    spec = openapi_spec()
    field_error = spec["components"]["schemas"]["FieldError"]
    assert set(field_error["properties"]["code"]["enum"]) == VALIDATION_CODES
