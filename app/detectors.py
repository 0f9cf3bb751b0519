"""Detector jobs: train one from stored vectors, evaluate it, list them, and the verdict for a clip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.analyses import run_result
from app.defaults import DEFAULT_DEVICE, DEFAULT_K
from app.errors import job
from app.results import DetectorInfo, EvaluationResult, Neighbor, ScoreResult, SetInfo, TrainResult
from detector.records import detector_rows
from store import Store


def _info(detector: Any) -> DetectorInfo:
    return DetectorInfo(detector.name, detector.kind, detector.target, detector.set_id, detector.threshold_rule,
                        float(detector.threshold), detector.metrics.get("test_auroc_mean"), dict(detector.metrics))


@job
def train(store: Store, name: str, *, target: str | None = None, set_ref: str | None = None, kind: str = "ae",
          config_path: str | Path | None = None, threshold: str = "percentile:99", split: str = "0.5,0.15,0.15,0.2",
          seed: int = 0, calibration_others: bool = False, device: str = DEFAULT_DEVICE, force: bool = False,
          progress: bool = True) -> TrainResult:
    """Train detector ``name`` for one class from a set's stored vectors (the backbone never runs)."""
    from detector.splits import parse_ratios
    from detector.training import train_detector

    report = train_detector(store, name, target=target, set_ref=set_ref, kind=kind, config_path=config_path,
                            threshold=threshold, ratios=parse_ratios(split), seed=seed,
                            calibration_others=calibration_others, device=device, force=force, progress=progress)
    return TrainResult(_info(report.detector), report.split.counts(), dict(report.rows), report.seconds,
                       list(report.ignored_config), list(report.notes))


@job
def evaluate(store: Store, name: str, *, vs: str | None = None, force: bool = False,
             device: str = DEFAULT_DEVICE) -> EvaluationResult:
    """Scores of every clip, AUROC per class pair, a report against ``vs`` and every kind on the same split."""
    from detector.evaluation import evaluate_detector

    ev = evaluate_detector(store, name, vs=vs, force=force, device=device)
    return EvaluationResult(_info(ev.detector), ev.vs, run_result(ev, store.get_set(ev.detector.set_id)))


@job
def list_detectors(store: Store) -> list[DetectorInfo]:
    """Saved detectors with their set, target, threshold and test metrics, newest first."""
    rows = [(r, json.loads(r["metrics"])) for r in detector_rows(store)]
    return [DetectorInfo(r["name"], r["kind"], r["target"], r["set_id"], r["threshold_rule"], r["threshold"],
                         metrics.get("test_auroc_mean"), metrics, str(r["created_at"])) for r, metrics in rows]


@job
def score(store: Store, clip: str, detector: str, *, k: int = DEFAULT_K, weights_path: str | Path | None = None,
          device: str = DEFAULT_DEVICE) -> ScoreResult:
    """Is ``clip`` (a new file, or a stored clip's id or path) the detector's action? Verdict, score,
    threshold and its rule, and the ``k`` nearest stored clips."""
    from detector.scoring import score_clip

    v = score_clip(store, clip, detector, k=k, weights_path=Path(weights_path) if weights_path else None, device=device)
    d = v.detector
    verdict = f"IS {d.target}" if v.is_target else f"is NOT {d.target}"
    eset = store.get_set(d.set_id)
    return ScoreResult(str(clip), verdict, v.is_target, v.score, float(d.threshold), d.threshold_rule, _info(d),
                       SetInfo.of(eset), v.video_id, v.embedded_now, Neighbor.ranked(v.neighbors), list(v.notes))
