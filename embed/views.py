"""Augmented views in the store: ``aug-<k>`` rows of a set, made on the fly at embedding time.

Each view's frames are the set's own sampled frames with one seeded draw of the augmentation recipe
(``ingest.augment``). How every view was made (its seed, the recipe with the library version, and
the parameters applied) goes into the ``augment_views`` table before its vector is committed, so a
view can be regenerated exactly, and asking again with the same seed embeds nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from embed.engine import DEFAULT_ENGINE, get_engine, task_frames
from embed.errors import EmbedError
from embed.fusion import is_fused
from embed.model_cache import DEFAULT_DEVICE
from embed.plan import EmbedTask
from embed.query import set_model_spec
from embed.registry import get_backbone
from embed.report import EmbedReport
from embed.sets import resolve_set
from ingest.augment import augment_frames, recipe_record, view_name, view_seed
from ingest.progress import progress as progress_bar
from store import EmbeddingSet, Store


@dataclass
class AugmentReport:
    """What one ``augment`` run did."""

    set: EmbeddingSet
    views: int
    seed: int
    embedded: int = 0
    already: int = 0
    videos_written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def augment_store(store: Store, *, views: int, seed: int, set_ref: str | None = None, write_videos: Path | None = None,
                  batch_size: int = 16, weights_path: Path | None = None, device: str = DEFAULT_DEVICE,
                  engine: str = DEFAULT_ENGINE, progress: bool = True) -> AugmentReport:
    """Give every catalogued clip views ``aug-1`` .. ``aug-<views>`` in the set (default: the default backbone's).

    Views already stored are kept; only missing ones are embedded. With ``write_videos``, every view
    is also written as ``DIR/<label>/<stem>.aug-<k>.mp4`` (the frames the backbone saw), regenerated
    from its record when its vector already exists. ``engine`` runs the embedding (``embed.engine``).
    Raises EmbedError for bad arguments or a seed that differs from the one the set's views were made with.
    """
    started = time.perf_counter()
    if views < 1:
        raise EmbedError(f"views {views}: must be at least 1", param="views")
    runner = get_engine(engine)
    eset = resolve_set(store, set_ref)
    if is_fused(eset.backbone):
        raise EmbedError(f"set {eset.name} is fused: augment its parts, then build the fused set again")
    if write_videos is not None:
        _check_output_dir(Path(write_videos), store)
    spec = get_backbone(eset.backbone)
    report = AugmentReport(set=eset, views=views, seed=seed)
    with store.writing():
        keys = store.embedded_keys(eset.set_id)
        records = store.view_records(eset.set_id)
        embed_tasks: list[EmbedTask] = []
        file_tasks: list[EmbedTask] = []
        videos = store.videos()
        for video in videos:
            for k in range(1, views + 1):
                task = EmbedTask.of(video, view_name(k))
                record = records.get((task.video_id, task.view))
                if record is not None and record["seed"] != view_seed(seed, task.video_id, k):
                    raise EmbedError(f"set {eset.name} already holds view {task.view} made with another --seed; "
                                     "use the seed it was made with (more --views add new views)")
                if task.key not in keys:
                    embed_tasks.append(task)
                elif write_videos is not None and not _video_path(Path(write_videos), task).exists():
                    file_tasks.append(task)
        report.already = len(videos) * views - len(embed_tasks)
        maker = _ViewMaker(seed, records, Path(write_videos) if write_videos else None, report)
        if embed_tasks:
            model = set_model_spec(eset, weights_path=weights_path, device=device)
            progress_report = EmbedReport(set=eset)
            runner.run(store, eset, model, embed_tasks, batch_size=batch_size, progress=progress, report=progress_report,
                       prepare=maker, desc="augmenting", on_commit=lambda tasks: store.record_views(eset.set_id, maker.take(tasks)))
            report.embedded = progress_report.embedded
            report.failed += progress_report.failed
        bar = progress_bar(total=len(file_tasks), desc="writing views", unit="clip", enabled=progress and bool(file_tasks))
        for task in file_tasks:
            frames = task_frames(task, eset, spec)
            if isinstance(frames, str):
                report.failed.append((task.path, frames))
            else:
                maker(task, frames)
            bar.update(1)
        bar.close()
        store.record_errors(report.failed, "augment")
        report.set = store.get_set(eset.set_id)
    report.seconds = time.perf_counter() - started
    return report


class _ViewMaker:
    """Turns a clip's decoded frames into a view's frames, remembering how, and writing it out if asked."""

    def __init__(self, seed: int, records: dict[tuple[str, str], dict[str, Any]], write_videos: Path | None,
                 report: AugmentReport) -> None:
        self.seed, self.records, self.write_videos, self.report = seed, records, write_videos, report
        self.made: dict[tuple[str, str], dict[str, Any]] = {}

    @cached_property
    def recipe(self) -> dict[str, Any]:
        """The recipe of new views (made on first use: it imports albumentations, and so torch)."""
        return recipe_record()

    def __call__(self, task: EmbedTask, frames: np.ndarray) -> np.ndarray:
        record = self.records.get((task.video_id, task.view))
        recipe = json.loads(record["recipe"]) if record else self.recipe
        seed = view_seed(self.seed, task.video_id, int(task.view.split("-")[1]))
        out, applied = augment_frames(frames, seed=seed, recipe=recipe)
        self.made[(task.video_id, task.view)] = {"video_id": task.video_id, "view": task.view, "seed": seed,
                                                 "recipe": json.dumps(recipe), "applied": json.dumps(applied)}
        if self.write_videos is not None:
            from ingest.demo_data import write_clip  # PyAV and OpenCV: only when views are written out

            path = _video_path(self.write_videos, task)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_clip(path, out, fps=max(1, round(len(out) / (task.duration_s or len(out)))))
            self.report.videos_written.append(path)
        return out

    def take(self, tasks: list[EmbedTask]) -> list[dict[str, Any]]:
        """The records of these views (made in the prefetch thread), removed from the pending ones."""
        return [self.made.pop((task.video_id, task.view)) for task in tasks]


def _video_path(root: Path, task: EmbedTask) -> Path:
    return root / task.label / f"{Path(task.path).stem}.{task.view}.mp4"


def _check_output_dir(path: Path, store: Store) -> None:
    """Refuse a --write-videos folder inside the store or one that cannot be written."""
    resolved = path.resolve()
    if resolved == store.root.resolve() or store.root.resolve() in resolved.parents:
        raise EmbedError(f"write-videos {path}: inside the store; choose a folder outside {store.root}", param="write_videos")
    if resolved.exists() and not resolved.is_dir():
        raise EmbedError(f"write-videos {path}: exists and is not a folder; choose a folder", param="write_videos")
    try:
        resolved.mkdir(parents=True, exist_ok=True)
        probe = resolved / ".actionstore-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise EmbedError(f"write-videos {path}: cannot write there ({exc.strerror}); choose a writable folder", param="write_videos") from exc
