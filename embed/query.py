"""Embed a new clip with a stored set's settings, and find the nearest stored clips to a clip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embed.errors import EmbedError, WeightsUnavailable
from embed.forward import embed_frames
from embed.fusion import is_fused, unit_rows
from embed.model_cache import DEFAULT_DEVICE, LoadedModel, ModelSpec
from embed.registry import get_backbone
from embed.sets import resolve_set
from embed.weights import RANDOM_INIT, file_provenance
from ingest import content_hash, decode_frames, probe
from store import ORIGINAL_VIEW, EmbeddingSet, Hit, Store, centroid_of, nearest, within
from store.index import Notify
from store.schema import DEFAULT_K


@dataclass
class Neighbors:
    """A query clip's nearest stored rows in one set, nearest first."""

    set: EmbeddingSet
    query: str
    query_video_id: str | None  # set when the query is (byte-identical to) a stored clip
    embedded_now: bool  # True when the model ran on the query file
    hits: list[Hit]


def set_model_spec(eset: EmbeddingSet, *, weights_path: Path | None = None, device: str = DEFAULT_DEVICE) -> ModelSpec:
    """The spec of the model that made ``eset``; WeightsUnavailable when this install cannot build it."""
    spec = get_backbone(eset.backbone)
    random_init = eset.weights == RANDOM_INIT
    if eset.weights.startswith("file:"):
        if weights_path is None or file_provenance(weights_path) != eset.weights:
            raise WeightsUnavailable(f"set {eset.name} was made with weights {eset.weights}; pass that file with --weights")
    else:
        weights_path = None
        if spec.resolve_weights(random_init, None) != eset.weights:
            raise WeightsUnavailable(f"set {eset.name} was made with {eset.weights}, which this install does not have")
    return ModelSpec.of(spec.name, eset.frames, eset.options, random_init=random_init, weights_path=weights_path, device=device)


def model_for_set(eset: EmbeddingSet, *, weights_path: Path | None = None, device: str = DEFAULT_DEVICE) -> LoadedModel:
    """The model that made ``eset``, built again (once per process: ``embed.model_cache``)."""
    return set_model_spec(eset, weights_path=weights_path, device=device).build()


def embed_clip(path: str | Path, eset: EmbeddingSet, *, weights_path: Path | None = None,
               device: str = DEFAULT_DEVICE) -> np.ndarray:
    """Embed one video file exactly as the set's clips were embedded (same backbone, weights, frames).

    Safe from many threads: the model is built once and one thread at a time runs its forward."""
    spec = get_backbone(eset.backbone)
    model = model_for_set(eset, weights_path=weights_path, device=device)
    info = probe(path)
    problem = spec.clip_problem(info.num_frames, info.width, info.height)
    if problem:
        raise EmbedError(f"{path}: {problem}", param="clip")
    frames = decode_frames(path, eset.frames, num_frames=info.num_frames, short_side=spec.input_size)
    with model.lock:
        return embed_frames(model.module, spec, frames, model.device)


def query_vector(store: Store, clip: str | Path, eset: EmbeddingSet, *, weights_path: Path | None = None,
                 device: str = DEFAULT_DEVICE) -> tuple[np.ndarray, str | None, bool]:
    """The vector of a clip given as a stored video id, a stored path, or a new file.

    A stored clip (or a file with the same bytes as one) uses its stored vector and runs no model;
    a new file is embedded on ``device``. Returns ``(vector, video_id or None, embedded_now)``.
    """
    video = store.find_video(clip)
    if video is None and Path(clip).is_file():
        video = store.find_video(content_hash(clip))
    if video is not None:
        stored = store.stored_vector(eset.set_id, video["video_id"], ORIGINAL_VIEW)
        if stored is not None:
            return stored, video["video_id"], False
        clip = video["path"]
    elif not Path(clip).exists():
        raise EmbedError(f"{clip}: no such file, and no stored clip has that id or path")
    elif not Path(clip).is_file():  # checked before any model is built; a FIFO is never opened
        kind = "a folder" if Path(clip).is_dir() else "a special file (FIFO, socket or device)"
        raise EmbedError(f"{clip}: {kind}, not a video file; pass a clip's path or a stored video id")
    if is_fused(eset.backbone):  # each part embeds the clip its own way, then the parts are fused
        parts = [store.get_set(set_id) for set_id in eset.options["parts"]]
        pieces = [query_vector(store, clip, part, weights_path=weights_path, device=device)[0] for part in parts]
        vector = np.concatenate([unit_rows(piece[None, :])[0] for piece in pieces])
    else:
        vector = embed_clip(clip, eset, weights_path=weights_path, device=device)
    return vector, (video["video_id"] if video else None), True


def neighbors(store: Store, clip: str | Path, *, set_ref: str | None = None, k: int = DEFAULT_K, metric: str = "l2",
              labels: Sequence[str] | None = None, views: Sequence[str] | None = (ORIGINAL_VIEW,),
              exclude_same_video: bool = False, kind: str = "auto", weights_path: Path | None = None,
              device: str = DEFAULT_DEVICE, notify: Notify | None = None) -> Neighbors:
    """The ``k`` stored rows nearest to ``clip`` in a set (see ``store.nearest`` for the filters; a new
    file is embedded on ``device``)."""
    eset = resolve_set(store, set_ref)
    vector, video_id, embedded_now = query_vector(store, clip, eset, weights_path=weights_path, device=device)
    exclude = [video_id] if exclude_same_video and video_id else None
    hits = nearest(store, eset.set_id, vector[None, :], k, metric=metric, views=views, labels=labels,
                   exclude_videos=exclude, kind=kind, notify=notify)[0]
    return Neighbors(set=eset, query=str(clip), query_video_id=video_id, embedded_now=embedded_now, hits=hits)


@dataclass
class RangeResult:
    """Every stored row within a radius of a clip or a class centroid."""

    set: EmbeddingSet
    centre: str
    radius: float
    hits: list[Hit]


def range_query(store: Store, *, radius: float, clip: str | Path | None = None, centroid: str | None = None,
                set_ref: str | None = None, metric: str = "l2", views: Sequence[str] | None = (ORIGINAL_VIEW,),
                weights_path: Path | None = None, device: str = DEFAULT_DEVICE, notify: Notify | None = None) -> RangeResult:
    """Rows within ``radius`` of ``clip`` (stored, or new: embedded on ``device``) or of the centroid of label ``centroid``."""
    if (clip is None) == (centroid is None):
        raise EmbedError("give either a clip or a centroid label to search around, not both", param="centroid")
    eset = resolve_set(store, set_ref)
    if centroid is not None:
        vector, centre = centroid_of(store, eset.set_id, centroid, views=views), f"centroid of {centroid}"
    else:
        vector, centre = query_vector(store, clip, eset, weights_path=weights_path, device=device)[0], str(clip)
    hits = within(store, eset.set_id, vector, radius, metric=metric, views=views, notify=notify)
    return RangeResult(set=eset, centre=centre, radius=radius, hits=hits)
