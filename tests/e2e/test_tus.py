"""Resumable uploads, tus 1.0 (fcgi/uploads.c, common/tus.c, nginx-conf/snippets/tus.conf):
OPTIONS, POST (creation, creation-with-upload), HEAD, PATCH (checksum), DELETE (termination)
and expiry, every status and header the protocol and Stremora define, every error one at a
time beside the value that passes, over raw HTTP (requests, and sockets or a CGI run of
stremora-fcgi where requests cannot say it).

Side effects are checked where they live: the upload document (the `uploads` collection),
its part file ($STREMORA_MEDIA_ROOT/uploads/<id>) and the video it becomes (GET
/api/v1/videos/{id}, whose sha256 is of the whole file). Concurrency: two PATCHes racing at
one offset, a PATCH held open by a CGI writer (423), writers killed mid-PATCH (a CGI writer,
and the pool's workers under a stream of 16 MiB chunks), bytes left past the counted offset.
"""

import base64
import datetime
import email.utils
import hashlib
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import (
    BASE_URL,
    DB_NAME,
    FCGI,
    MAX_UPLOAD,
    MEDIA,
    MONGODB_URI,
    VIDEOS,
    Api,
    assert_problem,
    assert_validation,
    cgi_env,
    describe,
    host_port,
    media_type,
    pids_of_children,
    read_pid,
    response_from_socket,
    sha256_hex,
    stack,
    wait_ready,
    wait_until,
)

UPLOADS = "/api/v1/uploads"
TUS_VERSION = "1.0.0"
OCTETS = "application/offset+octet-stream"
MAX_CHUNK = 16 * 1024 * 1024  # MAX_TUS_CHUNK (common/bounds.h), nginx's client_max_body_size
EXPIRY = 86400  # STREMORA_UPLOAD_EXPIRY: the test stack keeps the default
LOCATION_RE = re.compile(r"/api/v1/uploads/([0-9a-f]{24})")
HTTP_DATE_RE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d GMT"
)
PROCESSED_WITHIN = 90  # seconds for the job worker to make a small clip ready


# ---------------------------------------------------------------------------------------------
# Helpers


def b64(value):
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode()


def metadata(*pairs, **fields):
    """An Upload-Metadata value: ("key", value) pairs as given (value None: the key alone),
    then the keyword fields; values base64-encoded."""
    items = list(pairs) + list(fields.items())
    return ",".join(k if v is None else f"{k} {b64(v)}" for k, v in items)


def assert_tus(resp):
    """Every answer of the tus resource names the protocol version it speaks."""
    assert resp.headers.get("Tus-Resumable") == TUS_VERSION, (
        f"Tus-Resumable is {resp.headers.get('Tus-Resumable')!r}: {describe(resp)}"
    )


def tus_problem(resp, status, code=None):
    """Asserts a tus error: an RFC 9457 problem with this status and code, listed for the
    operation in docs/openapi.yaml, that carries Tus-Resumable. Returns the body."""
    body = assert_problem(resp, status, code)
    assert_tus(resp)
    return body


def tus_validation(resp, field, code):
    """Asserts a 422 validation_failed naming {field, code}, with Tus-Resumable."""
    body = assert_validation(resp, field, code)
    assert_tus(resp)
    return body


def head_problem(resp, status):
    """A HEAD answer carries no body: the status, the problem media type, Tus-Resumable."""
    assert resp.status_code == status, describe(resp)
    assert media_type(resp) == "application/problem+json", describe(resp)
    assert resp.content == b"", describe(resp)
    assert_tus(resp)


def _headers(base, extra):
    h = dict(base)
    h.update(extra or {})
    return {k: v for k, v in h.items() if v is not None}  # None drops a header


def tus_post(api, token, length=None, meta=None, body=None, headers=None, timeout=60):
    base = {"Tus-Resumable": TUS_VERSION}
    if length is not None:
        base["Upload-Length"] = str(length)
    if meta is not None:
        base["Upload-Metadata"] = meta
    if body:
        base["Content-Type"] = OCTETS
    return api.post(UPLOADS, data=body, token=token, headers=_headers(base, headers), timeout=timeout)


def tus_head(api, token, url, headers=None):
    return api.head(url, token=token, headers=_headers({"Tus-Resumable": TUS_VERSION}, headers))


def tus_patch(api, token, url, offset, data=b"", checksum=None, headers=None, timeout=60):
    base = {"Tus-Resumable": TUS_VERSION, "Content-Type": OCTETS, "Upload-Offset": str(offset)}
    if checksum is not None:
        base["Upload-Checksum"] = checksum
    return api.patch(url, data=data, token=token, headers=_headers(base, headers), timeout=timeout)


def tus_delete(api, token, url, headers=None):
    return api.delete(url, token=token, headers=_headers({"Tus-Resumable": TUS_VERSION}, headers))


def checksum(algo, data):
    return f"{algo} {b64(hashlib.new(algo, data).digest())}"


def location_of(resp):
    """(url, id) of a 201's Location."""
    loc = resp.headers.get("Location", "")
    m = LOCATION_RE.fullmatch(loc)
    assert m, f"Location {loc!r}: {describe(resp)}"
    return loc, m.group(1)


def create_upload(api, owner, length, meta=None, **fields):
    """POST an upload of length bytes (a fresh title unless meta or fields say otherwise);
    asserts 201 at offset 0 and returns (url, id)."""
    if meta is None:
        fields.setdefault("title", "Tus " + uuid.uuid4().hex[:8])
        meta = metadata(**fields)
    r = tus_post(api, owner["access"], length, meta)
    assert r.status_code == 201, describe(r)
    assert_tus(r)
    assert r.headers.get("Upload-Offset") == "0", describe(r)
    return location_of(r)


def head_offset(api, owner, url):
    r = tus_head(api, owner["access"], url)
    assert r.status_code == 200, describe(r)
    assert_tus(r)
    return int(r.headers["Upload-Offset"])


def patch_ok(api, owner, url, offset, data, **kw):
    """A PATCH that must pass: 204 at offset + len(data). Returns the response."""
    r = tus_patch(api, owner["access"], url, offset, data, **kw)
    assert r.status_code == 204, describe(r)
    assert_tus(r)
    assert r.headers.get("Upload-Offset") == str(offset + len(data)), describe(r)
    assert r.content == b"", describe(r)
    return r


def send_all(api, owner, url, data, chunk, start=0):
    """PATCHes data[start:] in chunks; returns the last response (which made the video)."""
    off, r = start, None
    while off < len(data):
        piece = data[off : off + chunk]
        r = patch_ok(api, owner, url, off, piece)
        off += len(piece)
    return r


def padded_video(mp4, size, seed=1):
    """size bytes that start as a real MP4 (the container check reads the first 512 bytes)
    then go on with seeded random bytes; processing may refuse it, the upload does not."""
    assert size > len(mp4)
    return mp4 + random.Random(seed).randbytes(size - len(mp4))


def get_video(api, owner, vid):
    r = api.get(f"{VIDEOS}/{vid}", token=owner["access"])
    assert r.status_code == 200, describe(r)
    return r.json()


def wait_processed(api, owner, vid):
    """The video once the job worker has made it ready (or failed it)."""
    def finished():
        v = get_video(api, owner, vid)
        return v if v["status"] in ("ready", "failed") else None

    return wait_until(finished, PROCESSED_WITHIN, f"video {vid} to be processed", 0.2)


def part_file(upload_id):
    return MEDIA / "uploads" / upload_id


def part_size(upload_id):
    try:
        return part_file(upload_id).stat().st_size
    except FileNotFoundError:
        return None


def http_time(value):
    assert value and HTTP_DATE_RE.fullmatch(value), f"not an HTTP date: {value!r}"
    return email.utils.parsedate_to_datetime(value).timestamp()


def assert_expires_in_a_day(resp, sent_at):
    """Upload-Expires is an IMF-fixdate STREMORA_UPLOAD_EXPIRY after the request."""
    t = http_time(resp.headers.get("Upload-Expires"))
    assert sent_at + EXPIRY - 5 <= t <= time.time() + EXPIRY + 5, (
        f"Upload-Expires {resp.headers.get('Upload-Expires')!r} is not {EXPIRY} s ahead: {describe(resp)}")
    return t


@pytest.fixture
def mp4(clips):
    return clips["mp4"].read_bytes()


@pytest.fixture(scope="module")
def uploads_coll():
    """The app's uploads collection (pymongo)."""
    import pymongo

    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000)
    try:
        yield client[DB_NAME]["uploads"]
    finally:
        client.close()


def upload_doc(coll, upload_id):
    from bson import ObjectId

    return coll.find_one({"_id": ObjectId(upload_id)})


def owner_uploads(coll, owner_id):
    from bson import ObjectId

    return list(coll.find({"ownerId": ObjectId(owner_id)}))


class HeldPatch:
    """A PATCH as a worker runs it, held open: stremora-fcgi run from a shell (CGI mode) with
    the stack's settings, its body coming from a pipe the test writes. It takes the part's
    lock, writes what it has read, and waits for more. finish() sends the rest and returns the
    CGI answer; kill() SIGKILLs it mid-write, like a crash."""

    def __init__(self, token, upload_id, offset, length):
        env = cgi_env("PATCH", f"{UPLOADS}/{upload_id}", CONTENT_TYPE=OCTETS, CONTENT_LENGTH=length,
                      HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_TUS_RESUMABLE=TUS_VERSION,
                      HTTP_UPLOAD_OFFSET=offset)
        self.p = subprocess.Popen([str(FCGI)], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def finish(self, rest):
        self.p.stdin.write(rest)
        self.p.stdin.close()
        out = self.p.stdout.read()
        self.p.wait(timeout=30)
        self.p.stdout.close()
        return out

    def kill(self):
        self.p.kill()
        self.p.wait(timeout=10)
        self.p.stdin.close()
        self.p.stdout.close()

    def close(self):
        if self.p.poll() is None:
            self.kill()


def cgi_headers(out):
    """(status, {header lowercased: value}) of a CGI answer."""
    head = out.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    h = {}
    for line in head.split("\r\n"):
        k, _, v = line.partition(":")
        h[k.strip().lower()] = v.strip()
    return int(h.get("status", "0").split()[0]), h


def raw_head_only(api, method, target, headers, timeout=15):
    """Sends only the request head (the body it announces never comes) and reads the answer:
    for what nginx refuses from the headers alone."""
    host, port = host_port()
    headers = dict(headers, Host=f"{host}:{port}", Connection="close")
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall((f"{method} {target} HTTP/1.1\r\n"
                   + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
        return response_from_socket(api, s, method, target, headers, timeout=timeout)
    finally:
        s.close()


# ---------------------------------------------------------------------------------------------
# OPTIONS


def test_tus_options_advertises_the_protocol(api):
    r = api.request("OPTIONS", UPLOADS)  # no token: the protocol's discovery needs none
    assert r.status_code == 204, describe(r)
    assert r.content == b"", describe(r)
    expect = {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": "creation,creation-with-upload,termination,expiration,checksum",
        "Tus-Max-Size": str(MAX_UPLOAD),
        "Tus-Checksum-Algorithm": "sha1,sha256",
        "Stremora-Max-Chunk-Size": str(MAX_CHUNK),
    }
    got = {k: r.headers.get(k) for k in expect}
    assert got == expect, describe(r)
    assert MAX_UPLOAD == 150000000, "the test stack sets STREMORA_MAX_UPLOAD=150000000"


# ---------------------------------------------------------------------------------------------
# POST: creation


def test_tus_create_answers_location_offset_and_expiry(api, user, uploads_coll):
    title = "Créé ☕ " + uuid.uuid4().hex[:6]
    sent_at = time.time()
    r = tus_post(api, user["access"], 12345,
                 metadata(title=title, description="Two\nlines", tags="Cats, DOGS ,cats",
                          visibility="unlisted", filename="clip.mp4", filetype="video/mp4"))
    assert r.status_code == 201, describe(r)
    assert_tus(r)
    url, uid = location_of(r)
    assert r.headers.get("Upload-Offset") == "0", describe(r)
    expires = assert_expires_in_a_day(r, sent_at)
    assert "Stremora-Video-Id" not in r.headers, describe(r)
    assert r.content == b"", describe(r)
    # The state is a document of the caller's, and an empty part file.
    doc = upload_doc(uploads_coll, uid)
    assert doc is not None, f"no uploads document {uid}"
    assert str(doc["ownerId"]) == user["id"], doc
    assert (doc["length"], doc["offset"], doc["status"]) == (12345, 0, "open"), doc
    assert (doc["title"], doc["description"], doc["visibility"]) == (title, "Two\nlines", "unlisted"), doc
    assert doc["tags"] == ["cats", "dogs"], doc
    assert part_size(uid) == 0
    # HEAD agrees.
    h = tus_head(api, user["access"], url)
    assert h.status_code == 200, describe(h)
    assert_tus(h)
    assert (h.headers.get("Upload-Offset"), h.headers.get("Upload-Length")) == ("0", "12345"), describe(h)
    assert abs(http_time(h.headers.get("Upload-Expires")) - expires) <= 1, describe(h)
    # Two creations are two uploads.
    r2 = tus_post(api, user["access"], 12345, metadata(title=title))
    assert r2.status_code == 201, describe(r2)
    assert location_of(r2)[1] != uid


@pytest.mark.parametrize("version", [None, "", "0.2.2", "1.0", "1.0.1", "2.0.0", "1.0.0,0.2.2"])
def test_tus_create_requires_tus_resumable_1_0_0(api, user, uploads_coll, version):
    r = tus_post(api, user["access"], 100, metadata(title="v"), headers={"Tus-Resumable": version})
    tus_problem(r, 412, "unsupported_tus_version")
    assert r.headers.get("Tus-Version") == TUS_VERSION, describe(r)
    assert owner_uploads(uploads_coll, user["id"]) == []


@pytest.mark.parametrize("length", [None, "", "0", "00", "0100", "-1", "+5", "1.5", "1e3", "0x10", "abc", "5 5",
                                    "99999999999999999999", "18446744073709551616"])
def test_tus_create_refuses_malformed_upload_length(api, user, uploads_coll, length):
    h = {"Upload-Length": length}
    r = tus_post(api, user["access"], None, metadata(title="len"), headers=h)
    tus_problem(r, 400, "invalid_upload_header")
    assert "Location" not in r.headers, describe(r)
    assert owner_uploads(uploads_coll, user["id"]) == []


def test_tus_create_takes_upload_length_up_to_the_maximum(api, user, uploads_coll):
    ok = tus_post(api, user["access"], MAX_UPLOAD, metadata(title="max"))
    assert ok.status_code == 201, describe(ok)
    uid = location_of(ok)[1]
    for length in (MAX_UPLOAD + 1, 2**63, 2**64 - 1):
        r = tus_post(api, user["access"], length, metadata(title="over"))
        tus_problem(r, 413, "upload_too_large")
        assert r.headers.get("Tus-Max-Size") == str(MAX_UPLOAD), describe(r)
        assert "Location" not in r.headers, describe(r)
    assert [str(d["_id"]) for d in owner_uploads(uploads_coll, user["id"])] == [uid]


@pytest.mark.parametrize("length", [None, "100"])
def test_tus_create_refuses_upload_defer_length(api, user, uploads_coll, length):
    r = tus_post(api, user["access"], None, metadata(title="defer"),
                 headers={"Upload-Defer-Length": "1", "Upload-Length": length})
    tus_problem(r, 400, "invalid_upload_header")
    assert owner_uploads(uploads_coll, user["id"]) == []


@pytest.mark.parametrize("meta", [
    "title dGl0bGU",                    # unpadded base64
    "title dGl0bGU=!",                  # a character outside base64
    "title dG*0bGU=",
    "title dB==",                       # non-zero trailing bits: not the one spelling of "t"
    "title dGl0bGU= extra",             # a second space-separated value
    "title dA==,title dQ==",            # a key twice
    ",title dA==",                      # an empty key
    "title dA==,",                      # an empty key at the end
    "title dA==,,filename dA==",        # an empty key in the middle
    "ti\u00e9tle dA==",                 # a key outside printable ASCII
    ",".join(f"k{i} dA==" for i in range(17)),  # more than 16 pairs
], ids=["unpadded", "bang", "star", "trailing-bits", "two-values", "duplicate", "empty-first",
        "empty-last", "empty-middle", "non-ascii-key", "17-pairs"])
def test_tus_create_refuses_malformed_metadata(api, user, uploads_coll, meta):
    r = tus_post(api, user["access"], 100, headers={"Upload-Metadata": meta.encode("utf-8").decode("latin-1")})
    tus_problem(r, 400, "invalid_upload_header")
    assert owner_uploads(uploads_coll, user["id"]) == []


def test_tus_create_takes_sixteen_pairs_and_bare_keys(api, user, uploads_coll):
    # The limits beside the refusals above: 16 pairs, unknown keys, a key with no value.
    pairs = [("title", "Sixteen"), ("description", None), ("filetype", "video/mp4")]
    pairs += [(f"k{i}", "x") for i in range(13)]
    r = tus_post(api, user["access"], 100, metadata(*pairs))
    assert r.status_code == 201, describe(r)
    doc = upload_doc(uploads_coll, location_of(r)[1])
    assert (doc["title"], doc["description"]) == ("Sixteen", ""), doc


@pytest.mark.parametrize("fields, field, code", [
    ({}, "title", "required"),
    ({"description": "no title", "filetype": "video/mp4"}, "title", "required"),
    ({"title": ""}, "title", "required"),
    ({"title": "   "}, "title", "required"),
    ({"title": "t" * 201}, "title", "too_long"),
    ({"title": "bad\x01title"}, "title", "invalid_format"),
    ({"title": "ok", "visibility": "secret"}, "visibility", "invalid_format"),
    ({"title": "ok", "visibility": "Public"}, "visibility", "invalid_format"),
    ({"title": "ok", "description": "d" * 5001}, "description", "too_long"),
    ({"title": "ok", "tags": ",".join(f"t{i}" for i in range(21))}, "tags", "too_many"),
    ({"title": "ok", "tags": "x" * 41}, "tags", "too_long"),
    ({"title": "ok", "filename": "f" * 252 + ".mp4"}, "filename", "invalid_format"),
    ({"filename": "bad\x01name.mp4"}, "filename", "invalid_format"),
], ids=["nothing", "no-title-no-filename", "empty", "blank", "title-201", "title-control",
        "visibility", "visibility-case", "description-5001", "tags-21", "tag-41", "filename-256",
        "filename-control"])
def test_tus_create_validates_metadata(api, user, uploads_coll, fields, field, code):
    r = tus_post(api, user["access"], 100, metadata(**fields))
    tus_validation(r, field, code)
    assert "Location" not in r.headers, describe(r)
    assert owner_uploads(uploads_coll, user["id"]) == []


def test_tus_create_takes_every_field_at_its_limit(api, user, uploads_coll):
    title = "t" * 199 + "é"  # 200 characters
    tags = [f"{i:02d}" + "x" * 38 for i in range(20)]  # 20 tags of 40 characters
    r = tus_post(api, user["access"], 100,
                 metadata(title=title, tags=",".join(tags), filename="f" * 251 + ".mp4"))
    assert r.status_code == 201, describe(r)
    doc = upload_doc(uploads_coll, location_of(r)[1])
    assert (doc["title"], doc["tags"]) == (title, tags), doc
    r = tus_post(api, user["access"], 100, metadata(title="d", description="d" * 5000))
    assert r.status_code == 201, describe(r)
    assert upload_doc(uploads_coll, location_of(r)[1])["description"] == "d" * 5000


@pytest.mark.parametrize("method, path", [
    ("POST", UPLOADS), ("HEAD", UPLOADS + "/0123456789abcdef01234567"),
    ("PATCH", UPLOADS + "/0123456789abcdef01234567"), ("DELETE", UPLOADS + "/0123456789abcdef01234567"),
])
def test_tus_requests_without_a_valid_token_are_401(api, user, method, path):
    # Owner of nothing: the id is made up, the refusal comes first. Like every answer of the
    # resource, the 401 names the protocol version.
    headers = {"Tus-Resumable": TUS_VERSION, "Upload-Length": "100", "Upload-Offset": "0",
               "Content-Type": OCTETS, "Upload-Metadata": metadata(title="x")}
    for token, code in ((None, "missing_token"), ("not-a-token", "invalid_token")):
        r = api.request(method, path, token=token, headers=headers, data=b"")
        assert r.status_code == 401, describe(r)
        assert r.headers.get("WWW-Authenticate") == "Bearer", describe(r)
        if method == "HEAD":
            head_problem(r, 401)
        else:
            tus_problem(r, 401, code)


@pytest.mark.parametrize("method, path, allow", [
    ("GET", UPLOADS, "POST, OPTIONS"),
    ("PUT", UPLOADS, "POST, OPTIONS"),
    ("GET", UPLOADS + "/0123456789abcdef01234567", "HEAD, PATCH, DELETE"),
    ("POST", UPLOADS + "/0123456789abcdef01234567", "HEAD, PATCH, DELETE"),
])
def test_tus_other_methods_are_405(api, user, method, path, allow):
    r = api.request(method, path, token=user["access"], headers={"Tus-Resumable": TUS_VERSION})
    assert r.status_code == 405, describe(r)
    assert r.headers.get("Allow") == allow, describe(r)
    tus_problem(r, 405, "method_not_allowed")


def test_tus_create_with_a_body_needs_offset_octet_stream(api, user, uploads_coll, mp4):
    for ctype in ("application/octet-stream", "video/mp4", "multipart/form-data; boundary=x", None):
        r = tus_post(api, user["access"], len(mp4), metadata(title="ctype"), body=mp4,
                     headers={"Content-Type": ctype})
        tus_problem(r, 415, "unsupported_media_type")
        assert "Location" not in r.headers, describe(r)
    assert owner_uploads(uploads_coll, user["id"]) == []
    # An empty body needs no media type.
    r = tus_post(api, user["access"], len(mp4), metadata(title="ctype"), body=b"",
                 headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, describe(r)


# ---------------------------------------------------------------------------------------------
# POST: creation-with-upload


def test_tus_creation_with_upload_of_a_whole_clip_makes_a_ready_video(api, user, uploads_coll, mp4):
    title = "Whole " + uuid.uuid4().hex[:6]
    r = tus_post(api, user["access"], len(mp4),
                 metadata(title=title, description="In one go", tags="One, two", visibility="private",
                          filename="whole.mp4", filetype="video/mp4"),
                 body=mp4)
    assert r.status_code == 201, describe(r)
    assert_tus(r)
    url, uid = location_of(r)
    assert r.headers.get("Upload-Offset") == str(len(mp4)), describe(r)
    assert r.headers.get("Stremora-Video-Id") == uid, describe(r)
    assert "Upload-Expires" not in r.headers, describe(r)  # done: it expires no more
    v = get_video(api, user, uid)
    assert v["status"] == "processing", v
    assert (v["id"], v["ownerId"], v["title"], v["description"], v["tags"], v["visibility"]) == (
        uid, user["id"], title, "In one go", ["one", "two"], "private"), v
    assert (v["size"], v["sha256"], v["mimeType"]) == (len(mp4), sha256_hex(mp4), "video/mp4"), v
    done = wait_processed(api, user, uid)
    assert done["status"] == "ready", done
    assert (done["title"], done["sha256"]) == (title, sha256_hex(mp4)), done
    # The upload is done: HEAD says where its video is; its bytes became the video's.
    h = tus_head(api, user["access"], url)
    assert h.status_code == 200, describe(h)
    assert_tus(h)
    assert (h.headers.get("Upload-Offset"), h.headers.get("Upload-Length")) == (str(len(mp4)),) * 2
    assert h.headers.get("Stremora-Video-Id") == uid, describe(h)
    assert "Upload-Expires" not in h.headers, describe(h)
    assert upload_doc(uploads_coll, uid)["status"] == "done"
    assert part_size(uid) is None, "the part file stayed after the video was made"
    assert (MEDIA / "videos" / uid / "source.mp4").read_bytes() == mp4


@pytest.mark.parametrize("filename, title", [
    ("holiday.mp4", "holiday"), ("archive.tar.gz", "archive.tar"), (".hidden", ".hidden"),
    ("noext", "noext"), ("Été 2024.mov", "Été 2024"),
])
def test_tus_title_defaults_to_the_filename_without_extension(api, user, mp4, filename, title):
    r = tus_post(api, user["access"], len(mp4), metadata(filename=filename), body=mp4)
    assert r.status_code == 201, describe(r)
    vid = r.headers.get("Stremora-Video-Id")
    assert vid == location_of(r)[1], describe(r)
    v = get_video(api, user, vid)
    assert (v["title"], v["visibility"], v["description"], v["tags"]) == (title, "public", "", []), v


def test_tus_title_wins_over_the_filename(api, user, mp4):
    r = tus_post(api, user["access"], len(mp4), metadata(filename="file.mp4", title="The title"), body=mp4)
    assert r.status_code == 201, describe(r)
    assert get_video(api, user, r.headers["Stremora-Video-Id"])["title"] == "The title"


def test_tus_creation_with_upload_of_the_first_bytes(api, user, mp4):
    half = len(mp4) // 2
    sent_at = time.time()
    r = tus_post(api, user["access"], len(mp4), metadata(title="Half"), body=mp4[:half])
    assert r.status_code == 201, describe(r)
    assert_tus(r)
    url, uid = location_of(r)
    assert r.headers.get("Upload-Offset") == str(half), describe(r)
    assert_expires_in_a_day(r, sent_at)
    assert "Stremora-Video-Id" not in r.headers, describe(r)
    assert part_file(uid).read_bytes() == mp4[:half]
    assert head_offset(api, user, url) == half
    last = patch_ok(api, user, url, half, mp4[half:])
    assert last.headers.get("Stremora-Video-Id") == uid, describe(last)
    assert get_video(api, user, uid)["sha256"] == sha256_hex(mp4)


def test_tus_creation_with_upload_of_no_video_is_415_and_gone(api, user, uploads_coll):
    text = b"This is not a video, just some text.\n" * 30  # over 512 bytes
    r = tus_post(api, user["access"], 4096, metadata(title="Text"), body=text)
    tus_problem(r, 415, "unsupported_media_type")
    # What was made is gone already, bytes and all, and no Location names it.
    assert "Location" not in r.headers, describe(r)
    assert owner_uploads(uploads_coll, user["id"]) == []


def test_tus_creation_with_upload_checks_the_checksum(api, user, uploads_coll, mp4):
    half = mp4[:5000]
    for algo in ("sha1", "sha256"):
        r = tus_post(api, user["access"], len(mp4), metadata(title="sum"), body=half,
                     headers={"Upload-Checksum": checksum(algo, half)})
        assert r.status_code == 201, describe(r)
        assert r.headers.get("Upload-Offset") == "5000", describe(r)
        assert part_file(location_of(r)[1]).read_bytes() == half
    # Bytes refused for their checksum: the upload stays, at offset 0, named by Location.
    for value, status, code in ((checksum("sha256", half[:-1]), 460, "checksum_mismatch"),
                                (f"md5 {b64(hashlib.md5(half).digest())}", 400, "unsupported_checksum"),
                                ("sha1 nope", 400, "invalid_upload_header")):
        r = tus_post(api, user["access"], len(mp4), metadata(title="sum"), body=half,
                     headers={"Upload-Checksum": value})
        tus_problem(r, status, code)
        url, uid = location_of(r)
        assert head_offset(api, user, url) == 0, value
        assert part_size(uid) == 0, value
        patch_ok(api, user, url, 0, half)  # and takes the bytes again


def test_tus_creation_with_upload_past_the_length_is_413(api, user, uploads_coll, mp4):
    r = tus_post(api, user["access"], len(mp4) - 1, metadata(title="Long"), body=mp4)
    tus_problem(r, 413, "upload_too_large")
    # The upload was created and stays, at offset 0, as the server documents.
    docs = owner_uploads(uploads_coll, user["id"])
    assert [(d["offset"], d["status"]) for d in docs] == [(0, "open")], docs
    url, uid = location_of(r)
    assert head_offset(api, user, url) == 0
    assert part_size(uid) == 0


# ---------------------------------------------------------------------------------------------
# HEAD


def test_tus_head_reports_offset_length_and_expiry(api, user, mp4):
    url, uid = create_upload(api, user, len(mp4))
    sent_at = time.time()
    patch_ok(api, user, url, 0, mp4[:1000])
    h = tus_head(api, user["access"], url)
    assert h.status_code == 200, describe(h)
    assert_tus(h)
    assert h.headers.get("Upload-Offset") == "1000", describe(h)
    assert h.headers.get("Upload-Length") == str(len(mp4)), describe(h)
    assert h.headers.get("Cache-Control") == "no-store", describe(h)
    assert_expires_in_a_day(h, sent_at)
    assert "Stremora-Video-Id" not in h.headers, describe(h)
    assert h.content == b""


def test_tus_head_patch_delete_of_unknown_malformed_or_foreign_upload_are_404(api, user, make_user, mp4):
    other = make_user()
    theirs, their_id = create_upload(api, other, len(mp4))
    patch_ok(api, other, theirs, 0, mp4[:600])
    ghost = f"{UPLOADS}/{'0' * 8}{uuid.uuid4().hex[:16]}"
    for url in (ghost, theirs, f"{UPLOADS}/xyz", f"{UPLOADS}/{their_id[:23]}",
                f"{UPLOADS}/{their_id}0", f"{UPLOADS}/{their_id.upper()}", f"{UPLOADS}/{'g' * 24}"):
        head_problem(tus_head(api, user["access"], url), 404)
        tus_problem(tus_patch(api, user["access"], url, 600, mp4[600:700]), 404, "upload_not_found")
        tus_problem(tus_delete(api, user["access"], url), 404, "upload_not_found")
    # Nothing happened to the owner's upload.
    assert head_offset(api, other, theirs) == 600
    assert part_file(their_id).read_bytes() == mp4[:600]


@pytest.mark.parametrize("version", [None, "0.2.2", "1.0.1"])
def test_tus_head_patch_delete_require_tus_resumable(api, user, mp4, version):
    url, uid = create_upload(api, user, len(mp4))
    h = tus_head(api, user["access"], url, headers={"Tus-Resumable": version})
    head_problem(h, 412)
    assert h.headers.get("Tus-Version") == TUS_VERSION, describe(h)
    r = tus_patch(api, user["access"], url, 0, mp4[:1000], headers={"Tus-Resumable": version})
    tus_problem(r, 412, "unsupported_tus_version")
    assert r.headers.get("Tus-Version") == TUS_VERSION, describe(r)
    r = tus_delete(api, user["access"], url, headers={"Tus-Resumable": version})
    tus_problem(r, 412, "unsupported_tus_version")
    assert r.headers.get("Tus-Version") == TUS_VERSION, describe(r)
    # None of them did anything.
    assert head_offset(api, user, url) == 0
    assert part_size(uid) == 0


# ---------------------------------------------------------------------------------------------
# PATCH


def test_tus_patch_chunks_make_the_video(api, user, uploads_coll, mp4):
    title = "Chunks " + uuid.uuid4().hex[:6]
    url, uid = create_upload(api, user, len(mp4), title=title, description="three parts",
                             tags="alpha,Beta", visibility="unlisted")
    a, b = len(mp4) // 3, 2 * len(mp4) // 3
    sent_at = time.time()
    r1 = patch_ok(api, user, url, 0, mp4[:a])
    e1 = assert_expires_in_a_day(r1, sent_at)
    assert "Stremora-Video-Id" not in r1.headers, describe(r1)
    assert upload_doc(uploads_coll, uid)["container"] == "mp4"
    # The media type's parameters and case do not matter.
    r2 = patch_ok(api, user, url, a, mp4[a:b],
                  headers={"Content-Type": "Application/Offset+Octet-Stream; charset=binary"})
    assert http_time(r2.headers.get("Upload-Expires")) >= e1, describe(r2)  # each PATCH extends it
    assert head_offset(api, user, url) == b
    assert part_file(uid).read_bytes() == mp4[:b]
    r3 = patch_ok(api, user, url, b, mp4[b:])
    assert r3.headers.get("Stremora-Video-Id") == uid, describe(r3)
    assert "Upload-Expires" not in r3.headers, describe(r3)
    v = get_video(api, user, uid)
    assert v["status"] == "processing", v
    assert (v["title"], v["description"], v["tags"], v["visibility"]) == (
        title, "three parts", ["alpha", "beta"], "unlisted"), v
    assert (v["size"], v["sha256"], v["mimeType"]) == (len(mp4), sha256_hex(mp4), "video/mp4"), v
    done = wait_processed(api, user, uid)
    assert done["status"] == "ready", done
    assert done["sha256"] == sha256_hex(mp4), done


@pytest.mark.parametrize("ctype", [None, "application/octet-stream", "text/plain",
                                   "application/offset+octet-streamx"])
def test_tus_patch_needs_offset_octet_stream(api, user, mp4, ctype):
    url, uid = create_upload(api, user, len(mp4))
    r = tus_patch(api, user["access"], url, 0, mp4[:1000], headers={"Content-Type": ctype})
    tus_problem(r, 415, "unsupported_media_type")
    assert head_offset(api, user, url) == 0
    assert part_size(uid) == 0


@pytest.mark.parametrize("offset", [None, "", "00", "01000", "abc", "-1", "+0", "1.0", "0x0", "1e2", "0 0",
                                    "99999999999999999999"])
def test_tus_patch_refuses_a_malformed_upload_offset(api, user, mp4, offset):
    url, uid = create_upload(api, user, len(mp4))
    r = tus_patch(api, user["access"], url, 0, mp4[:1000], headers={"Upload-Offset": offset})
    tus_problem(r, 400, "invalid_upload_header")
    assert head_offset(api, user, url) == 0
    assert part_size(uid) == 0


def test_tus_patch_at_another_offset_is_409_with_the_real_one(api, user, mp4):
    url, uid = create_upload(api, user, len(mp4))
    for wrong in (1, 1000, len(mp4)):
        r = tus_patch(api, user["access"], url, wrong, mp4[wrong:wrong + 10])
        tus_problem(r, 409, "offset_mismatch")
        assert r.headers.get("Upload-Offset") == "0", describe(r)
    patch_ok(api, user, url, 0, mp4[:1000])
    for wrong in (0, 999, 1001):  # a chunk sent twice, or one lost
        r = tus_patch(api, user["access"], url, wrong, mp4[wrong:wrong + 10])
        tus_problem(r, 409, "offset_mismatch")
        assert r.headers.get("Upload-Offset") == "1000", describe(r)
    assert part_file(uid).read_bytes() == mp4[:1000]
    # An empty PATCH at the right offset changes nothing and says where the upload is.
    r = tus_patch(api, user["access"], url, 1000, b"")
    assert r.status_code == 204, describe(r)
    assert_tus(r)
    assert r.headers.get("Upload-Offset") == "1000", describe(r)


@pytest.mark.parametrize("algo", ["sha1", "sha256"])
def test_tus_patch_checksum_that_matches_is_stored(api, user, mp4, algo):
    url, uid = create_upload(api, user, len(mp4))
    half = len(mp4) // 2
    patch_ok(api, user, url, 0, mp4[:half], checksum=checksum(algo, mp4[:half]))
    r = patch_ok(api, user, url, half, mp4[half:], checksum=checksum(algo, mp4[half:]))
    assert r.headers.get("Stremora-Video-Id") == uid, describe(r)
    assert get_video(api, user, uid)["sha256"] == sha256_hex(mp4)


@pytest.mark.parametrize("algo", ["sha1", "sha256"])
def test_tus_patch_checksum_mismatch_is_460_and_stores_nothing(api, user, uploads_coll, mp4, algo):
    url, uid = create_upload(api, user, len(mp4))
    patch_ok(api, user, url, 0, mp4[:1000])
    chunk = mp4[1000:3000]
    wrong = checksum(algo, chunk[:-1] + bytes([chunk[-1] ^ 1]))
    r = tus_patch(api, user["access"], url, 1000, chunk, checksum=wrong)
    tus_problem(r, 460, "checksum_mismatch")
    assert head_offset(api, user, url) == 1000
    assert part_file(uid).read_bytes() == mp4[:1000]
    assert upload_doc(uploads_coll, uid)["offset"] == 1000
    # The same bytes with their checksum go in.
    patch_ok(api, user, url, 1000, chunk, checksum=checksum(algo, chunk))
    assert part_file(uid).read_bytes() == mp4[:3000]


@pytest.mark.parametrize("name", ["md5", "crc32", "sha512", "sha-256", "blake2b"])
def test_tus_patch_checksum_of_another_algorithm_is_400_unsupported(api, user, mp4, name):
    url, uid = create_upload(api, user, len(mp4))
    r = tus_patch(api, user["access"], url, 0, mp4[:1000], checksum=f"{name} {b64(b'0' * 16)}")
    tus_problem(r, 400, "unsupported_checksum")
    assert head_offset(api, user, url) == 0
    assert part_size(uid) == 0


@pytest.mark.parametrize("value", [
    "", "sha1", "sha1 ", "sha1  {sha1}", "SHA1 {sha1}", "sha1 {sha256}", "sha256 {sha1}",
    "sha1 {sha1_unpadded}", "sha1 {sha1}!", "sha1:{sha1}", "sha1 {sha1} x", "md5!x AAAA",
    "x" * 33 + " AAAA",
], ids=["empty", "no-digest", "no-digest-space", "two-spaces", "upper-case", "sha1-long",
        "sha256-short", "unpadded", "bad-char", "colon", "trailing", "bad-name", "name-33"])
def test_tus_patch_malformed_checksum_is_400(api, user, mp4, value):
    url, uid = create_upload(api, user, len(mp4))
    chunk = mp4[:1000]
    s1, s256 = hashlib.sha1(chunk).digest(), hashlib.sha256(chunk).digest()
    value = value.format(sha1=b64(s1), sha256=b64(s256), sha1_unpadded=b64(s1).rstrip("="))
    r = tus_patch(api, user["access"], url, 0, chunk, checksum=value)
    tus_problem(r, 400, "invalid_upload_header")
    assert head_offset(api, user, url) == 0
    assert part_size(uid) == 0


def test_tus_patch_over_16_mib_is_refused_by_nginx(api, user, mp4):
    url, uid = create_upload(api, user, 2 * MAX_CHUNK)
    for method, target, extra in (
        ("PATCH", url, {"Upload-Offset": "0"}),
        ("POST", UPLOADS, {"Upload-Length": str(2 * MAX_CHUNK), "Upload-Metadata": metadata(title="big")}),
    ):
        headers = {"Authorization": f"Bearer {user['access']}", "Tus-Resumable": TUS_VERSION,
                   "Content-Type": OCTETS, "Content-Length": str(MAX_CHUNK + 1), **extra}
        r = raw_head_only(api, method, target, headers)
        tus_problem(r, 413, "body_too_large")
    assert head_offset(api, user, url) == 0
    # Exactly 16 MiB is one chunk.
    data = padded_video(mp4, MAX_CHUNK)
    patch_ok(api, user, url, 0, data, checksum=checksum("sha256", data))
    assert head_offset(api, user, url) == MAX_CHUNK
    assert part_size(uid) == MAX_CHUNK


def test_tus_patch_past_the_upload_length_is_413_and_stores_nothing(api, user, mp4):
    url, uid = create_upload(api, user, len(mp4))
    r = tus_patch(api, user["access"], url, 0, mp4 + b"x")
    tus_problem(r, 413, "upload_too_large")
    assert head_offset(api, user, url) == 0
    patch_ok(api, user, url, 0, mp4[:1000])
    r = tus_patch(api, user["access"], url, 1000, mp4[1000:] + b"\0")
    tus_problem(r, 413, "upload_too_large")
    assert head_offset(api, user, url) == 1000
    assert part_file(uid).read_bytes() == mp4[:1000]
    # Up to the last byte is fine.
    last = patch_ok(api, user, url, 1000, mp4[1000:])
    assert last.headers.get("Stremora-Video-Id") == uid, describe(last)


def test_tus_patch_of_no_video_is_415_and_the_upload_is_gone(api, user, uploads_coll):
    url, uid = create_upload(api, user, 4096)
    r = tus_patch(api, user["access"], url, 0, b"plain text, no container " * 41)  # 1025 bytes
    tus_problem(r, 415, "unsupported_media_type")
    head_problem(tus_head(api, user["access"], url), 404)
    tus_problem(tus_patch(api, user["access"], url, 0, b"x"), 404, "upload_not_found")
    assert upload_doc(uploads_coll, uid) is None
    assert part_size(uid) is None


def test_tus_patch_first_bytes_are_checked_once_512_are_in(api, user, uploads_coll, mp4):
    # Fewer than 512 bytes cannot tell a container: they are taken, and judged with the rest.
    url, uid = create_upload(api, user, 4096)
    patch_ok(api, user, url, 0, b"#" * 100)
    assert head_offset(api, user, url) == 100
    r = tus_patch(api, user["access"], url, 100, b"#" * 900)
    tus_problem(r, 415, "unsupported_media_type")
    assert upload_doc(uploads_coll, uid) is None and part_size(uid) is None
    # The same split with a real video's first bytes passes.
    url, uid = create_upload(api, user, len(mp4))
    patch_ok(api, user, url, 0, mp4[:100])
    patch_ok(api, user, url, 100, mp4[100:1000])
    assert upload_doc(uploads_coll, uid)["container"] == "mp4"
    # An upload shorter than 512 bytes is judged on all of them.
    url, uid = create_upload(api, user, 300)
    tus_problem(tus_patch(api, user["access"], url, 0, b"#" * 300), 415, "unsupported_media_type")
    assert upload_doc(uploads_coll, uid) is None


def test_tus_patch_while_another_writes_is_423(api, user, mp4):
    data = padded_video(mp4, 3 << 20, seed=7)
    chunk = 1 << 20
    url, uid = create_upload(api, user, len(data))
    held = HeldPatch(user["access"], uid, 0, chunk)
    try:
        held.send(data[:65536])
        wait_until(lambda: (part_size(uid) or 0) >= 65536, 10, "the held PATCH to write its first bytes")
        r = tus_patch(api, user["access"], url, 0, data[:chunk])
        tus_problem(r, 423, "upload_locked")
        r = tus_delete(api, user["access"], url)
        tus_problem(r, 423, "upload_locked")
        # HEAD takes no lock and counts only what is stored and counted.
        assert head_offset(api, user, url) == 0
        out = held.finish(data[65536:chunk])
    finally:
        held.close()
    status, h = cgi_headers(out)
    assert status == 204, out[:500]
    assert (h.get("tus-resumable"), h.get("upload-offset")) == (TUS_VERSION, str(chunk)), out[:500]
    # The lock went with the writer.
    assert head_offset(api, user, url) == chunk
    last = send_all(api, user, url, data, chunk, start=chunk)
    assert last.headers.get("Stremora-Video-Id") == uid, describe(last)
    assert get_video(api, user, uid)["sha256"] == sha256_hex(data)


def test_tus_patch_of_a_completed_upload(api, user, mp4):
    r = tus_post(api, user["access"], len(mp4), metadata(title="Complete"), body=mp4)
    assert r.status_code == 201, describe(r)
    url, uid = location_of(r)
    # Sent again after a lost answer: the empty PATCH at the end says it is done.
    r = tus_patch(api, user["access"], url, len(mp4), b"")
    assert r.status_code == 204, describe(r)
    assert_tus(r)
    assert r.headers.get("Upload-Offset") == str(len(mp4)), describe(r)
    assert r.headers.get("Stremora-Video-Id") == uid, describe(r)
    for offset, body in ((0, b""), (0, mp4[:100]), (len(mp4) - 1, b""), (len(mp4) - 1, mp4[-1:]),
                         (len(mp4), b"x")):
        r = tus_patch(api, user["access"], url, offset, body)
        tus_problem(r, 409, "offset_mismatch")
        assert r.headers.get("Upload-Offset") == str(len(mp4)), describe(r)
    assert get_video(api, user, uid)["sha256"] == sha256_hex(mp4)


# ---------------------------------------------------------------------------------------------
# DELETE (termination)


def test_tus_delete_terminates_the_upload(api, user, uploads_coll, mp4):
    url, uid = create_upload(api, user, len(mp4))
    patch_ok(api, user, url, 0, mp4[:1000])
    assert part_size(uid) == 1000
    r = tus_delete(api, user["access"], url)
    assert r.status_code == 204, describe(r)
    assert_tus(r)
    assert r.content == b""
    head_problem(tus_head(api, user["access"], url), 404)
    tus_problem(tus_patch(api, user["access"], url, 1000, mp4[1000:]), 404, "upload_not_found")
    tus_problem(tus_delete(api, user["access"], url), 404, "upload_not_found")
    assert upload_doc(uploads_coll, uid) is None
    assert part_size(uid) is None
    g = api.get(f"{VIDEOS}/{uid}", token=user["access"])
    assert g.status_code == 404, describe(g)


def test_tus_delete_of_another_users_upload_is_404(api, user, make_user, mp4):
    other = make_user()
    url, uid = create_upload(api, other, len(mp4))
    patch_ok(api, other, url, 0, mp4[:1000])
    tus_problem(tus_delete(api, user["access"], url), 404, "upload_not_found")
    assert head_offset(api, other, url) == 1000
    assert part_size(uid) == 1000
    r = tus_delete(api, other["access"], url)
    assert r.status_code == 204, describe(r)


def test_tus_delete_of_a_completed_upload_keeps_the_video(api, user, mp4):
    r = tus_post(api, user["access"], len(mp4), metadata(title="Kept"), body=mp4)
    assert r.status_code == 201, describe(r)
    url, uid = location_of(r)
    d = tus_delete(api, user["access"], url)
    assert d.status_code == 204, describe(d)
    assert_tus(d)
    head_problem(tus_head(api, user["access"], url), 404)
    v = get_video(api, user, uid)
    assert (v["title"], v["sha256"]) == ("Kept", sha256_hex(mp4)), v


# ---------------------------------------------------------------------------------------------
# Expiry


def test_tus_expired_upload_is_410_then_swept(api, user, uploads_coll, mp4):
    from bson import ObjectId

    url, uid = create_upload(api, user, len(mp4))
    patch_ok(api, user, url, 0, mp4[:1000])
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    # The job worker would sweep it at once: it waits while the answers are checked.
    stack("worker-stop")
    try:
        res = uploads_coll.update_one({"_id": ObjectId(uid)}, {"$set": {"expiresAt": past}})
        assert res.modified_count == 1
        head_problem(tus_head(api, user["access"], url), 410)
        r = tus_patch(api, user["access"], url, 1000, mp4[1000:])
        tus_problem(r, 410, "upload_expired")
        # Refused, not extended: still there, still expired, nothing appended.
        doc = upload_doc(uploads_coll, uid)
        assert doc is not None and doc["offset"] == 1000, doc
        assert doc["expiresAt"].replace(tzinfo=datetime.timezone.utc) < datetime.datetime.now(datetime.timezone.utc)
        assert part_size(uid) == 1000
    finally:
        stack("worker-start")
    wait_until(lambda: upload_doc(uploads_coll, uid) is None and part_size(uid) is None, 30,
               "the job worker's sweep to remove the expired upload and its part file")
    head_problem(tus_head(api, user["access"], url), 404)
    g = api.get(f"{VIDEOS}/{uid}", token=user["access"])
    assert g.status_code == 404, describe(g)


def test_tus_sweep_keeps_uploads_that_have_not_expired(api, user, uploads_coll, mp4):
    from bson import ObjectId

    now = datetime.datetime.now(datetime.timezone.utc)
    keep_url, keep = create_upload(api, user, len(mp4))
    patch_ok(api, user, keep_url, 0, mp4[:1000])
    gone_url, gone = create_upload(api, user, len(mp4))
    patch_ok(api, user, gone_url, 0, mp4[:1000])
    # One expires in a minute, the other expired a minute ago: once the sweep took the
    # second, it has looked at the first and left it.
    soon = now + datetime.timedelta(seconds=60)
    uploads_coll.update_one({"_id": ObjectId(keep)}, {"$set": {"expiresAt": soon}})
    uploads_coll.update_one({"_id": ObjectId(gone)}, {"$set": {"expiresAt": now - datetime.timedelta(seconds=60)}})
    wait_until(lambda: upload_doc(uploads_coll, gone) is None and part_size(gone) is None, 30,
               "the sweep to remove the expired upload")
    assert upload_doc(uploads_coll, keep) is not None and part_size(keep) == 1000
    h = tus_head(api, user["access"], keep_url)
    assert h.status_code == 200, describe(h)
    assert abs(http_time(h.headers.get("Upload-Expires")) - soon.timestamp()) <= 1, describe(h)
    # A PATCH pushes the expiry a day on, in the answer and in the document.
    sent_at = time.time()
    r = patch_ok(api, user, keep_url, 1000, mp4[1000:2000])
    t = assert_expires_in_a_day(r, sent_at)
    stored = upload_doc(uploads_coll, keep)["expiresAt"].replace(tzinfo=datetime.timezone.utc)
    assert abs(stored.timestamp() - t) <= 1, (stored, r.headers.get("Upload-Expires"))
    assert head_offset(api, user, keep_url) == 2000


# ---------------------------------------------------------------------------------------------
# Concurrency and crashes


def test_tus_racing_patches_at_one_offset(api, user, mp4):
    # Two clients send different bytes at the same offset at the same moment, round after
    # round: one is stored, the other is refused (409 when it came second, 423 while the
    # first writes), and the file is the winners' bytes exactly.
    chunk, rounds = 4 << 20, 6
    url, uid = create_upload(api, user, (rounds + 1) * chunk)
    expected = b""
    refusals = []
    for i in range(rounds):
        if i == 0:  # both start as a video: the container check passes for either
            a = padded_video(mp4, chunk, seed=100)
            b = a[:1024] + random.Random(101).randbytes(chunk - 1024)
        else:
            a, b = (random.Random(100 + 2 * i + k).randbytes(chunk) for k in (0, 1))
        assert a != b
        offset = len(expected)
        barrier = threading.Barrier(2)
        out = [None, None]

        def send(k, body):
            client = Api(BASE_URL)
            barrier.wait(timeout=30)
            try:
                out[k] = tus_patch(client, user["access"], url, offset, body)
            except requests.RequestException as e:
                out[k] = e

        threads = [threading.Thread(target=send, args=(k, body)) for k, body in enumerate((a, b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert all(isinstance(r, requests.Response) for r in out), out
        statuses = [r.status_code for r in out]
        assert statuses.count(204) == 1, f"round {i}: {[describe(r) for r in out]}"
        win = statuses.index(204)
        loser = out[1 - win]
        assert_tus(out[win])
        assert out[win].headers.get("Upload-Offset") == str(offset + chunk), describe(out[win])
        if loser.status_code == 409:
            tus_problem(loser, 409, "offset_mismatch")
            assert loser.headers.get("Upload-Offset") == str(offset + chunk), describe(loser)
        else:
            tus_problem(loser, 423, "upload_locked")
        refusals.append(loser.status_code)
        expected += (a, b)[win]
        assert head_offset(api, user, url) == len(expected), f"round {i}"
        assert part_file(uid).read_bytes() == expected, f"round {i}: the part is not the winners' bytes"
    last = patch_ok(api, user, url, len(expected), b"\x07" * chunk)
    expected += b"\x07" * chunk
    assert last.headers.get("Stremora-Video-Id") == uid, describe(last)
    v = get_video(api, user, uid)
    assert (v["size"], v["sha256"]) == (len(expected), sha256_hex(expected)), (v, refusals)


def test_tus_sequential_client_never_meets_a_lock(api, user, mp4):
    # A client that waits for each answer before its next request is the only writer: the
    # worker that answered must have let go of the upload before its answer arrives, so
    # none of these 1000 PATCHes (each right after the previous 201 or 204) may be 423.
    locked = []
    for i in range(100):
        url, uid = create_upload(api, user, len(mp4))
        for k in range(10):
            piece = mp4[k * 1000 : (k + 1) * 1000]
            r = tus_patch(api, user["access"], url, k * 1000, piece)
            if r.status_code == 423:
                locked.append(f"upload {i} PATCH {k} (after its {'POST' if k == 0 else 'PATCH'})")

                def unlocked():
                    again = tus_patch(api, user["access"], url, k * 1000, piece)
                    return again if again.status_code != 423 else None

                r = wait_until(unlocked, 10, "the lock to go")
            assert r.status_code == 204, describe(r)
            assert r.headers.get("Upload-Offset") == str((k + 1) * 1000), describe(r)
    assert locked == [], f"{len(locked)} of 1000 sequential PATCHes answered 423: {locked[:10]}"


def test_tus_junk_past_the_counted_offset_is_cut_away(api, user, uploads_coll, mp4):
    # A write cut short leaves bytes past the offset the document counts: HEAD reports the
    # counted offset, and the next PATCH from there replaces them.
    data = padded_video(mp4, 300_000, seed=3)
    url, uid = create_upload(api, user, len(data))
    patch_ok(api, user, url, 0, data[:100_000])
    with open(part_file(uid), "ab") as f:
        f.write(b"\xde\xad" * 25_000)
    assert part_size(uid) == 150_000
    assert head_offset(api, user, url) == 100_000
    assert upload_doc(uploads_coll, uid)["offset"] == 100_000
    patch_ok(api, user, url, 100_000, data[100_000:120_000])
    assert part_file(uid).read_bytes() == data[:120_000], "the junk was not cut away"
    last = patch_ok(api, user, url, 120_000, data[120_000:])
    assert last.headers.get("Stremora-Video-Id") == uid, describe(last)
    v = get_video(api, user, uid)
    assert (v["size"], v["sha256"]) == (len(data), sha256_hex(data)), v


def test_tus_writer_killed_mid_patch_leaves_nothing_counted(api, user, mp4):
    # A worker killed while it writes a chunk (a CGI run of stremora-fcgi, SIGKILLed): its
    # bytes past the offset do not count, its lock dies with it, and the chunk sent again
    # from the reported offset makes the file whole.
    chunk = 1 << 20
    data = padded_video(mp4, 3 * chunk, seed=5)
    url, uid = create_upload(api, user, len(data))
    patch_ok(api, user, url, 0, data[:chunk])
    held = HeldPatch(user["access"], uid, chunk, chunk)
    try:
        held.send(b"\xee" * 300_000)  # what it writes is not what will be sent again
        wait_until(lambda: (part_size(uid) or 0) >= chunk + 300_000, 10,
                   "the held PATCH to write its bytes")
        held.kill()
    finally:
        held.close()
    assert part_size(uid) >= chunk + 300_000
    assert head_offset(api, user, url) == chunk
    patch_ok(api, user, url, chunk, data[chunk : 2 * chunk])  # not 423: the lock is gone
    assert part_file(uid).read_bytes() == data[: 2 * chunk]
    last = patch_ok(api, user, url, 2 * chunk, data[2 * chunk :])
    assert last.headers.get("Stremora-Video-Id") == uid, describe(last)
    assert get_video(api, user, uid)["sha256"] == sha256_hex(data)


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return pids_of_children(pid)


def _holders(path, pids):
    """The pids among pids that have path open."""
    out = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                    out.append(pid)
                    break
            except OSError:
                continue
    return out


def _age(pid):
    """Seconds since pid started, or 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            start = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return uptime - start / os.sysconf("SC_CLK_TCK")


# multiwatch gives up a worker slot whose child dies within 10 s of its start (its -t) more
# than 3 times in a row (its -r); a child that lived longer resets the count. A worker is
# killed only once every worker of the pool is older than that.
MULTIWATCH_RESET = 10.5


@pytest.mark.slow
def test_tus_workers_killed_mid_patch_the_upload_resumes(api, user, mp4):
    # A 60 MB file in 16 MiB PATCHes; the pool's workers are SIGKILLed while they write it
    # (the first time all of them, then the one writing the chunk; the last one dies while
    # it writes the last chunk and makes the video): the client, on an error, asks HEAD
    # and sends again from the reported offset. The stored bytes are the file exactly, and
    # the pool answers on every worker afterwards.
    pool = read_pid("fcgi")
    workers = pids_of_children(pool)
    assert workers, f"multiwatch {pool} has no children"
    data = padded_video(mp4, 60_000_000, seed=11)
    targets = {0: "all", MAX_CHUNK: "holder", 3 * MAX_CHUNK: "holder"}  # offsets where to kill
    url, uid = create_upload(api, user, len(data))
    path = os.path.realpath(part_file(uid))
    state = {"offset": None, "stop": False}
    kills = []  # (offset, pids)

    def killer():
        while not state["stop"]:
            off = state["offset"]
            if off not in targets or any(o == off for o, _ in kills):
                time.sleep(0.001)
                continue
            now = _children(pool)
            holders = _holders(path, now)
            if not holders:
                time.sleep(0.0005)
                continue
            victims = now if targets[off] == "all" else holders
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            kills.append((off, victims))

    def pool_settled():
        now = _children(pool)
        return len(now) == len(workers) and all(_age(p) > MULTIWATCH_RESET for p in now)

    errors = []  # the answers (or exceptions) the client resumed after
    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        offset, sends = 0, 0
        while offset < len(data):
            sends += 1
            assert sends <= 20, f"no progress after {sends} PATCHes: {errors}"
            piece = data[offset : offset + MAX_CHUNK]
            if offset + len(piece) == len(data):  # before the last PATCH: what is stored so far
                with open(path, "rb") as f:
                    stored = f.read(offset)
                assert stored == data[:offset], f"the part's first {offset} bytes are not the file's"
            if offset in targets and not any(o == offset for o, _ in kills):
                wait_until(pool_settled, 3 * MULTIWATCH_RESET, "every worker to be past multiwatch's retry window")
            state["offset"] = offset
            try:
                r = tus_patch(api, user["access"], url, offset, piece, timeout=120)
            except requests.RequestException as e:
                r = e
            state["offset"] = None
            if isinstance(r, requests.Response) and r.status_code == 204:
                assert_tus(r)
                offset = int(r.headers["Upload-Offset"])
                continue
            errors.append(r)

            def where():
                h = tus_head(api, user["access"], url)
                return h if h.status_code == 200 else None

            h = wait_until(where, 30, "HEAD to answer after a failed PATCH")
            assert_tus(h)
            offset = int(h.headers["Upload-Offset"])
            assert offset % MAX_CHUNK == 0 or offset == len(data), f"HEAD reports {offset}"
    finally:
        state["stop"] = True
        t.join(timeout=10)
        wait_ready(timeout=30)
    assert [o for o, _ in kills] == sorted(targets), (
        f"workers were caught writing the upload at offsets {[o for o, _ in kills]} of {sorted(targets)}")
    assert len(errors) >= len(kills), (errors, kills)
    # The upload is done and its video is the file, byte for byte.
    h = tus_head(api, user["access"], url)
    assert h.status_code == 200, describe(h)
    assert (h.headers.get("Upload-Offset"), h.headers.get("Stremora-Video-Id")) == (str(len(data)), uid)
    v = get_video(api, user, uid)
    assert (v["size"], v["sha256"]) == (len(data), sha256_hex(data)), (v, kills)
    # Every worker answers: the pool replaced the killed ones.
    killed = {p for _, pids in kills for p in pids}

    def replaced():
        now = pids_of_children(pool)
        return len(now) == len(workers) and not killed & set(now)

    wait_until(replaced, 20, "multiwatch to replace the killed workers")
    assert read_pid("fcgi") == pool, "the pool itself was restarted"
    statuses = [api.get("/api/v1/health").status_code for _ in range(50)]
    assert statuses == [200] * 50, statuses
    r = api.get("/api/v1/health/ready")
    assert r.status_code == 200 and r.json()["workers"]["alive"] == len(workers), describe(r)
    for _ in range(10):
        assert head_offset(api, user, url) == len(data)
    # What the client saw when its worker died: nginx's "the pool did not answer", or a
    # connection cut.
    for e in errors:
        if isinstance(e, requests.Response):
            assert e.status_code == 503 and e.json().get("code") == "unavailable", describe(e)
            assert e.headers.get("Retry-After") == "2", describe(e)


def test_tus_pool_down_answers_503_with_tus_resumable(api, user, mp4):
    # nginx's own answer when no worker answers is an answer of this resource too.
    url, uid = create_upload(api, user, len(mp4))
    try:
        stack("pool-stop")
        answers = [
            tus_post(api, user["access"], len(mp4), metadata(title="down")),
            tus_patch(api, user["access"], url, 0, mp4[:1000]),
            tus_delete(api, user["access"], url),
        ]
        h = tus_head(api, user["access"], url)
    finally:
        stack("pool-start")
        wait_ready(timeout=30)
    head_problem(h, 503)
    for r in answers:
        tus_problem(r, 503, "unavailable")
        assert r.headers.get("Retry-After") == "2", describe(r)
    assert head_offset(api, user, url) == 0
