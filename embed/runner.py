"""``embed_store``: plan what a set lacks, then run the tasks with an engine, committing as they finish."""

from __future__ import annotations

import time
from pathlib import Path

from embed.engine import DEFAULT_ENGINE, get_engine
from embed.errors import EmbedError
from embed.fusion import fuse_sets, is_fused
from embed.model_cache import DEFAULT_DEVICE, ModelSpec
from embed.plan import plan_embed, set_settings
from embed.precision import DEFAULT_PRECISION
from embed.registry import DEFAULT_BACKBONE, get_backbone
from embed.report import EmbedReport
from store import Store


def embed_store(
    store: Store,
    *,
    backbone: str = DEFAULT_BACKBONE,
    frames: int | None = None,
    batch_size: int = 16,
    random_init: bool = False,
    weights_path: Path | None = None,
    device: str = DEFAULT_DEVICE,
    short_clips: str = "repeat",
    windows: str | None = None,
    precision: str = DEFAULT_PRECISION,
    engine: str = DEFAULT_ENGINE,
    decode_workers: int | None = None,
    progress: bool = True,
) -> EmbedReport:
    """Embed every catalogued clip the set lacks; a clip that fails is recorded and skipped.

    Holds the store's writer lock throughout. The run is planned first (``embed.plan``): when the set
    is complete nothing is built or run, and torch is not imported. ``fuse:a+b`` builds a fused set
    from existing sets instead (``embed.fusion``; no model runs). ``short_clips``: ``repeat`` (a clip
    with fewer frames than asked repeats frames, and is noted in ``report.short``) or ``refuse`` (it is
    skipped and recorded as failed). ``windows`` ``LEN:STRIDE`` (seconds) also stores one vector per
    sliding window (``embed.windows``); it is part of the set id, as is ``precision`` (``fp32``;
    ``bf16``/``fp16`` run the forward under autocast: ``embed.precision``). ``engine`` runs the tasks
    (``embed.engine``; ``local``: threads of this process, ``decode_workers`` clips decoded at once).
    """
    if batch_size < 1:
        raise EmbedError(f"batch-size {batch_size}: must be at least 1", param="batch_size")
    runner = get_engine(engine, decode_workers=decode_workers)
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
        plan = plan_embed(store, settings, short_clips=short_clips)
        model = ModelSpec.of(spec.name, settings["frames"], settings["options"], random_init=random_init,
                             weights_path=weights_path, device=device)
        if plan.tasks:  # checked before the set is registered, so a bad device or weights file leaves no trace
            runner.check(model)
        eset = store.ensure_set(**settings, name=plan.name)
        report = EmbedReport(set=eset, already=plan.already, failed=list(plan.refused))
        if plan.tasks:
            runner.run(store, eset, model, plan.tasks, batch_size=batch_size, progress=progress, report=report)
        failed = {path for path, _ in report.failed}
        report.short = [(path, have) for path, have in plan.short if path not in failed]
        store.record_errors(report.failed, f"embed {eset.name}")
        report.set = store.get_set(eset.set_id)
    report.seconds = time.perf_counter() - started
    return report
