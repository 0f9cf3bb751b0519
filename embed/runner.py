"""The batched embedding runner: embed what a set lacks, committing each batch as it finishes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from embed.errors import EmbedError
from embed.forward import Launched, collect, launch
from embed.fusion import fuse_sets, is_fused
from embed.model_cache import load_model, resolve_device
from embed.precision import DEFAULT_PRECISION, precision_options
from embed.registry import DEFAULT_BACKBONE, BackboneSpec, get_backbone
from embed.windows import WINDOW_VIEW, Window, clip_windows, window_spec
from ingest import UnreadableVideo, content_hash, decode_frames
from ingest.progress import progress as progress_bar
from store import ORIGINAL_VIEW, EmbeddingSet, Store, set_id_for
from store.parquet_parts import embedding_table

NON_FINITE = "the model gave non-finite values for this clip (an fp16 overflow? embed with --precision bf16 or fp32)"
SAMPLING = "uniform"
FORWARD_BATCH = 8  # clips per forward pass (a GPU is idle between small batches; a CPU does not mind)
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)  # this process may use
DECODE_WORKERS = max(1, min(4, CORES))  # clips decoded at once, ahead of the model
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


def set_settings(spec: BackboneSpec, frames: int | None, *, random_init: bool, weights_path: Path | None,
                 windows: str | None = None, precision: str = DEFAULT_PRECISION) -> dict[str, Any]:
    """The settings that identify a set (and its id) for this backbone, checked, without building it."""
    frames = spec.default_frames if frames is None else frames
    options = dict(spec.default_options)
    spec.check_frames(frames, options)
    if windows is not None:
        options["windows"] = window_spec(windows)
    options |= precision_options(precision, spec)
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
    short_clips: str = "repeat",
    windows: str | None = None,
    precision: str = DEFAULT_PRECISION,
    decode_workers: int = DECODE_WORKERS,
    progress: bool = True,
) -> EmbedReport:
    """Embed every catalogued clip the set lacks; a clip that fails is recorded and skipped.

    Holds the store's writer lock throughout. Nothing is built or run when the set is complete.
    ``fuse:a+b`` builds a fused set from existing sets instead (``embed.fusion``; no model runs).
    ``short_clips``: ``repeat`` (a clip with fewer frames than asked repeats frames, and is noted in
    ``report.short``) or ``refuse`` (it is skipped and recorded as failed). ``windows`` ``LEN:STRIDE``
    (seconds) also stores one vector per sliding window (``embed.windows``); it is part of the set id,
    as is ``precision`` (``fp32``; ``bf16``/``fp16`` run the forward under autocast: ``embed.precision``).
    """
    if short_clips not in ("repeat", "refuse"):
        raise EmbedError(f"--short-clips {short_clips!r}: use repeat or refuse")
    if batch_size < 1:
        raise EmbedError(f"--batch-size {batch_size}: must be at least 1")
    if decode_workers < 1:
        raise EmbedError(f"--decode-workers {decode_workers}: must be at least 1")
    device = resolve_device(device)
    if is_fused(backbone):
        started = time.perf_counter()
        eset, added, already, files = fuse_sets(store, backbone)
        return EmbedReport(set=eset, embedded=added, already=already, files_written=files,
                           seconds=time.perf_counter() - started)
    spec = get_backbone(backbone)
    settings = set_settings(spec, frames, random_init=random_init, weights_path=weights_path, windows=windows,
                            precision=precision)
    started = time.perf_counter()
    if not store.exists():
        raise EmbedError(f"{store.root}: no store here yet; run `actionstore ingest DIR` first (or pass --store)")
    with store.writing():
        store.clean_orphans()
        videos = store.videos()
        if not videos:
            raise EmbedError(f"{store.root}: the store has no videos; run `actionstore ingest DIR` first")
        keys = store.embedded_keys(set_id_for(settings))
        todo = [v for v in videos if any(_key(v, view, w) not in keys for _, view, w in tasks_for(v, settings["options"]))]
        model = None
        if todo:  # built before the set is registered, so a bad device or weights file leaves no trace
            model = load_model(spec.name, settings["frames"], settings["options"], random_init=random_init,
                               weights_path=weights_path, device=device)
        eset = store.ensure_set(**settings, name=_set_name(settings))
        report = EmbedReport(set=eset, already=len(videos) - len(todo))
        if model is not None:
            if short_clips == "refuse":
                short = [v for v in todo if v["num_frames"] < eset.frames]
                report.failed += [(v["path"], f"has {v['num_frames']} frames, fewer than the {eset.frames} asked; "
                                   "pass --short-clips repeat to embed it with repeated frames") for v in short]
                todo = [v for v in todo if v["num_frames"] >= eset.frames]
            tasks = [t for v in todo for t in tasks_for(v, eset.options) if _key(*t) not in keys]
            run_tasks(store, spec, eset, model, tasks, batch_size=batch_size, device=device, progress=progress, report=report,
                      workers=decode_workers)
        store.record_errors(report.failed, "embed")
        report.set = store.get_set(eset.set_id)
    report.seconds = time.perf_counter() - started
    return report


Task = tuple[dict[str, Any], str, Window | None]  # (catalogued video row, view name, window or None: the whole clip)
Prepare = Callable[[dict[str, Any], str, np.ndarray], np.ndarray]


def tasks_for(video: dict[str, Any], options: dict[str, Any]) -> list[Task]:
    """A clip's rows in a set: the whole clip, and its sliding windows when the set has them."""
    tasks: list[Task] = [(video, ORIGINAL_VIEW, None)]
    if options.get("windows"):
        tasks += [(video, WINDOW_VIEW, w) for w in clip_windows(video["duration_s"] or 0.0, video["num_frames"], options["windows"])]
    return tasks


def _key(video: dict[str, Any], view: str, window: Window | None) -> tuple[str, str, int]:
    return video["video_id"], view, window.k if window else 0


def _set_name(settings: dict[str, Any]) -> str | None:
    """``<backbone>_f<frames>[_w<len>s<stride>][_<precision>][_random]`` for sets with windows or a reduced
    precision (None: the store's default name)."""
    options = settings["options"]
    if "windows" not in options and "precision" not in options:
        return None
    window = "_w{}s{}".format(*options["windows"].split(":")) if "windows" in options else ""
    precision = f"_{options['precision']}" if "precision" in options else ""
    suffix = "_random" if settings["weights"] == "random-init" else ""
    return f"{settings['backbone']}_f{settings['frames']}{window}{precision}{suffix}".replace(".", "p")


def decode_for_set(video: dict[str, Any], eset: EmbeddingSet, spec: BackboneSpec, window: Window | None = None,
                   threads: int = 0) -> np.ndarray | str:
    """A catalogued clip's frames as the set samples them (in ``window`` only, if given), or a one-line
    reason it cannot be read. ``threads``: the decoder's (``ingest.decode_frames``)."""
    try:
        if Path(video["path"]).is_file() and content_hash(video["path"]) != video["video_id"]:
            return "the file changed since it was ingested; run `actionstore ingest` again, then embed"
        return decode_frames(video["path"], eset.frames, num_frames=video["num_frames"], short_side=spec.input_size,
                             span=(window.first, window.end) if window else None, threads=threads)
    except UnreadableVideo as exc:
        return exc.reason


def run_tasks(store: Store, spec: BackboneSpec, eset: EmbeddingSet, model: Any, tasks: list[Task], *, batch_size: int,
              device: str, progress: bool, report: EmbedReport, prepare: Prepare | None = None,
              on_commit: Callable[[list[Task]], None] | None = None, desc: str = "embedding",
              forward_batch: int = FORWARD_BATCH, workers: int = DECODE_WORKERS) -> None:
    """Decode (and ``prepare``) in ``workers`` threads ahead of the model, run ``forward_batch`` clips
    per forward pass, and commit every ``batch_size`` rows in a writer thread.

    Three things overlap: decoding the next clips, the forward pass (on a GPU, the batch before runs
    while this one is sent: ``embed.forward``), and writing the last rows to the store (one commit in
    flight at a time, so memory stays bounded and a failed commit stops the run).
    ``prepare(video, view, frames)`` turns decoded frames into the view's frames (augmentation);
    ``on_commit(tasks)`` runs just before a batch's vectors are committed (to record how views were made).
    A clip that cannot be read lands in ``report.failed`` and the rest goes on.
    """
    batch: list[tuple[Task, np.ndarray]] = []
    pending: list[tuple[Task, np.ndarray]] = []
    in_flight: list[tuple[list[Task], Launched]] = []  # the forward launched last, not yet read
    committing: list[Future[None]] = []  # the commit running now

    threads = max(1, CORES // workers)  # the cores shared out, not a decoder's threads per core each

    def load(task: Task) -> np.ndarray | str:
        frames = decode_for_set(task[0], eset, spec, task[2], threads)
        return frames if prepare is None or isinstance(frames, str) else prepare(task[0], task[1], frames)

    def read_forward() -> None:
        done_tasks, launched = in_flight.pop()
        vectors = collect(launched)
        finite = np.isfinite(vectors).all(axis=1)
        report.failed += [(task[0]["path"], NON_FINITE) for task, ok in zip(done_tasks, finite) if not ok]
        batch.extend((task, vector) for task, vector, ok in zip(done_tasks, vectors, finite) if ok)
        report.forwards += len(done_tasks)
        if len(batch) >= batch_size:
            commit()

    def forward() -> None:
        launched = launch(model, spec, [frames for _, frames in pending], device)
        if in_flight:
            read_forward()
        in_flight.append(([task for task, _ in pending], launched))
        pending.clear()

    def write(rows: list[tuple[Task, np.ndarray]]) -> None:
        with store.joined_writer():  # this helper thread writes under the caller's writing()
            if on_commit is not None:
                on_commit([task for task, _ in rows])
            _commit(store, eset, rows, report)

    def commit() -> None:
        if committing:
            committing.pop().result()
        committing.append(writer.submit(write, list(batch)))
        batch.clear()

    bar = progress_bar(total=len(tasks), desc=f"{desc} {eset.name}", unit="clip", enabled=progress)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-writer") as writer:
        for task, frames in _prefetch(load, tasks, workers=workers):
            video = task[0]
            if isinstance(frames, str):
                report.failed.append((video["path"], frames))
            else:
                pending.append((task, frames))
                if task[2] is None and video["num_frames"] < eset.frames:
                    report.short.append((video["path"], video["num_frames"]))
            if len(pending) >= forward_batch:
                forward()
            bar.update(1)
        if pending:
            forward()
        if in_flight:
            read_forward()
        if batch:
            commit()
        if committing:
            committing.pop().result()
    bar.close()


def _commit(store: Store, eset: EmbeddingSet, batch: list[tuple[Task, np.ndarray]], report: EmbedReport) -> None:
    table = embedding_table(
        video_ids=[video["video_id"] for (video, _, _), _ in batch],
        views=[view for (_, view, _), _ in batch],
        windows=[w.k if w else 0 for (_, _, w), _ in batch],
        t_start=[w.t_start if w else 0.0 for (_, _, w), _ in batch],
        t_end=[w.t_end if w else float(video["duration_s"] or 0.0) for (video, _, w), _ in batch],
        vectors=np.stack([vector for _, vector in batch]),
    )
    store.commit_embeddings(eset.set_id, table)
    report.embedded += len(batch)
    report.files_written += 1


def _prefetch(fn: Callable[[T], R], items: Iterable[T], *, workers: int = 1) -> Iterator[tuple[T, R]]:
    """Yield ``(item, fn(item))`` in order, computing up to ``2 * workers`` items ahead in ``workers`` threads
    (PyAV and OpenCV release the GIL while they decode)."""
    depth = 2 * workers
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: list[tuple[T, Future[R]]] = []
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) > depth:
                head, future = pending.pop(0)
                yield head, future.result()
        for head, future in pending:
            yield head, future.result()
