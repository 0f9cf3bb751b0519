"""Splits by source video: a video and all its views land in exactly one part.

The target class's videos are split into train / val / calib / test; other classes' videos go to
calibration (when asked, for the best-F1 threshold) and test only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.errors import DetectorError

PARTS = ("train", "val", "calib", "test")
DEFAULT_RATIOS = (0.5, 0.15, 0.15, 0.2)
MIN_TARGET_VIDEOS = 3


@dataclass(frozen=True)
class Split:
    """Which part every video belongs to, and the settings that made the split."""

    target: str
    parts: dict[str, str]  # video_id -> part
    labels: dict[str, str]  # video_id -> label
    ratios: tuple[float, ...]
    seed: int
    calibration_others: bool

    def videos(self, part: str, *, target: bool | None = None) -> list[str]:
        """Videos in ``part``; ``target`` True/False keeps only the target class / the others."""
        return [v for v, p in self.parts.items() if p == part and (target is None or (self.labels[v] == self.target) == target)]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{part: {"target": n, "other": m}}``."""
        return {part: {"target": len(self.videos(part, target=True)), "other": len(self.videos(part, target=False))}
                for part in PARTS}


def parse_ratios(text: str) -> tuple[float, ...]:
    """``"0.5,0.15,0.15,0.2"`` -> four non-negative ratios summing to 1 (train and test must be > 0)."""
    try:
        ratios = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise DetectorError(f"split {text!r}: give four numbers train,val,calib,test, e.g. 0.5,0.15,0.15,0.2", param="split") from None
    if len(ratios) != 4 or min(ratios) < 0 or abs(sum(ratios) - 1) > 1e-6 or ratios[0] <= 0 or ratios[3] <= 0:
        raise DetectorError(f"split {text!r}: give four ratios train,val,calib,test that sum to 1, with train and test above 0", param="split")
    return ratios


def make_split(labels: dict[str, str], target: str, *, ratios: tuple[float, ...] = DEFAULT_RATIOS, seed: int = 0,
               calibration_others: bool = False) -> Split:
    """Split videos (``video_id -> label``) for a detector of ``target``, seeded.

    Every part with a positive ratio gets at least one target video (train first), so the target
    needs at least three videos. Other classes go half to calibration when ``calibration_others``,
    otherwise all to test.
    """
    known = sorted(set(labels.values()))
    if target not in known:
        raise DetectorError(f"target {target!r}: no such class in the set; choose one of {', '.join(known)}", param="target")
    rng = np.random.default_rng(seed)
    mine = sorted(v for v, label in labels.items() if label == target)
    if len(mine) < MIN_TARGET_VIDEOS:
        raise DetectorError(f"target {target}: only {len(mine)} video(s); a detector needs at least "
                            f"{MIN_TARGET_VIDEOS} (train, held-out, test); ingest more clips of it", param="target")
    parts = dict(zip(rng.permutation(mine).tolist(), _assign(len(mine), ratios)))
    for label in known:
        if label == target:
            continue
        others = rng.permutation(sorted(v for v, lab in labels.items() if lab == label)).tolist()
        cut = len(others) // 2 if calibration_others else 0
        parts.update({v: "calib" for v in others[:cut]})
        parts.update({v: "test" for v in others[cut:]})
    return Split(target, parts, dict(labels), tuple(ratios), seed, calibration_others)


def _assign(n: int, ratios: tuple[float, ...]) -> list[str]:
    """Part names for ``n`` shuffled target videos: proportional, and one per positive ratio first
    (in the order train, test, calib, val while videos last)."""
    counts = [0, 0, 0, 0]
    for i in (0, 3, 2, 1):
        if ratios[i] > 0 and sum(counts) < n:
            counts[i] = 1
    for _ in range(n - sum(counts)):  # give each next video to the part furthest below its share
        shortfall = [r * n - c if r > 0 else -np.inf for r, c in zip(ratios, counts)]
        counts[int(np.argmax(shortfall))] += 1
    return [part for part, c in zip(PARTS, counts) for _ in range(c)]
