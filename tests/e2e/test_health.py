"""GET /api/v1/health (health_get) and GET /api/v1/health/ready (health_ready).

The answers with the database stopped are in test_faults.py.
"""

from conftest import (
    assert_problem,
    describe,
    media_type,
    pids_of_children,
    read_pid,
    wait_until,
)


def test_health_get_ok(api):
    r = api.get("/api/v1/health")
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "application/json", describe(r)
    assert r.json() == {"status": "ok"}


def test_health_get_head_has_no_body(api):
    r = api.head("/api/v1/health")
    assert r.status_code == 200, describe(r)
    assert r.content == b"", describe(r)


def test_health_get_needs_no_token_and_ignores_a_query(api):
    r = api.get("/api/v1/health?verbose=1")
    assert r.status_code == 200, describe(r)
    assert r.json() == {"status": "ok"}


def test_health_ready_ok(api):
    workers = len(pids_of_children(read_pid("fcgi")))

    def every_worker_up():
        # A worker just restarted (by an earlier fault) counts once it has registered.
        r = api.get("/api/v1/health/ready")
        return r if r.status_code == 200 and r.json()["workers"]["alive"] == workers else None

    r = wait_until(every_worker_up, 30, f"all {workers} workers to be alive")
    assert media_type(r) == "application/json", describe(r)
    doc = r.json()
    assert set(doc) == {"status", "workers"} and doc["status"] == "ready", doc
    # This request's worker is busy; the others wait for requests.
    assert doc["workers"] == {"alive": workers, "busy": 1, "answering": workers}, doc


def test_health_ready_post_is_method_not_allowed(api):
    r = api.post("/api/v1/health/ready", json={})
    assert_problem(r, 405, "method_not_allowed")
    allow = {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}
    assert "GET" in allow and "POST" not in allow, describe(r)
