"""Score one clip with a saved detector: its score, the threshold, the verdict, and its nearest stored clips."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from detector.records import detector_split
from detector.saved import SavedDetector, load_detector
from embed.model_cache import DEFAULT_DEVICE
from embed.query import query_vector
from store import ORIGINAL_VIEW, Hit, Store, nearest
from store.schema import DEFAULT_K



@dataclass
class Verdict:
    """The answer to "is this clip the target action?"."""

    detector: SavedDetector
    clip: str
    score: float
    is_target: bool
    embedded_now: bool
    video_id: str | None  # the stored clip it is (or has the bytes of), else None
    neighbors: list[Hit]
    notes: list[str]


def score_clip(store: Store, clip: str | Path, name: str, *, k: int = DEFAULT_K, weights_path: Path | None = None,
               device: str = DEFAULT_DEVICE) -> Verdict:
    """Score ``clip`` (a new file, or a stored clip's path or id) with detector ``name``.

    A stored clip (or a file with its bytes) uses its stored vector; a new file is embedded with the
    detector's set settings on ``device`` (where an autoencoder detector runs too). Its ``k`` nearest
    stored originals (other videos) are listed with labels.
    """
    detector, notes = load_detector(store, name, device=device)
    eset = store.get_set(detector.set_id)
    vector, video_id, embedded_now = query_vector(store, clip, eset, weights_path=weights_path, device=device)
    score = float(detector.model.score(vector[None, :].astype("float64"), [video_id or "<new>"])[0])
    hits = nearest(store, eset.set_id, vector[None, :], k, views=[ORIGINAL_VIEW], exclude_videos=[video_id])[0]
    if video_id is not None:
        notes.append("this clip is in the store: its stored vector was used" +
                     (f" and it was one of {name}'s training videos" if video_id in _train_videos(store, name) else ""))
    return Verdict(detector, str(clip), score, bool(detector.is_target([score])[0]), embedded_now, video_id, hits, notes)


def _train_videos(store: Store, name: str) -> set[str]:
    return {r["video_id"] for r in detector_split(store, name) if r["part"] == "train"}
