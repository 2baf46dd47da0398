#!/usr/bin/env python3
"""bench.py - latency of the query shapes Stremora sends, against a stremora-db binary.

    .venv/bin/python tools/ferretdb/bench.py BINARY DIR N [N...] [--runs R] [--ops a,b] [--keep]
    .venv/bin/python tools/ferretdb/bench.py --uri URI --db NAME [--runs R] [--ops a,b]

The second form times a running stack's database as it is (seeded by `stremoractl seed`,
as make bench does), loading nothing: one row, for the videos it holds.

Starts BINARY on the scratch folder DIR (DIR/db, socket DIR/db.sock; never a stack's var/),
and for each N: loads N videos (50 owners, 90% public, 5 tags out of 100 each), N/10 users and
N/10 sessions into database bench_N with the indexes of sql-free-schemas/, then times, through
the serializing front with one pymongo client, p50 and p99 of:

  id        find_one({_id})                       videos
  inc       update_one({_id}, {$inc: {views: 1}}) videos
  token     find_one({tokenHash})                 sessions
  owner     an owner's newest page                 (the C code's filter, limit 21)
  public    the public list, first page            (anonymous)
  public50  the public list, page 50 by its keyset cursor (or the last full page if fewer)
  home      the list a signed-in viewer gets       (public or own, limit 21)
  tag       the public list of one tag             (first page, as the application reads it: a
            page of the tag's mirrors in video_tags through their index, then those videos by
            _id; a database without video_tags (the loaded sets) reads videos {tags: t})

Each timed operation runs R times (default 200; where one takes over 50 ms, as many as fit in
about 2 s, at least 5, or 3 over 1 s) after warm-up runs. p99 is the largest of fewer than 100. Prints one table row per N. Stops the server it started, whatever happens.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pymongo
from bson import ObjectId

REPO = Path(__file__).resolve().parents[2]
T0 = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
SORT = [("createdAt", -1), ("_id", -1)]


def list_filter(viewer=None, owner=None, cursor=None, tag=None):
    """The filter of common/db_videos.c build_list_filter."""
    visible = [{"visibility": "public", "status": {"$in": ["processing", "ready"]}}]
    if viewer is not None:
        visible.append({"ownerId": viewer, "status": {"$in": ["processing", "ready", "failed"]}})
    clauses = [{"$or": visible}]
    if owner is not None:
        clauses.append({"ownerId": owner})
    if tag is not None:
        clauses.append({"tags": tag})
    if cursor is not None:
        clauses.append({"$or": [{"createdAt": {"$lt": cursor[0]}},
                                {"createdAt": cursor[0], "_id": {"$lt": cursor[1]}}]})
    return {"$and": clauses}


def start(binary, d):
    (d / "db").mkdir(parents=True, exist_ok=True)
    sock = d / "db.sock"
    if sock.exists():
        sys.exit(f"bench: {sock} exists: is a server running on {d}? (stop it, or remove a stale socket)")
    log = open(d / "db.log", "ab")
    p = subprocess.Popen([binary, "-data", str(d / "db"), "-socket", str(sock)],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    for _ in range(1200):  # a first start may rebuild indexes (PATCHES.md)
        if sock.exists() or p.poll() is not None:
            break
        time.sleep(0.05)
    if not sock.exists() or p.poll() is not None:
        p.terminate()
        sys.exit("bench: the server did not start (see DIR/db.log)")
    return p, "mongodb://" + urllib.parse.quote(str(sock), safe="")


def load(db, n, seed=1):
    rnd = random.Random(seed)
    for path in sorted((REPO / "sql-free-schemas").glob("*.json")):
        schema = json.loads(path.read_text())
        for ix in schema["indexes"]:
            opts = {k: v for k, v in ix.items() if k not in ("key", "expireAfterSeconds")}
            db[schema["collection"]].create_index(list(ix["key"].items()), **opts)
    owners = [ObjectId() for _ in range(50)]
    batch = []
    for i in range(n):
        batch.append({
            "_id": ObjectId(), "ownerId": owners[i % 50], "title": f"video {i}", "description": "d" * 200,
            "tags": [f"tag{rnd.randrange(100)}" for _ in range(5)],
            "visibility": "public" if rnd.random() < 0.9 else "private",
            "status": "ready" if rnd.random() < 0.95 else "processing",
            "size": i, "hls": True, "thumbnail": True,
            "createdAt": T0 + datetime.timedelta(seconds=i * 37 + rnd.randrange(30)),
            "updatedAt": T0})
        if len(batch) == 1000:
            db.videos.insert_many(batch)
            batch = []
    if batch:
        db.videos.insert_many(batch)
    users = [{"_id": ObjectId(), "username": f"user{i}", "email": f"user{i}@example.org", "displayName": "U",
              "passwordHash": "x", "role": "user", "createdAt": T0, "updatedAt": T0} for i in range(max(n // 10, 1))]
    db.users.insert_many(users)
    sessions = [{"_id": ObjectId(), "familyId": ObjectId(), "userId": users[i % len(users)]["_id"],
                 "tokenHash": f"{i:064x}", "spent": False, "revoked": False, "spentAt": T0,
                 "createdAt": T0, "expiresAt": T0} for i in range(max(n // 10, 1))]
    db.sessions.insert_many(sessions)
    return owners


def timed(fn, runs):
    t = time.perf_counter()
    fn()  # warm-up; two more for fast operations
    first = time.perf_counter() - t
    if first < 0.5:
        fn()
        fn()
    if first > 0.05:  # slow (unpatched): as many runs as fit in about 2 s, at least 5 (3 over 1 s)
        runs = max(3 if first > 1 else 5, min(runs, int(2.0 / first)))
    xs = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t) * 1000)
    xs.sort()
    return statistics.median(xs), xs[min(len(xs) - 1, int(len(xs) * 0.99))], runs


def page(coll, f, limit=21):
    return list(coll.find(f).sort(SORT).limit(limit))


def tag_page(db, tag, limit=21):
    """A tag's first public page as common/db_videos.c reads it (list_by_tag)."""
    refs = list(db.video_tags.find({"tag": tag, "public": True}).sort([("createdAt", -1), ("videoId", -1)])
                .limit(limit))
    return list(db.videos.find({"_id": {"$in": [r["videoId"] for r in refs]}}))


def bench(client, n, runs, only, name=None):
    loaded = name is not None
    name = name or f"bench_{n}"
    db = client[name]
    if not loaded and db.videos.estimated_document_count() != n:
        client.drop_database(name)
        t = time.perf_counter()
        owners = load(db, n)
        print(f"  loaded {n} videos in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    owners = sorted({d["ownerId"] for d in db.videos.find({}, {"ownerId": 1}).limit(50)})
    v = db.videos
    rnd = random.Random(2)
    ids = rnd.sample([d["_id"] for d in v.find({}, {"_id": 1})], 200)  # from all over the table
    # the cursor of page 50 of the public list (or of the last full page): the 20th document
    # of page 49, from one read of the whole list (walking 49 pages takes minutes unpatched)
    listed = sorted(((d["createdAt"], d["_id"]) for d in
                     v.find({"visibility": "public", "status": {"$in": ["processing", "ready"]}},
                            {"createdAt": 1})), reverse=True)
    pageno = max(1, min(50, len(listed) // 20))
    cursor = listed[20 * (pageno - 1) - 1] if pageno > 1 else None
    tags = sorted({t for d in v.find({}, {"tags": 1}).limit(500) for t in d.get("tags") or []}) or ["none"]
    mirrored = db.video_tags.estimated_document_count() > 0
    ops = {
        "id": lambda: v.find_one({"_id": rnd.choice(ids)}),
        "inc": lambda: v.update_one({"_id": rnd.choice(ids)}, {"$inc": {"views": 1}}),
        "token": lambda: db.sessions.find_one({"tokenHash": f"{rnd.randrange(max(n // 10, 1)):064x}"}),
        "owner": lambda: page(v, list_filter(owner=rnd.choice(owners))),
        "public": lambda: page(v, list_filter()),
        "public50": lambda: page(v, list_filter(cursor=cursor)),
        "home": lambda: page(v, list_filter(viewer=rnd.choice(owners))),
        "tag": (lambda: tag_page(db, rnd.choice(tags))) if mirrored
               else (lambda: page(v, list_filter(tag=rnd.choice(tags)))),
    }
    res = {k: timed(fn, runs) if k in only else (float("nan"),) * 2 + (0,) for k, fn in ops.items()}
    return res, pageno


HEADER = "| N | " + " | ".join(["id", "inc", "token", "owner", "public", "public50", "home", "tag"]) + " |"


def row(n, res, pageno):
    cells = [f"{p50:.2f} / {p99:.2f}" for p50, p99, _ in res.values()]
    return (f"| {n} | " + " | ".join(cells) + f" |  (p50 / p99 ms; public50 = page {pageno}; "
            f"runs {','.join(str(r) for *_, r in res.values())})")


def main_stack(a):
    client = pymongo.MongoClient(a.uri, tz_aware=True, connectTimeoutMS=300000,
                                 heartbeatFrequencyMS=300000)
    try:
        n = client[a.db].videos.estimated_document_count()
        res, pageno = bench(client, n, a.runs, a.ops.split(","), name=a.db)
        if a.header:
            print(HEADER)
        print(row(n, res, pageno), flush=True)
    finally:
        client.close()


def main():
    if "--uri" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--uri", required=True)
        ap.add_argument("--db", required=True)
        ap.add_argument("--runs", type=int, default=200)
        ap.add_argument("--header", action="store_true")
        ap.add_argument("--ops", default="id,inc,owner,public,public50,home,tag")
        return main_stack(ap.parse_args())
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("dir")
    ap.add_argument("sizes", nargs="+", type=int)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep DIR (and its data) afterwards")
    ap.add_argument("--ops", default="id,inc,token,owner,public,public50,home,tag", help="which to time")
    a = ap.parse_args()
    d = Path(a.dir).resolve()
    if str(d).startswith(str(REPO / "var")):
        sys.exit("bench: use a scratch folder, not the repository's var/")
    proc, uri = start(os.path.abspath(a.binary), d)
    try:
        # Unpatched, a query can take many seconds, and the front answers one request at a
        # time: the driver's heartbeat must wait that long rather than give up on the server.
        client = pymongo.MongoClient(uri, tz_aware=True, connectTimeoutMS=300000, heartbeatFrequencyMS=300000)
        print(HEADER)
        for n in a.sizes:
            res, pageno = bench(client, n, a.runs, a.ops.split(","))
            print(row(n, res, pageno), flush=True)
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
