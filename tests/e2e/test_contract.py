"""docs/openapi.yaml is the whole contract: a client that keeps to its schemas is never refused,
and what breaks them is refused with a status and problem code the spec lists.

A small generator of our own (no dependency; a fixed seed, so every run sends the same values)
walks the spec and, for every operation:

(a) builds valid requests from its schemas in three shapes: `typical` (some optional members,
    short values), `min` (required members only, the shortest values, no optional token) and
    `max` (every member, the longest values, mostly in three- and four-byte characters, the
    last enum value). The answer must be a success status the spec documents for the
    operation, with the documented headers that are `required`, and a body that matches the
    documented schema;
(b) builds invalid requests from the same schemas, each breaking one constraint of one member
    of the body, the query or the path (below `minLength`, above `maxLength` or a byte limit,
    the wrong type, `null`, a character the `pattern` refuses, a value outside the `enum` or
    inside a `not`, too many items, an unknown member, a missing required one), plus a body
    that is not JSON, another media type, and a missing or bad token. Headers the same way:
    a required one left out, a value its schema refuses (a pattern, an enum or const, an
    integer's bounds), and for `Upload-Metadata` each member of its decoded pairs
    (`x-stremora-pairs`) as for a body. The answer must be a 4xx problem whose code the spec
    lists for that operation and status (`assert_problem`); a 422 `validation_failed` must
    name the member. A `HEAD` answer has no body: its status, media type and headers are
    checked.

Values the schemas cannot make up come from fixtures: fresh users and their tokens, videos,
cursors, media links, resumable uploads and the bytes sent to them (a binary body: the
module's clip, whole or its first bytes, with `Upload-Checksum` made from them), and for the
community (issue 19) channels, comments and replies, posts, playlists and their items, the
subscriptions, likes and items that make a second page (for a cursor), and images (PNGs
ffmpeg makes at test time); usernames and emails carry a uuid, as the fixtures' do, so that
runs do not collide. What the tus
headers and the bytes mean together (an offset, a length, a checksum, bytes that are no
video) no single schema says: those refusals are made by hand (`upload_variants`). What
cannot be tested black-box is left out where it would go, with the reason.

(c) what only stremora-worker makes: a video followed through processing to `ready` and one
    to `failed` (every answer on the way, its playback links and the ready video's media
    against their schemas), and the spec's `webhooks` section against the deliveries a
    receiver on loopback gets (body, headers, signature) and the attempts the API records.
"""

import base64
import functools
import hashlib
import hmac
import http.server
import json
import random
import re
import threading
import time
import types
import urllib.parse
import uuid

import pytest
import requests

from conftest import (
    CONTAINERS,
    REPO,
    VIDEOS,
    _ffmpeg,
    _path_item,
    assert_problem,
    create_user,
    describe,
    get_playback,
    login,
    media_type,
    multipart_bytes,
    new_boundary,
    openapi_spec,
    resolve_ref,
    problem_codes,
    raw_request,
    upload,
    video_parts,
    wait_until,
)

try:  # Python 3.11 and later
    from re import _constants as sre_c
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as sre_c
    import sre_parse

SEED = 20240611
HOOKS = "/api/v1/webhooks"
UPLOADS = "/api/v1/uploads"
USERS_ME = "/api/v1/users/me"
CHANNELS = "/api/v1/channels"
FEED = "/api/v1/feed"
COMMENTS = "/api/v1/comments"
POSTS = "/api/v1/posts"
PLAYLISTS = "/api/v1/playlists"
# Where the module's one webhook that gets events delivers: the discard port on loopback,
# where nothing normally listens. Each attempt fails at once (and is retried); nothing is
# ever sent off this machine.
HOOK_SINK = "http://127.0.0.1:9/stremora-contract"
REPEATS = tuple(getattr(sre_c, n) for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
                if hasattr(sre_c, n))
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
MODES = ("min", "typical", "max")

# Characters the generator draws from, by their length in UTF-8. Some are unusual but allowed
# everywhere text is (no-break space, a combining accent, line separator, replacement
# character, private use): the server must take what the patterns let through. Some are
# refused in most places (NUL, C0, DEL, C1, format characters): a value may hold them only
# where its schema lets it, so a schema that forgets a rule the server keeps fails here.
POOL = {
    1: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.!#$%&'*+/=?^`{|}~()<>;:@\"\\"
       "\x00\x01\x1b\x7f\t\n\r",
    2: "éüßñçøåΩжאب\u00a0\u0301\x85\x9b\u00ad",
    3: "€中文字日本語한\u2028\ufffd\ue000\u202e\u200b\ufeff",
    4: "😀🎬𝄞𠀋🙂🦉\U000e0001",
}
# How often each width is drawn: `max` leans on four-byte characters, to reach byte limits.
WEIGHTS = {"min": (6, 2, 1, 1), "typical": (6, 2, 1, 1), "max": (1, 1, 2, 6)}
# Characters tried to break a pattern, in this order: NUL (refused in every string), C0, DEL,
# C1, format characters, then characters some patterns refuse (uppercase in a username, a
# space in a token, a comma in a tag, a line break in a title).
BREAKERS = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9b", "\u202e", "\u200b", "\ufeff",
            "\U000e0001", "\t", "\n", "\r", "A", " ", ",", "@", "/", "é"]


# ---------------------------------------------------------------------------------------------
# The spec


def deref(obj):
    return resolve_ref(openapi_spec(), obj)


@functools.lru_cache(maxsize=1)
def operations():
    """{operationId: (method, path template, operation, parameters by (in, name))}."""
    out = {}
    for path, item in openapi_spec()["paths"].items():
        shared = [deref(p) for p in item.get("parameters", [])]
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            params = {(p["in"], p["name"]): p for p in shared}
            params.update({(p["in"], p["name"]): p for p in map(deref, op.get("parameters", []))})
            out[op["operationId"]] = (method.upper(), path, op, params)
    return out


def request_body(op):
    """(media type, schema, encoding) of the operation's request body, or (None, None, {}).
    Where the body may come in several media types of one schema (an image), the first is
    the one a request is sent with."""
    body = deref(op.get("requestBody"))
    if not body:
        return None, None, {}
    (mt, media), *others = body["content"].items()
    assert all(m["schema"] == media["schema"] for _, m in others), \
        f"{op['operationId']}: media types of different schemas"
    return mt, media["schema"], media.get("encoding", {})


def request_media_types(op):
    """Every media type the operation's request body may come in."""
    return list(deref(op.get("requestBody", {})).get("content", {}))


def anonymous_allowed(op):
    return any(req == {} for req in op.get("security", [{}]))


def bearer_allowed(op):
    return any("bearer" in req for req in op.get("security", []))


_U_BRACE = re.compile(r"\\u\{([0-9A-Fa-f]{1,6})\}")


@functools.lru_cache(maxsize=None)
def py_regex(pattern):
    """A spec pattern (ECMA-262 with the u flag, as JSON Schema 2020-12 reads it) as a Python
    regex: a final $ must not match before a newline, and a \\u{X} escape, should one come
    back, is written \\UXXXXXXXX (the spec writes such characters as themselves)."""
    p = _U_BRACE.sub(lambda m: "\\U%08X" % int(m.group(1), 16), pattern)
    if p.endswith("$") and not p.endswith("\\$"):
        p = p[:-1] + r"\Z"
    return re.compile(p)


def flat(schema):
    """The constraints of schema and of all it reaches through $ref and allOf, in one dict."""
    out = {"patterns": [], "nots": [], "properties": {}, "required": []}

    def merge(s):
        s = deref(s)
        for sub in s.get("allOf", []):
            merge(sub)
        for k, v in s.items():
            if k in ("allOf", "description", "$ref", "examples", "default"):
                continue
            if k == "pattern":
                out["patterns"].append(v)
            elif k == "not":
                out["nots"].append(v)
            elif k == "properties":
                out["properties"].update(v)
            elif k == "required":
                out["required"] += [r for r in v if r not in out["required"]]
            elif k in ("minLength", "minItems", "minimum"):
                out[k] = max(out.get(k, v), v)
            elif k in ("maxLength", "maxItems", "maximum", "x-stremora-max-bytes"):
                out[k] = min(out.get(k, v), v)
            else:
                out[k] = v

    merge(schema)
    return out


# ---------------------------------------------------------------------------------------------
# A validator for the JSON Schema keywords the spec uses


def _is_type(value, t, schema):
    if t == "string":
        return isinstance(value, str) or (isinstance(value, bytes) and schema.get("format") == "binary")
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return {"boolean": bool, "array": list, "object": dict, "null": type(None)}[t] is type(value)


DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")


def problems(schema, value, at="$"):
    """What is wrong with value under schema; [] when it is valid."""
    s = deref(schema)
    errs = []
    for sub in s.get("allOf", []):
        errs += problems(sub, value, at)
    if "anyOf" in s and all(problems(x, value, at) for x in s["anyOf"]):
        errs.append(f"{at}: matches none of anyOf")
    if "oneOf" in s and sum(not problems(x, value, at) for x in s["oneOf"]) != 1:
        errs.append(f"{at}: does not match exactly one of oneOf")
    if "not" in s and not problems(s["not"], value, at):
        errs.append(f"{at}: matches its `not`")
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(_is_type(value, t, s) for t in types):
            return errs + [f"{at}: {value!r:.80} is not of type {s['type']}"]
    if "const" in s and value != s["const"]:
        errs.append(f"{at}: {value!r:.80} is not {s['const']!r}")
    if "enum" in s and value not in s["enum"]:
        errs.append(f"{at}: {value!r:.80} is not one of {s['enum']}")
    limit = s.get("x-stremora-max-bytes")
    if isinstance(value, str):
        if len(value) < s.get("minLength", 0) or len(value) > s.get("maxLength", len(value)):
            errs.append(f"{at}: {len(value)} characters")
        if "pattern" in s and not py_regex(s["pattern"]).search(value):
            errs.append(f"{at}: {value!r:.80} does not match {s['pattern'][:60]!r}")
        if s.get("format") == "date-time" and not DATE_TIME.match(value):
            errs.append(f"{at}: {value!r} is not a date-time")
        if limit is not None and len(value.encode()) > limit:
            errs.append(f"{at}: over {limit} bytes")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < s.get("minimum", value) or value > s.get("maximum", value):
            errs.append(f"{at}: {value} out of range")
    if isinstance(value, list):
        if len(value) < s.get("minItems", 0) or len(value) > s.get("maxItems", len(value)):
            errs.append(f"{at}: {len(value)} items")
        if s.get("uniqueItems") and len({json.dumps(v) for v in value}) != len(value):
            errs.append(f"{at}: items repeat")
        if limit is not None and len(",".join(value).encode()) > limit:
            errs.append(f"{at}: over {limit} bytes joined")
        for i, v in enumerate(value):
            errs += problems(s.get("items", {}), v, f"{at}[{i}]")
    if isinstance(value, dict):
        props = s.get("properties", {})
        for name in s.get("required", []):
            if name not in value:
                errs.append(f"{at}: {name} is missing")
        for name, needs in s.get("dependentRequired", {}).items():
            if name in value:
                errs += [f"{at}: {n} is missing beside {name}" for n in needs if n not in value]
        for name, v in value.items():
            if name in props:
                errs += problems(props[name], v, f"{at}.{name}")
            elif s.get("additionalProperties") is False:
                errs.append(f"{at}: {name} is not a member")
    return errs


# ---------------------------------------------------------------------------------------------
# The generator


def _in_class(items, cp):
    negate, hit = False, False
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            hit |= cp == av
        elif op is sre_c.RANGE:
            hit |= av[0] <= cp <= av[1]
        elif op is sre_c.CATEGORY:
            ch = chr(cp)
            hit |= {sre_c.CATEGORY_DIGIT: ch.isdigit(), sre_c.CATEGORY_WORD: ch.isalnum() or ch == "_",
                    sre_c.CATEGORY_SPACE: ch.isspace()}.get(av, False)
    return hit != negate


class Gen:
    """Values for schemas. `mode` picks lengths (shortest, some, longest) and how often
    multi-byte characters come; every value is checked against its schema before use."""

    def __init__(self, rng, mode):
        self.rng, self.mode = rng, mode

    def char(self, accept=lambda c: True):
        widths = self.rng.choices((1, 2, 3, 4), weights=WEIGHTS[self.mode], k=4)
        for w in widths + [1, 2, 3, 4]:
            cands = [c for c in POOL[w] if accept(c)]
            if cands:
                return self.rng.choice(cands)
        return None

    # Strings from a regex: the parse tree of Python's own parser, filled to a target length.
    def _minlen(self, seq):
        n = 0
        for op, av in seq:
            if op in (sre_c.LITERAL, sre_c.NOT_LITERAL, sre_c.IN, sre_c.ANY):
                n += 1
            elif op in REPEATS:
                n += av[0] * self._minlen(av[2])
            elif op is sre_c.SUBPATTERN:
                n += self._minlen(av[3])
            elif op is sre_c.BRANCH:
                n += min(self._minlen(alt) for alt in av[1])
        return n

    def _seq(self, seq, budget):
        seq, out = list(seq), []
        mins = [self._minlen([item]) for item in seq]
        for i, item in enumerate(seq):
            used = sum(len(x) for x in out)
            out.append(self._item(item, max(mins[i], budget - used - sum(mins[i + 1:]))))
        return "".join(out)

    def _item(self, item, budget):
        op, av = item
        if op is sre_c.LITERAL:
            return chr(av)
        if op is sre_c.NOT_LITERAL:
            return self.char(lambda c: ord(c) != av)
        if op is sre_c.ANY:
            return self.char(lambda c: c != "\n")
        if op is sre_c.IN:
            c = self.char(lambda c: _in_class(av, ord(c)))
            if c is None:  # a class the pool misses: take a code point from its ranges
                ranges = [a if o is sre_c.RANGE else (a, a)
                          for o, a in av if o in (sre_c.RANGE, sre_c.LITERAL)]
                lo, hi = self.rng.choice(ranges)
                c = chr(self.rng.randint(lo, hi))
            return c
        if op in REPEATS:
            lo, hi, sub = av
            each = max(1, self._minlen(sub))
            count = max(lo, min(hi, budget // each))
            if count == 0:
                return ""
            return "".join(self._seq(sub, max(each, budget // count)) for _ in range(count))
        if op is sre_c.SUBPATTERN:
            return self._seq(av[3], budget)
        if op is sre_c.BRANCH:
            fits = [alt for alt in av[1] if self._minlen(alt) <= budget] or av[1]
            return self._seq(self.rng.choice(fits), budget)
        return ""  # anchors

    def from_pattern(self, pattern, length):
        return self._seq(sre_parse.parse(py_regex(pattern).pattern), length)

    def email(self, length, uniq=""):
        """A valid address of exactly length characters (6-254) starting with uniq."""
        local_len = min(64, length - 5)
        local = (uniq + "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789+_")
                                for _ in range(local_len)))[:local_len]
        if local_len >= 3:  # a dot-atom with a dot inside
            local = local[:local_len - 2] + "." + local[-1]
        rest = length - local_len - 1
        tld_len = 4 if rest >= 6 else 2
        rest -= tld_len + 1
        labels = []
        while rest > 63:
            k = min(63, rest - 2)
            labels.append(k)
            rest -= k + 1
        labels.append(rest)
        alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
        domain = ".".join("".join(self.rng.choice(alnum) for _ in range(k)) for k in labels)
        return f"{local}@{domain}.{'test'[:tld_len] if tld_len == 4 else 'io'}"

    def _length(self, lo, hi):
        if self.mode == "min":
            return lo
        if self.mode == "max":
            return hi
        return self.rng.randint(max(lo, min(1, hi)), min(hi, lo + 24))

    def value(self, schema):
        f = flat(schema)
        for attempt in range(60):
            v = self._value(f)
            if not problems(schema, v):
                return v
        raise AssertionError(f"the generator cannot make a {self.mode} value for {f}: "
                             f"{problems(schema, v)}")

    def _value(self, f):
        t = f.get("type")
        if "const" in f:
            return f["const"]
        if "enum" in f:
            e = f["enum"]
            return e[0] if self.mode == "min" else e[-1] if self.mode == "max" else self.rng.choice(e)
        if t == "boolean":  # commentsEnabled
            return self.mode != "max" if self.mode != "typical" else self.rng.choice([True, False])
        if t == "integer":
            lo, hi = f.get("minimum", 0), f.get("maximum", 1000)
            return lo if self.mode == "min" else hi if self.mode == "max" else self.rng.randint(lo, hi)
        if t == "array":
            n = self._length(f.get("minItems", 0), f.get("maxItems", 4))
            choices = flat(f["items"]).get("enum")
            if f.get("uniqueItems") and choices:
                # Distinct values of the enum, in the mode's order (webhook events).
                n = min(n, len(choices))
                return (choices[:n] if self.mode == "min" else choices[-n:] if self.mode == "max"
                        else self.rng.sample(choices, n))
            items = [self.value(f["items"]) for _ in range(n)]
            return self._fit_bytes(items, f)
        if t == "object":
            return {k: self.value(v) for k, v in f["properties"].items() if k in f["required"]}
        if f.get("format") == "binary":
            return b"\x00" * 16
        lo, hi = f.get("minLength", 0), f.get("maxLength", 40)
        if f.get("format") == "email":
            return self.email(self._length(max(lo, 6), hi))
        n = self._length(lo, hi)
        if f["patterns"]:
            s = self.from_pattern(f["patterns"][0], n)
        else:
            s = "".join(self.char() for _ in range(n))
        return self._fit_bytes(s, f)

    def _fit_bytes(self, v, f):
        """Shortens v (the longest item of a list first) to x-stremora-max-bytes."""
        limit = f.get("x-stremora-max-bytes")
        if limit is None:
            return v

        def size(x):
            return len((",".join(x) if isinstance(x, list) else x).encode())

        while size(v) > limit:
            if isinstance(v, list):
                i = max(range(len(v)), key=lambda j: len(v[j].encode()))
                v = v[:i] + [v[i][:-1]] + v[i + 1:]
            else:
                v = v[:-1]
        return v


# ---------------------------------------------------------------------------------------------
# Requests


class Call:
    """One request: the operation, its parameters and body, and who makes it."""

    def __init__(self, op_id, *, path=None, query=None, body=None, token=None, cookie=None,
                 headers=None, utf8=False, raw=None, content_type=None, has_body=True,
                 pairs=None):
        self.op_id = op_id
        self.path = dict(path or {})
        self.query = dict(query or {})
        self.body = body
        self.token, self.cookie = token, cookie
        # Header values; a callable gives the value from the call as sent (a checksum of its
        # body), or None for no header.
        self.headers = dict(headers or {})
        self.utf8 = utf8  # JSON with UTF-8 as is, not \\u escapes
        self.raw = raw  # bytes sent as the body instead of the encoded one
        self.content_type = content_type
        self.has_body = has_body
        # Headers of decoded pairs (x-stremora-pairs: Upload-Metadata), encoded when sent.
        self.pairs = _copy(pairs or {})

    def copy(self, **changes):
        c = Call(self.op_id, path=self.path, query=self.query, body=_copy(self.body),
                 token=self.token, cookie=self.cookie, headers=self.headers, utf8=self.utf8,
                 raw=self.raw, content_type=self.content_type, has_body=self.has_body,
                 pairs=self.pairs)
        c.__dict__.update(changes)
        return c

    def target(self):
        method, tmpl, op, params = operations()[self.op_id]
        path = tmpl
        for name, value in self.path.items():
            safe = "/" if name == "path" else ""
            path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=safe))
        if self.query:
            path += "?" + urllib.parse.urlencode(self.query)
        return method, path

    def send(self, api):
        method, target = self.target()
        _, _, op, _ = operations()[self.op_id]
        mt, _, encoding = request_body(op)
        headers = {}
        for name, value in self.headers.items():
            value = value(self) if callable(value) else value
            if value is not None:
                headers[name] = value
        for name, pairs in self.pairs.items():
            headers[name] = tus_metadata(pairs)
        data = None
        if self.has_body and mt == "application/json" and (self.body is not None or self.raw is not None):
            data = self.raw
            if data is None:
                data = json.dumps(self.body, ensure_ascii=not self.utf8).encode()
            headers["Content-Type"] = self.content_type or "application/json"
        elif mt is None and self.raw is not None:
            data = self.raw
            headers["Content-Type"] = self.content_type or "application/json"
        elif self.has_body and mt == "multipart/form-data":
            boundary = new_boundary()
            data = self.raw
            if data is None:
                data = multipart_bytes(_parts(self.body, encoding), boundary)
            headers["Content-Type"] = self.content_type or f"multipart/form-data; boundary={boundary}"
        elif self.has_body and mt is not None and self.raw is not None:
            data = self.raw  # bytes (application/offset+octet-stream)
            headers["Content-Type"] = self.content_type or mt
        if method == "GET" and self.op_id == "media_get":
            # As sent: the odd paths of the invalid variants must not be normalised on the way.
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            return raw_request(api, method, target, headers=headers)
        return api.request(method, target, data=data, token=self.token, cookie=self.cookie,
                           headers=headers, timeout=30)


def _copy(v):
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


def tus_metadata(pairs):
    """The Upload-Metadata value of decoded pairs, in their order: `key base64` (standard,
    padded, of the value's UTF-8; a list joined with commas), a key alone for an empty
    value."""
    out = []
    for key, value in pairs.items():
        value = ",".join(value) if isinstance(value, list) else value
        out.append(f"{key} {base64.b64encode(value.encode()).decode()}" if value else key)
    return ",".join(out)


def fit_pairs(pairs, schema, limit, keep=None):
    """pairs (changed in place) until their header is at most limit bytes: the member with
    the most bytes but keep is cut, among those a shorter value keeps valid (text without a
    minimum length: a description, a file name)."""
    props = flat(schema)["properties"]
    while limit is not None and len(tus_metadata(pairs)) > limit:
        cuttable = [k for k, v in pairs.items() if k != keep and isinstance(v, str) and v
                    and not flat(props.get(k, {})).get("minLength")]
        if not cuttable:
            break
        k = max(cuttable, key=lambda n: len(pairs[n].encode()))
        over = len(tus_metadata(pairs)) - limit
        pairs[k] = pairs[k][:-max(1, over * 3 // 16)]  # base64: 4 characters for 3 bytes
    return pairs


def _parts(body, encoding):
    """Multipart parts of a body, per the spec's encoding: an array joins with commas as one
    part (style form, explode false) or is one part per item."""
    parts = []
    for name, value in body.items():
        if isinstance(value, bytes):
            parts.append((name, value, "clip.mp4", "video/mp4"))
        elif isinstance(value, list):
            if encoding.get(name, {}).get("explode", True) is False:
                parts.append((name, ",".join(value)))
            else:
                parts += [(name, v) for v in value]
        else:
            parts.append((name, str(value)))
    return parts


# ---------------------------------------------------------------------------------------------
# What the schemas cannot make up: fixtures per operation


class Env:
    """Fixtures for one operation's requests: users, videos, and the values they give. Users
    cost two password hashes each, so those whose password and email stay as they are are
    made once for the module (`shared`); the operations that change them get their own."""

    def __init__(self, api, make_user, make_video, shared, gen=None):
        self.api, self.make_user, self.make_video, self.gen = api, make_user, make_video, gen
        self.shared = shared
        self.made = []  # (token, video id) of the uploads to delete when the test ends

    def send(self, call):
        """call's answer; a video it uploaded is deleted at the test's end (see env), one
        that a resumable upload became (Stremora-Video-Id) too."""
        resp = call.send(self.api)
        if call.op_id == "videos_create" and resp.status_code == 201:
            self.made.append((call.token, resp.json()["id"]))
        if resp.headers.get("Stremora-Video-Id") and call.token:
            self.made.append((call.token, resp.headers["Stremora-Video-Id"]))
        return resp

    def username(self, mode):
        # Unique across runs, so never shorter than 12 (3 characters would not stay unique).
        return ("c" + uuid.uuid4().hex)[: {"max": 30, "min": 12}.get(mode, 20)]

    def email(self, mode):
        n = {"min": 28, "max": 254}.get(mode, 40)
        return self.gen.email(n, uniq=uuid.uuid4().hex[:20])

    def password(self, mode):
        """A new password cracklib takes (a schema cannot say which: see NewPassword). `max`
        is 128 characters of 511 bytes, the most both limits allow: four-byte characters
        and one of three bytes, none of them ASCII (cracklib would look up the ASCII ones)."""
        rng = self.gen.rng
        if mode == "max":
            pw = "".join(rng.choice(POOL[4]) for _ in range(127)) + "€"
        else:
            ascii_ = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&*+=?"
            pw = "".join(rng.choice(ascii_) for _ in range(8 if mode == "min" else 16))
        register = request_body(operations()["auth_register"][2])[1]
        assert not problems(flat(register)["properties"]["password"], pw), pw
        return pw

    def user(self, mode, own=False):
        """A signed-in user; in `max` mode with the longest password and email. Shared by the
        module's tests unless own."""
        key = "max" if mode == "max" else "user"
        if own or key not in self.shared:
            u = self.make_user() if key == "user" else \
                self.make_user(password=self.password("max"), email=self.email("max"))
            if own:
                return u
            self.shared[key] = u
        return self.shared[key]

    def session(self, u=None):
        """A new session of u (the shared user by default): {access, refresh}."""
        u = u or self.user("typical")
        r = login(self.api, u["username"], u["password"])
        assert r.status_code == 200, describe(r)
        return {"access": r.json()["accessToken"], "refresh": r.json()["refreshToken"]}

    def other_user(self):
        """A signed-in user who owns none of the fixtures (the module's)."""
        if "other" not in self.shared:
            self.shared["other"] = self.make_user()
        return self.shared["other"]

    def new_upload(self, owner, first=b""):
        """The id of a new open resumable upload of owner, for the module's clip, holding
        first (its first bytes)."""
        headers = {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(self.clip_bytes)),
                   "Upload-Metadata": tus_metadata({"title": "Contract upload"})}
        if first:
            headers["Content-Type"] = "application/offset+octet-stream"
        r = self.api.post(UPLOADS, data=first or None, token=owner["access"], headers=headers)
        assert r.status_code == 201, describe(r)
        return r.headers["Location"].rsplit("/", 1)[-1]

    # Webhooks. A delivery goes to whatever URL a webhook has, so the generator's URLs (any
    # host their schema allows) are registered only for `hooks`, a user who never uploads:
    # no event ever reaches them. The one webhook that gets events, `delivered`, points at
    # HOOK_SINK. The module's webhooks are deleted at its end (shared_users), which also
    # ends the retries of their deliveries.

    def hooks_user(self):
        if "hooks" not in self.shared:
            self.shared["hooks"] = self.make_user()
        return self.shared["hooks"]

    def create_hook(self, owner, url=None, events=("video.ready",)):
        r = self.api.post(HOOKS, token=owner["access"],
                          json={"url": url or HOOK_SINK, "events": list(events)})
        assert r.status_code == 201, describe(r)
        return r.json()

    def start_deliveries(self):
        """Starts, once for the module and at its first test, what webhooks_deliveries needs:
        a user of its own with a webhook to HOOK_SINK, and a video of theirs uploaded and
        deleted at once, whose video.deleted is then delivered (no transcode needed). Events
        and deliveries wait in stremora-worker's queue behind whatever is there, so they
        start early."""
        if "delivered" not in self.shared:
            owner = self.make_user()
            hook = self.create_hook(owner, HOOK_SINK, ["video.deleted"])
            self.shared["delivered"] = (owner, hook)
            self.shared.setdefault("hook_owners", []).append(owner)
            v = self.make_video(owner)
            r = self.api.delete(f"{VIDEOS}/{v['id']}", token=owner["access"])
            assert r.status_code == 204, describe(r)
        return self.shared["delivered"]

    def delivered_hook(self):
        """(owner, webhook) with at least two delivery attempts (each fails at once, so the
        first is retried), for a page and a cursor."""
        owner, hook = self.start_deliveries()

        def attempts():
            r = self.api.get(f"{HOOKS}/{hook['id']}/deliveries", token=owner["access"])
            assert r.status_code == 200, describe(r)
            return len(r.json()["items"]) >= 2
        wait_until(attempts, 120, "two delivery attempts to the webhook", interval=0.25)
        return owner, hook

    # Issue 19's community: channels, ratings, comments, posts and playlists. Most belong to
    # the shared user (`typical`); `channel` is a user others follow, and whose videos make
    # the feed. Videos are the test's (deleted at its end); the rest stays for the module.

    def channel_user(self):
        if "channel" not in self.shared:
            self.shared["channel"] = self.make_user()
        return self.shared["channel"]

    def call(self, method, path, token, body=None, expect=(200, 201, 204)):
        """An answer of the fixtures' own making, checked; its JSON (None for none)."""
        kw = {} if body is None else {"json": body}
        r = self.api.request(method, path, token=token, **kw)
        assert r.status_code in expect, describe(r)
        return r.json() if r.content else None

    def cursor(self, path, token=None, **query):
        """The nextCursor of a first page of one item (the list must hold two at least)."""
        query = {"limit": "1", **query}
        r = self.api.get(f"{path}?{urllib.parse.urlencode(query)}", token=token)
        assert r.status_code == 200 and r.json()["nextCursor"], describe(r)
        return r.json()["nextCursor"]

    def subscribe(self, who, channel):
        self.call("PUT", f"{CHANNELS}/{channel['username']}/subscription", who["access"])

    def comment(self, who, target, parent=None):
        """A new comment of who on target (`videos/<id>` or `posts/<id>`)."""
        body = {"body": "A contract comment", **({"parentId": parent} if parent else {})}
        return self.call("POST", f"/api/v1/{target}/comments", who["access"], body)

    def post(self, who):
        return self.call("POST", POSTS, who["access"], {"body": "A contract post"})

    def playlist(self, who, visibility="public"):
        return self.call("POST", PLAYLISTS, who["access"],
                         {"title": "Contract playlist", "visibility": visibility})

    def add_item(self, who, playlist, video):
        self.call("POST", f"{PLAYLISTS}/{playlist['id']}/items", who["access"],
                  {"videoId": video["id"]})


class Setup:
    """The fixtures' values for an operation: path parameters, member values that must be
    real (tokens, passwords, unique names), the caller, and how to freshen a variant."""

    def __init__(self, path=None, members=None, query=None, token=None, cookie=None,
                 fresh=None, other_token=None, no_body=False, headers=None, raw=None,
                 renew=None, length=None, content_type=None):
        self.path = path or {}
        self.members = members or {}  # body member -> value, or a callable giving a fresh one
        self.query = query or {}
        self.token, self.cookie = token, cookie
        self.fresh = fresh or ()  # members made anew for every request (unique names)
        self.other_token = other_token  # a signed-in user who is not the owner
        self.no_body = no_body
        self.headers = headers or {}  # header -> value, or a callable of the call (Call)
        self.raw = raw  # the bytes of a binary body (None: no body)
        self.renew = renew  # a fresh path for each variant sent, for a state it may end
        self.length = length  # bytes of the file an upload announced (Upload-Length)
        self.content_type = content_type  # of a binary body, when not the spec's first


def _media_parts(link):
    _, _, tok, vid, path = link.split("/", 4)
    return {"token": tok, "id": vid, "path": path}


def _checksum(algo, call):
    """Upload-Checksum of call's body as sent (None without one)."""
    if not call.has_body or call.raw is None:
        return None
    return f"{algo} {base64.b64encode(hashlib.new(algo, call.raw).digest()).decode()}"


def _upload_setup(op_id, env, owner, mode):
    """The resumable uploads' fixtures. The bytes a request carries: none (POST) or an
    empty body (PATCH) in `min`, the clip's first 4 KiB in `typical`, the whole clip in
    `max`, which completes the upload and makes a video; beside them their checksum (sha1
    in `typical`, sha256 in `max`). HEAD and DELETE get an upload of the owner holding its
    first bytes; PATCH a fresh one for every request, since a refused PATCH may remove it
    (bytes that are no video)."""
    clip = env.clip_bytes
    headers = {}
    if mode != "min":
        headers["Upload-Checksum"] = functools.partial(
            _checksum, "sha1" if mode == "typical" else "sha256")
    raw = {"typical": clip[:4096], "max": clip}.get(mode, None if op_id == "uploads_create" else b"")
    if op_id == "uploads_create":
        headers["Upload-Length"] = str(len(clip))
        return Setup(token=owner["access"], headers=headers, raw=raw, length=len(clip))
    other = env.other_user()["access"]
    if op_id == "uploads_patch":
        headers["Upload-Offset"] = "0"

        def fresh():
            return {"id": env.new_upload(owner)}
        return Setup(path=fresh(), token=owner["access"], other_token=other, headers=headers,
                     raw=raw, renew=fresh, length=len(clip))
    return Setup(path={"id": env.new_upload(owner, clip[:1024])}, token=owner["access"],
                 other_token=other, length=len(clip))


def _community_setup(op_id, env, u, mode):
    """The fixtures of issue 19's operations (channels, ratings, comments, posts,
    playlists, images), or None for another operation. `u` is the shared user, who owns
    what the operations act on; `other` may see it but owns none of it."""
    other = env.other_user()
    opt = None if mode == "min" else u["access"]  # an optional token
    if op_id.startswith("images_"):
        # The images user's own: the operations change the user's links.
        if "images" not in env.shared:
            env.shared["images"] = env.make_user()
        me = env.shared["images"]
        if op_id.endswith("_put"):
            return Setup(token=me["access"], raw=env.images[mode], content_type="image/png")
        return Setup(token=me["access"])
    if op_id == "channels_get":
        return Setup(path={"username": u["username"]}, token=opt)
    # A cursor belongs to its sort: each mode pages one (`min` the default).
    sort = {} if mode == "min" else {"sort": "popular" if mode == "typical" else "oldest"}
    if op_id == "channels_videos":
        for _ in range(2):
            env.make_video(u)
        cursor = env.cursor(f"{CHANNELS}/{u['username']}/videos", opt, **sort)
        return Setup(path={"username": u["username"]}, token=opt, query={**sort, "cursor": cursor})
    if op_id in ("channels_subscribe", "channels_unsubscribe"):
        # Made by the channel itself, the request is refused (cannot_subscribe_to_self).
        ch = env.channel_user()
        return Setup(path={"username": ch["username"]}, token=u["access"],
                     other_token=ch["access"])
    if op_id == "channels_subscriptions":
        for ch in (env.channel_user(), other):
            env.subscribe(u, ch)
        return Setup(token=u["access"],
                     query={"cursor": env.cursor(f"{USERS_ME}/subscriptions", u["access"])})
    if op_id == "channels_feed":
        ch = env.channel_user()
        env.subscribe(u, ch)
        for _ in range(2):
            env.make_video(ch)
        return Setup(token=u["access"], query={"cursor": env.cursor(FEED, u["access"])})
    if op_id == "ratings_likes":
        for _ in range(2):
            v = env.make_video(other)
            env.call("PUT", f"{VIDEOS}/{v['id']}/rating", u["access"], {"rating": "like"})
        return Setup(token=u["access"],
                     query={"cursor": env.cursor(f"{USERS_ME}/likes", u["access"])})
    if op_id == "posts_create":
        return Setup(token=u["access"])
    if op_id == "posts_list_channel":
        for _ in range(2):
            env.post(u)
        return Setup(path={"username": u["username"]}, token=opt,
                     query={"cursor": env.cursor(f"{CHANNELS}/{u['username']}/posts", opt)})
    if op_id == "playlists_create":
        return Setup(token=u["access"])
    if op_id in ("playlists_list_mine", "playlists_list_channel"):
        for _ in range(2):
            env.playlist(u)
        if op_id == "playlists_list_mine":
            return Setup(token=u["access"],
                         query={"cursor": env.cursor(f"{USERS_ME}/playlists", u["access"])})
        where = f"{CHANNELS}/{u['username']}/playlists"
        return Setup(path={"username": u["username"]}, token=opt,
                     query={"cursor": env.cursor(where, opt)})
    if op_id.startswith("playlists_"):
        pl = env.playlist(u)
        path = {"id": pl["id"]}
        if op_id == "playlists_get":
            return Setup(path=path, token=opt)
        if op_id == "playlists_update":
            return Setup(path=path, token=u["access"], other_token=other["access"])
        if op_id == "playlists_delete":  # a playlist of its own for each variant
            return Setup(path=path, token=u["access"], other_token=other["access"],
                         renew=lambda: {"id": env.playlist(u)["id"]})
        if op_id == "playlists_item_add":
            # A video of its own for every request: one added already is 409.
            return Setup(path=path, token=u["access"], other_token=other["access"],
                         members={"videoId": lambda: env.make_video(u)["id"]}, fresh=("videoId",))
        videos = [env.make_video(u) for _ in range(2)]
        for v in videos:
            env.add_item(u, pl, v)
        if op_id == "playlists_items":
            return Setup(path=path, token=opt,
                         query={"cursor": env.cursor(f"{PLAYLISTS}/{pl['id']}/items", opt)})
        if op_id == "playlists_item_move":
            return Setup(path={"id": pl["id"], "videoId": videos[0]["id"]}, token=u["access"],
                         other_token=other["access"])

        def holding():  # a playlist of its own holding the video, for each variant
            fresh = env.playlist(u)
            env.add_item(u, fresh, videos[0])
            return {"id": fresh["id"], "videoId": videos[0]["id"]}
        return Setup(path={"id": pl["id"], "videoId": videos[0]["id"]}, token=u["access"],
                     other_token=other["access"], renew=holding)
    if op_id.startswith(("posts_", "comments_post_")):
        target = f"posts/{env.post(u)['id']}"
    elif op_id.startswith(("ratings_video_", "comments_video_")):
        target = f"videos/{env.make_video(u)['id']}"
    elif op_id.startswith("comments_"):
        target = f"videos/{env.make_video(u)['id']}"
    else:
        return None
    tid = target.split("/")[1]
    if op_id.startswith("ratings_video_"):
        return Setup(path={"id": tid}, token=u["access"])
    if op_id in ("posts_get",):
        return Setup(path={"id": tid}, token=opt)
    if op_id == "posts_update":
        return Setup(path={"id": tid}, token=u["access"], other_token=other["access"])
    if op_id == "posts_delete":  # a post of its own for each variant
        return Setup(path={"id": tid}, token=u["access"], other_token=other["access"],
                     renew=lambda: {"id": env.post(u)["id"]})
    if op_id in ("posts_like_put", "posts_like_delete"):
        return Setup(path={"id": tid}, token=other["access"])
    if op_id in ("comments_video_create", "comments_post_create"):
        # `min` writes a top-level comment, the others a reply.
        members = {} if mode == "min" else {"parentId": env.comment(other, target)["id"]}
        return Setup(path={"id": tid}, token=u["access"], members=members)
    if op_id in ("comments_video_list", "comments_post_list"):
        for _ in range(2):
            env.comment(other, target)
        sort = {} if mode == "min" else {"sort": "top"}
        return Setup(path={"id": tid}, token=opt, query={
            **sort, "cursor": env.cursor(f"/api/v1/{target}/comments", opt, **sort)})
    top = env.comment(u, target)
    if op_id == "comments_replies":
        for _ in range(2):
            env.comment(other, target, top["id"])
        return Setup(path={"id": top["id"]}, token=opt, query={
            "cursor": env.cursor(f"{COMMENTS}/{top['id']}/replies", opt)})
    if op_id == "comments_update":
        return Setup(path={"id": top["id"]}, token=u["access"], other_token=other["access"])
    if op_id == "comments_delete":  # a comment of its own for each variant
        return Setup(path={"id": top["id"]}, token=u["access"], other_token=other["access"],
                     renew=lambda: {"id": env.comment(u, target)["id"]})
    if op_id in ("comments_like_put", "comments_like_delete"):
        return Setup(path={"id": top["id"]}, token=other["access"])
    return None


def setup_for(op_id, env, mode):
    """The Setup of op_id in mode; `min` leaves out an optional token."""
    s = None
    if op_id in ("health_get", "health_ready", "uploads_options"):
        return Setup()
    if op_id == "auth_register":
        return Setup(members={"username": lambda: env.username(mode), "email": lambda: env.email(mode),
                              "password": env.password(mode)},
                     fresh=("username", "email"))
    if op_id in ("users_update_me", "users_password_me", "users_sessions_delete",
                 "users_delete_me"):
        u = env.user(mode, own=True)  # they change the user, sign out its sessions, delete it
    else:
        u = env.user(mode if op_id == "auth_login" else "typical")
    if op_id == "auth_login":
        login = u["email"] if mode == "max" else u["username"]
        return Setup(members={"login": login, "password": u["password"]})
    if op_id in ("auth_refresh", "auth_logout"):
        # A session of its own. `min` sends no body at all: the cookie names the token.
        refresh = env.session()["refresh"]
        if mode == "min":
            return Setup(cookie=refresh, no_body=True)
        return Setup(members={"refreshToken": refresh})
    if op_id == "users_get_me":
        return Setup(token=u["access"])
    if op_id == "users_sessions_delete":
        env.session(u)  # another session, to be signed out
        return Setup(token=u["access"])
    if op_id.startswith("uploads_"):
        return _upload_setup(op_id, env, u, mode)
    if op_id == "users_update_me":
        return Setup(token=u["access"], fresh=("email",),
                     members={"email": lambda: env.email(mode), "currentPassword": u["password"]})
    if op_id == "users_delete_me":
        return Setup(token=u["access"], members={"currentPassword": u["password"]})
    if op_id == "users_password_me":
        return Setup(token=u["access"],
                     members={"currentPassword": u["password"], "newPassword": env.password(mode)})
    if op_id == "videos_list":
        for _ in range(2):
            env.make_video(u)
        r = env.api.get(f"{VIDEOS}?owner={u['id']}&limit=1", token=u["access"])
        assert r.status_code == 200 and r.json()["nextCursor"], describe(r)
        return Setup(query={"owner": u["id"], "cursor": r.json()["nextCursor"]},
                     token=None if mode == "min" else u["access"])
    if op_id == "videos_create":
        return Setup(token=u["access"], members={"video": env.clip_bytes})
    if op_id in ("webhooks_create", "webhooks_list", "webhooks_delete"):
        h = env.hooks_user()
        if op_id == "webhooks_create":
            return Setup(token=h["access"])
        hook = env.create_hook(h)  # a list with one at least; a webhook to delete
        if op_id == "webhooks_list":
            return Setup(token=h["access"])
        return Setup(path={"id": hook["id"]}, token=h["access"], other_token=u["access"])
    community = _community_setup(op_id, env, u, mode)
    if community is not None:
        return community
    if op_id == "webhooks_deliveries":
        owner, hook = env.delivered_hook()
        r = env.api.get(f"{HOOKS}/{hook['id']}/deliveries?limit=1", token=owner["access"])
        assert r.status_code == 200 and r.json()["nextCursor"], describe(r)
        return Setup(path={"id": hook["id"]}, query={"cursor": r.json()["nextCursor"]},
                     token=owner["access"], other_token=u["access"])
    v = env.make_video(u)
    if op_id in ("videos_get", "videos_playback"):
        s = Setup(path={"id": v["id"]}, token=None if mode == "min" else u["access"])
    elif op_id in ("videos_update", "videos_delete"):
        s = Setup(path={"id": v["id"]}, token=u["access"], other_token=env.other_user()["access"])
    elif op_id == "media_get":
        s = Setup(path=_media_parts(get_playback(env.api, v["id"])["source"]))
    assert s is not None, f"no fixtures for {op_id}: add them to setup_for"
    return s


def object_value(op_id, schema, gen, members=None):
    """An object of schema in gen's mode (required members, some or all others), members'
    values where given (a callable gives a fresh one). Of the alternatives of an `anyOf`
    of required members, the first when the mode chose none."""
    members = members or {}
    f = flat(schema)
    names = [n for n in f["properties"] if n in f["required"] or gen.mode == "max"
             or (gen.mode == "typical" and gen.rng.random() < 0.6) or n in members]
    for n, needs in f.get("dependentRequired", {}).items():
        if n in names:
            names += [x for x in needs if x not in names]
    alternatives = [deref(a).get("required", []) for a in f.get("anyOf", [])]
    if alternatives and not any(all(n in names for n in alt) for alt in alternatives):
        names += [n for n in alternatives[0] if n not in names]
    body = {}
    for n in names:
        if n not in members:
            body[n] = gen.value(f["properties"][n])
        else:
            given = members[n]
            body[n] = given() if callable(given) else given
    bad = problems(schema, body)
    assert not bad, f"{op_id}: the generator made an invalid body: {bad}"
    return body


def build(op_id, setup, gen):
    """A valid Call of op_id: the schemas' values in gen's mode, the fixtures' where they must
    be real. Headers: the fixtures' and the required ones (the others take any value, or
    need the fixtures: If-None-Match, Range, Upload-Checksum); a header of pairs
    (x-stremora-pairs) is made as an object, fitted to the header's length."""
    method, tmpl, op, params = operations()[op_id]
    mt, schema, _ = request_body(op)
    call = Call(op_id, path=setup.path, token=setup.token, cookie=setup.cookie, utf8=gen.mode == "max")
    for (where, name), p in sorted(params.items()):
        if where == "query" and (name in setup.query or gen.mode != "min"):
            call.query[name] = setup.query[name] if name in setup.query else gen.value(p["schema"])
        elif where == "header" and name in setup.headers:
            call.headers[name] = setup.headers[name]
        elif where == "header" and "x-stremora-pairs" in p:
            pairs = object_value(op_id, p["x-stremora-pairs"], gen)
            call.pairs[name] = fit_pairs(pairs, p["x-stremora-pairs"], flat(p["schema"]).get("maxLength"))
            bad = problems(p["x-stremora-pairs"], call.pairs[name]) + \
                problems(p["schema"], tus_metadata(call.pairs[name]))
            assert not bad, f"{op_id}: the generator made an invalid {name}: {bad}"
        elif where == "header" and p.get("required"):
            call.headers[name] = str(gen.value(p["schema"]))
    if schema is None or setup.no_body:
        call.has_body = schema is not None and not setup.no_body
        return call
    if flat(schema).get("format") == "binary":
        # Bytes: the fixtures' (all a schema says of them is their size).
        call.raw, call.has_body = setup.raw, setup.raw is not None
        call.content_type = setup.content_type
        return call
    call.body = object_value(op_id, schema, gen, setup.members)
    return call


def freshen(call, setup, skip=()):
    """call with new unique values (usernames, emails) where the setup asks for them."""
    for n in setup.fresh:
        if n not in skip and call.body is not None and n in call.body:
            call.body[n] = setup.members[n]()
    return call


# ---------------------------------------------------------------------------------------------
# Checks


def header_problems(header, value):
    """What is wrong with a header's value under the schema the spec gives it (a header is
    text: an integer schema reads it as a decimal number)."""
    schema = deref(header).get("schema", {})
    if flat(schema).get("type") == "integer":
        if not re.fullmatch(r"-?[0-9]+", value):
            return [f"{value!r} is not an integer"]
        value = int(value)
    return problems(schema, value)


def check_headers(call, resp, doc):
    """The documented headers of the answer: the required ones there, each one sent of the
    value its schema says."""
    for name, h in doc.get("headers", {}).items():
        value = resp.headers.get(name)
        if deref(h).get("required"):
            assert value, f"{call.op_id}: no {name} header: {describe(resp)}"
        if value is not None:
            bad = header_problems(h, value)
            assert not bad, \
                f"{call.op_id}: its {name} header breaks its schema: {bad}: {describe(resp)}"


def check_success(call, resp):
    method, tmpl, op, _ = operations()[call.op_id]
    documented = {s for s in op["responses"] if int(s) < 400}
    assert str(resp.status_code) in documented, \
        f"{call.op_id}: not a documented success: {describe(resp)}"
    doc = deref(op["responses"][str(resp.status_code)])
    check_headers(call, resp, doc)
    content = doc.get("content", {})
    if not content:
        assert resp.content == b"", describe(resp)
        return
    mt = media_type(resp)
    match = [k for k in content if k == mt or (k.endswith("/*") and mt.startswith(k[:-1]))]
    assert match, f"{call.op_id}: {mt} is not documented ({sorted(content)}): {describe(resp)}"
    if mt == "application/json":
        bad = problems(content[match[0]]["schema"], resp.json())
        assert not bad, f"{call.op_id}: the answer breaks its schema: {bad[:5]}: {describe(resp)}"
        bad = caller_view_missing(content[match[0]]["schema"], resp.json())
        assert not bad, f"{call.op_id}: a video without the caller's view: {bad[:5]}: {describe(resp)}"
        bad = caller_view_wrong(resp.json(), signed_in=call.token is not None)
        assert not bad, f"{call.op_id}: the caller's view is not theirs: {bad[:5]}: {describe(resp)}"


# What the Video schema's description promises on every API answer (webhook events, which
# no caller reads, leave them out, so the schema cannot require them).
CALLER_VIEW = ("owner", "myRating")


def caller_view_wrong(value, signed_in, at="$"):
    """Where value's members about the caller (`myRating`, `myLike`, `isSubscribed`) break
    what the schemas' descriptions say: `null` for an anonymous caller; for a signed-in one
    `myLike` and `isSubscribed` are booleans (`myRating` is `null` when they have none)."""
    out = []
    if isinstance(value, dict):
        for name, v in value.items():
            if name in ("myRating", "myLike", "isSubscribed"):
                if not signed_in and v is not None:
                    out.append(f"{at}.{name} is {v!r} for an anonymous caller")
                elif signed_in and name != "myRating" and not isinstance(v, bool):
                    out.append(f"{at}.{name} is {v!r} for a signed-in caller")
            else:
                out += caller_view_wrong(v, signed_in, f"{at}.{name}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += caller_view_wrong(v, signed_in, f"{at}[{i}]")
    return out


def caller_view_missing(schema, value, at="$"):
    """Where a Video in value (found through schema's $refs, members, items and
    alternatives) lacks a member of CALLER_VIEW."""
    if isinstance(schema, dict) and schema.get("$ref") == "#/components/schemas/Video":
        return [f"{at}: no {m}" for m in CALLER_VIEW if isinstance(value, dict) and m not in value]
    s = deref(schema)
    out = []
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in s.get(key, []):
            out += caller_view_missing(sub, value, at)
    if isinstance(value, dict):
        for name, sub in s.get("properties", {}).items():
            if name in value:
                out += caller_view_missing(sub, value[name], f"{at}.{name}")
    if isinstance(value, list) and "items" in s:
        for i, v in enumerate(value):
            out += caller_view_missing(s["items"], v, f"{at}[{i}]")
    return sorted(set(out))


def check_refused(call, resp, member=None):
    """A refusal: 4xx, a problem the spec lists for the operation and status, and for a
    validation failure the member it names."""
    assert 400 <= resp.status_code < 500, f"{call.op_id}: not refused: {describe(resp)}"
    method, tmpl, op, _ = operations()[call.op_id]
    path = urllib.parse.urlsplit(resp.request.url).path
    if method == "HEAD":
        # No body: the status must be a documented problem, of the problem media type.
        assert media_type(resp) == "application/problem+json" and resp.content == b"", describe(resp)
        doc = deref(op["responses"].get(str(resp.status_code), {}))
        assert problem_codes(openapi_spec(), doc), \
            f"{call.op_id}: {resp.status_code} is not a documented problem: {describe(resp)}"
        check_headers(call, resp, doc)
        return None
    if _path_item(openapi_spec(), path) is openapi_spec()["paths"][tmpl]:
        body = assert_problem(resp, resp.status_code)
    else:
        # conftest finds a target's operation by its segments, and a media path that is empty
        # or ends in "/" has an empty one: the same checks, against the operation itself.
        assert media_type(resp) == "application/problem+json", describe(resp)
        body = resp.json()
        assert body.get("status") == resp.status_code and body.get("detail") is not None, describe(resp)
        listed = problem_codes(openapi_spec(), op["responses"].get(str(resp.status_code), {}))
        assert body.get("code") in listed, \
            f"{call.op_id} {resp.status_code} lists {sorted(listed)}: {describe(resp)}"
    doc = deref(op["responses"].get(str(resp.status_code), {}))
    check_headers(call, resp, doc)
    if member is not None and body["code"] == "validation_failed":
        fields = [e.get("field") for e in body.get("errors", [])]
        assert member in fields, f"{call.op_id}: errors name {fields}, not {member}: {describe(resp)}"
    return body


# ---------------------------------------------------------------------------------------------
# Invalid variants


def lenient(op_id, member, kind, value=None):
    """Why the server takes this spec-invalid request on purpose, or None. The spec is the
    stricter of the two there, and a client keeping to it is never refused. value is the
    member's value in the request (body members only)."""
    if member == "tags" and kind == "item-too-short":
        return "an empty tag is ignored, as an empty one between commas is"
    if member == "tags" and kind == "item-pattern-,":
        return "a comma inside a tag separates two tags"
    if member == "q" and kind == "too-short":
        return "an empty q is ignored (no filter)"
    if member == "X-Stremora-Session" and kind in ("enum", "enum-case"):
        return "cookie in any case asks for the cookie only; any other value leaves the default"
    if op_id == "auth_logout" and member == "refreshToken" and kind.startswith("pattern-") \
            and kind != "pattern-\x00":
        return "logout is idempotent: what is not a refresh token is an unknown one, which gets 204"
    if op_id.startswith("images_") and member == "body" and kind == "other-media-type":
        return "an image is judged by its first bytes, never by its Content-Type"
    if op_id == "webhooks_create" and member == "url" and kind.startswith("pattern-") \
            and len(kind) == len("pattern-") + 1 and ord(kind[-1]) > 0x7F \
            and isinstance(value, str) and value.find(kind[-1]) > value.find("://") >= 0:
        return ("libcurl takes characters outside ASCII after the scheme as they are (a host "
                "name in another script, a C1 control or a format character too); the spec "
                "asks for an ASCII host name and no C1 control")
    return None


def _breaking(schema, value, rng, limit=4):
    """Values like value with one character the schema's pattern refuses (lengths kept)."""
    f = flat(schema)
    if not f["patterns"]:
        return []
    out = []
    for ch in BREAKERS:
        mid = len(value) // 2
        cand = value[:mid] + ch + value[mid:]
        if len(cand) > f.get("maxLength", len(cand)):
            cand = value[:mid] + ch + value[mid + 1:]
        if problems(schema, cand) and not any(not py_regex(p).search(value) for p in f["patterns"]):
            out.append((ch, cand))
    first, rest = out[:2], out[2:]  # NUL and the first control character always
    return first + rng.sample(rest, min(len(rest), max(0, limit - len(first))))


def _not_values(f, gen):
    """Values that match one of the schema's `not`s: what the server keeps or refuses although
    they fit every other rule."""
    out = []
    for n in f["nots"]:
        n = deref(n)
        if "enum" in n:
            out.append(gen.rng.choice(n["enum"]))
        elif "pattern" in n:
            out.append(Gen(gen.rng, "max").from_pattern(n["pattern"], f.get("maxLength", 8)))
    return out


def string_variants(schema, good, gen, json_body=True):
    """(kind, value) pairs that break one rule of a string schema; good is a valid value."""
    f = flat(schema)
    out = []
    if f.get("type") == "boolean":  # only its type can be wrong
        return [("wrong-type", "yes"), ("null", None)] if json_body else []
    if f.get("type") == "integer":  # a playlist position
        out = [("below-minimum", f["minimum"] - 1)] if "minimum" in f else []
        out += [("above-maximum", f["maximum"] + 1)] if "maximum" in f else []
        return out + ([("wrong-type", "1"), ("not-an-integer", 1.5), ("null", None)]
                      if json_body else [])
    if "const" in f:
        out.append(("const", "bogus"))
    elif "enum" in f:
        out.append(("enum", "bogus"))
        if f["enum"][0].upper() not in f["enum"]:
            out.append(("enum-case", f["enum"][0].upper()))
    elif f.get("format") == "binary":
        out.append(("empty", b""))
        return out
    else:
        if f.get("minLength", 0) > 0:
            short = Gen(gen.rng, "min").value(schema)
            out.append(("too-short", short[:-1]))
        if "maxLength" in f:
            longest = Gen(gen.rng, "typical").value(dict(schema_no_bytes(schema)))
            longest = (longest * (f["maxLength"] // max(1, len(longest)) + 2))[: f["maxLength"] + 1]
            if problems(schema, longest):
                out.append(("too-long", longest))
        if "x-stremora-max-bytes" in f:
            big = Gen(gen.rng, "max").value(dict(schema_no_bytes(schema)))
            if len(big.encode()) > f["x-stremora-max-bytes"]:
                out.append(("too-many-bytes", big))
        out += [("not", v) for v in _not_values(f, gen)]
        out += [(f"pattern-{ch}", v) for ch, v in _breaking(schema, good, gen.rng)]
        if f["patterns"]:
            # The shape of a pattern: one character less or more, the other case, and for a
            # path (a pattern that takes "/") dot segments and empty ones.
            shapes = [("shorter", good[:-1]), ("longer", good + good[-1:]),
                      ("case", good.upper() if good.upper() != good else good.lower())]
            if not problems(schema, "a/b"):
                shapes += [("dot-segment", "../" + good), ("empty-segment", good + "/")]
            out += [(f"pattern-{k}", v) for k, v in shapes if v and problems(schema, v)]
    if json_body:
        out += [("wrong-type", 12), ("null", None)]
    return out


def schema_no_bytes(schema):
    """schema without its byte limit and `not`s: for making values that only those break."""
    f = flat(schema)
    dropped = ("x-stremora-max-bytes", "nots", "patterns", "properties", "required")
    s = {k: v for k, v in f.items() if k not in dropped}
    if f["patterns"]:
        s["allOf"] = [{"pattern": p} for p in f["patterns"]]
    return s


def member_variants(name, schema, good, gen, json_body=True):
    """(member, kind, value) that break one rule of one member."""
    f = flat(schema)
    if f.get("type") == "array":
        items = f["items"]
        out = []
        if json_body:
            out.append(("wrong-type", "not-an-array"))
        n = f.get("maxItems")
        if n is not None:
            many = [f"t{i:02d}" + Gen(gen.rng, "typical").value(items)[:30] for i in range(n + 1)]
            out.append(("too-many", many))
        if "x-stremora-max-bytes" in f and n:
            # Within maxItems and each within maxLength, but over the byte limit.
            cjk = "中文字日本語한国"
            wide = [(cjk[i % 8] + cjk * 6)[: flat(items).get("maxLength", 8)] for i in range(n)]
            if len(",".join(wide).encode()) > f["x-stremora-max-bytes"]:
                out.append(("too-many-bytes", wide))
        first = good[0] if good else Gen(gen.rng, "typical").value(items)
        for kind, v in string_variants(items, first, gen, json_body):
            out.append((f"item-{kind}", [v] + list(good[1:])))
        return [(name, k, v) for k, v in out]
    # Only what the schema refuses: a member that takes `null` (parentId) is not broken by it.
    return [(name, k, v) for k, v in string_variants(schema, good, gen, json_body)
            if problems(schema, v)]


def invalid_calls(base, setup, gen):
    """(label, Call, member or None, lenient reason or None) for every variant of base.

    Not made here, as they cannot be asked for black-box or belong elsewhere: answers of a
    broken dependency (500, 503 db_unavailable/unavailable, 507: test_faults stops the
    database), nginx's own refusals of the HTTP framing (400, 414, 501: test_nginx), the
    production rate limits (429 rate_limited: only in nginx-conf/stremora.conf), and answers
    that need a state rather than a bad value: 409 for a taken username or email, 403
    wrong_password and 429 too_many_attempts, 404 user_not_found (test_auth, test_users),
    409 too_many_webhooks (test_webhooks). A literal private address in a webhook URL is
    refused only without STREMORA_WEBHOOK_ALLOW_PRIVATE, which the test stack sets. A
    multipart part is text or a file, so uploads have no wrong types to send. Resumable
    uploads: 423 upload_locked (a PATCH held open meanwhile), 410 upload_expired
    (STREMORA_UPLOAD_EXPIRY, a day on the test stack), a complete upload's 409 and the
    completion of a crashed last PATCH by HEAD (test_tus); 507 storage_full (test_faults).
    The community: 403 comments_disabled (test_comments), 409 already_in_playlist and
    playlist_full and Watch later's 403 (test_playlists), an image body cut short (400
    upload_incomplete: requests always sends what its Content-Length says; test_images).
    422 cannot_subscribe_to_self is made: the channel itself is the `other_token`."""
    op_id = base.op_id
    method, tmpl, op, params = operations()[op_id]
    mt, schema, _ = request_body(op)
    out = []

    def add(label, call, member=None, kind=None, about=None):
        value = call.body.get(member) if isinstance(call.body, dict) and member else None
        out.append((label, call, member, lenient(op_id, about or member, kind or "", value)))

    # The body: one member at a time, then the object itself. Bytes: their size and type.
    if schema is not None and base.has_body and flat(schema).get("format") == "binary":
        limit = flat(schema).get("x-stremora-max-bytes")
        if limit is not None:
            add("body:too-many-bytes", base.copy(raw=b"\0" * (limit + 1)))
        other = next(t for t in ("application/octet-stream", "text/plain")
                     if t not in request_media_types(op))
        add("body:other-media-type", base.copy(content_type=other), kind="other-media-type",
            about="body")
    elif schema is not None and base.has_body:
        f = flat(schema)
        json_body = mt == "application/json"
        for name, ms in f["properties"].items():
            good = base.body.get(name) if base.body and name in base.body else gen.value(ms)
            for member, kind, v in member_variants(name, ms, good, gen, json_body):
                c = freshen(base.copy(), setup, skip=(name,))
                c.body[name] = v
                add(f"body.{name}:{kind}", c, member, kind)
        for name in f["required"]:
            c = freshen(base.copy(), setup)
            del c.body[name]
            add(f"body.{name}:missing", c, name)
        for name, needs in f.get("dependentRequired", {}).items():
            for n in needs:
                c = freshen(base.copy(), setup)
                c.body.setdefault(name, gen.value(f["properties"][name]))
                c.body.pop(n, None)
                add(f"body.{n}:missing-beside-{name}", c, n)
        c = freshen(base.copy(), setup)
        c.body["zzUnexpected"] = "x"
        add("body:unknown-member", c, "zzUnexpected")
        if json_body:
            add("body:not-json", base.copy(raw=b'{"unterminated": '))
            add("body:not-an-object", base.copy(raw=b"[]"))
            add("body:other-media-type", freshen(base.copy(content_type="text/plain"), setup))
        else:
            add("body:not-multipart", base.copy(content_type="application/json", raw=b"{}"))
    # Query and path parameters.
    for (where, name), p in sorted(params.items()):
        ps = p["schema"]
        f = flat(ps)
        if where == "query":
            good = base.query.get(name)
            good = good if good is not None else gen.value(ps)
            if f.get("type") == "integer":
                kinds = [("below-minimum", f["minimum"] - 1), ("above-maximum", f["maximum"] + 1),
                         ("wrong-type", "abc"), ("not-an-integer", "1.5")]
            else:
                kinds = string_variants(ps, str(good), gen, json_body=False)
            for kind, v in kinds:
                c = base.copy()
                c.query = dict(base.query, **{name: v})
                add(f"query.{name}:{kind}", c, name, kind)
        elif where == "path":
            for kind, v in string_variants(ps, base.path[name], gen, json_body=False):
                c = base.copy()
                c.path = dict(base.path, **{name: v})
                add(f"path.{name}:{kind}", c)
        elif where == "header" and "x-stremora-pairs" in p:
            for label, c, member, kind in pairs_variants(name, p, base, gen):
                add(label, c, member, kind)
        elif where == "header":
            for kind, v in header_variants(name, p, base, gen):
                c = base.copy()
                if v is None:
                    c.headers.pop(name, None)
                else:
                    c.headers[name] = v
                add(f"header.{name}:{kind}", c, kind=kind, about=name)
    if ("query", "sort") in params and "cursor" in base.query and "sort" in base.query:
        # A cursor belongs to the sort that made it (ListCursor): with another, refused.
        for other in flat(params[("query", "sort")]["schema"])["enum"]:
            if other != base.query["sort"]:
                c = base.copy()
                c.query = dict(base.query, sort=other)
                add(f"query.cursor:of-sort-{base.query['sort']}-sent-with-{other}", c)
    for label, c in upload_variants(op_id, base, setup):
        add(label, c)
    for label, c in image_variants(op_id, base):
        add(label, c)
    if schema is None and op_id != "media_get":
        # A route that takes no body refuses one. (nginx serves media files itself and
        # ignores a small body there.)
        add("body:on-a-route-without-one", base.copy(raw=b"{}"))
    # Who asks. Where the body is optional it can name the session (logout): none is sent.
    body_required = deref(op.get("requestBody", {})).get("required", False)
    who = base.copy() if body_required or schema is None else base.copy(has_body=False, cookie=None)
    if bearer_allowed(op):
        add("auth:bad-token", who.copy(token="not.a.token"))
        if not anonymous_allowed(op):
            add("auth:no-token", who.copy(token=None))
    if setup.other_token:
        add("auth:not-the-owner", who.copy(token=setup.other_token))
    if op_id == "auth_refresh":
        add("auth:no-refresh-token", who.copy(token=None))
    return out


def _sendable(value):
    """A header value requests and nginx carry as it is: Latin-1 (sent as its bytes), no line
    break, no blank at either end (nginx would trim it away)."""
    return isinstance(value, str) and value == value.strip(" \t") and \
        "\r" not in value and "\n" not in value and all(ord(ch) < 256 for ch in value)


def header_variants(name, param, base, gen):
    """(kind, value or None for none) that break one rule of a header: its schema (an
    integer's bounds and form, a string's const, enum or pattern, in values a header can
    carry), and its absence when required. Headers without rules (If-None-Match, Range)
    have none."""
    ps = param["schema"]
    f = flat(ps)
    good = base.headers.get(name)
    good = good(base) if callable(good) else good
    if f.get("type") == "integer":
        kinds = [("below-minimum", str(f["minimum"] - 1))] if "minimum" in f else []
        kinds += [("above-maximum", str(f["maximum"] + 1))] if "maximum" in f else []
        kinds += [("wrong-type", "abc"), ("not-an-integer", "1.5")]
    else:
        good = good if good is not None else str(gen.value(ps))
        kinds = [(k, v) for k, v in string_variants(ps, good, gen, json_body=False) if _sendable(v)]
    if param.get("required"):
        kinds.append(("missing", None))
    return kinds


def pairs_variants(name, param, base, gen):
    """(label, Call, member, kind) for a header of pairs (x-stremora-pairs: Upload-Metadata):
    each member broken as a body member is, then every alternative of its `anyOf` left out;
    the member is named by the 422. A variant too long for the header is fitted to it: the
    other members shortened, then a value too long in characters made of ASCII ones."""
    schema = param["x-stremora-pairs"]
    f = flat(schema)
    limit = flat(param["schema"]).get("maxLength")
    out = []
    for m, ms in f["properties"].items():
        good = base.pairs[name][m] if m in base.pairs[name] else gen.value(ms)
        for member, kind, v in member_variants(m, ms, good, gen, json_body=False):
            c = base.copy()
            c.pairs[name][m] = v
            fit_pairs(c.pairs[name], schema, limit, keep=m)
            if limit and len(tus_metadata(c.pairs[name])) > limit and isinstance(v, str):
                c.pairs[name][m] = "x" * len(v)
                fit_pairs(c.pairs[name], schema, limit, keep=m)
            out.append((f"header.{name}.{m}:{kind}", c, member, kind))
    alternatives = [deref(a).get("required", []) for a in f.get("anyOf", [])]
    needed = f["required"] + [n for alt in alternatives for n in alt]
    if needed:
        c = base.copy()
        for n in needed:
            c.pairs[name].pop(n, None)
        out.append((f"header.{name}.{needed[0]}:missing", c, needed[0], "missing"))
    if param.get("required"):
        c = base.copy()
        del c.pairs[name]
        out.append((f"header.{name}:missing", c, needed[0] if needed else None, "missing"))
    return out


# Upload-Metadata values the header's grammar refuses (400 invalid_upload_header); and one
# a byte over the header's length (400 headers_too_large, from nginx), made in upload_variants.
BAD_METADATA = {
    "base64-unpadded": "title YWI",
    "base64url": "title -_8=",
    "base64-unused-bits": "title YWJ=",
    "two-spaces": "title  YWI=",
    "empty-pair": "title YWI=,",
    "key-twice": "title YWI=,title YWI=",
    "key-too-long": "title YWI=," + "k" * 33,
    "key-not-ascii": "title YWI=,k\u00e9y",
    "too-many-pairs": "title YWI=," + ",".join(f"k{i}" for i in range(16)),
}


def upload_variants(op_id, base, setup):
    """(label, Call) of the resumable uploads that break what the tus headers and the bytes
    mean together, which no single schema says: bytes that are no video, bytes past
    Upload-Length, a checksum of other bytes or of another algorithm, an offset that is not
    the upload's, an Upload-Length over the server's maximum, Upload-Defer-Length (not
    spoken), and Upload-Metadata that breaks its grammar. Each is refused."""
    if op_id not in ("uploads_create", "uploads_patch") or not base.has_body:
        return []

    def with_header(name, value):
        c = base.copy()
        c.headers[name] = value
        return c

    md5 = base64.b64encode(hashlib.md5(base.raw).digest()).decode()
    out = [("body:not-a-video", base.copy(raw=b"\0" * 1024)),
           ("header.Upload-Checksum:of-other-bytes",
            with_header("Upload-Checksum", _checksum("sha1", base.copy(raw=b"other bytes")))),
           ("header.Upload-Checksum:another-algorithm", with_header("Upload-Checksum", f"md5 {md5}"))]
    if op_id == "uploads_patch":
        out += [("body:past-upload-length", base.copy(raw=base.raw * (setup.length // len(base.raw) + 1))),
                ("header.Upload-Offset:not-the-uploads", with_header("Upload-Offset", "1"))]
        return out
    out += [("body:past-upload-length", with_header("Upload-Length", str(len(base.raw) - 1))),
            ("header.Upload-Length:over-the-maximum", with_header("Upload-Length", str(2**64 - 1))),
            ("header.Upload-Defer-Length:sent", with_header("Upload-Defer-Length", "1"))]
    schema = operations()[op_id][3][("header", "Upload-Metadata")]["schema"]
    head = "title YWI=,zz "
    pad = flat(schema)["maxLength"] + 1 - len(head)
    bad = dict(BAD_METADATA, **{"too-long": head + "A" * (pad + -pad % 4)})  # base64: 4 by 4
    for kind, value in bad.items():
        # The schema refuses each but a key twice, which only the description can say.
        assert kind == "key-twice" or problems(schema, value), \
            f"the spec takes the Upload-Metadata {value[:60]!r}"
        c = base.copy()
        del c.pairs["Upload-Metadata"]
        c.headers["Upload-Metadata"] = value
        out.append((f"header.Upload-Metadata:{kind}", c))
    return out


def image_variants(op_id, base):
    """(label, Call) of image bodies that fit the schema (bytes within the limit) but are no
    image we take: refused with 415 invalid_image whatever their Content-Type."""
    if not op_id.startswith("images_") or not base.has_body:
        return []
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00" \
        b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    return [("body:empty", base.copy(raw=b"")),
            ("body:a-gif", base.copy(raw=gif)),
            ("body:text", base.copy(raw=b"<svg xmlns='http://www.w3.org/2000/svg'/>" * 4)),
            ("body:truncated-png", base.copy(raw=base.raw[: max(64, len(base.raw) // 2)])),
            ("body:png-signature-only", base.copy(raw=base.raw[:16] + b"\0" * 64))]


# ---------------------------------------------------------------------------------------------
# The tests


@pytest.fixture(scope="module")
def shared_users(api):
    shared = {}
    yield shared
    # Webhooks outlive a test: their deliveries are retried for 24 h. The module's go.
    for owner in [shared[k] for k in ("hooks",) if k in shared] + shared.get("hook_owners", []):
        r = api.get(HOOKS, token=owner["access"])
        for hook in r.json().get("items", []) if r.status_code == 200 else []:
            api.delete(f"{HOOKS}/{hook['id']}", token=owner["access"])


@pytest.fixture(scope="module")
def png_images(tmp_path_factory):
    """PNGs made by ffmpeg, by mode: `min` 2x2 pixels (lavfi makes no 1x1), `typical` a
    320x240 test card, `max` noise of 1280x960 (about 3 MiB: over nginx's 1 MiB for JSON
    bodies, under the 5 MiB an image may have)."""
    out = {}
    folder = tmp_path_factory.mktemp("images")
    for mode, source in (("min", "color=c=red:s=2x2"), ("typical", "testsrc=size=320x240"),
                         ("max", "nullsrc=size=1280x960,geq=random(1)*255:random(2)*255:random(3)*255")):
        path = folder / f"{mode}.png"
        rc, err = _ffmpeg(["-f", "lavfi", "-i", source, "-frames:v", "1", "-pix_fmt", "rgb24",
                           str(path)])
        assert rc == 0, f"ffmpeg could not make a png: {err}"
        out[mode] = path.read_bytes()
    assert out["max"][:8] == b"\x89PNG\r\n\x1a\n" and 1 << 20 < len(out["max"]) <= 5 << 20, \
        len(out["max"])
    return out


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory):
    """One 1 s MP4 (the suite's `clips` makes every container, which this module needs not)."""
    path = tmp_path_factory.mktemp("contract") / "clip.mp4"
    rc, err = _ffmpeg(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=1",
                       *CONTAINERS["mp4"][0], str(path)])
    assert rc == 0, f"ffmpeg could not make an mp4: {err}"
    return path.read_bytes()


def _make_video(api, owner, data):
    """A fresh public video of owner (its answer is checked against the spec, not here)."""
    r = upload(api, owner["access"], video_parts(data))
    assert r.status_code == 201, describe(r)
    return r.json()


@pytest.fixture
def env(api, make_user, clip_bytes, png_images, shared_users):
    """The test's Env. The videos it uploads are deleted when it ends, so that
    stremora-worker, finding them gone, does not transcode them: the module then leaves no
    queue of ffmpeg runs behind, for the machine, its own webhook deliveries (which wait in
    the same queue) and the tests after it."""
    made = []

    def make_video(owner):
        v = _make_video(api, owner, clip_bytes)
        made.append((owner["access"], v["id"]))
        return v

    e = Env(api, make_user, make_video, shared_users)
    e.clip_bytes = clip_bytes
    e.images = png_images
    e.made = made
    e.start_deliveries()
    yield e
    for token, video_id in made:
        api.delete(f"{VIDEOS}/{video_id}", token=token)  # 404 once the test deleted it


def _valid_cases():
    """Every operation in `typical`; with a body or a query also `min` and `max`; with an
    optional token also `min` (without it)."""
    cases = []
    for op_id, (method, tmpl, op, params) in sorted(operations().items()):
        if request_body(op)[1] is not None or any(w == "query" for w, _ in params):
            modes = MODES
        elif anonymous_allowed(op) and bearer_allowed(op):
            modes = ("min", "typical")
        else:
            modes = ("typical",)
        cases += [pytest.param(op_id, mode, id=f"{op_id}-{mode}") for mode in modes]
    return cases


@pytest.mark.parametrize("op_id,mode", _valid_cases())
def test_contract_valid_request_succeeds(env, op_id, mode):
    gen = Gen(random.Random(f"{SEED}:{op_id}:{mode}"), mode)
    env.gen = gen
    setup = setup_for(op_id, env, mode)
    call = build(op_id, setup, gen)
    check_success(call, env.send(call))
    method, _, op, _ = operations()[op_id]
    if method == "GET" and anonymous_allowed(op) and bearer_allowed(op):
        # The same request by the other kind of caller, right after: an answer kept by a
        # cache must not carry one caller's view (myRating, myLike, isSubscribed) to another.
        again = call.copy(token=None if call.token else env.other_user()["access"])
        check_success(again, env.send(again))


@pytest.mark.parametrize("op_id", sorted(operations()))
def test_contract_invalid_requests_get_documented_problems(env, op_id):
    gen = Gen(random.Random(f"{SEED}:{op_id}:invalid"), "typical")
    env.gen = gen
    setup = setup_for(op_id, env, "typical")
    base = build(op_id, setup, gen)
    variants = invalid_calls(base, setup, gen)
    failures = []
    for label, call, member, lenient in variants:
        if setup.renew and not label.startswith("path."):
            call.path = setup.renew()  # a fresh upload: a refused PATCH may remove its own
        resp = env.send(call)
        try:
            if lenient:
                check_success(call, resp)
            else:
                check_refused(call, resp, member)
        except AssertionError as e:
            failures.append(f"{label}: {e}")
    assert not failures, f"{len(failures)} of {len(variants)} variants:\n" + "\n".join(failures)


@pytest.mark.parametrize("op_id", sorted(o for o, (m, t, _, _) in operations().items()
                                          if m == "GET" and o != "media_get"))
def test_contract_head_answers_as_get(env, op_id):
    """`HEAD` is answered wherever `GET` is (the introduction): the same status, media type
    and documented headers, and no body. (media_get's HEAD is nginx's: test_media.)"""
    gen = Gen(random.Random(f"{SEED}:{op_id}:head"), "typical")
    env.gen = gen
    call = build(op_id, setup_for(op_id, env, "typical"), gen)
    got = env.send(call)
    check_success(call, got)
    _, target = call.target()
    head = env.api.request("HEAD", target, token=call.token, headers=call.headers)
    assert head.status_code == got.status_code and head.content == b"", describe(head)
    assert media_type(head) == media_type(got), describe(head)
    doc = deref(operations()[op_id][2]["responses"][str(got.status_code)])
    check_headers(call, head, doc)


def test_contract_every_problem_code_is_in_the_spec():
    """The Problem code enum is exactly what the application and nginx can answer."""
    enum = set(openapi_spec()["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    table = (REPO / "common/problem.c").read_text()
    app = set(re.findall(r'\[PROB_\w+\]\s*=\s*\{\s*\d+,\s*"(\w+)"', table))
    assert app, "no codes found in common/problem.c"
    nginx = set()
    for conf in (REPO / "nginx-conf").rglob("*.conf"):
        text = conf.read_text()
        nginx |= set(re.findall(r'"code":"(\w+)"', text))
        nginx |= set(re.findall(r"set \$media_problem (\w+);", text))
    media = set(re.findall(r'code = "(\w+)"', (REPO / "fcgi/media.c").read_text()))
    assert app - enum == set(), f"codes of common/problem.c missing from the spec: {sorted(app - enum)}"
    assert nginx - enum == set(), f"codes nginx answers missing from the spec: {sorted(nginx - enum)}"
    unused = enum - app - nginx - media
    assert unused == set(), f"codes nobody answers: {sorted(unused)}"


def test_contract_every_route_is_an_operation():
    """The spec documents every route of fcgi/routes.c (nginx's internal subrequests aside),
    and no operation under /api/ that no route serves."""
    text = (REPO / "fcgi/routes.c").read_text()
    rows = set(re.findall(r'\{METHOD_(\w+),\s*"(/[^"]*)"', text))
    routes = {(m, p) for m, p in rows if p.startswith("/api/")}
    documented = {(m, t) for m, t, _, _ in operations().values() if t.startswith("/api/")}
    missing = routes - documented
    assert missing == set(), f"routes the spec does not document: {sorted(missing)}"
    assert documented - routes == set(), f"operations no route serves: {sorted(documented - routes)}"


def _listed_codes(schema):
    """Every code an error schema names in a `code` enum or const, through allOf and oneOf,
    but for Problem's own list of every code."""
    if schema.get("$ref") == "#/components/schemas/Problem":
        return set()
    s = deref(schema)
    code = deref(s.get("properties", {}).get("code", {}))
    out = set(code.get("enum", [])) | ({code["const"]} if "const" in code else set())
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in s.get(key, []):
            out |= _listed_codes(sub)
    return out


def test_contract_every_documented_code_is_a_problem_code():
    """Each operation lists only codes of the Problem enum (one outside it would vanish in the
    allOf with Problem), and, for every error status, the codes and statuses agree with the
    application's table (a code is answered with one status)."""
    spec = openapi_spec()
    problem = spec["components"]["schemas"]["Problem"]
    enum = set(problem["properties"]["code"]["enum"])
    status_of = {code: int(st) for st, code in re.findall(
        r'\[PROB_\w+\]\s*=\s*\{\s*(\d+),\s*"(\w+)"', (REPO / "common/problem.c").read_text())}
    for op_id, (method, tmpl, op, _) in operations().items():
        for status, resp in op["responses"].items():
            if int(status) < 400:
                continue
            codes = _listed_codes(deref(resp)["content"]["application/problem+json"]["schema"])
            assert codes and codes <= enum, \
                f"{op_id} {status}: {sorted(codes - enum)} are not in Problem's enum"
            wrong = {c for c in codes & set(status_of) if status_of[c] != int(status)}
            assert not wrong, f"{op_id} {status}: the server answers {sorted(wrong)} with another status"


def test_contract_upload_takes_twenty_tags_of_forty_characters(env):
    owner = env.user("typical")
    # The most bytes the issue's limits allow: 20 tags of 40 four-byte characters.
    wide = "😀😁😂🤣😃😄😅😆"
    tags = [(wide[i % 8] * 2 + wide[(i // 8) % 8] + wide * 6)[:40] for i in range(20)]
    call = Call("videos_create", body={"video": env.clip_bytes, "title": "Forty", "tags": tags},
                token=owner["access"])
    resp = env.send(call)
    assert resp.status_code == 201, describe(resp)


# ---------------------------------------------------------------------------------------------
# Processing and webhook deliveries: what stremora-worker makes


READY_WITHIN = 180  # seconds for the module's 1 s clip, behind whatever the queue holds
DELIVERED_WITHIN = 120
# What a video in an event's body is at the event, per the spec's descriptions. An event the
# spec adds must be added here too.
EVENT_STATUS = {"video.uploaded": {"processing"}, "video.ready": {"ready"},
                "video.failed": {"failed"}, "video.deleted": {"processing", "ready", "failed"}}


class Receiver:
    """An HTTP endpoint on loopback that records every request (whatever its method) and
    answers 500 to the first one, 204 to the others: one event is then retried."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = 500 if not receiver.requests else 204
                    receiver.requests.append({
                        "method": self.command, "path": self.path, "body": body,
                        "headers": requests.structures.CaseInsensitiveDict(self.headers.items()),
                        "at": time.time(), "answered": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stremora-contract/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def got(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _soft_wait(predicate, timeout, interval=0.2):
    """Polls predicate() until it is true or timeout seconds have passed; its last value.
    The tests then say what is missing."""
    deadline = time.monotonic() + timeout
    while True:
        last = predicate()
        if last or time.monotonic() >= deadline:
            return last
        time.sleep(interval)


def _event_id(req):
    return req["headers"].get("Stremora-Delivery")


@pytest.fixture(scope="module")
def processed(api, clip_bytes):
    """A user with a webhook for every event of the spec to a Receiver, and two uploads of
    theirs followed by stremora-worker to the end: the module's clip (`ready`) and an MP4
    whose header is followed by noise (`failed`). Every answer on the way is kept for the
    tests to check: the uploads, each poll of the videos, their playback links, the ready
    video's media (source, thumbnail, master playlist, a rendition's playlist and its first
    segment), then the deletes. Then waits until the receiver has had every event (six:
    uploaded, ready or failed, deleted, for each video) answered 204."""
    p = types.SimpleNamespace(answers=[], media=[], videos={}, playback={}, ids={})
    p.receiver = Receiver()
    p.owner = create_user(api)
    events = deref(openapi_spec()["components"]["schemas"]["WebhookEventType"])["enum"]
    p.hook_call = Call("webhooks_create", body={"url": p.receiver.url, "events": list(events)},
                       token=p.owner["access"])
    p.hook_resp = p.hook_call.send(api)
    assert p.hook_resp.status_code == 201, describe(p.hook_resp)
    p.hook = p.hook_resp.json()
    token = p.owner["access"]

    def keep(call, into=p.answers):
        r = call.send(api)
        into.append((call, r))
        return r

    noise = random.Random(SEED).randbytes(200_000)
    try:
        for name, data in (("ready", clip_bytes), ("failed", clip_bytes[:64] + noise)):
            r = keep(Call("videos_create", body={"video": data, "title": f"Contract {name}"},
                          token=token))
            assert r.status_code == 201, describe(r)
            p.ids[name] = r.json()["id"]
        for name, vid in p.ids.items():
            call = Call("videos_get", path={"id": vid}, token=token)

            def finished():
                r = keep(call)
                assert r.status_code == 200, describe(r)
                return r.json() if r.json().get("status") != "processing" else None
            p.videos[name] = wait_until(finished, READY_WITHIN, f"video {vid} to be processed",
                                        interval=0.2)
            r = keep(Call("videos_playback", path={"id": vid}, token=token))
            p.playback[name] = r.json() if r.status_code == 200 else {}

        pb = p.playback["ready"]

        def fetch(link):
            return keep(Call("media_get", path=_media_parts(link)), p.media)

        for link in (pb.get("source"), pb.get("thumbnail")):
            if link:
                fetch(link)
        if pb.get("hls"):
            folder = pb["hls"].rsplit("/", 1)[0]
            master = fetch(pb["hls"])
            uris = [ln for ln in master.text.splitlines() if ln and not ln.startswith("#")]
            if master.status_code == 200 and uris:
                index = fetch(f"{folder}/{uris[0]}")
                segs = [ln for ln in index.text.splitlines() if ln and not ln.startswith("#")]
                if index.status_code == 200 and segs:
                    fetch(f"{folder}/{uris[0].rsplit('/', 1)[0]}/{segs[0]}")
        for vid in p.ids.values():
            keep(Call("videos_delete", path={"id": vid}, token=token))
        p.expected = {f"{ev}:{vid}" for vid in p.ids.values()
                      for ev in ("video.uploaded", "video.deleted")}
        p.expected |= {f"video.ready:{p.ids['ready']}", f"video.failed:{p.ids['failed']}"}
        _soft_wait(lambda: p.expected <= {_event_id(q) for q in p.receiver.got()
                                          if 200 <= q["answered"] < 300}, DELIVERED_WITHIN)
        yield p
    finally:
        for vid in p.ids.values():
            api.delete(f"{VIDEOS}/{vid}", token=token)  # 404 once deleted above
        api.delete(f"{HOOKS}/{p.hook['id']}", token=token)
        p.receiver.close()


def test_contract_processing_answers_match_the_spec(processed):
    """Every answer about the two videos, from the upload to the delete, is a documented
    success; the upload starts `queued`, and each video ends as the Video schema's
    description says a `ready` or a `failed` one is."""
    p = processed
    for call, resp in p.answers:
        check_success(call, resp)
    uploads = [r.json() for c, r in p.answers if c.op_id == "videos_create"]
    assert [u["processing"] for u in uploads] == [{"stage": "queued", "percent": 0}] * 2, uploads
    assert [u["status"] for u in uploads] == ["processing"] * 2, uploads
    during = [r.json() for c, r in p.answers
              if c.op_id == "videos_get" and r.json()["status"] == "processing"]
    assert all(v["processing"] is not None for v in during), during
    ready, failed = p.videos["ready"], p.videos["failed"]
    assert ready["status"] == "ready" and ready["processing"] is None, ready
    assert ready["failureReason"] is None and ready["durationSec"] > 0, ready
    # The clip is 160x120: under the lowest rung, so one rung at its own size.
    assert (ready["width"], ready["height"]) == (160, 120), ready
    assert [(r["name"], r["width"], r["height"]) for r in ready["renditions"]] == \
        [("240p", 160, 120)], ready
    assert all(0 < r["averageBandwidth"] <= r["bandwidth"] for r in ready["renditions"]), ready
    assert failed["status"] == "failed" and failed["processing"] is None, failed
    assert isinstance(failed["failureReason"], str) and failed["failureReason"], failed
    assert (failed["durationSec"], failed["width"], failed["height"], failed["renditions"]) == \
        (None, None, None, []), failed
    pb = p.playback
    assert pb["ready"]["hls"].endswith(f"/{ready['id']}/hls/master.m3u8"), pb
    assert pb["ready"]["thumbnail"].endswith(f"/{ready['id']}/thumb.jpg"), pb
    assert (pb["failed"]["hls"], pb["failed"]["thumbnail"]) == (None, None), pb
    assert pb["failed"]["source"].endswith(f"/{failed['id']}/source.mp4"), pb
    deletes = [r.status_code for c, r in p.answers if c.op_id == "videos_delete"]
    assert deletes == [204, 204], deletes


def test_contract_media_of_a_ready_video_is_documented(processed):
    """The files of a ready video, fetched through its playback links as a player does, are
    documented successes of media_get of the media types the spec names for them."""
    got = {}
    for call, resp in processed.media:
        check_success(call, resp)
        got[call.path["path"].rsplit("/", 1)[-1].split("_")[0]] = media_type(resp)
    assert got == {"source.mp4": "video/mp4", "thumb.jpg": "image/jpeg",
                   "master.m3u8": "application/vnd.apple.mpegurl",
                   "index.m3u8": "application/vnd.apple.mpegurl", "seg": "video/mp2t"}, got


@pytest.mark.parametrize("event", sorted(openapi_spec().get("webhooks", {})))
def test_contract_webhook_delivery_matches_the_spec(processed, event):
    """Each delivery of the event is the request the spec's `webhooks` section describes:
    its method, a body of the documented media type and schema, every documented header of
    its schema, the signature of the body with the webhook's secret, and the answer that
    ends it (2xx) or gets it retried with the same body."""
    p = processed
    item = openapi_spec()["webhooks"][event]
    (method,) = [m for m in item if m in HTTP_METHODS]
    op = item[method]
    mt, schema, _ = request_body(op)
    assert event in EVENT_STATUS, f"{event}: say what its video is in EVENT_STATUS"
    got = [q for q in p.receiver.got() if q["headers"].get("Stremora-Event") == event]
    missing = {e for e in p.expected if e.startswith(event + ":")} - \
        {_event_id(q) for q in got if 200 <= q["answered"] < 300}
    assert not missing, (f"{event}: not delivered within {DELIVERED_WITHIN} s: {sorted(missing)} "
                         "(the receiver is on loopback: the stack must run with "
                         "STREMORA_WEBHOOK_ALLOW_PRIVATE=1, as tools/stack does)")
    secret = p.hook["secret"].encode()
    for q in got:
        where = f"{event} {_event_id(q)}"
        assert q["method"] == method.upper(), where
        assert q["path"] == urllib.parse.urlsplit(p.receiver.url).path, where
        ctype = q["headers"].get("Content-Type", "").split(";")[0].strip()
        assert ctype == mt, f"{where}: Content-Type {ctype!r}"
        body = json.loads(q["body"])
        bad = problems(schema, body)
        assert not bad, f"{where}: the body breaks its schema: {bad[:5]}"
        for prm in map(deref, op.get("parameters", [])):
            assert prm["in"] == "header", prm
            value = q["headers"].get(prm["name"])
            if prm.get("required"):
                assert value is not None, f"{where}: no {prm['name']} header"
            if value is not None:
                bad = problems(prm["schema"], value)
                assert not bad, f"{where}: its {prm['name']} header breaks its schema: {bad}"
        video = body["data"]["video"]
        assert body["type"] == event and body["id"] == f"{event}:{video['id']}", body
        assert _event_id(q) == body["id"], where
        assert video["id"] in p.ids.values() and video["ownerId"] == p.owner["id"], video
        assert video["status"] in EVENT_STATUS[event], f"{where}: {video['status']}"
        sig = dict(kv.split("=", 1) for kv in q["headers"]["Stremora-Signature"].split(","))
        mac = hmac.new(secret, sig["t"].encode() + b"." + q["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(mac, sig["v1"]), f"{where}: the signature does not verify"
        assert abs(int(sig["t"]) - q["at"]) <= 300, f"{where}: t={sig['t']}, got at {q['at']}"
        # The answer as the spec reads it: one that ends the delivery (documented for its
        # status or its range) is the event's last attempt; any other (`default`) is retried.
        status = str(q["answered"])
        ends = status in op["responses"] or f"{status[0]}XX" in op["responses"]
        assert ends or "default" in op["responses"], f"{where}: {status} is not documented"
        later = [r for r in got if _event_id(r) == _event_id(q) and r["at"] > q["at"]]
        assert bool(later) != ends, f"{where}: answered {status}, then {len(later)} attempts"
    for eid in {_event_id(q) for q in got}:
        bodies = {q["body"] for q in got if _event_id(q) == eid}
        assert len(bodies) == 1, f"{eid}: attempts sent different bodies"
    if event == "video.deleted":
        # The video as it was when deleted: the one processing had finished.
        for q in got:
            video = json.loads(q["body"])["data"]["video"]
            name = "ready" if video["id"] == p.ids["ready"] else "failed"
            # Events carry no caller's view: no owner card, no myRating.
            shown = {k: v for k, v in p.videos[name].items() if k not in ("owner", "myRating")}
            assert video == shown, f"{_event_id(q)}: {video}"


def test_contract_delivery_attempts_match_the_spec(processed, env):
    """webhooks_deliveries lists, page by page, one documented item per request the receiver
    got: the status it answered (a 500 too), no error, attempts counted per event; and for
    a webhook whose endpoint does not answer, a `null` status with the error in words."""
    p = processed
    token, hook = p.owner["access"], p.hook["id"]
    got = p.receiver.got()
    assert got, "the receiver got no delivery"

    def listed():
        call = Call("webhooks_deliveries", path={"id": hook}, query={"limit": "100"}, token=token)
        resp = call.send(env.api)
        check_success(call, resp)
        return resp.json()["items"]

    # Each attempt is recorded once its answer is in: the last one may lag the receiver.
    _soft_wait(lambda: len(listed()) >= len(got), 30)
    items = listed()
    assert sorted((i["eventId"], i["statusCode"]) for i in items) == \
        sorted((_event_id(q), q["answered"]) for q in got), items
    assert 500 in [i["statusCode"] for i in items], "the first delivery was answered 500"
    assert all(i["error"] is None for i in items), items
    for eid in {i["eventId"] for i in items}:
        mine = sorted((i["attempt"], i["statusCode"]) for i in items if i["eventId"] == eid)
        assert [a for a, _ in mine] == list(range(1, len(mine) + 1)), f"{eid}: {mine}"
        # A 2xx ends the delivery: only the last attempt may have one.
        assert not any(200 <= s < 300 for _, s in mine[:-1]), f"{eid}: {mine}"
        assert all(i["event"] == eid.split(":")[0] for i in items if i["eventId"] == eid)
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True), items
    # The same list two at a time, through the cursors.
    paged, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        call = Call("webhooks_deliveries", path={"id": hook}, query=query, token=token)
        resp = call.send(env.api)
        check_success(call, resp)
        paged += [i["id"] for i in resp.json()["items"]]
        cursor = resp.json()["nextCursor"]
        if cursor is None:
            break
    assert paged == [i["id"] for i in items]
    # Attempts that got no answer at all (the module's webhook to HOOK_SINK).
    owner, sink = env.delivered_hook()
    call = Call("webhooks_deliveries", path={"id": sink["id"]}, token=owner["access"])
    resp = call.send(env.api)
    check_success(call, resp)
    for i in resp.json()["items"]:
        assert i["statusCode"] is None and isinstance(i["error"], str) and i["error"], i


def test_contract_webhook_events_are_the_servers():
    """The spec's `webhooks` section, the WebhookEventType enum, the names the API takes
    (fcgi/webhooks.c) and those stremora-worker emits (worker/) are the same events, and
    each entry of the section describes its own event."""
    spec = openapi_spec()
    hooks = spec.get("webhooks", {})
    enum = set(deref(spec["components"]["schemas"]["WebhookEventType"])["enum"])
    table = re.search(r"event_names\[[^\]]*\]\s*=\s*\{([^}]*)\}",
                      (REPO / "fcgi/webhooks.c").read_text())
    assert table, "no event_names table in fcgi/webhooks.c"
    taken = set(re.findall(r'"([^"]+)"', table.group(1)))
    code = "".join(ln + "\n" for f in sorted((REPO / "worker").glob("*.c"))
                   for ln in f.read_text().splitlines() if not ln.startswith("#include"))
    emitted = set(re.findall(r'"(video\.[a-z]+)"', code))
    assert set(hooks) == enum, f"webhooks {sorted(hooks)} != WebhookEventType {sorted(enum)}"
    assert taken == enum, f"the API takes {sorted(taken)}, the spec names {sorted(enum)}"
    assert emitted == enum, \
        f"stremora-worker emits {sorted(emitted)}, the spec names {sorted(enum)}"
    for name, item in hooks.items():
        (method,) = [m for m in item if m in HTTP_METHODS]
        _, schema, _ = request_body(item[method])
        consts = [deref(s).get("properties", {}).get("type", {}).get("const")
                  for s in deref(schema).get("allOf", [])]
        assert name in consts, f"webhooks.{name}: its body's type is not {name}"
