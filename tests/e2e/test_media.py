"""GET /media/<token>/<videoId>/<path> (media_get): signed, expiring links that nginx serves
(sendfile, Range) once the app has checked the token and the path.

Tokens are forged here with the stack's key file ($STREMORA_VAR/keys.json) to make expired
and foreign ones; a forged future token that works shows the forging is right. Traversal
attempts go out raw (http.client), because requests would normalise them; none may answer
anything but 400/403/404, and no body may carry the key file or /etc/passwd.
"""

import json
import re
import time

import pytest
import requests

from conftest import (
    BASE_URL,
    MEDIA_LINK_RE,
    VAR,
    assert_problem,
    describe,
    get_playback,
    load_keys,
    media_token,
    media_type,
    raw_request,
)

B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture
def mp4(clips):
    return clips["mp4"].read_bytes()


@pytest.fixture
def video(api, user, make_video, mp4):
    """A public mp4 of a fresh user: {video, source, token, id, data}."""
    v = make_video(user)
    source = get_playback(api, v["id"])["source"]
    m = re.fullmatch(MEDIA_LINK_RE, source)
    assert m, source
    return {"video": v, "source": source, "token": source.split("/")[2], "id": v["id"], "data": mp4}


def link(token, vid, path="source.mp4"):
    return f"/media/{token}/{vid}/{path}"


def flip(s, i):
    """s with its character at i replaced by another base64url character."""
    c = s[i]
    return s[:i] + B64U[(B64U.index(c) + 1) % 64] + s[i + 1 :]


# ---------------------------------------------------------------------------------------------
# Bytes, ranges, HEAD


def test_media_get_whole_file(api, video):
    r = api.get(video["source"])
    assert r.status_code == 200, describe(r)
    assert r.content == video["data"]
    assert r.headers.get("Accept-Ranges") == "bytes", describe(r)
    assert media_type(r) == "video/mp4", describe(r)
    assert int(r.headers["Content-Length"]) == len(video["data"])


def test_media_get_head(api, video):
    r = api.head(video["source"])
    assert r.status_code == 200, describe(r)
    assert r.content == b""
    assert int(r.headers["Content-Length"]) == len(video["data"])
    assert r.headers.get("Accept-Ranges") == "bytes"
    assert media_type(r) == "video/mp4"


def test_media_get_range_first_100_bytes(api, video):
    data = video["data"]
    r = api.get(video["source"], headers={"Range": "bytes=0-99"})
    assert r.status_code == 206, describe(r)
    assert r.headers.get("Content-Range") == f"bytes 0-99/{len(data)}", describe(r)
    assert r.content == data[:100]


def test_media_get_range_suffix(api, video):
    data = video["data"]
    r = api.get(video["source"], headers={"Range": "bytes=-500"})
    assert r.status_code == 206, describe(r)
    assert r.headers.get("Content-Range") == f"bytes {len(data) - 500}-{len(data) - 1}/{len(data)}"
    assert r.content == data[-500:]


def test_media_get_range_open_ended(api, video):
    data = video["data"]
    r = api.get(video["source"], headers={"Range": "bytes=1000-"})
    assert r.status_code == 206, describe(r)
    assert r.headers.get("Content-Range") == f"bytes 1000-{len(data) - 1}/{len(data)}"
    assert r.content == data[1000:]


def test_media_get_range_past_the_end_is_a_problem(api, video):
    size = len(video["data"])
    r = api.get(video["source"], headers={"Range": f"bytes={size + 10}-"})
    assert_problem(r, 416, "range_not_satisfiable")
    assert r.headers.get("Content-Range") == f"bytes */{size}", describe(r)
    assert r.headers.get("X-Content-Type-Options") == "nosniff", describe(r)  # once


def test_media_get_body_over_the_limit_is_a_problem(video):
    r = requests.get(BASE_URL + video["source"], data=b"x" * (2 << 20), timeout=30)
    assert_problem(r, 413, "body_too_large")


@pytest.mark.slow
def test_media_get_range_multi_mb_middle(big_video):
    assert big_video["video"] is not None, describe(big_video["response"])
    path, _, size = big_video["clip"]
    source = get_playback(big_video["api"], big_video["video"]["id"])["source"]
    first, last = 37_000_003, 37_000_003 + (12 << 20) - 1  # 12 MiB from an odd offset
    r = requests.get(BASE_URL + source, headers={"Range": f"bytes={first}-{last}"}, timeout=60)
    assert r.status_code == 206, describe(r)
    assert r.headers.get("Content-Range") == f"bytes {first}-{last}/{size}"
    with open(path, "rb") as f:
        f.seek(first)
        assert r.content == f.read(last - first + 1)


@pytest.mark.slow
def test_media_get_range_suffix_of_big_file(big_video):
    path, _, size = big_video["clip"]
    source = get_playback(big_video["api"], big_video["video"]["id"])["source"]
    r = requests.get(BASE_URL + source, headers={"Range": "bytes=-3000000"}, timeout=60)
    assert r.status_code == 206, describe(r)
    assert r.headers.get("Content-Range") == f"bytes {size - 3000000}-{size - 1}/{size}"
    with open(path, "rb") as f:
        f.seek(size - 3000000)
        assert r.content == f.read()


# ---------------------------------------------------------------------------------------------
# Tokens


@pytest.mark.parametrize("at", [0, 21, 42], ids=["first", "middle", "last"])
def test_media_get_tampered_mac(api, video, at):
    kid, expiry, mac = video["token"].split(".")
    tok = f"{kid}.{expiry}.{flip(mac, at)}"
    assert_problem(api.get(link(tok, video["id"])), 403, "invalid_link")


@pytest.mark.parametrize("change", ["plus-one", "minus-one", "leading-zero", "far-future"])
def test_media_get_tampered_expiry(api, video, change):
    kid, expiry, mac = video["token"].split(".")
    new = {
        "plus-one": str(int(expiry) + 1),
        "minus-one": str(int(expiry) - 1),
        "leading-zero": "0" + expiry,
        "far-future": "9" * 12,
    }[change]
    assert_problem(api.get(link(f"{kid}.{new}.{mac}", video["id"])), 403, "invalid_link")


def test_media_get_token_of_another_video(api, user, make_video, video):
    other = make_video(user)
    r = api.get(link(video["token"], other["id"]))
    assert_problem(r, 403, "invalid_link")
    # ...and the other video's own link does work.
    assert api.get(get_playback(api, other["id"])["source"]).status_code == 200


def test_media_get_forged_future_token_works(api, video):
    tok = media_token(video["id"], int(time.time()) + 120)
    r = api.get(link(tok, video["id"]))
    assert r.status_code == 200, describe(r)
    assert r.content == video["data"]


def test_media_get_genuine_token_is_what_we_forge(video):
    kid, expiry, _ = video["token"].split(".")
    assert media_token(video["id"], int(expiry), kid=kid) == video["token"]


@pytest.mark.parametrize("ago", [1, 3600], ids=["a-second-ago", "an-hour-ago"])
def test_media_get_expired_token(api, video, ago):
    tok = media_token(video["id"], int(time.time()) - ago - 1)
    assert_problem(api.get(link(tok, video["id"])), 403, "link_expired")


def test_media_get_link_stops_at_its_expiry(api, video):
    # A link that worked (and whose answer nginx may have cached) stops when it expires.
    expiry = int(time.time()) + 3
    tok = media_token(video["id"], expiry)
    for _ in range(3):
        r = api.get(link(tok, video["id"]), headers={"Range": "bytes=0-9"})
        assert r.status_code == 206, describe(r)
    while time.time() < expiry + 1.2:
        time.sleep(0.2)
    assert_problem(api.get(link(tok, video["id"]), headers={"Range": "bytes=0-9"}), 403, "link_expired")


def test_media_get_expired_token_with_bad_mac_is_invalid(api, video):
    kid, _, mac = media_token(video["id"], int(time.time()) - 60).split(".")
    tok = f"{kid}.{int(time.time()) - 60}.{flip(mac, 5)}"
    assert_problem(api.get(link(tok, video["id"])), 403, "invalid_link")


def test_media_get_unknown_kid(api, video):
    _, keys = load_keys()
    key = next(iter(keys.values()))
    tok = media_token(video["id"], int(time.time()) + 120, kid="nosuchkid", key=key)
    assert_problem(api.get(link(tok, video["id"])), 403, "invalid_link")


@pytest.mark.parametrize(
    "make",
    [
        lambda t: "garbage",
        lambda t: t.split(".")[0] + "." + t.split(".")[1],
        lambda t: t + ".extra",
        lambda t: t[:-1],
        lambda t: t + "A",
        lambda t: t + "=",
        lambda t: t.replace(".", "..", 1),
        lambda t: "x" * 200,
        lambda t: "k!d." + t.split(".", 1)[1],
        lambda t: t.split(".")[0] + ".-5." + t.split(".")[2],
        lambda t: t.split(".")[0] + ".abc." + t.split(".")[2],
    ],
    ids=["garbage", "no-mac", "extra-part", "mac-42", "mac-44", "mac-padded", "empty-expiry",
         "too-long", "bad-kid", "negative-expiry", "expiry-not-a-number"],
)
def test_media_get_malformed_token(api, video, make):
    assert_problem(api.get(link(make(video["token"]), video["id"])), 403, "invalid_link")


@pytest.mark.parametrize("vid", ["nothex", "0" * 23, "UPPER"], ids=["not-hex", "short", "upper-case"])
def test_media_get_malformed_video_id(api, video, vid):
    vid = video["id"].upper() if vid == "UPPER" else vid
    assert_problem(api.get(link(video["token"], vid)), 403, "invalid_link")


# ---------------------------------------------------------------------------------------------
# Paths: nothing outside the video's folder, ever


def _secrets():
    """Strings that must never appear in a media answer: the key file (whole, and each key;
    kids are public, every link carries one) and lines of /etc/passwd."""
    text = (VAR / "keys.json").read_text().strip()
    return [text, *json.loads(text)["keys"].values(), "root:x:0:0", "/bin/bash", "/usr/sbin/nologin"]


TRAVERSALS = [
    "../../../keys.json",
    "../../keys.json",
    "%2e%2e/%2e%2e/keys.json",
    "%2e%2e/%2e%2e/%2e%2e/keys.json",
    "..%2f..%2fkeys.json",
    "..%2f..%2f..%2fkeys.json",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fkeys.json",
    "%252e%252e/%252e%252e/keys.json",
    "..%5c..%5ckeys.json",
    "source.mp4%00.txt",
    "%00",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "../../../../../../../../etc/passwd",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "hls/../source.mp4",
    "hls/%2e%2e/source.mp4",
    "source.mp4/.",
    "..",
    ".",
    "...",
    "source.mp4/../../keys.json",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_media_get_traversal(api, video, path):
    r = raw_request(api, "GET", f"/media/{video['token']}/{video['id']}/{path}")
    body = r.content.decode("utf-8", "replace")
    for secret in _secrets():
        assert secret not in body, f"the answer carries {secret[:20]!r}...: {describe(r)}"
    assert r.status_code in (400, 403, 404), describe(r)
    assert media_type(r) == "application/problem+json", describe(r)


def test_media_get_traversal_into_a_sibling_video(api, user, make_video, video):
    other = make_video(user)
    r = raw_request(api, "GET", f"/media/{video['token']}/{video['id']}/../{other['id']}/source.mp4")
    assert r.status_code in (403, 404), describe(r)
    assert r.content != video["data"]
    assert media_type(r) == "application/problem+json", describe(r)


def test_media_get_missing_file_under_the_video(api, video):
    assert_problem(api.get(link(video["token"], video["id"], "nothere.mp4")), 404, "not_found")


def test_media_get_hls_before_processing(api, video):
    assert_problem(api.get(link(video["token"], video["id"], "hls/master.m3u8")), 404, "not_found")


def test_media_get_internal_location_is_not_reachable(api, video):
    r = raw_request(api, "GET", f"/_media/{video['id']}/source.mp4")
    assert r.status_code == 404, describe(r)
    assert r.content != video["data"]
    assert media_type(r) == "application/problem+json", describe(r)


def test_media_get_auth_route_is_not_reachable(api, video):
    # The app's link check (nginx's auth_request) answers only nginx's internal location.
    r = raw_request(api, "GET", f"/media-auth/{video['token']}/{video['id']}/source.mp4")
    assert_problem(r, 404, "not_found")


def test_media_get_no_token_segment(api, video):
    r = raw_request(api, "GET", f"/media/{video['id']}/source.mp4")
    assert r.status_code in (403, 404), describe(r)
    assert r.content != video["data"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_media_get_other_methods_refused(api, video, method):
    r = raw_request(api, method, video["source"], body=b"x")
    assert r.status_code in (403, 405), describe(r)
    assert r.content != video["data"]
    assert media_type(r) == "application/problem+json", describe(r)
    assert r.json().get("code") in ("forbidden", "method_not_allowed"), describe(r)
    if r.status_code == 405:
        allow = {m.strip() for m in r.headers.get("Allow", "").split(",")}
        assert allow == {"GET", "HEAD"}, describe(r)
