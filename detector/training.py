"""Train a one-class detector from a set's stored vectors: split by video, fit, calibrate, save."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detector.config import AEConfig, load_config
from detector.errors import DetectorError
from detector.metrics import auroc_by_class
from detector.records import detector_rows
from detector.saved import KINDS, SavedDetector, check_name, make_detector, save_detector
from detector.splits import DEFAULT_RATIOS, Split, make_split
from detector.thresholds import check_rule, compute_threshold
from embed.model_cache import DEFAULT_DEVICE
from embed.sets import resolve_set
from ingest.progress import progress as progress_bar
from store import ORIGINAL_VIEW, Store



@dataclass
class SetRows:
    """Every stored row of a set (all views) with its video, view and label."""

    video_ids: np.ndarray
    views: np.ndarray
    labels: np.ndarray
    vectors: np.ndarray

    def mask(self, videos: list[str], *, originals_only: bool = False) -> np.ndarray:
        keep = np.isin(self.video_ids, videos)
        return keep & (self.views == ORIGINAL_VIEW) if originals_only else keep


@dataclass
class TrainReport:
    """What training did."""

    detector: SavedDetector
    split: Split
    rows: dict[str, int]
    seconds: float
    ignored_config: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def set_rows(store: Store, set_id: str) -> SetRows:
    """A set's rows (every view) as arrays; rows of clips removed from the catalog are left out."""
    rows, matrix = store.load_vectors(set_id, views=None)
    labels = np.array(rows.column("label").to_pylist(), dtype=object)
    keep = labels != None  # noqa: E711 - removed clips have no label
    return SetRows(np.array(rows.column("video_id").to_pylist(), dtype=object)[keep],
                   np.array(rows.column("view").to_pylist(), dtype=object)[keep], labels[keep], matrix[keep].astype(np.float64))


def score_rows(model: Any, data: SetRows, mask: np.ndarray) -> np.ndarray:
    """Scores of the masked rows (a k-NN detector never counts a row's own video)."""
    if not mask.any():
        return np.zeros(0)
    return model.score(data.vectors[mask], data.video_ids[mask].tolist())


def train_detector(store: Store, name: str, *, target: str | None = None, set_ref: str | None = None, kind: str = "ae",
                   config_path: str | Path | None = None, threshold: str = "percentile:99",
                   ratios: tuple[float, ...] = DEFAULT_RATIOS, seed: int = 0, calibration_others: bool = False,
                   device: str = DEFAULT_DEVICE, force: bool = False, progress: bool = True) -> TrainReport:
    """Train detector ``name`` of ``target`` on the set's stored vectors and save it with its split and threshold.

    Training uses every view of the train videos; the AE's best epoch is chosen on the validation
    videos; the threshold comes from the calibration videos (all their views) by ``threshold``;
    the quick test AUROC in ``metrics`` uses the test videos' original clips only.
    """
    started = time.perf_counter()
    check_name(name)
    check_rule(threshold)
    if kind not in KINDS:
        raise DetectorError(f"kind {kind!r}: choose one of {', '.join(KINDS)}", param="kind")
    if detector_rows(store, name) and not force:
        raise DetectorError(f"detector {name!r} exists; pass --force to replace it, or choose another name")
    loaded = load_config(config_path) if config_path is not None else None
    config = loaded.config if loaded else AEConfig()
    target = target or (loaded.target if loaded else None)
    if target is None:
        raise DetectorError("target: name the class the detector recognises (or give a config with class_to_recognize)", param="target")
    eset = resolve_set(store, set_ref)
    version = store.set_version(eset.set_id)
    data = set_rows(store, eset.set_id)
    by_video = dict(zip(data.video_ids.tolist(), data.labels.tolist()))
    split = make_split(by_video, target, ratios=ratios, seed=seed, calibration_others=calibration_others)
    train = data.mask(split.videos("train"))
    val = data.mask(split.videos("val"))
    if train.sum() < 2:
        raise DetectorError(f"target {target}: {train.sum()} training row(s); add clips or augmented views "
                            "(`actionstore augment --views N`)", param="target")
    bar = progress_bar(total=config.epochs, desc=f"training {name}", unit="epoch", enabled=progress and kind == "ae")

    def on_epoch(epoch: int, train_loss: float, val_loss: float | None) -> None:
        bar.set_postfix(train=f"{train_loss:.4f}", val="-" if val_loss is None else f"{val_loss:.4f}")
        bar.update(1)

    model = make_detector(kind, config, device=device, on_epoch=on_epoch)
    model.fit(data.vectors[train], data.video_ids[train].tolist(), val=data.vectors[val])
    bar.close()
    calib_t, calib_o = data.mask(split.videos("calib", target=True)), data.mask(split.videos("calib", target=False))
    cut = compute_threshold(threshold, score_rows(model, data, calib_t), score_rows(model, data, calib_o))
    test = data.mask(split.videos("test"), originals_only=True)
    test_scores = score_rows(model, data, test)
    per_class = auroc_by_class(test_scores, data.labels[test], target)
    metrics: dict[str, Any] = {
        "test_auroc_mean": float(np.nanmean([r["auroc"] for r in per_class])) if per_class else None,
        "test_accuracy": float(np.mean((test_scores <= cut) == (data.labels[test] == target))) if test.any() else None,
        "best_epoch": getattr(model, "best_epoch", None), "epochs_run": len(getattr(model, "history", [])),
    }
    saved = SavedDetector(name, kind, eset.set_id, version, target, config.to_dict(), threshold, cut,
                          metrics, model)
    save_detector(store, saved, [(v, split.labels[v], p) for v, p in sorted(split.parts.items())])
    rows = {part: int(data.mask(split.videos(part)).sum()) for part in ("train", "val", "calib", "test")}
    notes = list(loaded.notes) if loaded else []
    if kind == "ae" and not val.any():
        notes.append("no validation videos: the best epoch was chosen by training loss")
    return TrainReport(saved, split, rows, time.perf_counter() - started, list(loaded.ignored) if loaded else [], notes)

