"""POST /api/v1/auth/{register,login,refresh,logout} and the access token they hand out.

auth_register, auth_login, auth_refresh, auth_logout in docs/openapi.yaml. Access tokens are
checked on GET /api/v1/users/me, the cheapest route that needs one.
"""

import datetime
import hashlib
import os
import secrets
import statistics
import time
import urllib.parse
import uuid

import pytest

from conftest import (
    ACCESS_TTL,
    DB_NAME,
    MONGODB_URI,
    REFRESH_GRACE,
    REFRESH_RETRY,
    assert_problem,
    assert_token_pair,
    assert_user,
    assert_validation,
    b64u,
    create_user,
    describe,
    jwt_decode,
    jwt_sign,
    login,
    media_type,
    new_identity,
    refresh_cookie,
    register,
    unique_name,
)

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


def _refresh_codes_after_revoke():
    return {"invalid_refresh_token", "refresh_token_reused"}


# ---------------------------------------------------------------------------------------------
# register


def test_auth_register_created(api):
    ident = new_identity()
    before = datetime.datetime.now(datetime.timezone.utc)
    r = register(api, **ident)
    assert r.status_code == 201, describe(r)
    assert media_type(r) == "application/json", describe(r)
    assert urllib.parse.urlsplit(r.headers.get("Location", "")).path == ME, describe(r)
    u = r.json()
    assert_user(
        u,
        username=ident["username"],
        email=ident["email"],
        displayName=ident["username"],
        role="user",
    )
    created = datetime.datetime.fromisoformat(u["createdAt"].replace("Z", "+00:00"))
    assert abs((created - before).total_seconds()) < 300, u


def test_auth_register_keeps_display_name_and_lowercases_email(api):
    ident = new_identity()
    ident["email"] = ident["email"].upper()
    r = register(api, displayName="Zoë Ünïcode 🎬", **ident)
    assert r.status_code == 201, describe(r)
    assert_user(r.json(), displayName="Zoë Ünïcode 🎬", email=ident["email"].lower())


def test_auth_register_username_boundaries_accepted(api):
    # 30 characters of every allowed kind.
    name = ("a.b_c-" + uuid.uuid4().hex)[:30]
    r = register(api, **dict(new_identity(), username=name))
    assert r.status_code == 201, describe(r)
    assert r.json()["username"] == name
    # 3 characters: random, so retry on the rare clash with an earlier run's name.
    for _ in range(10):
        name = uuid.uuid4().hex[:3]
        r = register(api, **dict(new_identity(), username=name))
        if r.status_code != 409:
            break
    assert r.status_code == 201, describe(r)


# Lengths count code points; the strings are varied enough that cracklib does not refuse them.
CJK_128 = "".join(chr(0x4E00 + i % 64) for i in range(128))
ASCII_128 = "".join("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"[i * 7 % 64]
                    for i in range(128))


@pytest.mark.parametrize(
    "password",
    ["üéàçöñåø", CJK_128, ASCII_128, "k7#Qp2!z"],
    ids=["8-two-byte", "128-three-byte", "128-ascii", "8-ascii"],
)
def test_auth_register_password_counts_code_points_accepted(api, password):
    ident = dict(new_identity(), password=password)
    r = register(api, **ident)
    assert r.status_code == 201, describe(r)
    r = login(api, ident["email"], password)
    assert r.status_code == 200, describe(r)


@pytest.mark.parametrize("display_name", ["x" * 64, "é" * 64])
def test_auth_register_display_name_64_accepted(api, display_name):
    r = register(api, displayName=display_name, **new_identity())
    assert r.status_code == 201, describe(r)
    assert r.json()["displayName"] == display_name


# 255 characters, one over the limit; labels kept to DNS's 63.
LONG_EMAIL = "a" * 60 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 61 + ".test"


def test_auth_register_email_254_accepted(api):
    local = (uuid.uuid4().hex + "a" * 28)[:60]
    email = local + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 60 + ".test"
    assert len(email) == 254 and len(LONG_EMAIL) == 255
    r = register(api, **dict(new_identity(), email=email))
    assert r.status_code == 201, describe(r)
    assert r.json()["email"] == email

INVALID_REGISTRATIONS = [
    # (id, changes to a valid body, field, code)
    ("username-uppercase", {"username": "Upper" + uuid.uuid4().hex[:8]}, "username", "invalid_format"),
    ("username-space", {"username": "a b" + uuid.uuid4().hex[:6]}, "username", "invalid_format"),
    ("username-symbol", {"username": "ab!" + uuid.uuid4().hex[:6]}, "username", "invalid_format"),
    ("username-nonascii", {"username": "zoë" + uuid.uuid4().hex[:6]}, "username", "invalid_format"),
    ("username-short", {"username": "ab"}, "username", "too_short"),
    ("username-long", {"username": "a" * 31}, "username", "too_long"),
    ("username-number", {"username": 12345}, "username", "wrong_type"),
    ("username-null", {"username": None}, "username", "null_not_allowed"),
    ("username-missing", {"username": ...}, "username", "required"),
    ("email-no-at", {"email": "no-at-sign.example.test"}, "email", "invalid_format"),
    ("email-no-dot", {"email": "someone@localhost"}, "email", "invalid_format"),
    ("email-no-local", {"email": "@example.test"}, "email", "invalid_format"),
    ("email-no-domain", {"email": "someone@"}, "email", "invalid_format"),
    ("email-two-at", {"email": "a@b@example.test"}, "email", "invalid_format"),
    ("email-space", {"email": "some one@example.test"}, "email", "invalid_format"),
    ("email-list", {"email": ["a@example.test"]}, "email", "wrong_type"),
    ("email-missing", {"email": ...}, "email", "required"),
    ("password-7", {"password": "1234567"}, "password", "too_short"),
    ("password-7-two-byte", {"password": "ü" * 7}, "password", "too_short"),
    ("password-129", {"password": "x" * 129}, "password", "too_long"),
    ("password-129-three-byte", {"password": "€" * 129}, "password", "too_long"),
    ("password-bool", {"password": True}, "password", "wrong_type"),
    ("password-number", {"password": 12345678}, "password", "wrong_type"),
    ("password-missing", {"password": ...}, "password", "required"),
    ("display-name-65", {"displayName": "x" * 65}, "displayName", "too_long"),
    ("display-name-null", {"displayName": None}, "displayName", "null_not_allowed"),
    ("display-name-object", {"displayName": {"a": 1}}, "displayName", "wrong_type"),
    ("display-name-bidi-override", {"displayName": "Evil\u202egnp.exe"}, "displayName", "invalid_format"),
    ("display-name-zero-width", {"displayName": "ad\u200bmin"}, "displayName", "invalid_format"),
    ("display-name-control", {"displayName": "a\x07b"}, "displayName", "invalid_format"),
    ("display-name-c1", {"displayName": "a\u0085b"}, "displayName", "invalid_format"),
    ("username-admin", {"username": "admin"}, "username", "reserved"),
    ("username-root", {"username": "root"}, "username", "reserved"),
    ("username-undefined", {"username": "undefined"}, "username", "reserved"),
    ("username-support", {"username": "support"}, "username", "reserved"),
    ("username-stremora", {"username": "stremora"}, "username", "reserved"),
    ("username-route-word", {"username": "videos"}, "username", "reserved"),
    ("unknown-role", {"role": "admin"}, "role", "unknown_field"),
    ("unknown-id", {"id": "0" * 24}, "id", "unknown_field"),
]


@pytest.mark.parametrize(
    "changes,field,code", [x[1:] for x in INVALID_REGISTRATIONS], ids=[x[0] for x in INVALID_REGISTRATIONS]
)
def test_auth_register_invalid(api, changes, field, code):
    body = new_identity()
    for k, v in changes.items():
        if v is ...:
            del body[k]
        else:
            body[k] = v
    assert_validation(register(api, **body), field, code)
    # Nothing was created: the same username (when it was valid) is still free.
    if field != "username":
        r = register(api, **dict(new_identity(), username=body["username"]))
        assert r.status_code == 201, describe(r)


@pytest.mark.parametrize(
    "password", ["12345678", "password", " " * 8, "iloveyou", "letmein123", "aaaaaaaa"]
)
def test_auth_register_refuses_a_common_password(api, password):
    ident = new_identity()
    r = register(api, **dict(ident, password=password))
    assert_problem(r, 422, "password_too_common")
    # Nothing was created.
    r = register(api, **ident)
    assert r.status_code == 201, describe(r)


def test_auth_register_refuses_the_username_as_password(api):
    ident = new_identity()
    r = register(api, **dict(ident, password=ident["username"]))
    assert_problem(r, 422, "password_too_common")


def test_auth_register_email_too_long(api):
    r = register(api, **dict(new_identity(), email=LONG_EMAIL))
    # The contract says "else invalid_format"; bounds.h names MAX_EMAIL: either code is fair.
    body = assert_problem(r, 422, "validation_failed")
    assert ("email", "invalid_format") in [(e["field"], e["code"]) for e in body["errors"]] or (
        "email",
        "too_long",
    ) in [(e["field"], e["code"]) for e in body["errors"]], describe(r)


def test_auth_register_reports_every_missing_field(api):
    r = register(api)
    body = assert_validation(r, "username", "required")
    pairs = {(e["field"], e["code"]) for e in body["errors"]}
    assert {("email", "required"), ("password", "required")} <= pairs, describe(r)


def test_auth_register_username_taken(api, user):
    r = register(api, **dict(new_identity(), username=user["username"]))
    assert_problem(r, 409, "username_taken")


def test_auth_register_email_taken_case_insensitive(api, user):
    ident = dict(new_identity(), email=user["email"].upper())
    assert_problem(register(api, **ident), 409, "email_taken")
    # The refused registration took nothing: its username is still free.
    r = register(api, **dict(new_identity(), username=ident["username"]))
    assert r.status_code == 201, describe(r)


# ---------------------------------------------------------------------------------------------
# login


@pytest.mark.parametrize("by", ["username", "email", "email-uppercase"])
def test_auth_login_ok(api, by):
    ident = new_identity()
    r = register(api, **ident)
    assert r.status_code == 201, describe(r)
    registered = r.json()
    name = {
        "username": ident["username"],
        "email": ident["email"],
        "email-uppercase": ident["email"].upper(),
    }[by]
    r = login(api, name, ident["password"])
    doc = assert_token_pair(r, registered["id"])
    assert doc["user"] == registered
    me = api.get(ME, token=doc["accessToken"])
    assert me.status_code == 200, describe(me)
    assert me.json() == registered


def test_auth_login_sets_refresh_cookie(api, user):
    r = login(api, user["username"], user["password"])
    doc = assert_token_pair(r, user["id"])
    value, attrs = refresh_cookie(r)
    assert value == doc["refreshToken"]
    assert attrs.get("path") == "/api/v1/auth", attrs
    assert "httponly" in attrs, attrs
    assert attrs.get("samesite", "").lower() == "strict", attrs
    assert "secure" not in attrs, "the test stack is plain http: no Secure attribute"
    assert int(attrs.get("max-age", "0")) > 0, attrs


def test_auth_login_each_session_is_new(api, user):
    a = assert_token_pair(login(api, user["username"], user["password"]), user["id"])
    b = assert_token_pair(login(api, user["username"], user["password"]), user["id"])
    assert a["refreshToken"] != b["refreshToken"]
    assert a["accessToken"] != b["accessToken"]
    ca, cb = jwt_decode(a["accessToken"])[1], jwt_decode(b["accessToken"])[1]
    assert ca["sid"] != cb["sid"] and ca["jti"] != cb["jti"]


def test_auth_login_wrong_password_and_unknown_user_look_the_same(api, user):
    wrong = login(api, user["username"], user["password"] + "x")
    unknown = login(api, unique_name("nobody"), user["password"])
    a = assert_problem(wrong, 401, "invalid_credentials")
    b = assert_problem(unknown, 401, "invalid_credentials")
    assert a == b
    assert user["email"] not in wrong.text.lower()
    assert refresh_cookie(wrong) is None


def test_auth_login_wrong_password_and_unknown_user_take_similar_time(api, user):
    def timed(name, password):
        t = time.perf_counter()
        r = login(api, name, password)
        dt = time.perf_counter() - t
        assert_problem(r, 401, "invalid_credentials")
        return dt

    unknown_name = unique_name("nobody")
    timed(user["username"], "wrong-password-0")  # warm both paths
    timed(unknown_name, "wrong-password-0")
    wrong, unknown = [], []
    for i in range(8):
        wrong.append(timed(user["username"], f"wrong-password-{i}"))
        unknown.append(timed(unknown_name, f"wrong-password-{i}"))
    mw, mu = statistics.median(wrong), statistics.median(unknown)
    assert max(mw, mu) <= 3 * min(mw, mu), (
        f"median wrong password {mw * 1000:.1f} ms vs unknown user {mu * 1000:.1f} ms"
    )


def test_auth_login_by_other_users_email_does_not_leak_it(api, make_user):
    a, b = make_user(), make_user()
    r = login(api, a["email"], b["password"])
    assert_problem(r, 401, "invalid_credentials")
    assert b["email"] not in r.text.lower()


@pytest.mark.parametrize(
    "body,field,code",
    [
        ({"password": "whatever1"}, "login", "required"),
        ({"login": "someone"}, "password", "required"),
        ({"login": 42, "password": "whatever1"}, "login", "wrong_type"),
        ({"login": "someone", "password": ["x"]}, "password", "wrong_type"),
        ({"login": "someone", "password": "whatever1", "remember": True}, "remember", "unknown_field"),
        ({"login": None, "password": "whatever1"}, "login", "null_not_allowed"),
    ],
    ids=["no-login", "no-password", "login-number", "password-list", "unknown", "login-null"],
)
def test_auth_login_invalid(api, body, field, code):
    assert_validation(api.post("/api/v1/auth/login", json=body), field, code)


# ---------------------------------------------------------------------------------------------
# The access token, from outside


def test_auth_login_access_token_shape(api, user, keys):
    header, claims = jwt_decode(user["access"])
    kid, keyset = keys
    assert header.get("alg") == "HS256", header
    assert isinstance(header.get("kid"), str) and header["kid"] in keyset, header
    assert header["kid"] == kid, "new tokens are signed with the current key"
    assert claims["sub"] == user["id"]
    assert claims["role"] == "user"
    assert isinstance(claims["sid"], str) and claims["sid"]
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert type(claims["iat"]) is int and type(claims["exp"]) is int, claims
    assert claims["exp"] - claims["iat"] == ACCESS_TTL
    assert abs(claims["iat"] - time.time()) < 300, claims


def test_auth_keys_are_at_least_32_bytes(keys):
    kid, keyset = keys
    assert kid in keyset
    for k, key in keyset.items():
        assert len(key) >= 32, f"key {k} has {len(key)} bytes"


def _parts(token):
    h, p, s = token.split(".")
    return h, p, s


def _forge(name, token, other_id, kid, key):
    """Builds the token named name from a real one; each must get 401 invalid_token."""
    h, p, s = _parts(token)
    header, claims = jwt_decode(token)
    other = dict(claims, sub=other_id)
    unknown_kid = "nokey" + secrets.token_hex(4)
    good_header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    claims64 = b64u_json(claims)
    if name == "alg-none-unsigned":
        return b64u_json(dict(header, alg="none")) + "." + p + "."
    if name == "alg-none-unsigned-no-kid":
        return b64u_json({"alg": "none", "typ": "JWT"}) + "." + p + "."
    if name == "alg-hs512-relabel":
        return b64u_json(dict(header, alg="HS512")) + "." + p + "." + s
    if name == "alg-hs512-signed":
        return jwt_sign(dict(header, alg="HS512"), claims, key, hashlib.sha512)
    if name == "alg-hs384-signed":
        return jwt_sign(dict(header, alg="HS384"), claims, key, hashlib.sha384)
    if name == "sub-changed-old-signature":
        return h + "." + b64u_json(other) + "." + s
    if name == "role-changed-old-signature":
        return h + "." + b64u_json(dict(claims, role="admin")) + "." + s
    if name == "signature-from-another-key":
        return jwt_sign(header, claims, secrets.token_bytes(32))
    if name == "signature-empty":
        return h + "." + p + "."
    if name == "signature-truncated":
        return h + "." + p + "." + s[:-4]
    if name == "unknown-kid-random-key":
        return jwt_sign(dict(header, kid=unknown_kid), claims, secrets.token_bytes(32))
    if name == "unknown-kid-real-key":
        return jwt_sign(dict(header, kid=unknown_kid), claims, key)
    if name == "two-parts":
        return h + "." + p
    if name == "four-parts":
        return token + "." + s
    if name == "one-part":
        return h
    if name == "bad-base64url-signed":
        # '*' is in no base64 alphabet; the signature over the bad text is right.
        return _sign_raw(h, p[:5] + "*" + p[5:], key)
    if name == "standard-base64-signature":
        std = s.replace("-", "+").replace("_", "/")
        if std == s:  # make sure it differs: fall back to a character only base64 has
            std = s[:-1] + "+"
        return h + "." + p + "." + std
    if name == "trailing-garbage-after-token":
        return token + "x"
    if name == "trailing-garbage-in-payload":
        return jwt_sign(good_header, raw_claims_json(claims) + "garbage", key)
    if name == "non-json-payload":
        return jwt_sign(good_header, "this is not json", key)
    if name == "array-payload":
        return jwt_sign(good_header, "[1,2,3]", key)
    if name == "non-json-header":
        return _sign_raw(b64u("HS256 " + kid), claims64, key)
    if name == "duplicate-keys-in-header":
        dup = '{"alg":"HS256","alg":"HS256","typ":"JWT","kid":"%s"}' % kid
        return jwt_sign(dup, claims, key)
    if name == "duplicate-exp-in-payload":
        text = raw_claims_json(claims)
        dup = text[:-1] + ',"exp":%d}' % claims["exp"]
        return jwt_sign(good_header, dup, key)
    if name == "alg-none-signed":
        return jwt_sign(dict(good_header, alg="none"), claims, key)
    if name == "exp-missing":
        return jwt_sign(good_header, {k: v for k, v in claims.items() if k != "exp"}, key)
    if name == "exp-string":
        return jwt_sign(good_header, dict(claims, exp=str(claims["exp"])), key)
    if name == "exp-null":
        return jwt_sign(good_header, dict(claims, exp=None), key)
    raise AssertionError(name)


def b64u_json(obj):
    return b64u(raw_claims_json(obj))


def raw_claims_json(obj):
    import json

    return json.dumps(obj, separators=(",", ":"))


def _sign_raw(h64, p64, key):
    import hmac

    sig = hmac.new(key, (h64 + "." + p64).encode(), hashlib.sha256).digest()
    return h64 + "." + p64 + "." + b64u(sig)


FORGERIES = [
    "alg-none-unsigned",
    "alg-none-unsigned-no-kid",
    "alg-hs512-relabel",
    "alg-hs512-signed",
    "alg-hs384-signed",
    "sub-changed-old-signature",
    "role-changed-old-signature",
    "signature-from-another-key",
    "signature-empty",
    "signature-truncated",
    "unknown-kid-random-key",
    "unknown-kid-real-key",
    "two-parts",
    "four-parts",
    "one-part",
    "bad-base64url-signed",
    "standard-base64-signature",
    "trailing-garbage-after-token",
    "trailing-garbage-in-payload",
    "non-json-payload",
    "array-payload",
    "non-json-header",
    "duplicate-keys-in-header",
    "duplicate-exp-in-payload",
    "alg-none-signed",
    "exp-missing",
    "exp-string",
    "exp-null",
]


@pytest.fixture(scope="module")
def two_users(api):
    """Two users the forgery cases only read from (one per module keeps the run short)."""
    return create_user(api), create_user(api)


@pytest.mark.parametrize("name", FORGERIES)
def test_auth_access_token_forged_is_refused(api, two_users, keys, name):
    me, other = two_users
    kid, keyset = keys
    token = _forge(name, me["access"], other["id"], kid, keyset[kid])
    assert token != me["access"]
    r = api.get(ME, token=token)
    assert_problem(r, 401, "invalid_token")
    assert other["email"] not in r.text.lower() and me["email"] not in r.text.lower()


def _self_signed(user, keys, iat, exp):
    kid, keyset = keys
    claims = dict(jwt_decode(user["access"])[1], iat=iat, exp=exp, jti=uuid.uuid4().hex)
    return jwt_sign({"alg": "HS256", "typ": "JWT", "kid": kid}, claims, keyset[kid])


def test_auth_access_token_signed_with_key_file_is_accepted(api, user, keys):
    # The control for the tests around it: our signer makes tokens the server takes.
    now = int(time.time())
    r = api.get(ME, token=_self_signed(user, keys, now, now + ACCESS_TTL))
    assert r.status_code == 200, describe(r)
    assert r.json()["id"] == user["id"]


def test_auth_access_token_expired_within_leeway_is_accepted(api, user, keys):
    now = int(time.time())
    r = api.get(ME, token=_self_signed(user, keys, now - ACCESS_TTL - 10, now - 10))
    assert r.status_code == 200, describe(r)


def test_auth_access_token_expired_is_refused(api, user, keys):
    now = int(time.time())
    r = api.get(ME, token=_self_signed(user, keys, now - ACCESS_TTL - 60, now - 60))
    assert_problem(r, 401, "token_expired")


def test_auth_access_token_missing(api):
    r = api.get(ME)
    assert_problem(r, 401, "missing_token")
    assert r.headers.get("WWW-Authenticate", "").lower().startswith("bearer"), describe(r)


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    "])
def test_auth_access_token_other_scheme_or_empty_is_refused(api, value):
    r = api.get(ME, headers={"Authorization": value})
    assert_problem(r, 401, codes={"missing_token", "invalid_token"})


def test_auth_access_token_garbage_is_refused(api):
    assert_problem(api.get(ME, token="not-a-token"), 401, "invalid_token")


def test_auth_access_token_oversized_is_refused(api, user):
    h, p, s = _parts(user["access"])
    r = api.get(ME, token=h + "." + p + "A" * 4000 + "." + s)
    assert_problem(r, 401, "invalid_token")


# ---------------------------------------------------------------------------------------------
# refresh


def test_auth_refresh_with_body(api, user):
    r = api.post(REFRESH, json={"refreshToken": user["refresh"]})
    doc = assert_token_pair(r, user["id"])
    assert doc["refreshToken"] != user["refresh"]
    assert doc["accessToken"] != user["access"]
    # The new access token belongs to the same session.
    assert jwt_decode(doc["accessToken"])[1]["sid"] == jwt_decode(user["access"])[1]["sid"]
    me = api.get(ME, token=doc["accessToken"])
    assert me.status_code == 200 and me.json()["id"] == user["id"], describe(me)
    # And the new refresh token works in turn.
    assert_token_pair(api.post(REFRESH, json={"refreshToken": doc["refreshToken"]}), user["id"])


def test_auth_refresh_with_cookie(api, user):
    r = api.post(REFRESH, cookie=user["refresh"])
    doc = assert_token_pair(r, user["id"])
    assert doc["refreshToken"] != user["refresh"]
    value, attrs = refresh_cookie(r)
    assert attrs.get("path") == "/api/v1/auth" and "httponly" in attrs, attrs
    assert_token_pair(api.post(REFRESH, cookie=doc["refreshToken"]), user["id"])


def test_auth_refresh_with_cookie_and_charset_json_body(api, user):
    r = api.post(
        REFRESH,
        data=('{"refreshToken":"%s"}' % user["refresh"]).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert_token_pair(r, user["id"])


def _refresh(api, token, **kw):
    return api.post(REFRESH, json={"refreshToken": token}, **kw)


def _wait_past(t0, seconds):
    """Waits until seconds have passed since t0 (monotonic): the windows under test."""
    time.sleep(max(0.0, t0 + seconds + 0.5 - time.monotonic()))


def test_auth_refresh_spent_token_within_grace_gets_the_same_successor(api, user):
    # Two tabs refresh with one token: both get the one successor, never a second chain.
    first = assert_token_pair(_refresh(api, user["refresh"]), user["id"])
    again = assert_token_pair(_refresh(api, user["refresh"]), user["id"])
    assert again["refreshToken"] == first["refreshToken"]
    assert again["accessToken"] != first["accessToken"]
    assert api.get(ME, token=again["accessToken"]).status_code == 200


def test_auth_refresh_within_grace_follows_the_chain_to_its_live_token(api, user):
    t2 = assert_token_pair(_refresh(api, user["refresh"]), user["id"])["refreshToken"]
    t3 = assert_token_pair(_refresh(api, t2), user["id"])["refreshToken"]
    late_tab = assert_token_pair(_refresh(api, user["refresh"]), user["id"])
    assert late_tab["refreshToken"] == t3


def test_auth_refresh_one_live_chain_after_a_replay_in_the_grace(api, user):
    # The reproduction from the review: T1 -> T2, T1 again -> (was T3), then after the grace
    # both kept rotating. Now the replay gets T2, and once T2 is used a late T1 is reuse.
    t2 = assert_token_pair(_refresh(api, user["refresh"]), user["id"])["refreshToken"]
    spent_at = time.monotonic()
    assert assert_token_pair(_refresh(api, user["refresh"]), user["id"])["refreshToken"] == t2
    t3 = assert_token_pair(_refresh(api, t2), user["id"])["refreshToken"]
    _wait_past(spent_at, REFRESH_GRACE)
    assert_problem(_refresh(api, user["refresh"]), 401, "refresh_token_reused")
    assert_problem(_refresh(api, t3), 401, codes=_refresh_codes_after_revoke())


def test_auth_refresh_lost_answer_is_sent_again_after_the_grace(api, user):
    # The 200 of a refresh never reached the client; it retries after the grace: the same
    # successor, and the session lives on (no forced logout).
    t2 = assert_token_pair(_refresh(api, user["refresh"]), user["id"])["refreshToken"]
    spent_at = time.monotonic()
    _wait_past(spent_at, REFRESH_GRACE)
    retried = assert_token_pair(_refresh(api, user["refresh"]), user["id"])
    assert retried["refreshToken"] == t2
    assert_token_pair(_refresh(api, t2), user["id"])


def test_auth_refresh_spent_token_after_the_retry_window_revokes_the_family(api, user):
    r = _refresh(api, user["refresh"])
    rotated_at = time.monotonic()
    newest = assert_token_pair(r, user["id"])["refreshToken"]
    _wait_past(rotated_at, max(REFRESH_GRACE, REFRESH_RETRY))
    assert_problem(_refresh(api, user["refresh"]), 401, "refresh_token_reused")
    assert_problem(_refresh(api, newest), 401, codes=_refresh_codes_after_revoke())
    assert_problem(api.post(REFRESH, cookie=newest), 401, codes=_refresh_codes_after_revoke())
    # The family's access tokens stop too.
    assert_problem(api.get(ME, token=user["access"]), 401, "invalid_token")


def test_auth_refresh_revoking_a_family_spares_other_sessions(api, user):
    other = assert_token_pair(login(api, user["username"], user["password"]), user["id"])
    r = _refresh(api, user["refresh"])
    rotated_at = time.monotonic()
    assert_token_pair(r, user["id"])
    _wait_past(rotated_at, max(REFRESH_GRACE, REFRESH_RETRY))
    assert_problem(_refresh(api, user["refresh"]), 401, "refresh_token_reused")
    assert_token_pair(_refresh(api, other["refreshToken"]), user["id"])
    assert api.get(ME, token=other["accessToken"]).status_code == 200


# Cookie-only sessions: the web app's mode. The refresh token is in the HttpOnly cookie and
# never in a body a script can read.


def _cookie_only_pair(resp, user_id):
    assert resp.status_code == 200, describe(resp)
    doc = resp.json()
    assert set(doc) == {"accessToken", "tokenType", "expiresIn", "user"}, doc
    assert doc["user"]["id"] == user_id
    value, attrs = refresh_cookie(resp)
    assert value and "httponly" in attrs and attrs.get("samesite", "").lower() == "strict", attrs
    return doc, value


@pytest.mark.parametrize("how", ["member", "header"])
def test_auth_cookie_only_session(api, user, how):
    kw = {"member": {}, "header": {"headers": {"X-Stremora-Session": "cookie"}}}[how]
    body = {"login": user["username"], "password": user["password"]}
    if how == "member":
        body["session"] = "cookie"
    doc, cookie = _cookie_only_pair(api.post("/api/v1/auth/login", json=body, **kw), user["id"])
    assert doc["accessToken"] and doc["tokenType"] == "Bearer"
    # A reload: refresh from the cookie alone, again without the token in the body.
    refresh_body = {"session": "cookie"} if how == "member" else None
    r = api.post(REFRESH, cookie=cookie, **({"json": refresh_body} if refresh_body else {}), **kw)
    doc2, cookie2 = _cookie_only_pair(r, user["id"])
    assert cookie2 != cookie
    assert api.get(ME, token=doc2["accessToken"]).status_code == 200
    # Sign-out ends it on the server.
    assert api.post(LOGOUT, cookie=cookie2).status_code == 204
    assert_problem(api.post(REFRESH, cookie=cookie2), 401, codes=_refresh_codes_after_revoke())


def test_auth_session_mode_must_be_known(api, user):
    r = api.post("/api/v1/auth/login",
                 json={"login": user["username"], "password": user["password"], "session": "jar"})
    assert_validation(r, "session", "invalid_format")


def test_auth_body_session_keeps_the_token_in_the_body(api, user):
    r = api.post("/api/v1/auth/login",
                 json={"login": user["username"], "password": user["password"], "session": "body"})
    assert_token_pair(r, user["id"])


# Access tokens of a signed-out session stop at once on this host (and within the cache's
# TTL on others).


def test_auth_logout_stops_the_sessions_access_tokens(api, user):
    other = assert_token_pair(login(api, user["username"], user["password"]), user["id"])
    for _ in range(8):  # every worker has verified (and cached) both tokens
        assert api.get(ME, token=user["access"]).status_code == 200
        assert api.get(ME, token=other["accessToken"]).status_code == 200
    assert api.post(LOGOUT, token=user["access"]).status_code == 204
    for _ in range(8):
        assert_problem(api.get(ME, token=user["access"]), 401, "invalid_token")
        assert api.get(ME, token=other["accessToken"]).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        b64u(os.urandom(32)),
        "A" * 43,
    ],
    ids=["word", "random-256-bit", "all-A"],
)
def test_auth_refresh_unknown_token(api, token):
    assert_problem(api.post(REFRESH, json={"refreshToken": token}), 401, "invalid_refresh_token")
    assert_problem(api.post(REFRESH, cookie=token), 401, "invalid_refresh_token")


def test_auth_refresh_oversized_token(api):
    # Longer than any refresh token (64 characters): in a body, a validation error; a cookie
    # has no field to name, so it is simply not a refresh token.
    token = "x" * 5000
    assert_validation(api.post(REFRESH, json={"refreshToken": token}), "refreshToken", "too_long")
    assert_problem(api.post(REFRESH, cookie=token), 401, "invalid_refresh_token")


def test_auth_refresh_access_token_is_not_a_refresh_token(api, user):
    r = api.post(REFRESH, json={"refreshToken": user["access"]})
    assert_validation(r, "refreshToken", "too_long")
    assert_problem(api.post(REFRESH, cookie=user["access"]), 401, "invalid_refresh_token")


def test_auth_refresh_without_token(api):
    assert_problem(api.post(REFRESH), 401, "missing_token")


def test_auth_refresh_bearer_is_not_enough(api, user):
    assert_problem(api.post(REFRESH, token=user["access"]), 401, "missing_token")


@pytest.mark.parametrize(
    "body,field,code",
    [
        ({"refreshToken": 12}, "refreshToken", "wrong_type"),
        ({"refreshToken": None}, "refreshToken", "null_not_allowed"),
        ({"refreshToken": "x", "sid": "y"}, "sid", "unknown_field"),
    ],
    ids=["number", "null", "unknown"],
)
def test_auth_refresh_invalid_body(api, body, field, code):
    assert_validation(api.post(REFRESH, json=body), field, code)


# ---------------------------------------------------------------------------------------------
# logout


def _assert_cookie_cleared(r):
    c = refresh_cookie(r)
    assert c is not None, f"logout must clear the cookie: {describe(r)}"
    value, attrs = c
    assert attrs.get("max-age") == "0", attrs
    assert attrs.get("path") == "/api/v1/auth", attrs


@pytest.mark.parametrize("how", ["body", "cookie", "bearer"])
def test_auth_logout(api, make_user, how):
    u = make_user()
    other = assert_token_pair(login(api, u["username"], u["password"]), u["id"])
    kw = {
        "body": {"json": {"refreshToken": u["refresh"]}},
        "cookie": {"cookie": u["refresh"]},
        "bearer": {"token": u["access"]},
    }[how]
    r = api.post(LOGOUT, **kw)
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    _assert_cookie_cleared(r)
    # That session is over at once...
    r = api.post(REFRESH, json={"refreshToken": u["refresh"]})
    assert_problem(r, 401, codes=_refresh_codes_after_revoke())
    # ...and the other one is not.
    assert_token_pair(api.post(REFRESH, json={"refreshToken": other["refreshToken"]}), u["id"])


def test_auth_logout_after_refresh_ends_the_rotated_session(api, user):
    pair = assert_token_pair(api.post(REFRESH, json={"refreshToken": user["refresh"]}), user["id"])
    r = api.post(LOGOUT, token=pair["accessToken"])
    assert r.status_code == 204, describe(r)
    r = api.post(REFRESH, json={"refreshToken": pair["refreshToken"]})
    assert_problem(r, 401, codes=_refresh_codes_after_revoke())


def test_auth_logout_without_credentials(api):
    assert_problem(api.post(LOGOUT), 401, "missing_token")


def test_auth_logout_is_idempotent(api, user):
    r = api.post(LOGOUT, json={"refreshToken": user["refresh"]})
    assert r.status_code == 204, describe(r)
    r = api.post(LOGOUT, json={"refreshToken": user["refresh"]})
    assert r.status_code == 204, describe(r)
    _assert_cookie_cleared(r)
    r = api.post(LOGOUT, json={"refreshToken": b64u(os.urandom(32))})
    assert r.status_code == 204, describe(r)


def test_auth_logout_refuses_a_bad_bearer_token(api, user):
    assert_problem(api.post(LOGOUT, token=user["access"] + "x"), 401, "invalid_token")
    # Nothing was revoked.
    assert_token_pair(api.post(REFRESH, json={"refreshToken": user["refresh"]}), user["id"])


# ---------------------------------------------------------------------------------------------
# Passwords imported from an older Stremora: bcrypt, re-hashed as yescrypt on login


def test_auth_login_rehashes_bcrypt_as_yescrypt(api):
    import bcrypt
    import bson
    import pymongo

    ident = new_identity("bc")
    hashed = bcrypt.hashpw(ident["password"].encode(), bcrypt.gensalt(rounds=4)).decode()
    assert hashed.startswith("$2b$")
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    oid = bson.ObjectId()
    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000)
    try:
        users = client[DB_NAME]["users"]
        users.insert_one(
            {
                "_id": oid,
                "username": ident["username"],
                "email": ident["email"],
                "displayName": ident["username"],
                "passwordHash": hashed,
                "role": "user",
                "createdAt": now,
                "updatedAt": now,
            }
        )
        assert_problem(login(api, ident["username"], "not-the-password"), 401, "invalid_credentials")
        assert users.find_one({"_id": oid})["passwordHash"] == hashed, "a failed login re-hashes nothing"

        r = login(api, ident["username"], ident["password"])
        doc = assert_token_pair(r, str(oid))
        assert doc["user"]["username"] == ident["username"]
        stored = users.find_one({"_id": oid})["passwordHash"]
        assert stored.startswith("$y$"), f"stored hash still starts {stored[:4]!r}"

        assert_token_pair(login(api, ident["email"], ident["password"]), str(oid))
        assert_problem(login(api, ident["username"], "not-the-password"), 401, "invalid_credentials")
    finally:
        client.close()
