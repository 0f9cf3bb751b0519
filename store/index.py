"""FAISS indexes derived from a set's Parquet files: built on demand, saved, never stale.

An index is saved under ``indexes/<set_id>/`` as three files written atomically: the FAISS index,
the row order it was built from (``.rows.parquet``), and a ``.json`` record (written last, so it
marks a complete index) holding the set version, metric, views and factory string. Loading checks
the version against the set's current one and rebuilds on any difference or damage, so a search
never returns a row the set no longer has and never misses one it has.

Open indexes are kept in memory in a bounded LRU (``OpenIndexes``), shared by threads: searches on
one index may run at once (FAISS CPU searches do not modify the index), and each index is opened
or built by one thread while the others wait for it.
"""

from __future__ import annotations

import errno
import json
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from store.atomic import sha256_file, temporary_path
from store.errors import StoreError
from store.schema import ORIGINAL_VIEW
from store.store import Store

METRICS = ("l2", "cosine")
# ``auto`` picks exact search up to AUTO_FLAT_MAX vectors and HNSW above. benchmarks/knn.py, 512-d
# clustered data, 2 cores: one flat query takes 36 ms at 100k and 310-330 ms at 1M, while building
# HNSW32 takes 17 s at 100k and 230-280 s at 1M. At 1M, HNSW32 with efSearch 160 answers 100
# queries 28x faster than flat at recall@10 0.958 (efSearch 128: 0.948); IVF4000 reaches recall
# 1.0 at nprobe 8 but is only 3.4x faster than flat, because queries fall in the densest lists.
AUTO_FLAT_MAX = 200_000
HNSW_EF_SEARCH = 160
IVF_NPROBE = 16
KEY_COLUMNS = ("video_id", "view", "window")
BLAS_MIN_QUERIES = 20
PAIRWISE_ONLY = 2**31 - 1  # a BLAS threshold no batch reaches
OPEN_INDEX_BYTES = 1 << 30  # memory budget of the open-index cache (estimated: vectors + row keys)
RANGE_TOLERANCE = 1e-6

Notify = Callable[[str], None]
CacheKey = tuple[Any, ...]


class _BlasThreshold:
    """FAISS's BLAS threshold, one process-wide global, set per kind of search without a race.

    Batches of BLAS_MIN_QUERIES+ queries go through BLAS (3-4x numpy here, DESIGN.md section 8);
    smaller ones, and range searches, take the exact pairwise path (faster for one query, and 0 for
    identical vectors). No SearchParameters field carries it, so searches needing the same value run
    at once and a search needing the other value waits until they finish, then switches it.
    """

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._value: int | None = None
        self._active = 0

    @contextmanager
    def set_to(self, value: int) -> Iterator[None]:
        import faiss

        with self._turn:
            self._turn.wait_for(lambda: self._active == 0 or self._value == value)
            if self._value != value:
                faiss.cvar.distance_compute_blas_threshold = self._value = value
            self._active += 1
        try:
            yield
        finally:
            with self._turn:
                self._active -= 1
                self._turn.notify_all()

    def for_queries(self, n: int) -> AbstractContextManager[None]:
        return self.set_to(BLAS_MIN_QUERIES if n >= BLAS_MIN_QUERIES else PAIRWISE_ONLY)


_BLAS = _BlasThreshold()


@dataclass
class SetIndex:
    """A built index with the row keys its positions stand for."""

    set_id: str
    metric: str
    views: tuple[str, ...] | None
    factory: str
    version: str
    keys: pa.Table  # video_id, view, window, in index order
    labels: np.ndarray  # label of each row (object array), from the catalog at load time
    paths: list[str]  # path of each row's video
    index: Any  # faiss.Index, on the CPU
    gpu_index: Any = None  # the same index on the GPU(s), when faiss-gpu sees one
    _gpu_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)  # GPU indexes are not thread-safe

    @property
    def size(self) -> int:
        return self.keys.num_rows

    @property
    def exact(self) -> bool:
        return self.factory == "Flat"

    @property
    def nbytes(self) -> int:
        """Estimated memory held: the vectors (``ntotal * d`` float32) and the row keys."""
        return int(self.index.ntotal) * int(self.index.d) * 4 + self.keys.nbytes

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Distances and row positions of the ``k`` nearest rows (``-1`` where fewer exist).

        ``allowed`` restricts the search to those row positions. L2 distances are plain (not squared);
        cosine distances are ``1 - cosine similarity``.
        """
        import faiss

        queries = prepare(queries, self.metric)
        if allowed is None and self.gpu_index is not None:
            with self._gpu_lock:
                raw, positions = self.gpu_index.search(queries, k)
            return to_distance(raw, self.metric), positions
        params = None
        if allowed is not None:  # selectors run on the CPU index (FAISS GPU indexes do not take them)
            params = _search_params(self.index, faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        with _BLAS.for_queries(len(queries)):
            raw, positions = self.index.search(queries, k, params=params)
        return to_distance(raw, self.metric), positions

    def range(self, query: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """Distances and positions of every row within ``radius`` of ``query`` (exact indexes only).

        Inclusive: a row at exactly ``radius`` (within float32 rounding, 1e-6 relative) is inside.
        """
        if not self.exact:
            raise StoreError("internal: range search needs an exact (flat) index")
        query = prepare(query[None, :], self.metric)
        slack = RANGE_TOLERANCE * max(radius, 1.0)
        threshold = (radius + slack) ** 2 if self.metric == "l2" else 1.0 - radius - slack
        with _BLAS.set_to(PAIRWISE_ONLY):
            limits, raw, positions = self.index.range_search(query, threshold)
        order = np.argsort(raw if self.metric == "l2" else -raw, kind="stable")
        return to_distance(raw[order], self.metric), positions[order]


def prepare(vectors: np.ndarray, metric: str) -> np.ndarray:
    """Float32, C-contiguous; unit length for cosine (inner product on unit vectors)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if metric == "cosine":
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.maximum(norms, 1e-12)
    return vectors


def to_distance(raw: np.ndarray, metric: str) -> np.ndarray:
    """FAISS scores to distances: sqrt of squared L2, or 1 - inner product for cosine."""
    return np.sqrt(np.maximum(raw, 0)) if metric == "l2" else 1.0 - raw


def factory_string(kind: str, n: int) -> str:
    """The FAISS factory string for an index kind over ``n`` vectors; any other string passes through."""
    if kind == "auto":
        kind = "flat" if n <= AUTO_FLAT_MAX else "hnsw"
    if kind == "flat":
        return "Flat"
    if kind == "ivf":
        return f"IVF{max(1, min(int(4 * math.sqrt(n)), n // 39))},Flat"
    if kind == "hnsw":
        return "HNSW32"
    return kind


def build_index(vectors: np.ndarray, metric: str, factory: str) -> Any:
    """Train (if needed) and fill a FAISS index; search-time knobs set for high recall."""
    import faiss

    if metric not in METRICS:
        raise StoreError(f"metric {metric!r}: choose one of {', '.join(METRICS)}", param="metric")
    vectors = prepare(vectors, metric)
    faiss_metric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    try:
        index = faiss.index_factory(vectors.shape[1], factory, faiss_metric)
    except RuntimeError as exc:
        raise StoreError(f"index {factory!r}: not a FAISS index factory string ({str(exc).splitlines()[0][:120]})", param="index") from exc
    try:
        if not index.is_trained:
            rng = np.random.default_rng(0)
            sample = vectors if len(vectors) <= 256 * 1024 else vectors[rng.choice(len(vectors), 256 * 1024, replace=False)]
            index.train(sample)
        index.add(vectors)
    except RuntimeError as exc:
        reason = " ".join(str(exc).split())[:160]
        raise StoreError(f"index {factory!r}: cannot be built on {len(vectors)} vectors ({reason}); "
                         "use a smaller IVF list count, or --index flat", param="index") from exc
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = min(IVF_NPROBE, ivf.nlist)
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def _search_params(index: Any, selector: Any) -> Any:
    """Search parameters carrying ``selector`` and the index's own search knobs."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe)
    if hasattr(index, "hnsw"):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=index.hnsw.efSearch)
    return faiss.SearchParameters(sel=selector)


def to_gpu(index: Any) -> Any | None:
    """The same index on every visible GPU when faiss-gpu sees one (HNSW stays on the CPU); else None."""
    import faiss

    if not hasattr(faiss, "index_cpu_to_all_gpus") or faiss.get_num_gpus() == 0 or hasattr(index, "hnsw"):
        return None
    return faiss.index_cpu_to_all_gpus(index)


def index_paths(store: Store, set_id: str, metric: str, views: Sequence[str] | None, kind: str) -> dict[str, Path]:
    """Where an index and its row order and record live."""
    view_part = "all" if views is None else "+".join(sorted(views))
    stem = "-".join([metric, kind.replace(",", "_").replace("/", "_"), view_part])
    folder = store.root / "indexes" / set_id
    return {"index": folder / f"{stem}.faiss", "rows": folder / f"{stem}.rows.parquet", "record": folder / f"{stem}.json"}


@dataclass
class _Opening:
    """The lock one thread holds while it opens a key's index, and how many threads want that key."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0


class OpenIndexes:
    """Indexes in memory, reused while their set version holds: an LRU bounded by estimated bytes
    (the newest index stays even when it alone exceeds the budget). Thread-safe; one open per key at a time."""

    def __init__(self, max_bytes: int = OPEN_INDEX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[CacheKey, SetIndex] = OrderedDict()
        self._opening: dict[CacheKey, _Opening] = {}

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values())

    def keys(self) -> list[CacheKey]:
        """Cached keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: CacheKey, version: str, open_index: Callable[[], SetIndex]) -> SetIndex:
        """The cached index of ``key`` at ``version``, else ``open_index()`` (once, however many threads ask)."""
        if (found := self._current(key, version)) is not None:
            return found
        with self._lock:
            opening = self._opening.setdefault(key, _Opening())
            opening.users += 1
        try:
            with opening.lock:
                if (found := self._current(key, version)) is None:  # another thread may have opened it meanwhile
                    found = open_index()
                    self._put(key, found)
                return found
        finally:
            with self._lock:
                opening.users -= 1
                if not opening.users:
                    del self._opening[key]

    def _current(self, key: CacheKey, version: str) -> SetIndex | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found.version != version:
                return None
            self._entries.move_to_end(key)
            return found

    def _put(self, key: CacheKey, opened: SetIndex) -> None:
        with self._lock:
            self._entries[key] = opened
            self._entries.move_to_end(key)
            total = sum(e.nbytes for e in self._entries.values())
            while total > self.max_bytes and len(self._entries) > 1:
                total -= self._entries.popitem(last=False)[1].nbytes


_OPEN = OpenIndexes()


def forget_open_indexes() -> None:
    """Drop the in-memory indexes (the next get_index reads or rebuilds from disk, as a new process would)."""
    _OPEN.clear()


def get_index(store: Store, set_id: str, *, metric: str = "l2", views: Sequence[str] | None = (ORIGINAL_VIEW,),
              kind: str = "auto", notify: Notify | None = None, gpu: bool = True) -> SetIndex:
    """The set's index for ``metric`` and ``views``: reused or loaded when current, else (re)built and saved."""
    if metric not in METRICS:
        raise StoreError(f"metric {metric!r}: choose one of {', '.join(METRICS)}", param="metric")
    views_key = None if views is None else tuple(sorted(views))
    version = store.set_version(set_id)
    cache_key = (str(store.root.resolve()), set_id, metric, views_key, kind, gpu)
    return _OPEN.get(cache_key, version, lambda: _open(store, set_id, metric, views_key, kind, version, notify, gpu))


def _open(store: Store, set_id: str, metric: str, views: tuple[str, ...] | None, kind: str, version: str,
          notify: Notify | None, gpu: bool) -> SetIndex:
    """Load the saved index of this version, else build and save it; with its rows' labels and paths."""
    paths = index_paths(store, set_id, metric, views, kind)
    loaded = _load(paths, version, notify)
    if loaded is None:
        loaded = _build_and_save(store, set_id, metric, views, kind, version, paths, notify)
    factory, keys, index = loaded
    labels, video_paths = store.video_labels(keys.column("video_id"))
    return SetIndex(set_id, metric, views, factory, version, keys, np.asarray(labels, dtype=object),
                    [p or "" for p in video_paths], index, to_gpu(index) if gpu else None)


class IndexStale(StoreError):
    """A saved index built from another version of its set (it changed since)."""


class IndexDamaged(StoreError):
    """A saved index whose files do not match its record, or cannot be read."""


def read_saved(paths: dict[str, Path], version: str, dim: int | None = None) -> tuple[str, pa.Table, Any]:
    """``(factory, row keys, index)`` of a saved index, checked against its record: built for ``version``,
    the index file's checksum, the row count and dimension (``dim``: the set's, when given).
    Raises ``IndexStale`` or ``IndexDamaged`` (a missing record is damage too)."""
    import faiss

    name = paths["index"]
    try:
        record = json.loads(paths["record"].read_text())
        if record["version"] != version:
            raise IndexStale(f"index {name}: the set changed since it was built")
        if record.get("sha256") != sha256_file(name):
            raise IndexDamaged(f"index {name}: its file changed since it was built (checksum)")
        keys = pq.read_table(paths["rows"])
        index = faiss.read_index(str(paths["index"]))
        built_for = (keys.schema.metadata or {}).get(b"set_version", b"").decode()
        if index.ntotal != keys.num_rows or keys.num_rows != record["rows"] or built_for != version or index.d != record["dim"]:
            raise ValueError(f"{index.ntotal} vectors, {keys.num_rows} row keys of version {built_for or '?'}: mixed files")
        if dim is not None and index.d != dim:
            raise ValueError(f"{index.d}-d vectors in a {dim}-d set")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, pa.ArrowException) as exc:
        raise IndexDamaged(f"index {name}: unreadable ({' '.join(str(exc).split())[:120]})") from exc
    return record["factory"], keys, index


def _load(paths: dict[str, Path], version: str, notify: Notify | None) -> tuple[str, pa.Table, Any] | None:
    """A saved index when its record matches ``version`` and its files are whole; None to rebuild."""
    if not paths["record"].exists():
        return None
    try:
        return read_saved(paths, version)
    except (IndexStale, IndexDamaged) as exc:
        _say(notify, f"{exc}; rebuilding")
        return None


def saved_indexes(store: Store) -> list[tuple[str, dict[str, Path]]]:
    """``(set_id, paths)`` of every index saved in the store (each has a ``.json`` record)."""
    folder = store.root / "indexes"
    records = sorted(folder.glob("*/*.json")) if folder.is_dir() else []
    return [(r.parent.name, {"index": r.with_suffix(".faiss"), "rows": r.with_suffix(".rows.parquet"), "record": r})
            for r in records]


def rebuild_saved(store: Store, set_id: str, paths: dict[str, Path]) -> None:
    """Build a saved index again from its set's current parts, in place, as its record describes it
    (``IndexDamaged`` when the record is unreadable: then nothing says how it was built)."""
    try:
        record = json.loads(paths["record"].read_text())
        metric, views, kind = record["metric"], record["views"], record.get("kind", record["factory"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexDamaged(f"index {paths['index']}: its record is unreadable ({exc})") from exc
    _build_and_save(store, set_id, metric, None if views is None else tuple(views), kind, store.set_version(set_id), paths)


def _build_and_save(store: Store, set_id: str, metric: str, views: tuple[str, ...] | None, kind: str, version: str,
                    paths: dict[str, Path], notify: Notify | None = None) -> tuple[str, pa.Table, Any]:
    """Build the set's index and save it; on a store that cannot be written (a read-only mount, another
    user's store) the index serves from memory and ``notify`` says so."""
    rows, vectors = store.load_vectors(set_id, views=views)
    if rows.num_rows == 0:
        name = next((s.name for s in store.sets() if s.set_id == set_id), set_id)
        raise StoreError(f"set {name} has no vectors" + (f" for views {', '.join(views)}" if views else "")
                         + "; run `actionstore embed` first")
    factory = factory_string(kind, rows.num_rows)
    index = build_index(vectors, metric, factory)
    keys = rows.select(list(KEY_COLUMNS)).replace_schema_metadata({"set_version": version})
    record = {"version": version, "metric": metric, "views": views, "factory": factory, "kind": kind, "rows": keys.num_rows,
              "dim": index.d}
    try:
        _save(paths, index, keys, record)
    except OSError as exc:
        if exc.errno not in READ_ONLY_ERRNOS:
            raise
        _say(notify, f"{store.root}: cannot save the index ({exc.strerror}); searching with it in memory")
    return factory, keys, index


READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)


def _save(paths: dict[str, Path], index: Any, keys: pa.Table, record: dict[str, Any]) -> None:
    """Write an index, its row keys and its record (with the index file's checksum) atomically, the record last."""
    import faiss

    paths["index"].parent.mkdir(parents=True, exist_ok=True)
    tmp = {name: temporary_path(path) for name, path in paths.items()}
    try:
        tmp["index"].write_bytes(faiss.serialize_index(index).tobytes())  # a full disk: an OSError, no C++ stderr
        pq.write_table(keys, tmp["rows"])
        tmp["record"].write_text(json.dumps({**record, "sha256": sha256_file(tmp["index"])}))
        for name in ("index", "rows", "record"):  # the record last: it marks a complete index
            os.replace(tmp[name], paths[name])
    finally:  # a failed write (a full disk) leaves no temporary file behind
        for path in tmp.values():
            path.unlink(missing_ok=True)


def _say(notify: Notify | None, message: str) -> None:
    if notify is not None:
        notify(message)
