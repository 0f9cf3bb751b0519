"""k-NN speed and recall: numpy, FAISS flat / IVF / HNSW, DuckDB array_distance.

    .venv/bin/python benchmarks/knn.py [--sizes 100000 1000000] [--dim 512] [--queries 100]

Data: seeded clustered float32 vectors (one cluster centre per 100 vectors, unit-variance centres,
noise 0.5), the shape real embeddings have; queries are fresh draws from the same clusters.
Each method answers the same 100 queries with k=10; recall@10 is against exact search, and
"vs numpy" is the numpy GEMM brute force's time over the method's (above 1: faster). Slow methods
time fewer queries and scale. Index builds run in a child process each, so their peak RSS (data
included) is their own; IVF nprobe and HNSW efSearch are swept on one build.
Figures come from one run on a noisy 2-core machine: read the ratios.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np

from store.index import build_index, factory_string

K = 10


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, n // 100), dim)).astype(np.float32)
    return centres[rng.integers(len(centres), size=n)] + rng.normal(scale=0.5, size=(n, dim)).astype(np.float32)


def queries_for(data: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    picks = data[rng.integers(len(data), size=count)]
    return picks + rng.normal(scale=0.5, size=picks.shape).astype(np.float32)


def numpy_knn(data: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Brute force: squared distances by one matrix product, then a partial sort."""
    scores = (data**2).sum(axis=1)[None, :] - 2 * queries @ data.T
    top = np.argpartition(scores, K, axis=1)[:, :K]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)
    return np.take_along_axis(top, order, axis=1)


def duckdb_knn(data: np.ndarray, queries: np.ndarray) -> np.ndarray:
    import duckdb
    import pyarrow as pa

    dim = data.shape[1]
    con = duckdb.connect()
    flat = pa.FixedSizeListArray.from_arrays(pa.array(data.reshape(-1)), dim)
    con.register("arrow_vectors", pa.table({"id": np.arange(len(data)), "v": flat}))
    con.execute(f"CREATE TABLE vectors AS SELECT id, v::FLOAT[{dim}] AS v FROM arrow_vectors")
    found = []
    for q in queries:
        rows = con.execute(f"SELECT id FROM vectors ORDER BY array_distance(v, ?::FLOAT[{dim}]) LIMIT {K}", [q.tolist()]).fetchall()
        found.append([r[0] for r in rows])
    return np.array(found)


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact)]))


def _set_knob(index, kind: str, value: int) -> str:
    """Set IVF nprobe or HNSW efSearch; returns how to print it."""
    import faiss

    if kind == "ivf":
        faiss.try_extract_index_ivf(index).nprobe = value
        return f" nprobe={value}"
    if kind == "hnsw":
        index.hnsw.efSearch = value
        return f" efSearch={value}"
    return ""


def _build_child(data: np.ndarray, queries: np.ndarray, factory: str, kind: str, knobs: list[int], out: mp.Queue) -> None:
    import faiss

    start = time.perf_counter()
    index = build_index(data, "l2", factory)
    built = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = []
    for knob in knobs:
        label = _set_knob(index, kind, knob)
        faiss.cvar.distance_compute_blas_threshold = 20
        index.search(queries[:5], K)
        start = time.perf_counter()
        _, found = index.search(queries, K)
        batch = time.perf_counter() - start
        faiss.cvar.distance_compute_blas_threshold = 2**31 - 1
        start = time.perf_counter()
        for q in queries[:20]:
            index.search(q[None, :], K)
        results.append((label, batch, (time.perf_counter() - start) / 20, found))
    out.put((built, peak, results))


def run_index(data: np.ndarray, queries: np.ndarray, factory: str, kind: str, knobs: list[int]):
    """Build in a forked child (so its peak RSS is its own) and time each knob setting there."""
    context = mp.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_build_child, args=(data, queries, factory, kind, knobs, out))
    child.start()
    result = out.get()
    child.join()
    return result


def numpy_per_query(data: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The straightforward loop: the norm of the differences for each query, then a partial sort."""
    found = []
    for q in queries:
        distances = np.linalg.norm(data - q, axis=1)
        top = np.argpartition(distances, K)[:K]
        found.append(top[np.argsort(distances[top])])
    return np.array(found)


def row(n: int, method: str, build: str, batch: float, single_ms: float, ratio: float, rec: float, peak: str) -> None:
    print(f"{n:>9} {method:34} {build:>8} {batch:8.3f} {single_ms:8.2f} {ratio:9.2f} {rec:9.3f} {peak:>8}", flush=True)


def slow_row(n: int, method: str, search, data: np.ndarray, queries: np.ndarray, exact: np.ndarray,
             t_numpy: float, count: int) -> None:
    """Time a slow method on the first ``count`` queries and print it scaled to all of them."""
    subset = queries[:count]
    start = time.perf_counter()
    found = search(data, subset)
    scaled = (time.perf_counter() - start) * len(queries) / len(subset)
    row(n, f"{method} ({count} q)", "-", scaled, scaled / len(queries) * 1e3, t_numpy / scaled,
        recall(found, exact[:count]), "-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--slow-queries", type=int, default=10, help="time this many for the slow methods, scaled to --queries")
    parser.add_argument("--skip", nargs="*", default=[], help="methods to leave out: numpy-loop flat ivf hnsw duckdb")
    args = parser.parse_args()
    print(f"{'n':>9} {'method':34} {'build s':>8} {'100 q s':>8} {'1 q ms':>8} {'vs numpy':>9} {'recall@10':>9} {'peak MB':>8}", flush=True)
    sweeps = {"flat": [0], "ivf": [8, 16, 32, 64], "hnsw": [64, 128, 160, 192, 256]}
    for n in args.sizes:
        data = clustered(n, args.dim, seed=0)
        queries = queries_for(data, args.queries, seed=0)
        start = time.perf_counter()
        exact = numpy_knn(data, queries)
        t_numpy = time.perf_counter() - start
        start = time.perf_counter()
        numpy_knn(data, queries[:1])
        row(n, "numpy GEMM brute force", "-", t_numpy, (time.perf_counter() - start) * 1e3, 1.0, 1.0, "-")
        if "numpy-loop" not in args.skip:
            slow_row(n, "numpy per-query loop", numpy_per_query, data, queries, exact, t_numpy, args.slow_queries)
        for kind in ("flat", "ivf", "hnsw"):
            if kind in args.skip:
                continue
            factory = factory_string(kind, n)
            built, peak, results = run_index(data, queries, factory, kind, sweeps[kind])
            for label, batch, single, found in results:
                row(n, f"faiss {factory}{label}", f"{built:.1f}", batch, single * 1e3, t_numpy / batch,
                    recall(found, exact), f"{peak:.0f}")
        if "duckdb" not in args.skip:
            slow_row(n, "duckdb array_distance", duckdb_knn, data, queries, exact, t_numpy, args.slow_queries)
        del data


if __name__ == "__main__":
    main()
