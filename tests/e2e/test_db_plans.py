"""The local server reads through indexes (tools/ferretdb/PATCHES.md), pinned against the server
the stack runs: each query shape Stremora sends is answered by an index search (the server's own
plan, which the patched FerretDB's explain returns from SQLite's EXPLAIN QUERY PLAN), and gives
exactly the documents, in exactly the order, that a full scan gives, also when fields are
missing, of another type or arrays.

On an unpatched FerretDB 1.24.2 the plan tests fail: its explain shows "SCAN" for every query.

Each test works in a scratch database of its own ("plans_<uuid>"), dropped at the end. Indexes
are those of sql-free-schemas/ (without TTL, which the local server refuses).
"""

import datetime
import random

from bson import ObjectId

from conftest import assert_index_search, explain, plan_table

LISTED = ["processing", "ready"]
OWN = ["processing", "ready", "failed"]
SORT = [("createdAt", -1), ("_id", -1)]
T0 = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)


# The filters of common/db_videos.c (build_list_filter): who may see what, then the owner, the
# tag and the keyset cursor, all in one $and.
def list_filter(viewer=None, owner=None, tag=None, cursor=None):
    visible = [{"visibility": "public", "status": {"$in": LISTED}}]
    if viewer is not None:
        visible.append({"ownerId": viewer, "status": {"$in": OWN}})
    clauses = [{"$or": visible}]
    if owner is not None:
        clauses.append({"ownerId": owner})
    if tag is not None:
        clauses.append({"tags": tag})
    if cursor is not None:
        created, oid = cursor
        clauses.append({"$or": [{"createdAt": {"$lt": created}},
                                {"createdAt": created, "_id": {"$lt": oid}}]})
    return {"$and": clauses}


def full_scan(f):
    """The same filter in a form the planner leaves alone (a double $nor): a full scan."""
    return {"$nor": [{"$nor": [f]}]}


def _video(owner, i, **kw):
    doc = {"_id": ObjectId(), "ownerId": owner, "title": f"v{i}", "description": "",
           "tags": ["cats", f"t{i % 7}"], "visibility": ["public", "unlisted", "private"][i % 3],
           "status": ["ready", "processing", "failed", "uploading"][i % 4 if i % 5 else 0],
           "size": i, "hls": False, "thumbnail": False,
           "createdAt": T0 + datetime.timedelta(seconds=(i // 3) * 7), "updatedAt": T0}
    doc.update(kw)
    return doc


def fill(db, n_videos=400, owners=8, odd=True):
    """Videos of several owners (with createdAt ties), users and sessions; with odd=True also
    documents whose indexed fields are missing, null, of another type or arrays."""
    rnd = random.Random(7)
    owner_ids = [ObjectId() for _ in range(owners)]
    videos = [_video(owner_ids[rnd.randrange(owners)], i) for i in range(n_videos)]
    o0, o1 = owner_ids[0], owner_ids[1]
    if odd:
        t = T0 + datetime.timedelta(seconds=70)
        videos += [
            # o0: odd createdAt values (the index cannot order these: its owner's pages fall back)
            _video(o0, 1001, createdAt=[t, T0]),
            _video(o0, 1002, createdAt="2024-05-01"),
            _video(o0, 1003, createdAt=None),
            _video(o0, 1004, createdAt={"d": t}),
            _video(o0, 1005, createdAt=int(t.timestamp() * 1000)),
            _video(o0, 1006, createdAt=True),
            # o1: missing createdAt, dates before 1970 and before 2001 (13-digit edge), odd _ids
            _video(o1, 1101, _id="string-id", createdAt=t),
            _video(o1, 1102, _id=17, createdAt=t),
            _video(o1, 1103, createdAt=datetime.datetime(1969, 7, 20, tzinfo=datetime.timezone.utc)),
            _video(o1, 1104, createdAt=datetime.datetime(1999, 1, 1, tzinfo=datetime.timezone.utc)),
            _video(o1, 1105, createdAt=datetime.datetime(2300, 1, 1, tzinfo=datetime.timezone.utc)),
            _video(o1, 1106),
            # owner fields of other types; visibility as an array and of another type
            _video([o0, o1], 1201, visibility="public", status="ready"),
            _video(str(o0), 1202, visibility="public", status="ready"),
            _video(None, 1203, visibility="public", status="ready"),
            _video(o1, 1204, visibility=["public"], status="ready"),
            _video(o1, 1205, visibility=1, status="ready"),
            _video(o1, 1206, tags="cats"),
            _video(o1, 1207, tags=[]),
            _video(o1, 1208, visibility="public", status="ready"),
        ]
        for d in videos:
            if d["title"] == "v1106":
                del d["createdAt"]
            if d["title"] == "v1208":
                del d["ownerId"]
    db.videos.insert_many(videos)

    users = [{"_id": ObjectId(), "username": f"user{i}", "email": f"user{i}@example.org",
              "displayName": "U", "passwordHash": "x", "role": "user",
              "createdAt": T0, "updatedAt": T0, "guessCount": 0, "guessSince": T0}
             for i in range(50)]
    if odd:
        users += [{"_id": ObjectId(), "username": ["user3", "zz"], "email": "arr@example.org"},
                  {"_id": ObjectId(), "username": "a<b&c>\u2028\"q\"", "email": 5},
                  {"_id": ObjectId(), "email": "nouser@example.org"}]
    db.users.insert_many(users)

    sessions = []
    fams = [ObjectId() for _ in range(20)]
    for i in range(200):
        sessions.append({"_id": ObjectId(), "familyId": fams[i % 20], "userId": users[i % 10]["_id"],
                         "tokenHash": f"{i:064x}", "spent": False, "revoked": False,
                         "spentAt": T0, "createdAt": T0, "expiresAt": T0})
    if odd:
        sessions += [{"_id": ObjectId(), "familyId": [fams[0], fams[1]], "userId": users[0]["_id"],
                      "tokenHash": "arr"},
                     {"_id": ObjectId(), "familyId": str(fams[0]), "userId": str(users[0]["_id"]),
                      "tokenHash": "str"}]
    db.sessions.insert_many(sessions)

    # jobs (common/job.c), claims, webhooks and their deliveries (common/db_webhooks.c)
    jobs = []
    for i in range(120):
        st = ["queued", "running", "done", "failed"][i % 4]
        jobs.append({"_id": ObjectId(), "key": f"job{i}", "videoId": videos[i % 50]["_id"], "status": st,
                     "attempts": 0, "runAfter": T0 + datetime.timedelta(minutes=i % 17),
                     "leaseExpires": T0 + datetime.timedelta(minutes=i % 13),
                     "finishedAt": T0 + datetime.timedelta(minutes=i % 11), "updatedAt": T0})
    if odd:
        jobs += [{"_id": ObjectId(), "key": "odd1", "status": ["queued", "done"], "runAfter": T0},
                 {"_id": ObjectId(), "key": "odd2", "status": "queued", "runAfter": "soon"},
                 {"_id": ObjectId(), "key": "odd3", "status": "done"}]
    db.jobs.insert_many(jobs)
    db.job_claims.insert_many([{"_id": f"{j['_id']}:1", "jobId": j["_id"], "worker": "w",
                                "at": T0 + datetime.timedelta(minutes=k)} for k, j in enumerate(jobs[:30])])
    hooks = [{"_id": ObjectId(), "ownerId": owner_ids[i % 3], "url": "http://x", "events": ["video.ready"],
              "secret": "s", "createdAt": T0 + datetime.timedelta(minutes=i // 2)} for i in range(30)]
    db.webhooks.insert_many(hooks)
    db.webhook_deliveries.insert_many([
        {"_id": ObjectId(), "webhookId": hooks[i % 5]["_id"], "eventId": f"e{i}", "event": "video.ready",
         "attempt": 1, "at": T0 + datetime.timedelta(seconds=(i // 2) * 10), "statusCode": 200,
         "durationMs": 5, "error": ""} for i in range(150)])
    # the tag lists' mirrors (common/db_videos.c)
    db.video_tags.insert_many([
        {"_id": f"{v['_id']}:{t}", "videoId": v["_id"], "tag": t, "ownerId": v["ownerId"],
         "public": v.get("visibility") == "public", "createdAt": v["createdAt"]}
        for v in videos if isinstance(v.get("tags"), list) and isinstance(v.get("createdAt"), datetime.datetime)
        and isinstance(v.get("ownerId"), ObjectId) for t in v["tags"] if isinstance(t, str)])
    # resumable uploads (common/db_uploads.c)
    uploads = [{"_id": ObjectId(), "ownerId": owner_ids[i % 3], "length": 1000, "offset": i,
                "status": "open", "expiresAt": T0 + datetime.timedelta(minutes=i - 20)} for i in range(40)]
    db.uploads.insert_many(uploads)
    return {"owners": owner_ids, "videos": videos, "users": users, "sessions": sessions,
            "families": fams, "jobs": jobs, "hooks": hooks, "uploads": uploads}


def ids(docs):
    return [d["_id"] for d in docs]


def page_all(coll, make_filter, limit=21):
    """Walks a list page by page through the keyset cursor; returns every page's _ids."""
    pages, cursor = [], None
    while True:
        docs = list(coll.find(make_filter(cursor)).sort(SORT).limit(limit))
        pages.append(ids(docs))
        if len(docs) < limit:
            return pages
        last = docs[-1]
        if not isinstance(last.get("createdAt"), datetime.datetime) or not isinstance(last["_id"], ObjectId):
            return pages  # the keyset cursor is only made of a date and an ObjectId
        cursor = (last["createdAt"], last["_id"])


def test_db_plans_shapes_use_an_index(scratch):
    db = scratch
    data = fill(db, odd=False)
    owner, video = data["owners"][2], data["videos"][5]
    user, sess = data["users"][4], data["sessions"][9]
    cur = (video["createdAt"], video["_id"])

    # a. by _id: find, update, delete (one planner for all three)
    assert_index_search(db, "videos", {"_id": video["_id"]}, "_id_")
    assert_index_search(db, "users", {"_id": user["_id"], "guessSince": {"$gt": T0}}, "_id_")
    assert_index_search(db, "sessions", {"_id": sess["_id"], "spent": False, "revoked": False}, "_id_")
    # b. equality on a unique string
    assert_index_search(db, "users", {"username": "user4"}, "username_1")
    assert_index_search(db, "users", {"email": "user4@example.org"}, "email_1")
    assert_index_search(db, "sessions", {"tokenHash": sess["tokenHash"]}, "tokenHash_1")
    # c. equality on an indexed ObjectId
    assert_index_search(db, "sessions", {"familyId": sess["familyId"]}, "familyId_1")
    assert_index_search(db, "sessions", {"userId": user["_id"], "familyId": {"$ne": sess["familyId"]}},
                        "userId_1_familyId_1")
    # d. an owner's newest page and a later one, as the owner and as someone else (anonymous:
    # only public ones, ownerId_1_visibility_1_createdAt_-1__id_-1, an equality longer)
    for viewer in (None, owner, data["owners"][3]):
        for c in (None, cur):
            assert_index_search(db, "videos", list_filter(viewer, owner=owner, cursor=c),
                                "ownerId_1_visibility_1_createdAt_-1__id_-1" if viewer is None
                                else "ownerId_1_createdAt_-1__id_-1", SORT)
    # e. the public list, first page and a later one; signed in, it also has the viewer's own
    # videos that are not public (two index searches merged in order)
    for c in (None, cur):
        assert_index_search(db, "videos", list_filter(cursor=c), "visibility_1_createdAt_-1__id_-1", SORT)
        assert_index_search(db, "videos", list_filter(viewer=owner, cursor=c),
                            "visibility_1_createdAt_-1__id_-1,ownerId_1_createdAt_-1__id_-1", SORT)
    # the sweep of abandoned uploads (and the delete of each, by _id)
    assert_index_search(db, "videos", {"status": "uploading", "updatedAt": {"$lt": T0}}, "status_1_updatedAt_1",
                        [("status", 1), ("updatedAt", 1)])
    assert_index_search(db, "videos", {"_id": {"$in": [v["_id"] for v in data["videos"][:30]]}},
                        ",".join(["_id_"] * 30))
    # jobs: candidates (sorted by their index's fields, the first one fixed), claims, prune
    for field in ("runAfter", "leaseExpires"):
        assert_index_search(db, "jobs", {"status": "queued", field: {"$lte": T0}}, f"status_1_{field}_1",
                            [("status", 1), (field, 1)])
    job = data["jobs"][7]
    assert_index_search(db, "jobs", {"_id": job["_id"], "attempts": 0}, "_id_")
    assert_index_search(db, "jobs", {"key": job["key"]}, "key_1")
    assert_index_search(db, "jobs", {"videoId": job["videoId"]}, "videoId_1")
    assert_index_search(db, "jobs", {"status": {"$in": ["done", "failed"]}, "finishedAt": {"$lt": T0}},
                        "status_1_finishedAt_1,status_1_finishedAt_1")
    assert_index_search(db, "job_claims", {"_id": f"{job['_id']}:1", "worker": "w"}, "_id_")
    assert_index_search(db, "job_claims", {"at": {"$lt": T0}}, "at_1")
    # webhooks and their deliveries, newest first (the sort names the owner/hook first)
    hook = data["hooks"][4]
    assert_index_search(db, "webhooks", {"ownerId": hook["ownerId"]}, "ownerId_1_createdAt_-1__id_-1",
                        [("ownerId", 1), ("createdAt", -1), ("_id", -1)])
    for f in ({"webhookId": hook["_id"]},
              {"webhookId": hook["_id"], "$or": [{"at": {"$lt": T0}}, {"at": T0, "_id": {"$lt": hook["_id"]}}]}):
        assert_index_search(db, "webhook_deliveries", f, "webhookId_1_at_-1__id_-1",
                            [("webhookId", 1), ("at", -1), ("_id", -1)])
    assert_index_search(db, "webhook_deliveries", {"at": {"$lt": T0}}, "at_1")
    # a tag's list (common/db_videos.c list_by_tag): the tag's public mirrors, and the viewer's
    # own, each a page in order with the keyset on (createdAt, videoId); then the page by _id
    tag_sort = [("createdAt", -1), ("videoId", -1)]
    keyset = {"$or": [{"createdAt": {"$lt": T0}}, {"createdAt": T0, "videoId": {"$lt": video["_id"]}}]}
    for c in ({}, keyset):
        f = {"$and": [{"tag": "cats", "public": True}] + ([c] if c else [])}
        assert_index_search(db, "video_tags", f, "tag_1_public_1_createdAt_-1_videoId_-1", tag_sort)
        f = {"$and": [{"tag": "cats", "ownerId": owner}] + ([c] if c else [])}
        assert_index_search(db, "video_tags", f, "tag_1_ownerId_1_createdAt_-1_videoId_-1", tag_sort)
    assert_index_search(db, "video_tags", {"videoId": video["_id"]}, "videoId_1")
    assert_index_search(db, "videos", {"_id": {"$in": [v["_id"] for v in data["videos"][:50]]}},
                        ",".join(["_id_"] * 50))
    # resumable uploads: by _id (with the state a write expects), and the sweep of expired ones
    up = data["uploads"][3]
    assert_index_search(db, "uploads", {"_id": up["_id"], "status": "open", "offset": 3}, "_id_")
    assert_index_search(db, "uploads", {"_id": up["_id"], "expiresAt": {"$lt": T0}}, "_id_")
    assert_index_search(db, "uploads", {"expiresAt": {"$lt": T0}}, "expiresAt_1", [("expiresAt", 1)])


def _check_same(coll, f, sort=None, limit=0, ordered=True):
    got = list(coll.find(f, sort=sort, limit=limit))
    want = list(coll.find(full_scan(f), sort=sort, limit=limit))
    if ordered:
        assert ids(got) == ids(want), f
    else:
        assert sorted(map(str, ids(got))) == sorted(map(str, ids(want))), f
    return got


def test_db_plans_results_match_a_full_scan(scratch):
    db = scratch
    data = fill(db)
    v, owners = db.videos, data["owners"]
    some = data["videos"][:40] + data["videos"][-19:]

    for d in some:  # a. by _id (ObjectId, string, number)
        assert ids(_check_same(v, {"_id": d["_id"]}, limit=1)) == [d["_id"]]
    for f in ({"username": "user3"}, {"username": "zz"}, {"username": "a<b&c>\u2028\"q\""},
              {"email": "user7@example.org"}, {"email": 5}, {"username": "nobody"},
              {"username": None}, {"_id": "nothing"}):  # b. unique strings, arrays, odd types
        _check_same(db.users, f, limit=1)
        _check_same(db.users, f, ordered=False)
    for fam in data["families"][:3] + [str(data["families"][0])]:  # c. ObjectIds and arrays
        _check_same(db.sessions, {"familyId": fam}, ordered=False)
    u0 = data["users"][0]["_id"]
    _check_same(db.sessions, {"userId": u0, "familyId": {"$ne": data["families"][0]}}, ordered=False)
    _check_same(db.sessions, {"tokenHash": f"{3:064x}"}, limit=1)

    # d, e: every page of every list, as anonymous, as the owner and as someone else, against
    # the full scan of the same filter and sort (limit 21 = 20 + 1, as the C code asks)
    for viewer in (None, owners[1]):
        for owner in (None, *owners[:3], str(owners[0])):
            for tag in (None, "t3"):
                pages = page_all(v, lambda c: list_filter(viewer, owner, tag, c))
                want = page_all(v, lambda c: full_scan(list_filter(viewer, owner, tag, c)))
                assert pages == want, (viewer, owner, tag)
    # ... and those lists were read through indexes in order, the odd documents included (in
    # parts of their own), except where the sort key holds values an index does not order
    # (owner 0's odd createdAt values): those lists are filtered by the index and sorted in memory.
    # Owner 0's public videos have none (its odd ones that are public are a string and an int,
    # which the index orders), and others see only those (ownerId_1_visibility_1_…): in order.
    for viewer, owner, sorted_ in ((None, None, True), (owners[1], None, True), (None, owners[1], True),
                                   (None, owners[2], True), (owners[1], owners[2], True),
                                   (None, owners[0], True), (owners[0], owners[0], False),
                                   (owners[0], None, False)):
        qp = explain(db, "videos", list_filter(viewer, owner), SORT)["queryPlanner"]
        assert qp["Index"] and (qp["FieldSorted"] > 0) is sorted_, (viewer, owner, qp)
        assert not any(f"detail=SCAN {plan_table(qp['Plan'])}" in row for row in qp["Plan"]), qp
    # f. by tag, newest first (createdAt ties: compare as sets, then the order of createdAt)
    for tag in ("cats", "t3", "none"):
        got = _check_same(v, {"tags": tag}, sort=[("createdAt", -1)], ordered=False)
        keys = [d["createdAt"] for d in got if isinstance(d.get("createdAt"), datetime.datetime)]
        assert keys == sorted(keys, reverse=True)
    # ranges and sorts on their own, in both directions
    t = T0 + datetime.timedelta(seconds=300)
    for owner in owners[:3]:
        for f in ({"ownerId": owner, "createdAt": {"$gte": t}},
                  {"ownerId": owner, "createdAt": {"$lt": t, "$gt": T0}},
                  {"ownerId": owner, "$or": [{"createdAt": t}, {"createdAt": {"$gt": t}}]}):
            for sort in (SORT, [("createdAt", 1), ("_id", 1)]):  # total orders: pages are exact
                _check_same(v, f, sort=sort, limit=7)
                _check_same(v, f, sort=sort)
            for sort in ([("createdAt", -1)], None):  # ties: compare sets
                _check_same(v, f, sort=sort, ordered=False)


# The feed's filter (common/db_videos.c feed_filter): the followed channels' public listed
# videos, with the page's keyset cursor.
def feed_filter(owners, cursor=None, visibility=None):
    clauses = [{"ownerId": {"$in": owners}, "visibility": visibility or {"$in": ["public"]},
                "status": {"$in": LISTED}}]
    if cursor is not None:
        created, oid = cursor
        clauses.append({"$or": [{"createdAt": {"$lt": created}},
                                {"createdAt": created, "_id": {"$lt": oid}}]})
    return {"$and": clauses}


def test_db_plans_feed_reads_many_owners_in_one_range(scratch):
    """An $in of more owners than a union merges (8): one range of ownerId_1_createdAt_-1__id_-1
    sorted by SQLite (index entries only), rows fetched in that order; exact on every page, and
    falling back to the per-owner plan where arrays or unordered values are in the way."""
    db = scratch
    data = fill(db, n_videos=900, owners=24)
    owners, v = data["owners"], db.videos
    o2 = owners[2]
    t = T0 + datetime.timedelta(seconds=140)
    v.insert_many([  # edge values the index orders: missing createdAt, old dates, odd _ids, ties
        _video(o2, 2001, _id="feed-string-id", createdAt=t, visibility="public", status="ready"),
        _video(o2, 2002, _id=42, createdAt=t, visibility="public", status="ready"),
        _video(o2, 2003, createdAt=datetime.datetime(1969, 7, 20, tzinfo=datetime.timezone.utc),
               visibility="public", status="ready"),
        _video(o2, 2004, createdAt=None, visibility="public", status="ready"),
        _video(o2, 2005, createdAt=t, visibility="public", status="ready"),
    ])
    v.update_one({"title": "v2004"}, {"$unset": {"createdAt": ""}})

    plain = owners[2:]  # no arrays, no unordered createdAt: one index range
    for sort in (SORT, [("createdAt", 1), ("_id", 1)]):
        res = explain(db, "videos", feed_filter(plain), sort)
        qp = res["queryPlanner"]
        assert qp["Index"] == "ownerId_1_createdAt_-1__id_-1", qp
        assert qp["FieldSorted"] >= 1 and res["sortPushdown"] is True, qp
        assert any("one index range" in n for n in qp.get("Notes", [])), qp
        table = plan_table(qp["Plan"])
        assert any(f"USING INDEX {table}_ownerId_1_createdAt_-1__id_-1 " in r for r in qp["Plan"]), qp
        assert not any(f"detail=SCAN {table}" in r for r in qp["Plan"]), qp
        for lim in (21, 5):
            got = list(v.find(feed_filter(plain), sort=sort, limit=lim))
            assert ids(got) == ids(v.find(full_scan(feed_filter(plain)), sort=sort, limit=lim))
    # every page, as the feed walks it; with owner 0 (unordered createdAt values, an array of
    # owners), owner 1 (in that array), a string owner (another rank) the plan falls back
    for ins in (plain, owners, owners[1:], plain + [str(owners[0])], plain[:9], plain[:8]):
        for vis in (None, "public"):
            pages = page_all(v, lambda c: feed_filter(ins, c, vis))
            want = page_all(v, lambda c: full_scan(feed_filter(ins, c, vis)))
            assert pages == want, (len(ins), vis)
            assert sum(map(len, pages)) > 21
    for ins in (owners, owners[1:], plain + [str(owners[0])]):
        qp = explain(db, "videos", feed_filter(ins), SORT)["queryPlanner"]
        assert not any("one index range" in n for n in qp.get("Notes", [])), qp


def test_db_plans_jobs_and_webhooks_match_a_full_scan(scratch):
    db = scratch
    data = fill(db)
    t = T0 + datetime.timedelta(minutes=6)
    for st in ("queued", "running", "done"):
        for field in ("runAfter", "leaseExpires"):
            _check_same(db.jobs, {"status": st, field: {"$lte": t}}, sort=[("status", 1), (field, 1), ("_id", 1)],
                        limit=5)
            _check_same(db.jobs, {"status": st, field: {"$lte": t}}, sort=[("status", 1), (field, 1)], ordered=False)
    for vals in (["done", "failed"], ["queued"], ["done", "nothing"]):
        _check_same(db.jobs, {"status": {"$in": vals}, "finishedAt": {"$lt": t}}, ordered=False)
        _check_same(db.jobs, {"status": {"$in": vals}}, sort=[("finishedAt", 1), ("_id", 1)], limit=9)
    _check_same(db.videos, {"_id": {"$in": [v["_id"] for v in data["videos"][::7]] + ["string-id", 17]}},
                ordered=False)
    _check_same(db.job_claims, {"at": {"$lt": t}}, ordered=False)
    hook_sort = [("ownerId", 1), ("createdAt", -1), ("_id", -1)]
    for owner in data["owners"][:4]:
        _check_same(db.webhooks, {"ownerId": owner}, sort=hook_sort, limit=6)
    for hook in data["hooks"][:6]:
        sort = [("webhookId", 1), ("at", -1), ("_id", -1)]
        got = _check_same(db.webhook_deliveries, {"webhookId": hook["_id"]}, sort=sort, limit=11)
        if got:
            last = got[-1]
            cur = {"$or": [{"at": {"$lt": last["at"]}}, {"at": last["at"], "_id": {"$lt": last["_id"]}}]}
            _check_same(db.webhook_deliveries, {"webhookId": hook["_id"], **cur}, sort=sort, limit=11)
    _check_same(db.webhook_deliveries, {"at": {"$lt": t}}, ordered=False)


def test_db_plans_writes_by_index_are_exact(scratch):
    db = scratch
    data = fill(db)
    for d in data["videos"][:20] + data["videos"][-19:]:
        res = db.videos.update_one({"_id": d["_id"]}, {"$inc": {"views": 1}, "$set": {"seen": True}})
        assert (res.matched_count, res.modified_count) == (1, 1)
    assert db.videos.count_documents({"views": 1}) == 39
    fam = data["families"][0]
    want = db.sessions.count_documents(full_scan({"familyId": fam}))
    res = db.sessions.update_many({"familyId": fam}, {"$set": {"revoked": True}})
    assert res.matched_count == want == 11  # 10 sessions + the one whose familyId is an array
    assert db.sessions.count_documents(full_scan({"revoked": True})) == want
    for d in data["videos"][:5] + data["videos"][-3:]:
        assert db.videos.delete_one({"_id": d["_id"]}).deleted_count == 1
        assert db.videos.find_one({"_id": d["_id"]}) is None
    assert db.videos.count_documents({}) == len(data["videos"]) - 8
