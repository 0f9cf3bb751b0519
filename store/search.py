"""Nearest-neighbour search over a set's vectors (FAISS; heavy import deferred)."""

from __future__ import annotations

import numpy as np


def knn(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact k-NN by Euclidean distance with a FAISS flat index: ``(distances, indices)``, each ``(q, k)``.

    ``k`` is capped at the number of vectors; distances are plain (not squared) L2.
    """
    import faiss

    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    if vectors.shape[0] == 0:
        raise ValueError("no stored vectors to search")
    if queries.shape[1] != vectors.shape[1]:
        raise ValueError(f"query dim {queries.shape[1]} does not match stored dim {vectors.shape[1]}")
    index = faiss.IndexFlatL2(vectors.shape[1])
    index.add(vectors)
    distances, indices = index.search(queries, min(k, vectors.shape[0]))
    return np.sqrt(np.maximum(distances, 0)), indices
