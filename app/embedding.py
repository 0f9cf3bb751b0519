"""Jobs that run a backbone over the catalogue: embed a set, add augmented views."""

from __future__ import annotations

from pathlib import Path

from app.defaults import DEFAULT_BACKBONE, DEFAULT_DEVICE
from app.errors import job
from app.results import AugmentResult, ClipNote, EmbedResult, SetInfo, ShortClip, Skipped
from store import Store


@job
def embed(store: Store, *, backbone: str | None = None, frames: int | None = None, batch_size: int = 16,
          random_init: bool = False, weights_path: str | Path | None = None, device: str = DEFAULT_DEVICE,
          short_clips: str = "repeat", windows: str | None = None, precision: str = "fp32",
          decode_workers: int | None = None, engine: str | None = None, progress: bool = True) -> EmbedResult:
    """Embed every catalogued clip the set lacks (``fuse:a+b`` fuses existing sets); a complete set runs no model.
    ``engine`` runs decode, forward and commit (default: the local threaded runner)."""
    from embed import embed_store
    from embed.engine import DEFAULT_ENGINE

    report = embed_store(store, backbone=backbone or DEFAULT_BACKBONE, frames=frames, batch_size=batch_size,
                         random_init=random_init, weights_path=Path(weights_path) if weights_path else None, device=device,
                         short_clips=short_clips, windows=windows, precision=precision, decode_workers=decode_workers,
                         engine=engine or DEFAULT_ENGINE, progress=progress)
    return EmbedResult(SetInfo.of(report.set), report.embedded, report.already, report.forwards, report.files_written,
                       report.seconds, report.forwards > 0, [ShortClip(p, n) for p, n in report.short],
                       [ClipNote(p, note) for p, note in report.noted],
                       skipped=[Skipped(p, r) for p, r in report.failed])


@job
def augment(store: Store, *, views: int, seed: int = 0, set_ref: str | None = None, write_videos: str | Path | None = None,
            batch_size: int = 16, weights_path: str | Path | None = None, device: str = DEFAULT_DEVICE,
            engine: str | None = None, progress: bool = True) -> AugmentResult:
    """Give every clip seeded augmented views ``aug-1`` .. ``aug-<views>`` in a set (only the missing ones are embedded)."""
    from embed.engine import DEFAULT_ENGINE
    from embed.views import augment_store

    report = augment_store(store, views=views, seed=seed, set_ref=set_ref,
                           write_videos=Path(write_videos) if write_videos else None, batch_size=batch_size,
                           weights_path=Path(weights_path) if weights_path else None, device=device,
                           engine=engine or DEFAULT_ENGINE, progress=progress)
    return AugmentResult(SetInfo.of(report.set), views, seed, report.embedded, report.already, report.seconds,
                         [str(p) for p in report.videos_written], skipped=[Skipped(p, r) for p, r in report.failed])
