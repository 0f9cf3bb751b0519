"""The HTTP service through a real uvicorn server on a loopback port and a real HTTP client (httpx)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

import app
from cli import main
from service import create_app
from service.limits import Limits
from tests.media import write_indexed_clip

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TOKEN = "test-token-42"
LIMITS = dict(max_upload_bytes=256 * 1024, max_duration_s=6.0)  # demo clips: about 10 kB and 4 s


@dataclass
class Served:
    url: str
    store: app.Store
    holdout: Path  # clips the store has never seen, one per class
    uploads: Path  # the server's upload folder
    api: object

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A flow_motion store of the demo clips (one augmented view each) with a k-NN screw detector, served."""
    base = tmp_path_factory.mktemp("served")
    videos = base / "videos"
    shutil.copytree(demo_root / "videos", videos)
    shutil.copy(demo_root / "new" / "screw.mp4", videos / "screw" / "extra.mp4")
    store = app.open_store(base / "store")
    app.ingest(store, videos, progress=False)
    app.embed(store, backbone="flow_motion", progress=False)
    app.augment(store, views=1, progress=False)
    app.train(store, "screw-knn", target="screw", kind="knn", progress=False)
    (base / "uploads").mkdir()
    api = create_app(store.root, token=TOKEN, limits=Limits(**LIMITS, upload_dir=base / "uploads"))
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield Served(f"http://127.0.0.1:{server.config.port}", store, demo_root / "new", base / "uploads", api)
    server.should_exit = True
    thread.join(timeout=10)


def cli_json(store: app.Store, *args: str) -> object:
    result = CliRunner().invoke(main, ["--store", str(store.root), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def upload(path: Path, name: str | None = None) -> dict:
    return {"clip": (name or path.name, path.read_bytes(), "video/mp4")}


BOUNDARY = "actionstore-test-boundary"


def chunked_form(path: Path, chunk: int = 16_384) -> Iterator[bytes]:
    """A multipart body with ``path`` as its ``clip``, sent in chunks without a Content-Length."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"clip\"; filename=\"{path.name}\"\r\n"
           "Content-Type: video/mp4\r\n\r\n").encode()
    data = path.read_bytes()
    yield from (data[i:i + chunk] for i in range(0, len(data), chunk))
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def one_line_error(response: httpx.Response, status: int, kind: str, param: str | None = None) -> str:
    """The response is ``status`` with one line of JSON naming ``kind`` (and ``param``); returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message", "param"} and body["error"] == kind, body
    assert "\n" not in body["message"] and "Traceback" not in body["message"] and body["message"], body
    assert param is None or body["param"] == param, body
    return body["message"]


def test_reads_answer_what_the_cli_prints(served: Served) -> None:
    store = served.store
    with served.client() as http:
        assert http.get("/sets").json() == cli_json(store, "sets")
        assert http.get("/detectors").json() == cli_json(store, "detector", "list")
        query = "SELECT label, count(*) AS n FROM videos GROUP BY label ORDER BY label"
        sql = http.post("/sql", json={"query": query}).json()
        assert sql["rows"] == cli_json(store, "sql", query) and sql["columns"] == ["label", "n"]
        assert (sql["row_limit"], sql["time_limit_s"], sql["truncated"]) == (10_000, 30.0, False)
        capped = http.post("/sql", json={"query": "SELECT * FROM videos", "limit": 3}).json()
        assert (len(capped["rows"]), capped["row_limit"], capped["truncated"]) == (3, 3, True)
        video_id = store.videos()[0]["video_id"]
        stored = http.post("/neighbors", data={"video": video_id, "k": "4"}).json()
        assert stored == cli_json(store, "neighbors", video_id, "-k", "4")
        assert stored["embedded_now"] is False and stored["neighbors"][0]["video_id"] == video_id
        page = http.get("/videos", params={"label": "unscrew", "limit": 1, "offset": 1}).json()
        unscrews = [v for v in store.videos() if v["label"] == "unscrew"]
        assert page["total"] == len(unscrews) == 2 and [v["video_id"] for v in page["videos"]] == [unscrews[1]["video_id"]]
        around = http.post("/within", data={"centroid": "screw", "radius": "3"}).json()
        assert around == cli_json(store, "within", "--centroid", "screw", "--radius", "3") and around["counts"]
        assert http.get(f"/videos/{video_id}").json()["path"] == store.videos()[0]["path"]
        assert http.get("/health").json() == {"status": "ok", "videos": len(store.videos()), "sets": 1}
        assert "flow_motion" in {b["name"] for b in http.get("/backbones").json()}


def test_an_uploaded_clip_gets_the_neighbours_and_verdict_the_cli_gives(served: Served) -> None:
    clip = served.holdout / "unscrew.mp4"
    with served.client() as http:
        found = http.post("/neighbors", files=upload(clip, "phone clip.mp4"), data={"k": "3", "label": ["unscrew", "screw"]})
        verdict = http.post("/score", files=upload(clip), data={"detector": "screw-knn", "k": "2"})
        inside = http.post("/within", files=upload(clip), data={"radius": "3"})
    assert found.status_code == 200, found.text
    body, cli = found.json(), cli_json(served.store, "neighbors", str(clip), "-k", "3", "--label", "unscrew", "--label", "screw")
    assert body["embedded_now"] is True and body["query"] == "phone clip.mp4"
    assert body["neighbors"] == cli["neighbors"] and {n["label"] for n in body["neighbors"]} <= {"unscrew", "screw"}
    assert verdict.status_code == 200, verdict.text
    expected = cli_json(served.store, "score", str(clip), "--detector", "screw-knn", "-k", "2")
    assert verdict.json() | {"clip": None} == expected | {"clip": None} and verdict.json()["clip"] == "unscrew.mp4"
    in_cli = cli_json(served.store, "within", str(clip), "--radius", "3")
    assert inside.json()["rows"] == in_cli["rows"] and inside.json()["centre"] == "unscrew.mp4" and in_cli["rows"]
    assert list(served.uploads.iterdir()) == []


def test_every_error_is_one_line_with_the_right_status(served: Served, tmp_path: Path) -> None:
    long_clip = write_indexed_clip(tmp_path / "long.mp4", count=80)  # 8 s at 10 fps
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(LIMITS["max_upload_bytes"] + 50_000))
    video_id = served.store.videos()[0]["video_id"]
    with served.client() as http:
        assert "limit" in one_line_error(http.post("/neighbors", files=upload(big)), 413, "too_large")
        streamed = http.post("/neighbors", content=chunked_form(big), headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        assert "content-length" not in streamed.request.headers  # counted while it streams in
        assert "limit" in one_line_error(streamed, 413, "too_large")
        assert "8.0 s long" in one_line_error(http.post("/neighbors", files=upload(long_clip)), 422, "invalid_input", "clip")
        message = one_line_error(http.post("/score", files={"clip": ("notes.mp4", b"not a video at all")},
                                           data={"detector": "screw-knn"}), 422, "invalid_input", "clip")
        assert message.startswith("notes.mp4: ") and str(served.uploads) not in message
        one_line_error(http.post("/neighbors", data={"video": video_id, "set": "nope"}), 404, "not_found", "set")
        one_line_error(http.post("/score", data={"video": video_id, "detector": "nope"}), 404, "not_found", "detector")
        one_line_error(http.post("/neighbors", data={"video": video_id, "k": "many"}), 422, "invalid_input", "k")
        assert "only reads" in one_line_error(http.post("/sql", json={"query": "DELETE FROM videos"}), 422, "invalid_input")
        one_line_error(http.post("/sql", json={"query": f"ATTACH '{tmp_path / 'x.duckdb'}' AS x"}), 422, "invalid_input")
        one_line_error(http.post("/sql", json={"query": "SELECT * FROM read_csv('/etc/passwd')"}), 422, "invalid_input")
        one_line_error(http.post("/sql", json={"sql": "SELECT 1"}), 422, "invalid_input", "query")
        # paths never reach the filesystem: a text `clip` is refused, `video` must be an id
        one_line_error(http.post("/neighbors", data={"clip": "/etc/passwd"}), 422, "invalid_input", "clip")
        one_line_error(http.post("/neighbors", data={"video": "../../etc/passwd"}), 422, "invalid_input", "video")
        one_line_error(http.post("/neighbors", data={"video": str(served.store.videos()[0]["path"])}), 422, "invalid_input", "video")
        one_line_error(http.get("/videos/..%2f..%2fetc%2fpasswd"), 404, "not_found")
        one_line_error(http.get("/videos/0123456789abcdef"), 404, "not_found", "video")
        one_line_error(http.post("/neighbors", data={"k": "3"}), 422, "invalid_input", "clip")
        one_line_error(http.get("/videos", params={"limit": 0}), 422, "invalid_input", "limit")
        one_line_error(http.get("/videos", params={"offset": "x"}), 422, "invalid_input", "offset")
    assert list(served.uploads.iterdir()) == []  # every upload's temporary file is gone, refused ones too
    assert served.store.query("SELECT count(*) AS n FROM videos")[0]["n"] == len(served.store.videos()) > 0


def test_the_token_is_required_on_every_route(served: Served) -> None:
    for token in (None, "wrong-token"):
        with served.client(token) as http:
            for response in (http.get("/health"), http.get("/docs"), http.post("/sql", json={"query": "SELECT 1"})):
                assert one_line_error(response, 401, "unauthorized").startswith("missing or wrong token")
                assert response.headers["www-authenticate"] == "Bearer"
    with served.client() as http:
        assert http.get("/docs").status_code == 200
        form = http.get("/openapi.json").json()["paths"]["/neighbors"]["post"]["requestBody"]["content"]
        assert form["multipart/form-data"]["schema"]["properties"]["clip"]["format"] == "binary"


def test_twenty_concurrent_uploads_are_all_answered_correctly(served: Served) -> None:
    clips = sorted(served.holdout.glob("*.mp4"))[:5]
    with served.client() as http:
        expected = {c.name: http.post("/neighbors", files=upload(c), data={"k": "3"}).json()["neighbors"] for c in clips}
        jobs = [clips[i % len(clips)] for i in range(20)]
        with ThreadPoolExecutor(20) as pool:
            responses = list(pool.map(lambda c: http.post("/neighbors", files=upload(c), data={"k": "3"}), jobs))
    assert [r.status_code for r in responses] == [200] * 20
    assert [r.json()["neighbors"] for r in responses] == [expected[c.name] for c in jobs]
    assert [r.json()["query"] for r in responses] == [c.name for c in jobs]


def test_a_full_embedding_pool_answers_503_with_retry_after(served: Served) -> None:
    pool = served.api.state.pool
    taken = [pool.try_acquire() for _ in range(pool.capacity)]
    try:
        assert all(taken) and not pool.try_acquire()
        with served.client() as http:
            busy = http.post("/neighbors", files=upload(served.holdout / "screw_1234.mp4"))
            stored = http.post("/neighbors", data={"video": served.store.videos()[0]["video_id"]})
        assert one_line_error(busy, 503, "busy").startswith("busy:") and busy.headers["retry-after"] == "5"
        assert stored.status_code == 200  # a stored clip's search needs no embedding place
    finally:
        for _ in taken:
            pool.release()
    assert list(served.uploads.iterdir()) == []


def test_actionstore_serve_needs_a_token_unless_loopback(served: Served, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ACTIONSTORE_TOKEN"}
    cli = [sys.executable, "cli.py", "--store", str(served.store.root), "serve"]
    for extra, expected in (([], "error: no token: set ACTIONSTORE_TOKEN"),
                            (["--no-auth", "--host", "0.0.0.0"], "error: --no-auth serves only a loopback address")):
        refused = subprocess.run(cli + extra, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and refused.stderr.strip().splitlines() == [refused.stderr.strip()], refused.stderr
        assert refused.stderr.startswith(expected), refused.stderr
    (tmp_path / "token").write_text("from-a-file\n")
    port = free_port()
    process = subprocess.Popen(cli + ["--port", str(port), "--token-file", str(tmp_path / "token")], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/sets"
        for _ in range(300):
            try:
                denied = httpx.get(url)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read()
                time.sleep(0.05)
        assert denied.status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer from-a-file"}).json() == cli_json(served.store, "sets")
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readmes_curl_examples_work_as_written(served: Served, tmp_path: Path) -> None:
    """Each curl line of the README's Service section, run by bash against the test server (its port for 8000,
    its detector for the demo's screw-ae), from a folder whose new-clips/ holds the clips the store never saw."""
    section = README.read_text().split("### Service (HTTP API)")[1].split("\n## ")[0]
    lines = re.findall(r"```bash\n(.*?)```", section, re.S)[1].strip().splitlines()
    preamble, commands = [x for x in lines if not x.startswith("curl ")], [x for x in lines if x.startswith("curl ")]
    assert len(commands) == 5
    (tmp_path / "new-clips").symlink_to(served.holdout)
    for command in commands:
        script = "\n".join([*preamble, command]).replace("127.0.0.1:8000", served.url.removeprefix("http://"))
        done = subprocess.run(["bash", "-c", script.replace("screw-ae", "screw-knn")], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60, env={**os.environ, "ACTIONSTORE_TOKEN": TOKEN})
        assert done.returncode == 0, done.stderr
        body = json.loads(done.stdout)
        assert body and not (isinstance(body, dict) and "error" in body), (command, body)
