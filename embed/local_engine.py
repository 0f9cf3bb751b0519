"""The ``local`` engine: decode, forward and commit overlapped in threads of this process."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from embed.engine import OnCommit, Prepare, commit_rows, finite_rows, task_frames
from embed.errors import EmbedError
from embed.forward import Launched, collect, launch
from embed.model_cache import ModelSpec
from embed.plan import EmbedTask
from embed.registry import get_backbone
from embed.report import EmbedReport
from ingest.progress import progress as progress_bar
from store import EmbeddingSet, Store

FORWARD_BATCH = 8  # clips per forward pass (a GPU is idle between small batches; a CPU does not mind)
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)  # this process may use
DECODE_WORKERS = max(1, min(4, CORES))  # clips decoded at once, ahead of the model
T = TypeVar("T")
R = TypeVar("R")


class LocalEngine:
    """Decodes (and prepares) in ``decode_workers`` threads ahead of the model, runs ``forward_batch``
    clips per forward pass, and commits every ``batch_size`` rows in a writer thread.

    Three things overlap: decoding the next clips, the forward pass (on a GPU, the batch before runs
    while this one is sent: ``embed.forward``), and writing the last rows to the store (one commit in
    flight at a time, so memory stays bounded and a failed commit stops the run).
    """

    name = "local"

    def __init__(self, *, decode_workers: int | None = None, forward_batch: int = FORWARD_BATCH) -> None:
        workers = DECODE_WORKERS if decode_workers is None else decode_workers
        if workers < 1:
            raise EmbedError(f"decode-workers {workers}: must be at least 1", param="decode_workers")
        self.workers, self.forward_batch = workers, forward_batch

    def check(self, model: ModelSpec) -> None:
        """Build the model (it stays cached for ``run``)."""
        model.build()

    def run(self, store: Store, eset: EmbeddingSet, model: ModelSpec, tasks: Sequence[EmbedTask], *, batch_size: int,
            progress: bool, report: EmbedReport, prepare: Prepare | None = None, on_commit: OnCommit | None = None,
            desc: str = "embedding") -> None:
        """See ``embed.engine.Engine.run``."""
        loaded = model.build()
        spec = get_backbone(eset.backbone)
        batch: list[tuple[EmbedTask, np.ndarray]] = []
        pending: list[tuple[EmbedTask, np.ndarray]] = []
        in_flight: list[tuple[list[EmbedTask], Launched]] = []  # the forward launched last, not yet read
        committing: list[Future[None]] = []  # the commit running now
        threads = max(1, CORES // self.workers)  # the cores shared out, not a decoder's threads per core each

        def load(task: EmbedTask) -> np.ndarray | str:
            frames = task_frames(task, eset, spec, threads, report.notes)
            return frames if prepare is None or isinstance(frames, str) else prepare(task, frames)

        def read_forward() -> None:
            done_tasks, launched = in_flight.pop()
            batch.extend(finite_rows(done_tasks, collect(launched), report))
            while len(batch) >= batch_size:  # parts of batch_size rows, whatever the forward batch
                commit()

        def forward() -> None:
            with loaded.lock:
                launched = launch(loaded.module, spec, [frames for _, frames in pending], loaded.device)
            if in_flight:
                read_forward()
            in_flight.append(([task for task, _ in pending], launched))
            pending.clear()

        def write(rows: list[tuple[EmbedTask, np.ndarray]]) -> None:
            with store.joined_writer():  # this writer thread commits under the lock the caller's thread holds
                if on_commit is not None:
                    on_commit([task for task, _ in rows])
                commit_rows(store, eset, rows, report)

        def commit() -> None:
            if committing:
                committing.pop().result()
            committing.append(writer.submit(write, batch[:batch_size]))
            del batch[:batch_size]

        bar = progress_bar(total=len(tasks), desc=f"{desc} {eset.name}", unit="clip", enabled=progress)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-writer") as writer:
            for task, frames in _prefetch(load, tasks, workers=self.workers):
                if isinstance(frames, str):
                    report.failed.append((task.path, frames))
                else:
                    pending.append((task, frames))
                if len(pending) >= self.forward_batch:
                    forward()
                bar.update(1)
            if pending:
                forward()
            if in_flight:
                read_forward()
            while batch:
                commit()
            if committing:
                committing.pop().result()
        bar.close()


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
