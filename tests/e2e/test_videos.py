"""Video metadata and playback links: GET /api/v1/videos (videos_list), GET/PATCH/DELETE
/api/v1/videos/{id} (videos_get, videos_update, videos_delete) and GET
/api/v1/videos/{id}/playback (videos_playback).

Visibility: public videos to everyone; unlisted to anyone with the id but never listed for
others; private to the owner and admins, 404 to anyone else exactly like a missing video.
Every test uploads its own small clips as its own users.
"""

import re
import statistics
import time
import uuid

import pytest
import requests

from conftest import (
    BASE_URL,
    LINK_TTL,
    MEDIA,
    MEDIA_LINK_RE,
    VIDEOS,
    HeldUpload,
    assert_problem,
    assert_validation,
    assert_video,
    b64u,
    describe,
    get_playback,
    media_type,
    owner_docs,
    parse_time,
    raw_request,
    same_video,
    wait_until,
)

PLAYBACK_KEYS = {"expiresAt", "source", "hls", "thumbnail"}
MALFORMED_IDS = [
    "nothex",
    "0" * 23,
    "0" * 25,
    "6B082AFF4E68105E2F09A911",  # upper-case hex
    "6b082aff4e68105e2f09a91g",
    "6b082aff4e68105e2f09a91%20",
]
UNKNOWN_ID = "0123456789abcdef01234567"


def one(path):
    return f"{VIDEOS}/{path}"


def _list(api, token=None, **query):
    from urllib.parse import urlencode

    r = api.get(VIDEOS + ("?" + urlencode(query) if query else ""), token=token)
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "application/json", describe(r)
    doc = r.json()
    assert set(doc) == {"items", "nextCursor"}, doc
    assert isinstance(doc["items"], list), doc
    assert doc["nextCursor"] is None or isinstance(doc["nextCursor"], str), doc
    for item in doc["items"]:
        assert_video(item)
    return doc


def _ids(doc):
    return [v["id"] for v in doc["items"]]


# ---------------------------------------------------------------------------------------------
# GET /api/v1/videos/{id}


def test_videos_get_public_anonymous(api, user, make_video):
    v = make_video(user, title="Public one")
    r = api.get(one(v["id"]))
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "application/json", describe(r)
    assert same_video(r.json(), v)
    assert r.headers.get("ETag"), describe(r)


def test_videos_get_public_other_user(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner)
    r = api.get(one(v["id"]), token=other["access"])
    assert r.status_code == 200 and same_video(r.json(), v), describe(r)


def test_videos_get_unlisted_anonymous(api, user, make_video):
    v = make_video(user, visibility="unlisted")
    r = api.get(one(v["id"]))
    assert r.status_code == 200 and same_video(r.json(), v), describe(r)


def test_videos_get_head(api, user, make_video):
    v = make_video(user)
    r = api.head(one(v["id"]))
    assert r.status_code == 200, describe(r)
    assert r.content == b""
    assert r.headers.get("ETag") == api.get(one(v["id"])).headers.get("ETag")


def test_videos_get_if_none_match_answers_304(api, user, make_video):
    v = make_video(user)
    etag = api.get(one(v["id"])).headers.get("ETag")
    assert etag
    r = api.get(one(v["id"]), headers={"If-None-Match": etag})
    assert r.status_code == 304, describe(r)
    assert r.content == b""
    assert r.headers.get("ETag") == etag


def test_videos_get_if_none_match_stale_etag_answers_200(api, user, make_video):
    v = make_video(user)
    r = api.get(one(v["id"]), headers={"If-None-Match": '"0000000000000000"'})
    assert r.status_code == 200 and same_video(r.json(), v), describe(r)


def test_videos_get_etag_of_another_video_answers_200(api, user, make_video):
    a, b = make_video(user), make_video(user)
    etag = api.get(one(a["id"])).headers.get("ETag")
    r = api.get(one(b["id"]), headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.json() == b, describe(r)


@pytest.mark.parametrize("vid", MALFORMED_IDS)
def test_videos_get_malformed_id(api, vid):
    assert_problem(api.get(one(vid)), 404, "video_not_found")


def test_videos_get_unknown_id(api):
    assert_problem(api.get(one(UNKNOWN_ID)), 404, "video_not_found")


def test_videos_get_private_anonymous_not_found(api, user, make_video):
    v = make_video(user, visibility="private")
    assert_problem(api.get(one(v["id"])), 404, "video_not_found")


def test_videos_get_private_other_user_not_found(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility="private")
    assert_problem(api.get(one(v["id"]), token=other["access"]), 404, "video_not_found")


def test_videos_get_private_owner(api, user, make_video):
    v = make_video(user, visibility="private")
    r = api.get(one(v["id"]), token=user["access"])
    assert r.status_code == 200 and same_video(r.json(), v), describe(r)


def test_videos_get_private_admin(api, user, admin, make_video):
    v = make_video(user, visibility="private")
    r = api.get(one(v["id"]), token=admin["access"])
    assert r.status_code == 200 and same_video(r.json(), v), describe(r)


def test_videos_get_private_etag_answers_404_not_304_to_others(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility="private")
    etag = api.get(one(v["id"]), token=owner["access"]).headers.get("ETag")
    assert etag
    r = api.get(one(v["id"]), token=other["access"], headers={"If-None-Match": etag})
    assert_problem(r, 404, "video_not_found")
    assert_problem(api.get(one(v["id"]), headers={"If-None-Match": etag}), 404, "video_not_found")
    assert api.get(one(v["id"]), token=owner["access"], headers={"If-None-Match": etag}).status_code == 304


def test_videos_get_private_cached_then_other_user_not_found(api, make_user, make_video):
    # The owner's GETs fill every worker's cache; a cached private entry is still hidden.
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility="private")
    for _ in range(12):
        assert api.get(one(v["id"]), token=owner["access"]).status_code == 200
    for _ in range(12):
        assert_problem(api.get(one(v["id"]), token=other["access"]), 404, "video_not_found")
        assert_problem(api.get(one(v["id"])), 404, "video_not_found")


def test_videos_get_private_and_missing_take_the_same_time(api, make_user, make_video):
    # Walking ids must not find private uploads by their timing: another user's private
    # video and an id that does not exist answer 404 by the same path (the worker's cache
    # holds misses too). 50 interleaved rounds, medians within 1.5x of each other.
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility="private")
    missing = "0" * 8 + uuid.uuid4().hex[:16]
    for _ in range(8):  # every worker has seen both
        api.get(one(v["id"]), token=other["access"])
        api.get(one(missing), token=other["access"])
    times = {"private": [], "missing": []}
    s = requests.Session()
    headers = {"Authorization": f"Bearer {other['access']}"}
    for _ in range(50):
        for kind, vid in (("private", v["id"]), ("missing", missing)):
            t = time.perf_counter()
            r = s.get(f"{BASE_URL}{one(vid)}", headers=headers, timeout=10)
            times[kind].append(time.perf_counter() - t)
            assert r.status_code == 404 and r.json()["code"] == "video_not_found", describe(r)
    med = {k: statistics.median(t) for k, t in times.items()}
    ratio = med["missing"] / med["private"]
    assert 1 / 1.5 <= ratio <= 1.5, f"medians: {med}"


def test_videos_get_refuses_a_bad_token(api, user, make_video):
    v = make_video(user)
    assert_problem(api.get(one(v["id"]), token=user["access"] + "x"), 401, "invalid_token")


# An upload in progress: the "uploading" document exists but is never served or listed.


@pytest.fixture
def uploading(user, clips, videos_coll):
    """An upload in progress (HeldUpload): (owner, video id of its uploading document)."""
    held = HeldUpload(user["access"], clips["mp4"].read_bytes())
    try:
        docs = wait_until(lambda: owner_docs(videos_coll, user["id"], status="uploading"), 10,
                          "the uploading document")
        yield user, str(docs[0]["_id"])
    finally:
        held.end()
        wait_until(lambda: not owner_docs(videos_coll, user["id"]) and held.temp_file() is None,
                   10, "the abandoned upload to be undone")


def test_videos_get_uploading_not_found(api, uploading):
    owner, vid = uploading
    assert_problem(api.get(one(vid), token=owner["access"]), 404, "video_not_found")


def test_videos_list_uploading_not_listed(api, uploading):
    owner, vid = uploading
    assert _list(api, owner["access"], owner=owner["id"])["items"] == []


def test_videos_playback_uploading_not_found(api, uploading):
    owner, vid = uploading
    assert_problem(api.get(one(f"{vid}/playback"), token=owner["access"]), 404, "video_not_found")


# ---------------------------------------------------------------------------------------------
# GET /api/v1/videos


def test_videos_list_anonymous_public_only(api, user, make_video):
    make_video(user, visibility="unlisted")
    make_video(user, visibility="private")
    doc = _list(api, limit=100)
    assert all(v["visibility"] == "public" for v in doc["items"]), [v["visibility"] for v in doc["items"]]
    assert all(v["status"] in ("processing", "ready") for v in doc["items"])


def test_videos_list_pagination_walks_every_video_once(api, user, make_video):
    made = []
    for i in range(5):
        made.append(make_video(user, title=f"Page {i}"))
        time.sleep(0.005)  # distinct createdAt, so the expected order is the upload order
    seen, pages, cursor = [], [], None
    while True:
        q = {"owner": user["id"], "limit": 2}
        if cursor is not None:
            q["cursor"] = cursor
        doc = _list(api, **q)
        pages.append(len(doc["items"]))
        seen.extend(doc["items"])
        cursor = doc["nextCursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "the walk does not end"
    assert pages == [2, 2, 1], pages
    assert [v["id"] for v in seen] == [v["id"] for v in reversed(made)]
    created = [v["createdAt"] for v in seen]
    assert created == sorted(created, reverse=True), created
    assert seen == list(reversed(made))


def test_videos_list_exact_page_has_null_cursor(api, user, make_video):
    for _ in range(2):
        make_video(user)
    doc = _list(api, owner=user["id"], limit=2)
    assert len(doc["items"]) == 2 and doc["nextCursor"] is None, doc


def test_videos_list_same_created_at_pages_by_id(api, user, make_video, videos_coll):
    # Keyset on (createdAt, _id): videos made in the same millisecond are neither lost nor
    # repeated across pages.
    made = [make_video(user) for _ in range(4)]
    from bson import ObjectId

    stamp = videos_coll.find_one({"_id": ObjectId(made[0]["id"])})["createdAt"]
    videos_coll.update_many({"ownerId": ObjectId(user["id"])}, {"$set": {"createdAt": stamp}})
    seen, cursor = [], None
    for _ in range(4):
        q = {"owner": user["id"], "limit": 1}
        if cursor:
            q["cursor"] = cursor
        doc = _list(api, **q)
        seen += _ids(doc)
        cursor = doc["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(v["id"] for v in made), seen
    assert seen == sorted(seen, reverse=True), seen


def test_videos_list_owner_filter(api, make_user, make_video):
    a, b = make_user(), make_user()
    va = make_video(a)
    make_video(b)
    assert _ids(_list(api, owner=a["id"])) == [va["id"]]


def test_videos_list_others_see_public_only(api, make_user, make_video):
    owner, other = make_user(), make_user()
    pub = make_video(owner, visibility="public")
    make_video(owner, visibility="unlisted")
    make_video(owner, visibility="private")
    assert _ids(_list(api, other["access"], owner=owner["id"])) == [pub["id"]]


def test_videos_list_anonymous_sees_public_only_of_owner(api, user, make_video):
    pub = make_video(user, visibility="public")
    make_video(user, visibility="unlisted")
    make_video(user, visibility="private")
    assert _ids(_list(api, owner=user["id"])) == [pub["id"]]


def test_videos_list_owner_sees_all_own(api, user, make_video):
    made = [make_video(user, visibility=vis) for vis in ("public", "unlisted", "private")]
    doc = _list(api, user["access"], owner=user["id"])
    assert _ids(doc) == [v["id"] for v in reversed(made)]


def test_videos_list_own_videos_without_owner_filter(api, user, make_video):
    mine = make_video(user, visibility="private")
    doc = _list(api, user["access"], limit=100)
    assert mine["id"] in _ids(doc)
    assert all(v["visibility"] == "public" or v["ownerId"] == user["id"] for v in doc["items"])


def test_videos_list_tag_filter_is_case_insensitive(api, user, make_video):
    tag = "Tag" + uuid.uuid4().hex[:10]
    tagged = make_video(user, tags=f"{tag},other")
    make_video(user, tags="other")
    for q in (tag, tag.lower(), tag.upper(), f"  {tag}  "):
        assert _ids(_list(api, tag=q)) == [tagged["id"]], q


def test_videos_list_tag_follows_edits_visibility_and_deletes(api, user, make_user, make_video):
    """A tag's list reads its own index (video_tags): every write that changes what the list
    shows moves it along, for anonymous callers, the owner and other users alike."""
    tag = "t" + uuid.uuid4().hex[:12]
    other = make_user()
    a = make_video(user, tags=tag)
    b = make_video(user, tags=tag, visibility="private")

    def seen(token=None):
        return _ids(_list(api, token, tag=tag))

    def patch(v, **body):
        r = api.patch(f"{VIDEOS}/{v['id']}", token=user["access"], json=body)
        assert r.status_code == 200, describe(r)

    assert seen() == [a["id"]] and seen(other["access"]) == [a["id"]]
    assert seen(user["access"]) == [b["id"], a["id"]]
    patch(a, visibility="private")
    assert seen() == [] and seen(other["access"]) == []
    assert seen(user["access"]) == [b["id"], a["id"]]
    patch(b, tags=["elsewhere"])
    assert seen(user["access"]) == [a["id"]]
    patch(a, visibility="public", tags=[tag, "more"])
    assert seen() == [a["id"]]
    assert _ids(_list(api, tag="more")) [:1] == [a["id"]]
    assert api.delete(f"{VIDEOS}/{a['id']}", token=user["access"]).status_code == 204
    assert seen() == [] and seen(user["access"]) == []


def test_videos_list_tag_pages_in_order(api, user, make_user, make_video):
    tag = "p" + uuid.uuid4().hex[:12]
    made = [make_video(user, tags=tag, visibility="private" if i == 2 else "public") for i in range(5)]
    for token, want in ((None, [v["id"] for v in reversed(made) if v["visibility"] == "public"]),
                        (user["access"], [v["id"] for v in reversed(made)])):
        got, cursor = [], None
        for _ in range(10):
            doc = _list(api, token, tag=tag, limit=2, **({"cursor": cursor} if cursor else {}))
            assert len(doc["items"]) <= 2
            got += _ids(doc)
            cursor = doc["nextCursor"]
            if not cursor:
                break
        assert got == want


def test_videos_list_tag_mends_stale_mirrors(api, user, make_video):
    """A mirror whose video is gone, or that says public for a video that is not, never
    cuts a tag's list short: the page reads on past it (and the mirror is mended)."""
    import pymongo
    from bson import ObjectId

    from conftest import DB_NAME, MONGODB_URI

    tag = "m" + uuid.uuid4().hex[:12]
    made = [make_video(user, tags=tag) for _ in range(3)]
    hidden = make_video(user, tags=tag, visibility="private")
    client = pymongo.MongoClient(MONGODB_URI)
    try:
        mirrors = client[DB_NAME].video_tags
        newest = mirrors.find_one({"videoId": ObjectId(hidden["id"])})
        assert newest is not None, "the private video has no mirror"
        # A mirror of a video that does not exist, and the private video's marked public,
        # both newer than every real one: they head the first page.
        ghost = ObjectId()
        mirrors.insert_one({"_id": f"{ghost}:{tag}", "videoId": ghost, "tag": tag,
                            "ownerId": ObjectId(user["id"]), "public": True,
                            "createdAt": newest["createdAt"]})
        mirrors.update_one({"_id": newest["_id"]}, {"$set": {"public": True}})
        got, cursor = [], None
        for _ in range(10):
            doc = _list(api, tag=tag, limit=2, **({"cursor": cursor} if cursor else {}))
            got += _ids(doc)
            cursor = doc["nextCursor"]
            if not cursor:
                break
        assert got == [v["id"] for v in reversed(made)]
        assert mirrors.count_documents({"videoId": ghost}) == 0
        assert mirrors.find_one({"_id": newest["_id"]})["public"] is False
    finally:
        client.close()


def test_videos_list_tag_index_is_built_by_migrate(api, user, make_video):
    """A database written before video_tags (no mirrors, no record of the migration):
    stremoractl migrate builds the mirrors from the videos once, then records it."""
    import os
    import subprocess

    import pymongo
    from bson import ObjectId

    from conftest import CTL, DB_NAME, MONGODB_URI, REPO

    tag = "g" + uuid.uuid4().hex[:12]
    v = make_video(user, tags=f"{tag},second")
    client = pymongo.MongoClient(MONGODB_URI)
    try:
        db = client[DB_NAME]
        db.migrations.delete_one({"_id": "video_tags"})
        db.video_tags.delete_many({"videoId": ObjectId(v["id"])})
        assert db.migrations.count_documents({"_id": "video_tags"}) == 0
        p = subprocess.run([str(CTL), "migrate", "--schemas", str(REPO / "sql-free-schemas")],
                           env=dict(os.environ, MONGODB_URI=MONGODB_URI, STREMORA_DB_NAME=DB_NAME),
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert "mirrors made from the videos" in p.stdout, p.stdout
        assert sorted(d["tag"] for d in db.video_tags.find({"videoId": ObjectId(v["id"])})) == \
            sorted([tag, "second"])
        assert db.migrations.count_documents({"_id": "video_tags"}) == 1
        assert _ids(_list(api, user["access"], tag=tag)) == [v["id"]]
        # Recorded: a second migrate builds nothing.
        p = subprocess.run([str(CTL), "migrate", "--schemas", str(REPO / "sql-free-schemas")],
                           env=dict(os.environ, MONGODB_URI=MONGODB_URI, STREMORA_DB_NAME=DB_NAME),
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and "mirrors made" not in p.stdout, p.stdout + p.stderr
    finally:
        client.close()


def test_videos_list_q_matches_title_case_insensitively(api, user, make_video):
    mark = uuid.uuid4().hex[:10]
    v = make_video(user, title=f"Holiday In Rome {mark}")
    make_video(user, title=f"Work {mark}")
    assert _ids(_list(api, owner=user["id"], q="holiday in")) == [v["id"]]
    assert _ids(_list(api, owner=user["id"], q="ROME")) == [v["id"]]
    assert len(_list(api, owner=user["id"], q=mark)["items"]) == 2


@pytest.mark.parametrize(
    "q,expect",
    [
        ("a.c", ["dots"]),
        ("A.C (X)", ["dots"]),
        ("(x", ["dots"]),
        (".*", []),
        ("a+", []),
        ("[abc]", ["brackets"]),
        ("^abc", []),
        ("c$", []),
        ("\\d", ["backslash"]),
        ("a|b", []),
        ("{2}", []),
        ("abc", ["abc", "brackets"]),
    ],
    ids=["dot", "dot-case", "open-paren", "dot-star", "plus", "brackets", "caret", "dollar",
         "backslash", "pipe", "braces", "plain"],
)
def test_videos_list_q_is_literal(api, user, make_video, q, expect):
    titles = {"dots": "a.c (x)", "abc": "abc", "brackets": "x [abc] y", "backslash": "C:\\dir"}
    made = {k: make_video(user, title=t)["id"] for k, t in titles.items()}
    got = _ids(_list(api, owner=user["id"], q=q))
    assert sorted(got) == sorted(made[k] for k in expect), (q, got)


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1", "1.5", "", "1e2", "01x"])
def test_videos_list_invalid_limit(api, limit):
    assert_problem(api.get(f"{VIDEOS}?limit={limit}"), 400, "invalid_query")


@pytest.mark.parametrize("limit", ["1", "100"])
def test_videos_list_limit_bounds_accepted(api, limit):
    doc = _list(api, limit=limit)
    assert len(doc["items"]) <= int(limit)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "x" * 65,
        b64u("1700000000000"),
        b64u("abc." + "0" * 24),
        b64u("1700000000000.nothex"),
        b64u("-5." + "0" * 24),
        b64u("01700000000000." + "0" * 24),
    ],
    ids=["not-base64", "too-long", "no-id", "bad-time", "bad-id", "negative", "leading-zero"],
)
def test_videos_list_invalid_cursor(api, cursor):
    assert_problem(api.get(f"{VIDEOS}?cursor={cursor}"), 400, "invalid_cursor")


@pytest.mark.parametrize(
    "query",
    ["limit=%zz", "owner=%zz", "cursor=%zz", "cursor=%00", "tag=%00", "q=%e", "q=a%00b"],
    ids=["limit", "owner", "cursor", "cursor-nul", "tag-nul", "q", "q-nul"],
)
def test_videos_list_bad_percent_escape(api, query):
    # A value that does not decode is an invalid query, not an absent parameter (which would
    # silently widen the list). Sent raw: requests re-encodes a bad escape's "%" as "%25".
    assert_problem(raw_request(api, "GET", f"{VIDEOS}?{query}"), 400, codes={"invalid_query", "invalid_cursor"})


@pytest.mark.parametrize("owner", ["me", "0" * 23, "G" * 24, "6B082AFF4E68105E2F09A911"])
def test_videos_list_owner_not_an_id(api, owner):
    assert_problem(api.get(f"{VIDEOS}?owner={owner}"), 400, "invalid_query")


@pytest.mark.parametrize("tag", ["a,b", "x" * 41, "", ","], ids=["two", "41", "empty", "comma"])
def test_videos_list_invalid_tag(api, tag):
    assert_problem(api.get(f"{VIDEOS}?tag={tag}"), 400, "invalid_query")


def test_videos_list_q_too_long(api):
    assert_problem(api.get(f"{VIDEOS}?q={'q' * 101}"), 400, "invalid_query")
    assert api.get(f"{VIDEOS}?q={'q' * 100}").status_code == 200


def test_videos_list_refuses_a_bad_token(api, user):
    assert_problem(api.get(VIDEOS, token=user["access"] + "x"), 401, "invalid_token")


# ---------------------------------------------------------------------------------------------
# PATCH /api/v1/videos/{id}


def test_videos_update_by_owner(api, user, make_video):
    v = make_video(user)
    body = {"title": "New title", "description": "New description", "tags": ["B", "a ", "b"],
            "visibility": "unlisted"}
    r = api.patch(one(v["id"]), token=user["access"], json=body)
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "application/json", describe(r)
    got = assert_video(r.json(), id=v["id"], title="New title", description="New description",
                       tags=["b", "a"], visibility="unlisted", size=v["size"], sha256=v["sha256"],
                       createdAt=v["createdAt"], status=v["status"])
    assert got["updatedAt"] > v["updatedAt"]
    g = api.get(one(v["id"]))
    assert g.status_code == 200 and g.json() == got, describe(g)


@pytest.mark.parametrize(
    "body",
    [{"title": "Only title"}, {"description": ""}, {"tags": []}, {"visibility": "private"}],
    ids=["title", "description-empty", "tags-empty", "visibility"],
)
def test_videos_update_one_field(api, user, make_video, body):
    v = make_video(user, tags="keep", description="keep")
    r = api.patch(one(v["id"]), token=user["access"], json=body)
    assert r.status_code == 200, describe(r)
    expect = {**{k: v[k] for k in ("title", "description", "tags", "visibility")}, **body}
    assert_video(r.json(), **expect)
    assert api.get(one(v["id"]), token=user["access"]).json() == r.json()


def test_videos_update_empty_object_changes_nothing(api, user, make_video):
    v = make_video(user)
    r = api.patch(one(v["id"]), token=user["access"], json={})
    assert r.status_code == 200, describe(r)
    assert {k: r.json()[k] for k in ("title", "description", "tags", "visibility")} == {
        k: v[k] for k in ("title", "description", "tags", "visibility")
    }


def test_videos_update_every_error_at_once(api, user, make_video):
    # More errors than a problem lists (16): 15 unknown members plus tags, visibility and
    # title. It once wrote past the handler's error array; now it is a plain 422.
    v = make_video(user)
    body = {f"x{i:02d}": 1 for i in range(15)}
    body.update({"tags": 1, "visibility": "bogus", "title": "   "})
    r = api.patch(one(v["id"]), token=user["access"], json=body)
    p = assert_problem(r, 422, "validation_failed")
    assert 1 <= len(p["errors"]) <= 16
    assert {"field": "tags", "code": "wrong_type"} in p["errors"]
    assert api.get(one(v["id"]), token=user["access"]).json()["title"] == v["title"]


@pytest.mark.parametrize("desc", ["\u0436" * 5000, "\U0001f3ac" * 5000], ids=["2-byte", "4-byte"])
def test_videos_update_longest_description_in_any_script(api, user, make_video, desc):
    v = make_video(user)
    r = api.patch(one(v["id"]), token=user["access"], json={"description": desc})
    assert r.status_code == 200, describe(r)
    assert r.json()["description"] == desc


def test_videos_update_by_admin(api, user, admin, make_video):
    v = make_video(user, visibility="private")
    r = api.patch(one(v["id"]), token=admin["access"], json={"title": "Admin was here"})
    assert r.status_code == 200, describe(r)
    assert_video(r.json(), title="Admin was here", ownerId=user["id"], visibility="private")


def test_videos_update_other_user_public_forbidden(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner)
    assert_problem(api.patch(one(v["id"]), token=other["access"], json={"title": "Mine now"}), 403, "forbidden")
    assert same_video(api.get(one(v["id"])).json(), v)


def test_videos_update_other_user_unlisted_forbidden(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility="unlisted")
    assert_problem(api.patch(one(v["id"]), token=other["access"], json={"visibility": "public"}), 403, "forbidden")
    assert same_video(api.get(one(v["id"])).json(), v)


def test_videos_update_other_user_private_not_found(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility="private")
    r = api.patch(one(v["id"]), token=other["access"], json={"visibility": "public"})
    assert_problem(r, 404, "video_not_found")
    assert same_video(api.get(one(v["id"]), token=owner["access"]).json(), v)


def test_videos_update_needs_a_token(api, user, make_video):
    v = make_video(user)
    assert_problem(api.patch(one(v["id"]), json={"title": "x"}), 401, "missing_token")
    assert same_video(api.get(one(v["id"])).json(), v)


def test_videos_update_refuses_a_bad_token(api, user, make_video):
    v = make_video(user)
    assert_problem(api.patch(one(v["id"]), token=user["access"] + "x", json={"title": "x"}), 401, "invalid_token")


@pytest.mark.parametrize("vid", ["nothex", UNKNOWN_ID])
def test_videos_update_not_found(api, user, vid):
    assert_problem(api.patch(one(vid), token=user["access"], json={"title": "x"}), 404, "video_not_found")


@pytest.mark.parametrize(
    "body,field,code",
    [
        ({"owner": "x"}, "owner", "unknown_field"),
        ({"status": "ready"}, "status", "unknown_field"),
        ({"tags": "a,b"}, "tags", "wrong_type"),
        ({"tags": [1]}, "tags", "wrong_type"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags", "too_many"),
        ({"tags": ["x" * 41]}, "tags", "too_long"),
        ({"title": 5}, "title", "wrong_type"),
        ({"title": None}, "title", "null_not_allowed"),
        ({"title": ""}, "title", "too_short"),
        ({"title": "   "}, "title", "too_short"),
        ({"title": "t" * 201}, "title", "too_long"),
        ({"description": "d" * 5001}, "description", "too_long"),
        ({"visibility": "secret"}, "visibility", "invalid_format"),
        ({"visibility": "PUBLIC"}, "visibility", "invalid_format"),
        ({"title": "bell\x07"}, "title", "invalid_format"),
        ({"title": "two\nlines"}, "title", "invalid_format"),
        ({"title": "c1\u0085"}, "title", "invalid_format"),
        ({"title": "del\x7f"}, "title", "invalid_format"),
        ({"description": "esc\x1b[31m"}, "description", "invalid_format"),
        ({"description": "c1\u009b"}, "description", "invalid_format"),
        ({"tags": ["zero\u200bwidth"]}, "tags", "invalid_format"),
    ],
    ids=["unknown", "status", "tags-string", "tags-number", "tags-21", "tag-41", "title-number",
         "title-null", "title-empty", "title-spaces", "title-201", "description-5001",
         "visibility-secret", "visibility-upper", "title-bel", "title-newline", "title-c1",
         "title-del", "description-escape", "description-c1", "tag-zero-width"],
)
def test_videos_update_invalid(api, user, make_video, body, field, code):
    v = make_video(user, tags="keep")
    assert_validation(api.patch(one(v["id"]), token=user["access"], json=body), field, code)
    assert same_video(api.get(one(v["id"])).json(), v)


def test_videos_update_description_keeps_lines_and_tabs(api, user, make_video):
    v = make_video(user)
    desc = "line one\n\tindented\r\nline three"
    r = api.patch(one(v["id"]), token=user["access"], json={"description": desc})
    assert r.status_code == 200, describe(r)
    assert r.json()["description"] == desc


def test_videos_update_valid_field_beside_invalid_changes_nothing(api, user, make_video):
    v = make_video(user)
    r = api.patch(one(v["id"]), token=user["access"], json={"title": "Changed", "visibility": "nope"})
    assert_validation(r, "visibility", "invalid_format")
    assert same_video(api.get(one(v["id"])).json(), v)


def test_videos_update_limits_at_maximum(api, user, make_video):
    v = make_video(user)
    body = {"title": "é" * 200, "description": "d" * 5000, "tags": [f"{i:02d}" + "x" * 38 for i in range(20)]}
    r = api.patch(one(v["id"]), token=user["access"], json=body)
    assert r.status_code == 200, describe(r)
    assert_video(r.json(), **body)


def test_videos_update_not_json(api, user, make_video):
    v = make_video(user)
    r = api.patch(one(v["id"]), token=user["access"], data=b'{"title":"x"}', headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported_media_type")
    assert same_video(api.get(one(v["id"])).json(), v)


def test_videos_update_json_media_type_is_case_insensitive(api, user, make_video):
    v = make_video(user)
    r = api.patch(one(v["id"]), token=user["access"], data=b'{"title":"Cased"}',
                  headers={"Content-Type": "Application/JSON; charset=UTF-8"})
    assert r.status_code == 200, describe(r)
    assert r.json()["title"] == "Cased"


@pytest.mark.parametrize("body", [b"", b"{", b'{"title":"a","title":"b"}', b"[]"],
                         ids=["empty", "truncated", "duplicate-member", "array"])
def test_videos_update_invalid_json(api, user, make_video, body):
    v = make_video(user)
    r = api.patch(one(v["id"]), token=user["access"], data=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "invalid_json")
    assert same_video(api.get(one(v["id"])).json(), v)


def test_videos_update_body_too_large(api, user, make_video):
    v = make_video(user)
    body = b'{"description":"' + b"d" * (128 * 1024) + b'"}'
    r = api.patch(one(v["id"]), token=user["access"], data=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "body_too_large")


def test_videos_update_private_reaches_every_worker(api, user, make_video):
    v = make_video(user)
    for _ in range(20):  # every worker caches the public video
        r = api.get(one(v["id"]))
        assert r.status_code == 200, describe(r)
    r = api.patch(one(v["id"]), token=user["access"], json={"visibility": "private"})
    assert r.status_code == 200, describe(r)
    statuses = [api.get(one(v["id"])).status_code for _ in range(20)]
    assert statuses == [404] * 20, statuses
    pb = [api.get(one(f"{v['id']}/playback")).status_code for _ in range(10)]
    assert pb == [404] * 10, pb


def test_videos_update_public_again_reaches_every_worker(api, user, make_video):
    v = make_video(user, visibility="private")
    for _ in range(20):
        assert api.get(one(v["id"])).status_code == 404
    r = api.patch(one(v["id"]), token=user["access"], json={"visibility": "public", "title": "Back"})
    assert r.status_code == 200, describe(r)
    seen = [api.get(one(v["id"])) for _ in range(20)]
    assert [s.status_code for s in seen] == [200] * 20
    assert {s.json()["title"] for s in seen} == {"Back"}


def test_videos_update_changes_the_etag(api, user, make_video):
    v = make_video(user)
    old = api.get(one(v["id"])).headers.get("ETag")
    assert api.patch(one(v["id"]), token=user["access"], json={"title": "Etag"}).status_code == 200
    r = api.get(one(v["id"]), headers={"If-None-Match": old})
    assert r.status_code == 200 and r.json()["title"] == "Etag", describe(r)
    assert r.headers.get("ETag") != old


# ---------------------------------------------------------------------------------------------
# DELETE /api/v1/videos/{id}


def test_videos_delete_by_owner(api, user, make_video, videos_coll):
    v = make_video(user)
    source = get_playback(api, v["id"])["source"]
    assert api.get(source).status_code == 200
    folder = MEDIA / "videos" / v["id"]
    assert folder.is_dir()
    r = api.delete(one(v["id"]), token=user["access"])
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    assert_problem(api.get(one(v["id"])), 404, "video_not_found")
    assert_problem(api.get(one(v["id"]), token=user["access"]), 404, "video_not_found")
    assert not folder.exists(), f"{folder} is still there"
    assert owner_docs(videos_coll, user["id"]) == []
    gone = api.get(source)  # the old link: the token is still good, the file is not
    assert gone.status_code == 404, describe(gone)
    assert_problem(gone, 404, "not_found")


def test_videos_delete_by_admin(api, user, admin, make_video):
    v = make_video(user, visibility="private")
    r = api.delete(one(v["id"]), token=admin["access"])
    assert r.status_code == 204, describe(r)
    assert_problem(api.get(one(v["id"]), token=user["access"]), 404, "video_not_found")
    assert not (MEDIA / "videos" / v["id"]).exists()


def test_videos_delete_other_user_public_forbidden(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner)
    assert_problem(api.delete(one(v["id"]), token=other["access"]), 403, "forbidden")
    assert same_video(api.get(one(v["id"])).json(), v)
    assert (MEDIA / "videos" / v["id"] / "source.mp4").is_file()


def test_videos_delete_other_user_private_not_found(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility="private")
    assert_problem(api.delete(one(v["id"]), token=other["access"]), 404, "video_not_found")
    assert same_video(api.get(one(v["id"]), token=owner["access"]).json(), v)
    assert (MEDIA / "videos" / v["id"] / "source.mp4").is_file()


def test_videos_delete_needs_a_token(api, user, make_video):
    v = make_video(user)
    assert_problem(api.delete(one(v["id"])), 401, "missing_token")
    assert same_video(api.get(one(v["id"])).json(), v)


@pytest.mark.parametrize("vid", ["nothex", UNKNOWN_ID])
def test_videos_delete_not_found(api, user, vid):
    assert_problem(api.delete(one(vid), token=user["access"]), 404, "video_not_found")


def test_videos_delete_twice(api, user, make_video):
    v = make_video(user)
    assert api.delete(one(v["id"]), token=user["access"]).status_code == 204
    assert_problem(api.delete(one(v["id"]), token=user["access"]), 404, "video_not_found")


def test_videos_delete_reaches_every_worker_and_the_list(api, user, make_video):
    v = make_video(user)
    for _ in range(20):
        assert api.get(one(v["id"])).status_code == 200
    assert _ids(_list(api, owner=user["id"])) == [v["id"]]
    assert api.delete(one(v["id"]), token=user["access"]).status_code == 204
    statuses = [api.get(one(v["id"])).status_code for _ in range(20)]
    assert statuses == [404] * 20, statuses
    assert _list(api, owner=user["id"])["items"] == []


# ---------------------------------------------------------------------------------------------
# GET /api/v1/videos/{id}/playback


def test_videos_playback_public_anonymous(api, user, make_video):
    v = make_video(user)
    r = api.get(one(f"{v['id']}/playback"))
    now = time.time()
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "application/json", describe(r)
    doc = r.json()
    assert set(doc) == PLAYBACK_KEYS, doc
    assert doc["hls"] is None and doc["thumbnail"] is None, doc
    expires = parse_time(doc["expiresAt"])
    assert abs(expires - (now + LINK_TTL)) <= 30, (doc["expiresAt"], now, LINK_TTL)
    m = re.fullmatch(MEDIA_LINK_RE, doc["source"])
    assert m, doc["source"]
    kid, expiry, _, vid, path = m.groups()
    assert vid == v["id"] and path == "source.mp4", doc["source"]
    assert int(expiry) == int(expires), (expiry, doc["expiresAt"])


def test_videos_playback_unlisted_anonymous(api, user, make_video):
    v = make_video(user, visibility="unlisted")
    doc = get_playback(api, v["id"])
    assert doc["source"].endswith(f"/{v['id']}/source.mp4")


def test_videos_playback_private_anonymous_not_found(api, user, make_video):
    v = make_video(user, visibility="private")
    assert_problem(api.get(one(f"{v['id']}/playback")), 404, "video_not_found")


def test_videos_playback_private_other_user_not_found(api, make_user, make_video):
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility="private")
    assert_problem(api.get(one(f"{v['id']}/playback"), token=other["access"]), 404, "video_not_found")


def test_videos_playback_private_owner(api, user, make_video):
    v = make_video(user, visibility="private")
    doc = get_playback(api, v["id"], token=user["access"])
    assert api.get(doc["source"]).status_code == 200


def test_videos_playback_private_admin(api, user, admin, make_video):
    v = make_video(user, visibility="private")
    doc = get_playback(api, v["id"], token=admin["access"])
    assert re.fullmatch(MEDIA_LINK_RE, doc["source"])


@pytest.mark.parametrize("vid", MALFORMED_IDS + [UNKNOWN_ID])
def test_videos_playback_not_found(api, vid):
    assert_problem(api.get(one(f"{vid}/playback")), 404, "video_not_found")


def test_videos_playback_refuses_a_bad_token(api, user, make_video):
    v = make_video(user)
    assert_problem(api.get(one(f"{v['id']}/playback"), token=user["access"] + "x"), 401, "invalid_token")


def test_videos_playback_source_extension_follows_the_container(api, user, make_video):
    v = make_video(user, kind="webm")
    assert get_playback(api, v["id"])["source"].endswith(f"/{v['id']}/source.webm")


def test_videos_list_anonymous_cache_sees_every_change(api, user, make_video):
    # Anonymous list pages are cached per worker (the home page): a change made through
    # any worker shows on the very next list, whichever worker answers it.
    v = make_video(user, visibility="public", title="Before")
    q = {"owner": user["id"]}
    for _ in range(8):  # every worker of the pool has the page cached, most likely
        assert [(x["id"], x["title"]) for x in _list(api, **q)["items"]] == [(v["id"], "Before")]
    r = api.patch(one(v["id"]), token=user["access"], json={"title": "After"})
    assert r.status_code == 200, describe(r)
    for _ in range(8):
        assert [x["title"] for x in _list(api, **q)["items"]] == ["After"]
    r = api.patch(one(v["id"]), token=user["access"], json={"visibility": "private"})
    assert r.status_code == 200, describe(r)
    for _ in range(8):
        assert _list(api, **q)["items"] == []
    # The owner's own list is never the cached one.
    assert _ids(_list(api, token=user["access"], **q)) == [v["id"]]
