"""Build a backbone once per process and settings, ready for inference."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from embed.errors import EmbedError
from embed.precision import DEFAULT_PRECISION, with_precision
from embed.registry import get_backbone


def load_model(name: str, frames: int, options: dict[str, Any], *, random_init: bool, weights_path: Path | None, device: str = "cpu") -> Any:
    """The backbone in eval mode on ``device`` (``auto``: CUDA when visible), cached by its settings.

    Set options that do not change the model (``windows``: which frames it sees) are left out."""
    model_options = {k: v for k, v in options.items() if k != "windows"}
    return _cached(name, frames, json.dumps(model_options, sort_keys=True), random_init, weights_path, resolve_device(device))


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; any other value is checked and returned."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    check_device(device)
    return device


def check_device(device: str) -> None:
    """Raise EmbedError unless torch can use ``device`` here."""
    import torch

    try:
        parsed = torch.device(device)
    except RuntimeError as exc:
        raise EmbedError(f"--device {device!r}: not a torch device; use auto, cpu, cuda or cuda:N") from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise EmbedError(f"--device {device}: no CUDA GPU is visible here; use --device cpu")
    if parsed.type not in ("cpu", "cuda"):
        raise EmbedError(f"--device {device}: only cpu and cuda are supported")


@lru_cache(maxsize=4)
def _cached(name: str, frames: int, options_json: str, random_init: bool, weights_path: Path | None, device: str) -> Any:
    spec = get_backbone(name)
    options = json.loads(options_json)
    precision = options.pop("precision", DEFAULT_PRECISION)
    model = spec.build(frames=frames, options=options, random_init=random_init, weights_path=weights_path)
    return with_precision(model.eval().to(device), precision) if spec.uses_torch else model
