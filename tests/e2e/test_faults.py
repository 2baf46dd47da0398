"""Faults: the database stopped under a running pool, and a worker killed with SIGKILL.

Both put the stack back whatever happens (finally), and wait until /api/v1/health/ready
answers 200 again before the next test runs.
"""

import os
import signal
import time

from conftest import (
    assert_problem,
    assert_token_pair,
    describe,
    login,
    pids_of_children,
    read_pid,
    stack,
    wait_ready,
    wait_until,
)

READY = "/api/v1/health/ready"
ANSWER_WITHIN = 3.5  # seconds: the contract says 3 s, plus noise
RECOVER_WITHIN = 20.0  # seconds from db-start until everything answers again


def _timed(fn, *args, **kw):
    t = time.monotonic()
    r = fn(*args, **kw)
    return r, time.monotonic() - t


def _assert_unavailable(r, took):
    assert took < ANSWER_WITHIN, f"took {took:.2f} s: {describe(r)}"
    assert_problem(r, 503, "db_unavailable")
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit(), f"Retry-After {retry!r}: {describe(r)}"


def test_faults_db_stopped_answers_503_and_recovers(api, user):
    pool = read_pid("fcgi")
    workers = pids_of_children(pool)
    assert workers, f"multiwatch {pool} has no children"
    started_again = False
    try:
        stack("db-stop")

        # The first answer after the stop may still be on its way out; poll (each one timed).
        def ready_is_503():
            r, took = _timed(api.get, READY)
            assert took < ANSWER_WITHIN, f"took {took:.2f} s: {describe(r)}"
            return r.status_code == 503

        wait_until(ready_is_503, 10, "health/ready to answer 503 with the database stopped")

        for _ in range(4):
            _assert_unavailable(*_timed(api.get, READY))
        for _ in range(3):
            _assert_unavailable(*_timed(login, api, user["username"], user["password"]))
        r = api.get("/api/v1/health")
        assert r.status_code == 200 and r.json() == {"status": "ok"}, describe(r)
        assert pids_of_children(pool) == workers, "workers died while the database was down"

        stack("db-start")
        started_again = True
        deadline = time.monotonic() + RECOVER_WITHIN
        wait_ready(timeout=RECOVER_WITHIN)

        # Every worker reconnects by itself: a login, then a run of readiness checks, all good.
        seen = []

        def login_ok():
            r = login(api, user["username"], user["password"])
            seen.append(r.status_code)
            assert r.status_code in (200, 503), describe(r)
            return r if r.status_code == 200 else None

        r = wait_until(login_ok, max(0.5, deadline - time.monotonic()), "login to work again")
        assert_token_pair(r, user["id"])
        streak = []

        def ten_in_a_row():
            r = api.get(READY)
            streak.append(r.status_code)
            return streak[-10:] == [200] * 10

        wait_until(ten_in_a_row, max(0.5, deadline - time.monotonic()), "10 readiness checks in a row", 0)
        assert pids_of_children(pool) == workers, "the pool was restarted"
    finally:
        if not started_again:
            stack("db-start")
        wait_ready(timeout=30)


def test_faults_killed_worker_is_replaced(api, user):
    pool = read_pid("fcgi")
    before = pids_of_children(pool)
    assert before, f"multiwatch {pool} has no children"
    victim = before[-1]
    try:
        os.kill(victim, signal.SIGKILL)

        def replaced():
            now = pids_of_children(pool)
            return victim not in now and len(now) == len(before)

        wait_until(replaced, 10, f"multiwatch to replace worker {victim}")
    finally:
        wait_ready(timeout=30)
    assert read_pid("fcgi") == pool, "the pool itself was restarted"
    statuses = [api.get("/api/v1/health").status_code for _ in range(50)]
    assert statuses == [200] * 50, statuses
    # The new worker has a working database client too (made after its fork).
    for _ in range(20):
        r = api.get("/api/v1/users/me", token=user["access"])
        assert r.status_code == 200 and r.json()["id"] == user["id"], describe(r)
        r = api.get(READY)
        assert r.status_code == 200, describe(r)
