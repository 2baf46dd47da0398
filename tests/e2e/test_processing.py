"""Processing by stremora-worker: uploads become HLS ladders with a thumbnail, progress,
ready or failed (with a reason), retries after a killed worker, exclusive claims, deletion in
the middle, and the sweeps that replaced the FastCGI workers' start-up sweep.

Clips are real (ffmpeg -f lavfi testsrc2 + sine). Everything a player fetches goes through
the signed /media/ links, over HTTP, as a player would.
"""

import json
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest
import requests

from conftest import (
    BASE_URL,
    DB_NAME,
    MEDIA,
    MONGODB_URI,
    VIDEOS,
    HeldUpload,
    assert_problem,
    create_user,
    describe,
    get_playback,
    owner_docs,
    read_pid,
    pids_of_children,
    stack,
    upload,
    video_parts,
    wait_until,
)

READY_WITHIN = 180  # seconds: a 10 s 1080p clip on two busy cores, with margin


def _ff(args, timeout=180):
    p = subprocess.run(["ffmpeg", "-v", "error", "-y", *args], capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, p.stderr[-2000:]


@pytest.fixture(scope="session")
def media_clips(tmp_path_factory):
    """{name: Path}: 1080p 10 s with audio, 720p portrait, no audio, 3 s, rotated, broken."""
    d = tmp_path_factory.mktemp("processing")
    enc = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    out = {}
    out["1080p"] = d / "c1080.mp4"
    _ff(["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=10",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=10", *enc, "-c:a", "aac", "-shortest",
         str(out["1080p"])])
    out["portrait"] = d / "portrait.mp4"
    _ff(["-f", "lavfi", "-i", "testsrc2=size=720x1280:rate=30:duration=4",
         "-f", "lavfi", "-i", "sine=frequency=330:duration=4", *enc, "-c:a", "aac", "-shortest",
         str(out["portrait"])])
    out["silent"] = d / "silent.mp4"
    _ff(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=4", *enc, "-an",
         str(out["silent"])])
    out["short"] = d / "short.mp4"
    _ff(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3",
         "-f", "lavfi", "-i", "sine=frequency=550:duration=3", *enc, "-c:a", "aac", "-shortest",
         str(out["short"])])
    # A 640x360 picture stored sideways with a display matrix (set while remuxing, as a
    # phone does): shown as portrait 360x640.
    flat = d / "flat.mp4"
    _ff(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=3", *enc, str(flat)])
    out["rotated"] = d / "rotated.mp4"
    _ff(["-i", str(flat), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(out["rotated"])])
    # A valid MP4 header with garbage after it: the container sniff passes, the video does not.
    good = out["short"].read_bytes()
    out["broken"] = d / "broken.mp4"
    out["broken"].write_bytes(good[:64] + os.urandom(200_000))
    return out


def _video(vid, token=None):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.get(f"{BASE_URL}{VIDEOS}/{vid}", headers=h, timeout=10)
    assert r.status_code == 200, describe(r)
    return r.json()


def _wait_finished(vid, token=None, timeout=READY_WITHIN, seen=None):
    """Polls the video until it is ready or failed; seen (a list) collects its processing."""
    def finished():
        v = _video(vid, token)
        if seen is not None and v["processing"] is not None:
            seen.append((v["processing"]["stage"], v["processing"]["percent"]))
        return v if v["status"] in ("ready", "failed") else None

    return wait_until(finished, timeout, f"video {vid} to be processed", 0.2)


def _upload(user, path, **fields):
    r = upload(requests_api(), user["access"], video_parts(path, filename=path.name, **fields),
               stream=True, timeout=120)
    assert r.status_code == 201, describe(r)
    doc = r.json()
    assert doc["status"] == "processing", doc
    assert doc["processing"] == {"stage": "queued", "percent": 0}, doc
    return doc


_API = None


def requests_api():
    from conftest import Api

    global _API
    if _API is None:
        _API = Api(BASE_URL)
    return _API


def _ffprobe_url(url, *args):
    p = subprocess.run(["ffprobe", "-v", "error", *args, "-of", "json", BASE_URL + url],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"ffprobe {url}: {p.stderr[-1000:]}"
    return json.loads(p.stdout)


def _master(pb):
    r = requests.get(BASE_URL + pb["hls"], timeout=10)
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    lines = r.text.splitlines()
    assert lines[0] == "#EXTM3U"
    rungs = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = {}
            for part in _split_attrs(line.split(":", 1)[1]):
                k, _, v = part.partition("=")
                attrs[k] = v.strip('"')
            rungs.append((attrs, lines[i + 1]))
    return rungs


def _split_attrs(s):
    out, cur, quoted = [], "", False
    for ch in s:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


@pytest.fixture(scope="session")
def ready_1080(media_clips):
    """The 1080p clip uploaded once and processed: (owner, video, progress seen)."""
    owner = create_user(requests_api())
    v = _upload(owner, media_clips["1080p"], title="Ladder")
    seen = []
    done = _wait_finished(v["id"], seen=seen)
    return owner, done, seen


def test_processing_1080p_ladder(ready_1080):
    owner, v, _ = ready_1080
    assert v["status"] == "ready", v
    assert v["processing"] is None and v["failureReason"] is None
    assert abs(v["durationSec"] - 10.0) <= 0.5, v
    assert (v["width"], v["height"]) == (1920, 1080)
    names = [r["name"] for r in v["renditions"]]
    assert names == ["1080p", "720p", "480p", "360p", "240p"], names
    sizes = [(r["width"], r["height"]) for r in v["renditions"]]
    assert sizes == [(1920, 1080), (1280, 720), (854, 480), (640, 360), (426, 240)], sizes
    for r in v["renditions"]:
        assert 0 < r["averageBandwidth"] <= r["bandwidth"], r


def test_processing_master_playlist_attributes(ready_1080):
    _, v, _ = ready_1080
    pb = get_playback(requests_api(), v["id"])
    rungs = _master(pb)
    assert [uri for _, uri in rungs] == [f"{n}/index.m3u8" for n in
                                         ("1080p", "720p", "480p", "360p", "240p")]
    # High profile at the lowest level each rung fits at 30 fps (480p: 1620 macroblocks x 30
    # is past level 3.0), and a peak no higher than the rung's cap allows: maxrate plus what
    # its buffer (2 x maxrate) can add over one 6 s segment, audio and MPEG-TS overhead.
    codecs = ["avc1.640028", "avc1.64001f", "avc1.64001f", "avc1.64001e", "avc1.64001e"]
    caps_k = [5000 + 128, 2800 + 128, 1400 + 96, 800 + 96, 400 + 64]
    for (attrs, _), codec, cap_k in zip(rungs, codecs, caps_k):
        for k in ("BANDWIDTH", "AVERAGE-BANDWIDTH", "RESOLUTION", "CODECS", "FRAME-RATE"):
            assert k in attrs, attrs
        assert int(attrs["AVERAGE-BANDWIDTH"]) <= int(attrs["BANDWIDTH"])
        assert int(attrs["BANDWIDTH"]) <= cap_k * 1000 * 1.6, attrs
        assert attrs["CODECS"] == f"{codec},mp4a.40.2", attrs
        assert abs(float(attrs["FRAME-RATE"]) - 30.0) < 0.01
    assert rungs[0][0]["RESOLUTION"] == "1920x1080"


def test_processing_every_rung_decodes_from_signed_links(ready_1080):
    _, v, _ = ready_1080
    pb = get_playback(requests_api(), v["id"])
    base = pb["hls"].rsplit("/", 1)[0]
    keyframes = {}
    for r in v["renditions"]:
        url = f"{base}/{r['name']}/index.m3u8"
        info = _ffprobe_url(url, "-show_streams", "-show_format")
        video = [s for s in info["streams"] if s["codec_type"] == "video"]
        audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
        assert video and (video[0]["width"], video[0]["height"]) == (r["width"], r["height"])
        assert video[0]["codec_name"] == "h264" and video[0]["profile"] == "High", video[0]
        assert audio and audio[0]["codec_name"] == "aac", audio
        assert abs(float(info["format"]["duration"]) - 10.0) <= 0.5, info["format"]
        frames = _ffprobe_url(url, "-select_streams", "v:0", "-skip_frame", "nokey",
                              "-show_entries", "frame=pts_time")["frames"]
        keyframes[r["name"]] = [round(float(f["pts_time"]), 2) for f in frames]
    # Keyframes at the same instants in every rung, every 2 s.
    first = keyframes["1080p"]
    assert len(first) >= 5, first
    for name, ks in keyframes.items():
        assert ks == first, f"{name}: {ks} != 1080p: {first}"
    gaps = {round(b - a, 1) for a, b in zip(first, first[1:])}
    assert gaps == {2.0}, first


def test_processing_thumbnail_is_a_picture(ready_1080, tmp_path):
    _, v, _ = ready_1080
    pb = get_playback(requests_api(), v["id"])
    r = requests.get(BASE_URL + pb["thumbnail"], timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg", describe(r)
    assert r.content[:3] == b"\xff\xd8\xff"
    path = tmp_path / "thumb.jpg"
    path.write_bytes(r.content)
    info = _ffprobe_url_file(path, "-show_streams")
    assert info["streams"][0]["width"] <= 1280
    # Not uniform: the picture's luma varies (signalstats YDIF/YHIGH-YLOW on the frame).
    p = subprocess.run(["ffprobe", "-v", "error", "-f", "lavfi", "-i",
                        f"movie={path},signalstats", "-show_entries",
                        "frame_tags=lavfi.signalstats.YLOW,lavfi.signalstats.YHIGH", "-of", "json"],
                       capture_output=True, text=True, timeout=60)
    tags = json.loads(p.stdout)["frames"][0]["tags"]
    assert float(tags["lavfi.signalstats.YHIGH"]) - float(tags["lavfi.signalstats.YLOW"]) > 50, tags


def _ffprobe_url_file(path, *args):
    p = subprocess.run(["ffprobe", "-v", "error", *args, "-of", "json", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_processing_progress_goes_up(ready_1080):
    _, v, seen = ready_1080
    percents = [p for stage, p in seen if stage == "transcode" and p is not None]
    assert percents, f"no transcode progress seen: {seen}"
    assert percents == sorted(percents), f"{percents} {seen}"
    assert max(percents) >= 50, percents
    stages = []
    for stage, _ in seen:
        if not stages or stages[-1] != stage:
            stages.append(stage)
    order = ["queued", "probe", "transcode", "thumbnail", "publish"]
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages), stages


@pytest.mark.parametrize("name,size,audio", [
    ("portrait", (720, 1280), True),
    ("silent", (640, 360), False),
    ("short", (320, 240), True),
    ("rotated", (360, 640), False),
])
def test_processing_shapes(media_clips, name, size, audio):
    owner = create_user(requests_api())
    v = _wait_finished(_upload(owner, media_clips[name])["id"])
    assert v["status"] == "ready", v
    assert (v["width"], v["height"]) == size, v
    top = v["renditions"][0]
    assert (top["width"], top["height"]) == size, v["renditions"]  # never upscaled
    for r in v["renditions"]:  # orientation kept in every rung
        assert (r["width"] > r["height"]) == (size[0] > size[1]), r
    pb = get_playback(requests_api(), v["id"])
    for attrs, _ in _master(pb):
        assert attrs["CODECS"].endswith(",mp4a.40.2") == audio, attrs
    info = _ffprobe_url(pb["hls"].rsplit("/", 1)[0] + f"/{top['name']}/index.m3u8",
                       "-show_streams")
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == (["audio", "video"] if audio else ["video"]), kinds


def test_processing_broken_file_fails_with_a_reason(media_clips):
    owner = create_user(requests_api())
    v = _wait_finished(_upload(owner, media_clips["broken"])["id"], token=owner["access"])
    assert v["status"] == "failed", v
    assert isinstance(v["failureReason"], str) and v["failureReason"], v
    assert v["processing"] is None
    r = requests.get(f"{BASE_URL}{VIDEOS}/{v['id']}/playback",
                     headers={"Authorization": f"Bearer {owner['access']}"}, timeout=10)
    assert r.status_code == 200 and r.json()["hls"] is None, describe(r)
    # The reason is for its owner: to anyone else a failed public video is not there.
    for path in ("", "/playback"):
        assert_problem(requests.get(f"{BASE_URL}{VIDEOS}/{v['id']}{path}", timeout=10), 404,
                       "video_not_found")


# ---------------------------------------------------------------------------------------------
# Jobs: a killed worker, exclusive claims, a video deleted in the middle


def _db():
    import pymongo

    return pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000)[DB_NAME]


def _process_job(vid):
    from bson import ObjectId

    return _db().jobs.find_one({"kind": "process", "videoId": ObjectId(vid)})


def _transcoding_worker(vid):
    """The pid of the stremora-worker running vid's job once its ffmpeg is under way."""
    def running():
        v = _video(vid)
        j = _process_job(vid)
        if v["processing"] and v["processing"]["stage"] == "transcode" and j and j["leaseOwner"]:
            return int(j["leaseOwner"].rsplit(":", 1)[1])
        return None

    return wait_until(running, 60, f"video {vid} to be transcoding", 0.1)


def test_processing_killed_worker_job_is_taken_again(media_clips):
    owner = create_user(requests_api())
    v = _upload(owner, media_clips["1080p"], title="Killed")
    pid = _transcoding_worker(v["id"])
    workers = read_pid("worker")
    assert pid in pids_of_children(workers), f"{pid} is not a job worker"
    os.kill(pid, signal.SIGKILL)
    # Its ffmpeg dies with it at once (parent-death signal): none writes to its work folder.
    wait_until(lambda: _ffmpeg_of(v["id"], pid) == [], 10, "the killed worker's ffmpeg to go")
    # After the lease another attempt finishes the video.
    done = _wait_finished(v["id"])
    assert done["status"] == "ready", done
    job = _process_job(v["id"])
    assert job["status"] == "done" and job["attempts"] == 2, job


def _ffmpeg_of(vid, pid=None):
    """Pids of the ffmpeg processes writing vid's work folder (of worker pid, if given)."""
    pattern = f"{vid}.work.*" + (f"\\.{pid}/" if pid is not None else "")
    p = subprocess.run(["pgrep", "-f", f"ffmpeg.*{pattern}"], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


def test_processing_sigterm_gives_the_job_back(media_clips):
    # Stopping the workers (SIGTERM, as a service manager does) in the middle of a transcode:
    # ffmpeg is stopped, the attempt is given back (not counted, the video not failed), and
    # the next worker finishes it.
    owner = create_user(requests_api())
    v = _upload(owner, media_clips["1080p"], title="Stopped")
    _transcoding_worker(v["id"])
    assert _ffmpeg_of(v["id"]) != []
    try:
        stack("worker-stop")
        assert _ffmpeg_of(v["id"]) == []
        job = _process_job(v["id"])
        assert job["status"] == "queued" and job["attempts"] == 0, job
        assert _video(v["id"])["status"] == "processing"
    finally:
        stack("worker-start")
    done = _wait_finished(v["id"])
    assert done["status"] == "ready", done
    assert _process_job(v["id"])["attempts"] == 1


def test_processing_each_job_runs_once(media_clips):
    # Twenty uploads at once, two workers: every job claimed and run exactly once.
    owner = create_user(requests_api())
    ids = [_upload(owner, media_clips["short"], title=f"Race {i}")["id"] for i in range(20)]
    for vid in ids:
        assert _wait_finished(vid)["status"] == "ready"
    db = _db()
    for vid in ids:
        job = _process_job(vid)
        assert job["status"] == "done" and job["attempts"] == 1, job
        claims = list(db.job_claims.find({"jobId": job["_id"]}))
        assert [c["_id"] for c in claims] == [f"{job['_id']}:1"], claims


def test_processing_deleted_in_the_middle_leaves_nothing(media_clips):
    owner = create_user(requests_api())
    v = _upload(owner, media_clips["1080p"], title="Deleted midway")
    _transcoding_worker(v["id"])
    r = requests.delete(f"{BASE_URL}{VIDEOS}/{v['id']}",
                        headers={"Authorization": f"Bearer {owner['access']}"}, timeout=10)
    assert r.status_code == 204, describe(r)

    def gone():
        job = _process_job(v["id"])
        leftovers = [p.name for p in (MEDIA / "tmp").iterdir() if p.name.startswith(v["id"])]
        return (job["status"] == "done" and not (MEDIA / "videos" / v["id"]).exists()
                and not leftovers)

    wait_until(gone, 60, "the job to stop and every file to go")
    assert _db().videos.find_one({"title": "Deleted midway"}) is None
    assert requests.get(f"{BASE_URL}{VIDEOS}/{v['id']}", timeout=10).status_code == 404


# ---------------------------------------------------------------------------------------------
# Sweeps (the test stack: STREMORA_SWEEP_INTERVAL=1, STREMORA_UPLOAD_STALE=5)


def test_sweep_removes_an_abandoned_upload(media_clips):
    owner = create_user(requests_api())
    held = HeldUpload(owner["access"], media_clips["short"].read_bytes())
    try:
        wait_until(lambda: held.temp_file() is not None, 10, "the upload's temp file")
        name = held.temp_file()
        held.kill()  # dies without a word: its document goes stale
        wait_until(lambda: not owner_docs(_db().videos, owner["id"])
                   and not (MEDIA / "tmp" / name).exists(), 30,
                   "the sweep to remove the abandoned upload")
    finally:
        if held.p.poll() is None:
            held.kill()


def test_sweep_spares_a_slow_live_upload(media_clips):
    # Sending for longer than STREMORA_UPLOAD_STALE (5 s): the upload refreshes its document,
    # the sweep leaves it alone, and it ends 201.
    owner = create_user(requests_api())
    data = media_clips["short"].read_bytes()
    held = HeldUpload(owner["access"], data[:1024])
    boundary_tail = None
    try:
        wait_until(lambda: owner_docs(_db().videos, owner["id"], status="uploading"), 10,
                   "the uploading document")
        deadline = time.monotonic() + 8
        rest = data[1024:]
        step = max(1, len(rest) // 20)
        i = 0
        while time.monotonic() < deadline:
            if i < len(rest):
                held.p.stdin.write(rest[i:i + step])
                held.p.stdin.flush()
                i += step
            else:  # keep it going with padding the multipart file part absorbs
                held.p.stdin.write(b"\x00" * 16)
                held.p.stdin.flush()
            time.sleep(0.4)  # the slow client under test
            assert owner_docs(_db().videos, owner["id"], status="uploading"), "swept while alive"
        boundary_tail = held.finish()
    finally:
        if held.p.poll() is None:
            held.kill()
    assert boundary_tail is not None and boundary_tail.startswith(b"Status: 201"), boundary_tail


def test_sweep_removes_a_media_folder_without_a_video():
    orphan = MEDIA / "videos" / ("0" * 8 + uuid.uuid4().hex[:16])
    (orphan / "hls").mkdir(parents=True)
    (orphan / "hls" / "seg.ts").write_bytes(b"x" * 100)
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    wait_until(lambda: not orphan.exists(), 30, "the sweep to remove the orphan folder")


def test_sweep_keeps_a_fresh_folder_and_real_videos(ready_1080):
    _, v, _ = ready_1080
    fresh = MEDIA / "videos" / ("0" * 8 + uuid.uuid4().hex[:16])
    fresh.mkdir()
    try:
        time.sleep(2.5)  # two sweeps at least (STREMORA_SWEEP_INTERVAL=1)
        assert fresh.exists(), "a folder younger than the grace was swept"
        assert (MEDIA / "videos" / v["id"] / "hls" / "master.m3u8").exists()
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def test_sweep_prunes_old_finished_jobs():
    import datetime

    from bson import ObjectId

    db = _db()
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=8)
    jid = ObjectId()
    db.jobs.insert_one({"_id": jid, "kind": "event", "key": f"test:{jid}", "status": "done",
                        "attempts": 1, "maxAttempts": 1, "runAfter": old, "leaseExpires": old,
                        "leaseOwner": "", "deadline": old, "payload": {}, "error": "",
                        "createdAt": old, "updatedAt": old, "finishedAt": old})
    wait_until(lambda: db.jobs.find_one({"_id": jid}) is None, 30, "the old job to be pruned")
