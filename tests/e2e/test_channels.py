"""Channels, subscriptions and the feed (fcgi/channels.c, common/db_subscriptions.c, the channel
and feed queries of common/db_videos.c).

Most videos here are written straight into the videos collection (ready, public or not, with
chosen createdAt and viewCount), so that pages, sorts and visibility can be checked on many
videos without transcoding each; one test uploads a real one. Problem answers are checked
for their RFC 9457 shape and code here (problem()), not against docs/openapi.yaml: these
routes' operations are in /work/wt/channels-openapi.yaml until the lead merges them.
"""

import datetime
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pymongo
import pytest
from bson import Int64, ObjectId
from bson.raw_bson import RawBSONDocument

from conftest import (
    DB_NAME,
    MONGODB_URI,
    assert_index_search,
    clip,
    describe,
    media_type,
    upload,
    video_parts,
)

CHANNELS = "/api/v1/channels"
FEED = "/api/v1/feed"
MY_SUBS = "/api/v1/users/me/subscriptions"
CHANNEL_KEYS = {"id", "username", "displayName", "bio", "avatarUrl", "avatarSmallUrl", "bannerUrl",
                "subscriberCount", "videoCount", "createdAt", "isSubscribed"}
CARD_KEYS = {"id", "username", "displayName", "avatarUrl", "avatarSmallUrl"}
T0 = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)


def problem(resp, status, code):
    assert resp.status_code == status, describe(resp)
    assert media_type(resp) == "application/problem+json", describe(resp)
    body = resp.json()
    assert body["code"] == code and body["status"] == status, describe(resp)
    for member in ("type", "title", "detail"):
        assert isinstance(body.get(member), str), describe(resp)
    return body


@pytest.fixture(scope="module")
def db():
    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000, tz_aware=True)
    try:
        yield client[DB_NAME]
    finally:
        client.close()


def put_video(db, owner, i=0, *, visibility="public", status="ready", views=0, at=None, **kw):
    """Writes a video document as the upload and the worker leave it; returns its id (hex)."""
    at = at or (T0 + datetime.timedelta(seconds=i))
    doc = {"_id": ObjectId(), "ownerId": ObjectId(owner["id"]), "title": f"v{i}", "description": "",
           "tags": [], "visibility": visibility, "status": status, "size": Int64(1000),
           "sha256": "0" * 64, "source": "source.mp4", "mimeType": "video/mp4", "hls": status == "ready",
           "thumbnail": status == "ready", "viewCount": Int64(views), "likeCount": Int64(0),
           "dislikeCount": Int64(0), "commentCount": Int64(0), "commentsEnabled": True,
           "createdAt": at, "updatedAt": at}
    doc.update(kw)
    db.videos.insert_one(doc)
    return str(doc["_id"])


def walk(api, path, token=None, limit=7, **params):
    """Every page of a list through its cursor: (ids in order, number of pages)."""
    got, cursor, pages = [], None, 0
    while True:
        q = dict(params, limit=limit)
        if cursor:
            q["cursor"] = cursor
        r = api.get(path + "?" + "&".join(f"{k}={v}" for k, v in q.items()), token=token)
        assert r.status_code == 200, describe(r)
        doc = r.json()
        assert set(doc) == {"items", "nextCursor"}, doc
        assert len(doc["items"]) <= limit
        got += doc["items"]
        pages += 1
        cursor = doc["nextCursor"]
        if cursor is None:
            return got, pages
        assert len(doc["items"]) == limit, doc


def no_private_fields(doc):
    text = json.dumps(doc)
    for k in ("email", "role", "passwordHash", "token"):
        assert f'"{k}"' not in text, doc


# --- GET /channels/{username} ----------------------------------------------------------------


def test_channels_get_shape_and_is_subscribed(api, make_user, db):
    owner, fan = make_user(), make_user()
    put_video(db, owner, 1)
    r = api.get(f"{CHANNELS}/{owner['username']}")
    assert r.status_code == 200, describe(r)
    ch = r.json()
    assert set(ch) == CHANNEL_KEYS, ch
    no_private_fields(ch)
    assert ch["id"] == owner["id"] and ch["username"] == owner["username"]
    assert ch["isSubscribed"] is None and ch["subscriberCount"] == 0 and ch["videoCount"] == 1
    assert ch["bio"] == "" and ch["avatarUrl"] is None and ch["bannerUrl"] is None
    r = api.get(f"{CHANNELS}/{owner['username']}", token=fan["access"])
    assert r.json()["isSubscribed"] is False
    assert api.put(f"{CHANNELS}/{owner['username']}/subscription", token=fan["access"]).status_code == 201
    ch = api.get(f"{CHANNELS}/{owner['username']}", token=fan["access"]).json()
    assert ch["isSubscribed"] is True and ch["subscriberCount"] == 1
    assert api.get(f"{CHANNELS}/{owner['username']}", token=owner["access"]).json()["isSubscribed"] is False


@pytest.mark.parametrize("name", ["nobody" + uuid.uuid4().hex[:10], "Bad!Name", "ab", "x" * 31,
                                  "UPPER", "x@y.org", "a%20b"])
def test_channels_get_unknown_or_malformed_is_404(api, name):
    problem(api.get(f"{CHANNELS}/{name}"), 404, "channel_not_found")
    problem(api.get(f"{CHANNELS}/{name}/videos"), 404, "channel_not_found")


def test_channels_get_counts_an_uploaded_video(api, user, clips):
    r = upload(api, user["access"], video_parts(clip(clips, "mp4"), title="real one"))
    assert r.status_code == 201, describe(r)
    v = r.json()
    ch = api.get(f"{CHANNELS}/{user['username']}").json()
    assert ch["videoCount"] == 1
    items = api.get(f"{CHANNELS}/{user['username']}/videos").json()["items"]
    assert [i["id"] for i in items] == [v["id"]]


# --- GET /channels/{username}/videos: who sees what ------------------------------------------

STATES = [("public", "ready"), ("public", "processing"), ("public", "failed"), ("public", "uploading"),
          ("unlisted", "ready"), ("private", "ready"), ("private", "failed")]
LISTED = {("public", "ready"), ("public", "processing")}
OWNS = {s for s in STATES if s[1] != "uploading"}


@pytest.mark.parametrize("who,expect", [("anonymous", LISTED), ("second user", LISTED),
                                        ("owner", OWNS), ("admin", OWNS)])
def test_channels_videos_visibility_matrix(api, make_user, admin, db, who, expect):
    owner, other = make_user(), make_user()
    ids = {put_video(db, owner, i, visibility=vis, status=st): (vis, st) for i, (vis, st) in enumerate(STATES)}
    token = {"anonymous": None, "second user": other["access"], "owner": owner["access"],
             "admin": admin["access"]}[who]
    for sort in ("latest", "popular", "oldest"):
        items, _ = walk(api, f"{CHANNELS}/{owner['username']}/videos", token=token, limit=3, sort=sort)
        assert {ids[i["id"]] for i in items} == expect, (who, sort)
        assert len(items) == len(expect)
        for i in items:
            assert i["ownerId"] == owner["id"]
            no_private_fields(i)
    ch = api.get(f"{CHANNELS}/{owner['username']}", token=token).json()
    assert ch["videoCount"] == len(LISTED)  # the same for everyone: what anyone may see listed
    no_private_fields(ch)


# --- keyset pages of each sort ---------------------------------------------------------------


def test_channels_videos_every_sort_pages_completely_in_order(api, user, db):
    docs = []
    for i in range(23):  # createdAt ties (i // 3) and viewCount ties (i % 5)
        at = T0 + datetime.timedelta(seconds=i // 3)
        vid = put_video(db, user, i, views=(i % 5) * 10, at=at)
        docs.append((vid, at, (i % 5) * 10))
    want = {
        "latest": [d[0] for d in sorted(docs, key=lambda d: (d[1], d[0]), reverse=True)],
        "popular": [d[0] for d in sorted(docs, key=lambda d: (d[2], d[0]), reverse=True)],
        "oldest": [d[0] for d in sorted(docs, key=lambda d: (d[1], d[0]))],
    }
    for sort, order in want.items():
        for limit in (1, 4, 7, 23, 100):
            items, pages = walk(api, f"{CHANNELS}/{user['username']}/videos", limit=limit, sort=sort)
            got = [i["id"] for i in items]
            assert got == order, (sort, limit)
            assert len(set(got)) == len(got)
            assert pages == max(1, -(-23 // limit)) + (1 if 23 % limit == 0 and limit < 23 else 0) or pages >= 1
    # the default sort is latest
    assert [i["id"] for i in walk(api, f"{CHANNELS}/{user['username']}/videos", limit=5)[0]] == want["latest"]


def test_channels_videos_bad_query(api, user, db):
    put_video(db, user, 1)
    put_video(db, user, 2)
    base = f"{CHANNELS}/{user['username']}/videos"
    for q in ("sort=newest", "sort=", "sort=LATEST", "limit=0", "limit=101", "limit=x", "limit=-1",
              "sort=%zz"):
        problem(api.get(f"{base}?{q}"), 400, "invalid_query")
    for c in ("x", "AAAA", "Zm9v", "MS4x"):
        problem(api.get(f"{base}?cursor={c}"), 400, "invalid_cursor")
    # a cursor is tied to its sort: one made for latest is refused by popular and oldest
    cur = api.get(f"{base}?limit=1&sort=latest").json()["nextCursor"]
    assert cur
    assert api.get(f"{base}?limit=1&sort=latest&cursor={cur}").status_code == 200
    for sort in ("popular", "oldest"):
        problem(api.get(f"{base}?limit=1&sort={sort}&cursor={cur}"), 400, "invalid_cursor")
    pop = api.get(f"{base}?limit=1&sort=popular").json()["nextCursor"]
    problem(api.get(f"{base}?limit=1&sort=latest&cursor={pop}"), 400, "invalid_cursor")


# --- subscriptions ---------------------------------------------------------------------------


def sub_count(db, channel):
    return db.users.find_one({"_id": ObjectId(channel["id"])}).get("subscriberCount")


def test_channels_subscribe_and_unsubscribe(api, make_user, db):
    ch, fan = make_user(), make_user()
    path = f"{CHANNELS}/{ch['username']}/subscription"
    r = api.put(path, token=fan["access"])
    assert r.status_code == 201, describe(r)
    assert r.json() == {"subscribed": True, "subscriberCount": 1}
    r = api.put(path, token=fan["access"])
    assert r.status_code == 200 and r.json() == {"subscribed": True, "subscriberCount": 1}, describe(r)
    assert db.subscriptions.count_documents({"subscriberId": ObjectId(fan["id"])}) == 1
    sub = db.subscriptions.find_one({"subscriberId": ObjectId(fan["id"])})
    assert sub["channelId"] == ObjectId(ch["id"]) and isinstance(sub["createdAt"], datetime.datetime)
    raw = db.users.with_options(codec_options=db.codec_options.with_options(document_class=RawBSONDocument))
    assert raw.find_one({"_id": ObjectId(ch["id"])}).raw.find(b"\x12subscriberCount\x00") > 0  # int64
    for _ in range(2):
        r = api.delete(path, token=fan["access"])
        assert r.status_code == 204 and r.content == b"", describe(r)
        assert sub_count(db, ch) == 0
    assert db.subscriptions.count_documents({"subscriberId": ObjectId(fan["id"])}) == 0


def test_channels_subscribe_errors(api, make_user):
    me = make_user()
    own = f"{CHANNELS}/{me['username']}/subscription"
    problem(api.put(own, token=me["access"]), 422, "cannot_subscribe_to_self")
    problem(api.delete(own, token=me["access"]), 422, "cannot_subscribe_to_self")
    for name in ("nobody" + uuid.uuid4().hex[:10], "Bad!Name"):
        problem(api.put(f"{CHANNELS}/{name}/subscription", token=me["access"]), 404, "channel_not_found")
        problem(api.delete(f"{CHANNELS}/{name}/subscription", token=me["access"]), 404, "channel_not_found")
    for call in (api.put, api.delete):  # anonymous, and with a token that is no token
        assert call(own).status_code == 401
        assert call(own, token="not-a-token").status_code == 401
    assert api.get(MY_SUBS).status_code == 401
    assert api.get(FEED).status_code == 401


def test_channels_subscribe_50_parallel_moves_the_count_by_one(api, make_user, db):
    ch, fan = make_user(), make_user()
    path = f"{CHANNELS}/{ch['username']}/subscription"
    with ThreadPoolExecutor(max_workers=50) as pool:
        rs = list(pool.map(lambda _: api.put(path, token=fan["access"]), range(50)))
    codes = sorted(r.status_code for r in rs)
    assert codes == [200] * 49 + [201], [describe(r) for r in rs if r.status_code not in (200, 201)]
    assert all(r.json()["subscriberCount"] == 1 for r in rs)
    assert sub_count(db, ch) == 1
    assert db.subscriptions.count_documents({"channelId": ObjectId(ch["id"])}) == 1
    with ThreadPoolExecutor(max_workers=50) as pool:
        rs = list(pool.map(lambda _: api.delete(path, token=fan["access"]), range(50)))
    assert all(r.status_code == 204 for r in rs), [describe(r) for r in rs if r.status_code != 204]
    assert sub_count(db, ch) == 0
    assert api.get(f"{CHANNELS}/{ch['username']}").json()["subscriberCount"] == 0


def test_channels_many_followers_in_parallel(api, make_user, db):
    ch = make_user()
    fans = [make_user() for _ in range(8)]
    path = f"{CHANNELS}/{ch['username']}/subscription"
    with ThreadPoolExecutor(max_workers=40) as pool:
        rs = list(pool.map(lambda f: api.put(path, token=f["access"]), fans * 5))
    assert sorted(r.status_code for r in rs).count(201) == 8
    assert sub_count(db, ch) == 8 == db.subscriptions.count_documents({"channelId": ObjectId(ch["id"])})


def test_channels_my_subscriptions_newest_first(api, make_user, db):
    fan = make_user()
    chans = [make_user() for _ in range(5)]
    for c in chans:
        assert api.put(f"{CHANNELS}/{c['username']}/subscription", token=fan["access"]).status_code == 201
    items, pages = walk(api, MY_SUBS, token=fan["access"], limit=2)
    assert pages == 3
    assert [i["channel"]["id"] for i in items] == [c["id"] for c in reversed(chans)]
    for i in items:
        assert set(i) == {"channel", "subscribedAt"} and set(i["channel"]) == CARD_KEYS
        no_private_fields(i)
    assert [i["subscribedAt"] for i in items] == sorted((i["subscribedAt"] for i in items), reverse=True)
    # another user's list is their own
    assert api.get(MY_SUBS, token=chans[0]["access"]).json() == {"items": [], "nextCursor": None}
    for q in ("limit=0", "limit=101", "limit=z"):
        problem(api.get(f"{MY_SUBS}?{q}", token=fan["access"]), 400, "invalid_query")
    problem(api.get(f"{MY_SUBS}?cursor=bad", token=fan["access"]), 400, "invalid_cursor")


# --- the feed --------------------------------------------------------------------------------


def test_channels_feed_shows_public_videos_of_followed_channels(api, make_user, db):
    fan, a, b, stranger = make_user(), make_user(), make_user(), make_user()
    want = []
    for i, (ch, vis, st) in enumerate([(a, "public", "ready"), (b, "public", "processing"),
                                       (a, "private", "ready"), (b, "unlisted", "ready"),
                                       (a, "public", "failed"), (b, "public", "uploading"),
                                       (stranger, "public", "ready"), (a, "public", "ready"),
                                       (fan, "public", "ready")]):
        vid = put_video(db, ch, i, visibility=vis, status=st)
        if ch in (a, b) and vis == "public" and st in ("ready", "processing"):
            want.append(vid)
    assert api.get(FEED, token=fan["access"]).json() == {"items": [], "nextCursor": None}
    for ch in (a, b):
        api.put(f"{CHANNELS}/{ch['username']}/subscription", token=fan["access"])
    items, _ = walk(api, FEED, token=fan["access"], limit=2)
    assert [i["id"] for i in items] == list(reversed(want))
    for i in items:
        no_private_fields(i)
    api.delete(f"{CHANNELS}/{b['username']}/subscription", token=fan["access"])
    items, _ = walk(api, FEED, token=fan["access"], limit=20)
    assert {i["ownerId"] for i in items} == {a["id"]}
    for q in ("limit=0", "limit=101"):
        problem(api.get(f"{FEED}?{q}", token=fan["access"]), 400, "invalid_query")
    problem(api.get(f"{FEED}?cursor=nope", token=fan["access"]), 400, "invalid_cursor")


def test_channels_feed_merges_many_channels_in_order(api, make_user, db):
    """More followed channels than one read takes (8): the chunks are merged in C, and a full
    page's later chunks only return what beats it; every page in order, nothing twice."""
    fan = make_user()
    chans = [make_user() for _ in range(19)]
    docs = []
    for i in range(95):  # createdAt ties across channels (i // 4)
        at = T0 + datetime.timedelta(seconds=i // 4)
        docs.append((put_video(db, chans[(i * 7) % 19], i, at=at), at))
    for c in chans:
        api.put(f"{CHANNELS}/{c['username']}/subscription", token=fan["access"])
    want = [d[0] for d in sorted(docs, key=lambda d: (d[1], d[0]), reverse=True)]
    for limit in (1, 6, 20, 100):
        items, _ = walk(api, FEED, token=fan["access"], limit=limit)
        assert [i["id"] for i in items] == want, limit


# --- the local server reads each query through an index -------------------------------------


def keyset(field, key, oid, asc=False):
    op = "$gt" if asc else "$lt"
    return {"$or": [{field: {op: key}}, {field: key, "_id": {op: oid}}]}


def test_channels_plans_use_an_index(scratch):
    sdb = scratch
    owners = [ObjectId() for _ in range(30)]
    vids = [{"_id": ObjectId(), "ownerId": owners[i % 30], "visibility": ["public", "private"][i % 7 == 0],
             "status": "ready", "viewCount": Int64(i % 13), "createdAt": T0 + datetime.timedelta(seconds=i)}
            for i in range(600)]
    sdb.videos.insert_many(vids)
    subs = [{"_id": ObjectId(), "subscriberId": owners[i % 5], "channelId": owners[i],
             "createdAt": T0 + datetime.timedelta(seconds=i)} for i in range(5, 30)]
    sdb.subscriptions.insert_many(subs)
    o, v = owners[3], vids[3]
    listed = {"$in": ["processing", "ready"]}
    own = {"$in": ["processing", "ready", "failed"]}
    # a channel's page, each sort, first and later pages, public and the owner's view
    for key, kt in (("createdAt", v["createdAt"]), ("viewCount", Int64(5))):
        for asc in ((False, True) if key == "createdAt" else (False,)):
            d = 1 if asc else -1
            for c in (None, keyset(key, kt, v["_id"], asc)):
                f = {"ownerId": o, "visibility": "public", "status": listed, **(c or {})}
                assert_index_search(sdb, "videos", f, f"ownerId_1_visibility_1_{key}_-1__id_-1",
                                    [("ownerId", 1), ("visibility", 1), (key, d), ("_id", d)])
                f = {"ownerId": o, "status": own, **(c or {})}
                assert_index_search(sdb, "videos", f, f"ownerId_1_{key}_-1__id_-1",
                                    [("ownerId", 1), (key, d), ("_id", d)])
    # videoCount: count_documents' $match is the public page's filter
    qp = assert_index_search(sdb, "videos", {"ownerId": o, "visibility": "public", "status": listed},
                             # either of the two: both equalities are their prefix
                             "ownerId_1_visibility_1_createdAt_-1__id_-1|ownerId_1_visibility_1_viewCount_-1__id_-1")
    assert qp["Plan"][0].endswith("(<expr>=? AND <expr>=? AND <expr>=? AND <expr>=?)"), qp
    # the feed: one ordered read of ownerId_1_createdAt_-1__id_-1 per followed channel (8 a query),
    # merged in order, with the cursor and the full page's bound as ranges
    chunk = owners[:8]
    for extra in ([], [keyset("createdAt", v["createdAt"], v["_id"])],
                  [keyset("createdAt", v["createdAt"], v["_id"]), keyset("createdAt", T0, v["_id"], True)]):
        f = {"$and": [{"ownerId": {"$in": chunk}, "visibility": {"$in": ["public"]}, "status": listed}] + extra}
        qp = assert_index_search(sdb, "videos", f, ",".join(["ownerId_1_createdAt_-1__id_-1"] * 8),
                                 [("createdAt", -1), ("_id", -1)])
        assert "MERGE" in json.dumps(qp["Plan"]), qp
        got = [d["_id"] for d in sdb.videos.find(f).sort([("createdAt", -1), ("_id", -1)]).limit(21)]
        full = [d["_id"] for d in sdb.videos.find({"$nor": [{"$nor": [f]}]}).sort([("createdAt", -1), ("_id", -1)]).limit(21)]
        assert got == full
    # subscriptions: by key (add/remove/has), a user's list and the feed's channels, the drop
    qp = assert_index_search(sdb, "subscriptions", {"subscriberId": owners[0], "channelId": owners[5]},
                             "channelId_1_subscriberId_1")
    assert qp["Plan"][0].endswith("(<expr>=? AND <expr>=? AND <expr>=? AND <expr>=?)"), qp
    s = subs[3]
    for c in (None, keyset("createdAt", s["createdAt"], s["_id"])):
        assert_index_search(sdb, "subscriptions", {"subscriberId": owners[0], **(c or {})},
                            "subscriberId_1_createdAt_-1__id_-1",
                            [("subscriberId", 1), ("createdAt", -1), ("_id", -1)])
    assert_index_search(sdb, "subscriptions", {"channelId": owners[7]}, "channelId_1_subscriberId_1")
    # the subscriberCount $inc is by users._id
    assert_index_search(sdb, "users", {"_id": owners[7]}, "_id_")
