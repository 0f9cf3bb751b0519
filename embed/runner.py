"""The batched embedding runner: embed what a set lacks, committing each batch as it finishes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from embed.errors import EmbedError
from embed.fusion import fuse_sets, is_fused
from embed.model_cache import load_model
from embed.preprocess import to_input
from embed.registry import DEFAULT_BACKBONE, BackboneSpec, get_backbone
from ingest import UnreadableVideo, content_hash, decode_frames
from ingest.progress import progress as progress_bar
from store import EmbeddingSet, Store, set_id_for
from store.parquet_parts import embedding_table

ORIGINAL_VIEW = "original"
SAMPLING = "uniform"
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class EmbedReport:
    """What one ``embed`` run did."""

    set: EmbeddingSet
    embedded: int = 0
    already: int = 0
    forwards: int = 0
    files_written: int = 0
    seconds: float = 0.0
    failed: list[tuple[str, str]] = field(default_factory=list)
    short: list[tuple[str, int]] = field(default_factory=list)  # (path, frames it has) for clips under the frames asked


def set_settings(spec: BackboneSpec, frames: int | None, *, random_init: bool, weights_path: Path | None) -> dict[str, Any]:
    """The settings that identify a set (and its id) for this backbone, checked, without building it."""
    frames = spec.default_frames if frames is None else frames
    options = dict(spec.default_options)
    spec.check_frames(frames, options)
    return dict(
        backbone=spec.name, weights=spec.resolve_weights(random_init, weights_path), frames=frames,
        sampling=SAMPLING, input_size=spec.input_size, options=options, dim=spec.dim(frames, options),
    )


def embed_store(
    store: Store,
    *,
    backbone: str = DEFAULT_BACKBONE,
    frames: int | None = None,
    batch_size: int = 16,
    random_init: bool = False,
    weights_path: Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> EmbedReport:
    """Embed every catalogued clip the set lacks; a clip that fails is recorded and skipped.

    Holds the store's writer lock throughout. Nothing is built or run when the set is complete.
    ``fuse:a+b`` builds a fused set from existing sets instead (``embed.fusion``; no model runs).
    """
    if batch_size < 1:
        raise EmbedError(f"--batch-size {batch_size}: must be at least 1")
    if is_fused(backbone):
        started = time.perf_counter()
        eset, added, already = fuse_sets(store, backbone)
        return EmbedReport(set=eset, embedded=added, already=already, seconds=time.perf_counter() - started)
    spec = get_backbone(backbone)
    settings = set_settings(spec, frames, random_init=random_init, weights_path=weights_path)
    started = time.perf_counter()
    if not store.exists():
        raise EmbedError(f"{store.root}: no store here yet; run `actionstore ingest DIR` first (or pass --store)")
    with store.writing():
        store.clean_orphans()
        videos = store.videos()
        if not videos:
            raise EmbedError(f"{store.root}: the store has no videos; run `actionstore ingest DIR` first")
        keys = store.embedded_keys(set_id_for(settings))
        todo = [v for v in videos if (v["video_id"], ORIGINAL_VIEW, 0) not in keys]
        model = None
        if todo:  # built before the set is registered, so a bad device or weights file leaves no trace
            model = load_model(spec.name, settings["frames"], settings["options"], random_init=random_init,
                               weights_path=weights_path, device=device)
        eset = store.ensure_set(**settings)
        report = EmbedReport(set=eset, already=len(videos) - len(todo))
        if model is not None:
            _run(store, spec, eset, model, todo, batch_size, device, progress, report)
        store.record_errors(report.failed, "embed")
        report.set = store.get_set(eset.set_id)
    report.seconds = time.perf_counter() - started
    return report


def embed_frames(model: Any, spec: BackboneSpec, frames: np.ndarray, device: str = "cpu") -> np.ndarray:
    """One clip's decoded frames -> its embedding vector (float32)."""
    if not spec.uses_torch:
        return np.asarray(model(frames), dtype=np.float32)
    import torch

    with torch.inference_mode():
        clip = to_input(frames, spec).unsqueeze(0).to(device)
        return model(clip)[0].float().cpu().numpy()


def _run(store: Store, spec: BackboneSpec, eset: EmbeddingSet, model: Any, todo: list[dict[str, Any]],
         batch_size: int, device: str, progress: bool, report: EmbedReport) -> None:
    """Decode ahead in a thread, run the model, commit every ``batch_size`` clips."""
    batch: list[tuple[dict[str, Any], np.ndarray]] = []

    def decode(video: dict[str, Any]) -> np.ndarray | str:
        try:
            if Path(video["path"]).is_file() and content_hash(video["path"]) != video["video_id"]:
                return "the file changed since it was ingested; run `actionstore ingest` again, then embed"
            return decode_frames(video["path"], eset.frames, num_frames=video["num_frames"], short_side=spec.input_size)
        except UnreadableVideo as exc:
            return exc.reason

    bar = progress_bar(total=len(todo), desc=f"embedding {eset.name}", unit="clip", enabled=progress)
    for video, decoded in _prefetch(decode, todo):
        if isinstance(decoded, str):
            report.failed.append((video["path"], decoded))
        else:
            batch.append((video, embed_frames(model, spec, decoded, device)))
            report.forwards += 1
            if video["num_frames"] < eset.frames:
                report.short.append((video["path"], video["num_frames"]))
        if len(batch) >= batch_size:
            _commit(store, eset, batch, report)
            batch = []
        bar.update(1)
    if batch:
        _commit(store, eset, batch, report)
    bar.close()


def _commit(store: Store, eset: EmbeddingSet, batch: list[tuple[dict[str, Any], np.ndarray]], report: EmbedReport) -> None:
    table = embedding_table(
        video_ids=[v["video_id"] for v, _ in batch],
        views=[ORIGINAL_VIEW] * len(batch),
        windows=[0] * len(batch),
        t_start=[0.0] * len(batch),
        t_end=[float(v["duration_s"] or 0.0) for v, _ in batch],
        vectors=np.stack([vector for _, vector in batch]),
    )
    store.commit_embeddings(eset.set_id, table)
    report.embedded += len(batch)
    report.files_written += 1


def _prefetch(fn: Callable[[T], R], items: Iterable[T], depth: int = 2) -> Iterator[tuple[T, R]]:
    """Yield ``(item, fn(item))`` in order, computing up to ``depth`` items ahead in a thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: list[tuple[T, Future[R]]] = []
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) > depth:
                head, future = pending.pop(0)
                yield head, future.result()
        for head, future in pending:
            yield head, future.result()
