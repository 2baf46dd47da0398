#!/usr/bin/env python3
"""compat_check.py - a data folder written by the unpatched server opens and answers the same
with the patched one (and back).

    .venv/bin/python tools/ferretdb/compat_check.py PRISTINE_BINARY PATCHED_BINARY DIR

  1. PRISTINE_BINARY on the fresh scratch folder DIR: collections and indexes of
     sql-free-schemas/, the documents of tests/e2e/test_db_plans.py fill() (odd ones included);
     the answers to every query shape are recorded (find, count, list pages through the keyset
     cursor), and the stored index definitions.
  2. PATCHED_BINARY on the same folder: the non-unique indexes are rebuilt with typed expressions
     (sqlite_master read-only), the unique ones are untouched; every answer is the same; the
     lists are read through indexes (explain); a duplicate key is still refused with 11000;
     an $inc, an update_many and an insert are made.
  3. PRISTINE_BINARY again on that folder: every answer (after step 2's writes) is the same as
     the patched server gave.
Prints what it checks and exits non-zero at the first difference.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pymongo
from pymongo.errors import DuplicateKeyError

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
os.environ.setdefault("STREMORA_MONGODB_URI", "mongodb://unused")
import test_db_plans as plans  # noqa: E402  (fill, list_filter, the schemas' indexes)


def start(binary, d):
    sock = d / "db.sock"
    if sock.exists():
        sys.exit(f"compat: {sock} exists: is a server running on {d}?")
    log = open(d / "db.log", "ab")
    p = subprocess.Popen([binary, "-data", str(d / "db"), "-socket", str(sock), "-log-level", "info"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    for _ in range(1200):  # the first patched start rebuilds indexes
        if sock.exists() or p.poll() is not None:
            break
        time.sleep(0.05)
    if not sock.exists() or p.poll() is not None:
        p.terminate()
        sys.exit("compat: the server did not start (see DIR/db.log)")
    uri = "mongodb://" + urllib.parse.quote(str(sock), safe="")
    return p, pymongo.MongoClient(uri, tz_aware=True)


def stop(p, client):
    client.close()
    p.terminate()
    p.wait(timeout=10)


def answers(db, data):
    """Every query shape's answer, as comparable values."""
    v, o = db.videos, data["owners"]
    res = {}
    for viewer in (None, o[1]):
        for owner in (None, o[0], o[1], o[2]):
            res[("list", str(viewer), str(owner))] = plans.page_all(
                v, lambda c: plans.list_filter(viewer, owner, None, c))
    for d in data["videos"][:20] + data["videos"][-20:]:
        res[("id", str(d["_id"]))] = db.videos.find_one({"_id": d["_id"]})
    for f in ({"username": "user3"}, {"username": "zz"}, {"email": "user7@example.org"}):
        res[("user", str(f))] = db.users.find_one(f)
    for fam in data["families"][:3]:
        res[("fam", str(fam))] = sorted(map(str, (d["_id"] for d in db.sessions.find({"familyId": fam}))))
    res["tags"] = sorted(map(str, (d["_id"] for d in v.find({"tags": "t3"}))))
    res["count"] = (v.count_documents({}), db.users.count_documents({}), db.sessions.count_documents({}))
    return res


def index_sql(d, name):
    c = sqlite3.connect(f"file:{d / 'db' / (name + '.sqlite')}?mode=ro", uri=True)
    try:
        return dict(c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    finally:
        c.close()


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        sys.exit(1)


def main():
    pristine, patched, d = sys.argv[1], sys.argv[2], Path(sys.argv[3]).resolve()
    if d.exists() and any(d.iterdir()):
        sys.exit(f"compat: {d} is not empty")
    (d / "db").mkdir(parents=True, exist_ok=True)
    name = "compat"

    # 1. unpatched
    p, client = start(pristine, d)
    db = client[name]
    for path in sorted((REPO / "sql-free-schemas").glob("*.json")):
        schema = json.loads(path.read_text())
        for ix in schema["indexes"]:
            opts = {k: v for k, v in ix.items() if k not in ("key", "expireAfterSeconds")}
            db[schema["collection"]].create_index(list(ix["key"].items()), **opts)
    data = plans.fill(db)
    before = answers(db, data)
    plan = db.command("explain", {"find": "videos", "filter": plans.list_filter(), "sort": dict(plans.SORT)})
    check(any("SCAN" in r for r in plan["queryPlanner"]["Plan"]), "unpatched: the public list is a full scan")
    stop(p, client)
    sql1 = index_sql(d, name)

    # 2. patched on the same folder
    p, client = start(patched, d)
    db = client[name]
    sql2 = index_sql(d, name)
    unique = {n for n, s in sql1.items() if s.startswith("CREATE UNIQUE")}
    check(all(sql2[n] == sql1[n] for n in unique), f"patched: the {len(unique)} unique indexes are unchanged")
    changed = {n for n in sql1 if n not in unique and sql2.get(n) != sql1[n]}
    check(changed == set(sql1) - unique and all("THEN 10" in sql2[n] for n in changed),
          f"patched: the {len(changed)} other indexes were rebuilt with typed expressions")
    check(answers(db, data) == before, "patched: every answer is the same as unpatched")
    for viewer, owner in ((None, None), (None, data["owners"][2]), (data["owners"][1], None)):
        qp = db.command("explain", {"find": "videos", "filter": plans.list_filter(viewer, owner),
                                    "sort": dict(plans.SORT), "limit": 21})["queryPlanner"]
        check(qp.get("FieldSorted", 0) > 0 and not any("SCAN videos" in r for r in qp["Plan"]),
              f"patched: list (viewer {viewer}, owner {owner}) read in order through {qp['Index']}")
    try:
        db.users.insert_one({"username": "user3", "email": "new@example.org"})
        check(False, "patched: duplicate username refused")
    except DuplicateKeyError as e:
        check(e.code == 11000, "patched: duplicate username refused with 11000")
    vid = data["videos"][3]["_id"]
    check(db.videos.update_one({"_id": vid}, {"$inc": {"views": 5}}).modified_count == 1, "patched: $inc by _id")
    check(db.sessions.update_many({"familyId": data["families"][1]}, {"$set": {"revoked": True}}).matched_count == 11,
          "patched: update_many by familyId (10 + the array one)")
    db.videos.insert_one(plans._video(data["owners"][2], 9999))
    after = answers(db, data)
    stop(p, client)

    # 3. unpatched again
    p, client = start(pristine, d)
    db = client[name]
    check(answers(db, data) == after, "unpatched again: every answer is the same as patched gave")
    check(db.videos.find_one({"_id": vid})["views"] == 5, "unpatched again: the $inc is there")
    stop(p, client)
    print("compat: all checks passed")


if __name__ == "__main__":
    main()
