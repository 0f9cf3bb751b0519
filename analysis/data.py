"""The vectors an analysis reads: one set's rows, optionally limited to some classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from analysis.errors import AnalysisError
from store import ORIGINAL_VIEW, EmbeddingSet, Store


@dataclass
class Embeddings:
    """Rows (video_id, view, window, label, path...), their labels and their ``(n, dim)`` vectors."""

    rows: pa.Table
    labels: np.ndarray
    vectors: np.ndarray

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels.tolist()))

    @property
    def video_ids(self) -> np.ndarray:
        return np.asarray(self.rows.column("video_id").to_pylist(), dtype=object)


def resolve_views(views: Sequence[str] | None) -> list[str] | None:
    """Views as stored in a run's parameters -> the filter to load with (``all`` means every view)."""
    return None if views is None or "all" in views else list(views)


def load_embeddings(store: Store, eset: EmbeddingSet, *, views: Sequence[str] | None = (ORIGINAL_VIEW,),
                    classes: Sequence[str] | None = None, min_classes: int = 1) -> Embeddings:
    """A set's vectors; ``classes`` keeps only those labels (each must exist in the set)."""
    rows, vectors = store.load_vectors(eset.set_id, views=views)
    if rows.num_rows == 0:
        raise AnalysisError(f"set {eset.name} has no vectors for views {views or 'all'}; run `actionstore embed` first")
    labels = np.asarray(rows.column("label").to_pylist(), dtype=object)
    if classes:
        known = set(labels.tolist())
        unknown = [c for c in classes if c not in known]
        if unknown:
            raise AnalysisError(f"classes {','.join(unknown)}: not in set {eset.name}; its classes: {', '.join(sorted(known))}", param="classes")
        keep = np.isin(labels, list(classes))
        rows, labels, vectors = rows.filter(pa.array(keep)), labels[keep], vectors[keep]
    found = len(set(labels.tolist()))
    if found < min_classes:
        raise AnalysisError(f"set {eset.name} has {found} class(es) here; this analysis needs at least {min_classes}")
    return Embeddings(rows=rows, labels=labels, vectors=vectors)


def centroids(data: Embeddings) -> tuple[list[str], np.ndarray]:
    """Class names and their mean vectors, in sorted class order."""
    classes = data.classes
    return classes, np.stack([data.vectors[data.labels == c].mean(axis=0) for c in classes])
