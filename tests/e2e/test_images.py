"""Avatars, banners and the bio (images_avatar_put, images_avatar_delete, images_banner_put,
images_banner_delete; users_update_me's bio).

The image is the request body, judged by its bytes and re-encoded by ffmpeg into fixed-size
JPEGs that nginx serves from /images/ as public immutable files: what is served is a JPEG of
the exact size with nothing of the upload's metadata or trailing bytes. Test images are made
here with ffmpeg (-f lavfi); EXIF with a GPS tag is written by hand.
"""

import re
import struct
import subprocess
import uuid
import zlib
from pathlib import Path

import pytest
import requests
import urllib3

import conftest
from conftest import (
    BASE_URL,
    MEDIA,
    REPO,
    assert_problem,
    assert_user,
    assert_validation,
    describe,
    media_type,
)
from test_nginx import prod  # noqa: F401  (the production nginx, a fixture)

ME = "/api/v1/users/me"
AVATAR = ME + "/avatar"
BANNER = ME + "/banner"
MAX_IMAGE_BYTES = 5 << 20  # common/bounds.h
CACHE = "public, max-age=31536000, immutable"
AVATAR_RE = r"/images/avatars/([0-9a-f]{32})-256\.jpg"
AVATAR_SMALL_RE = r"/images/avatars/([0-9a-f]{32})-64\.jpg"
BANNER_RE = r"/images/banners/([0-9a-f]{32})\.jpg"


# ---------------------------------------------------------------------------------------------
# Until the lead merges /work/wt/images-openapi.yaml into docs/openapi.yaml, the problem codes
# of these routes are read from the fragment too (a no-op once merged).


@pytest.fixture(autouse=True)
def _spec_with_fragment(monkeypatch):
    spec = conftest.openapi_spec()
    frag_path = REPO.parent / "images-openapi.yaml"
    if AVATAR in spec.get("paths", {}) or not frag_path.exists():
        yield
        return
    import copy

    import yaml

    frag = yaml.safe_load(frag_path.read_text())
    merged = copy.deepcopy(spec)
    merged["paths"].update(frag.get("paths", {}))
    for k, v in frag.get("components", {}).items():
        merged["components"].setdefault(k, {}).update(v)
    code = merged["components"]["schemas"]["Problem"]["properties"]["code"]
    if "enum" in code and "invalid_image" not in code["enum"]:
        code["enum"] = [*code["enum"], "invalid_image"]
    monkeypatch.setattr(conftest, "openapi_spec", lambda: merged)
    yield


# ---------------------------------------------------------------------------------------------
# Images made at test time


def ffmpeg(*args):
    p = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def make_image(tmp_path, ext, size="640x360", src="testsrc", extra=()):
    out = tmp_path / f"{uuid.uuid4().hex[:8]}.{ext}"
    sep = ":" if "=" in src else "="
    ffmpeg("-f", "lavfi", "-i", f"{src}{sep}size={size}", "-frames:v", "1", *extra, str(out))
    return out.read_bytes()


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def tiny_png(w, h, rgb=(255, 0, 0)):
    """A PNG of one colour written by hand (lavfi sources refuse a width of 1); rgb with four
    values is RGBA."""
    rows = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    ctype = 6 if len(rgb) == 4 else 2
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def probe(data, tmp_path):
    """(codec, width, height) of an image's bytes, by ffprobe."""
    f = tmp_path / f"probe-{uuid.uuid4().hex[:8]}"
    f.write_bytes(data)
    p = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height",
                        "-of", "csv=p=0", str(f)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    codec, w, h = p.stdout.strip().split(",")
    return codec, int(w), int(h)


def jpeg_segments(data):
    """The markers of a JPEG's header segments up to SOS (0xE0 APP0, 0xE1 APP1 = EXIF, 0xFE COM)."""
    assert data[:2] == b"\xff\xd8", data[:4]
    i, marks = 2, []
    while i + 4 <= len(data):
        assert data[i] == 0xFF, f"bad segment at {i}"
        m = data[i + 1]
        marks.append(m)
        if m == 0xDA:
            break
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return marks


def exif_gps_segment():
    """An APP1 Exif segment: an ImageDescription and a GPS IFD (latitude 48 N)."""
    desc = b"SECRET-EXIF-DESCRIPTION\x00"
    # TIFF little-endian; IFD0 at 8 with 2 entries, then the GPS IFD, then the values.
    ifd0_off = 8
    ifd0_len = 2 + 2 * 12 + 4
    gps_off = ifd0_off + ifd0_len
    gps_len = 2 + 2 * 12 + 4
    desc_off = gps_off + gps_len
    lat_off = desc_off + len(desc)
    tiff = b"II*\x00" + struct.pack("<I", ifd0_off)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 0x010E, 2, len(desc), desc_off)  # ImageDescription
    tiff += struct.pack("<HHII", 0x8825, 4, 1, gps_off)  # GPSInfo IFD
    tiff += struct.pack("<I", 0)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHI4s", 0x0001, 2, 2, b"N\x00\x00\x00")  # GPSLatitudeRef
    tiff += struct.pack("<HHII", 0x0002, 5, 3, lat_off)  # GPSLatitude
    tiff += struct.pack("<I", 0)
    tiff += desc + struct.pack("<6I", 48, 1, 51, 1, 2959, 100)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def jpeg_with_metadata(tmp_path):
    """A JPEG carrying EXIF (with GPS) and a comment segment, both before the image data."""
    data = make_image(tmp_path, "jpg")
    com = b"SECRET-COMMENT <script>alert(1)</script>"
    com_seg = b"\xff\xfe" + struct.pack(">H", len(com) + 2) + com
    return data[:2] + exif_gps_segment() + com_seg + data[2:]


def put(api, path, data, token, content_type="application/octet-stream", **kw):
    return api.put(path, data=data, token=token, headers={"Content-Type": content_type}, **kw)


def served(url, base=BASE_URL, **kw):
    """GET an image link through nginx, no token (the files are public)."""
    return requests.get(base + url, timeout=15, **kw)


def assert_served_jpeg(resp, w, h, tmp_path):
    assert resp.status_code == 200, describe(resp)
    assert media_type(resp) == "image/jpeg", describe(resp)
    assert resp.headers.get("Cache-Control") == CACHE, dict(resp.headers)
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", dict(resp.headers)
    assert probe(resp.content, tmp_path) == ("mjpeg", w, h)
    # Only JFIF (APP0), tables, frame and scan: no EXIF (APP1), no ICC (APP2), no comment.
    marks = jpeg_segments(resp.content)
    assert not [m for m in marks if 0xE1 <= m <= 0xEF or m == 0xFE], [hex(m) for m in marks]


def on_disk(url):
    return MEDIA / url.lstrip("/")


# ---------------------------------------------------------------------------------------------
# PUT /api/v1/users/me/avatar and /banner


@pytest.mark.parametrize("ext", ["jpg", "png", "webp"])
def test_images_avatar_put_each_format_is_reencoded(api, user, tmp_path, ext):
    r = put(api, AVATAR, make_image(tmp_path, ext), user["access"])
    assert r.status_code == 200, describe(r)
    doc = r.json()
    assert_user(doc, id=user["id"], email=user["email"], bannerUrl=None, bio="")
    big = re.fullmatch(AVATAR_RE, doc["avatarUrl"])
    small = re.fullmatch(AVATAR_SMALL_RE, doc["avatarSmallUrl"])
    assert big and small and big.group(1) == small.group(1), doc
    assert_served_jpeg(served(doc["avatarUrl"]), 256, 256, tmp_path)
    assert_served_jpeg(served(doc["avatarSmallUrl"]), 64, 64, tmp_path)
    me = api.get(ME, token=user["access"])
    assert me.status_code == 200 and me.json() == doc, describe(me)


@pytest.mark.parametrize("ext", ["jpg", "png", "webp"])
def test_images_banner_put_each_format_is_reencoded(api, user, tmp_path, ext):
    r = put(api, BANNER, make_image(tmp_path, ext, size="1000x1000"), user["access"])
    assert r.status_code == 200, describe(r)
    doc = r.json()
    assert re.fullmatch(BANNER_RE, doc["bannerUrl"]), doc
    assert doc["avatarUrl"] is None and doc["avatarSmallUrl"] is None, doc
    assert_served_jpeg(served(doc["bannerUrl"]), 2048, 512, tmp_path)


def test_images_put_strips_exif_gps_and_comments(api, user, tmp_path):
    data = jpeg_with_metadata(tmp_path)
    assert b"SECRET-EXIF" in data and b"SECRET-COMMENT" in data
    assert 0xE1 in jpeg_segments(data) and 0xFE in jpeg_segments(data)
    r = put(api, AVATAR, data, user["access"], content_type="image/jpeg")
    assert r.status_code == 200, describe(r)
    for url, size in ((r.json()["avatarUrl"], 256), (r.json()["avatarSmallUrl"], 64)):
        got = served(url)
        assert_served_jpeg(got, size, size, tmp_path)
        for marker in (b"SECRET", b"Exif", b"<script", b"GPS"):
            assert marker not in got.content, marker
    r = put(api, BANNER, data, user["access"])
    assert r.status_code == 200, describe(r)
    got = served(r.json()["bannerUrl"])
    assert_served_jpeg(got, 2048, 512, tmp_path)
    assert b"SECRET" not in got.content


def test_images_put_polyglot_payload_does_not_survive(api, user, tmp_path):
    payload = b"<html><body><script>alert(document.cookie)</script></body></html>"
    data = make_image(tmp_path, "png") + payload
    r = put(api, AVATAR, data, user["access"], content_type="image/png")
    assert r.status_code == 200, describe(r)
    for url in (r.json()["avatarUrl"], r.json()["avatarSmallUrl"]):
        got = served(url)
        assert got.status_code == 200 and media_type(got) == "image/jpeg", describe(got)
        assert b"<script" not in got.content and b"<html" not in got.content


def test_images_put_new_image_changes_the_url_and_removes_the_old_files(api, user, tmp_path):
    first = put(api, AVATAR, make_image(tmp_path, "png"), user["access"]).json()
    old = [first["avatarUrl"], first["avatarSmallUrl"]]
    assert all(on_disk(u).is_file() for u in old)
    second = put(api, AVATAR, make_image(tmp_path, "png", src="mandelbrot"), user["access"])
    assert second.status_code == 200, describe(second)
    new = [second.json()["avatarUrl"], second.json()["avatarSmallUrl"]]
    assert set(new).isdisjoint(old), (old, new)
    for u in old:
        assert not on_disk(u).exists(), u
        assert_problem(served(u), 404, "not_found")
    for u in new:
        assert served(u).status_code == 200


def test_images_put_same_image_again_keeps_its_files(api, user, tmp_path):
    data = make_image(tmp_path, "webp")
    a = put(api, AVATAR, data, user["access"]).json()
    b = put(api, AVATAR, data, user["access"])
    assert b.status_code == 200 and b.json()["avatarUrl"] == a["avatarUrl"], describe(b)
    assert served(a["avatarUrl"]).status_code == 200
    assert served(a["avatarSmallUrl"]).status_code == 200


def test_images_same_image_of_two_users_gets_two_names(api, make_user, tmp_path):
    data = make_image(tmp_path, "png")
    a, b = make_user(), make_user()
    ua = put(api, AVATAR, data, a["access"]).json()["avatarUrl"]
    ub = put(api, AVATAR, data, b["access"]).json()["avatarUrl"]
    assert ua != ub
    assert api.delete(AVATAR, token=b["access"]).status_code == 204
    assert served(ua).status_code == 200


def mean_rgb(data, tmp_path):
    f = tmp_path / f"mean-{uuid.uuid4().hex[:8]}.jpg"
    f.write_bytes(data)
    p = subprocess.run(["ffmpeg", "-v", "error", "-i", str(f), "-vf", "scale=1:1", "-f", "rawvideo",
                        "-pix_fmt", "rgb24", "-"], capture_output=True, timeout=30)
    assert p.returncode == 0 and len(p.stdout) == 3, p.stderr
    return tuple(p.stdout)


def test_images_put_transparent_png_is_laid_on_white(api, user, tmp_path):
    data = tiny_png(100, 100, (0, 0, 0, 0))  # black, fully transparent
    r = put(api, AVATAR, data, user["access"])
    assert r.status_code == 200, describe(r)
    got = served(r.json()["avatarUrl"])
    assert_served_jpeg(got, 256, 256, tmp_path)
    assert all(c > 235 for c in mean_rgb(got.content, tmp_path)), mean_rgb(got.content, tmp_path)


@pytest.mark.parametrize("size", ["1x1", "1x7", "3x2", "8192x4"])
def test_images_put_extreme_shapes_are_accepted(api, user, tmp_path, size):
    w, h = (int(x) for x in size.split("x"))
    data = tiny_png(w, h)
    for path, key, w, h in ((AVATAR, "avatarUrl", 256, 256), (BANNER, "bannerUrl", 2048, 512)):
        r = put(api, path, data, user["access"])
        assert r.status_code == 200, describe(r)
        assert_served_jpeg(served(r.json()[key]), w, h, tmp_path)


def test_images_put_near_the_limit_passes_nginx(api, user, tmp_path):
    # Over the API's usual 1 MiB, under MAX_IMAGE_BYTES: random pixels barely compress.
    data = make_image(tmp_path, "png", size="1000x1000", src="nullsrc",
                      extra=("-vf", "geq=random(1)*255:128:128", "-pix_fmt", "rgb24"))
    assert (1 << 20) < len(data) < MAX_IMAGE_BYTES, len(data)
    r = put(api, BANNER, data, user["access"], timeout=60)
    assert r.status_code == 200, describe(r)


# --- refusals ---------------------------------------------------------------------------------


def _gif(tmp_path):
    return make_image(tmp_path, "gif")


def _svg(tmp_path):
    return (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
            b'height="10"><script>alert(1)</script></svg>')


def _text(tmp_path):
    return b"hello, this is not an image at all, just some text\n" * 10


def _truncated_png(tmp_path):
    return make_image(tmp_path, "png")[:300]


def _truncated_jpeg(tmp_path):
    return make_image(tmp_path, "jpg")[:200]


def _png_claiming_a_huge_frame(tmp_path):
    # A small file whose frame is wider than 8192.
    return tiny_png(9000, 16)


def _png_claiming_60000_square(tmp_path):
    # A hand-made header for 60000x60000 RGB (10 GB of pixels) and a few bytes of data:
    # the decoder's pixel limit refuses it before allocating anything.
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + png_chunk(b"IEND", b""))


def _signature_only(tmp_path):
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def _html_named_png(tmp_path):
    return b"<html><script>alert(1)</script></html>" * 4


@pytest.mark.parametrize("make", [_gif, _svg, _text, _truncated_png, _truncated_jpeg,
                                  _png_claiming_a_huge_frame, _png_claiming_60000_square,
                                  _signature_only, _html_named_png],
                         ids=lambda f: f.__name__.lstrip("_"))
@pytest.mark.parametrize("path", [AVATAR, BANNER])
def test_images_put_not_an_image_we_take_is_415(api, user, tmp_path, make, path):
    r = put(api, path, make(tmp_path), user["access"], content_type="image/png")
    assert_problem(r, 415, "invalid_image")
    me = api.get(ME, token=user["access"]).json()
    assert me["avatarUrl"] is None and me["bannerUrl"] is None, me
    left = list((MEDIA / "images" / "tmp").iterdir()) if (MEDIA / "images" / "tmp").exists() else []
    assert left == [], left


def test_images_put_empty_body_is_415(api, user):
    assert_problem(put(api, AVATAR, b"", user["access"]), 415, "invalid_image")


def test_images_put_over_5_mib_is_413(api, user, tmp_path):
    data = make_image(tmp_path, "png")
    data += b"\x00" * (MAX_IMAGE_BYTES + 1 - len(data))
    assert_problem(put(api, AVATAR, data, user["access"], timeout=60), 413, "body_too_large")
    assert api.get(ME, token=user["access"]).json()["avatarUrl"] is None


@pytest.mark.parametrize("method,path", [("PUT", AVATAR), ("PUT", BANNER), ("DELETE", AVATAR),
                                         ("DELETE", BANNER)])
def test_images_anonymous_is_401(api, tmp_path, method, path):
    data = make_image(tmp_path, "png") if method == "PUT" else None
    r = api.request(method, path, data=data)
    assert_problem(r, 401, "missing_token")


def test_images_another_users_upload_leaves_mine(api, make_user, tmp_path):
    a, b = make_user(), make_user()
    mine = put(api, AVATAR, make_image(tmp_path, "png"), a["access"]).json()
    theirs = put(api, AVATAR, make_image(tmp_path, "jpg"), b["access"])
    assert theirs.status_code == 200, describe(theirs)
    assert theirs.json()["id"] == b["id"] and theirs.json()["email"] == b["email"]
    assert api.delete(BANNER, token=b["access"]).status_code == 204
    assert api.delete(AVATAR, token=b["access"]).status_code == 204
    me = api.get(ME, token=a["access"]).json()
    assert me["avatarUrl"] == mine["avatarUrl"], me
    assert served(mine["avatarUrl"]).status_code == 200


# --- DELETE -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path,key", [(AVATAR, "avatarUrl"), (BANNER, "bannerUrl")])
def test_images_delete_restores_the_default(api, user, tmp_path, path, key):
    doc = put(api, path, make_image(tmp_path, "png"), user["access"]).json()
    urls = [doc[key]] + ([doc["avatarSmallUrl"]] if key == "avatarUrl" else [])
    r = api.delete(path, token=user["access"])
    assert r.status_code == 204 and r.content == b"", describe(r)
    me = api.get(ME, token=user["access"]).json()
    assert me[key] is None, me
    if key == "avatarUrl":
        assert me["avatarSmallUrl"] is None, me
    for u in urls:
        assert not on_disk(u).exists(), u
        assert_problem(served(u), 404, "not_found")
    r = api.delete(path, token=user["access"])  # nothing left to remove: the same answer
    assert r.status_code == 204, describe(r)


# --- nginx ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/images/",
    "/images/avatars/",
    "/images/tmp/",
    "/images/avatars/" + "0" * 32 + "-256.jpg",
    "/images/avatars/" + "0" * 32 + "-128.jpg",
    "/images/avatars/" + "0" * 32 + "-256.png",
    "/images/banners/" + "0" * 32 + ".JPG",
    "/images/avatars/../banners/" + "0" * 32 + ".jpg",
])
def test_images_nginx_unknown_or_missing_is_a_problem_404(path):
    r = requests.get(BASE_URL + path, timeout=10)
    assert r.status_code == 404, describe(r)
    assert media_type(r) == "application/problem+json", describe(r)
    assert r.json()["code"] == "not_found"


def test_images_nginx_temp_files_are_never_served(api, user, tmp_path):
    tmp = MEDIA / "images" / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    name = "1." + "a" * 16 + "-256.jpg"
    (tmp / name).write_bytes(make_image(tmp_path, "jpg"))
    try:
        for p in (f"/images/tmp/{name}", f"/images/avatars/../tmp/{name}"):
            r = requests.get(BASE_URL + p, timeout=10)
            assert r.status_code == 404, describe(r)
    finally:
        (tmp / name).unlink()


def test_images_nginx_refuses_writes_to_image_files(api, user, tmp_path):
    url = put(api, AVATAR, make_image(tmp_path, "png"), user["access"]).json()["avatarUrl"]
    for method in ("POST", "PUT", "DELETE"):
        r = requests.request(method, BASE_URL + url, data=b"x", timeout=10)
        assert r.status_code in (403, 405), describe(r)
        assert media_type(r) == "application/problem+json", describe(r)
    assert served(url).status_code == 200


def test_images_nginx_head_and_range(api, user, tmp_path):
    url = put(api, BANNER, make_image(tmp_path, "png"), user["access"]).json()["bannerUrl"]
    full = served(url)
    h = requests.head(BASE_URL + url, timeout=10)
    assert h.status_code == 200 and h.headers.get("Cache-Control") == CACHE, describe(h)
    assert int(h.headers["Content-Length"]) == len(full.content)
    part = served(url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == full.content[:10], describe(part)


def test_images_production_nginx_serves_and_takes_uploads(api, user, tmp_path, prod):  # noqa: F811
    base, _ = prod
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    data = make_image(tmp_path, "png", size="1000x1000", src="nullsrc",
                      extra=("-vf", "geq=random(1)*255:128:128", "-pix_fmt", "rgb24"))
    assert len(data) > (1 << 20)
    r = requests.put(base + AVATAR, data=data, verify=False, timeout=60,
                     headers={"Authorization": f"Bearer {user['access']}"})
    assert r.status_code == 200, describe(r)
    url = r.json()["avatarUrl"]
    got = requests.get(base + url, verify=False, timeout=15)
    assert_served_jpeg(got, 256, 256, tmp_path)
    assert got.headers.get("Strict-Transport-Security", "").startswith("max-age=")
    r = requests.put(base + AVATAR, data=b"\x00" * (MAX_IMAGE_BYTES + 1), verify=False,
                     timeout=60, headers={"Authorization": f"Bearer {user['access']}"})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large", describe(r)
    r = requests.get(base + "/images/avatars/", verify=False, timeout=15)
    assert r.status_code == 404 and media_type(r) == "application/problem+json", describe(r)


# ---------------------------------------------------------------------------------------------
# PATCH /api/v1/users/me: bio


def test_users_update_me_bio(api, user):
    bio = "Line one — with ünïcode\nline two\tand a tab"
    r = api.patch(ME, json={"bio": bio}, token=user["access"])
    assert r.status_code == 200, describe(r)
    assert r.json()["bio"] == bio
    me = api.get(ME, token=user["access"])
    assert me.json()["bio"] == bio, describe(me)
    r = api.patch(ME, json={"bio": ""}, token=user["access"])
    assert r.status_code == 200 and r.json()["bio"] == "", describe(r)


def test_users_update_me_bio_counts_characters_not_bytes(api, user):
    r = api.patch(ME, json={"bio": "é" * 1000}, token=user["access"])  # 2000 bytes
    assert r.status_code == 200 and r.json()["bio"] == "é" * 1000, describe(r)
    assert_validation(api.patch(ME, json={"bio": "é" * 1001}, token=user["access"]),
                      "bio", "too_long")
    assert api.get(ME, token=user["access"]).json()["bio"] == "é" * 1000


@pytest.mark.parametrize("value,code", [(123, "wrong_type"), (["a"], "wrong_type"),
                                        (None, "null_not_allowed"),
                                        ("bell\u0007", "invalid_format"),
                                        ("esc\u001b[31m", "invalid_format")])
def test_users_update_me_bio_refused(api, user, value, code):
    r = api.patch(ME, json={"bio": value}, token=user["access"])
    assert_validation(r, "bio", code)
    assert api.get(ME, token=user["access"]).json()["bio"] == ""


def test_users_update_me_bio_anonymous_is_401(api):
    assert_problem(api.patch(ME, json={"bio": "x"}), 401, "missing_token")
