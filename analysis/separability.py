"""How well a set separates its classes: leave-one-out k-NN, silhouette, sphere margins, confusions."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from analysis.centroid_distances import pairwise
from analysis.data import Embeddings, centroids, resolve_views
from store import EmbeddingSet, Store, nearest


def compute(store: Store, eset: EmbeddingSet, data: Embeddings, params: dict[str, Any]) -> tuple[dict[str, pa.Table], list[str]]:
    """One leaderboard row for the set (table ``separability``).

    ``knn_accuracy``: each clip's label predicted by its ``k`` nearest stored rows of other videos
    among the same views (``views``, default the originals, so sets with and without augmented views
    compare fairly; every view of its own video left out), majority vote, ties to the nearest.
    ``silhouette``: scikit-learn's, on the original views. ``mean_margin``: per class, the distance
    from its centroid to the nearest other centroid minus its ``r_far``, averaged (positive: the
    sphere stays clear of the nearest centre). ``confused``: the most frequent wrong predictions.
    """
    from sklearn.metrics import silhouette_score

    k, metric = params["k"], params["metric"]
    video_ids = data.video_ids.tolist()
    hits = nearest(store, eset.set_id, data.vectors, k, metric=metric, views=resolve_views(params["views"]),
                   exclude_videos=video_ids, kind="flat")
    predicted = [_vote(row) for row in hits]
    truth = data.labels.tolist()
    accuracy = float(np.mean([p == t for p, t in zip(predicted, truth)]))
    classes, centres = centroids(data)
    notes = []
    silhouette = None
    if 2 <= len(classes) <= len(truth) - 1:
        silhouette = float(silhouette_score(data.vectors, data.labels, metric={"l2": "euclidean", "cosine": "cosine"}[metric]))
    else:
        notes.append("silhouette needs between 2 and n-1 classes; left empty")
    between = pairwise(centres, centres, metric)
    np.fill_diagonal(between, np.inf)
    margins = []
    for i, label in enumerate(classes):
        r_far = pairwise(data.vectors[data.labels == label], centres[i : i + 1], metric).max()
        margins.append(between[i].min() - r_far)
    confusions = Counter((t, p) for t, p in zip(truth, predicted) if t != p and p is not None).most_common(3)
    row = {
        "set_id": [eset.set_id], "name": [eset.name], "backbone": [eset.backbone], "weights": [eset.weights],
        "frames": [eset.frames], "dim": [eset.dim], "clips": [len(set(video_ids))], "classes": [len(classes)],
        "knn_k": [k], "knn_accuracy": [accuracy], "chance": [max(Counter(truth).values()) / len(truth)],
        "silhouette": pa.array([silhouette], pa.float64()), "mean_margin": [float(np.mean(margins))],
        "confused": ["; ".join(f"{t}->{p} ({n})" for (t, p), n in confusions)],
    }
    return {"separability": pa.table(row)}, notes


def _vote(hits: list) -> str | None:
    """Majority label of the hits; a tie goes to the label of the nearest tied hit."""
    if not hits:
        return None
    votes = Counter(h.label for h in hits)
    best = max(votes.values())
    return next(h.label for h in hits if votes[h.label] == best)
