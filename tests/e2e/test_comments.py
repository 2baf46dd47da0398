"""Comments on videos and on posts (one code path): POST/GET /api/v1/videos/{id}/comments,
POST/GET /api/v1/posts/{id}/comments, GET /api/v1/comments/{id}/replies, PATCH/DELETE
/api/v1/comments/{id}, PUT/DELETE /api/v1/comments/{id}/like.

Rules under test: one level of replies (a reply to a reply is 422 naming parentId); whoever
cannot see a video cannot read or write its comments (404); the author alone edits; the
author, the video's owner (the post's author) or an admin deletes; a deleted comment with
replies keeps the thread's shape; counters (replyCount, commentCount with replies, likeCount)
are exact, also under 50 parallel likes; pages are complete, ordered and without duplicates;
and the list queries read through an index on the local server (plan checks at the end).

Until the lead merges /work/wt/comments-openapi.yaml into docs/openapi.yaml, the problem codes
of these routes are checked against that fragment (merged over docs/openapi.yaml here).
"""

import concurrent.futures
import copy
import datetime
import functools
import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from bson import ObjectId

import conftest
from conftest import (
    REPO,
    TIME_RE,
    VIDEOS,
    assert_index_search,
    assert_problem,
    assert_validation,
    clip,
    describe,
    media_type,
    upload,
    video_parts,
)

COMMENT_KEYS = {"id", "videoId", "postId", "parentId", "author", "body", "deleted", "createdAt",
                "editedAt", "likeCount", "replyCount", "myLike"}
CARD_KEYS = {"id", "username", "displayName", "avatarUrl", "avatarSmallUrl"}
UNKNOWN_ID = "0123456789abcdef01234567"
FRAGMENT = Path(os.environ.get("STREMORA_OPENAPI_FRAGMENT", REPO.parent / "comments-openapi.yaml"))
_docs_spec = conftest.openapi_spec


@functools.lru_cache(maxsize=1)
def _merged_spec():
    spec = copy.deepcopy(_docs_spec())
    if FRAGMENT.exists():
        frag = yaml.safe_load(FRAGMENT.read_text())
        for path, item in frag.get("paths", {}).items():
            spec["paths"].setdefault(path, item)
        for section, entries in frag.get("components", {}).items():
            for name, val in entries.items():
                spec["components"].setdefault(section, {}).setdefault(name, val)
        enum = spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        enum += [c for c in frag.get("x-problem-codes", []) if c not in enum]
    return spec


@pytest.fixture(autouse=True)
def _openapi_with_fragment(monkeypatch):
    monkeypatch.setattr(conftest, "openapi_spec", _merged_spec)


# ---------------------------------------------------------------------------------------------
# helpers


def assert_card(card, user=None):
    assert isinstance(card, dict) and set(card) == CARD_KEYS, card
    if user is not None:
        assert card["id"] == user["id"] and card["username"] == user["username"], card


def assert_comment(doc, **expect):
    assert isinstance(doc, dict) and set(doc) == COMMENT_KEYS, f"comment object: {doc!r}"
    import re

    assert re.fullmatch(r"[0-9a-f]{24}", doc["id"]), doc
    assert re.fullmatch(TIME_RE, doc["createdAt"]), doc
    assert doc["editedAt"] is None or re.fullmatch(TIME_RE, doc["editedAt"]), doc
    assert (doc["videoId"] is None) != (doc["postId"] is None), doc
    assert type(doc["likeCount"]) is int and type(doc["replyCount"]) is int, doc
    if doc["deleted"]:
        assert doc["body"] is None and doc["author"] is None, doc
    else:
        assert isinstance(doc["body"], str), doc
        assert_card(doc["author"])
    for k, v in expect.items():
        assert doc[k] == v, f"comment.{k} is {doc[k]!r}, expected {v!r}"
    return doc


def target_path(kind, tid):
    return f"/api/v1/{kind}s/{tid}"


def comments_path(kind, tid, **query):
    return f"{target_path(kind, tid)}/comments" + ("?" + urlencode(query) if query else "")


def one(cid, rest=""):
    return f"/api/v1/comments/{cid}{rest}"


def add(api, who, kind, tid, body="Nice one", parent=None):
    doc = {"body": body}
    if parent is not None:
        doc["parentId"] = parent
    r = api.post(comments_path(kind, tid), json=doc, token=who["access"])
    assert r.status_code == 201, describe(r)
    assert media_type(r) == "application/json", describe(r)
    return assert_comment(r.json(), body=body, parentId=parent, deleted=False)


def listing(api, path, token=None):
    r = api.get(path, token=token)
    assert r.status_code == 200, describe(r)
    doc = r.json()
    assert set(doc) == {"items", "nextCursor"}, doc
    for c in doc["items"]:
        assert_comment(c)
    return doc


def walk(api, path, token=None, limit=7, **query):
    """Every page of a list; returns (items, number of pages)."""
    items, cursor, pages = [], None, 0
    while True:
        q = dict(query, limit=limit)
        if cursor:
            q["cursor"] = cursor
        doc = listing(api, f"{path}?{urlencode(q)}", token)
        pages += 1
        assert len(doc["items"]) <= limit
        items += doc["items"]
        cursor = doc["nextCursor"]
        if cursor is None:
            return items, pages
        assert pages < 100


def count_of(api, kind, tid, token):
    r = api.get(target_path(kind, tid), token=token)
    assert r.status_code == 200, describe(r)
    return r.json()["commentCount"]


def make_post(api, who, body="A post"):
    r = api.post("/api/v1/posts", json={"body": body}, token=who["access"])
    assert r.status_code == 201, describe(r)
    return r.json()


@pytest.fixture
def make_video(api, clips):
    """make_video(owner, **fields): a fresh upload of a small clip; the answer's JSON. (The
    conftest fixture checks the Video's members against a list that predates the community
    counters; this one checks only what these tests need.)"""

    def make(owner, **fields):
        r = upload(api, owner["access"], video_parts(clip(clips, "mp4"), **fields))
        assert r.status_code == 201, describe(r)
        return r.json()

    return make


@pytest.fixture
def target(request, api, make_user, make_video):
    """make(owner, **video fields) -> id of a fresh video or post (per the kind parameter)."""
    kind = request.param

    def make(owner, **fields):
        if kind == "video":
            return make_video(owner, **fields)["id"]
        return make_post(api, owner)["id"]

    make.kind = kind
    return make


KINDS = pytest.mark.parametrize("target", ["video", "post"], indirect=True)


# ---------------------------------------------------------------------------------------------
# success paths


@KINDS
def test_comments_create_list_and_count(api, make_user, target):
    owner, author = make_user(), make_user()
    tid = target(owner)
    c = add(api, author, target.kind, tid, body="First! \u00e9\U0001f3ac\nsecond line")
    assert c[f"{target.kind}Id"] == tid and c["likeCount"] == 0 and c["replyCount"] == 0
    assert_card(c["author"], author)
    assert c["myLike"] is False and c["editedAt"] is None
    doc = listing(api, comments_path(target.kind, tid))  # anonymous
    assert [x["id"] for x in doc["items"]] == [c["id"]] and doc["nextCursor"] is None
    assert doc["items"][0]["myLike"] is None
    assert count_of(api, target.kind, tid, owner["access"]) == 1


@KINDS
def test_comments_reply_counts_and_replies_oldest_first(api, make_user, target):
    owner, a, b = make_user(), make_user(), make_user()
    tid = target(owner)
    top = add(api, a, target.kind, tid)
    r1 = add(api, b, target.kind, tid, body="reply 1", parent=top["id"])
    r2 = add(api, a, target.kind, tid, body="reply 2", parent=top["id"])
    doc = listing(api, comments_path(target.kind, tid))
    assert [x["id"] for x in doc["items"]] == [top["id"]]  # replies are not top-level
    assert doc["items"][0]["replyCount"] == 2
    reps = listing(api, one(top["id"], "/replies"))
    assert [x["id"] for x in reps["items"]] == [r1["id"], r2["id"]]
    assert all(x["parentId"] == top["id"] for x in reps["items"])
    assert listing(api, one(r1["id"], "/replies"))["items"] == []  # a reply has none
    assert count_of(api, target.kind, tid, owner["access"]) == 3  # replies count too


def test_comments_parent_null_is_top_level(api, make_user, make_video):
    u = make_user()
    vid = make_video(u)["id"]
    r = api.post(comments_path("video", vid), json={"body": "x", "parentId": None}, token=u["access"])
    assert r.status_code == 201, describe(r)
    assert r.json()["parentId"] is None


@KINDS
def test_comments_update_sets_edited_at(api, make_user, target):
    u = make_user()
    tid = target(u)
    c = add(api, u, target.kind, tid)
    r = api.patch(one(c["id"]), json={"body": "Edited"}, token=u["access"])
    assert r.status_code == 200, describe(r)
    doc = assert_comment(r.json(), body="Edited", id=c["id"])
    assert doc["editedAt"] is not None and doc["editedAt"] >= doc["createdAt"]
    assert listing(api, comments_path(target.kind, tid))["items"][0]["body"] == "Edited"


# ---------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize(
    "body,field,code",
    [
        ({}, "body", "required"),
        ({"body": ""}, "body", "too_short"),
        ({"body": " \n\t "}, "body", "too_short"),
        ({"body": 5}, "body", "wrong_type"),
        ({"body": None}, "body", "null_not_allowed"),
        ({"body": "x" * 10001}, "body", "too_long"),
        ({"body": "\u00e9" * 10001}, "body", "too_long"),
        ({"body": "\U0001f3ac" * 10001}, "body", "too_long"),
        ({"body": "a\u0001b"}, "body", "invalid_format"),
        ({"body": "x", "extra": 1}, "extra", "unknown_field"),
        ({"body": "x", "parentId": "nothex"}, "parentId", "invalid_format"),
        ({"body": "x", "parentId": 5}, "parentId", "wrong_type"),
        ({"body": "x", "parentId": UNKNOWN_ID}, "parentId", "invalid_format"),
    ],
    ids=["missing", "empty", "blank", "number", "null", "10001", "10001-2byte", "10001-4byte",
         "control", "unknown", "parent-nothex", "parent-number", "parent-unknown"],
)
def test_comments_create_validation(api, make_user, make_video, body, field, code):
    u = make_user()
    vid = make_video(u)["id"]
    r = api.post(comments_path("video", vid), json=body, token=u["access"])
    assert_validation(r, field, code)
    assert listing(api, comments_path("video", vid))["items"] == []


@pytest.mark.parametrize("body", ["x" * 10000, "\u00e9" * 10000, "\U0001f3ac" * 10000])
def test_comments_create_longest(api, make_user, make_video, body):
    u = make_user()
    vid = make_video(u)["id"]
    add(api, u, "video", vid, body=body)


def test_comments_create_reply_to_reply_refused(api, make_user, make_video):
    u = make_user()
    vid = make_video(u)["id"]
    top = add(api, u, "video", vid)
    rep = add(api, u, "video", vid, parent=top["id"])
    r = api.post(comments_path("video", vid), json={"body": "x", "parentId": rep["id"]},
                 token=u["access"])
    assert_validation(r, "parentId", "invalid_format")
    assert listing(api, one(top["id"], "/replies"), u["access"])["items"] == [rep]  # nothing added
    assert count_of(api, "video", vid, u["access"]) == 2


def test_comments_create_parent_of_another_target_refused(api, make_user, make_video):
    u = make_user()
    v1, v2 = make_video(u)["id"], make_video(u)["id"]
    top = add(api, u, "video", v1)
    post = make_post(api, u)["id"]
    for kind, tid in (("video", v2), ("post", post)):
        r = api.post(comments_path(kind, tid), json={"body": "x", "parentId": top["id"]},
                     token=u["access"])
        assert_validation(r, "parentId", "invalid_format")
    assert count_of(api, "video", v2, u["access"]) == 0


def test_comments_update_validation(api, make_user, make_video):
    u = make_user()
    c = add(api, u, "video", make_video(u)["id"])
    for body, field, code in (({}, "body", "required"), ({"body": ""}, "body", "too_short"),
                              ({"body": "\u00e9" * 10001}, "body", "too_long"),
                              ({"body": ["x"]}, "body", "wrong_type"),
                              ({"body": "x", "parentId": None}, "parentId", "unknown_field")):
        assert_validation(api.patch(one(c["id"]), json=body, token=u["access"]), field, code)


@pytest.mark.parametrize("query,code", [({"limit": "0"}, "invalid_query"),
                                        ({"limit": "101"}, "invalid_query"),
                                        ({"sort": "oldest"}, "invalid_query"),
                                        ({"cursor": "nope"}, "invalid_cursor")])
def test_comments_list_bad_query(api, make_user, make_video, query, code):
    u = make_user()
    vid = make_video(u)["id"]
    assert_problem(api.get(comments_path("video", vid, **query)), 400, code)


@pytest.mark.parametrize("path", [comments_path("video", "nothex"), comments_path("video", UNKNOWN_ID)])
def test_comments_unknown_video(api, user, path):
    assert_problem(api.get(path), 404, "video_not_found")
    assert_problem(api.post(path, json={"body": "x"}, token=user["access"]), 404, "video_not_found")


def test_comments_unknown_post(api, user):
    path = comments_path("post", UNKNOWN_ID)
    assert_problem(api.get(path), 404, "post_not_found")
    assert_problem(api.post(path, json={"body": "x"}, token=user["access"]), 404, "post_not_found")


@pytest.mark.parametrize("cid", ["nothex", UNKNOWN_ID])
def test_comments_unknown_comment(api, user, cid):
    tok = user["access"]
    for r in (api.get(one(cid, "/replies")), api.patch(one(cid), json={"body": "x"}, token=tok),
              api.delete(one(cid), token=tok), api.put(one(cid, "/like"), token=tok),
              api.delete(one(cid, "/like"), token=tok)):
        assert_problem(r, 404, "comment_not_found")


def test_comments_disabled(api, make_user, make_video):
    owner, other = make_user(), make_user()
    vid = make_video(owner)["id"]
    top = add(api, other, "video", vid)
    r = api.patch(f"{VIDEOS}/{vid}", json={"commentsEnabled": False}, token=owner["access"])
    assert r.status_code == 200, describe(r)
    for who in (other, owner):
        for body in ({"body": "x"}, {"body": "x", "parentId": top["id"]}):
            r = api.post(comments_path("video", vid), json=body, token=who["access"])
            assert_problem(r, 403, "comments_disabled")
    assert [c["id"] for c in listing(api, comments_path("video", vid))["items"]] == [top["id"]]
    assert count_of(api, "video", vid, owner["access"]) == 1


# ---------------------------------------------------------------------------------------------
# who may do what: the ownership matrix


def _actors(make_user, admin, target):
    owner, author, other = make_user(), make_user(), make_user()
    tid = target(owner)
    return {"owner": owner, "author": author, "other": other, "admin": admin, "anonymous": None}, tid


# Each route that changes something, and who gets what. "owner" is the video's owner or the
# post's author.
MATRIX = {
    "create": {"author": 201, "other": 201, "owner": 201, "admin": 201, "anonymous": 401},
    "update": {"author": 200, "other": 403, "owner": 403, "admin": 403, "anonymous": 401},
    "delete": {"author": 204, "other": 403, "owner": 204, "admin": 204, "anonymous": 401},
    "like_put": {"author": 200, "other": 200, "owner": 200, "admin": 200, "anonymous": 401},
    "like_delete": {"author": 204, "other": 204, "owner": 204, "admin": 204, "anonymous": 401},
}


def _call(api, op, who, kind, tid, cid):
    tok = who["access"] if who else None
    if op == "create":
        return api.post(comments_path(kind, tid), json={"body": "hi", "parentId": cid}, token=tok)
    if op == "update":
        return api.patch(one(cid), json={"body": "changed"}, token=tok)
    if op == "delete":
        return api.delete(one(cid), token=tok)
    if op == "like_put":
        return api.put(one(cid, "/like"), token=tok)
    return api.delete(one(cid, "/like"), token=tok)


@KINDS
@pytest.mark.parametrize("op", list(MATRIX))
@pytest.mark.parametrize("actor", ["author", "other", "owner", "admin", "anonymous"])
def test_comments_matrix(api, make_user, admin, target, op, actor):
    people, tid = _actors(make_user, admin, target)
    c = add(api, people["author"], target.kind, tid)
    before = count_of(api, target.kind, tid, people["owner"]["access"])
    r = _call(api, op, people[actor], target.kind, tid, c["id"])
    want = MATRIX[op][actor]
    if want in (401, 403):
        assert_problem(r, want, "missing_token" if want == 401 else "forbidden")
        doc = listing(api, comments_path(target.kind, tid))["items"][0]
        assert doc == dict(c, myLike=None)  # nothing changed
        assert count_of(api, target.kind, tid, people["owner"]["access"]) == before
        return
    assert r.status_code == want, describe(r)
    after = count_of(api, target.kind, tid, people["owner"]["access"])
    if op == "delete":
        assert after == before - 1
        assert listing(api, comments_path(target.kind, tid))["items"] == []
    elif op == "create":
        assert after == before + 1
    elif op == "like_put":
        assert r.json() == {"liked": True, "likeCount": 1}


# A private video: nobody but its owner and admins reads or writes its comments; everyone
# else gets 404 as for a missing video (or comment), the comment's author too.
PRIVATE = {"author": 404, "other": 404, "owner": None, "admin": None, "anonymous": 404}


@pytest.mark.parametrize("actor", ["author", "other", "owner", "admin", "anonymous"])
def test_comments_private_video(api, make_user, admin, make_video, actor):
    owner, author, other = make_user(), make_user(), make_user()
    people = {"owner": owner, "author": author, "other": other, "admin": admin, "anonymous": None}
    vid = make_video(owner)["id"]
    c = add(api, author, "video", vid)
    r = api.patch(f"{VIDEOS}/{vid}", json={"visibility": "private"}, token=owner["access"])
    assert r.status_code == 200, describe(r)
    who = people[actor]
    tok = who["access"] if who else None
    if PRIVATE[actor] is None:
        assert listing(api, comments_path("video", vid), tok)["items"][0]["id"] == c["id"]
        assert listing(api, one(c["id"], "/replies"), tok)["items"] == []
        add(api, who, "video", vid, parent=c["id"])
        assert api.put(one(c["id"], "/like"), token=tok).status_code == 200
        assert api.delete(one(c["id"]), token=tok).status_code == 204
        return
    assert_problem(api.get(comments_path("video", vid), token=tok), 404, "video_not_found")
    assert_problem(api.get(one(c["id"], "/replies"), token=tok), 404, "comment_not_found")
    if who is None:
        return
    assert_problem(api.post(comments_path("video", vid), json={"body": "x"}, token=tok), 404,
                   "video_not_found")
    for r in (api.patch(one(c["id"]), json={"body": "x"}, token=tok),
              api.delete(one(c["id"]), token=tok), api.put(one(c["id"], "/like"), token=tok),
              api.delete(one(c["id"], "/like"), token=tok)):
        assert_problem(r, 404, "comment_not_found")
    assert count_of(api, "video", vid, owner["access"]) == 1


def test_comments_deleted_video(api, make_user, make_video):
    owner, author = make_user(), make_user()
    vid = make_video(owner)["id"]
    c = add(api, author, "video", vid)
    r = api.delete(f"{VIDEOS}/{vid}", token=owner["access"])
    assert r.status_code == 204, describe(r)
    for who in (owner, author):
        tok = who["access"]
        assert_problem(api.get(comments_path("video", vid), token=tok), 404, "video_not_found")
        assert_problem(api.post(comments_path("video", vid), json={"body": "x"}, token=tok), 404,
                       "video_not_found")
        assert_problem(api.get(one(c["id"], "/replies"), token=tok), 404, "comment_not_found")
        assert_problem(api.patch(one(c["id"]), json={"body": "x"}, token=tok), 404, "comment_not_found")
        assert_problem(api.put(one(c["id"], "/like"), token=tok), 404, "comment_not_found")


# ---------------------------------------------------------------------------------------------
# the thread's shape and the counters


@KINDS
def test_comments_delete_keeps_thread_shape(api, make_user, target):
    owner, a, b = make_user(), make_user(), make_user()
    tid = target(owner)
    top = add(api, a, target.kind, tid, body="parent")
    r1 = add(api, b, target.kind, tid, parent=top["id"])
    r2 = add(api, b, target.kind, tid, parent=top["id"])
    assert api.put(one(top["id"], "/like"), token=b["access"]).status_code == 200
    assert count_of(api, target.kind, tid, owner["access"]) == 3
    assert api.delete(one(top["id"]), token=a["access"]).status_code == 204
    items = listing(api, comments_path(target.kind, tid), b["access"])["items"]
    assert len(items) == 1
    assert_comment(items[0], id=top["id"], deleted=True, body=None, author=None, replyCount=2)
    assert count_of(api, target.kind, tid, owner["access"]) == 2  # the deleted one no longer counts
    assert [x["id"] for x in listing(api, one(top["id"], "/replies"))["items"]] == [r1["id"], r2["id"]]
    # a deleted comment takes no edit, like, new reply or second delete
    assert_problem(api.patch(one(top["id"]), json={"body": "x"}, token=a["access"]), 404, "comment_not_found")
    assert_problem(api.put(one(top["id"], "/like"), token=a["access"]), 404, "comment_not_found")
    assert_problem(api.delete(one(top["id"]), token=a["access"]), 404, "comment_not_found")
    r = api.post(comments_path(target.kind, tid), json={"body": "x", "parentId": top["id"]},
                 token=b["access"])
    assert_validation(r, "parentId", "invalid_format")
    # ... but its like can be taken back
    assert api.delete(one(top["id"], "/like"), token=b["access"]).status_code == 204
    # the replies go one by one; with the last the deleted parent goes too
    assert api.delete(one(r1["id"]), token=b["access"]).status_code == 204
    items = listing(api, comments_path(target.kind, tid))["items"]
    assert [(x["id"], x["replyCount"]) for x in items] == [(top["id"], 1)]
    assert api.delete(one(r2["id"]), token=owner["access"]).status_code == 204  # the owner may
    assert listing(api, comments_path(target.kind, tid))["items"] == []
    assert_problem(api.get(one(top["id"], "/replies")), 404, "comment_not_found")
    assert count_of(api, target.kind, tid, owner["access"]) == 0


def test_comments_delete_without_replies_removes_and_counts(api, make_user, make_video):
    owner, a = make_user(), make_user()
    vid = make_video(owner)["id"]
    top = add(api, a, "video", vid)
    rep = add(api, a, "video", vid, parent=top["id"])
    assert api.delete(one(rep["id"]), token=a["access"]).status_code == 204
    items = listing(api, comments_path("video", vid))["items"]
    assert [(x["id"], x["replyCount"], x["deleted"]) for x in items] == [(top["id"], 0, False)]
    assert api.delete(one(top["id"]), token=a["access"]).status_code == 204
    assert listing(api, comments_path("video", vid))["items"] == []
    assert count_of(api, "video", vid, owner["access"]) == 0


def test_comments_likes_and_my_like(api, make_user, make_video):
    owner, a, b = make_user(), make_user(), make_user()
    vid = make_video(owner)["id"]
    c = add(api, a, "video", vid)
    for who, want in ((a, 1), (a, 1), (b, 2)):
        r = api.put(one(c["id"], "/like"), token=who["access"])
        assert r.status_code == 200, describe(r)
        assert r.json() == {"liked": True, "likeCount": want}
    mine = {x["id"]: x["myLike"] for x in listing(api, comments_path("video", vid), a["access"])["items"]}
    assert mine == {c["id"]: True}
    assert listing(api, comments_path("video", vid), owner["access"])["items"][0]["myLike"] is False
    assert listing(api, comments_path("video", vid))["items"][0]["myLike"] is None
    for who, want in ((a, 1), (a, 1), (b, 0)):
        assert api.delete(one(c["id"], "/like"), token=who["access"]).status_code == 204
        assert listing(api, comments_path("video", vid))["items"][0]["likeCount"] == want


def test_comments_fifty_parallel_likes_count_once(api, make_user, make_video):
    owner, liker = make_user(), make_user()
    vid = make_video(owner)["id"]
    c = add(api, owner, "video", vid)
    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        rs = list(pool.map(lambda _: api.put(one(c["id"], "/like"), token=liker["access"]), range(50)))
    assert all(r.status_code == 200 for r in rs), [describe(r) for r in rs if r.status_code != 200]
    assert listing(api, comments_path("video", vid))["items"][0]["likeCount"] == 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        rs = list(pool.map(lambda _: api.delete(one(c["id"], "/like"), token=liker["access"]), range(50)))
    assert all(r.status_code == 204 for r in rs)
    assert listing(api, comments_path("video", vid))["items"][0]["likeCount"] == 0


# ---------------------------------------------------------------------------------------------
# pages


def test_comments_pages_newest_and_top(api, make_user, make_video):
    owner, likers = make_user(), [make_user() for _ in range(3)]
    vid = make_video(owner)["id"]
    made = [add(api, owner, "video", vid, body=f"c{i}") for i in range(16)]
    rep = add(api, owner, "video", vid, parent=made[0]["id"])
    likes = {}
    for i, c in enumerate(made):
        n = [0, 1, 2, 3, 1, 0, 2][i % 7]  # ties on purpose
        for who in likers[:n]:
            assert api.put(one(c["id"], "/like"), token=who["access"]).status_code == 200
        likes[c["id"]] = n
    path = comments_path("video", vid)
    items, pages = walk(api, path, limit=5)
    ids = [x["id"] for x in items]
    assert pages == 4 and len(ids) == len(set(ids)) == 16 and rep["id"] not in ids
    assert ids == [c["id"] for c in sorted(made, key=lambda c: (c["createdAt"], c["id"]), reverse=True)]
    for limit in (1, 5, 16, 100):
        items, _ = walk(api, path, limit=limit, sort="top")
        got = [(x["likeCount"], x["id"]) for x in items]
        assert got == sorted(((likes[k], k) for k in likes), reverse=True), limit
        assert all(x["replyCount"] == (1 if x["id"] == made[0]["id"] else 0) for x in items)


def test_comments_replies_pages(api, make_user, make_video):
    u = make_user()
    vid = make_video(u)["id"]
    top = add(api, u, "video", vid)
    reps = [add(api, u, "video", vid, body=f"r{i}", parent=top["id"]) for i in range(9)]
    items, pages = walk(api, one(top["id"], "/replies"), limit=4)
    assert [x["id"] for x in items] == [r["id"] for r in reps] and pages == 3
    assert listing(api, comments_path("video", vid))["items"][0]["replyCount"] == 9


# ---------------------------------------------------------------------------------------------
# plans: the list queries of common/db_comments.c and db_posts.c read through an index on the
# local server (the approach of test_db_plans.py, in a scratch database of its own).

T0 = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)


def _fill(db):
    targets, users = [ObjectId() for _ in range(4)], [ObjectId() for _ in range(5)]
    docs = []
    for i in range(300):
        reply = i % 3 == 0 and docs
        parent = docs[i // 3 - 1]["_id"] if reply else None
        docs.append({"_id": ObjectId(), "kind": "video" if i % 5 else "post", "targetId": targets[i % 4],
                     "reply": bool(reply), "parentId": parent, "authorId": users[i % 5], "body": "b",
                     "deleted": False, "createdAt": T0 + datetime.timedelta(seconds=i // 2),
                     "editedAt": None, "likeCount": i % 7, "replyCount": 0})
    db.comments.insert_many(docs)
    db.posts.insert_many([{"_id": ObjectId(), "authorId": users[i % 5], "body": "p",
                           "createdAt": T0 + datetime.timedelta(seconds=i // 2), "editedAt": None,
                           "likeCount": 0, "commentCount": 0} for i in range(100)])
    return targets, users, docs


def _keyset(field, value, oid, op="$lt"):
    return {"$or": [{field: {op: value}}, {field: value, "_id": {op: oid}}]}


def test_comments_plans_use_an_index(scratch):
    db = scratch
    targets, users, docs = _fill(db)
    t, c = targets[1], docs[10]
    newest = [("targetId", 1), ("reply", 1), ("createdAt", -1), ("_id", -1)]
    top = [("targetId", 1), ("reply", 1), ("likeCount", -1), ("_id", -1)]
    replies = [("parentId", 1), ("createdAt", 1), ("_id", 1)]
    base = {"targetId": t, "reply": False}
    # a target's top-level comments, newest first: first page and a later one
    assert_index_search(db, "comments", base, "targetId_1_reply_1_createdAt_-1__id_-1", newest)
    assert_index_search(db, "comments", {**base, **_keyset("createdAt", c["createdAt"], c["_id"])},
                        "targetId_1_reply_1_createdAt_-1__id_-1", newest)
    # top first: read in the index's order; the keyset range on likeCount (a number) is not
    # pushed into the search by the local planner (tools/ferretdb/PATCHES.md): it is checked on
    # the rows the index walk gives, still without a scan or a sort
    assert_index_search(db, "comments", base, "targetId_1_reply_1_likeCount_-1__id_-1", top)
    assert_index_search(db, "comments", {**base, **_keyset("likeCount", 3, c["_id"])},
                        "targetId_1_reply_1_likeCount_-1__id_-1", top, pushdown=False)
    # a comment's replies, oldest first
    assert_index_search(db, "comments", {"parentId": c["_id"]}, "parentId_1_createdAt_1__id_1", replies)
    assert_index_search(db, "comments", {"parentId": c["_id"], **_keyset("createdAt", T0, c["_id"], "$gt")},
                        "parentId_1_createdAt_1__id_1", replies)
    # the drops: a target's comments, a user's comments, by _id
    assert_index_search(db, "comments", {"targetId": t, "kind": "video"},
                        "targetId_1_reply_1_createdAt_-1__id_-1|targetId_1_reply_1_likeCount_-1__id_-1",
                        pushdown=False)
    assert_index_search(db, "comments", {"authorId": users[2]}, "authorId_1")
    assert_index_search(db, "comments", {"_id": c["_id"], "deleted": False, "replyCount": 0}, "_id_",
                        pushdown=False)
    # a channel's posts, newest first
    psort = [("authorId", 1), ("createdAt", -1), ("_id", -1)]
    p = db.posts.find_one()
    assert_index_search(db, "posts", {"authorId": users[1]}, "authorId_1_createdAt_-1__id_-1", psort)
    assert_index_search(db, "posts", {"authorId": users[1], **_keyset("createdAt", p["createdAt"], p["_id"])},
                        "authorId_1_createdAt_-1__id_-1", psort)


def test_comments_plans_match_a_full_scan(scratch):
    db = scratch
    targets, users, docs = _fill(db)

    def same(coll, f, sort, limit=0):
        got = [d["_id"] for d in db[coll].find(f, sort=sort, limit=limit)]
        want = [d["_id"] for d in db[coll].find({"$nor": [{"$nor": [f]}]}, sort=sort, limit=limit)]
        assert got == want, f
        return got

    for t in targets:
        base = {"targetId": t, "reply": False}
        for sort, key in (([("targetId", 1), ("reply", 1), ("createdAt", -1), ("_id", -1)], "createdAt"),
                          ([("targetId", 1), ("reply", 1), ("likeCount", -1), ("_id", -1)], "likeCount")):
            got = same("comments", base, sort, 11)
            last = db.comments.find_one({"_id": got[-1]})
            same("comments", {**base, **_keyset(key, last[key], last["_id"])}, sort, 11)
    for d in docs[:12]:
        same("comments", {"parentId": d["_id"]}, [("parentId", 1), ("createdAt", 1), ("_id", 1)])
    for u in users:
        same("posts", {"authorId": u}, [("authorId", 1), ("createdAt", -1), ("_id", -1)], 7)
