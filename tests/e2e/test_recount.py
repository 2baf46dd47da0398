"""stremoractl recount [--dry-run] (ctl/recount.c): every counter rebuilt from the documents it
counts. Counters are corrupted directly in MongoDB; --dry-run lists each wrong one
("<collection> <id> <field> <stored> <expected>") and exits 1, recount fixes them, and a second
--dry-run finds nothing (exit 0). The fake comments and posts a test inserts are removed at its
end.
"""

import os
import subprocess

import pymongo
import pytest
from bson import ObjectId
from bson.int64 import Int64

from conftest import CTL, DB_NAME, MONGODB_URI, VIDEOS, describe

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture(scope="module")
def db():
    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000)
    try:
        yield client[DB_NAME]
    finally:
        client.close()


def recount(*args):
    env = dict(os.environ, MONGODB_URI=MONGODB_URI)
    return subprocess.run([str(CTL), "recount", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def lines(p):
    return set(p.stdout.splitlines())


def rate(api, who, vid, value):
    r = api.put(f"{VIDEOS}/{vid}/rating", json={"rating": value}, token=who["access"])
    assert r.status_code == 200, describe(r)


def settle():
    """Puts every counter right first (earlier tests may have left none wrong, but the
    assertions below count on it)."""
    p = recount()
    assert p.returncode == 0, p.stderr


def test_recount_dry_run_reports_then_recount_fixes(api, make_user, make_video, db):
    owner, a, b = make_user(), make_user(), make_user()
    v1, v2, v3 = (make_video(owner)["id"] for _ in range(3))
    rate(api, a, v1, "like")
    rate(api, b, v1, "like")
    rate(api, a, v2, "dislike")
    settle()
    p = recount("--dry-run")
    assert p.returncode == 0 and p.stdout == "", (p.stdout, p.stderr)

    # a comment liked twice and a post liked by nobody, each with a wrong counter
    comment, post = ObjectId(), ObjectId()
    fake_ratings = [{"_id": ObjectId(), "userId": ObjectId(), "targetId": comment, "kind": "comment",
                     "value": "like", "at": ObjectId().generation_time} for _ in range(2)]
    try:
        db.comments.insert_one({"_id": comment, "likeCount": Int64(4)})
        db.posts.insert_one({"_id": post, "likeCount": Int64(3)})
        db.ratings.insert_many(fake_ratings)
        vs = db.videos
        vs.update_one({"_id": ObjectId(v1)}, {"$set": {"likeCount": Int64(7)}})
        vs.update_one({"_id": ObjectId(v2)}, {"$set": {"dislikeCount": Int64(-3)},
                                              "$unset": {"likeCount": ""}})
        vs.update_one({"_id": ObjectId(v3)}, {"$set": {"likeCount": 5, "dislikeCount": "x"}})

        p = recount("--dry-run")
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert lines(p) == {
            f"videos {v1} likeCount 7 2",
            f"videos {v2} dislikeCount -3 1",
            f"videos {v3} likeCount 5 0",
            f"videos {v3} dislikeCount missing 0",
            f"comments {comment} likeCount 4 2",
            f"posts {post} likeCount 3 0",
        }, p.stdout
        # an absent counter reads as 0: v2's likeCount is not wrong
        assert vs.find_one({"_id": ObjectId(v1)})["likeCount"] == 7, "dry-run wrote"

        p = recount()
        assert p.returncode == 0, (p.stdout, p.stderr)
        summary = lines(p)
        assert any(s.startswith("videos.likeCount: ") and ", 2 wrong, 2 fixed" in s
                   for s in summary), p.stdout
        assert any(s.startswith("videos.dislikeCount: ") and ", 2 wrong, 2 fixed" in s
                   for s in summary), p.stdout
        assert any(s.startswith("comments.likeCount: ") for s in summary), p.stdout
        assert any(s.startswith("posts.likeCount: ") for s in summary), p.stdout

        def counters(vid):
            d = vs.find_one({"_id": ObjectId(vid)})
            return d.get("likeCount"), d.get("dislikeCount")

        assert counters(v1) == (2, 0)
        assert counters(v2) == (None, 1)
        assert counters(v3) == (0, 0)
        # written as int64
        assert vs.count_documents({"_id": ObjectId(v1), "likeCount": {"$type": "long"}}) == 1
        assert vs.count_documents({"_id": ObjectId(v3), "dislikeCount": {"$type": "long"}}) == 1
        assert db.comments.find_one({"_id": comment})["likeCount"] == 2
        assert db.posts.find_one({"_id": post})["likeCount"] == 0

        p = recount("--dry-run")
        assert p.returncode == 0 and p.stdout == "", (p.stdout, p.stderr)
        # the API reads the fixed counters (the rating below ends any cached copy)
        rate(api, b, v1, "dislike")
        r = api.get(f"{VIDEOS}/{v1}")
        assert (r.json()["likeCount"], r.json()["dislikeCount"]) == (1, 1), describe(r)
    finally:
        db.comments.delete_one({"_id": comment})
        db.posts.delete_one({"_id": post})
        db.ratings.delete_many({"_id": {"$in": [d["_id"] for d in fake_ratings]}})


def test_recount_pages_through_many_targets(db):
    """More targets than a page (100) with ratings spread over them: every one is checked
    once, the wrong ones on every page are found and fixed."""
    posts = sorted(ObjectId() for _ in range(253))
    ratings = []
    for i, pid in enumerate(posts):
        for _ in range(i % 4):
            ratings.append({"_id": ObjectId(), "userId": ObjectId(), "targetId": pid, "kind": "post",
                            "value": "like", "at": pid.generation_time})
    # stored: right for most, wrong for every seventh (spread over the three pages)
    docs = [{"_id": pid, "likeCount": Int64(i % 4 + (1 if i % 7 == 0 else 0))}
            for i, pid in enumerate(posts)]
    try:
        settle()
        db.posts.insert_many(docs)
        db.ratings.insert_many(ratings)
        p = recount("--dry-run")
        assert p.returncode == 1, p.stderr
        want = {f"posts {pid} likeCount {i % 4 + 1} {i % 4}"
                for i, pid in enumerate(posts) if i % 7 == 0}
        assert lines(p) == want, sorted(lines(p) ^ want)[:5]
        p = recount()
        assert p.returncode == 0, p.stderr
        assert any(s.startswith("posts.likeCount: ") and f"{len(want)} wrong, {len(want)} fixed" in s
                   for s in lines(p)), p.stdout
        assert [d["likeCount"] for d in db.posts.find({"_id": {"$in": posts}}).sort("_id", 1)] == \
            [i % 4 for i in range(len(posts))]
        assert recount("--dry-run").returncode == 0
    finally:
        db.posts.delete_many({"_id": {"$in": posts}})
        db.ratings.delete_many({"_id": {"$in": [r["_id"] for r in ratings]}})


@pytest.mark.parametrize("args", [["--dry"], ["--dry-run", "x"], ["extra"]])
def test_recount_usage(args):
    p = recount(*args)
    assert p.returncode == 2 and "usage" in p.stderr, (p.returncode, p.stderr)
