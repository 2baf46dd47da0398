"""POST /api/v1/videos (videos_create): streamed multipart uploads of real clips made with
ffmpeg, every limit violated one at a time beside the value that passes, and what a failed
upload leaves behind (nothing: no document of the owner, no temp file, no video folder).

Requests that requests cannot make (a Content-Length it does not send, a body cut short, a
client that goes away, a worker killed mid-upload) go over a raw socket.
"""

import hashlib
import os
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
    Api,
    HeldUpload,
    MAX_UPLOAD,
    MEDIA,
    UPLOAD_OVERHEAD,
    VIDEOS,
    host_port,
    assert_nothing_left,
    assert_problem,
    assert_validation,
    assert_video,
    clip,
    describe,
    get_playback,
    media_type,
    multipart_bytes,
    new_boundary,
    owner_docs,
    pids_of_children,
    read_pid,
    response_from_socket,
    same_video,
    sha256_hex,
    tmp_files,
    upload,
    video_dirs,
    video_parts,
    wait_ready,
    wait_until,
)

CONTAINERS = {
    # kind: (stored extension, mimeType); the clips fixture makes each with ffmpeg.
    "mp4": ("mp4", "video/mp4"),
    "mov": ("mov", "video/quicktime"),
    "webm": ("webm", "video/webm"),
    "mkv": ("mkv", "video/x-matroska"),
    "avi": ("avi", "video/x-msvideo"),
    "ts": ("ts", "video/mp2t"),
    "flv": ("flv", "video/x-flv"),
    "ogg": ("ogv", "video/ogg"),
}
MAX_BODY = MAX_UPLOAD + UPLOAD_OVERHEAD


@pytest.fixture
def mp4(clips):
    return clips["mp4"].read_bytes()


@pytest.fixture
def before():
    """The video folders before the test: a failed upload must add none."""
    return video_dirs()


def _download(api, video):
    """The bytes (and the response) of the video's source through its playback link."""
    pb = get_playback(api, video["id"])
    r = api.get(pb["source"])
    assert r.status_code == 200, describe(r)
    return r


# ---------------------------------------------------------------------------------------------
# Good uploads


def test_uploads_create_fields_before_file(api, user, mp4, videos_coll):
    title = "My first clip " + uuid.uuid4().hex[:6]
    parts = video_parts(mp4, title=title, description="A short test clip.", tags="Cats, dogs")
    r = upload(api, user["access"], parts)
    assert r.status_code == 201, describe(r)
    assert media_type(r) == "application/json", describe(r)
    v = assert_video(
        r.json(),
        ownerId=user["id"],
        title=title,
        description="A short test clip.",
        tags=["cats", "dogs"],
        visibility="public",
        status="processing",
        size=len(mp4),
        sha256=sha256_hex(mp4),
        mimeType="video/mp4",
    )
    assert r.headers.get("Location") == f"{VIDEOS}/{v['id']}", describe(r)
    # Side effects: the file is in place, byte for byte; nothing in tmp; the document is done.
    assert (MEDIA / "videos" / v["id"] / "source.mp4").read_bytes() == mp4
    assert tmp_files() == []
    docs = owner_docs(videos_coll, user["id"])
    assert [d["status"] for d in docs] == ["processing"], docs
    assert docs[0]["sha256"] == sha256_hex(mp4) and docs[0]["size"] == len(mp4)
    # And it is what GET answers (but for what the job worker may have moved since: its
    # stage, and with it updatedAt).
    g = api.get(f"{VIDEOS}/{v['id']}")
    assert g.status_code == 200 and same_video(g.json(), v), describe(g)


def test_uploads_create_fields_after_file(api, user, mp4):
    parts = video_parts(mp4, title="After", after=True, description="d", tags="x", visibility="unlisted")
    assert parts[0][0] == "video"
    r = upload(api, user["access"], parts)
    assert r.status_code == 201, describe(r)
    assert_video(r.json(), title="After", description="d", tags=["x"], visibility="unlisted",
                 size=len(mp4), sha256=sha256_hex(mp4))


def test_uploads_create_fields_around_file(api, user, mp4):
    parts = [("title", "Around"), ("tags", "one"), ("video", mp4, "c.mp4"), ("tags", "two"),
             ("visibility", "private"), ("description", "last")]
    r = upload(api, user["access"], parts)
    assert r.status_code == 201, describe(r)
    assert_video(r.json(), title="Around", tags=["one", "two"], visibility="private", description="last")


def test_uploads_create_tags_trimmed_lowercased_deduplicated(api, user, mp4):
    parts = video_parts(mp4, tags=["Foo, BAR", "  baz  ", "foo", "", "Qux,,quux,", "BAZ"])
    r = upload(api, user["access"], parts)
    assert r.status_code == 201, describe(r)
    assert r.json()["tags"] == ["foo", "bar", "baz", "qux", "quux"], describe(r)


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private"])
def test_uploads_create_visibility(api, user, mp4, visibility, videos_coll):
    r = upload(api, user["access"], video_parts(mp4, visibility=visibility))
    assert r.status_code == 201, describe(r)
    assert r.json()["visibility"] == visibility
    assert owner_docs(videos_coll, user["id"])[0]["visibility"] == visibility


def test_uploads_create_every_limit_at_its_maximum(api, user, mp4):
    title = "t" * 199 + "é"  # 200 characters, 201 bytes
    description = "d" * 5000
    tags = [f"{i:02d}" + "x" * 38 for i in range(20)]  # 20 tags of 40 characters
    r = upload(api, user["access"], video_parts(mp4, title=title, description=description, tags=",".join(tags)))
    assert r.status_code == 201, describe(r)
    assert_video(r.json(), title=title, description=description, tags=tags)


def test_uploads_create_sixteen_parts(api, user, mp4):
    # The limit is 16 parts: the file, the title and 14 tags parts pass.
    parts = video_parts(mp4, tags=[f"t{i}" for i in range(14)])
    assert len(parts) == 16
    r = upload(api, user["access"], parts)
    assert r.status_code == 201, describe(r)
    assert len(r.json()["tags"]) == 14


def test_uploads_create_preamble_at_limit(api, user, mp4):
    b = new_boundary()
    body = b"p" * 1024 + b"\r\n" + multipart_bytes(video_parts(mp4), b)
    # The preamble is everything before the first delimiter, CRLF "--boundary": 1024 bytes.
    r = api.post(VIDEOS, data=body, token=user["access"],
                 headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    assert r.status_code == 201, describe(r)


def _part_head_of(total, name="title"):
    """Header lines of a part (its Content-Disposition and one padding header) whose bytes,
    CRLFs and the blank line included, come to exactly total."""
    disp = f'Content-Disposition: form-data; name="{name}"\r\n'
    pad_len = total - len(disp) - len("X-Pad: \r\n") - 2
    return (disp + "X-Pad: " + "p" * pad_len + "\r\n\r\n").encode()


def _with_title_head(mp4, head, b):
    return (
        f"--{b}\r\n".encode() + head + b"Padded\r\n"
        + multipart_bytes([("video", mp4, "c.mp4")], b)
    )


def test_uploads_create_part_header_at_limit(api, user, mp4):
    b = new_boundary()
    body = _with_title_head(mp4, _part_head_of(2048), b)
    r = api.post(VIDEOS, data=body, token=user["access"],
                 headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    assert r.status_code == 201, describe(r)
    assert r.json()["title"] == "Padded"


def test_uploads_create_quoted_boundary_and_charset(api, user, mp4):
    b = new_boundary()
    body = multipart_bytes(video_parts(mp4, title="Quoted"), b)
    r = api.post(VIDEOS, data=body, token=user["access"],
                 headers={"Content-Type": f'multipart/form-data; charset=utf-8; boundary="{b}"'})
    assert r.status_code == 201, describe(r)
    assert r.json()["title"] == "Quoted"


@pytest.mark.parametrize("kind", list(CONTAINERS))
def test_uploads_create_container(api, user, clips, kind):
    path = clip(clips, kind)
    data = path.read_bytes()
    ext, mime = CONTAINERS[kind]
    r = upload(api, user["access"], video_parts(data, filename=path.name))
    assert r.status_code == 201, describe(r)
    v = assert_video(r.json(), mimeType=mime, size=len(data), sha256=sha256_hex(data))
    d = _download(api, v)
    assert get_playback(api, v["id"])["source"].endswith(f"/{v['id']}/source.{ext}")
    assert media_type(d) == mime, describe(d)
    assert d.content == data


def test_uploads_create_mimetype_from_bytes_not_from_client(api, user, clips):
    data = clip(clips, "webm").read_bytes()
    r = upload(api, user["access"], [("title", "t"), ("video", data, "lies.mp4", "video/mp4")])
    assert r.status_code == 201, describe(r)
    assert r.json()["mimeType"] == "video/webm"


def test_uploads_create_download_is_byte_exact(api, user, mp4):
    r = upload(api, user["access"], video_parts(mp4))
    assert r.status_code == 201, describe(r)
    d = _download(api, r.json())
    assert sha256_hex(d.content) == r.json()["sha256"] == sha256_hex(mp4)


@pytest.mark.slow
def test_uploads_create_100mb_and_download_byte_exact(big_video):
    r, video, (path, sha, size) = big_video["response"], big_video["video"], big_video["clip"]
    assert r.status_code == 201, describe(r)
    assert_video(video, size=size, sha256=sha, mimeType="video/x-msvideo", status="processing")
    assert (MEDIA / "videos" / video["id"] / "source.avi").stat().st_size == path.stat().st_size
    assert r.elapsed.total_seconds() < 30, f"a 100 MB upload took {r.elapsed}"
    assert tmp_files() == []
    # Streamed download through the signed link, hashed as it arrives.
    pb = get_playback(big_video["api"], video["id"])
    got = requests.get(BASE_URL + pb["source"], stream=True, timeout=60)
    assert got.status_code == 200, describe(got)
    assert int(got.headers["Content-Length"]) == size
    h, n = hashlib.sha256(), 0
    for chunk in got.iter_content(1 << 20):
        h.update(chunk)
        n += len(chunk)
    assert n == size and h.hexdigest() == sha


# ---------------------------------------------------------------------------------------------
# Who may upload


def test_uploads_create_needs_a_token(api, mp4, before):
    r = api.post(VIDEOS, data=multipart_bytes(video_parts(mp4), "b0undary"),
                 headers={"Content-Type": "multipart/form-data; boundary=b0undary"})
    assert_problem(r, 401, "missing_token")
    assert tmp_files() == [] and video_dirs() == before


def test_uploads_create_refuses_a_bad_token(api, user, mp4, videos_coll, before):
    r = upload(api, user["access"] + "x", video_parts(mp4))
    assert_problem(r, 401, "invalid_token")
    assert_nothing_left(videos_coll, user["id"], before)


# ---------------------------------------------------------------------------------------------
# 415: not multipart, or not a video


@pytest.mark.parametrize(
    "ctype",
    [
        None,
        "application/json",
        "text/plain",
        "application/octet-stream",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/mixed; boundary=BOUNDARY",
        "multipart/form-data; boundary=BOUNDARY; boundary=BOUNDARY",
        "multipart/form-data; boundary=" + "b" * 71,
    ],
    ids=["none", "json", "text", "octet-stream", "no-boundary", "empty-boundary", "mixed",
         "two-boundaries", "boundary-71"],
)
def test_uploads_create_not_multipart(api, user, mp4, videos_coll, before, ctype):
    body = multipart_bytes(video_parts(mp4), "BOUNDARY")
    headers = {} if ctype is None else {"Content-Type": ctype}
    r = api.post(VIDEOS, data=body, token=user["access"], headers=headers)
    assert_problem(r, 415, "unsupported_media_type")
    assert_nothing_left(videos_coll, user["id"], before)


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + os.urandom(4000)


@pytest.mark.parametrize(
    "data,filename",
    [
        (PNG, "image.png"),
        (b"This is a plain text file, not a video.\n" * 200, "notes.txt"),
        (os.urandom(64 * 1024), "random.bin"),
        (b"<!doctype html><html><body>hello</body></html>\n" * 100, "page.mp4"),
        (b"%PDF-1.7\n" + os.urandom(8000), "doc.pdf"),
        (b"\x00\x00\x00\x18ftzp" + os.urandom(4000), "almost.mp4"),
        (b"\x1a\x45\xdf\xa3" + os.urandom(4000), "ebml-no-doctype.mkv"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt " + os.urandom(4000), "sound.wav"),
        (b"\x00" * 4096, "zeros.mp4"),
    ],
    ids=["png", "text", "random", "html", "pdf", "ftzp", "ebml-no-doctype", "wav", "zeros"],
)
def test_uploads_create_not_a_video(api, user, videos_coll, before, data, filename):
    r = upload(api, user["access"], video_parts(data, filename=filename))
    assert_problem(r, 415, "unsupported_media_type")
    assert_nothing_left(videos_coll, user["id"], before)


# ---------------------------------------------------------------------------------------------
# 422: fields and parts, one violation at a time


def _tags(n, length=5):
    return ",".join(f"{i:0{length}d}"[-length:] for i in range(n))


INVALID = [
    # id, parts builder (mp4 -> parts), field, code
    ("title-missing", lambda m: video_parts(m, title=None), "title", "required"),
    ("title-empty", lambda m: video_parts(m, title=""), "title", "required"),
    ("title-spaces", lambda m: video_parts(m, title="   "), "title", "required"),
    ("title-201", lambda m: video_parts(m, title="t" * 201), "title", "too_long"),
    ("title-201-two-byte", lambda m: video_parts(m, title="é" * 201), "title", "too_long"),
    ("title-1000", lambda m: video_parts(m, title="t" * 1000), "title", "too_long"),
    ("title-bad-utf8", lambda m: video_parts(m, title=b"bad \xff\xfe"), "title", "invalid_format"),
    ("title-twice", lambda m: [("title", "a"), ("title", "b"), ("video", m, "c.mp4")], "title", "duplicate"),
    ("title-nul", lambda m: video_parts(m, title="a\x00b"), "title", "invalid_format"),
    ("title-control", lambda m: video_parts(m, title="a\x1bb"), "title", "invalid_format"),
    ("title-c1", lambda m: video_parts(m, title="a\u0085b"), "title", "invalid_format"),
    ("title-newline", lambda m: video_parts(m, title="a\nb"), "title", "invalid_format"),
    ("description-nul", lambda m: video_parts(m, description="a\x00b"), "description", "invalid_format"),
    ("description-del", lambda m: video_parts(m, description="a\x7fb"), "description", "invalid_format"),
    ("description-5001", lambda m: video_parts(m, description="d" * 5001), "description", "too_long"),
    ("tags-21", lambda m: video_parts(m, tags=_tags(21)), "tags", "too_many"),
    ("tags-21-repeated", lambda m: video_parts(m, tags=[_tags(7, 3).replace("0", p) for p in "abc"]), "tags", "too_many"),
    ("tag-41", lambda m: video_parts(m, tags="ok," + "x" * 41), "tags", "too_long"),
    ("tag-control", lambda m: video_parts(m, tags="a\x01b"), "tags", "invalid_format"),
    ("visibility-secret", lambda m: video_parts(m, visibility="secret"), "visibility", "invalid_format"),
    ("visibility-upper", lambda m: video_parts(m, visibility="Public"), "visibility", "invalid_format"),
    ("visibility-empty", lambda m: video_parts(m, visibility=""), "visibility", "invalid_format"),
    ("unknown-part", lambda m: video_parts(m, foo="bar"), "foo", "unknown_field"),
    ("unknown-part-after-file", lambda m: video_parts(m, after=True, foo="bar"), "foo", "unknown_field"),
    ("no-video", lambda m: [("title", "No file")], "video", "required"),
    ("video-twice", lambda m: [("title", "t"), ("video", m, "a.mp4"), ("video", m, "b.mp4")], "video", "duplicate"),
    ("video-empty", lambda m: video_parts(b""), "video", "required"),
]


@pytest.mark.parametrize("build,field,code", [i[1:] for i in INVALID], ids=[i[0] for i in INVALID])
def test_uploads_create_invalid(api, user, mp4, videos_coll, before, build, field, code):
    r = upload(api, user["access"], build(mp4))
    assert_validation(r, field, code)
    assert_nothing_left(videos_coll, user["id"], before)


# ---------------------------------------------------------------------------------------------
# 400: malformed multipart


def _post_raw_body(api, user, body, b):
    return api.post(VIDEOS, data=body, token=user["access"],
                    headers={"Content-Type": f"multipart/form-data; boundary={b}"})


def _malformed(m, b):
    """{case: body} of bodies with boundary b that are not well-formed multipart/form-data."""
    good = multipart_bytes(video_parts(m), b)
    video_part = multipart_bytes([("video", m, "c.mp4")], b)
    return {
        # A header line ended by a bare LF.
        "bare-lf-header": good.replace(b'name="title"\r\n', b'name="title"\n', 1),
        # The delimiter line runs on into other text.
        "boundary-runs-on": good.replace(f"--{b}\r\n".encode(), f"--{b}xyz\r\n".encode(), 1),
        # A part without Content-Disposition name.
        "part-without-name": f"--{b}\r\nContent-Disposition: form-data\r\n\r\nx\r\n".encode() + video_part,
        # Not form-data.
        "disposition-attachment": good.replace(b"form-data; name=\"title\"", b"attachment; name=\"title\"", 1),
        # Header folding.
        "folded-header": good.replace(b'name="title"\r\n', b'name="title"\r\n X-Fold: y\r\n', 1),
        # 17 parts (the limit is 16).
        "parts-17": multipart_bytes(video_parts(m, tags=[f"t{i}" for i in range(15)]), b),
        # One part's headers over 2048 bytes (exactly 2049).
        "part-header-2049": _with_title_head(m, _part_head_of(2049), b),
        # A part header line far over the limit.
        "part-header-4k": good.replace(b'name="title"\r\n', b'name="title"\r\nX-Big: ' + b"h" * 4096 + b"\r\n", 1),
        # Nine header lines in a part (the limit is 8).
        "headers-9": good.replace(b'name="title"\r\n', b'name="title"\r\n' + b"X-H: 1\r\n" * 8, 1),
        # Preamble over 1024 bytes (1025).
        "preamble-1025": b"p" * 1025 + b"\r\n" + good,
        # Another boundary than the header's: the whole body is preamble.
        "wrong-boundary": multipart_bytes(video_parts(m), "other" + b),
        # No parts at all: only the close delimiter.
        "close-only": f"--{b}--\r\n".encode(),
    }


MALFORMED_CASES = list(_malformed(b"\x00\x00\x00\x20ftypisom", "B").keys())


@pytest.mark.parametrize("case", MALFORMED_CASES)
def test_uploads_create_malformed_multipart(api, user, mp4, videos_coll, before, case):
    b = new_boundary()
    r = _post_raw_body(api, user, _malformed(mp4, b)[case], b)
    assert_problem(r, 400, "invalid_multipart")
    assert_nothing_left(videos_coll, user["id"], before)


def test_uploads_create_malformed_framing_before_a_big_file(api, user, mp4, videos_coll, before):
    # Bad framing in the first part, then 4 MB of file: the body arrived whole (its
    # Content-Length is right), so it is malformed, not incomplete.
    b = new_boundary()
    body = multipart_bytes([("title", "t"), ("video", mp4 + b"\x00" * (4 << 20), "c.mp4")], b)
    body = body.replace(b'name="title"\r\n', b'name="title"\n', 1)
    r = _post_raw_body(api, user, body, b)
    assert_problem(r, 400, "invalid_multipart")
    assert_nothing_left(videos_coll, user["id"], before)


def test_uploads_create_truncated_body(api, user, mp4, videos_coll, before):
    # Everything but the close delimiter, with a Content-Length that matches what is sent.
    b = new_boundary()
    body = multipart_bytes(video_parts(mp4), b)
    body = body[: body.rindex(f"--{b}--".encode())]
    r = _post_raw_body(api, user, body, b)
    assert_problem(r, 400, codes={"invalid_multipart", "upload_incomplete"})
    assert_nothing_left(videos_coll, user["id"], before)


def test_uploads_create_empty_body(api, user, videos_coll, before):
    b = new_boundary()
    r = _post_raw_body(api, user, b"", b)
    assert r.request.headers.get("Content-Length") == "0"
    assert_problem(r, 400, codes={"invalid_multipart", "upload_incomplete"})
    assert_nothing_left(videos_coll, user["id"], before)


def _post_chunked(api, user, body, b):
    """POST body as a multipart upload sent chunked (4 KiB chunks, no Content-Length)."""
    def chunks():
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    r = api.post(VIDEOS, data=chunks(), token=user["access"],
                 headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    return r


def test_uploads_create_malformed_multipart_chunked(api, user, mp4, videos_coll, before):
    # The same bad framing sent chunked: the body ended as the client meant it to (its last
    # chunk came), so it is malformed, not incomplete.
    b = new_boundary()
    r = _post_chunked(api, user, _malformed(mp4, b)["bare-lf-header"], b)
    assert_problem(r, 400, "invalid_multipart")
    assert_nothing_left(videos_coll, user["id"], before)


def test_uploads_create_truncated_inside_the_file(api, user, mp4, videos_coll, before):
    b = new_boundary()
    body = multipart_bytes(video_parts(mp4), b)
    body = body[: body.index(mp4) + len(mp4) // 2]
    r = _post_raw_body(api, user, body, b)
    assert_problem(r, 400, codes={"invalid_multipart", "upload_incomplete"})
    assert_nothing_left(videos_coll, user["id"], before)


# ---------------------------------------------------------------------------------------------
# Raw sockets: 413 before the body is read, over the limit while streaming, a client that
# goes away, a worker killed mid-upload.


def _open_upload(token, boundary, content_length=None, chunked=False):
    """A socket on which an upload's request line and headers were sent; (sock, headers)."""
    host, port = host_port()
    s = socket.create_connection((host, port), timeout=15)
    headers = {
        "Host": f"{host}:{port}",
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Connection": "close",
    }
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(content_length)
    head = f"POST {VIDEOS} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s.sendall(head.encode())
    return s, headers


def _upload_head(mp4, b, title="raw"):
    """The body's start: a title part and the video part's headers and the clip's bytes."""
    return (
        f'--{b}\r\nContent-Disposition: form-data; name="title"\r\n\r\n{title}\r\n'
        f'--{b}\r\nContent-Disposition: form-data; name="video"; filename="c.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode() + mp4


def _readable(sock, timeout):
    import select

    r, _, _ = select.select([sock], [], [], timeout)
    return bool(r)


def test_uploads_create_content_length_over_limit_answers_at_once(api, user, mp4, videos_coll, before):
    b = new_boundary()
    s, headers = _open_upload(user["access"], b, content_length=MAX_BODY + 1)
    try:
        s.sendall(_upload_head(mp4, b))  # 21 KB of the announced 150 MB
        t0 = time.monotonic()
        assert _readable(s, 5), "no answer within 5 s while the client still owes the body"
        r = response_from_socket(api, s, "POST", VIDEOS, headers)
        took = time.monotonic() - t0
    finally:
        s.close()
    assert_problem(r, 413, "upload_too_large")
    assert took < 5
    assert_nothing_left(videos_coll, user["id"], before)


def test_uploads_create_content_length_at_limit_is_read(api, user, mp4, videos_coll, before):
    # The same opening with the largest allowed Content-Length: the server reads on (no answer
    # yet), and the upload ends as incomplete when the client goes away.
    b = new_boundary()
    s, headers = _open_upload(user["access"], b, content_length=MAX_BODY)
    try:
        s.sendall(_upload_head(mp4, b))
        assert not _readable(s, 1.0), "answered before the body was sent"
    finally:
        s.close()
    wait_until(lambda: owner_docs(videos_coll, user["id"]) == [] and tmp_files() == [], 10,
               "the abandoned upload to be undone")
    assert video_dirs() == before


def _chunk(data):
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _stream_until_answer(s, first, limit_bytes, chunk=1 << 20):
    """Sends first and then zero chunks until the server answers (or limit_bytes were sent);
    returns the bytes sent."""
    zeros = _chunk(b"\x00" * chunk)
    sent = len(first)
    s.sendall(_chunk(first))
    while sent <= limit_bytes:
        if _readable(s, 0):
            return sent
        try:
            s.sendall(zeros)
        except (BrokenPipeError, ConnectionResetError):
            return sent
        sent += chunk
    assert _readable(s, 10), f"no answer after {sent} bytes"
    return sent


@pytest.mark.slow
def test_uploads_create_chunked_over_limit(api, user, mp4, videos_coll, before):
    b = new_boundary()
    s, headers = _open_upload(user["access"], b, chunked=True)
    try:
        sent = _stream_until_answer(s, _upload_head(mp4, b), MAX_BODY + (8 << 20))
        r = response_from_socket(api, s, "POST", VIDEOS, headers, timeout=30)
    finally:
        s.close()
    assert_problem(r, 413, "upload_too_large")
    assert sent > MAX_UPLOAD, f"answered 413 after only {sent} bytes"
    assert_nothing_left(videos_coll, user["id"], before)


def test_uploads_create_chunked_small_is_accepted(api, user, mp4):
    b = new_boundary()
    r = _post_chunked(api, user, multipart_bytes(video_parts(mp4, title="Chunked"), b), b)
    assert r.status_code == 201, describe(r)
    assert_video(r.json(), title="Chunked", size=len(mp4), sha256=sha256_hex(mp4))


class _FileOverLimit:
    """A multipart body whose file is MAX_UPLOAD + 1 bytes (an mp4 start, then zeros) while the
    whole body stays under MAX_UPLOAD + 64 KiB: only the count of file bytes can refuse it."""

    def __init__(self, mp4, b):
        self.head = _upload_head(b"", b)
        self.file_len = MAX_UPLOAD + 1
        self.mp4 = mp4
        self.tail = f"\r\n--{b}--\r\n".encode()

    def __len__(self):
        return len(self.head) + self.file_len + len(self.tail)

    def __iter__(self):
        yield self.head + self.mp4
        left = self.file_len - len(self.mp4)
        block = b"\x00" * (1 << 20)
        while left > 0:
            n = min(left, len(block))
            yield block[:n]
            left -= n
        yield self.tail


@pytest.mark.slow
def test_uploads_create_file_over_limit_within_body_allowance(api, user, mp4, videos_coll, before):
    b = new_boundary()
    body = _FileOverLimit(mp4, b)
    assert len(body) <= MAX_BODY
    try:
        r = api.post(VIDEOS, data=body, token=user["access"], timeout=60,
                     headers={"Content-Type": f"multipart/form-data; boundary={b}"})
    except requests.ConnectionError as e:  # the answer came while we were still sending
        pytest.fail(f"the server cut the connection instead of answering 413: {e}")
    assert_problem(r, 413, "upload_too_large")
    assert_nothing_left(videos_coll, user["id"], before)


def _workers_busy(api):
    """How many of the pool's workers are serving a request (this one included)."""
    r = api.get("/api/v1/health/ready")
    assert r.status_code == 200, describe(r)
    return r.json()["workers"]["busy"]


def test_uploads_create_client_disconnects_midway(api, user, mp4, videos_coll, before):
    # nginx takes the body before the pool sees it: a client that goes away midway never
    # reached a worker, and leaves nothing behind.
    b = new_boundary()
    s, _ = _open_upload(user["access"], b, content_length=50 << 20)
    try:
        s.sendall(_upload_head(mp4, b) + b"\x00" * (1 << 20))
        assert not _readable(s, 0.5), "answered before the body was sent"
        assert _workers_busy(api) == 1, "a worker is held by an upload still being sent"
        assert tmp_files() == [] and owner_docs(videos_coll, user["id"]) == []
    finally:
        s.close()
    assert_nothing_left(videos_coll, user["id"], before)
    assert _workers_busy(api) == 1


def _trickle(head, tail, pieces, pause):
    """A body sent slowly: head, then pieces of one byte each pause seconds apart, then tail."""
    def gen():
        yield head
        for _ in range(pieces):
            time.sleep(pause)
            yield b"\x00"
        yield tail
    return gen()


def test_uploads_create_slow_clients_hold_no_worker(api, user, mp4, videos_coll):
    # More slow uploaders than the pool has workers (4) and upload slots (3): while they
    # trickle, every worker stays free for the API; each upload then succeeds.
    n = 6
    done = []

    def one(i):
        b = new_boundary()
        body = _trickle(_upload_head(mp4, b, title=f"slow {i}"), f"\r\n--{b}--\r\n".encode(), 20, 0.2)
        r = requests.post(BASE_URL + VIDEOS, data=body, timeout=60,
                          headers={"Authorization": f"Bearer {user['access']}",
                                   "Content-Type": f"multipart/form-data; boundary={b}"})
        done.append(r)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    started = time.monotonic()
    for t in threads:
        t.start()
    busy = []
    try:
        # Once their headers have been checked, the uploads hold no worker: only the one
        # answering this request is busy, and the API answers at once. (Sampled until a
        # second before the first body can be whole: from then on workers read them. A
        # thread that starts late has its headers checked later, which keeps a worker busy
        # for a moment, longer on a loaded machine; a held worker stays busy for the whole
        # window, so what counts is how long another worker stays busy.)
        wait_until(lambda: _workers_busy(api) == 1, 3, "the upload checks to be done")
        while time.monotonic() - started < 3.0:
            busy.append((time.monotonic(), _workers_busy(api)))
            r = api.get("/api/v1/users/me", token=user["access"], timeout=5)
            assert r.status_code == 200, describe(r)
    finally:
        for t in threads:
            t.join(timeout=60)
    assert len(busy) >= 5, f"only {len(busy)} samples while the uploads were in flight"
    longest, since = 0.0, None
    for t, b in busy:
        since = (since or t) if b > 1 else None
        longest = max(longest, t - since) if since is not None else longest
    window = busy[-1][0] - busy[0][0]
    assert longest < window / 2 and max(b for _, b in busy) < 4, (
        f"workers held while {n} uploads trickle (busy per sample: {[b for _, b in busy]}, "
        f"longest run {longest:.2f} s of {window:.2f} s)")
    assert len(done) == n
    for r in done:
        assert r.status_code == 201, describe(r)
    titles = sorted(d["title"] for d in owner_docs(videos_coll, user["id"]))
    assert titles == sorted(f"slow {i}" for i in range(n))


def _big_body(mp4, b, size):
    """A multipart body of about size bytes: a title, then an mp4 start padded with zeros."""
    head = _upload_head(mp4, b, title="big")
    tail = f"\r\n--{b}--\r\n".encode()
    return head + b"\x00" * (size - len(head) - len(tail)) + tail


def test_uploads_create_worker_killed_midway(api, user, mp4, videos_coll, before):
    # A worker reads a buffered body at disk speed; killed while it writes the temp file, it
    # leaves an "uploading" document and the file, and its replacement sweeps both.
    pool = read_pid("fcgi")
    workers = pids_of_children(pool)
    assert workers, f"multiwatch {pool} has no children"
    b = new_boundary()
    body = _big_body(mp4, b, MAX_UPLOAD - (1 << 20))
    killed = None
    for attempt in range(3):  # the read takes a fraction of a second: catch it in time
        s, _ = _open_upload(user["access"], b, content_length=len(body))
        try:
            s.sendall(body)
            deadline = time.monotonic() + 30
            while killed is None and time.monotonic() < deadline and not _readable(s, 0):
                names = tmp_files()
                if names:
                    pid = int(names[0].rsplit(".", 1)[-1])  # <videoId>.<host tag>.<pid>
                    os.kill(pid, signal.SIGKILL)
                    killed = (pid, names[0].partition(".")[0])
            if killed:
                break
        finally:
            s.close()
        wait_until(lambda: owner_docs(videos_coll, user["id"], status="uploading") == [], 10,
                   "a finished attempt to settle")
    assert killed, "the upload finished before its temp file could be caught three times"
    pid, video_id = killed
    try:
        assert pid in workers, f"temp file of pid {pid}: not a worker of {pool}"

        def replaced():
            now = pids_of_children(pool)
            return pid not in now and len(now) == len(workers)

        wait_until(replaced, 10, f"multiwatch to replace worker {pid}")

        def swept():
            return tmp_files() == [] and owner_docs(videos_coll, user["id"], status="uploading") == []

        wait_until(swept, 10, "the new worker to sweep the temp file and the uploading document")
    finally:
        wait_ready(timeout=30)
    assert video_id not in video_dirs()
    assert read_pid("fcgi") == pool, "the pool itself was restarted"


# ---------------------------------------------------------------------------------------------
# Upload slots: at most STREMORA_MAX_UPLOADS (3) bodies are read at once on a host. A slot is
# owned through a lock the kernel drops when its holder dies, however it dies.


def test_uploads_create_slots_of_killed_holders_are_free(api, user, mp4, videos_coll):
    holders = []
    result = []
    try:
        for _ in range(3):
            holders.append(HeldUpload(user["access"], mp4))
        wait_until(lambda: len(tmp_files()) == 3, 10, "three uploads holding the slots")
        # Every slot is taken: a whole upload waits for one (its body is already sent; it
        # is not thrown away), and the API still answers.
        t = threading.Thread(target=lambda: result.append(upload(
            Api(BASE_URL), user["access"], video_parts(mp4, title="after the holders"), timeout=60)))
        t.start()
        wait_until(lambda: _workers_busy(api) == 2, 10, "the upload to wait for a slot")
        assert api.get("/api/v1/health").status_code == 200
        assert result == []
        # Killed holders free their slots at once, whatever pids come next.
        for h in holders:
            h.kill()
        t.join(timeout=30)
    finally:
        for h in holders:
            if h.p.poll() is None:
                h.kill()
            h.clean_up(videos_coll)
    assert len(result) == 1
    assert result[0].status_code == 201, describe(result[0])
    assert [d["title"] for d in owner_docs(videos_coll, user["id"])] == ["after the holders"]


def test_uploads_precheck_answers_before_the_body(api, user, mp4):
    # Everything the headers can tell is refused before anyone sends a byte of the body.
    b = new_boundary()
    cases = [
        ({"Authorization": None}, 401, "missing_token"),
        ({"Authorization": "Bearer nope"}, 401, "invalid_token"),
        ({"Content-Type": "application/json"}, 415, "unsupported_media_type"),
        ({"Content-Length": str(MAX_BODY + 1)}, 413, "upload_too_large"),
    ]
    for change, status, code in cases:
        host, port = host_port()
        headers = {
            "Host": f"{host}:{port}",
            "Authorization": f"Bearer {user['access']}",
            "Content-Type": f"multipart/form-data; boundary={b}",
            "Content-Length": str(10 << 20),
            "Connection": "close",
        }
        headers.update(change)
        headers = {k: v for k, v in headers.items() if v is not None}
        s = socket.create_connection((host, port), timeout=15)
        try:
            s.sendall((f"POST {VIDEOS} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                       + "\r\n").encode())
            assert _readable(s, 5), f"{change}: no answer before the body"
            r = response_from_socket(api, s, "POST", VIDEOS, headers)
        finally:
            s.close()
        assert_problem(r, status, code)
        if status == 401:
            assert r.headers.get("WWW-Authenticate") == "Bearer", change
