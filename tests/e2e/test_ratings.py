"""Ratings of videos: PUT/DELETE /api/v1/videos/{id}/rating (ratings_video_put,
ratings_video_delete), GET /api/v1/users/me/likes (ratings_likes), and what video answers show
of them and of their owner: likeCount/dislikeCount, myRating (per caller, after the shared
cache) and the owner's card (GET by id and lists).

Counters move only when a rating really changed: 50 identical PUTs racing move likeCount by
exactly one. Whoever cannot see a video cannot rate it (404 as for a missing one).
The plan checks at the end pin that every ratings query reads through an index on the local
server (the approach of test_db_plans.py).
"""

import datetime
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pymongo
import pytest
from bson import ObjectId

from conftest import (
    BASE_URL,
    DB_NAME,
    MONGODB_URI,
    VIDEOS,
    Api,
    _path_item,
    assert_index_search,
    assert_problem,
    assert_video,
    create_user,
    describe,
    media_type,
    openapi_spec,
    wait_until,
)

LIKES = "/api/v1/users/me/likes"
MALFORMED_IDS = ["nothex", "0" * 23, "0" * 25, "6B082AFF4E68105E2F09A911"]
UNKNOWN_ID = "0123456789abcdef01234567"


def rating_path(vid):
    return f"{VIDEOS}/{vid}/rating"


def problem(resp, status, code):
    """A problem answer with this status and code. Checked against docs/openapi.yaml when it
    documents the route (once the lead merged ratings-openapi.yaml), else by shape only."""
    path = resp.request.url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
    if _path_item(openapi_spec(), "/" + path) is not None and "/rating" not in path \
            and "/likes" not in path:
        return assert_problem(resp, status, code)
    assert resp.status_code == status, describe(resp)
    assert media_type(resp) == "application/problem+json", describe(resp)
    body = resp.json()
    assert body.get("code") == code and body.get("status") == status, describe(resp)
    return body


def parallel(fn, items, workers):
    """fn(api, item) for each item from a pool of threads, each with its own client."""
    import threading

    local = threading.local()

    def run(item):
        if not hasattr(local, "api"):
            local.api = Api(BASE_URL)
        return fn(local.api, item)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, items))


def rate(api, who, vid, value):
    return api.put(rating_path(vid), json={"rating": value}, token=who["access"])


def get_video(api, vid, who=None, **kw):
    r = api.get(f"{VIDEOS}/{vid}", token=who["access"] if who else None, **kw)
    assert r.status_code == 200, describe(r)
    return assert_video(r.json())


@pytest.fixture(scope="module")
def ratings_coll():
    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000)
    try:
        yield client[DB_NAME]["ratings"]
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# PUT /api/v1/videos/{id}/rating, DELETE


def test_ratings_put_like(api, make_user, make_video):
    owner, fan = make_user(), make_user()
    v = make_video(owner)
    r = rate(api, fan, v["id"], "like")
    assert r.status_code == 200, describe(r)
    assert r.json() == {"rating": "like", "likeCount": 1, "dislikeCount": 0}
    doc = get_video(api, v["id"], fan)
    assert (doc["likeCount"], doc["dislikeCount"], doc["myRating"]) == (1, 0, "like")


def test_ratings_put_same_twice_counts_once(api, make_user, make_video):
    owner, fan = make_user(), make_user()
    v = make_video(owner)
    assert rate(api, fan, v["id"], "dislike").json()["dislikeCount"] == 1
    r = rate(api, fan, v["id"], "dislike")
    assert r.status_code == 200, describe(r)
    assert r.json() == {"rating": "dislike", "likeCount": 0, "dislikeCount": 1}


def test_ratings_switch_moves_both_counters(api, make_user, make_video):
    owner, fan = make_user(), make_user()
    v = make_video(owner)
    assert rate(api, fan, v["id"], "like").json() == {"rating": "like", "likeCount": 1,
                                                      "dislikeCount": 0}
    r = rate(api, fan, v["id"], "dislike")
    assert r.json() == {"rating": "dislike", "likeCount": 0, "dislikeCount": 1}, describe(r)
    doc = get_video(api, v["id"], fan)
    assert (doc["likeCount"], doc["dislikeCount"], doc["myRating"]) == (0, 1, "dislike")
    r = rate(api, fan, v["id"], "like")
    assert r.json() == {"rating": "like", "likeCount": 1, "dislikeCount": 0}, describe(r)


def test_ratings_delete_brings_back_and_is_idempotent(api, make_user, make_video, ratings_coll):
    owner, fan = make_user(), make_user()
    v = make_video(owner)
    rate(api, fan, v["id"], "like")
    get_video(api, v["id"], fan)  # cached with the like
    for _ in range(2):
        r = api.delete(rating_path(v["id"]), token=fan["access"])
        assert r.status_code == 204 and r.content == b"", describe(r)
        doc = get_video(api, v["id"], fan)
        assert (doc["likeCount"], doc["dislikeCount"], doc["myRating"]) == (0, 0, None)
    assert ratings_coll.count_documents({"targetId": ObjectId(v["id"])}) == 0


def test_ratings_owner_may_rate_own_private_video(api, user, make_video):
    v = make_video(user, visibility="private")
    r = rate(api, user, v["id"], "like")
    assert r.status_code == 200 and r.json()["likeCount"] == 1, describe(r)


def test_ratings_admin_may_rate_a_private_video(api, user, admin, make_video):
    v = make_video(user, visibility="private")
    assert rate(api, admin, v["id"], "dislike").status_code == 200


def test_ratings_unlisted_video_by_anyone_with_the_id(api, make_user, make_video):
    owner, fan = make_user(), make_user()
    v = make_video(owner, visibility="unlisted")
    assert rate(api, fan, v["id"], "like").status_code == 200


@pytest.mark.parametrize("body, field, code", [
    ({"rating": "love"}, "rating", "invalid_format"),
    ({"rating": "LIKE"}, "rating", "invalid_format"),
    ({"rating": ""}, "rating", "too_short"),
    ({}, "rating", "required"),
    ({"rating": "like", "stars": 5}, "stars", "unknown_field"),
    ({"rating": 1}, "rating", "wrong_type"),
    ({"rating": True}, "rating", "wrong_type"),
    ({"rating": None}, "rating", "null_not_allowed"),
])
def test_ratings_put_validation(api, make_user, make_video, body, field, code):
    owner, fan = make_user(), make_user()
    v = make_video(owner)
    r = api.put(rating_path(v["id"]), json=body, token=fan["access"])
    assert r.status_code == 422, describe(r)
    errors = r.json().get("errors")
    assert (field, code) in [(e["field"], e["code"]) for e in errors], describe(r)
    assert get_video(api, v["id"])["likeCount"] == 0


def test_ratings_put_not_json(api, user, make_video):
    v = make_video(user)
    r = api.put(rating_path(v["id"]), data=b"{like", token=user["access"],
                headers={"Content-Type": "application/json"})
    problem(r, 400, "invalid_json")


# The ownership matrix: (who, video's visibility, id kind) -> status and code, for both verbs.
MATRIX = [
    ("anonymous", "public", "real", 401, "missing_token"),
    ("anonymous", "private", "real", 401, "missing_token"),
    ("other", "private", "real", 404, "video_not_found"),
    ("other", "public", "malformed", 404, "video_not_found"),
    ("other", "public", "unknown", 404, "video_not_found"),
    ("owner", "private", "real", None, None),
    ("other", "public", "real", None, None),
    ("other", "unlisted", "real", None, None),
]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("who, visibility, idkind, status, code", MATRIX)
def test_ratings_ownership_matrix(api, make_user, make_video, method, who, visibility, idkind,
                                  status, code):
    owner, other = make_user(), make_user()
    v = make_video(owner, visibility=visibility)
    vid = {"real": v["id"], "unknown": UNKNOWN_ID}.get(idkind, "nothex")
    token = {"anonymous": None, "owner": owner["access"], "other": other["access"]}[who]
    kw = {"json": {"rating": "like"}} if method == "PUT" else {}
    r = api.request(method, rating_path(vid), token=token, **kw)
    if status is None:
        assert r.status_code == (200 if method == "PUT" else 204), describe(r)
    else:
        problem(r, status, code)
        assert get_video(api, v["id"], owner)["likeCount"] == 0


@pytest.mark.parametrize("vid", MALFORMED_IDS)
def test_ratings_malformed_id_not_found(api, user, vid):
    problem(rate(api, user, vid, "like"), 404, "video_not_found")
    problem(api.delete(rating_path(vid), token=user["access"]), 404, "video_not_found")


def test_ratings_bad_token_refused(api, user, make_video):
    v = make_video(user)
    r = api.put(rating_path(v["id"]), json={"rating": "like"}, token="not.a.token")
    problem(r, 401, "invalid_token")


# ---------------------------------------------------------------------------------------------
# Concurrency


def test_ratings_50_parallel_identical_puts_count_once(api, make_user, make_video, ratings_coll):
    owner, fan = make_user(), make_user()
    v = make_video(owner)
    answers = parallel(lambda c, _: rate(c, fan, v["id"], "like"), range(50), 50)
    assert all(r.status_code == 200 for r in answers), [describe(r) for r in answers
                                                        if r.status_code != 200][:3]
    assert all(r.json()["rating"] == "like" for r in answers)
    doc = get_video(api, v["id"], fan)
    assert (doc["likeCount"], doc["dislikeCount"], doc["myRating"]) == (1, 0, "like")
    assert ratings_coll.count_documents({"targetId": ObjectId(v["id"])}) == 1


def test_ratings_50_users_in_parallel_count_50(api, make_user, make_video):
    owner = make_user()
    v = make_video(owner)
    fans = parallel(lambda c, _: create_user(c), range(50), 16)
    answers = parallel(lambda c, f: rate(c, f, v["id"], "like"), fans, 50)
    assert all(r.status_code == 200 for r in answers), [describe(r) for r in answers
                                                        if r.status_code != 200][:3]
    assert get_video(api, v["id"])["likeCount"] == 50
    # and half of them switching at once moves 25 from one counter to the other
    parallel(lambda c, f: rate(c, f, v["id"], "dislike"), fans[:25], 50)
    doc = get_video(api, v["id"])
    assert (doc["likeCount"], doc["dislikeCount"]) == (25, 25)


def test_ratings_parallel_put_and_delete_stay_consistent(api, make_user, make_video, ratings_coll):
    owner, fan = make_user(), make_user()
    v = make_video(owner)

    def one(c, i):
        if i % 3 == 2:
            return c.delete(rating_path(v["id"]), token=fan["access"])
        return rate(c, fan, v["id"], ["like", "dislike"][i % 3])

    answers = parallel(one, range(60), 30)
    assert all(r.status_code in (200, 204) for r in answers), [describe(r) for r in answers][:3]
    stored = list(ratings_coll.find({"targetId": ObjectId(v["id"])}))
    doc = get_video(api, v["id"])
    likes = sum(1 for d in stored if d["value"] == "like")
    dislikes = sum(1 for d in stored if d["value"] == "dislike")
    assert (doc["likeCount"], doc["dislikeCount"]) == (likes, dislikes), stored


# ---------------------------------------------------------------------------------------------
# What video answers show: myRating per caller, the owner's card


def test_ratings_my_rating_per_caller(api, make_user, make_video):
    owner, a, b = make_user(), make_user(), make_user()
    v = make_video(owner)
    # ETags below must not move under the job worker's progress writes: processing ends first.
    wait_until(lambda: api.get(f"{VIDEOS}/{v['id']}").json()["status"] in ("ready", "failed"),
               180, "the video's processing to end", interval=0.25)
    rate(api, a, v["id"], "like")
    rate(api, b, v["id"], "dislike")
    ra = api.get(f"{VIDEOS}/{v['id']}", token=a["access"])
    rb = api.get(f"{VIDEOS}/{v['id']}", token=b["access"])
    rn = api.get(f"{VIDEOS}/{v['id']}")
    ro = api.get(f"{VIDEOS}/{v['id']}", token=owner["access"])
    assert [x.json()["myRating"] for x in (ra, rb, rn, ro)] == ["like", "dislike", None, None]
    for x in (ra, rb, rn, ro):
        assert_video(x.json(), likeCount=1, dislikeCount=1)
    # each ETag is that of the body its caller got
    etags = [x.headers["ETag"] for x in (ra, rb, rn)]
    assert len(set(etags)) == 3, etags
    assert rn.headers["Cache-Control"] == "public, no-cache"
    assert ra.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in rn.headers.get("Vary", "")
    h = {"If-None-Match": ra.headers["ETag"]}
    r = api.get(f"{VIDEOS}/{v['id']}", token=a["access"], headers=h)
    assert r.status_code == 304, describe(r)
    for other in (b["access"], None):
        r = api.get(f"{VIDEOS}/{v['id']}", token=other, headers=h)
        assert r.status_code == 200, describe(r)
    # a's rating changes: a's old ETag no longer matches
    rate(api, a, v["id"], "dislike")
    r = api.get(f"{VIDEOS}/{v['id']}", token=a["access"], headers=h)
    assert r.status_code == 200 and r.json()["myRating"] == "dislike", describe(r)
    assert r.json()["dislikeCount"] == 2 and r.json()["likeCount"] == 0
    r2 = api.get(f"{VIDEOS}/{v['id']}", token=a["access"], headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 304, describe(r2)


def test_ratings_cached_counts_follow_ratings(api, make_user, make_video):
    owner, fan = make_user(), make_user()
    v = make_video(owner)
    for _ in range(3):  # fills every worker's cache
        assert get_video(api, v["id"])["likeCount"] == 0
    rate(api, fan, v["id"], "like")
    for _ in range(6):
        assert get_video(api, v["id"])["likeCount"] == 1
        assert get_video(api, v["id"], fan)["myRating"] == "like"


def card_ok(card, u, display_name=None):
    assert card == {"id": u["id"], "username": u["username"],
                    "displayName": display_name or card["displayName"],
                    "avatarUrl": None, "avatarSmallUrl": None}, card


def test_ratings_owner_card_on_get_and_lists(api, make_user, make_video):
    owner = make_user()
    v = make_video(owner)
    doc = get_video(api, v["id"])
    card_ok(doc["owner"], owner)
    assert "email" not in json.dumps(doc["owner"])
    r = api.get(VIDEOS + "?" + urlencode({"owner": owner["id"]}))
    assert r.status_code == 200, describe(r)
    item = r.json()["items"][0]
    assert_video(item)
    card_ok(item["owner"], owner)
    assert item["myRating"] is None


def test_ratings_owner_card_follows_display_name(api, make_user, make_video):
    owner = make_user()
    v = make_video(owner)
    q = VIDEOS + "?" + urlencode({"owner": owner["id"]})
    for _ in range(4):  # cached by id and as an anonymous list on the workers
        get_video(api, v["id"])
        assert api.get(q).status_code == 200
    name = "Renamed " + uuid.uuid4().hex[:6]
    r = api.patch("/api/v1/users/me", json={"displayName": name}, token=owner["access"])
    assert r.status_code == 200, describe(r)
    for _ in range(4):
        card_ok(get_video(api, v["id"])["owner"], owner, name)
        card_ok(get_video(api, v["id"], owner)["owner"], owner, name)
        card_ok(api.get(q).json()["items"][0]["owner"], owner, name)
        card_ok(api.get(q, token=owner["access"]).json()["items"][0]["owner"], owner, name)


def test_ratings_owner_card_change_ends_etag(api, make_user, make_video):
    owner = make_user()
    v = make_video(owner)
    r = api.get(f"{VIDEOS}/{v['id']}")
    api.patch("/api/v1/users/me", json={"displayName": "New " + uuid.uuid4().hex[:6]},
              token=owner["access"])
    r2 = api.get(f"{VIDEOS}/{v['id']}", headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 200, describe(r2)


# ---------------------------------------------------------------------------------------------
# GET /api/v1/users/me/likes


def likes_page(api, who, **query):
    r = api.get(LIKES + ("?" + urlencode(query) if query else ""), token=who["access"])
    assert r.status_code == 200, describe(r)
    doc = r.json()
    assert set(doc) == {"items", "nextCursor"}, doc
    for item in doc["items"]:
        assert_video(item, myRating="like")
        assert "owner" in item
    return doc


def walk(api, who, limit):
    pages, cursor = [], None
    while True:
        q = {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        doc = likes_page(api, who, **q)
        pages.append([v["id"] for v in doc["items"]])
        cursor = doc["nextCursor"]
        if cursor is None:
            return pages


def test_ratings_likes_newest_first_and_pages(api, make_user, make_video):
    owner, fan = make_user(), make_user()
    vids = [make_video(owner)["id"] for _ in range(5)]
    for vid in vids:
        assert rate(api, fan, vid, "like").status_code == 200
    disliked = make_video(owner)["id"]
    rate(api, fan, disliked, "dislike")
    assert [v["id"] for v in likes_page(api, fan)["items"]] == vids[::-1]
    pages = walk(api, fan, 2)
    assert pages == [vids[4:2:-1], vids[2:0:-1], vids[:1]], pages
    # liking one again after clearing it makes it the newest
    api.delete(rating_path(vids[0]), token=fan["access"])
    rate(api, fan, vids[0], "like")
    assert [v["id"] for v in likes_page(api, fan)["items"]][0] == vids[0]
    card_ok(likes_page(api, fan)["items"][0]["owner"], owner)


def test_ratings_likes_skips_videos_no_longer_visible(api, make_user, make_video):
    owner, fan = make_user(), make_user()
    vids = [make_video(owner)["id"] for _ in range(5)]
    for vid in vids:
        rate(api, fan, vid, "like")
    for vid in (vids[3], vids[4]):
        r = api.patch(f"{VIDEOS}/{vid}", json={"visibility": "private"}, token=owner["access"])
        assert r.status_code == 200, describe(r)
    r = api.delete(f"{VIDEOS}/{vids[1]}", token=owner["access"])
    assert r.status_code == 204, describe(r)
    pages = walk(api, fan, 2)
    # the first page's likes are both hidden: an empty page that still leads on
    assert pages[0] == [] and len(pages) >= 2, pages
    assert [v for p in pages for v in p] == [vids[2], vids[0]], pages
    # the owner sees their own private videos in their likes
    for vid in vids[2:]:
        assert rate(api, owner, vid, "like").status_code == 200
    assert [v["id"] for v in likes_page(api, owner)["items"]] == vids[:1:-1]


def test_ratings_likes_empty(api, user):
    assert likes_page(api, user) == {"items": [], "nextCursor": None}


def test_ratings_likes_only_mine(api, make_user, make_video):
    owner, a, b = make_user(), make_user(), make_user()
    v = make_video(owner)
    rate(api, a, v["id"], "like")
    assert likes_page(api, b)["items"] == []


def test_ratings_likes_anonymous(api):
    problem(api.get(LIKES), 401, "missing_token")


@pytest.mark.parametrize("query, code", [
    ("limit=0", "invalid_query"), ("limit=101", "invalid_query"), ("limit=x", "invalid_query"),
    ("cursor=nope", "invalid_cursor"), ("cursor=", "invalid_cursor"), ("limit=%zz", "invalid_query"),
])
def test_ratings_likes_bad_query(api, user, query, code):
    problem(api.get(f"{LIKES}?{query}", token=user["access"]), 400, code)


# ---------------------------------------------------------------------------------------------
# Plans: every ratings query reads through an index (common/db_ratings.c, ctl/recount.c)

T0 = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)


def test_ratings_plans_use_an_index(scratch):
    db = scratch
    users = [ObjectId() for _ in range(20)]
    targets = [ObjectId() for _ in range(60)]
    docs = []
    for i, u in enumerate(users):
        for j in range(0, 60, 1 + i % 4):
            docs.append({"_id": ObjectId(), "userId": u, "targetId": targets[j],
                         "kind": ["video", "comment", "post"][j % 3],
                         "value": ["like", "dislike"][(i + j) % 2],
                         "at": T0 + datetime.timedelta(seconds=(i * 60 + j) // 2)})
    db.ratings.insert_many(docs)
    db.videos.insert_many([{"_id": t, "likeCount": 0, "dislikeCount": 0} for t in targets])
    u, t, d = users[3], targets[6], docs[40]
    # one user's rating of a target: set, change, clear, myRating (the planner may take the
    # target's own index: an equality search as well)
    one = "userId_1_targetId_1|targetId_1"
    assert_index_search(db, "ratings", {"userId": u, "targetId": t}, one)
    assert_index_search(db, "ratings", {"userId": u, "targetId": t, "value": "like"}, one)
    # a page's myRating: the local planner may take the user's prefix of the likes index (a
    # search bounded by the user's ratings; MongoDB takes the compound one)
    assert_index_search(db, "ratings", {"userId": u, "targetId": {"$in": targets[:50]}},
                        one + "|userId_1_kind_1_value_1_at_-1__id_-1")
    # a user's drop (a page at a time)
    assert_index_search(db, "ratings", {"userId": u}, "userId_1_targetId_1|userId_1_kind_1_value_1_at_-1__id_-1",
                        limit=200)
    # a target's drop; recount's page of targets
    assert_index_search(db, "ratings", {"targetId": t}, "targetId_1")
    assert_index_search(db, "ratings", {"kind": "video", "value": "like",
                                        "targetId": {"$in": targets[:100]}}, "targetId_1")
    # a user's likes, newest first, and the next page (keyset on at, _id)
    sort = [("userId", 1), ("kind", 1), ("value", 1), ("at", -1), ("_id", -1)]
    f = {"userId": u, "kind": "video", "value": "like"}
    assert_index_search(db, "ratings", f, "userId_1_kind_1_value_1_at_-1__id_-1", sort)
    nxt = dict(f, **{"$or": [{"at": {"$lt": d["at"]}}, {"at": d["at"], "_id": {"$lt": d["_id"]}}]})
    assert_index_search(db, "ratings", nxt, "userId_1_kind_1_value_1_at_-1__id_-1", sort)
    # (recount reads every target once through one cursor: a scan by nature, not a query)


def test_ratings_likes_keyset_matches_a_full_scan(scratch):
    """The likes query pages through exactly what a full scan gives, in the same order."""
    db = scratch
    u = ObjectId()
    docs = [{"_id": ObjectId(), "userId": u, "targetId": ObjectId(), "kind": "video",
             "value": ["like", "dislike"][i % 5 == 0], "at": T0 + datetime.timedelta(seconds=i // 3)}
            for i in range(90)]
    db.ratings.insert_many(docs)
    sort = [("userId", 1), ("kind", 1), ("value", 1), ("at", -1), ("_id", -1)]
    f = {"userId": u, "kind": "video", "value": "like"}
    expected = [d["_id"] for d in sorted((d for d in docs if d["value"] == "like"),
                                         key=lambda d: (d["at"], d["_id"]), reverse=True)]
    got, last = [], None
    while True:
        q = dict(f) if last is None else dict(f, **{"$or": [{"at": {"$lt": last["at"]}},
                                                            {"at": last["at"], "_id": {"$lt": last["_id"]}}]})
        page = list(db.ratings.find(q).sort(sort).limit(7))
        got += [d["_id"] for d in page]
        if len(page) < 7:
            break
        last = page[-1]
    assert got == expected
