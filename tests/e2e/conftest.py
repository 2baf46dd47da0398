"""Shared pieces of the end-to-end tests: black-box over HTTP against a running stack.

tools/e2e starts a private stack and runs pytest with these variables set:

  STREMORA_BASE_URL      http://127.0.0.1:<port> of the stack's nginx
  STREMORA_MONGODB_URI   the database the app uses (pymongo takes the percent-encoded socket path)
  STREMORA_DB_NAME       the app's database name ("stremora")
  STREMORA_VAR           the stack's var folder (run/*.pid, keys.json)
  STREMORA_STACK         tools/stack (db-stop / db-start, with STREMORA_VAR passed through)
  STREMORA_CTL           build/stremoractl
  STREMORA_REFRESH_GRACE seconds of the refresh-token grace of that stack

Run by hand against a dev stack (`STREMORA_VAR=var/e2e-dev STREMORA_PORT=18090 tools/stack start`)
with STREMORA_VAR and STREMORA_PORT set the same way; the rest default from them.

Every test makes its own users (`user`, `make_user`): no test depends on another's state or order.
Every response that goes through `api` is audited: no body may carry a password or token hash,
a hash prefix, a stack trace, or the email of a user other than the one making the request.
"""

import base64
import functools
import hashlib
import hmac
import json as jsonlib
import os
import re
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
REFRESH_GRACE = float(os.environ.get("STREMORA_REFRESH_GRACE", "2"))

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


def _resolve(spec, obj):
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
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict):
        return None
    found = []
    code = _resolve(spec, schema.get("properties", {}).get("code"))
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
    response = _resolve(spec, response)
    content = (response or {}).get("content", {})
    media = content.get("application/problem+json")
    if not media:
        return set()
    return _codes_in_schema(spec, media.get("schema", {})) or set()


def documented_codes(method, path, status):
    """Codes docs/openapi.yaml lists for this method, path and status."""
    spec = openapi_spec()
    item = spec.get("paths", {}).get(path)
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
    return {
        "username": ident["username"],
        "email": ident["email"].lower(),
        "password": ident["password"],
        "access": doc["accessToken"],
        "refresh": doc["refreshToken"],
        "id": doc["user"]["id"],
        "user": doc["user"],
    }


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


USER_KEYS = {"id", "username", "email", "displayName", "role", "createdAt"}


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
