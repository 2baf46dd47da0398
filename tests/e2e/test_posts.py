"""Community posts: POST /api/v1/posts, GET/PATCH/DELETE /api/v1/posts/{id}, PUT/DELETE
/api/v1/posts/{id}/like and GET /api/v1/channels/{username}/posts. A post's comments go
through the comment code (tests/e2e/test_comments.py runs its tests on posts too).

Posts are public: anyone reads them; the author or an admin changes or deletes one, anyone
else signed in gets 403, an anonymous caller 401. Problem codes are checked against
docs/openapi.yaml with this branch's fragment merged (see test_comments.py).
"""

import concurrent.futures
import re
from urllib.parse import urlencode

import pytest

from conftest import TIME_RE, assert_problem, assert_validation, describe
from test_comments import _openapi_with_fragment  # noqa: F401 (autouse fixture)
from test_comments import CARD_KEYS, UNKNOWN_ID, add, comments_path, listing

POSTS = "/api/v1/posts"
POST_KEYS = {"id", "author", "body", "createdAt", "editedAt", "likeCount", "commentCount", "myLike"}


def assert_post(doc, **expect):
    assert isinstance(doc, dict) and set(doc) == POST_KEYS, f"post object: {doc!r}"
    assert re.fullmatch(r"[0-9a-f]{24}", doc["id"]), doc
    assert re.fullmatch(TIME_RE, doc["createdAt"]), doc
    assert doc["editedAt"] is None or re.fullmatch(TIME_RE, doc["editedAt"]), doc
    assert isinstance(doc["author"], dict) and set(doc["author"]) == CARD_KEYS, doc
    assert type(doc["likeCount"]) is int and type(doc["commentCount"]) is int, doc
    for k, v in expect.items():
        assert doc[k] == v, f"post.{k} is {doc[k]!r}, expected {v!r}"
    return doc


def create(api, who, body="Hello channel"):
    r = api.post(POSTS, json={"body": body}, token=who["access"])
    assert r.status_code == 201, describe(r)
    doc = assert_post(r.json(), body=body, likeCount=0, commentCount=0, myLike=False, editedAt=None)
    assert r.headers["Location"] == f"{POSTS}/{doc['id']}"
    assert doc["author"]["id"] == who["id"] and doc["author"]["username"] == who["username"]
    return doc


def get(api, pid, token=None):
    r = api.get(f"{POSTS}/{pid}", token=token)
    assert r.status_code == 200, describe(r)
    return assert_post(r.json())


def test_posts_create_and_get(api, make_user):
    u, other = make_user(), make_user()
    p = create(api, u, body="Line one\nline two \u00e9\U0001f3ac")
    assert get(api, p["id"]) == dict(p, myLike=None)  # anonymous
    assert get(api, p["id"], other["access"]) == p


@pytest.mark.parametrize(
    "body,field,code",
    [
        ({}, "body", "required"),
        ({"body": ""}, "body", "too_short"),
        ({"body": "  \n "}, "body", "too_short"),
        ({"body": 1}, "body", "wrong_type"),
        ({"body": None}, "body", "null_not_allowed"),
        ({"body": "x" * 5001}, "body", "too_long"),
        ({"body": "\u00e9" * 5001}, "body", "too_long"),
        ({"body": "a\u0007"}, "body", "invalid_format"),
        ({"body": "x", "title": "t"}, "title", "unknown_field"),
    ],
    ids=["missing", "empty", "blank", "number", "null", "5001", "5001-2byte", "control", "unknown"],
)
def test_posts_create_validation(api, make_user, body, field, code):
    u = make_user()
    assert_validation(api.post(POSTS, json=body, token=u["access"]), field, code)
    r = api.get(f"/api/v1/channels/{u['username']}/posts")
    assert r.status_code == 200 and r.json()["items"] == [], describe(r)


def test_posts_create_longest(api, make_user):
    create(api, make_user(), body="\U0001f3ac" * 5000)


def test_posts_create_anonymous(api):
    assert_problem(api.post(POSTS, json={"body": "x"}), 401, "missing_token")


@pytest.mark.parametrize("pid", ["nothex", UNKNOWN_ID])
def test_posts_unknown(api, user, pid):
    tok = user["access"]
    for r in (api.get(f"{POSTS}/{pid}"), api.patch(f"{POSTS}/{pid}", json={"body": "x"}, token=tok),
              api.delete(f"{POSTS}/{pid}", token=tok), api.put(f"{POSTS}/{pid}/like", token=tok),
              api.delete(f"{POSTS}/{pid}/like", token=tok)):
        assert_problem(r, 404, "post_not_found")


# The ownership matrix of every route that changes a post.
MATRIX = {
    "update": {"author": 200, "other": 403, "admin": 200, "anonymous": 401},
    "delete": {"author": 204, "other": 403, "admin": 204, "anonymous": 401},
    "like_put": {"author": 200, "other": 200, "admin": 200, "anonymous": 401},
    "like_delete": {"author": 204, "other": 204, "admin": 204, "anonymous": 401},
}


@pytest.mark.parametrize("op", list(MATRIX))
@pytest.mark.parametrize("actor", ["author", "other", "admin", "anonymous"])
def test_posts_matrix(api, make_user, admin, op, actor):
    author = make_user()
    people = {"author": author, "other": make_user(), "admin": admin, "anonymous": None}
    p = create(api, author)
    who = people[actor]
    tok = who["access"] if who else None
    path = f"{POSTS}/{p['id']}"
    r = {
        "update": lambda: api.patch(path, json={"body": "Changed"}, token=tok),
        "delete": lambda: api.delete(path, token=tok),
        "like_put": lambda: api.put(path + "/like", token=tok),
        "like_delete": lambda: api.delete(path + "/like", token=tok),
    }[op]()
    want = MATRIX[op][actor]
    if want in (401, 403):
        assert_problem(r, want, "missing_token" if want == 401 else "forbidden")
        assert get(api, p["id"], author["access"]) == p  # nothing changed
        return
    assert r.status_code == want, describe(r)
    if op == "update":
        doc = assert_post(r.json(), body="Changed", id=p["id"])
        assert doc["editedAt"] is not None and doc["author"]["id"] == author["id"]
        assert get(api, p["id"])["body"] == "Changed"
    elif op == "delete":
        assert_problem(api.get(path), 404, "post_not_found")
        assert_problem(api.get(comments_path("post", p["id"])), 404, "post_not_found")
    elif op == "like_put":
        assert r.json() == {"liked": True, "likeCount": 1}
        assert get(api, p["id"], tok)["myLike"] is True


def test_posts_update_validation(api, make_user):
    u = make_user()
    p = create(api, u)
    for body, field, code in (({}, "body", "required"), ({"body": ""}, "body", "too_short"),
                              ({"body": "\u00e9" * 5001}, "body", "too_long"),
                              ({"body": "x", "extra": True}, "extra", "unknown_field")):
        assert_validation(api.patch(f"{POSTS}/{p['id']}", json=body, token=u["access"]), field, code)
    assert get(api, p["id"]) == dict(p, myLike=None)


def test_posts_likes_exact(api, make_user):
    author, a, b = make_user(), make_user(), make_user()
    p = create(api, author)
    path = f"{POSTS}/{p['id']}/like"
    for who, want in ((a, 1), (a, 1), (b, 2)):
        r = api.put(path, token=who["access"])
        assert r.status_code == 200 and r.json() == {"liked": True, "likeCount": want}, describe(r)
    assert get(api, p["id"], a["access"])["myLike"] is True
    assert get(api, p["id"], author["access"])["myLike"] is False
    for who, want in ((a, 1), (a, 1), (b, 0)):
        assert api.delete(path, token=who["access"]).status_code == 204
        assert get(api, p["id"])["likeCount"] == want
    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        rs = list(pool.map(lambda _: api.put(path, token=a["access"]), range(50)))
    assert all(r.status_code == 200 for r in rs), [describe(r) for r in rs if r.status_code != 200]
    assert get(api, p["id"])["likeCount"] == 1


def test_posts_comment_count(api, make_user):
    author, other = make_user(), make_user()
    p = create(api, author)
    top = add(api, other, "post", p["id"])
    rep = add(api, author, "post", p["id"], parent=top["id"])
    assert get(api, p["id"])["commentCount"] == 2
    assert api.delete(f"/api/v1/comments/{rep['id']}", token=author["access"]).status_code == 204
    assert get(api, p["id"])["commentCount"] == 1
    assert listing(api, comments_path("post", p["id"]))["items"][0]["replyCount"] == 0


def test_posts_channel_list_pages(api, make_user):
    u, other = make_user(), make_user()
    made = [create(api, u, body=f"p{i}") for i in range(11)]
    create(api, other)
    items, cursor, pages = [], None, 0
    while True:
        q = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        r = api.get(f"/api/v1/channels/{u['username']}/posts?{urlencode(q)}")
        assert r.status_code == 200, describe(r)
        doc = r.json()
        assert set(doc) == {"items", "nextCursor"}
        items += [assert_post(x) for x in doc["items"]]
        pages += 1
        cursor = doc["nextCursor"]
        if cursor is None:
            break
    ids = [x["id"] for x in items]
    assert pages == 3 and len(set(ids)) == 11
    assert ids == [p["id"] for p in sorted(made, key=lambda p: (p["createdAt"], p["id"]), reverse=True)]
    assert all(x["author"]["id"] == u["id"] and x["myLike"] is None for x in items)


@pytest.mark.parametrize("name", ["nobody-here-at-all", "x", "a@b.test"])
def test_posts_channel_unknown(api, name):
    assert_problem(api.get(f"/api/v1/channels/{name}/posts"), 404, "channel_not_found")


@pytest.mark.parametrize("query,code", [({"limit": "0"}, "invalid_query"), ({"limit": "x"}, "invalid_query"),
                                        ({"cursor": "!!"}, "invalid_cursor")])
def test_posts_channel_bad_query(api, user, query, code):
    assert_problem(api.get(f"/api/v1/channels/{user['username']}/posts?{urlencode(query)}"), 400, code)
