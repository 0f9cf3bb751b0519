"""Per-class centroids, every embedding's distance to every centroid, and the centroid matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from analysis import plots
from analysis.data import Embeddings, centroids
from analysis.errors import AnalysisError


def pairwise(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distances between the rows of ``a`` and of ``b`` (``l2`` or ``cosine``)."""
    from sklearn.metrics import pairwise_distances

    return pairwise_distances(a, b, metric={"l2": "euclidean", "cosine": "cosine"}[metric])


def compute(data: Embeddings, params: dict[str, Any], outdir: Path) -> tuple[dict[str, pa.Table], list[Path], list[str]]:
    """Tables ``centroid_distances`` and ``centroid_matrix``, a heatmap and the distances to ``target``'s centroid."""
    classes, centres = centroids(data)
    target = params["target"] or classes[0]
    if target not in classes:
        raise AnalysisError(f"target {target!r}: not a class of this set; its classes: {', '.join(classes)}", param="target")
    to_centres = pairwise(data.vectors, centres, params["metric"])
    n, k = to_centres.shape
    distances = pa.table({
        "video_id": np.repeat(data.video_ids, k).tolist(),
        "view": np.repeat(data.rows.column("view").to_pylist(), k).tolist(),
        "label": np.repeat(data.labels, k).tolist(),
        "centroid_label": np.tile(np.asarray(classes, dtype=object), n).tolist(),
        "distance": to_centres.reshape(-1),
    })
    matrix = pairwise(centres, centres, params["metric"])
    matrix_table = pa.table({
        "label_a": np.repeat(np.asarray(classes, dtype=object), k).tolist(),
        "label_b": np.tile(np.asarray(classes, dtype=object), k).tolist(),
        "distance": matrix.reshape(-1),
    })
    notes = [f"class {c} has one clip: its centroid is that clip" for c in classes if (data.labels == c).sum() == 1]
    artifacts = [
        plots.heatmap(outdir / "centroid_matrix.png", matrix, classes, f"Distance between class centroids ({params['metric']})"),
        plots.distances_by_class(outdir / f"distances_to_{target}.png", to_centres[:, classes.index(target)], data.labels, target),
    ]
    return {"centroid_distances": distances, "centroid_matrix": matrix_table}, artifacts, notes
