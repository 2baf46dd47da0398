"""Shared pieces of the end-to-end tests: black-box over HTTP against a running stack.

tools/e2e starts a private stack and runs pytest with these variables set:

  STREMORA_BASE_URL      http://127.0.0.1:<port> of the stack's nginx
  STREMORA_MONGODB_URI   the database the app uses (pymongo takes the percent-encoded socket path)
  STREMORA_DB_NAME       the app's database name ("stremora")
  STREMORA_VAR           the stack's var folder (run/*.pid, keys.json)
  STREMORA_STACK         tools/stack (db-stop / db-start, with STREMORA_VAR passed through)
  STREMORA_CTL           build/stremoractl
  STREMORA_REFRESH_GRACE seconds of the refresh-token grace of that stack
  STREMORA_REFRESH_RETRY seconds a lost refresh answer is sent again on that stack

Run by hand against a dev stack (`STREMORA_VAR=var/e2e-dev STREMORA_PORT=18090 tools/stack start`)
with STREMORA_VAR and STREMORA_PORT set the same way; the rest default from them.

Every test makes its own users (`user`, `make_user`): no test depends on another's state or order.
Every response that goes through `api` is audited: no body may carry a password or token hash,
a hash prefix, a stack trace, or the email of a user other than the one making the request.
"""

import base64
import datetime
import functools
import hashlib
import hmac
import http.client
import json as jsonlib
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
OPENAPI = REPO / "docs" / "openapi.yaml"


def _path_env(name, default):
    p = Path(os.environ.get(name) or default)
    return p if p.is_absolute() else (REPO / p)


VAR = _path_env("STREMORA_VAR", "var")
BASE_URL = os.environ.get(
    "STREMORA_BASE_URL", f"http://127.0.0.1:{os.environ.get('STREMORA_PORT', '8080')}"
).rstrip("/")
MONGODB_URI = os.environ.get("STREMORA_MONGODB_URI") or (
    "mongodb://" + urllib.parse.quote(str(VAR / "run" / "db.sock"), safe="")
)
DB_NAME = os.environ.get("STREMORA_DB_NAME", "stremora")
STACK = _path_env("STREMORA_STACK", "tools/stack")
CTL = _path_env("STREMORA_CTL", "build/stremoractl")
FCGI = CTL.parent / "stremora-fcgi"  # the same build as stremoractl (build/ or build/asan/)
REFRESH_GRACE = float(os.environ.get("STREMORA_REFRESH_GRACE", "2"))
REFRESH_RETRY = float(os.environ.get("STREMORA_REFRESH_RETRY", "4"))

REFRESH_COOKIE = "stremora_refresh"
ACCESS_TTL = 900
# Substrings no response body may ever contain (DESIGN.md section 3, point 4).
FORBIDDEN_IN_BODY = ("passwordHash", "tokenHash", "$y$", "$2b$", "Traceback")
VALIDATION_CODES = {
    "required",
    "wrong_type",
    "too_short",
    "too_long",
    "out_of_range",
    "unknown_field",
    "null_not_allowed",
    "invalid_format",
    "too_many",  # uploads: more than 20 tags
    "duplicate",  # uploads: a part that may come once came twice
    "reserved",  # a username kept for the service
}

_UNSET = object()


# ---------------------------------------------------------------------------------------------
# Small helpers


def describe(resp):
    """One line saying what was asked and what came back, for assertion messages."""
    req = resp.request
    path = urllib.parse.urlsplit(req.url).path
    body = resp.content[:600].decode("utf-8", "replace")
    ctype = resp.headers.get("Content-Type", "-")
    return f"{req.method} {path} -> {resp.status_code} [{ctype}] {body!r}"


def media_type(resp):
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower()


def unique_name(prefix="u"):
    """A fresh valid username: lowercase, [a-z0-9_.-], at most 30 characters."""
    return f"{prefix}{uuid.uuid4().hex[:20]}"[:30]


def new_identity(prefix="u"):
    username = unique_name(prefix)
    return {
        "username": username,
        "email": f"{username}@example.test",
        "password": "pw-" + uuid.uuid4().hex[:20],
    }


def wait_until(predicate, timeout, what, interval=0.1):
    """Polls predicate() until it returns a true value; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except requests.RequestException as e:
            last = e
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def wait_ready(timeout=20.0):
    """Polls GET /api/v1/health/ready (outside the audited client) until it answers 200."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        try:
            r = requests.get(BASE_URL + "/api/v1/health/ready", timeout=5)
            if r.status_code == 200:
                return
            seen.append(r.status_code)
        except requests.RequestException as e:
            seen.append(type(e).__name__)
        if time.monotonic() >= deadline:
            pytest.fail(
                f"{BASE_URL}/api/v1/health/ready not 200 within {timeout} s (last answers: {seen[-5:]})"
            )
        time.sleep(0.1)


def stack(*args, timeout=60):
    """Runs tools/stack with this stack's STREMORA_VAR; fails the test if it fails."""
    env = dict(os.environ, STREMORA_VAR=str(VAR))
    p = subprocess.run(
        [str(STACK), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert p.returncode == 0, f"{STACK} {' '.join(args)} exited {p.returncode}: {p.stderr[-2000:]}"
    return p


@functools.lru_cache(maxsize=1)
def stack_env():
    """The settings the stack's workers run with (tools/stack env), as a dict."""
    out = stack("env").stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def cgi_env(method, uri, **extra):
    """The environment of a one-request run of stremora-fcgi from a shell (CGI mode) with
    the stack's settings."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    env.update(stack_env())
    env.update(REQUEST_METHOD=method, REQUEST_URI=uri, GATEWAY_INTERFACE="CGI/1.1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def pids_of_children(ppid):
    """Pids of the live (not zombie) children of ppid."""
    p = subprocess.run(["pgrep", "-P", str(ppid)], capture_output=True, text=True)
    out = []
    for s in p.stdout.split():
        pid = int(s)
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.append(pid)
    return sorted(out)


def read_pid(name):
    return int((VAR / "run" / f"{name}.pid").read_text().strip())


# ---------------------------------------------------------------------------------------------
# JWT helpers: enough to read our tokens and to forge ones the server must refuse.


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_decode(token):
    """(header, payload) of a compact JWT, without verifying it."""
    h, p, _ = token.split(".")
    return jsonlib.loads(b64u_decode(h)), jsonlib.loads(b64u_decode(p))


def _json_part(part):
    if isinstance(part, (dict, list)):
        return jsonlib.dumps(part, separators=(",", ":"))
    return part  # raw text: lets a test send duplicate keys or broken JSON


def jwt_sign(header, payload, key, digest=hashlib.sha256):
    """A compact JWT of header and payload (dicts, or raw JSON text) signed with HMAC(key)."""
    signing_input = b64u(_json_part(header)) + "." + b64u(_json_part(payload))
    sig = hmac.new(key, signing_input.encode(), digest).digest()
    return signing_input + "." + b64u(sig)


def load_keys():
    """(current kid, {kid: key bytes}) from the stack's key file."""
    doc = jsonlib.loads((VAR / "keys.json").read_text())
    keys = {kid: b64u_decode(k) for kid, k in doc["keys"].items()}
    return doc["current"], keys


# ---------------------------------------------------------------------------------------------
# The OpenAPI contract: every problem code a test sees must be listed for its operation.


@functools.lru_cache(maxsize=1)
def openapi_spec():
    try:
        import yaml
    except ImportError:
        pytest.fail("PyYAML is missing: pip install -r tests/e2e/requirements.txt", pytrace=False)

    with open(OPENAPI) as f:
        return yaml.safe_load(f)


def resolve_ref(spec, obj):
    """obj with every $ref into spec followed."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = spec
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def _codes_in_schema(spec, schema):
    """The codes a schema admits in its `code` member, or None when it does not restrict it.
    allOf intersects (so Problem's full list narrowed by an operation's enum gives the latter);
    oneOf and anyOf unite."""
    schema = resolve_ref(spec, schema)
    if not isinstance(schema, dict):
        return None
    found = []
    code = resolve_ref(spec, schema.get("properties", {}).get("code"))
    if isinstance(code, dict):
        if "enum" in code:
            found.append(set(code["enum"]))
        if "const" in code:
            found.append({code["const"]})
    for sub in schema.get("allOf", []):
        c = _codes_in_schema(spec, sub)
        if c is not None:
            found.append(c)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            alts = [_codes_in_schema(spec, sub) for sub in schema[key]]
            if all(a is not None for a in alts):
                found.append(set().union(*alts))
    if not found:
        return None
    return set.intersection(*found)


def problem_codes(spec, response):
    """The problem codes a response object of the spec lists."""
    response = resolve_ref(spec, response)
    content = (response or {}).get("content", {})
    media = content.get("application/problem+json")
    if not media:
        return set()
    return _codes_in_schema(spec, media.get("schema", {})) or set()


def _path_item(spec, path):
    """The spec's path item for a concrete path: an exact entry, else the template that
    matches it with the most literal segments ({param} is one non-empty segment; a last
    {path} also takes the rest of the path, slashes and all, as the media route does)."""
    paths = spec.get("paths", {})
    if path in paths:
        return paths[path]
    segs = path.split("/")
    best, best_score = None, None
    for tmpl, item in paths.items():
        t = tmpl.split("/")
        if len(t) > len(segs) or (len(t) < len(segs) and t[-1] != "{path}"):
            continue
        score, ok = [], True
        for i, ts in enumerate(t):
            rest = segs[i:] if i == len(t) - 1 else [segs[i]]
            if ts.startswith("{") and ts.endswith("}"):
                ok = all(rest)
                score.append(0)
            else:
                ok = len(rest) == 1 and ts == rest[0]
                score.append(1)
            if not ok:
                break
        # Same length first, then the most literal segments from the left.
        key = (len(t) == len(segs), score)
        if ok and (best_score is None or key > best_score):
            best, best_score = item, key
    return best


def documented_codes(method, path, status):
    """Codes docs/openapi.yaml lists for this method, path and status."""
    spec = openapi_spec()
    item = _path_item(spec, path)
    if item is None:
        return problem_codes(spec, spec["components"]["responses"]["NotFound"])
    op = item.get(method.lower())
    if op is None:
        return problem_codes(spec, spec["components"]["responses"]["MethodNotAllowed"])
    resp = op.get("responses", {}).get(str(status))
    return problem_codes(spec, resp) if resp else set()


def assert_problem(resp, status, code=None, codes=None):
    """Asserts resp is an RFC 9457 problem with this status and code; returns its body."""
    assert resp.status_code == status, describe(resp)
    assert media_type(resp) == "application/problem+json", describe(resp)
    body = resp.json()
    assert isinstance(body, dict), describe(resp)
    for member in ("type", "title", "status", "detail", "code"):
        assert member in body, f"problem lacks {member!r}: {describe(resp)}"
    assert isinstance(body["type"], str) and body["type"], describe(resp)
    assert isinstance(body["title"], str) and body["title"], describe(resp)
    assert isinstance(body["detail"], str), describe(resp)
    assert type(body["status"]) is int and body["status"] == status, describe(resp)
    assert isinstance(body["code"], str) and body["code"], describe(resp)
    if code is not None:
        assert body["code"] == code, describe(resp)
    if codes is not None:
        assert body["code"] in codes, describe(resp)
    path = urllib.parse.urlsplit(resp.request.url).path
    listed = documented_codes(resp.request.method, path, status)
    assert body["code"] in listed, (
        f"docs/openapi.yaml does not list code {body['code']!r} for {resp.request.method} {path} "
        f"{status} (it lists {sorted(listed)})"
    )
    return body


def assert_validation(resp, field, code):
    """Asserts a 422 validation_failed problem whose errors[] holds {field, code}."""
    body = assert_problem(resp, 422, "validation_failed")
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, describe(resp)
    for e in errors:
        assert isinstance(e, dict) and isinstance(e.get("field"), str), describe(resp)
        assert e.get("code") in VALIDATION_CODES, describe(resp)
    pairs = [(e["field"], e["code"]) for e in errors]
    assert (field, code) in pairs, f"expected {(field, code)} in {pairs}: {describe(resp)}"
    return body


def set_cookies(resp):
    """The Set-Cookie header lines of resp, unjoined."""
    return resp.raw.headers.getlist("Set-Cookie")


def refresh_cookie(resp):
    """(value, {attribute lowercased: value}) of the stremora_refresh Set-Cookie, or None."""
    for line in set_cookies(resp):
        parts = [p.strip() for p in line.split(";")]
        name, _, value = parts[0].partition("=")
        if name.strip() != REFRESH_COOKIE:
            continue
        attrs = {}
        for a in parts[1:]:
            k, _, v = a.partition("=")
            attrs[k.strip().lower()] = v.strip()
        return value.strip(), attrs
    return None


# ---------------------------------------------------------------------------------------------
# The client


class Api:
    """A requests client for the stack that audits every answer.

    It keeps no cookies between requests (a cookie is sent only when a test passes one), and it
    learns which user owns which email and token, so that it can fail any response that shows
    one user's email to someone else.
    """

    def __init__(self, base_url):
        self.base = base_url
        self.s = requests.Session()
        self.email_of = {}  # user id -> current email (lowercase)
        self.id_of_login = {}  # username or email (lowercase) -> user id
        self.id_of_token = {}  # access or refresh token -> user id

    def request(
        self,
        method,
        path,
        *,
        json=_UNSET,
        data=None,
        token=None,
        cookie=None,
        headers=None,
        timeout=15,
    ):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if cookie is not None:
            h["Cookie"] = f"{REFRESH_COOKIE}={cookie}"
        if json is not _UNSET:
            data = jsonlib.dumps(json).encode()
            h.setdefault("Content-Type", "application/json")
        resp = self.s.request(
            method, self.base + path, data=data, headers=h, timeout=timeout, allow_redirects=False
        )
        self.s.cookies.clear()
        self._audit(resp)
        self._learn(resp)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # Who is asking: the users whose email the answer may show.
    def _askers(self, req):
        ids = set()
        auth = req.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            tok = auth[len("Bearer ") :]
            if tok in self.id_of_token:
                ids.add(self.id_of_token[tok])
            try:
                sub = jwt_decode(tok)[1].get("sub")
                if isinstance(sub, str):
                    ids.add(sub)
            except Exception:
                pass
        for part in req.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == REFRESH_COOKIE and value in self.id_of_token:
                ids.add(self.id_of_token[value])
        body = req.body or b""
        if isinstance(body, str):
            body = body.encode()
        try:
            doc = jsonlib.loads(body) if isinstance(body, bytes) and body else {}
        except (ValueError, RecursionError):  # the bodies of the invalid-JSON tests
            doc = {}
        if isinstance(doc, dict):
            rt = doc.get("refreshToken")
            if isinstance(rt, str) and rt in self.id_of_token:
                ids.add(self.id_of_token[rt])
            login = doc.get("login")
            if isinstance(login, str) and login.lower() in self.id_of_login:
                ids.add(self.id_of_login[login.lower()])
        return ids

    def _audit(self, resp):
        text = resp.content.decode("utf-8", "replace")
        for marker in FORBIDDEN_IN_BODY:
            assert marker not in text, f"response body contains {marker!r}: {describe(resp)}"
        if not self.email_of:
            return
        body = resp.request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        sent = body.lower() if isinstance(body, str) else ""
        low = text.lower()
        askers = self._askers(resp.request)
        for uid, email in self.email_of.items():
            if uid in askers or email in sent:
                continue
            assert email not in low, f"response shows user {uid}'s email: {describe(resp)}"

    def _remember_user(self, u):
        if not (isinstance(u, dict) and isinstance(u.get("id"), str)):
            return
        if isinstance(u.get("email"), str):
            self.email_of[u["id"]] = u["email"].lower()
            self.id_of_login[u["email"].lower()] = u["id"]
        if isinstance(u.get("username"), str):
            self.id_of_login[u["username"].lower()] = u["id"]

    def _learn(self, resp):
        if resp.status_code not in (200, 201) or media_type(resp) != "application/json":
            return
        try:
            doc = resp.json()
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        if isinstance(doc.get("user"), dict):
            u = doc["user"]
            self._remember_user(u)
            for k in ("accessToken", "refreshToken"):
                if isinstance(doc.get(k), str) and isinstance(u.get("id"), str):
                    self.id_of_token[doc[k]] = u["id"]
            cookie = refresh_cookie(resp) if hasattr(resp, "raw") else None
            if cookie and cookie[0] and isinstance(u.get("id"), str):  # cookie-only sessions
                self.id_of_token[cookie[0]] = u["id"]
        elif "id" in doc and "email" in doc:
            self._remember_user(doc)


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def api():
    """The audited client; the first use waits (with a deadline) for the stack to be ready."""
    wait_ready(timeout=30)
    return Api(BASE_URL)


def register(api, **fields):
    return api.post("/api/v1/auth/register", json=fields)


def login(api, login_name, password, **kw):
    return api.post("/api/v1/auth/login", json={"login": login_name, "password": password}, **kw)


def _signed_in(ident, doc):
    """The test's view of a signed-in user: who it is and the login answer's tokens."""
    return {
        "username": ident["username"],
        "email": ident["email"].lower(),
        "password": ident["password"],
        "access": doc["accessToken"],
        "refresh": doc["refreshToken"],
        "id": doc["user"]["id"],
        "user": doc["user"],
    }


def create_user(api, **overrides):
    """Registers a fresh user, logs it in and returns
    {username, email, password, access, refresh, id, user}."""
    ident = new_identity()
    ident.update(overrides)
    r = register(api, **ident)
    assert r.status_code == 201, describe(r)
    r = login(api, ident["username"], ident["password"])
    assert r.status_code == 200, describe(r)
    doc = r.json()
    return _signed_in(ident, doc)


@pytest.fixture
def make_user(api):
    """make_user(**overrides): a fresh registered and logged-in user (see create_user)."""
    return lambda **overrides: create_user(api, **overrides)


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture(scope="session")
def keys():
    """(current kid, {kid: key bytes}) from $STREMORA_VAR/keys.json."""
    path = VAR / "keys.json"
    assert path.exists(), f"no key file at {path}"
    return load_keys()


USER_KEYS = {"id", "username", "email", "displayName", "role", "createdAt", "bio", "avatarUrl",
             "avatarSmallUrl", "bannerUrl"}


def assert_user(doc, **expect):
    """Asserts doc is a user object (exactly the documented members) with these values."""
    assert isinstance(doc, dict) and set(doc) == USER_KEYS, f"user object: {doc!r}"
    assert re.fullmatch(r"[0-9a-f]{24}", doc["id"]), doc
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", doc["createdAt"]), doc
    for k, v in expect.items():
        assert doc[k] == v, f"user.{k} is {doc[k]!r}, expected {v!r}"


def assert_token_pair(resp, user_id=None):
    """Asserts a login or refresh answer: the pair, the user and the refresh cookie."""
    assert resp.status_code == 200, describe(resp)
    assert media_type(resp) == "application/json", describe(resp)
    doc = resp.json()
    assert set(doc) == {"accessToken", "refreshToken", "tokenType", "expiresIn", "user"}, doc
    assert isinstance(doc["accessToken"], str) and doc["accessToken"].count(".") == 2, doc
    assert isinstance(doc["refreshToken"], str) and len(doc["refreshToken"]) >= 32, doc
    assert doc["tokenType"] == "Bearer", doc
    assert doc["expiresIn"] == ACCESS_TTL and type(doc["expiresIn"]) is int, doc
    assert_user(doc["user"])
    if user_id is not None:
        assert doc["user"]["id"] == user_id, doc
    cookie = refresh_cookie(resp)
    assert cookie is not None, f"no {REFRESH_COOKIE} cookie: {set_cookies(resp)}"
    assert cookie[0] == doc["refreshToken"], "the cookie must carry the same refresh token"
    return doc


# ---------------------------------------------------------------------------------------------
# Videos and media (issue 4): real clips made with ffmpeg, multipart uploads, the media
# folder and the videos collection as side effects, signed links, and raw HTTP for what
# requests would normalise or refuse to send.

MEDIA = _path_env("STREMORA_MEDIA_ROOT", VAR / "media")
VIDEOS = "/api/v1/videos"
MAX_UPLOAD = int(os.environ.get("STREMORA_MAX_UPLOAD", str(2 * 1024**3)))
UPLOAD_OVERHEAD = 64 * 1024  # multipart bytes allowed beyond the file (bounds.h)
LINK_TTL = int(os.environ.get("STREMORA_LINK_TTL", "3600"))
BIG_CLIP_BYTES = 100 * 1024 * 1024
VIDEO_KEYS = {
    "id",
    "viewCount",
    "likeCount",
    "dislikeCount",
    "commentCount",
    "commentsEnabled",
    "ownerId",
    "title",
    "description",
    "tags",
    "visibility",
    "status",
    "size",
    "sha256",
    "mimeType",
    "createdAt",
    "updatedAt",
    "links",
    "processing",
    "durationSec",
    "width",
    "height",
    "renditions",
    "failureReason",
    "viewCount",
    "likeCount",
    "dislikeCount",
    "commentCount",
    "commentsEnabled",
}
# On some answers only (videos_get, videos_list, ratings_likes): the owner's card, the
# caller's rating.
VIDEO_OPTIONAL_KEYS = {"owner", "myRating"}
CARD_KEYS = {"id", "username", "displayName", "avatarUrl", "avatarSmallUrl"}
TIME_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
MEDIA_LINK_RE = r"/media/([A-Za-z0-9_-]+)\.(\d+)\.([A-Za-z0-9_-]{43})/([0-9a-f]{24})/(.+)"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: uploads or downloads 100 MB (kept in the default run)")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                return h.hexdigest()
            h.update(b)


def parse_time(s):
    """Seconds since the epoch of an RFC 3339 UTC time as the API writes it."""
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


# Containers the server accepts: ffmpeg arguments, the extension it stores, its mimeType.
CONTAINERS = {
    "mp4": (["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
             "-movflags", "+faststart"], "mp4", "mp4", "video/mp4"),
    "mov": (["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
            "mov", "mov", "video/quicktime"),
    "webm": (["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "200k", "-c:a", "libopus"],
             "webm", "webm", "video/webm"),
    "mkv": (["-c:v", "mpeg4", "-c:a", "aac"], "mkv", "mkv", "video/x-matroska"),
    "avi": (["-c:v", "mjpeg", "-c:a", "pcm_s16le"], "avi", "avi", "video/x-msvideo"),
    "ts": (["-c:v", "mpeg2video", "-c:a", "mp2", "-f", "mpegts"], "ts", "ts", "video/mp2t"),
    "flv": (["-c:v", "flv", "-c:a", "libmp3lame", "-ar", "44100"], "flv", "flv", "video/x-flv"),
    "ogg": (["-c:v", "libtheora", "-c:a", "libvorbis"], "ogv", "ogv", "video/ogg"),
}


def _ffmpeg(args, timeout=120):
    ff = shutil.which("ffmpeg")
    if ff is None:
        pytest.fail("ffmpeg is not installed: the video tests need it to make clips", pytrace=False)
    p = subprocess.run([ff, "-v", "error", "-y", *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stderr[-2000:]


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """{kind: Path} of 1 s clips (testsrc + sine) in each accepted container; a kind whose
    encoder this ffmpeg lacks maps to None (its tests skip)."""
    d = tmp_path_factory.mktemp("clips")
    out = {}
    for kind, (codec, fname_ext, _, _) in CONTAINERS.items():
        path = d / f"clip.{fname_ext}"
        rc, err = _ffmpeg(
            ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=1",
             "-f", "lavfi", "-i", "sine=frequency=440:duration=1", *codec, "-shortest", str(path)]
        )
        out[kind] = path if rc == 0 and path.exists() and path.stat().st_size > 1024 else None
        if kind == "mp4":
            assert out[kind], f"ffmpeg could not make an mp4: {err}"
    return out


def clip(clips, kind):
    """The clip of that kind, or a skip when this ffmpeg cannot make it."""
    if clips.get(kind) is None:
        pytest.skip(f"this ffmpeg cannot make a {kind} clip")
    return clips[kind]


@pytest.fixture(scope="session")
def big_clip(tmp_path_factory):
    """(Path, sha256 hex, size) of an MJPEG AVI of at least 100 MiB (noisy 720p frames, q 1),
    under the stack's upload limit."""
    d = tmp_path_factory.mktemp("big")
    path = d / "big.avi"
    frames = 180
    for _ in range(3):
        rc, err = _ffmpeg(
            ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-vf", "noise=alls=60:allf=t+u",
             "-frames:v", str(frames), "-c:v", "mjpeg", "-q:v", "1", "-an", str(path)],
            timeout=300,
        )
        assert rc == 0, f"ffmpeg could not make the big clip: {err}"
        size = path.stat().st_size
        if size >= BIG_CLIP_BYTES:
            break
        frames = int(frames * (BIG_CLIP_BYTES * 1.05) / size) + 1
    assert BIG_CLIP_BYTES <= size <= MAX_UPLOAD, f"big clip is {size} bytes"
    return path, sha256_file(path), size


# --- multipart ------------------------------------------------------------------------------


def _as_bytes(v):
    return v.encode() if isinstance(v, str) else v


def multipart_segments(parts, boundary):
    """The body of parts as a list of bytes and Paths (file contents read later). A part is
    (name, value) for a field, or (name, value, filename[, content_type]) for a file; value is
    str, bytes or a Path."""
    segs = []
    for part in parts:
        name, value = part[0], part[1]
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
        if len(part) >= 3:
            ctype = part[3] if len(part) >= 4 else "application/octet-stream"
            head += f'; filename="{part[2]}"\r\nContent-Type: {ctype}'
        segs.append((head + "\r\n\r\n").encode())
        segs.append(value if isinstance(value, Path) else _as_bytes(value))
        segs.append(b"\r\n")
    segs.append(f"--{boundary}--\r\n".encode())
    return segs


class MultipartStream:
    """A multipart body streamed from its segments (files read 1 MiB at a time) with a known
    length, so that requests sends Content-Length and never holds a big file in memory."""

    def __init__(self, segs):
        self.segs = segs
        self.length = sum(s.stat().st_size if isinstance(s, Path) else len(s) for s in segs)

    def __len__(self):
        return self.length

    def __iter__(self):
        for s in self.segs:
            if isinstance(s, Path):
                with open(s, "rb") as f:
                    while True:
                        b = f.read(1 << 20)
                        if not b:
                            break
                        yield b
            else:
                yield s


def multipart_bytes(parts, boundary):
    return b"".join(
        s.read_bytes() if isinstance(s, Path) else s for s in multipart_segments(parts, boundary)
    )


def new_boundary():
    return "----stremora" + uuid.uuid4().hex


def video_parts(data, title=_UNSET, filename="clip.mp4", after=False, **fields):
    """Parts of an ordinary upload: the text fields (tags may be a list: one part each),
    then the file (or the file first when after is true)."""
    parts = []
    if title is _UNSET:
        title = "Clip " + uuid.uuid4().hex[:8]
    if title is not None:
        parts.append(("title", title))
    for k, v in fields.items():
        for item in v if isinstance(v, list) else [v]:
            parts.append((k, item))
    file_part = ("video", data, filename, "video/mp4")
    return [file_part, *parts] if after else [*parts, file_part]


def upload(api, token, parts, *, boundary=None, content_type=None, stream=False, headers=None,
           timeout=60):
    """POST /api/v1/videos with these parts (see multipart_segments); returns the response."""
    boundary = boundary or new_boundary()
    h = {"Content-Type": content_type or f"multipart/form-data; boundary={boundary}"}
    h.update(headers or {})
    segs = multipart_segments(parts, boundary)
    if stream:
        body = MultipartStream(segs)
    else:
        body = b"".join(s.read_bytes() if isinstance(s, Path) else s for s in segs)
    return api.post(VIDEOS, data=body, token=token, headers=h, timeout=timeout)


# What the job worker changes on a video while a test looks at it.
PROCESSING_MOVES = ("status", "processing", "durationSec", "width", "height", "renditions",
                    "failureReason", "links")


def same_video(got, want):
    """Asserts two answers for one video agree in everything but what processing may have
    moved between them (a GET right after the upload can see the next stage); updatedAt
    only when processing did move, so a refused change that still wrote it is caught."""
    moved = any(got.get(k) != want.get(k) for k in PROCESSING_MOVES)
    skip = PROCESSING_MOVES + ("updatedAt",) if moved else ()

    def fixed(v):
        return {k: x for k, x in v.items() if k not in skip}

    assert fixed(got) == fixed(want)
    return True


def assert_video(doc, **expect):
    """Asserts doc is a Video (exactly the documented members) with these values."""
    assert isinstance(doc, dict) and set(doc) - VIDEO_OPTIONAL_KEYS == VIDEO_KEYS, f"video object: {doc!r}"
    if "owner" in doc:
        assert isinstance(doc["owner"], dict) and set(doc["owner"]) == CARD_KEYS, doc
        assert doc["owner"]["id"] == doc["ownerId"], doc
    if "myRating" in doc:
        assert doc["myRating"] in ("like", "dislike", None), doc
    assert re.fullmatch(r"[0-9a-f]{24}", doc["id"]), doc
    assert re.fullmatch(r"[0-9a-f]{24}", doc["ownerId"]), doc
    assert re.fullmatch(TIME_RE, doc["createdAt"]), doc
    assert re.fullmatch(TIME_RE, doc["updatedAt"]), doc
    assert doc["updatedAt"] >= doc["createdAt"], doc
    assert isinstance(doc["tags"], list) and all(isinstance(t, str) for t in doc["tags"]), doc
    assert doc["visibility"] in ("public", "unlisted", "private"), doc
    assert type(doc["size"]) is int and doc["size"] > 0, doc
    assert re.fullmatch(r"[0-9a-f]{64}", doc["sha256"]), doc
    assert doc["links"] == {
        "self": f"{VIDEOS}/{doc['id']}",
        "playback": f"{VIDEOS}/{doc['id']}/playback",
    }, doc
    for k, v in expect.items():
        assert doc[k] == v, f"video.{k} is {doc[k]!r}, expected {v!r}"
    return doc


def create_video(api, owner, data, **fields):
    """Uploads data (bytes or a Path) as owner; asserts 201 and returns the Video."""
    r = upload(api, owner["access"], video_parts(data, **fields))
    assert r.status_code == 201, describe(r)
    return assert_video(r.json(), ownerId=owner["id"])


@pytest.fixture
def make_video(api, clips):
    """make_video(owner, kind="mp4", **fields): a fresh upload of a small clip; the Video."""
    def make(owner, kind="mp4", **fields):
        return create_video(api, owner, clip(clips, kind), **fields)

    return make


def create_admin(api):
    """An admin made with stremoractl create-admin, logged in (the shape of create_user)."""
    ident = new_identity("adm")
    env = dict(os.environ, MONGODB_URI=MONGODB_URI)
    p = subprocess.run(
        [str(CTL), "create-admin", "--username", ident["username"], "--email", ident["email"]],
        input=ident["password"], env=env, capture_output=True, text=True, timeout=60,
    )
    assert p.returncode == 0, f"create-admin exited {p.returncode}: {p.stderr[-2000:]}"
    r = login(api, ident["username"], ident["password"])
    assert r.status_code == 200, describe(r)
    doc = r.json()
    assert doc["user"]["role"] == "admin", doc
    return _signed_in(ident, doc)


@pytest.fixture
def admin(api):
    return create_admin(api)


# --- side effects: the videos collection and the media folder --------------------------------


@pytest.fixture(scope="session")
def videos_coll():
    """The app's videos collection (pymongo)."""
    import pymongo

    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000)
    try:
        yield client[DB_NAME]["videos"]
    finally:
        client.close()


def owner_docs(coll, owner_id, **filt):
    """The videos documents of owner_id in any state ("uploading" ones too)."""
    from bson import ObjectId

    return list(coll.find({"ownerId": ObjectId(owner_id), **filt}))


def tmp_files():
    """Names of the uploads' files in $MEDIA_ROOT/tmp/ (<videoId>.<host>.<pid>); the job
    worker's work folders (<videoId>.work.<host>.<pid>) are its own business."""
    return sorted(p.name for p in (MEDIA / "tmp").iterdir() if ".work." not in p.name)


def video_dirs():
    """Names of the folders in $MEDIA_ROOT/videos/ (one per stored video)."""
    return {p.name for p in (MEDIA / "videos").iterdir()}


def assert_nothing_left(coll, owner_id, dirs_before):
    """After a failed upload: no document of the owner, no temp file, no new video folder."""
    docs = owner_docs(coll, owner_id)
    assert docs == [], f"documents left behind: {docs}"
    assert tmp_files() == [], f"temp files left behind: {tmp_files()}"
    new = video_dirs() - dirs_before
    assert not new, f"video folders left behind: {sorted(new)}"


class HeldUpload:
    """An upload in progress, as a worker reads one: stremora-fcgi run from a shell (CGI mode)
    on an upload whose body comes from a pipe the test holds open. It inserts the
    "uploading" document, writes the temp file, holds an upload slot, and waits for more.
    (Through nginx an upload reaches a worker only once its body is whole.) end() closes the
    pipe: the upload ends incomplete and undoes itself. kill() SIGKILLs it like a crash;
    clean_up() then removes what it left, as the pool's sweep would."""

    def __init__(self, token, data, title="Pending"):
        b = new_boundary()
        head = (
            f'--{b}\r\nContent-Disposition: form-data; name="title"\r\n\r\n{title}\r\n'
            f'--{b}\r\nContent-Disposition: form-data; name="video"; filename="c.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode() + data
        env = cgi_env("POST", VIDEOS, CONTENT_TYPE=f"multipart/form-data; boundary={b}",
                      CONTENT_LENGTH=len(head) + (10 << 20), HTTP_AUTHORIZATION=f"Bearer {token}")
        self.boundary = b
        self.p = subprocess.Popen([str(FCGI)], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.p.stdin.write(head)
        self.p.stdin.flush()

    def temp_file(self):
        """The name of its temp file in $MEDIA_ROOT/tmp/ (<videoId>.<host tag>.<pid>), or None."""
        return next((n for n in tmp_files() if n.endswith(f".{self.p.pid}")), None)

    def end(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)
        self.p.stdout.close()

    def finish(self):
        """Sends the close delimiter; returns the CGI answer (b"Status: 201 ..." when stored)."""
        self.p.stdin.write(f"\r\n--{self.boundary}--\r\n".encode())
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

    def clean_up(self, coll):
        from bson import ObjectId

        name = self.temp_file()
        if name is not None:
            (MEDIA / "tmp" / name).unlink(missing_ok=True)
            coll.delete_one({"_id": ObjectId(name.partition(".")[0]), "status": "uploading"})


# --- signed links ----------------------------------------------------------------------------


def media_token(video_id, expiry, kid=None, key=None):
    """A media link token as the server makes it: kid.expiry.base64url(HMAC-SHA256(key,
    "kid|videoId|expiry")); the stack's current key unless kid/key are given."""
    if kid is None or key is None:
        cur, keys = load_keys()
        kid = kid or cur
        key = key if key is not None else keys.get(kid, keys[cur])
    mac = hmac.new(key, f"{kid}|{video_id}|{expiry}".encode(), hashlib.sha256).digest()
    return f"{kid}.{expiry}.{b64u(mac)}"


def get_playback(api, video_id, token=None):
    """GET .../playback; asserts 200 and returns {expiresAt, source, hls, thumbnail}."""
    r = api.get(f"{VIDEOS}/{video_id}/playback", token=token)
    assert r.status_code == 200, describe(r)
    return r.json()


# --- raw HTTP: exact request targets, and answers read from a socket --------------------------


class RawRequest:
    def __init__(self, method, url, headers, body):
        self.method, self.url, self.headers, self.body = method, url, headers, body


class RawResponse:
    """Enough of requests.Response for describe(), assert_problem() and the audit."""

    def __init__(self, request, status, headers, content):
        self.request = request
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict(headers)
        self.content = content

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        return jsonlib.loads(self.content)


def host_port():
    u = urllib.parse.urlsplit(BASE_URL)
    return u.hostname, u.port or 80


def raw_request(api, method, target, headers=None, body=b"", timeout=15):
    """Sends target exactly as written (no normalisation, no re-encoding) with http.client;
    returns an audited RawResponse."""
    host, port = host_port()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        h = dict(headers or {})
        if body or method in ("POST", "PUT", "PATCH"):
            h.setdefault("Content-Length", str(len(body)))
        for k, v in h.items():
            conn.putheader(k, v)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        content = resp.read()
        raw = RawResponse(
            RawRequest(method, BASE_URL + target, h, body), resp.status, resp.getheaders(), content
        )
    finally:
        conn.close()
    api._audit(raw)
    return raw


def response_from_socket(api, sock, method, target, headers, timeout=15):
    """Reads one HTTP answer from sock (a request was sent on it); an audited RawResponse."""
    sock.settimeout(timeout)
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    content = resp.read()
    raw = RawResponse(RawRequest(method, BASE_URL + target, headers, b""), resp.status,
                      resp.getheaders(), content)
    api._audit(raw)
    return raw


@pytest.fixture(scope="session")
def big_video(api, big_clip):
    """One upload of the ≥100 MiB clip, streamed from disk, shared by the slow tests:
    {api, owner, response, video (None unless 201), clip: (path, sha256, size)}."""
    owner = create_user(api)
    path = big_clip[0]
    r = upload(api, owner["access"], video_parts(path, filename="big.avi"), stream=True, timeout=180)
    return {
        "api": api,
        "owner": owner,
        "response": r,
        "video": r.json() if r.status_code == 201 else None,
        "clip": big_clip,
    }


# --- query plans: each query shape reads through an index (tools/ferretdb/PATCHES.md) ---------


@pytest.fixture
def scratch():
    """A fresh scratch database ("plans_<uuid>") with the schemas' collections and indexes
    (without TTL, which the local server refuses), dropped afterwards."""
    import pymongo

    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000,
                                 tz_aware=True)
    name = "plans_" + uuid.uuid4().hex[:16]
    try:
        db = client[name]
        for path in sorted((REPO / "sql-free-schemas").glob("*.json")):
            schema = jsonlib.loads(path.read_text())
            for ix in schema["indexes"]:
                opts = {k: v for k, v in ix.items() if k not in ("key", "expireAfterSeconds")}
                db[schema["collection"]].create_index(list(ix["key"].items()), **opts)
        yield db
    finally:
        try:
            client.drop_database(name)
        finally:
            client.close()


def explain(db, coll, f, sort=None, limit=21):
    """The server's explain of a find of f (and sort), as the app sends it."""
    cmd = {"find": coll, "filter": f, "limit": limit}
    if sort:
        cmd["sort"] = dict(sort)
    return db.command("explain", cmd)


def plan_table(plan):
    """The table a plan reads: "id=3 parent=0 notused=0 detail=SEARCH videos_f10c81cd USING
    INDEX ..." -> videos_f10c81cd (not json_each, which looks into one row's array, nor a
    subquery)."""
    for row in plan:
        words = row.split("detail=", 1)[-1].split()
        if len(words) > 1 and words[0] in ("SEARCH", "SCAN") and words[1] != "json_each" \
                and not words[1].startswith("("):
            return words[1]
    return "?"


def assert_index_search(db, coll, f, index, sort=None, limit=21, sorted_=True, pushdown=True):
    """The server's plan for f (and sort) searches index and neither scans nor sorts. index:
    comma-separated names that must all be searched, each one "a|b" when either will do.
    sorted_=False: the sort may be done in memory; pushdown=False: part of the filter (a keyset
    range on a number) is checked after the read. Returns the query planner's answer."""
    res = explain(db, coll, f, sort, limit)
    qp = res["queryPlanner"]
    plan = qp.get("Plan", [])
    what = f"{coll} {f} sort {sort}: {jsonlib.dumps(qp, default=str)}"
    assert plan, what
    table = plan_table(plan)
    for alternatives in index.split(","):
        used = [re.compile(rf"USING INDEX {re.escape(table)}_{re.escape(ix)}(\s|$)")
                for ix in alternatives.split("|")]
        assert any(u.search(row) for row in plan for u in used), what
    assert not any(f"detail=SCAN {table}" in row for row in plan), what
    if sorted_:
        assert not any("TEMP B-TREE" in row for row in plan), what
    if sort and sorted_:
        assert qp.get("FieldSorted", 0) >= 1, what
        assert res.get("sortPushdown") is True, what
    if pushdown:
        assert res.get("filterPushdown") is True, what
    return qp
