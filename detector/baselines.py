"""Baseline one-class detectors on stored vectors: centroid, k-NN, PCA reconstruction, Mahalanobis.

Each scores a row by how unlike the training rows it is (higher: less like the target). ``fit``
takes the validation rows like the autoencoder's does, and ignores them. Their state
is a dict of arrays and numbers, saved with the detector and loaded with ``weights_only=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class CentroidDetector:
    """Distance to the training rows' mean."""

    kind = "centroid"

    def fit(self, x: np.ndarray, groups: list[str], val: np.ndarray | None = None) -> None:
        self.centre = x.mean(axis=0)

    def score(self, x: np.ndarray, groups: list[str] | None = None) -> np.ndarray:
        return np.linalg.norm(x - self.centre, axis=1)

    def state(self) -> dict[str, Any]:
        return {"centre": self.centre}

    def load(self, state: dict[str, Any]) -> None:
        self.centre = np.asarray(state["centre"])


class KnnDetector:
    """Mean distance to the ``k`` nearest training rows of other videos (a video never votes for itself)."""

    kind = "knn"

    def __init__(self, k: int = 3) -> None:
        self.k = k

    def fit(self, x: np.ndarray, groups: list[str], val: np.ndarray | None = None) -> None:
        self.train, self.groups = x, np.asarray(groups)

    def score(self, x: np.ndarray, groups: list[str] | None = None) -> np.ndarray:
        from sklearn.metrics import pairwise_distances

        distances = pairwise_distances(x, self.train)
        if groups is not None:
            distances[np.asarray(groups)[:, None] == self.groups[None, :]] = np.inf
        k = min(self.k, distances.shape[1])
        nearest = np.sort(distances, axis=1)[:, :k]
        found = np.isfinite(nearest)
        total = np.where(found, nearest, 0.0).sum(axis=1)
        # NaN where no training row of another video exists (a lone training video scored against itself)
        return np.divide(total, found.sum(axis=1), out=np.full(len(x), np.nan), where=found.any(axis=1))

    def state(self) -> dict[str, Any]:
        return {"train": self.train, "groups": self.groups.tolist(), "k": self.k}

    def load(self, state: dict[str, Any]) -> None:
        self.train, self.groups, self.k = np.asarray(state["train"]), np.asarray(state["groups"]), int(state["k"])


class PcaDetector:
    """Reconstruction error from the principal components keeping 95% of the training variance."""

    kind = "pca"

    def fit(self, x: np.ndarray, groups: list[str], val: np.ndarray | None = None) -> None:
        from sklearn.decomposition import PCA

        self.mean = x.mean(axis=0)
        self.components = np.zeros((0, x.shape[1]))
        if x.shape[0] >= 2:
            self.components = PCA(n_components=0.95, svd_solver="full").fit(x).components_

    def score(self, x: np.ndarray, groups: list[str] | None = None) -> np.ndarray:
        centred = x - self.mean
        rebuilt = centred @ self.components.T @ self.components
        return np.linalg.norm(centred - rebuilt, axis=1)

    def state(self) -> dict[str, Any]:
        return {"mean": self.mean, "components": self.components}

    def load(self, state: dict[str, Any]) -> None:
        self.mean, self.components = np.asarray(state["mean"]), np.asarray(state["components"])


class MahalanobisDetector:
    """Mahalanobis distance under a Ledoit-Wolf shrunk covariance (stable with few training rows)."""

    kind = "mahalanobis"

    def fit(self, x: np.ndarray, groups: list[str], val: np.ndarray | None = None) -> None:
        from sklearn.covariance import LedoitWolf

        model = LedoitWolf().fit(x)
        self.location, self.precision = model.location_, model.precision_

    def score(self, x: np.ndarray, groups: list[str] | None = None) -> np.ndarray:
        centred = x - self.location
        return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", centred, self.precision, centred), 0.0))

    def state(self) -> dict[str, Any]:
        return {"location": self.location, "precision": self.precision}

    def load(self, state: dict[str, Any]) -> None:
        self.location, self.precision = np.asarray(state["location"]), np.asarray(state["precision"])
