"""Evaluate a saved detector over every original clip, beside the baselines trained on the same split.

Tables (queryable as ``analysis_detector_*``): every clip's score and verdict, AUROC and average
precision of the target against each other class on the test videos, a classification report and
confusion matrix against one competitor class, and one comparison of the autoencoder with the
baselines (each fitted on the same training videos and calibrated by the same rule). PNGs: score
histograms by class, linear and log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from detector.config import AEConfig
from detector.errors import DetectorError
from detector.metrics import auroc_by_class
from detector.plots import score_histograms
from detector.records import detector_rows, detector_split
from detector.saved import KINDS, SavedDetector, load_detector, make_detector
from detector.thresholds import compute_threshold
from detector.training import SetRows, score_rows, set_rows
from embed.model_cache import DEFAULT_DEVICE
from store import ORIGINAL_VIEW, Store
from store.runs import Run, find_run, record_run, run_table

TABLES = ("detector_scores", "detector_auroc", "detector_comparison", "detector_report", "detector_confusion")


@dataclass
class Evaluation:
    """A detector's evaluation: its tables, plots, notes and the stored run."""

    detector: SavedDetector
    run: Run
    tables: dict[str, pa.Table]
    vs: str
    reused: bool


def evaluate_detector(store: Store, name: str, *, vs: str | None = None, force: bool = False,
                      device: str = DEFAULT_DEVICE) -> Evaluation:
    """Evaluate detector ``name`` (``vs``: the competitor class for the report; default the hardest one;
    ``device``: where its autoencoders run)."""
    detector, notes = load_detector(store, name, device=device)
    data = set_rows(store, detector.set_id)
    parts = {r["video_id"]: r["part"] for r in detector_split(store, name)}
    classes = sorted(set(data.labels.tolist()) - {detector.target})
    if vs is not None and vs not in classes:
        raise DetectorError(f"vs {vs!r}: no such other class in the set; choose one of {', '.join(classes)}", param="vs")
    params = {"detector": name, "sha": detector_rows(store, name)[0]["sha256"], "vs": vs}
    version = store.set_version(detector.set_id)
    if not force and (run := find_run(store, "detector_evaluation", detector.set_id, params)) is not None:
        tables = {t: run_table(store, t, run.run_id) for t in TABLES}
        used = [r["class"] for r in tables["detector_report"].to_pylist() if r["class"] != detector.target]
        return Evaluation(detector, run, tables, used[0], True)
    originals = data.views == ORIGINAL_VIEW
    scores = score_rows(detector.model, data, originals)
    labels = data.labels[originals]
    part = np.array([parts.get(v, "new") for v in data.video_ids[originals]], dtype=object)
    test = part == "test"
    per_class = auroc_by_class(scores[test], labels[test], detector.target)
    if not per_class:
        raise DetectorError(f"{name}: no test clips of {detector.target} and another class; retrain with a test share above 0")
    vs = vs or min(per_class, key=lambda r: r["auroc"])["vs_class"]
    tables = {
        "detector_scores": pa.table({"video_id": data.video_ids[originals].tolist(), "label": labels.tolist(),
                                     "part": part.tolist(), "score": scores, "is_target": detector.is_target(scores)}),
        "detector_auroc": pa.Table.from_pylist(per_class),
        "detector_comparison": _comparison(store, detector, data, parts, device),
        **_report(detector, scores[test], labels[test], vs),
    }
    artifacts = score_histograms(store.artifacts_dir / "detectors" / name, scores, labels, detector.threshold, detector.target)
    notes.append(f"metrics use the {int(test.sum())} test clips; the threshold ({detector.threshold_rule}) never saw them")
    run = record_run(store, "detector_evaluation", detector.set_id, params, tables,
                     [str(a) for a in artifacts], notes, version=version)
    return Evaluation(detector, run, tables, vs, False)


def _comparison(store: Store, detector: SavedDetector, data: SetRows, parts: dict[str, str], device: str) -> pa.Table:
    """Every detector kind on the same split and threshold rule: mean/min test AUROC and test accuracy."""
    label_of = dict(zip(data.video_ids.tolist(), data.labels.tolist()))

    def videos(part: str, target: bool | None = None) -> list[str]:
        return [v for v, q in parts.items()
                if q == part and (target is None or (label_of.get(v) == detector.target) == target)]

    train, val = data.mask(videos("train")), data.mask(videos("val"))
    calib_t, calib_o = data.mask(videos("calib", True)), data.mask(videos("calib", False))
    test = data.mask(videos("test"), originals_only=True)
    rows = []
    for kind in KINDS:
        if kind == detector.kind:
            model, cut = detector.model, detector.threshold
        else:
            model = make_detector(kind, AEConfig.from_dict(detector.config), device=device)
            model.fit(data.vectors[train], data.video_ids[train].tolist(), val=data.vectors[val])
            cut = compute_threshold(detector.threshold_rule, score_rows(model, data, calib_t), score_rows(model, data, calib_o))
        scores = score_rows(model, data, test)
        per_class = auroc_by_class(scores, data.labels[test], detector.target)
        aurocs = [r["auroc"] for r in per_class]
        rows.append({"kind": kind, "saved": kind == detector.kind, "threshold": float(cut),
                     "mean_auroc": float(np.mean(aurocs)), "min_auroc": float(np.min(aurocs)),
                     "hardest_class": min(per_class, key=lambda r: r["auroc"])["vs_class"],
                     "test_accuracy": float(np.mean((scores <= cut) == (data.labels[test] == detector.target)))})
    return pa.Table.from_pylist(rows)


def _report(detector: SavedDetector, scores: np.ndarray, labels: np.ndarray, vs: str) -> dict[str, pa.Table]:
    """Classification report and confusion matrix of the target against ``vs`` on the test clips."""
    from sklearn.metrics import classification_report, confusion_matrix

    keep = (labels == detector.target) | (labels == vs)
    truth = np.where(labels[keep] == detector.target, detector.target, vs)
    called = np.where(detector.is_target(scores[keep]), detector.target, vs)
    order = [detector.target, vs]
    report: dict[str, Any] = classification_report(truth, called, labels=order, output_dict=True, zero_division=0)
    rows = [{"class": c, **{k: int(v) if k == "support" else float(v) for k, v in report[c].items()}} for c in order]
    matrix = confusion_matrix(truth, called, labels=order)
    confusion = [{"true": t, "called": c, "clips": int(matrix[i, j])} for i, t in enumerate(order) for j, c in enumerate(order)]
    return {"detector_report": pa.Table.from_pylist(rows), "detector_confusion": pa.Table.from_pylist(confusion)}


def comparison_json(evaluation: Evaluation) -> str:
    """The comparison table as JSON records (for notes and logs)."""
    return json.dumps(evaluation.tables["detector_comparison"].to_pylist(), indent=1)
