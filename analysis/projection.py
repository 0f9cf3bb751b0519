"""2-D maps of a set: t-SNE (openTSNE, seeded) or PCA, stored as coordinates and drawn as a scatter."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from analysis import plots
from analysis.data import Embeddings
from analysis.errors import AnalysisError

METHODS = ("tsne", "pca")
TITLES = {"tsne": "t-SNE", "pca": "PCA"}


def max_perplexity(n: int) -> float:
    """The largest perplexity openTSNE accepts for ``n`` points (it needs 3 * perplexity < n)."""
    return max(1.0, (n - 1) / 3)


def project(vectors: np.ndarray, method: str, perplexity: float, seed: int) -> np.ndarray:
    """``(n, 2)`` coordinates of the rows of ``vectors``."""
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(vectors)
    from openTSNE import TSNE

    embedding = TSNE(perplexity=perplexity, random_state=seed, n_jobs=1, initialization="pca", verbose=False)
    return np.asarray(embedding.fit(np.ascontiguousarray(vectors, dtype=np.float64)))


def compute(data: Embeddings, params: dict[str, Any], outdir: Path) -> tuple[dict[str, pa.Table], list[Path], list[str]]:
    """Table ``projection`` (video_id, view, label, x, y) and a scatter PNG."""
    method = params["method"]
    if method not in METHODS:
        raise AnalysisError(f"method {method!r}: choose one of {', '.join(METHODS)}", param="method")
    n = len(data.labels)
    if n < 4:
        raise AnalysisError(f"only {n} embeddings: a 2-D map needs at least 4")
    notes = []
    perplexity = float(params["perplexity"])
    if not math.isfinite(perplexity) or perplexity <= 0:
        raise AnalysisError(f"perplexity {perplexity}: must be positive", param="perplexity")
    if method == "tsne" and perplexity > max_perplexity(n):
        notes.append(f"perplexity {perplexity:g} is too large for {n} points; used {max_perplexity(n):.3g}")
        perplexity = max_perplexity(n)
    xy = project(data.vectors, method, perplexity, params["seed"])
    table = pa.table({
        "video_id": data.video_ids.tolist(), "view": data.rows.column("view").to_pylist(),
        "label": data.labels.tolist(), "x": xy[:, 0], "y": xy[:, 1],
    })
    title = f"{TITLES[method]} of {n} embeddings" + (f" (perplexity {perplexity:.3g})" if method == "tsne" else "")
    return {"projection": table}, [plots.scatter(outdir / f"{method}.png", xy, data.labels, title)], notes
