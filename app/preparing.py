"""Jobs before a store exists: the demo dataset, and preparing a clip folder (transcode, square crop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.errors import job
from app.results import DemoDataResult, PrepareResult, Skipped


@job
def demo_data(directory: str | Path, *, clips_per_class: int = 6, seed: int = 0,
              holdout: str | Path | None = None) -> DemoDataResult:
    """Write the synthetic ten-class demo dataset (real H.264 files) and its labels CSV."""
    from ingest.demo_data import DEMO_CLASSES, LABELS_FILE, make_demo_dataset

    written = make_demo_dataset(directory, clips_per_class=clips_per_class, seed=seed, holdout=holdout)
    return DemoDataResult(str(directory), len(written), len(DEMO_CLASSES), str(Path(directory) / LABELS_FILE),
                          str(holdout) if holdout else None)


def _prepared(report: Any, dst: str | Path) -> PrepareResult:
    return PrepareResult(str(dst), report.written, report.skipped, report.seconds,
                         str(report.preview) if report.preview else None,
                         skipped=[Skipped(p, r) for p, r in report.failed], recorded=False)


@job
def transcode(src: str | Path, dst: str | Path, *, workers: int = 2, progress: bool = True) -> PrepareResult:
    """Re-encode every clip under ``src/<label>/`` as upright H.264 MP4 under ``dst/<label>/``."""
    from ingest.prepare import transcode as run

    return _prepared(run(src, dst, workers=workers, progress=progress), dst)


@job
def crop(src: str | Path, dst: str | Path, *, size: int = 256, offset_y: int | None = None, center: str = "fixed",
         workers: int = 2, preview: str | Path | None = None, progress: bool = True) -> PrepareResult:
    """Crop the largest square of every clip (at the centre moved by ``offset_y``, or on the motion with
    ``center="auto"``) and resize it to ``size``; a contact sheet goes to ``preview`` (default ``dst/crop-preview.png``)."""
    from ingest.prepare import crop as run

    report = run(src, dst, size=size, offset_y=offset_y, center=center, workers=workers,
                 preview=Path(preview) if preview else Path(dst) / "crop-preview.png", progress=progress)
    return _prepared(report, dst)
