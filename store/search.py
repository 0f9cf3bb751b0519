"""k-NN and range search over a set through its index: the one call analyses and detectors use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from store.schema import ORIGINAL_VIEW
from store.errors import StoreError
from store.index import Notify, SetIndex, get_index
from store.store import Store


@dataclass(frozen=True)
class Hit:
    """One stored row found by a search."""

    video_id: str
    view: str
    window: int
    label: str
    path: str
    distance: float


def nearest(store: Store, set_id: str, queries: np.ndarray, k: int, *, metric: str = "l2",
            views: Sequence[str] | None = (ORIGINAL_VIEW,), labels: Sequence[str] | None = None,
            exclude_videos: Sequence[str | None] | None = None, kind: str = "auto",
            notify: Notify | None = None) -> list[list[Hit]]:
    """The ``k`` nearest stored rows to each query, nearest first.

    ``labels`` keeps only rows of those labels; ``exclude_videos[i]`` drops every row (every view)
    of that video from query ``i``'s results, so a clip's own views never count as its neighbours.
    """
    index = get_index(store, set_id, metric=metric, views=views, kind=kind, notify=notify)
    queries = _check_queries(queries, index)
    if k < 1:
        raise StoreError(f"k {k}: must be at least 1", param="k")
    if k > index.size:
        raise StoreError(f"k {k}: larger than the set, which holds {index.size} vectors; pass -k {index.size} or less", param="k")
    allowed = None
    if labels:
        allowed = np.flatnonzero(np.isin(index.labels, list(labels)))
        if allowed.size == 0:
            raise StoreError(f"label {', '.join(labels)}: no stored vectors with that label", param="label")
    extra, video_ids = 0, []
    if exclude_videos is not None:
        if len(exclude_videos) != len(queries):
            raise StoreError("internal: one excluded video per query")
        video_ids = index.keys.column("video_id").to_pylist()
        extra = max(Counter(video_ids).values())  # enough extra hits to drop every row of one video
    fetch = min(k + extra, index.size if allowed is None else allowed.size)
    distances, positions = index.search(queries, fetch, allowed)
    results = []
    for q in range(len(queries)):
        keep = [(d, p) for d, p in zip(distances[q], positions[q]) if p >= 0]
        if exclude_videos is not None and exclude_videos[q] is not None:
            keep = [(d, p) for d, p in keep if video_ids[int(p)] != exclude_videos[q]]
        results.append(_hits(index, keep[:k]))
    return results


def within(store: Store, set_id: str, query: np.ndarray, radius: float, *, metric: str = "l2",
           views: Sequence[str] | None = (ORIGINAL_VIEW,), notify: Notify | None = None) -> list[Hit]:
    """Every stored row within ``radius`` of ``query`` (a vector or a centroid), nearest first; exact."""
    if not radius >= 0:
        raise StoreError(f"radius {radius}: must be zero or positive", param="radius")
    index = get_index(store, set_id, metric=metric, views=views, kind="flat", notify=notify)
    query = _check_queries(query, index)
    distances, positions = index.range(query[0], radius)
    return _hits(index, list(zip(distances, positions)))


def centroid_of(store: Store, set_id: str, label: str, *, views: Sequence[str] | None = (ORIGINAL_VIEW,)) -> np.ndarray:
    """The mean vector of a label's stored rows."""
    rows, vectors = store.load_vectors(set_id, views=views)
    mask = np.asarray(rows.column("label").to_pylist(), dtype=object) == label
    if not mask.any():
        known = sorted(set(rows.column("label").to_pylist()))
        raise StoreError(f"centroid {label!r}: no stored vectors with that label; labels: {', '.join(known)}", param="centroid")
    return vectors[mask].mean(axis=0)


def counts_by_label(hits: Sequence[Hit]) -> dict[str, int]:
    """How many hits each label has, largest first."""
    return dict(Counter(h.label for h in hits).most_common())


def _check_queries(queries: np.ndarray, index: SetIndex) -> np.ndarray:
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    if queries.ndim != 2 or queries.shape[1] != index.index.d:
        raise StoreError(f"query vector of dimension {queries.shape[-1]} does not match the set's dimension {index.index.d}")
    if not np.isfinite(queries).all():
        raise StoreError("query vector has NaN or infinite values")
    return queries


def _hits(index: SetIndex, found: list[tuple[float, int]]) -> list[Hit]:
    if not found:
        return []
    positions = [int(p) for _, p in found]
    keys = index.keys.take(positions).to_pylist()
    return [
        Hit(k["video_id"], k["view"], int(k["window"]), index.labels[p] or "", index.paths[p], float(d))
        for k, p, (d, _) in zip(keys, positions, found)
    ]
