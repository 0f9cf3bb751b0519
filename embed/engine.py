"""The engine seam: what runs an embedding plan's tasks, and the steps every engine shares.

An engine decodes each task's frames (``task_frames``), runs the set's model on them, and hands
finished rows to ``commit_rows``, which commits them through the store (``store.commit_embeddings``:
the manifest stays the single source of truth). Planning (``embed.plan``) and the commit do not
change between engines; ``local`` is the threaded runner in this process (``embed.local_engine``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from embed.errors import EmbedError
from embed.model_cache import ModelSpec
from embed.plan import EmbedTask
from embed.registry import BackboneSpec
from embed.report import EmbedReport
from ingest import UnreadableVideo, content_hash, decode_clip
from store import EmbeddingSet, Store
from store.parquet_parts import embedding_table

DEFAULT_ENGINE = "local"
ENGINES = {"local": ("embed.local_engine", "LocalEngine")}  # name -> (module, class), imported when chosen
NON_FINITE = "the model gave non-finite values for this clip (an fp16 overflow? embed with --precision bf16 or fp32)"

Prepare = Callable[[EmbedTask, np.ndarray], np.ndarray]  # a task's decoded frames -> the frames its view embeds
OnCommit = Callable[[list[EmbedTask]], None]  # runs just before these tasks' rows are committed


class Engine(Protocol):
    """Runs embedding tasks for one set and commits their rows as they finish."""

    name: str

    def check(self, model: ModelSpec) -> None:
        """Raise now (EmbedError, WeightsUnavailable) if ``model`` cannot be built, before the set is registered."""

    def run(self, store: Store, eset: EmbeddingSet, model: ModelSpec, tasks: Sequence[EmbedTask], *, batch_size: int,
            progress: bool, report: EmbedReport, prepare: Prepare | None = None, on_commit: OnCommit | None = None,
            desc: str = "embedding") -> None:
        """Embed ``tasks`` into ``eset``, committing every ``batch_size`` rows (``commit_rows``).

        ``prepare`` turns a task's decoded frames into its view's frames (augmentation); ``on_commit``
        runs before a batch is committed. A task that cannot be read or gives non-finite values lands in
        ``report.failed`` and the rest go on; ``report.embedded``, ``forwards`` and ``files_written`` count.
        """


def get_engine(name: str = DEFAULT_ENGINE, *, decode_workers: int | None = None) -> Engine:
    """The engine called ``name`` (``decode_workers``: clips decoded at once; None: the engine's default)."""
    if name not in ENGINES:
        raise EmbedError(f"engine {name!r}: unknown engine; choose one of {', '.join(sorted(ENGINES))}", param="engine")
    module, cls = ENGINES[name]
    return getattr(importlib.import_module(module), cls)(decode_workers=decode_workers)


def task_frames(task: EmbedTask, eset: EmbeddingSet, spec: BackboneSpec, threads: int = 0,
                notes: dict[tuple[str, str, int], str] | None = None) -> np.ndarray | str:
    """A task's frames as the set samples them (in its window only, if it has one), or a one-line reason
    it cannot be read (more than ``ingest.decode.DAMAGE_LIMIT`` of its frames damaged, say). Damage
    below the limit goes into ``notes`` under the task's key. ``threads``: the decoder's (``ingest.decode_clip``)."""
    try:
        if Path(task.path).is_file() and content_hash(task.path) != task.video_id:
            return "the file changed since it was ingested; run `actionstore ingest` again, then embed"
        window = task.window
        frames, damage = decode_clip(task.path, eset.frames, num_frames=task.num_frames, short_side=spec.input_size,
                                     span=(window.first, window.end) if window else None, threads=threads)
    except UnreadableVideo as exc:
        return exc.reason
    if damage.bad and notes is not None:
        notes[task.key] = damage.note()
    return frames


def finite_rows(tasks: list[EmbedTask], vectors: np.ndarray, report: EmbedReport) -> list[tuple[EmbedTask, np.ndarray]]:
    """The ``(task, vector)`` rows of a forward pass whose vectors are finite; the others go to ``report.failed``."""
    finite = np.isfinite(vectors).all(axis=1)
    report.failed += [(task.path, NON_FINITE) for task, ok in zip(tasks, finite) if not ok]
    report.forwards += len(tasks)
    return [(task, vector) for task, vector, ok in zip(tasks, vectors, finite) if ok]


def commit_rows(store: Store, eset: EmbeddingSet, rows: list[tuple[EmbedTask, np.ndarray]], report: EmbedReport) -> None:
    """Commit finished rows to the set as one Parquet file with their notes (``store.commit_embeddings``)."""
    tasks = [task for task, _ in rows]
    noted = [(task, report.notes.pop(task.key)) for task in tasks if task.key in report.notes]
    table = embedding_table(
        video_ids=[t.video_id for t in tasks], views=[t.view for t in tasks], windows=[t.key[2] for t in tasks],
        t_start=[t.span_s[0] for t in tasks], t_end=[t.span_s[1] for t in tasks],
        vectors=np.stack([vector for _, vector in rows]),
    )
    store.commit_embeddings(eset.set_id, table, [(task.video_id, task.view, task.key[2], note) for task, note in noted])
    report.noted += [(task.path if task.window is None else f"{task.path} (window {task.key[2]})", note) for task, note in noted]
    report.embedded += len(rows)
    report.files_written += 1
