"""GET/PATCH /api/v1/users/me and POST /api/v1/users/me/password (users_get_me,
users_update_me, users_password_me), and the admin that stremoractl create-admin makes."""

import os
import subprocess
import uuid

import pytest

from conftest import (
    CTL,
    MONGODB_URI,
    assert_problem,
    assert_token_pair,
    assert_user,
    assert_validation,
    describe,
    jwt_decode,
    login,
    media_type,
    new_identity,
)

ME = "/api/v1/users/me"
PASSWORD = "/api/v1/users/me/password"
REFRESH = "/api/v1/auth/refresh"
REVOKED = {"invalid_refresh_token", "refresh_token_reused"}


# ---------------------------------------------------------------------------------------------
# GET /api/v1/users/me


def test_users_get_me(api, user):
    r = api.get(ME, token=user["access"])
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "application/json", describe(r)
    assert_user(r.json(), id=user["id"], username=user["username"], email=user["email"], role="user")
    assert r.json() == user["user"]
    assert r.headers.get("ETag"), describe(r)


def test_users_get_me_if_none_match_answers_304(api, user):
    r = api.get(ME, token=user["access"])
    etag = r.headers.get("ETag")
    assert r.status_code == 200 and etag, describe(r)
    r = api.get(ME, token=user["access"], headers={"If-None-Match": etag})
    assert r.status_code == 304, describe(r)
    assert r.content == b""


def test_users_get_me_if_none_match_stale_etag_answers_200(api, user):
    r = api.get(ME, token=user["access"], headers={"If-None-Match": '"not-the-etag"'})
    assert r.status_code == 200, describe(r)
    assert r.json()["id"] == user["id"]


def test_users_get_me_etag_of_another_user_answers_200(api, make_user):
    a, b = make_user(), make_user()
    etag = api.get(ME, token=a["access"]).headers.get("ETag")
    assert etag
    r = api.get(ME, token=b["access"], headers={"If-None-Match": etag})
    assert r.status_code == 200, describe(r)
    assert r.json()["id"] == b["id"]


def test_users_get_me_needs_a_token(api):
    assert_problem(api.get(ME), 401, "missing_token")


# ---------------------------------------------------------------------------------------------
# PATCH /api/v1/users/me


def test_users_update_me_display_name_reaches_every_worker(api, user):
    # Warm every worker's cache with the old value first.
    for _ in range(20):
        r = api.get(ME, token=user["access"])
        assert r.status_code == 200 and r.json()["displayName"] == user["username"], describe(r)
    old_etag = r.headers.get("ETag")
    new_name = "Renamed " + uuid.uuid4().hex[:8]
    r = api.patch(ME, token=user["access"], json={"displayName": new_name})
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "application/json", describe(r)
    assert_user(r.json(), id=user["id"], displayName=new_name, email=user["email"])
    seen = [api.get(ME, token=user["access"]) for _ in range(20)]
    stale = [s.json().get("displayName") for s in seen if s.json().get("displayName") != new_name]
    assert not stale, f"{len(stale)} of 20 GETs after the PATCH were stale: {stale[:3]}"
    # The old ETag no longer matches.
    r = api.get(ME, token=user["access"], headers={"If-None-Match": old_etag})
    assert r.status_code == 200 and r.json()["displayName"] == new_name, describe(r)
    assert r.headers.get("ETag") != old_etag


def test_users_update_me_email(api, user):
    new_email = f"new{uuid.uuid4().hex[:12]}@Example.Test"
    r = api.patch(ME, token=user["access"],
                  json={"email": new_email, "currentPassword": user["password"]})
    assert r.status_code == 200, describe(r)
    assert r.json()["email"] == new_email.lower()
    for _ in range(10):
        r = api.get(ME, token=user["access"])
        assert r.json()["email"] == new_email.lower(), describe(r)
    assert_token_pair(login(api, new_email.lower(), user["password"]), user["id"])
    assert_problem(login(api, user["email"], user["password"]), 401, "invalid_credentials")


def test_users_update_me_both_fields(api, user):
    new_email = f"both{uuid.uuid4().hex[:12]}@example.test"
    r = api.patch(ME, token=user["access"],
                  json={"email": new_email, "displayName": "Both", "currentPassword": user["password"]})
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), email=new_email, displayName="Both", username=user["username"])


def test_users_update_me_own_email_again_is_not_taken(api, user):
    r = api.patch(ME, token=user["access"], json={"email": user["email"].upper()})
    assert r.status_code == 200, describe(r)
    assert r.json()["email"] == user["email"]


def test_users_update_me_email_needs_the_current_password(api, user):
    new_email = f"steal{uuid.uuid4().hex[:12]}@example.test"
    r = api.patch(ME, token=user["access"], json={"email": new_email})
    assert_problem(r, 422, "current_password_required")
    r = api.patch(ME, token=user["access"], json={"email": new_email, "currentPassword": "nope-nope"})
    assert_problem(r, 403, "wrong_password")
    assert api.get(ME, token=user["access"]).json()["email"] == user["email"]
    # The display name alone needs no password.
    r = api.patch(ME, token=user["access"], json={"displayName": "Just a name"})
    assert r.status_code == 200, describe(r)


def test_users_wrong_current_passwords_are_limited(api, user):
    # 5 wrong current passwords in 15 minutes: then 429 with Retry-After, even for the right
    # one, on the password change and the email change alike (one count per account).
    bad = {"currentPassword": "wrong-" + uuid.uuid4().hex, "newPassword": "new-" + uuid.uuid4().hex}
    for _ in range(5):
        assert_problem(api.post(PASSWORD, token=user["access"], json=bad), 403, "wrong_password")
    good = {"currentPassword": user["password"], "newPassword": "new-" + uuid.uuid4().hex}
    r = api.post(PASSWORD, token=user["access"], json=good)
    body = assert_problem(r, 429, "too_many_attempts")
    assert 0 < int(r.headers["Retry-After"]) <= 900, r.headers
    r = api.patch(ME, token=user["access"],
                  json={"email": f"x{uuid.uuid4().hex[:8]}@example.test", "currentPassword": user["password"]})
    assert_problem(r, 429, "too_many_attempts")
    assert body["detail"]
    # The password did not change.
    assert_token_pair(login(api, user["username"], user["password"]), user["id"])


def test_users_a_right_password_forgets_earlier_wrong_ones(api, user):
    bad = {"currentPassword": "wrong-" + uuid.uuid4().hex, "newPassword": "new-" + uuid.uuid4().hex}
    for _ in range(4):
        assert_problem(api.post(PASSWORD, token=user["access"], json=bad), 403, "wrong_password")
    new = "new-" + uuid.uuid4().hex
    r = api.post(PASSWORD, token=user["access"], json={"currentPassword": user["password"], "newPassword": new})
    assert r.status_code == 204, describe(r)
    for _ in range(4):
        assert_problem(api.post(PASSWORD, token=user["access"], json=bad), 403, "wrong_password")


@pytest.mark.parametrize("weak", ["12345678", "password", " " * 8, "qwertyuiop", "monkey123", "sunshine"])
def test_users_password_me_refuses_a_common_password(api, user, weak):
    r = api.post(PASSWORD, token=user["access"], json={"currentPassword": user["password"], "newPassword": weak})
    assert_problem(r, 422, "password_too_common")
    assert_token_pair(login(api, user["username"], user["password"]), user["id"])


def test_users_update_me_email_taken(api, make_user):
    a, b = make_user(), make_user()
    r = api.patch(ME, token=a["access"],
                  json={"email": b["email"].upper(), "currentPassword": a["password"]})
    assert_problem(r, 409, "email_taken")
    r = api.get(ME, token=a["access"])
    assert r.json()["email"] == a["email"], describe(r)


@pytest.mark.parametrize(
    "body,field,code",
    [
        ({"email": "not-an-email"}, "email", "invalid_format"),
        ({"email": "someone@localhost"}, "email", "invalid_format"),
        ({"email": 5}, "email", "wrong_type"),
        ({"email": None}, "email", "null_not_allowed"),
        ({"displayName": "x" * 65}, "displayName", "too_long"),
        ({"displayName": 5}, "displayName", "wrong_type"),
        ({"displayName": None}, "displayName", "null_not_allowed"),
        ({"role": "admin"}, "role", "unknown_field"),
        ({"username": "newname"}, "username", "unknown_field"),
        ({"password": "whatever123"}, "password", "unknown_field"),
        ({"id": "0" * 24}, "id", "unknown_field"),
    ],
    ids=[
        "email-format",
        "email-no-dot",
        "email-number",
        "email-null",
        "display-name-65",
        "display-name-number",
        "display-name-null",
        "role",
        "username",
        "password",
        "id",
    ],
)
def test_users_update_me_invalid(api, user, body, field, code):
    assert_validation(api.patch(ME, token=user["access"], json=body), field, code)
    # Nothing changed, and the role in particular did not.
    r = api.get(ME, token=user["access"])
    assert r.json() == user["user"], describe(r)


def test_users_update_me_valid_field_beside_invalid_changes_nothing(api, user):
    r = api.patch(ME, token=user["access"], json={"displayName": "Changed", "role": "admin"})
    assert_validation(r, "role", "unknown_field")
    assert api.get(ME, token=user["access"]).json()["displayName"] == user["username"]


def test_users_update_me_needs_a_token(api):
    assert_problem(api.patch(ME, json={"displayName": "x"}), 401, "missing_token")


def test_users_update_me_refuses_a_bad_token(api, user):
    assert_problem(api.patch(ME, token=user["access"] + "x", json={"displayName": "x"}), 401, "invalid_token")


# ---------------------------------------------------------------------------------------------
# POST /api/v1/users/me/password


def test_users_password_me_changes_and_revokes_other_sessions(api, user):
    other = assert_token_pair(login(api, user["username"], user["password"]), user["id"])
    new = "new-" + uuid.uuid4().hex[:16]
    r = api.post(PASSWORD, token=user["access"], json={"currentPassword": user["password"], "newPassword": new})
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    assert_problem(login(api, user["username"], user["password"]), 401, "invalid_credentials")
    assert_token_pair(login(api, user["username"], new), user["id"])
    # The other session's refresh token is dead...
    assert_problem(api.post(REFRESH, json={"refreshToken": other["refreshToken"]}), 401, codes=REVOKED)
    # ...and so are its access tokens, at once...
    assert_problem(api.get(ME, token=other["accessToken"]), 401, "invalid_token")
    # ...while the session that made the change goes on.
    me = api.get(ME, token=user["access"])
    assert me.status_code == 200, describe(me)
    pair = assert_token_pair(api.post(REFRESH, json={"refreshToken": user["refresh"]}), user["id"])
    assert jwt_decode(pair["accessToken"])[1]["sid"] == jwt_decode(user["access"])[1]["sid"]


def test_users_password_me_wrong_current(api, user):
    other = assert_token_pair(login(api, user["username"], user["password"]), user["id"])
    body = {"currentPassword": user["password"] + "x", "newPassword": "new-" + uuid.uuid4().hex}
    assert_problem(api.post(PASSWORD, token=user["access"], json=body), 403, "wrong_password")
    # Nothing changed: the password still works, other sessions live on.
    assert_token_pair(login(api, user["username"], user["password"]), user["id"])
    assert_token_pair(api.post(REFRESH, json={"refreshToken": other["refreshToken"]}), user["id"])


@pytest.mark.parametrize(
    "change,field,code",
    [
        ({"newPassword": "1234567"}, "newPassword", "too_short"),
        ({"newPassword": "é" * 7}, "newPassword", "too_short"),
        ({"newPassword": "x" * 129}, "newPassword", "too_long"),
        ({"newPassword": 12345678}, "newPassword", "wrong_type"),
        ({"newPassword": ...}, "newPassword", "required"),
        ({"currentPassword": ...}, "currentPassword", "required"),
        ({"currentPassword": None}, "currentPassword", "null_not_allowed"),
        ({"logoutOthers": False}, "logoutOthers", "unknown_field"),
    ],
    ids=["new-7", "new-7-two-byte", "new-129", "new-number", "no-new", "no-current", "current-null", "unknown"],
)
def test_users_password_me_invalid(api, user, change, field, code):
    body = {"currentPassword": user["password"], "newPassword": "new-" + uuid.uuid4().hex}
    for k, v in change.items():
        if v is ...:
            del body[k]
        else:
            body[k] = v
    assert_validation(api.post(PASSWORD, token=user["access"], json=body), field, code)
    assert_token_pair(login(api, user["username"], user["password"]), user["id"])


def test_users_password_me_needs_a_token(api, user):
    body = {"currentPassword": user["password"], "newPassword": "new-" + uuid.uuid4().hex}
    assert_problem(api.post(PASSWORD, json=body), 401, "missing_token")
    assert_token_pair(login(api, user["username"], user["password"]), user["id"])


# ---------------------------------------------------------------------------------------------
# stremoractl create-admin


def test_users_get_me_shows_admin_made_by_ctl(api):
    ident = new_identity("adm")
    env = dict(os.environ, MONGODB_URI=MONGODB_URI)
    p = subprocess.run(
        [str(CTL), "create-admin", "--username", ident["username"], "--email", ident["email"]],
        input=ident["password"],  # no newline: a reader of one line and a reader of all agree
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, f"create-admin exited {p.returncode}: {p.stderr[-2000:]}"
    assert ident["password"] not in p.stdout + p.stderr, "create-admin echoed the password"
    doc = assert_token_pair(login(api, ident["username"], ident["password"]))
    assert doc["user"]["role"] == "admin"
    assert jwt_decode(doc["accessToken"])[1]["role"] == "admin"
    r = api.get(ME, token=doc["accessToken"])
    assert r.status_code == 200, describe(r)
    assert_user(r.json(), username=ident["username"], email=ident["email"], role="admin")


# ---------------------------------------------------------------------------------------------
# DELETE /api/v1/users/me/sessions


def test_users_sessions_delete_signs_out_every_other_session(api, user, make_user):
    others = [assert_token_pair(login(api, user["username"], user["password"]), user["id"])
              for _ in range(2)]
    stranger = make_user()
    r = api.delete("/api/v1/users/me/sessions", token=user["access"])
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    for other in others:
        # Their refresh tokens are dead, and their access tokens at once too...
        assert_problem(api.post(REFRESH, json={"refreshToken": other["refreshToken"]}), 401, codes=REVOKED)
        assert_problem(api.get(ME, token=other["accessToken"]), 401, "invalid_token")
    # ...while the caller's session goes on, and nobody else's is touched.
    assert api.get(ME, token=user["access"]).status_code == 200
    pair = assert_token_pair(api.post(REFRESH, json={"refreshToken": user["refresh"]}), user["id"])
    assert jwt_decode(pair["accessToken"])[1]["sid"] == jwt_decode(user["access"])[1]["sid"]
    assert api.get(ME, token=stranger["access"]).status_code == 200
    assert_token_pair(api.post(REFRESH, json={"refreshToken": stranger["refresh"]}), stranger["id"])
    # The password still works: only sessions ended.
    assert_token_pair(login(api, user["username"], user["password"]), user["id"])
