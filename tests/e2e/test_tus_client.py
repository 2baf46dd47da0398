"""The real tus-js-client (npm, in Node) against /api/v1/uploads: a 30 MB clip in 5 MB chunks,
aborted halfway, resumed from the URL the client stored, finished, and processed to ready.
tus_client.mjs drives the client; this file makes the clip and checks what the server holds."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import _ffmpeg, sha256_file, wait_until

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "tus_client.mjs"
MB = 1 << 20
CHUNK = 5 * MB


@pytest.fixture(scope="module")
def clip30(tmp_path_factory):
    """A playable MJPEG AVI of 30-34 MB (noisy 720p frames)."""
    path = tmp_path_factory.mktemp("tus") / "thirty.avi"
    frames = 60
    for _ in range(4):
        rc, err = _ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25",
                           "-vf", "noise=alls=60:allf=t+u", "-frames:v", str(frames),
                           "-c:v", "mjpeg", "-q:v", "1", "-an", str(path)], timeout=300)
        assert rc == 0, f"ffmpeg could not make the clip: {err}"
        size = path.stat().st_size
        if 30 * MB <= size <= 34 * MB:
            return path
        frames = max(1, int(frames * 32 * MB / size))
    pytest.fail(f"could not make a 30 MB clip (last {size} bytes)")


def test_tus_js_client_aborts_resumes_and_the_video_becomes_ready(api, user, clip30, tmp_path):
    node = shutil.which("node")
    assert node, "node is not installed (deploy/install-deps installs it)"
    size = clip30.stat().st_size
    p = subprocess.run(
        [node, str(CLIENT), api.base, user["access"], str(clip30), str(CHUNK), str(15 * MB),
         str(tmp_path / "urls.json")],
        capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"tus-js-client failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
    out = json.loads(p.stdout.strip().splitlines()[-1])

    # Phase 1 sent 5 MB chunks in order and stopped at or past 15 MB, before the end.
    assert out["firstOffsets"] == [i * CHUNK for i in range(len(out["firstOffsets"]))]
    assert 15 * MB <= out["abortedAt"] < size
    # Phase 2 resumed the same upload where the server said it stood, not from zero.
    assert out["resumedUrl"] == out["url"]
    assert out["resumedFrom"] == out["abortedAt"]
    assert out["patches"] == -(-size // CHUNK)
    upload_id = out["url"].rstrip("/").rsplit("/", 1)[1]
    assert out["videoId"] == upload_id

    # The video has every byte, and is processed like any upload.
    r = api.get(f"/api/v1/videos/{upload_id}", token=user["access"])
    assert r.status_code == 200, r.text
    assert r.json()["sha256"] == sha256_file(clip30)
    assert r.json()["size"] == size
    assert r.json()["title"] == "Resumed upload"
    assert r.json()["tags"] == ["tus", "interop"]

    def ready():
        v = api.get(f"/api/v1/videos/{upload_id}", token=user["access"]).json()
        assert v["status"] != "failed", v.get("failureReason")
        return v["status"] == "ready"

    wait_until(ready, 240, "the resumed upload to be processed")
    pb = api.get(f"/api/v1/videos/{upload_id}/playback", token=user["access"])
    assert pb.status_code == 200 and pb.json()["hls"], pb.text
