"""Detector training settings from YAML: actionstore's own keys, or the original project's config files.

The original project's configs (``dataset:``/``model:``/``data:`` sections) are accepted: the keys
that still mean something (hidden sizes, dropout, learning rate, epochs, batch size, scheduler
milestones and factor, target class) are honoured; the rest (dataset paths, backbone, freezing,
frame sampling: the embedding set decides those now) are reported as ignored. A key neither shape
knows is refused with the nearest known key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from detector.errors import DetectorError


@dataclass(frozen=True)
class AEConfig:
    """Autoencoder and training settings (defaults follow the original project's r2plus1d_18 config)."""

    hidden: tuple[int, ...] = (256, 128)
    dropout: float = 0.3
    learning_rate: float = 0.005
    epochs: int = 35
    batch_size: int = 8
    milestones: tuple[int, ...] = (5, 10, 15, 35)
    lr_factor: float = 0.1
    patience: int = 10
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (tuples as lists), as stored with a detector."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "AEConfig":
        """The inverse of ``to_dict``."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


@dataclass
class LoadedConfig:
    """A config read from a file: the settings, the target class it names (if any), and what was ignored."""

    config: AEConfig
    target: str | None = None
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


OWN_KEYS = {f.name for f in fields(AEConfig)} | {"target"}
# the original project's keys: section.key -> our key (None: known, no longer meaningful)
ORIGINAL_KEYS: dict[str, str | None] = {
    "dataset.class_to_recognize": "target", "dataset.batch_size": "batch_size",
    "model.dim_autoencoder_layers": "hidden", "model.num_epoch": "epochs", "model.learning_rate": "learning_rate",
    "model.milestones": "milestones", "model.lr_factor": "lr_factor", "model.dropout": "dropout",
    "model.scheduler_type": None, "model.num_autoencoder_layers": None, "model.init_dim": None,
    "model.name_time_model": None, "model.freeze_layers": None, "model.epoch_start_unfreeze": None,
    "model.layer_start_unfreeze": None, "model.saving_dir_experiments": None, "model.saving_dir_model": None,
    "model.use_pretrained_scheduler": None, "model.do_train": None, "model.do_test": None,
    "dataset.dataset_path": None, "dataset.path_dataset_train_csv": None, "dataset.path_dataset_val_csv": None,
    "data.num_frames_to_sample": None, "data.mean": None, "data.std": None, "data.min_size": None,
    "data.max_size": None, "data.resize_to": None, "data.permute_color_frame": None, "data.alpha_slowfast": None,
}


def load_config(path: str | Path) -> LoadedConfig:
    """Read a detector config (own flat keys, or the original project's sectioned file)."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a folder, or a FIFO that would block the read
        raise DetectorError(f"config {path}: {'a folder' if path.is_dir() else 'a special file (FIFO, socket or device)'}, "
                            "not a file; pass a YAML file", param="config")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DetectorError(f"config {path}: cannot read ({exc.strerror}); pass a YAML file", param="config") from exc
    except UnicodeDecodeError as exc:
        raise DetectorError(f"config {path}: not a text file (byte {exc.start} is not UTF-8); pass a YAML file",
                            param="config") from exc
    except yaml.YAMLError as exc:
        raise DetectorError(f"config {path}: not valid YAML ({' '.join(str(exc).split())[:120]}); fix the file", param="config") from exc
    if not isinstance(raw, dict):
        raise DetectorError(f"config {path}: expected a mapping of settings, found {type(raw).__name__}", param="config")
    if {"dataset", "model", "data"} & set(raw):
        return _original(path, raw)
    return _build(path, raw, [], [])


def _original(path: Path, raw: dict[str, Any]) -> LoadedConfig:
    flat: dict[str, Any] = {}
    ignored: list[str] = []
    for section, values in raw.items():
        if not isinstance(values, dict):
            raise DetectorError(f"config {path}: section {section!r} should hold settings; is this an original config?", param="config")
        for key, value in values.items():
            dotted = f"{section}.{key}"
            if dotted not in ORIGINAL_KEYS:
                raise DetectorError(f"config {path}: unknown key {dotted!r}{_suggest(dotted, ORIGINAL_KEYS)}; fix or remove it", param="config")
            ours = ORIGINAL_KEYS[dotted]
            if ours is None:
                ignored.append(dotted)
            else:
                flat[ours] = value
    notes = []
    declared = raw.get("model", {}).get("num_autoencoder_layers")
    if declared is not None and "hidden" in flat and declared != len(_ints(path, "hidden", flat["hidden"])):
        notes.append(f"num_autoencoder_layers is {declared} but dim_autoencoder_layers lists "
                     f"{len(_ints(path, 'hidden', flat['hidden']))} sizes; all listed sizes are used")
    return _build(path, flat, ignored, notes)


def _build(path: Path, flat: dict[str, Any], ignored: list[str], notes: list[str]) -> LoadedConfig:
    unknown = sorted(set(flat) - OWN_KEYS)
    if unknown:
        raise DetectorError(f"config {path}: unknown key {unknown[0]!r}{_suggest(unknown[0], OWN_KEYS)}; "
                            f"known keys: {', '.join(sorted(OWN_KEYS))}", param="config")
    target = flat.pop("target", None)
    values = asdict(AEConfig())
    for key, value in flat.items():
        values[key] = _coerce(path, key, value, values[key])
    config = AEConfig(**values)
    if not config.hidden or min(config.hidden) < 1 or config.epochs < 1 or config.batch_size < 2 or not 0 <= config.dropout < 1:
        raise DetectorError(f"config {path}: hidden sizes must be positive, epochs >= 1, batch_size >= 2 and "
                            "0 <= dropout < 1", param="config")
    return LoadedConfig(config, str(target) if target is not None else None, ignored, notes)


def _coerce(path: Path, key: str, value: Any, default: Any) -> Any:
    if isinstance(default, tuple):
        return tuple(_ints(path, key, value))
    try:
        return type(default)(value)
    except (TypeError, ValueError):
        raise DetectorError(f"config {path}: {key} = {value!r} is not a {type(default).__name__}", param="config") from None


def _ints(path: Path, key: str, value: Any) -> list[int]:
    """A list of ints from a YAML list or the original's comma string ("256,128")."""
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else [value]
    try:
        return [int(str(v).strip()) for v in items]
    except ValueError:
        raise DetectorError(f"config {path}: {key} = {value!r} should be whole numbers, e.g. 256,128", param="config") from None


def _suggest(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
