"""Embed a new clip with a stored set's settings, and find its nearest stored clips."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embed.errors import WeightsUnavailable
from embed.model_cache import load_model
from embed.registry import DEFAULT_BACKBONE, get_backbone
from embed.runner import embed_frames
from embed.weights import RANDOM_INIT, file_provenance
from ingest import decode_frames, probe
from store import EmbeddingSet, Store, knn


@dataclass
class Neighbors:
    """A query clip's nearest stored clips in one set, nearest first."""

    set: EmbeddingSet
    query: str
    rows: list[dict[str, Any]]


def embed_clip(path: str | Path, eset: EmbeddingSet, *, weights_path: Path | None = None, device: str = "cpu") -> np.ndarray:
    """Embed one video file exactly as the set's clips were embedded (same backbone, weights, frames)."""
    spec = get_backbone(eset.backbone)
    random_init = eset.weights == RANDOM_INIT
    if eset.weights.startswith("file:"):
        if weights_path is None or file_provenance(weights_path) != eset.weights:
            raise WeightsUnavailable(f"set {eset.name} was made with weights {eset.weights}; pass that file with --weights")
    else:
        weights_path = None
        if spec.resolve_weights(random_init, None) != eset.weights:
            raise WeightsUnavailable(f"set {eset.name} was made with {eset.weights}, which this install does not have")
    info = probe(path)
    frames = decode_frames(path, eset.frames, num_frames=info.num_frames, short_side=spec.input_size)
    model = load_model(spec.name, eset.frames, eset.options, random_init=random_init, weights_path=weights_path, device=device)
    return embed_frames(model, spec, frames, device)


def neighbors(store: Store, clip: str | Path, *, set_ref: str | None = None, k: int = 5,
              weights_path: Path | None = None) -> Neighbors:
    """The ``k`` stored clips (original views) nearest to ``clip`` in the set, with L2 distances."""
    eset = store.get_set(set_ref, default_backbone=DEFAULT_BACKBONE)
    rows, vectors = store.load_vectors(eset.set_id)
    if not rows:
        raise WeightsUnavailable(f"set {eset.name} holds no vectors yet; run `actionstore embed` first")
    query = embed_clip(clip, eset, weights_path=weights_path)
    distances, indices = knn(vectors, query[None, :], k)
    found = [
        {"rank": rank + 1, "label": rows[i]["label"], "path": rows[i]["path"], "distance": float(d), "video_id": rows[i]["video_id"]}
        for rank, (d, i) in enumerate(zip(distances[0], indices[0]))
    ]
    return Neighbors(set=eset, query=str(clip), rows=found)
