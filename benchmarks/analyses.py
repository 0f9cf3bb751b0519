"""Time the analyses: t-SNE (openTSNE vs scikit-learn) and the hypersphere tables, on seeded data.

    .venv/bin/python benchmarks/analyses.py [--tsne-sizes 1000 5000 20000] [--sphere-sizes 10000 100000]

Data: clustered float32 vectors (10 classes, 512-d by default). t-SNE: perplexity 30, seed 0,
both libraries single-call defaults otherwise, with a 1-NN accuracy of the 2-D map to show both
keep the classes apart. Hypersphere: the full analysis (centroids, r_far and r_near per class
through the store's index layer, tables written to the catalog) on a store holding n vectors.
One run on a noisy 2-core machine: compare the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from analysis.runner import run_analysis
from store import Store
from store.parquet_parts import embedding_table

CLASSES = 10


def labelled(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(CLASSES, size=n)
    centres = rng.normal(scale=1.5, size=(CLASSES, dim))
    return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels


def knn_2d(xy: np.ndarray, labels: np.ndarray, sample: int = 2000) -> float:
    """Leave-one-out 1-NN accuracy of a 2-D map, on a sample of points."""
    from sklearn.neighbors import NearestNeighbors

    picks = np.random.default_rng(0).choice(len(xy), min(sample, len(xy)), replace=False)
    _, found = NearestNeighbors(n_neighbors=2).fit(xy).kneighbors(xy[picks])
    return float((labels[found[:, 1]] == labels[picks]).mean())


def tsne_rows(sizes: list[int], dim: int) -> None:
    from openTSNE import TSNE as OpenTSNE
    from sklearn.manifold import TSNE as SkTSNE

    print(f"{'points':>7} {'library':14} {'seconds':>8} {'ratio':>6} {'2-D 1-NN':>9}", flush=True)
    for n in sizes:
        vectors, labels = labelled(n, dim)
        start = time.perf_counter()
        open_xy = np.asarray(OpenTSNE(perplexity=30, random_state=0, n_jobs=2).fit(vectors.astype(np.float64)))
        t_open = time.perf_counter() - start
        start = time.perf_counter()
        sk_xy = SkTSNE(perplexity=30, random_state=0, init="pca").fit_transform(vectors)
        t_sk = time.perf_counter() - start
        print(f"{n:>7} {'openTSNE':14} {t_open:8.1f} {1.0:6.2f} {knn_2d(open_xy, labels):9.3f}", flush=True)
        print(f"{n:>7} {'scikit-learn':14} {t_sk:8.1f} {t_sk / t_open:6.2f} {knn_2d(sk_xy, labels):9.3f}", flush=True)


def sphere_store(root: Path, n: int, dim: int) -> Store:
    """A store with n catalogued (file-less) clips and one set holding their vectors."""
    vectors, labels = labelled(n, dim, seed=1)
    store = Store(root)
    ids = [f"{i:016x}" for i in range(n)]
    videos = pa.table({
        "video_id": ids, "path": [f"/bench/{i}.mp4" for i in range(n)], "label": [f"class_{c}" for c in labels],
        "duration_s": [1.0] * n, "fps": [10.0] * n, "num_frames": [10] * n, "width": [64] * n, "height": [64] * n,
        "rotation": [0] * n, "codec": ["h264"] * n, "size_bytes": [1] * n,
    })
    with store.transaction() as con:  # bulk insert: a benchmark fixture, not ingest
        con.register("new_videos", videos)
        con.execute("INSERT INTO videos SELECT *, now() FROM new_videos")
    eset = store.ensure_set(backbone="bench", weights="random-init", frames=1, sampling="uniform", input_size=1, options={}, dim=dim)
    store.commit_embeddings(eset.set_id, embedding_table(ids, ["original"] * n, [0] * n, [0.0] * n, [1.0] * n, vectors))
    return store


def sphere_rows(sizes: list[int], dim: int) -> None:
    print(f"\n{'vectors':>8} {'hypersphere tables s':>21} {'per class s':>12} {'vs smallest':>12}", flush=True)
    first = None
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = sphere_store(Path(tmp) / "store", n, dim)
            start = time.perf_counter()
            run_analysis(store, "hypersphere")
            seconds = time.perf_counter() - start
        first = first or seconds
        print(f"{n:>8} {seconds:21.2f} {seconds / CLASSES:12.3f} {seconds / first:12.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tsne-sizes", type=int, nargs="*", default=[1000, 5000, 20000])
    parser.add_argument("--sphere-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=512)
    args = parser.parse_args()
    if args.tsne_sizes:
        tsne_rows(args.tsne_sizes, args.dim)
    if args.sphere_sizes:
        sphere_rows(args.sphere_sizes, args.dim)


if __name__ == "__main__":
    main()
