"""One Store shared by 32 threads through the app jobs (SQL, neighbours, within, score with a tiny
detector, a new clip embedded under the model's lock) while another process embeds into the store."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import app
from app.encode import plain
from store import Store

ROOT = Path(__file__).resolve().parents[1]
THREADS, CALLS = 32, 5


def test_32_threads_of_app_reads_while_another_process_embeds(tmp_path: Path, videos: Path, demo_root: Path) -> None:
    store = Store(tmp_path / "store", lock_timeout_s=60)
    (videos / "screw" / "extra.mp4").write_bytes((demo_root / "new" / "screw.mp4").read_bytes())
    app.ingest(store, videos, progress=False)
    app.embed(store, backbone="tiny3d", frames=4, random_init=True, progress=False)
    app.augment(store, views=1, progress=False)
    app.train(store, "screw-knn", target="screw", kind="knn", progress=False)
    first = store.videos()[0]  # the other process adds a set of the default backbone: name the set read
    reads = {
        "sql": lambda: app.sql(store, "SELECT label, count(*) AS n FROM emb_tiny3d_f4_random GROUP BY label ORDER BY label"),
        "neighbors": lambda: app.neighbors(store, first["video_id"], set_ref="tiny3d", k=4, exclude_same_video=True),
        "within": lambda: app.within(store, radius=1e6, centroid="unscrew", set_ref="tiny3d"),
        "score_stored": lambda: app.score(store, first["path"], "screw-knn"),
        "score_new": lambda: app.score(store, str(demo_root / "new" / "unscrew.mp4"), "screw-knn", device="cpu"),
    }
    serial = {name: plain(read()) for name, read in reads.items()}

    writer = subprocess.Popen([sys.executable, "cli.py", "--store", str(store.root), "--lock-timeout", "60", "embed",
                               "--backbone", "flow_motion", "--batch-size", "1", "--decode-workers", "1"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not any(s.backbone == "flow_motion" and s.num_vectors for s in store.sets()):
            assert writer.poll() is None, writer.stderr.read()  # the other process has started committing
            time.sleep(0.05)

        def work(t: int) -> list[str]:
            names = list(reads)
            return [name for c in range(CALLS) if plain(reads[name := names[(t + c) % len(names)]]()) != serial[name]]

        before, started = store.get_set("flow_motion").num_vectors, time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            wrong = [w for ws in pool.map(work, range(THREADS)) for w in ws]
        seconds = time.perf_counter() - started
        during = store.get_set("flow_motion").num_vectors
    finally:
        out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert not wrong, wrong
    assert store.get_set("flow_motion").num_vectors == len(store.videos())
    print(f"{THREADS} threads x {CALLS} app reads in {seconds:.2f} s, while the other process went from {before} "
          f"to {during} of {len(store.videos())} clips committed")
