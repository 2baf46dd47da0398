"""Webhooks: POST/GET/DELETE /api/v1/webhooks and GET /api/v1/webhooks/{id}/deliveries, and
their deliveries by stremora-worker to a receiver these tests run: signed, retried after a
500, never following a redirect, never to a private address without the setting.

The test stack runs with STREMORA_WEBHOOK_ALLOW_PRIVATE=1 (its receivers are on loopback);
the refusal test runs a worker of its own without it.
"""

import hashlib
import hmac
import http.server
import json
import os
import subprocess
import threading
import time

import pytest
import requests

from conftest import (
    BASE_URL,
    FCGI,
    assert_problem,
    assert_validation,
    describe,
    stack,
    stack_env,
    upload,
    video_parts,
    wait_until,
)

HOOKS = "/api/v1/webhooks"


class Receiver:
    """An HTTP server on loopback that records every request and answers from a script of
    (status, headers) pairs (the last one repeats)."""

    def __init__(self, script=((200, {}),)):
        self.script = list(script)
        self.requests = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body, "at": time.time()})
                status, headers = receiver.script[min(len(receiver.requests) - 1,
                                                       len(receiver.script) - 1)]
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    rs = []

    def make(script=((200, {}),)):
        r = Receiver(script)
        rs.append(r)
        return r

    yield make
    for r in rs:
        r.close()


def _create(api, user, url, events=("video.uploaded",)):
    r = api.post(HOOKS, token=user["access"], json={"url": url, "events": list(events)})
    assert r.status_code == 201, describe(r)
    return r.json()


def _trigger_upload(api, user, clips):
    r = upload(api, user["access"], video_parts(clips["mp4"]))
    assert r.status_code == 201, describe(r)
    return r.json()


def _deliveries(api, user, hook_id):
    r = api.get(f"{HOOKS}/{hook_id}/deliveries", token=user["access"])
    assert r.status_code == 200, describe(r)
    return r.json()["items"]


# ---------------------------------------------------------------------------------------------
# The API


def test_webhooks_create_shows_the_secret_once(api, user):
    doc = _create(api, user, "https://hooks.example.test/x", ["video.ready", "video.failed"])
    assert set(doc) == {"id", "url", "events", "createdAt", "secret"}, doc
    assert len(doc["secret"]) == 64 and int(doc["secret"], 16) >= 0
    assert doc["events"] == ["video.ready", "video.failed"]
    listed = api.get(HOOKS, token=user["access"]).json()["items"]
    assert [h["id"] for h in listed] == [doc["id"]]
    assert "secret" not in listed[0], listed
    assert doc["secret"] not in json.dumps(listed)


@pytest.mark.parametrize("body,field,code", [
    ({"url": "ftp://example.test/x", "events": ["video.ready"]}, "url", "invalid_format"),
    ({"url": "not a url", "events": ["video.ready"]}, "url", "invalid_format"),
    ({"url": "https://user:pw@example.test/x", "events": ["video.ready"]}, "url", "invalid_format"),
    ({"url": "https://example.test/x", "events": []}, "events", "too_short"),
    ({"url": "https://example.test/x", "events": ["video.watched"]}, "events", "invalid_format"),
    ({"url": "https://example.test/x", "events": ["video.ready", "video.ready"]}, "events", "duplicate"),
    ({"url": "https://example.test/x", "events": "video.ready"}, "events", "wrong_type"),
    ({"url": "https://example.test/x"}, "events", "required"),
    ({"events": ["video.ready"]}, "url", "required"),
    ({"url": "https://example.test/x", "events": ["video.ready"], "secret": "mine"}, "secret", "unknown_field"),
], ids=["ftp", "garbage", "userinfo", "no-events", "unknown-event", "duplicate-event",
        "events-string", "events-missing", "url-missing", "own-secret"])
def test_webhooks_create_invalid(api, user, body, field, code):
    assert_validation(api.post(HOOKS, token=user["access"], json=body), field, code)
    assert api.get(HOOKS, token=user["access"]).json()["items"] == []


def test_webhooks_are_their_owners_alone(api, make_user):
    a, b = make_user(), make_user()
    hook = _create(api, a, "https://example.test/a")
    assert api.get(HOOKS, token=b["access"]).json()["items"] == []
    assert_problem(api.delete(f"{HOOKS}/{hook['id']}", token=b["access"]), 404, "webhook_not_found")
    assert_problem(api.get(f"{HOOKS}/{hook['id']}/deliveries", token=b["access"]), 404,
                   "webhook_not_found")
    assert_problem(api.get(HOOKS), 401, "missing_token")
    assert_problem(api.post(HOOKS, json={"url": "https://x.test/", "events": ["video.ready"]}),
                   401, "missing_token")
    assert_problem(api.delete(f"{HOOKS}/{hook['id']}"), 401, "missing_token")
    r = api.delete(f"{HOOKS}/{hook['id']}", token=a["access"])
    assert r.status_code == 204, describe(r)
    assert api.get(HOOKS, token=a["access"]).json()["items"] == []
    assert_problem(api.delete(f"{HOOKS}/{hook['id']}", token=a["access"]), 404, "webhook_not_found")
    assert_problem(api.delete(f"{HOOKS}/nothex", token=a["access"]), 404, "webhook_not_found")


def test_webhooks_at_most_twenty(api, user):
    for i in range(20):
        _create(api, user, f"https://example.test/{i}")
    r = api.post(HOOKS, token=user["access"], json={"url": "https://example.test/21", "events": ["video.ready"]})
    assert_problem(r, 409, "too_many_webhooks")


# ---------------------------------------------------------------------------------------------
# Deliveries


def _verify(req, secret):
    sig = dict(p.split("=", 1) for p in req["headers"]["Stremora-Signature"].split(","))
    mac = hmac.new(secret.encode(), f"{sig['t']}.".encode() + req["body"], hashlib.sha256)
    assert hmac.compare_digest(mac.hexdigest(), sig["v1"]), "bad signature"
    assert abs(int(sig["t"]) - time.time()) < 120


def test_webhooks_delivery_is_signed(api, user, clips, receiver):
    rec = receiver()
    hook = _create(api, user, rec.url, ["video.uploaded", "video.deleted"])
    v = _trigger_upload(api, user, clips)
    wait_until(lambda: len(rec.requests) >= 1, 60, "video.uploaded to arrive")
    req = rec.requests[0]
    _verify(req, hook["secret"])
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["headers"]["Stremora-Event"] == "video.uploaded"
    body = json.loads(req["body"])
    assert set(body) == {"id", "type", "createdAt", "data"}, body
    assert body["type"] == "video.uploaded" and body["data"]["video"]["id"] == v["id"]
    # A deletion is announced too, with the video as it was.
    r = api.delete(f"/api/v1/videos/{v['id']}", token=user["access"])
    assert r.status_code == 204, describe(r)
    wait_until(lambda: any(x["headers"]["Stremora-Event"] == "video.deleted" for x in rec.requests),
               60, "video.deleted to arrive")
    deleted = [x for x in rec.requests if x["headers"]["Stremora-Event"] == "video.deleted"][0]
    _verify(deleted, hook["secret"])
    assert json.loads(deleted["body"])["data"]["video"]["id"] == v["id"]
    ds = _deliveries(api, user, hook["id"])
    assert {d["event"] for d in ds} >= {"video.uploaded", "video.deleted"}, ds
    for d in ds:
        assert set(d) == {"id", "event", "eventId", "attempt", "at", "statusCode", "durationMs",
                          "error"}, d
        assert d["statusCode"] == 200 and d["error"] is None, d


def test_webhooks_retry_after_a_500(api, user, clips, receiver):
    rec = receiver([(500, {}), (200, {})])
    hook = _create(api, user, rec.url)
    _trigger_upload(api, user, clips)
    wait_until(lambda: len(rec.requests) >= 2, 60, "the retry after the 500")
    assert rec.requests[0]["body"] == rec.requests[1]["body"]  # the same event, again
    _verify(rec.requests[1], hook["secret"])
    ds = wait_until(lambda: [d for d in _deliveries(api, user, hook["id"])] if len(
        _deliveries(api, user, hook["id"])) >= 2 else None, 30, "both attempts recorded")
    assert [(d["attempt"], d["statusCode"]) for d in reversed(ds)] == [(1, 500), (2, 200)], ds
    time.sleep(1.0)  # no third delivery after the 200
    assert len(rec.requests) == 2


def test_webhooks_redirect_is_not_followed(api, user, clips, receiver):
    target = receiver()
    rec = receiver([(302, {"Location": target.url})])
    hook = _create(api, user, rec.url)
    _trigger_upload(api, user, clips)
    wait_until(lambda: len(_deliveries(api, user, hook["id"])) >= 1, 60, "the first attempt")
    d = _deliveries(api, user, hook["id"])[-1]
    assert d["statusCode"] == 302, d
    assert target.requests == [], "the redirect was followed"
    api.delete(f"{HOOKS}/{hook['id']}", token=user["access"])  # stops the retries


def test_webhooks_private_address_refused_without_the_setting(api, user, clips, receiver):
    # The stack's own workers stop; a worker without STREMORA_WEBHOOK_ALLOW_PRIVATE takes
    # their place for this test.
    rec = receiver()
    hook = _create(api, user, rec.url)
    stack("worker-stop")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    env.update(stack_env())
    env["STREMORA_WEBHOOK_ALLOW_PRIVATE"] = "0"
    worker = subprocess.Popen([str(FCGI.parent / "stremora-worker")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _trigger_upload(api, user, clips)
        d = wait_until(lambda: (_deliveries(api, user, hook["id"]) or [None])[-1], 60,
                       "the refused attempt to be recorded")
        assert d["statusCode"] is None and "private" in d["error"], d
        assert rec.requests == []
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        api.delete(f"{HOOKS}/{hook['id']}", token=user["access"])
        stack("worker-start")
