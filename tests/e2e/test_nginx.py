"""nginx in front of the pool, in both configs: the local one (nginx-conf/local.conf, what
the stack under test runs) and the production one (nginx-conf/stremora.conf, started here on
loopback ports with a throwaway certificate, in front of the same pool and media root).

Every answer carries the security headers, media and nginx's own errors included (HSTS only
in production over TLS); nginx's own errors are problem+json like the app's; an over-long
media path is refused before it becomes a cache key.
"""

import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests
import urllib3

from conftest import (
    BASE_URL,
    MEDIA,
    REPO,
    VAR,
    assert_problem,
    describe,
    get_playback,
    raw_request,
    wait_until,
)

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                    "Referrer-Policy", "X-Request-Id")
HSTS = "Strict-Transport-Security"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    """The production config rendered for this machine: (https base URL, error log path)."""
    d = tmp_path_factory.mktemp("prod-nginx")
    for sub in ("tls", "log", "lib", "acme", "web"):
        (d / sub).mkdir()
    (d / "snippets").symlink_to(REPO / "nginx-conf" / "snippets")
    p = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=localhost", "-keyout", str(d / "tls/privkey.pem"), "-out", str(d / "tls/fullchain.pem")],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    http_port, https_port = _free_port(), _free_port()
    conf = (REPO / "nginx-conf" / "stremora.conf").read_text()
    user = "user root;" if os.geteuid() == 0 else ""
    for old, new in [
        ("user www-data stremora;", user),
        ("/run/nginx.pid", str(d / "nginx.pid")),
        ("/var/log/nginx/", str(d / "log") + "/"),
        ("/var/lib/nginx/", str(d / "lib") + "/"),
        ("listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;"),
        ("listen 443 ssl http2 default_server;",
         f"listen 127.0.0.1:{https_port} ssl http2 default_server;"),
        ("/etc/stremora/tls/", str(d / "tls") + "/"),
        ("/var/www/acme", str(d / "acme")),
        ("unix:/run/stremora/fcgi.sock", f"unix:{VAR}/run/fcgi.sock"),
        ("/opt/stremora/web", str(d / "web")),
        ("include /etc/nginx/stremora/media.conf;", "include media.conf;"),
    ]:
        assert old in conf, f"stremora.conf no longer has {old!r}: update this test"
        conf = conf.replace(old, new)
    (d / "stremora.conf").write_text(conf)
    media = (REPO / "nginx-conf/snippets/media.conf").read_text()
    media = media.replace("@SNIPPETS@", str(d / "snippets")).replace("@MEDIA@", str(MEDIA))
    (d / "media.conf").write_text(media)
    cmd = ["nginx", "-p", str(d) + "/", "-c", str(d / "stremora.conf"), "-e", str(d / "log/error.log")]
    p = subprocess.run(cmd + ["-t"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, f"nginx -t refused the production config: {p.stderr}"
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    base = f"https://127.0.0.1:{https_port}"
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    try:
        wait_until(lambda: requests.get(base + "/api/v1/health", verify=False, timeout=5).status_code == 200,
                   10, "the production nginx to answer")
        yield base, d / "log" / "stremora-error.log"
    finally:
        subprocess.run(cmd + ["-s", "quit"], capture_output=True, timeout=30)
        pid_file = d / "nginx.pid"
        wait_until(lambda: not pid_file.exists(), 10, "the production nginx to stop")


def _media_links(api, make_user, make_video):
    owner = make_user()
    v = make_video(owner)
    pb = get_playback(api, v["id"])
    good = pb["source"]
    kid_exp_mac, vid, path = good.split("/")[2], good.split("/")[3], good.split("/", 4)[4]
    bad = f"/media/{kid_exp_mac[:-4]}AAAA/{vid}/{path}"
    return good, bad


def _check_headers(resp, with_hsts):
    for h in SECURITY_HEADERS:
        assert resp.headers.get(h), f"{h} missing: {describe(resp)} {dict(resp.headers)}"
    if with_hsts:
        assert resp.headers.get(HSTS, "").startswith("max-age="), dict(resp.headers)
    else:
        assert HSTS not in resp.headers, dict(resp.headers)
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    assert resp.headers.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in resp.headers.get("Content-Security-Policy", "")


def _answers(get, good, bad):
    """The four answers each config must dress: API, media 200, media 206, media 403."""
    return {
        "api": get("/api/v1/health"),
        "media-200": get(good),
        "media-206": get(good, headers={"Range": "bytes=0-99"}),
        "media-403": get(bad),
        "nginx-404": get("/no/such/thing"),
        "nginx-405": get("/media/x/" + "0" * 24 + "/a.mp4", method="DELETE"),
    }


def test_nginx_security_headers_local(api, make_user, make_video):
    good, bad = _media_links(api, make_user, make_video)

    def get(path, method="GET", headers=None):
        return requests.request(method, BASE_URL + path, headers=headers or {}, timeout=15)

    answers = _answers(get, good, bad)
    assert answers["media-200"].status_code == 200, describe(answers["media-200"])
    assert answers["media-206"].status_code == 206, describe(answers["media-206"])
    assert answers["media-403"].status_code == 403, describe(answers["media-403"])
    for name, r in answers.items():
        _check_headers(r, with_hsts=False)


def test_nginx_security_headers_production(api, prod, make_user, make_video):
    base, _ = prod
    good, bad = _media_links(api, make_user, make_video)

    def get(path, method="GET", headers=None):
        return requests.request(method, base + path, headers=headers or {}, timeout=15, verify=False)

    answers = _answers(get, good, bad)
    assert answers["api"].status_code == 200, describe(answers["api"])
    assert answers["media-200"].status_code == 200, describe(answers["media-200"])
    assert answers["media-206"].status_code == 206, describe(answers["media-206"])
    assert answers["media-403"].status_code == 403, describe(answers["media-403"])
    for name, r in answers.items():
        _check_headers(r, with_hsts=True)


# nginx's own errors: problem+json, never its HTML pages.


def _raw(api, method, target, headers=None, body=b""):
    return raw_request(api, method, target, headers=headers, body=body)


def test_nginx_trace_is_a_problem_with_allow(api):
    r = _raw(api, "TRACE", "/api/v1/health")
    assert_problem(r, 405, "method_not_allowed")
    assert "GET" in r.headers.get("Allow", ""), r.headers
    _check_headers(r, with_hsts=False)


def test_nginx_uri_too_long_is_a_problem(api):
    r = _raw(api, "GET", "/api/v1/" + "a" * 9000)
    assert r.status_code == 414 and r.json()["code"] == "uri_too_long", describe(r)
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_nginx_headers_too_large_is_a_problem(api):
    r = _raw(api, "GET", "/api/v1/health", headers={"X-Big": "b" * 9000})
    assert r.status_code == 400 and r.json()["code"] == "headers_too_large", describe(r)


def test_nginx_too_many_headers_is_a_problem(api):
    r = _raw(api, "GET", "/api/v1/health", headers={f"X-H{i}": "v" * 200 for i in range(200)})
    assert r.status_code == 400 and r.json()["code"] in ("headers_too_large", "bad_request"), describe(r)
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_nginx_unknown_transfer_encoding_is_a_problem(api):
    r = _raw(api, "POST", "/api/v1/auth/login",
             headers={"Transfer-Encoding": "chunked, identity", "Content-Type": "application/json"},
             body=b"")
    assert r.status_code == 501 and r.json()["code"] == "not_implemented", describe(r)
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_nginx_long_media_path_is_refused_before_the_app(api, make_user, make_video):
    good, _ = _media_links(api, make_user, make_video)
    log = VAR / "log" / "nginx-error.log"
    before = log.read_text() if log.exists() else ""
    long_path = good.rsplit("/", 1)[0] + "/" + "a" * 4000 + ".mp4"
    for _ in range(3):
        r = requests.get(BASE_URL + long_path, timeout=15)
        assert r.status_code == 403 and r.json()["code"] == "invalid_link", describe(r)
    after = log.read_text() if log.exists() else ""
    assert "cache key" not in after[len(before):], after[len(before):][-2000:]


def test_nginx_var_keeps_data_to_its_user():
    # The stack's folder admits nobody else; the database files are the user's alone.
    assert (os.stat(VAR).st_mode & 0o077) == 0, oct(os.stat(VAR).st_mode)
    files = [p for p in (VAR / "db").iterdir() if p.is_file()]
    assert files, "no database files"
    for p in files + [VAR / "keys.json"]:
        assert (os.stat(p).st_mode & 0o077) == 0, f"{p}: {oct(os.stat(p).st_mode)}"
