"""What hangs on a deleted video, post or user goes with it, through the job worker, and every
counter stays right: after each delete the leftovers are gone from the database and
`stremoractl recount --dry-run` finds nothing to fix.

Other tests may leave counters off on purpose, and their cleanup jobs may still be running:
only the lines of `--dry-run` about this test's own documents are looked at."""

import os
import subprocess

import pymongo
import pytest
from bson import ObjectId

from conftest import CTL, DB_NAME, MONGODB_URI, assert_problem, describe, login, wait_until

API = "/api/v1"


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
                          timeout=300)


def assert_counters_right(ids):
    """No counter of the documents ids (hex) is off: `--dry-run` prints
    "<collection> <id> <field> <stored> <expected>" for each wrong one."""
    p = recount("--dry-run")
    assert p.returncode in (0, 1), p.stderr
    wrong = [line for line in p.stdout.splitlines() if len(line.split()) == 5
             and line.split()[1] in ids]
    assert wrong == [], "recount --dry-run found wrong counters:\n" + "\n".join(wrong)


def ok(r, status=(200, 201, 204)):
    assert r.status_code in ((status,) if isinstance(status, int) else status), describe(r)
    return r.json() if r.content else None


def community(api, a, b, c, video):
    """b and c like a's video, comment and reply on it, like each other's comments, follow
    each other, save it to playlists; a posts, b comments on the post and likes it."""
    vid = video["id"]
    t = {u["username"]: u["access"] for u in (a, b, c)}
    ok(api.put(f"{API}/videos/{vid}/rating", token=t[b["username"]], json={"rating": "like"}))
    ok(api.put(f"{API}/videos/{vid}/rating", token=t[c["username"]], json={"rating": "dislike"}))
    top = ok(api.post(f"{API}/videos/{vid}/comments", token=t[b["username"]], json={"body": "first"}))
    reply = ok(api.post(f"{API}/videos/{vid}/comments", token=t[c["username"]],
                        json={"body": "a reply", "parentId": top["id"]}))
    ok(api.put(f"{API}/comments/{top['id']}/like", token=t[c["username"]]))
    ok(api.put(f"{API}/comments/{reply['id']}/like", token=t[b["username"]]))
    for who, whom in ((b, a), (c, a), (a, b), (c, b)):
        ok(api.put(f"{API}/channels/{whom['username']}/subscription", token=t[who["username"]]))
    pl = ok(api.post(f"{API}/playlists", token=t[b["username"]],
                     json={"title": "mine", "visibility": "public"}))
    ok(api.post(f"{API}/playlists/{pl['id']}/items", token=t[b["username"]], json={"videoId": vid}))
    ok(api.post(f"{API}/playlists/{b['id']}/items", token=t[b["username"]], json={"videoId": vid}))
    post = ok(api.post(f"{API}/posts", token=t[a["username"]], json={"body": "news"}))
    pc = ok(api.post(f"{API}/posts/{post['id']}/comments", token=t[b["username"]],
                     json={"body": "nice"}))
    ok(api.put(f"{API}/posts/{post['id']}/like", token=t[b["username"]]))
    ok(api.put(f"{API}/comments/{pc['id']}/like", token=t[a["username"]]))
    return {"top": top, "reply": reply, "playlist": pl, "post": post, "post_comment": pc}


def test_community_deletes_leave_nothing_and_counters_right(api, make_user, make_video, db):
    a, b, c = make_user(), make_user(), make_user()
    keep = make_video(a, title="stays")
    video = make_video(a, title="goes")
    made = community(api, a, b, c, video)
    # A second video of a's that stays, with b's like, c's comment and a place in b's list.
    ok(api.put(f"{API}/videos/{keep['id']}/rating", token=b["access"], json={"rating": "like"}))
    ok(api.post(f"{API}/videos/{keep['id']}/comments", token=c["access"], json={"body": "stays"}))
    ok(api.post(f"{API}/playlists/{made['playlist']['id']}/items", token=b["access"],
                json={"videoId": keep["id"]}))
    ids = {u["id"] for u in (a, b, c)} | {keep["id"], video["id"], b["id"]} | \
        {made[k]["id"] for k in made}
    assert_counters_right(ids)

    # The video goes: its ratings, comments (and their likes) and playlist items follow.
    vid = ObjectId(video["id"])
    comment_ids = [ObjectId(made["top"]["id"]), ObjectId(made["reply"]["id"])]
    ok(api.delete(f"{API}/videos/{video['id']}", token=a["access"]), 204)
    wait_until(lambda: db.comments.count_documents({"targetId": vid}) == 0
               and db.ratings.count_documents({"targetId": {"$in": [vid, *comment_ids]}}) == 0
               and db.playlist_items.count_documents({"videoId": vid}) == 0,
               60, "the deleted video's comments, ratings and playlist items to go")
    pl = ok(api.get(f"{API}/playlists/{made['playlist']['id']}", token=b["access"]))
    assert pl["itemCount"] == 1, pl
    assert_problem(api.get(f"{API}/videos/{video['id']}/comments"), 404, "video_not_found")
    assert_counters_right(ids)

    # The post goes: its comments and every like on it or them.
    pid, pcid = ObjectId(made["post"]["id"]), ObjectId(made["post_comment"]["id"])
    ok(api.delete(f"{API}/posts/{made['post']['id']}", token=a["access"]), 204)
    wait_until(lambda: db.comments.count_documents({"targetId": pid}) == 0
               and db.ratings.count_documents({"targetId": {"$in": [pid, pcid]}}) == 0,
               60, "the deleted post's comments and likes to go")
    assert_counters_right(ids)

    # b deletes their account: their likes, comments, subscriptions (both ways) and playlists
    # go, and every counter they touched comes back down.
    bid = ObjectId(b["id"])
    r = api.post(f"{API}/users/me/deletion", token=b["access"], json={"currentPassword": "wrong"})
    assert_problem(r, 403, "wrong_password")
    ok(api.post(f"{API}/users/me/deletion", token=b["access"],
                json={"currentPassword": b["password"]}), 204)
    assert login(api, b["username"], b["password"]).status_code == 401
    assert_problem(api.get(f"{API}/channels/{b['username']}"), 404, "channel_not_found")
    wait_until(lambda: db.ratings.count_documents({"userId": bid}) == 0
               and db.subscriptions.count_documents({"$or": [{"subscriberId": bid},
                                                             {"channelId": bid}]}) == 0
               and db.playlists.count_documents({"ownerId": bid}) == 0
               and db.playlist_items.count_documents({"playlistId": ObjectId(made["playlist"]["id"])}) == 0
               and db.comments.count_documents({"authorId": bid, "deleted": False}) == 0,
               60, "the deleted user's ratings, subscriptions, playlists and comments to go")
    got = ok(api.get(f"{API}/videos/{keep['id']}"))
    assert got["likeCount"] == 0 and got["commentCount"] == 1, got
    channel = ok(api.get(f"{API}/channels/{a['username']}"))
    assert channel["subscriberCount"] == 1, channel  # c still follows a
    assert_counters_right(ids)


def test_community_deleted_users_videos_go(api, make_user, make_video, db):
    """A deleted user's videos are deleted as DELETE /videos/{id} deletes them."""
    u, fan = make_user(), make_user()
    v = make_video(u)
    ok(api.put(f"{API}/videos/{v['id']}/rating", token=fan["access"], json={"rating": "like"}))
    ok(api.post(f"{API}/users/me/deletion", token=u["access"],
                json={"currentPassword": u["password"]}), 204)
    wait_until(lambda: db.videos.count_documents({"ownerId": ObjectId(u["id"])}) == 0
               and db.ratings.count_documents({"targetId": ObjectId(v["id"])}) == 0,
               60, "the deleted user's videos and their ratings to go")
    assert_problem(api.get(f"{API}/videos/{v['id']}"), 404, "video_not_found")
    r = api.get(f"{API}/users/me/likes", token=fan["access"])
    assert r.status_code == 200 and r.json()["items"] == [], describe(r)


def test_community_deletion_needs_the_password_and_a_token(api, user):
    assert_problem(api.post(f"{API}/users/me/deletion", json={"currentPassword": "x"}), 401)
    r = api.post(f"{API}/users/me/deletion", token=user["access"], json={})
    assert_problem(r, 422, "validation_failed")
    r = api.get(f"{API}/users/me", token=user["access"])
    assert r.status_code == 200, describe(r)
