"""The database rules Stremora relies on (DESIGN.md section 4), pinned against the server the
stack runs, so that a change of server or version shows at once.

Each test works in a scratch database of its own ("rules_<uuid>"), dropped at the end, except the
last one, which reads the app's users indexes.
"""

import threading
import uuid
from collections import Counter

import pymongo
import pytest
from pymongo.errors import DuplicateKeyError

from conftest import DB_NAME, MONGODB_URI

THREADS = 20


def _client():
    return pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000)


@pytest.fixture
def scratch():
    """(client, name) of a fresh scratch database, dropped afterwards whatever happens."""
    client = _client()
    name = "rules_" + uuid.uuid4().hex[:16]
    try:
        yield client, name
    finally:
        try:
            client.drop_database(name)
        finally:
            client.close()


def _run_threads(target, n=THREADS):
    """Runs target(i) in n threads released together; re-raises the first failure."""
    start = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            start.wait(timeout=30)
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread did not finish in 120 s"
    if errors:
        raise errors[0]


def test_db_rules_unique_index_refuses_duplicate_insert(scratch):
    client, name = scratch
    coll = client[name]["things"]
    coll.create_index([("key", pymongo.ASCENDING)], unique=True)
    coll.insert_one({"key": "a", "n": 1})
    with pytest.raises(DuplicateKeyError) as e:
        coll.insert_one({"key": "a", "n": 2})
    assert e.value.code == 11000
    assert coll.count_documents({"key": "a"}) == 1
    assert coll.find_one({"key": "a"})["n"] == 1
    coll.insert_one({"key": "b", "n": 3})  # a different key still goes in
    assert coll.count_documents({}) == 2


def test_db_rules_duplicate_id_insert_is_11000(scratch):
    client, name = scratch
    coll = client[name]["claims"]
    coll.insert_one({"_id": "job:1"})
    with pytest.raises(DuplicateKeyError) as e:
        coll.insert_one({"_id": "job:1"})
    assert e.value.code == 11000


def test_db_rules_concurrent_inc_is_exact(scratch):
    client, name = scratch
    client[name]["counters"].insert_one({"_id": "c", "n": 0})
    per_thread = 50

    def work(i):
        # A connection of its own per thread: concurrent connections are the point.
        c = _client()
        try:
            coll = c[name]["counters"]
            for _ in range(per_thread):
                res = coll.update_one({"_id": "c"}, {"$inc": {"n": 1}})
                assert res.modified_count == 1
        finally:
            c.close()

    _run_threads(work)
    assert client[name]["counters"].find_one({"_id": "c"})["n"] == THREADS * per_thread


def test_db_rules_concurrent_claims_each_job_once(scratch):
    client, name = scratch
    jobs = [f"job{j:02d}" for j in range(20)]
    won = Counter()
    lock = threading.Lock()

    def work(i):
        c = _client()
        try:
            claims = c[name]["job_claims"]
            for job in jobs:
                try:
                    claims.insert_one({"_id": f"{job}:1", "by": i})
                except DuplicateKeyError as e:
                    assert e.code == 11000
                    continue
                with lock:
                    won[job] += 1
        finally:
            c.close()

    _run_threads(work)
    assert won == Counter({job: 1 for job in jobs}), dict(won)
    stored = list(client[name]["job_claims"].find({}))
    assert sorted(d["_id"] for d in stored) == sorted(f"{job}:1" for job in jobs)


def test_db_rules_users_indexes_are_unique():
    client = _client()
    try:
        indexes = list(client[DB_NAME]["users"].list_indexes())
    finally:
        client.close()
    unique_keys = {tuple(k for k in ix["key"].keys()) for ix in indexes if ix.get("unique")}
    assert ("username",) in unique_keys, indexes
    assert ("email",) in unique_keys, indexes
