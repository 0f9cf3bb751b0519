"""Threshold rules, computed on held-out calibration clips only, never on test clips.

A clip is called the target when its score is at or below the threshold.
"""

from __future__ import annotations

import numpy as np

from detector.errors import DetectorError

RULES = "percentile:P (held-out target videos), f1 (labelled calibration clips) or manual:VALUE"


def check_rule(rule: str) -> str:
    """Validate a rule's spelling up front (before any training)."""
    kind, _, value = rule.partition(":")
    try:
        if kind == "percentile" and 0 < float(value) <= 100:
            return rule
        if kind == "manual" and np.isfinite(float(value)):
            return rule
    except ValueError:
        pass
    if rule == "f1":
        return rule
    raise DetectorError(f"threshold {rule!r}: use {RULES}", param="threshold")


def compute_threshold(rule: str, target_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The threshold of ``rule`` from calibration scores of target clips and of other classes' clips."""
    kind, _, value = check_rule(rule).partition(":")
    if kind == "manual":
        return float(value)
    if len(target_scores) == 0:
        raise DetectorError(f"threshold {rule}: no held-out calibration videos of the target; give the calib part "
                            "of --split a share above 0, or use --threshold manual:VALUE", param="threshold")
    if kind == "percentile":
        return float(np.percentile(target_scores, float(value)))
    if len(other_scores) == 0:
        raise DetectorError("threshold f1: no labelled calibration clips of other classes; add --calibration-others, "
                            "or use --threshold percentile:99", param="threshold")
    return best_f1_threshold(target_scores, other_scores)


def best_f1_threshold(target_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The cut with the best F1 for "is the target" (ties: the lowest cut), over every observed score."""
    scores = np.concatenate([target_scores, other_scores])
    is_target = np.concatenate([np.ones(len(target_scores), bool), np.zeros(len(other_scores), bool)])
    best, best_cut = -1.0, float(np.min(scores))
    for cut in np.unique(scores):
        called = scores <= cut
        tp = np.sum(called & is_target)
        f1 = 2 * tp / (called.sum() + is_target.sum())
        if f1 > best + 1e-12:
            best, best_cut = f1, float(cut)
    return best_cut
