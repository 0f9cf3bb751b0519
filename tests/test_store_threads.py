"""One Store shared by threads (real DuckDB and FAISS): per-thread writer lock, the open-index cache,
and 32 threads reading while another process writes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pytest

import store.index as store_index
from store import Store, StoreError, StoreLocked, get_index, nearest, within
from store.index import forget_open_indexes
from store.parquet_parts import embedding_table, part_provenance
from store.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
DIM, VIDEOS, LABELS = 16, 120, 4
SETTINGS = dict(weights="random-init", frames=4, sampling="uniform", input_size=32, options={}, dim=DIM)
THREADS, CALLS = 32, 6


def synthetic_store(root: Path, *, lock_timeout_s: float = 10.0) -> tuple[Store, str, np.ndarray]:
    """A store of VIDEOS catalogued rows (no files) and a set "a" holding one vector each, in 3 parts."""
    store = Store(root, lock_timeout_s=lock_timeout_s)
    videos = [dict(video_id=f"v{i:03d}", path=f"/data/l{i % LABELS}/v{i:03d}.mp4", label=f"l{i % LABELS}", duration_s=1.0,
                   fps=25.0, num_frames=25, width=64, height=64, rotation=0, codec="h264", size_bytes=1) for i in range(VIDEOS)]
    store.record_ingest(videos, [])
    eset = store.ensure_set(backbone="a", **SETTINGS)
    vectors = np.random.default_rng(0).normal(size=(VIDEOS, DIM)).astype(np.float32)
    for part in np.array_split(np.arange(VIDEOS), 3):
        add(store, eset.set_id, [f"v{i:03d}" for i in part], vectors[part])
    return store, eset.set_id, vectors


def add(store: Store, set_id: str, ids: list[str], vectors: np.ndarray) -> None:
    n = len(ids)
    store.commit_embeddings(set_id, embedding_table(ids, ["original"] * n, [0] * n, [0.0] * n, [1.0] * n, vectors))


def test_parts_carry_their_sets_provenance(tmp_path: Path) -> None:
    store, set_id, _ = synthetic_store(tmp_path / "s")
    for path in store.set_files(set_id):
        assert part_provenance(path) == dict(set_id=set_id, set_name="a_f4_random", backbone="a", weights="random-init",
                                             frames=4, dim=DIM, schema_version=SCHEMA_VERSION)


def test_writer_lock_depth_is_per_thread(tmp_path: Path) -> None:
    store, _, _ = synthetic_store(tmp_path / "s", lock_timeout_s=0.3)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with store.writing():
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    try:
        with store.reading() as con:  # another thread: read-only, though the lock is held
            with pytest.raises(duckdb.Error, match="read-only"):
                con.execute("CREATE TABLE nope (a INTEGER)")
        with pytest.raises(StoreLocked, match="another thread of this process is writing"):
            with store.transaction():
                pass
        with store.joined_writer(), store.transaction() as con:  # joined: writes under the holder's lock
            con.execute("INSERT INTO meta VALUES ('joined', 'yes')")
    finally:
        done.set()
        holder.join()
    assert store.query("SELECT value FROM meta WHERE key = 'joined'") == [{"value": "yes"}]
    with pytest.raises(StoreError, match="joined_writer.. needs another thread"):
        with store.joined_writer():
            pass


def test_open_indexes_evict_by_bytes_and_open_once_for_concurrent_callers(tmp_path: Path, monkeypatch) -> None:
    store, set_id, _ = synthetic_store(tmp_path / "s")
    forget_open_indexes()
    opened = []
    real_open = store_index._open
    monkeypatch.setattr(store_index, "_open", lambda *args: opened.append(1) or real_open(*args))
    start = threading.Barrier(16)

    def ask(_: int):
        start.wait()
        return get_index(store, set_id)

    with ThreadPoolExecutor(16) as pool:
        indexes = list(pool.map(ask, range(16)))
    assert len(opened) == 1 and all(i is indexes[0] for i in indexes)

    one = indexes[0].nbytes
    assert one >= VIDEOS * DIM * 4
    monkeypatch.setattr(store_index._OPEN, "max_bytes", int(1.5 * one))
    cosine = get_index(store, set_id, metric="cosine")
    assert [k[2] for k in store_index._OPEN.keys()] == ["cosine"]  # the l2 index was evicted
    assert store_index._OPEN.nbytes <= 1.5 * one
    assert get_index(store, set_id, metric="cosine") is cosine and len(opened) == 2
    forget_open_indexes()


WRITER = """
import sys, time
from pathlib import Path
import numpy as np
from store import Store
from store.parquet_parts import embedding_table
store = Store(sys.argv[1], lock_timeout_s=60)
eset = store.ensure_set(backbone="b", weights="random-init", frames=4, sampling="uniform", input_size=32, options={}, dim=16)
stop, batches = Path(sys.argv[2]), 0
while not stop.exists() and batches < 500:
    ids = [f"v{i:03d}" for i in range(batches % 10, 120, 10)]
    vectors = np.random.default_rng(batches).normal(size=(len(ids), 16)).astype(np.float32)
    store.commit_embeddings(eset.set_id, embedding_table(ids, ["original"] * len(ids), [0] * len(ids), [0.0] * len(ids), [1.0] * len(ids), vectors))
    batches += 1
    print(batches, flush=True)
"""


def test_32_threads_read_one_store_while_another_process_writes(tmp_path: Path) -> None:
    store, set_id, vectors = synthetic_store(tmp_path / "s", lock_timeout_s=30)
    queries = vectors[:8] + 0.01
    view = store.get_set(set_id).view_name
    sql = f"SELECT label, count(*) AS n, round(sum(array_distance(vector, vector)), 6) FROM {view} GROUP BY label ORDER BY label"
    radius = float(np.median(np.linalg.norm(vectors - queries[0], axis=1)))
    reads = {
        "sql": lambda: store.sql(sql),
        "nearest": lambda: nearest(store, set_id, queries, 5),
        "nearest_label": lambda: nearest(store, set_id, queries[:1], 3, labels=["l1"]),
        "within": lambda: within(store, set_id, queries[0], radius),
        "load_vectors": lambda: store.load_vectors(set_id),
        "stored_vector": lambda: store.stored_vector(set_id, "v007"),
    }
    serial = {name: read() for name, read in reads.items()}

    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store.root), str(stop)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "1", writer.stderr.read()  # it is writing

        def work(t: int) -> list[str]:
            names = list(reads)
            wrong = []
            for c in range(CALLS):
                name = names[(t + c) % len(names)]
                if not same(reads[name](), serial[name]):
                    wrong.append(name)
            return wrong

        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            wrong = [w for ws in pool.map(work, range(THREADS)) for w in ws]
        seconds = time.perf_counter() - started
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    batches = 1 + len(out.split())
    assert not wrong
    assert batches >= 2 and store.get_set("b").num_vectors == 12 * batches
    print(f"{THREADS} threads x {CALLS} reads in {seconds:.2f} s while another process committed {batches} batches")


def same(a: object, b: object) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool((a == b).all())
    if hasattr(a, "equals"):
        return a.equals(b)
    return a == b
