#!/usr/bin/env python3
"""tus_upload.py - a minimal tus 1.0 client for the benchmarks (tools/bench): creates an
upload of FILE and PATCHes it in CHUNK-byte requests, optionally paced to RATE bytes/s (a
slow client). Prints "<seconds> <video id>" on success; exits 1 with the failing answer.

  tus_upload.py URL TOKEN FILE CHUNK [RATE]
"""
import http.client
import os
import sys
import time
import urllib.parse


def paced(f, n, rate, piece=64 * 1024):
    """Yields n bytes of f, no faster than rate bytes/s (rate 0: as fast as possible)."""
    start, sent = time.monotonic(), 0
    while sent < n:
        b = f.read(min(piece, n - sent))
        if not b:
            raise IOError("file shorter than expected")
        yield b
        sent += len(b)
        if rate:
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)


def main():
    url, token, path, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rate = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    u = urllib.parse.urlsplit(url)
    size = os.path.getsize(path)
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    t0 = time.monotonic()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
    c.request("POST", "/api/v1/uploads", headers={
        **auth, "Upload-Length": str(size),
        "Upload-Metadata": "title YmVuY2g=,filename YmVuY2gubWt2"})  # bench, bench.mkv
    r = c.getresponse()
    r.read()
    if r.status != 201:
        sys.exit(f"POST: {r.status}")
    loc = r.getheader("Location")
    off, video = 0, None
    with open(path, "rb") as f:
        while off < size:
            n = min(chunk, size - off)
            c.request("PATCH", loc, body=paced(f, n, rate), headers={
                **auth, "Upload-Offset": str(off), "Content-Length": str(n),
                "Content-Type": "application/offset+octet-stream"})
            r = c.getresponse()
            body = r.read()
            if r.status != 204:
                sys.exit(f"PATCH at {off}: {r.status} {body[:300]!r}")
            off = int(r.getheader("Upload-Offset"))
            video = r.getheader("Stremora-Video-Id") or video
    print(f"{time.monotonic() - t0:.3f} {video}")


if __name__ == "__main__":
    main()
