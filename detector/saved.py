"""Saved detectors: the model state in ``<store>/detectors/<name>.pt``, its record and split in the catalog.

The file holds tensors, numbers and strings only and is read with ``torch.load(weights_only=True)``;
its SHA-256 is recorded at training, so a file changed since is refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detector.autoencoder import AutoencoderDetector
from detector.baselines import CentroidDetector, KnnDetector, MahalanobisDetector, PcaDetector
from detector.config import AEConfig
from detector.errors import DetectorError, NoSuchDetector, TamperedDetector
from detector.records import detector_rows, detectors_dir, record_detector
from embed.model_cache import DEFAULT_DEVICE, resolve_device
from store import Store
from store.atomic import temporary_path
from store.errors import write_failure

KINDS = ("ae", "centroid", "knn", "pca", "mahalanobis")
TORCH_ZIP = b"PK\x03\x04"  # torch.save writes a zip archive
OTHER_FILES = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"%PDF", "a PDF"),
               (b"\x80", "a Python pickle"), (b"PAR1", "a Parquet file"))
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def make_detector(kind: str, config: AEConfig | None = None, *, device: str = DEFAULT_DEVICE, on_epoch: Any = None) -> Any:
    """A fresh detector of ``kind`` (an autoencoder on ``device``; ``auto``: CUDA when visible)."""
    if kind == "ae":
        return AutoencoderDetector(config, device=resolve_device(device), on_epoch=on_epoch)
    classes = {"centroid": CentroidDetector, "knn": KnnDetector, "pca": PcaDetector, "mahalanobis": MahalanobisDetector}
    if kind not in classes:
        raise DetectorError(f"kind {kind!r}: choose one of {', '.join(KINDS)}", param="kind")
    return classes[kind]()


@dataclass
class SavedDetector:
    """A detector as recorded: its settings, threshold, metrics and the model itself."""

    name: str
    kind: str
    set_id: str
    set_version: str
    target: str
    config: dict[str, Any]
    threshold_rule: str
    threshold: float
    metrics: dict[str, Any]
    model: Any

    def is_target(self, scores: np.ndarray) -> np.ndarray:
        """The verdict: a score at or below the threshold is the target action."""
        return np.asarray(scores) <= self.threshold


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise DetectorError(f"detector name {name!r}: use letters, digits, '_', '-' or '.' (at most 64, starting with a letter or digit)")
    return name


def save_detector(store: Store, detector: SavedDetector, split: list[tuple[str, str, str]]) -> Path:
    """Write the model file atomically, then record it (with its checksum) and its split."""
    import torch

    detectors_dir(store).mkdir(parents=True, exist_ok=True)
    path = detectors_dir(store) / f"{detector.name}.pt"
    buffer = io.BytesIO()  # serialised in memory: a full disk then fails a plain write, as an OSError
    torch.save({"kind": detector.kind, "state": _to_tensors(detector.model.state())}, buffer)
    data = buffer.getvalue()
    tmp = temporary_path(path)
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        raise write_failure(exc, path) or exc
    finally:
        tmp.unlink(missing_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    record_detector(store, {
        "name": detector.name, "kind": detector.kind, "set_id": detector.set_id, "set_version": detector.set_version,
        "target": detector.target, "config": json.dumps(detector.config), "threshold_rule": detector.threshold_rule,
        "threshold": detector.threshold, "metrics": json.dumps(detector.metrics), "file": path.name, "sha256": digest,
    }, split)
    return path


def verified_file(store: Store, row: dict[str, Any]) -> Path:
    """A recorded detector's file, refused when it is missing or changed since training (its checksum)."""
    path = detectors_dir(store) / row["file"]
    if not path.is_file():
        raise DetectorError(f"{path}: the detector's file is missing; train {row['name']} again")
    if hashlib.sha256(path.read_bytes()).hexdigest() != row["sha256"]:
        raise TamperedDetector(f"{path}: the file changed since {row['name']} was trained (checksum differs); "
                               "it is refused, train it again")
    return path


def detector_file_problems(store: Store) -> tuple[int, list[str]]:
    """How many detectors are recorded, and why each one whose file is missing or changed would be refused."""
    rows = detector_rows(store)
    problems = []
    for row in rows:
        try:
            verified_file(store, row)
        except DetectorError as exc:
            problems.append(str(exc))
    return len(rows), problems


def load_detector(store: Store, name: str, *, device: str = DEFAULT_DEVICE) -> tuple[SavedDetector, list[str]]:
    """A saved detector and notes (e.g. its set changed since training). Refuses a tampered or missing file."""
    rows = detector_rows(store, name)
    if not rows:
        known = ", ".join(r["name"] for r in detector_rows(store)) or "none yet"
        raise NoSuchDetector(f"detector {name!r}: no such detector (saved: {known}); train one with `actionstore detector train`", param="detector")
    row = rows[0]
    saved = _read_saved(verified_file(store, row), row)
    config = json.loads(row["config"])
    model = make_detector(row["kind"], AEConfig.from_dict(config) if row["kind"] == "ae" else None, device=device)
    try:
        model.load(_to_arrays(saved["state"]))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise TamperedDetector(f"{detectors_dir(store) / row['file']}: its {row['kind']} state does not load "
                               f"({type(exc).__name__}: {exc}); train {name} again") from exc
    notes = []
    if store.set_version(row["set_id"]) != row["set_version"]:
        notes.append(f"the embedding set of {name} changed since it was trained (clips or views added or removed); "
                     "scores still use the trained model: retrain to include the new data")
    detector = SavedDetector(row["name"], row["kind"], row["set_id"], row["set_version"], row["target"], config,
                             row["threshold_rule"], row["threshold"], json.loads(row["metrics"]), model)
    return detector, notes


def _read_saved(path: Path, row: dict[str, Any]) -> dict[str, Any]:
    """The ``{"kind", "state"}`` a detector file holds (tensors only: ``weights_only``); a file of another
    kind (an image, a pickle, another PyTorch file) is refused with what it is."""
    import pickle
    import warnings

    import torch

    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head.startswith(TORCH_ZIP):
        what = next((kind for magic, kind in OTHER_FILES if head.startswith(magic)), "not a PyTorch file")
        raise TamperedDetector(f"{path}: {what}, not a detector file; train {row['name']} again")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols on stderr
            warnings.simplefilter("ignore")
            saved = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        reason = " ".join(str(exc).split()).split(". ")[0][:120]
        raise TamperedDetector(f"{path}: not a loadable detector file ({reason}); train {row['name']} again") from exc
    if not isinstance(saved, dict) or saved.get("kind") != row["kind"] or not isinstance(saved.get("state"), dict):
        raise TamperedDetector(f"{path}: a PyTorch file holding no {row['kind']} detector; train {row['name']} again")
    return saved


def _to_tensors(value: Any) -> Any:
    import torch

    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, dict):
        return {k: _to_tensors(v) for k, v in value.items()}
    return value


def _to_arrays(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _to_arrays(v) for k, v in value.items()}
    return value
