"""Playlists and their items (fcgi/playlists.c, common/db_playlists.c): every route's success
path and errors, a table-driven ownership matrix for each route that changes something, order
and paging, hiddenCount, the unique index deciding "already there" under 20 parallel adds, the
5000-item cap, Watch later made once under parallel first requests, and the plans of the queries
(each an index search on the local server, as tests/e2e/test_db_plans.py checks its own).

Most videos here are written straight into MongoDB (ready documents without media): the routes
only read their metadata, and uploads would make the tests slow. A few are real uploads.
"""

import concurrent.futures
import datetime
import functools
import re
import uuid

import pymongo
import pytest
from bson import Int64, ObjectId

from conftest import (
    DB_NAME,
    clip,
    upload,
    video_parts,
    MONGODB_URI,
    REPO,
    TIME_RE,
    assert_index_search,
    assert_problem,
    assert_validation,
    describe,
    openapi_spec,
)

PL = "/api/v1/playlists"
MINE = "/api/v1/users/me/playlists"
MAX_TITLE = 150
MAX_DESCRIPTION = 5000
MAX_ITEMS = 5000
PLAYLIST_KEYS = {"id", "title", "description", "visibility", "kind", "owner", "itemCount",
                 "createdAt", "updatedAt"}
CARD_KEYS = {"id", "username", "displayName", "avatarUrl", "avatarSmallUrl"}
# Until the lead merges it into docs/openapi.yaml, the contract of these routes is this
# worktree's fragment: merged into the spec the problem checks read (a no-op once merged).
FRAGMENT = REPO.parent / "playlists-openapi.yaml"


@pytest.fixture(scope="module", autouse=True)
def _contract():
    if not FRAGMENT.exists():
        return
    import yaml

    frag = yaml.safe_load(FRAGMENT.read_text())
    spec = openapi_spec()
    for path, item in frag.get("paths", {}).items():
        spec["paths"].setdefault(path, item)
    for kind, entries in frag.get("components", {}).items():
        for name, obj in entries.items():
            spec["components"].setdefault(kind, {}).setdefault(name, obj)
    enum = spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
    enum.extend(c for c in frag.get("x-problem-codes", []) if c not in enum)


@pytest.fixture(scope="module")
def db():
    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000,
                                 tz_aware=True)
    try:
        yield client[DB_NAME]
    finally:
        client.close()


def video_doc(owner_id, visibility="public", status="ready", title=None):
    """A ready video document of owner_id (no media)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    vid = ObjectId()
    return {
        "_id": vid, "ownerId": ObjectId(owner_id), "title": title or f"v {vid}", "description": "",
        "tags": [], "visibility": visibility, "status": status, "size": Int64(1000),
        "sha256": "0" * 64, "source": "source.mp4", "mimeType": "video/mp4", "hls": False,
        "thumbnail": False, "viewCount": Int64(0), "likeCount": Int64(0),
        "dislikeCount": Int64(0), "commentCount": Int64(0), "commentsEnabled": True,
        "createdAt": now, "updatedAt": now,
    }


def seed_video(db, owner_id, visibility="public", status="ready", title=None):
    """A ready video document of owner_id (no media), inserted; its id (hex)."""
    doc = video_doc(owner_id, visibility, status, title)
    db.videos.insert_one(doc)
    return str(doc["_id"])


@pytest.fixture
def make_video(api, clips):
    """A real upload of a small clip (conftest's make_video checks the video's members against
    a list that does not know the community counters yet); the Video."""
    def make(owner, **fields):
        r = upload(api, owner["access"], video_parts(clip(clips, "mp4"), **fields))
        assert r.status_code == 201, describe(r)
        return r.json()

    return make


def new_playlist(api, u, visibility="public", **fields):
    body = {"title": "List " + uuid.uuid4().hex[:6], "visibility": visibility, **fields}
    r = api.post(PL, json=body, token=u["access"])
    assert r.status_code == 201, describe(r)
    return assert_playlist(r.json(), u)


def assert_playlist(doc, owner, **expect):
    assert isinstance(doc, dict) and set(doc) == PLAYLIST_KEYS, doc
    assert re.fullmatch(r"[0-9a-f]{24}", doc["id"]), doc
    assert set(doc["owner"]) == CARD_KEYS and doc["owner"]["id"] == owner["id"], doc
    assert doc["owner"]["username"] == owner["username"], doc
    assert re.fullmatch(TIME_RE, doc["createdAt"]) and re.fullmatch(TIME_RE, doc["updatedAt"]), doc
    assert type(doc["itemCount"]) is int and doc["itemCount"] >= 0, doc
    assert doc["kind"] in ("playlist", "watch_later"), doc
    for k, v in expect.items():
        assert doc[k] == v, f"playlist.{k} is {doc[k]!r}, expected {v!r}"
    return doc


def add(api, u, pid, vid, **kw):
    return api.post(f"{PL}/{pid}/items", json={"videoId": vid, **kw}, token=u["access"])


def added(api, u, pid, vid, **kw):
    """Adds; asserts 201 and returns the playlist as it now is."""
    r = add(api, u, pid, vid, **kw)
    assert r.status_code == 201, describe(r)
    assert r.headers["Location"] == f"{PL}/{pid}/items/{vid}", describe(r)
    assert_playlist(r.json(), u, id=pid)
    return r.json()


def page(api, pid, token=None, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = api.get(f"{PL}/{pid}/items" + (f"?{qs}" if qs else ""), token=token)
    assert r.status_code == 200, describe(r)
    doc = r.json()
    assert set(doc) == {"items", "hiddenCount", "nextCursor"}, doc
    for it in doc["items"]:
        assert set(it) == {"position", "addedAt", "video"}, it
        assert re.fullmatch(TIME_RE, it["addedAt"]), it
    return doc


def listing(api, pid, token=None, limit=100):
    """Every page of a playlist's items: (video ids in order, positions, the sum of the
    pages' hiddenCounts)."""
    ids, positions, hidden, cursor = [], [], 0, None
    for _ in range(200):
        q = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        doc = page(api, pid, token, **q)
        ids += [it["video"]["id"] for it in doc["items"]]
        positions += [it["position"] for it in doc["items"]]
        hidden += doc["hiddenCount"]
        cursor = doc["nextCursor"]
        if cursor is None:
            return ids, positions, hidden
        assert len(doc["items"]) == limit, doc  # only the last page is short
        assert doc["hiddenCount"] >= 0
    pytest.fail("paging did not end")


def item_count(api, u, pid):
    r = api.get(f"{PL}/{pid}", token=u["access"])
    assert r.status_code == 200, describe(r)
    return r.json()["itemCount"]


# --- create, read, change, delete -------------------------------------------------------------


def test_playlists_create_get_update_delete(api, user, make_user, db):
    r = api.post(PL, json={"title": "Cats", "description": "All\nthe cats", "visibility": "public"},
                 token=user["access"])
    assert r.status_code == 201, describe(r)
    p = assert_playlist(r.json(), user, title="Cats", description="All\nthe cats",
                        visibility="public", kind="playlist", itemCount=0)
    assert r.headers["Location"] == f"{PL}/{p['id']}"
    # anyone reads a public playlist
    r = api.get(f"{PL}/{p['id']}")
    assert r.status_code == 200 and r.json() == p, describe(r)
    # description is optional: ""
    p2 = new_playlist(api, user, "unlisted")
    assert p2["description"] == "" and p2["visibility"] == "unlisted"
    assert api.get(f"{PL}/{p2['id']}").status_code == 200

    r = api.patch(f"{PL}/{p['id']}", json={"title": "Dogs"}, token=user["access"])
    assert r.status_code == 200, describe(r)
    assert_playlist(r.json(), user, title="Dogs", description="All\nthe cats", visibility="public")
    assert r.json()["updatedAt"] >= p["updatedAt"]
    r = api.patch(f"{PL}/{p['id']}", json={"description": "", "visibility": "private"},
                  token=user["access"])
    assert r.status_code == 200, describe(r)
    assert_playlist(r.json(), user, title="Dogs", description="", visibility="private")
    assert_problem(api.get(f"{PL}/{p['id']}"), 404, "playlist_not_found")
    r = api.patch(f"{PL}/{p['id']}", json={}, token=user["access"])  # nothing to change
    assert r.status_code == 200 and r.json()["title"] == "Dogs", describe(r)

    vid = seed_video(db, user["id"])
    added(api, user, p["id"], vid)
    assert db.playlist_items.count_documents({"playlistId": ObjectId(p["id"])}) == 1
    r = api.delete(f"{PL}/{p['id']}", token=user["access"])
    assert r.status_code == 204, describe(r)
    assert_problem(api.get(f"{PL}/{p['id']}", token=user["access"]), 404, "playlist_not_found")
    assert_problem(api.delete(f"{PL}/{p['id']}", token=user["access"]), 404, "playlist_not_found")
    assert db.playlist_items.count_documents({"playlistId": ObjectId(p["id"])}) == 0
    assert db.videos.count_documents({"_id": ObjectId(vid)}) == 1  # the video stays


@pytest.mark.parametrize("body, field, code", [
    ({"visibility": "public"}, "title", "required"),
    ({"title": "", "visibility": "public"}, "title", "too_short"),
    ({"title": "   ", "visibility": "public"}, "title", "too_short"),
    ({"title": "a\tb", "visibility": "public"}, "title", "invalid_format"),
    ({"title": "x" * (MAX_TITLE + 1), "visibility": "public"}, "title", "too_long"),
    ({"title": "a\nb", "visibility": "public"}, "title", "invalid_format"),
    ({"title": 5, "visibility": "public"}, "title", "wrong_type"),
    ({"title": None, "visibility": "public"}, "title", "null_not_allowed"),
    ({"title": "t", "description": "d" * (MAX_DESCRIPTION + 1), "visibility": "public"},
     "description", "too_long"),
    ({"title": "t", "description": "a\u0007b", "visibility": "public"}, "description",
     "invalid_format"),
    ({"title": "t"}, "visibility", "required"),
    ({"title": "t", "visibility": "secret"}, "visibility", "invalid_format"),
    ({"title": "t", "visibility": "public", "owner": "x"}, "owner", "unknown_field"),
])
def test_playlists_create_validation(api, user, body, field, code):
    assert_validation(api.post(PL, json=body, token=user["access"]), field, code)
    assert api.get(MINE, token=user["access"]).json()["items"][1:] == []  # nothing made


def test_playlists_bounds_are_characters(api, user):
    p = new_playlist(api, user, title="é" * MAX_TITLE, description="ü" * MAX_DESCRIPTION)
    assert p["title"] == "é" * MAX_TITLE and len(p["description"]) == MAX_DESCRIPTION


def test_playlists_create_refuses_bad_bodies(api, user):
    assert_problem(api.post(PL, data=b"{", token=user["access"],
                            headers={"Content-Type": "application/json"}), 400, "invalid_json")
    assert_problem(api.post(PL, json={"title": "t", "visibility": "public"}), 401, "missing_token")


@pytest.mark.parametrize("body, field, code", [
    ({"title": ""}, "title", "too_short"),
    ({"title": "x" * (MAX_TITLE + 1)}, "title", "too_long"),
    ({"description": "d" * (MAX_DESCRIPTION + 1)}, "description", "too_long"),
    ({"visibility": "everyone"}, "visibility", "invalid_format"),
    ({"kind": "watch_later"}, "kind", "unknown_field"),
    ({"itemCount": 3}, "itemCount", "unknown_field"),
])
def test_playlists_update_validation(api, user, body, field, code):
    p = new_playlist(api, user)
    assert_validation(api.patch(f"{PL}/{p['id']}", json=body, token=user["access"]), field, code)
    assert api.get(f"{PL}/{p['id']}").json() == p  # unchanged


def test_playlists_get_visibility(api, user, make_user, admin):
    other = make_user()
    private = new_playlist(api, user, "private")
    unlisted = new_playlist(api, user, "unlisted")
    for token in (user["access"], admin["access"]):
        r = api.get(f"{PL}/{private['id']}", token=token)
        assert r.status_code == 200 and r.json()["id"] == private["id"], describe(r)
    for token in (None, other["access"]):
        assert_problem(api.get(f"{PL}/{private['id']}", token=token), 404, "playlist_not_found")
        assert api.get(f"{PL}/{unlisted['id']}", token=token).status_code == 200
    for bad in ("nothex", "0" * 23, str(ObjectId()), "Z" * 24):
        assert_problem(api.get(f"{PL}/{bad}"), 404, "playlist_not_found")
        assert_problem(api.get(f"{PL}/{bad}/items"), 404, "playlist_not_found")


# --- who may change what: every route that writes, every kind of caller ------------------------

ROUTES = {
    "update": ("PATCH", "", lambda ctx: {"title": "Changed"}, 200),
    "delete": ("DELETE", "", None, 204),
    "item_add": ("POST", "/items", lambda ctx: {"videoId": ctx["free_video"]}, 201),
    "item_move": ("PATCH", "/items/{video}", lambda ctx: {"position": 0}, 204),
    "item_remove": ("DELETE", "/items/{video}", None, 204),
}
# (caller, playlist visibility) -> the answer for someone who is not the owner
OTHERS = {
    ("other", "public"): (403, "forbidden"),
    ("other", "unlisted"): (403, "forbidden"),
    ("other", "private"): (404, "playlist_not_found"),
    ("admin", "public"): (403, "forbidden"),
    ("admin", "private"): (403, "forbidden"),
    ("anonymous", "public"): (401, "missing_token"),
    ("anonymous", "private"): (401, "missing_token"),
}


@pytest.fixture(scope="module")
def cast(api):
    from conftest import create_admin, create_user

    return {"owner": create_user(api), "other": create_user(api), "admin": create_admin(api)}


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("caller, visibility",
                         [("owner", "public"), ("owner", "private")] + sorted(OTHERS))
def test_playlists_ownership_matrix(api, cast, db, route, caller, visibility):
    owner = cast["owner"]
    method, suffix, body, ok = ROUTES[route]
    p = new_playlist(api, owner, visibility)
    vids = [seed_video(db, owner["id"]) for _ in range(2)]
    added(api, owner, p["id"], vids[0])
    added(api, owner, p["id"], vids[1])
    ctx = {"free_video": seed_video(db, owner["id"])}
    path = f"{PL}/{p['id']}" + suffix.format(video=vids[1])
    token = cast[caller]["access"] if caller != "anonymous" else None
    r = api.request(method, path, json=body(ctx) if body else None, token=token) if body else \
        api.request(method, path, token=token)
    after = db.playlists.find_one({"_id": ObjectId(p["id"])})
    items = db.playlist_items.count_documents({"playlistId": ObjectId(p["id"])})
    if caller == "owner":
        assert r.status_code == ok, describe(r)
        return
    status, code = OTHERS[(caller, visibility)]
    assert_problem(r, status, code)
    # nothing changed
    assert after is not None and after["title"] == p["title"] and after["itemCount"] == 2
    assert items == 2
    assert listing(api, p["id"], owner["access"])[0] == vids


def test_playlists_create_needs_a_token(api):
    assert_problem(api.post(PL, json={"title": "t", "visibility": "public"}), 401, "missing_token")
    assert_problem(api.get(MINE), 401, "missing_token")


# --- items -----------------------------------------------------------------------------------


def test_playlists_items_add_and_list(api, user, make_user, make_video):
    other = make_user()
    p = new_playlist(api, user)
    mine = make_video(user)  # a real upload (processing or ready: visible)
    theirs = make_video(other)
    assert added(api, user, p["id"], mine["id"])["itemCount"] == 1
    assert added(api, user, p["id"], theirs["id"])["itemCount"] == 2
    doc = page(api, p["id"])
    assert [i["video"]["id"] for i in doc["items"]] == [mine["id"], theirs["id"]]
    assert [i["position"] for i in doc["items"]] == [0, 1]
    assert doc["hiddenCount"] == 0 and doc["nextCursor"] is None
    assert doc["items"][0]["video"]["title"] == mine["title"]
    assert item_count(api, user, p["id"]) == 2


def test_playlists_hidden_count(api, user, make_user, make_video, db):
    """My public playlist holds another user's video that became private, their failed video,
    a deleted one and my own private one: each caller sees what they may, the rest counted."""
    other = make_user()
    p = new_playlist(api, user)
    pub = make_video(other)
    goes_private = make_video(other)
    fails = seed_video(db, other["id"])
    deleted = seed_video(db, other["id"])
    my_private = seed_video(db, user["id"], visibility="private")
    for v in (pub["id"], goes_private["id"], fails, deleted, my_private):
        added(api, user, p["id"], v)
    r = api.patch(f"/api/v1/videos/{goes_private['id']}", json={"visibility": "private"},
                  token=other["access"])
    assert r.status_code == 200, describe(r)
    db.videos.update_one({"_id": ObjectId(fails)}, {"$set": {"status": "failed"}})
    db.videos.delete_one({"_id": ObjectId(deleted)})

    # me: my private video yes; their private and failed ones and the deleted one no
    ids, pos, hidden = listing(api, p["id"], user["access"])
    assert ids == [pub["id"], my_private] and pos == [0, 1] and hidden == 3, (ids, hidden)
    # anonymous: only the public one
    ids, pos, hidden = listing(api, p["id"])
    assert ids == [pub["id"]] and pos == [0] and hidden == 4
    # the other user sees their own private and failed videos, not mine
    ids, pos, hidden = listing(api, p["id"], other["access"])
    assert ids == [pub["id"], goes_private["id"], fails] and pos == [0, 1, 2] and hidden == 2
    # hiddenCount is per page: what the page passed over; the pages add up to the playlist's
    for limit in (1, 2):
        ids, pos, hidden = listing(api, p["id"], other["access"], limit=limit)
        assert ids == [pub["id"], goes_private["id"], fails] and hidden == 2
    first = page(api, p["id"], user["access"], limit=1)
    assert first["items"][0]["video"]["id"] == pub["id"] and first["hiddenCount"] == 0
    second = page(api, p["id"], user["access"], limit=1, cursor=first["nextCursor"])
    assert second["items"][0]["video"]["id"] == my_private and second["hiddenCount"] == 3
    assert second["items"][0]["position"] == 1 and second["nextCursor"] is None
    assert item_count(api, user, p["id"]) == 5  # itemCount counts them all
    # the owner can still take out what they no longer see
    r = api.delete(f"{PL}/{p['id']}/items/{goes_private['id']}", token=user["access"])
    assert r.status_code == 204, describe(r)
    assert listing(api, p["id"])[2] == 3


def test_playlists_item_add_errors(api, user, make_user, db):
    other = make_user()
    p = new_playlist(api, user)
    theirs_private = seed_video(db, other["id"], visibility="private")
    uploading = seed_video(db, user["id"], status="uploading")
    for vid in (str(ObjectId()), "nothex", theirs_private, uploading):
        assert_problem(add(api, user, p["id"], vid), 404, "video_not_found")
    vid = seed_video(db, user["id"])
    for body, field, code in (
        ({}, "videoId", "required"),
        ({"videoId": 7}, "videoId", "wrong_type"),
        ({"videoId": vid, "position": -1}, "position", "out_of_range"),
        ({"videoId": vid, "position": MAX_ITEMS + 1}, "position", "out_of_range"),
        ({"videoId": vid, "position": "1"}, "position", "wrong_type"),
        ({"videoId": vid, "rank": 3}, "rank", "unknown_field"),
    ):
        assert_validation(api.post(f"{PL}/{p['id']}/items", json=body, token=user["access"]),
                          field, code)
    assert item_count(api, user, p["id"]) == 0
    # another user's public video is fine; a private one of mine too
    added(api, user, p["id"], seed_video(db, other["id"]))
    added(api, user, p["id"], seed_video(db, user["id"], visibility="private"))
    assert item_count(api, user, p["id"]) == 2


def test_playlists_already_in_playlist(api, user, db):
    p = new_playlist(api, user)
    vid = seed_video(db, user["id"])
    added(api, user, p["id"], vid)
    assert_problem(add(api, user, p["id"], vid), 409, "already_in_playlist")
    assert item_count(api, user, p["id"]) == 1
    # the same video may be in another playlist
    q = new_playlist(api, user)
    added(api, user, q["id"], vid)


def test_playlists_parallel_adds_make_one_item(api, user, db):
    p = new_playlist(api, user)
    vid = seed_video(db, user["id"])
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda _: add(api, user, p["id"], vid), range(20)))
    codes = sorted(r.status_code for r in rs)
    assert codes == [201] + [409] * 19, [describe(r) for r in rs if r.status_code not in (201, 409)]
    for r in rs:
        if r.status_code == 409:
            assert_problem(r, 409, "already_in_playlist")
    assert db.playlist_items.count_documents({"playlistId": ObjectId(p["id"])}) == 1
    assert item_count(api, user, p["id"]) == 1


def test_playlists_order_insert_and_move(api, user, db):
    p = new_playlist(api, user)
    v = [seed_video(db, user["id"]) for _ in range(6)]
    for x in v[:4]:
        added(api, user, p["id"], x)
    assert listing(api, p["id"])[0] == v[:4]
    added(api, user, p["id"], v[4], position=0)
    assert listing(api, p["id"])[0] == [v[4], *v[:4]]
    added(api, user, p["id"], v[5], position=2)
    assert listing(api, p["id"])[0] == [v[4], v[0], v[5], v[1], v[2], v[3]]

    def move(x, pos):
        r = api.patch(f"{PL}/{p['id']}/items/{x}", json={"position": pos}, token=user["access"])
        assert r.status_code == 204, describe(r)

    move(v[3], 0)
    assert listing(api, p["id"])[0] == [v[3], v[4], v[0], v[5], v[1], v[2]]
    move(v[3], 2)
    assert listing(api, p["id"])[0] == [v[4], v[0], v[3], v[5], v[1], v[2]]
    move(v[2], 5)  # to where it is: stays
    assert listing(api, p["id"])[0] == [v[4], v[0], v[3], v[5], v[1], v[2]]
    # past the end: last
    move(v[4], 99)
    ids, pos, _ = listing(api, p["id"])
    assert ids == [v[0], v[3], v[5], v[1], v[2], v[4]] and pos == list(range(6))
    # a position past the end on add: last too
    w = seed_video(db, user["id"])
    added(api, user, p["id"], w, position=4000)
    assert listing(api, p["id"])[0][-1] == w
    # errors
    missing = seed_video(db, user["id"])
    r = api.patch(f"{PL}/{p['id']}/items/{missing}", json={"position": 0}, token=user["access"])
    assert_problem(r, 404, "video_not_found")
    r = api.patch(f"{PL}/{p['id']}/items/nothex", json={"position": 0}, token=user["access"])
    assert_problem(r, 404, "video_not_found")
    for body, field, code in (({}, "position", "required"), ({"position": -2}, "position", "out_of_range"),
                              ({"position": 1.5}, "position", "wrong_type"),
                              ({"position": 1, "x": 1}, "x", "unknown_field")):
        r = api.patch(f"{PL}/{p['id']}/items/{v[0]}", json=body, token=user["access"])
        assert_validation(r, field, code)
    # remove
    assert api.delete(f"{PL}/{p['id']}/items/{v[5]}", token=user["access"]).status_code == 204
    assert_problem(api.delete(f"{PL}/{p['id']}/items/{v[5]}", token=user["access"]), 404,
                   "video_not_found")
    assert_problem(api.delete(f"{PL}/{p['id']}/items/nothex", token=user["access"]), 404,
                   "video_not_found")
    assert listing(api, p["id"])[0] == [v[0], v[3], v[1], v[2], v[4], w]
    assert item_count(api, user, p["id"]) == 6


def test_playlists_order_survives_renumbering(api, user, db):
    """30 inserts at the same place halve the gap there until none is left: the playlist is
    renumbered and the order stays exact."""
    p = new_playlist(api, user)
    first, last = seed_video(db, user["id"]), seed_video(db, user["id"])
    added(api, user, p["id"], first)
    added(api, user, p["id"], last)
    wedged = []
    for _ in range(30):
        x = seed_video(db, user["id"])
        added(api, user, p["id"], x, position=1)
        wedged.insert(0, x)
    assert listing(api, p["id"])[0] == [first, *wedged, last]
    ranks = [d["rank"] for d in db.playlist_items.find({"playlistId": ObjectId(p["id"])})]
    assert len(set(ranks)) == len(ranks) == 32
    # moves into a crowded spot as well
    for x in wedged[:5]:
        r = api.patch(f"{PL}/{p['id']}/items/{x}", json={"position": 31}, token=user["access"])
        assert r.status_code == 204, describe(r)
    assert listing(api, p["id"])[0] == [first, *wedged[5:], last, *wedged[:5]]


def test_playlists_renumbering_stays_local(api, user, db):
    """A crowded spot in a long playlist is made room for by rewriting the items around it,
    not every item: 60 inserts at one place in 2000 items leave the far ones untouched."""
    p = new_playlist(api, user)
    pid = ObjectId(p["id"])
    videos = [video_doc(user["id"]) for _ in range(2000)]
    db.videos.insert_many(videos)
    base, step = 1 << 40, 1 << 20
    docs = [{"_id": ObjectId(), "playlistId": pid, "videoId": v["_id"], "rank": f"{base + i * step:016x}",
             "addedAt": datetime.datetime.now(datetime.timezone.utc)} for i, v in enumerate(videos)]
    db.playlist_items.insert_many(docs)
    db.playlists.update_one({"_id": pid}, {"$set": {"itemCount": Int64(len(docs))}})
    wedged = []
    for _ in range(60):
        x = seed_video(db, user["id"])
        added(api, user, p["id"], x, position=1000)
        wedged.insert(0, x)
    now = {d["_id"]: d["rank"] for d in db.playlist_items.find({"playlistId": pid})}
    moved = [i for i, d in enumerate(docs) if now[d["_id"]] != d["rank"]]
    assert moved, "60 inserts at one place never renumbered"
    assert len(moved) <= 200 and min(moved) >= 900 and max(moved) < 1100, (len(moved), min(moved), max(moved))
    order = [d["videoId"] for d in db.playlist_items.find({"playlistId": pid}).sort([("rank", 1), ("_id", 1)])]
    want = [d["videoId"] for d in docs[:1000]] + [ObjectId(x) for x in wedged] + [d["videoId"] for d in docs[1000:]]
    assert order == want
    assert len(set(now.values())) == len(now)
    assert item_count(api, user, p["id"]) == 2060


def test_playlists_crowded_ends(api, user, db):
    """Items packed against both ends of the rank space (0 and the cap, 2^50): adds at the
    start, at the end and between them all find room, in order, with distinct ranks."""
    p = new_playlist(api, user)
    pid = ObjectId(p["id"])
    top = 1 << 50
    videos = [video_doc(user["id"]) for _ in range(5)]
    db.videos.insert_many(videos)
    db.playlist_items.insert_many([
        {"_id": ObjectId(), "playlistId": pid, "videoId": v["_id"], "rank": f"{r:016x}",
         "addedAt": datetime.datetime.now(datetime.timezone.utc)}
        for v, r in zip(videos, (1, 2, 3, top - 2, top - 1))])
    db.playlists.update_one({"_id": pid}, {"$set": {"itemCount": Int64(5)}})
    want = [str(v["_id"]) for v in videos]
    for i in range(4):
        x = seed_video(db, user["id"])
        added(api, user, p["id"], x, position=0)
        want.insert(0, x)
        y = seed_video(db, user["id"])
        added(api, user, p["id"], y)
        want.append(y)
    assert listing(api, p["id"], user["access"])[0] == want
    ranks = [int(d["rank"], 16) for d in db.playlist_items.find({"playlistId": pid})]
    assert len(set(ranks)) == len(ranks) == 13 and all(0 < r < top for r in ranks), ranks


def test_playlists_paging_is_complete(api, user, make_user, db):
    other = make_user()
    p = new_playlist(api, user)
    want = []
    for i in range(47):
        if i % 5 == 2:  # someone else's video that turns private later: hidden
            x = seed_video(db, other["id"])
            added(api, user, p["id"], x)
            db.videos.update_one({"_id": ObjectId(x)}, {"$set": {"visibility": "private"}})
        else:
            x = seed_video(db, user["id"])
            added(api, user, p["id"], x, **({"position": 0} if i % 7 == 3 else {}))
            want = [x, *want] if i % 7 == 3 else [*want, x]
    for limit in (1, 3, 10, 38, 100):
        ids, pos, hidden = listing(api, p["id"], limit=limit)
        assert ids == want and pos == list(range(len(want))) and hidden == 47 - len(want), limit
    assert len(set(want)) == len(want)
    doc = page(api, p["id"])
    assert len(doc["items"]) == 20 and doc["nextCursor"]
    for q in ("limit=0", "limit=101", "limit=x", "limit=%00"):
        assert_problem(api.get(f"{PL}/{p['id']}/items?{q}"), 400, "invalid_query")
    for c in ("x", "AAAA", doc["nextCursor"][:-2]):
        assert_problem(api.get(f"{PL}/{p['id']}/items?cursor={c}"), 400, "invalid_cursor")


def test_playlists_full(api, user, db):
    p = new_playlist(api, user)
    pid = ObjectId(p["id"])
    base = 1 << 40
    db.playlist_items.insert_many([
        {"_id": ObjectId(), "playlistId": pid, "videoId": ObjectId(), "rank": f"{base + i * (1 << 20):016x}",
         "addedAt": datetime.datetime.now(datetime.timezone.utc)} for i in range(MAX_ITEMS - 1)])
    db.playlists.update_one({"_id": pid}, {"$set": {"itemCount": Int64(MAX_ITEMS - 1)}})
    vid = seed_video(db, user["id"])
    assert added(api, user, p["id"], vid)["itemCount"] == MAX_ITEMS  # the 5000th
    # a page of a long playlist whose other items are all hidden (their videos are gone)
    assert_problem(add(api, user, p["id"], seed_video(db, user["id"])), 409, "playlist_full")
    assert db.playlist_items.count_documents({"playlistId": pid}) == MAX_ITEMS
    ids, pos, hidden = listing(api, p["id"], user["access"])
    assert ids == [vid] and pos == [0] and hidden == MAX_ITEMS - 1
    # once there is room again, adds go in; a stale count is no way past the cap
    assert api.delete(f"{PL}/{p['id']}/items/{vid}", token=user["access"]).status_code == 204
    added(api, user, p["id"], seed_video(db, user["id"]))
    assert_problem(add(api, user, p["id"], seed_video(db, user["id"])), 409, "playlist_full")
    assert item_count(api, user, p["id"]) == MAX_ITEMS


def test_playlists_full_under_parallel_adds(api, user, db):
    """At 4990 items, 30 different adds at once: exactly 10 go in, the count stays exact."""
    p = new_playlist(api, user)
    pid = ObjectId(p["id"])
    db.playlist_items.insert_many([
        {"_id": ObjectId(), "playlistId": pid, "videoId": ObjectId(), "rank": f"{(1 << 40) + i:016x}",
         "addedAt": datetime.datetime.now(datetime.timezone.utc)} for i in range(MAX_ITEMS - 10)])
    db.playlists.update_one({"_id": pid}, {"$set": {"itemCount": Int64(MAX_ITEMS - 10)}})
    vids = [seed_video(db, user["id"]) for _ in range(30)]
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        rs = list(ex.map(lambda v: add(api, user, p["id"], v), vids))
    assert sorted(r.status_code for r in rs) == [201] * 10 + [409] * 20, [describe(r) for r in rs]
    assert db.playlist_items.count_documents({"playlistId": pid}) == MAX_ITEMS
    assert item_count(api, user, p["id"]) == MAX_ITEMS


# --- Watch later and the lists ------------------------------------------------------------------


def test_playlists_watch_later_once_under_parallel_first_access(api, make_user, db):
    u = make_user()
    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        rs = list(ex.map(lambda i: api.get(MINE if i % 2 else f"{PL}/{u['id']}", token=u["access"]),
                         range(12)))
    assert all(r.status_code == 200 for r in rs), [describe(r) for r in rs]
    assert db.playlists.count_documents({"ownerId": ObjectId(u["id"])}) == 1
    wl = rs[1].json()["items"][0]
    assert_playlist(wl, u, id=u["id"], kind="watch_later", visibility="private",
                    title="Watch later", itemCount=0)
    assert rs[0].json() == wl


def test_playlists_watch_later_rules(api, make_user, db):
    u, other = make_user(), make_user()
    vid = seed_video(db, other["id"])
    # adding to it by its id (the user's) before it was ever listed makes it
    added(api, u, u["id"], vid)
    wl = api.get(f"{PL}/{u['id']}", token=u["access"]).json()
    assert_playlist(wl, u, kind="watch_later", itemCount=1, visibility="private")
    assert_problem(api.get(f"{PL}/{u['id']}", token=other["access"]), 404, "playlist_not_found")
    assert_problem(api.get(f"{PL}/{u['id']}/items"), 404, "playlist_not_found")
    assert_problem(add(api, other, u["id"], vid), 404, "playlist_not_found")
    # another user's id names no playlist of mine, and makes none
    assert_problem(api.get(f"{PL}/{other['id']}", token=u["access"]), 404, "playlist_not_found")
    assert db.playlists.count_documents({"ownerId": ObjectId(other["id"])}) == 0
    assert_problem(api.delete(f"{PL}/{u['id']}", token=u["access"]), 403, "forbidden")
    for body in ({"title": "Later"}, {"visibility": "public"}, {"visibility": "unlisted"}):
        assert_problem(api.patch(f"{PL}/{u['id']}", json=body, token=u["access"]), 403, "forbidden")
    r = api.patch(f"{PL}/{u['id']}", json={"description": "to see", "visibility": "private"},
                  token=u["access"])
    assert r.status_code == 200 and r.json()["description"] == "to see", describe(r)
    mine = api.get(MINE, token=u["access"]).json()["items"]
    assert [p["kind"] for p in mine] == ["watch_later"] and mine[0]["itemCount"] == 1


def test_playlists_lists(api, make_user):
    u, other = make_user(), make_user()
    made = {vis: new_playlist(api, u, vis) for vis in ("public", "unlisted", "private")}
    pub2 = new_playlist(api, u, "public")
    chan = f"/api/v1/channels/{u['username']}/playlists"
    for token in (None, other["access"]):
        r = api.get(chan, token=token)
        assert r.status_code == 200, describe(r)
        assert [p["id"] for p in r.json()["items"]] == [pub2["id"], made["public"]["id"]]
        assert r.json()["nextCursor"] is None
    want = [u["id"], pub2["id"], made["private"]["id"], made["unlisted"]["id"], made["public"]["id"]]
    for path in (MINE, chan):
        r = api.get(path, token=u["access"])
        assert r.status_code == 200, describe(r)
        assert [p["id"] for p in r.json()["items"]] == want
        for p in r.json()["items"]:
            assert_playlist(p, u)
    # paging: Watch later on top of the first page, then keyset pages
    got, cursor = [], None
    while True:
        r = api.get(MINE + "?limit=1" + (f"&cursor={cursor}" if cursor else ""), token=u["access"])
        assert r.status_code == 200, describe(r)
        got += [p["id"] for p in r.json()["items"]]
        cursor = r.json()["nextCursor"]
        if cursor is None:
            break
    assert got == want
    r = api.get(chan + "?limit=1", token=other["access"])
    assert [p["id"] for p in r.json()["items"]] == [pub2["id"]] and r.json()["nextCursor"]
    r = api.get(chan + f"?limit=1&cursor={r.json()['nextCursor']}", token=other["access"])
    assert [p["id"] for p in r.json()["items"]] == [made["public"]["id"]]
    for bad in ("nobody" + uuid.uuid4().hex[:8], u["email"], "a%40b"):
        assert_problem(api.get(f"/api/v1/channels/{bad}/playlists"), 404, "channel_not_found")
    assert_problem(api.get(chan + "?limit=500"), 400, "invalid_query")
    assert_problem(api.get(chan + "?cursor=zz"), 400, "invalid_cursor")
    assert_problem(api.get(MINE + "?limit=0", token=u["access"]), 400, "invalid_query")


# --- plans: each query of common/db_playlists.c reads through an index ---------------------------


def test_playlists_plans_use_an_index(scratch):
    db = scratch
    t0 = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
    owners = [ObjectId() for _ in range(5)]
    lists = [{"_id": ObjectId(), "ownerId": owners[i % 5], "kind": "playlist" if i % 9 else "watch_later",
              "title": f"p{i}", "description": "", "visibility": ["public", "unlisted", "private"][i % 3],
              "itemCount": Int64(0), "createdAt": t0 + datetime.timedelta(seconds=i // 2), "updatedAt": t0}
             for i in range(200)]
    db.playlists.insert_many(lists)
    videos = [ObjectId() for _ in range(300)]
    items = [{"_id": ObjectId(), "playlistId": lists[i % 20]["_id"], "videoId": videos[i],
              "rank": f"{(1 << 40) + (i // 20) * (1 << 20):016x}", "addedAt": t0} for i in range(300)]
    db.playlist_items.insert_many(items)
    pl, owner, it = lists[7], owners[2], items[42]
    keyset = {"$or": [{"createdAt": {"$lt": t0}}, {"createdAt": t0, "_id": {"$lt": pl["_id"]}}]}

    # playlists: by _id (get, update, delete, the count's capped $inc), an owner's pages
    # (first and later), a channel's public pages, a user's drop
    assert_index_search(db, "playlists", {"_id": pl["_id"]}, "_id_")
    assert_index_search(db, "playlists", {"_id": pl["_id"], "ownerId": owner}, "_id_")
    assert_index_search(db, "playlists", {"_id": pl["_id"], "itemCount": {"$lt": Int64(5000)}}, "_id_")
    for extra in ({}, keyset):
        assert_index_search(db, "playlists", {"ownerId": owner, "kind": "playlist", **extra},
                            "ownerId_1_kind_1_createdAt_-1__id_-1",
                            [("ownerId", 1), ("kind", 1), ("createdAt", -1), ("_id", -1)])
        assert_index_search(db, "playlists",
                            {"ownerId": owner, "kind": "playlist", "visibility": "public", **extra},
                            "ownerId_1_kind_1_visibility_1_createdAt_-1__id_-1",
                            [("ownerId", 1), ("kind", 1), ("visibility", 1), ("createdAt", -1), ("_id", -1)])
    # a user's drop: either index that begins with ownerId will do
    for ix in ("ownerId_1_kind_1_createdAt_-1__id_-1", "ownerId_1_kind_1_visibility_1_createdAt_-1__id_-1"):
        try:
            assert_index_search(db, "playlists", {"ownerId": owner}, ix)
            break
        except AssertionError:
            if ix.startswith("ownerId_1_kind_1_visibility"):
                raise
    # items: a playlist in order, one video's item, by _id (move, delete), drops
    item_sort = [("playlistId", 1), ("rank", 1), ("_id", 1)]
    after = {"$or": [{"rank": {"$gt": it["rank"]}}, {"rank": it["rank"], "_id": {"$gt": it["_id"]}}]}
    for extra in ({}, after):
        assert_index_search(db, "playlist_items", {"playlistId": pl["_id"], **extra},
                            "playlistId_1_rank_1__id_1", item_sort)
        # (the page after a cursor is an index range: rank >= R is pushed down)
    qp = db.command("explain", {"find": "playlist_items", "filter": {"playlistId": pl["_id"], **after},
                                "sort": dict(item_sort), "limit": 21})["queryPlanner"]
    assert any("<expr>>?" in row or "<expr>>=?" in row for row in qp["Plan"]), qp
    assert_index_search(db, "playlist_items", {"playlistId": pl["_id"]}, "playlistId_1_rank_1__id_1",
                        [("playlistId", 1), ("rank", -1), ("_id", -1)])
    # (the unique index keeps FerretDB's untyped expression, which the local planner does not
    # read compound: {videoId, playlistId} serves the same equality there)
    assert_index_search(db, "playlist_items", {"playlistId": pl["_id"], "videoId": it["videoId"]},
                        "videoId_1_playlistId_1")
    assert_index_search(db, "playlist_items", {"_id": it["_id"]}, "_id_")
    assert_index_search(db, "playlist_items", {"videoId": it["videoId"]}, "videoId_1_playlistId_1")
    # the visibility of a playlist's videos, 100 ids at a time
    assert_index_search(db, "videos", {"_id": {"$in": videos[:100]}}, ",".join(["_id_"] * 100))

    # and the index reads give what a full scan gives, in order
    pl0 = lists[0]["_id"]
    mine = sorted((d for d in items if d["playlistId"] == pl0), key=lambda d: (d["rank"], d["_id"]))
    got = list(db.playlist_items.find({"playlistId": pl0}, sort=item_sort))
    assert [d["_id"] for d in got] == [d["_id"] for d in mine]
    cut = mine[4]
    got = list(db.playlist_items.find({"playlistId": pl0, "$or": [
        {"rank": {"$gt": cut["rank"]}}, {"rank": cut["rank"], "_id": {"$gt": cut["_id"]}}]}, sort=item_sort))
    assert [d["_id"] for d in got] == [d["_id"] for d in mine[5:]]
    sort = [("ownerId", 1), ("kind", 1), ("createdAt", -1), ("_id", -1)]
    got = list(db.playlists.find({"ownerId": owner, "kind": "playlist"}, sort=sort))
    want = sorted((d for d in lists if d["ownerId"] == owner and d["kind"] == "playlist"),
                  key=lambda d: (d["createdAt"], d["_id"]), reverse=True)
    assert [d["_id"] for d in got] == [d["_id"] for d in want]
