"""Separation metrics for one-class scores (a lower score means more like the target)."""

from __future__ import annotations

from typing import Any

import numpy as np


def auroc_by_class(scores: np.ndarray, labels: np.ndarray, target: str) -> list[dict[str, Any]]:
    """AUROC and average precision of "is the target" against each other class present, with counts."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    rows = []
    mine = labels == target
    for other in sorted(set(labels.tolist()) - {target}):
        theirs = labels == other
        if not mine.any():
            continue
        keep = mine | theirs
        truth, decision = mine[keep], -scores[keep]
        rows.append({"vs_class": other, "auroc": float(roc_auc_score(truth, decision)),
                     "average_precision": float(average_precision_score(truth, decision)),
                     "n_target": int(mine.sum()), "n_other": int(theirs.sum())})
    return rows
