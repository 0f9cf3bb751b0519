"""Weight provenance and safe loading of state dicts from files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from embed.errors import WeightsUnavailable

RANDOM_INIT = "random-init"


def file_provenance(path: Path) -> str:
    """``file:<sha256 prefix>`` of a weights file; the file must exist."""
    if not path.is_file():
        raise WeightsUnavailable(f"weights {path}: no such file; pass the path of a .pth/.pt state dict", param="weights")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"file:{digest[:16]}"


def load_state_dict(path: Path) -> dict[str, Any]:
    """Load a state dict with ``torch.load(weights_only=True)``; unwraps ``{"state_dict": ...}`` files."""
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WeightsUnavailable(f"{path}: not a loadable weights file ({reason}); pass a torch state dict") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsUnavailable(f"{path}: holds a {type(state).__name__}, not a state dict; save model.state_dict()")
    return state


def load_into(module: Any, path: Path) -> None:
    """Load a state dict strictly into ``module``; a mismatch names the file and the first bad keys."""
    try:
        module.load_state_dict(load_state_dict(path), strict=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).split())[:200]
        raise WeightsUnavailable(f"{path}: does not fit this backbone ({first}); pass the weights made for it") from exc
