"""Score histograms by class, linear and log, with the threshold (as the original project plotted errors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def score_histograms(folder: Path, scores: np.ndarray, labels: np.ndarray, threshold: float, target: str) -> list[Path]:
    """Write ``scores_linear.png`` and ``scores_log.png`` under ``folder``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    classes = [target] + sorted(set(labels.tolist()) - {target})
    for scale in ("linear", "log"):
        fig, ax = plt.subplots(figsize=(9, 4.8))
        values = np.maximum(scores, 1e-12) if scale == "log" else scores
        bins = np.geomspace(values.min(), values.max(), 30) if scale == "log" and values.max() > values.min() else 30
        for label in classes:
            ax.hist(values[labels == label], bins=bins, alpha=0.85 if label == target else 0.35,
                    histtype="stepfilled" if label == target else "step", linewidth=2.5 if label == target else 1.2, label=label)
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.4g}")
        ax.set_xscale(scale)
        ax.set_xlabel("score (lower: more like " + target + ")")
        ax.set_ylabel("clips")
        ax.set_title(f"detector scores by class ({scale} scale)")
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        path = folder / f"scores_{scale}.png"
        tmp = path.with_name(f".{path.name}.tmp.png")
        fig.savefig(tmp, dpi=110)
        plt.close(fig)
        tmp.replace(path)
        paths.append(path)
    return paths
