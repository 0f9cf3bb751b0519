"""Build a backbone once per process and settings, ready for inference, safely from many threads.

A ``ModelSpec`` says what to build (hashable and picklable, so an engine can send it to another
process); ``ModelSpec.build()`` returns the cached ``LoadedModel``. The cache keeps at most
``MAX_MODELS`` models, builds each spec once even when threads ask for it at the same time (the
others wait, then reuse it), and gives every model a lock: one thread at a time runs its forward.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from embed.errors import EmbedError
from embed.precision import DEFAULT_PRECISION, with_precision
from embed.registry import get_backbone

DEFAULT_DEVICE = "auto"  # every library function that takes a device defaults to this
MAX_MODELS = 4


@dataclass(frozen=True)
class ModelSpec:
    """What builds one model: backbone, frames, the options that change the model, weights, device."""

    backbone: str
    frames: int
    options_json: str  # JSON with sorted keys: the spec is hashable
    random_init: bool
    weights_path: Path | None
    device: str = DEFAULT_DEVICE

    @classmethod
    def of(cls, backbone: str, frames: int, options: dict[str, Any], *, random_init: bool, weights_path: Path | None,
           device: str = DEFAULT_DEVICE) -> ModelSpec:
        """The spec of a set's model; set options that do not change the model (``windows``: which
        frames it sees) are left out."""
        model_options = {k: v for k, v in options.items() if k != "windows"}
        return cls(backbone, frames, json.dumps(model_options, sort_keys=True), random_init, weights_path, device)

    def build(self) -> LoadedModel:
        """The model in eval mode on the resolved device (``auto``: CUDA when visible), from the cache."""
        return MODELS.get(replace(self, device=resolve_device(self.device)))


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A built model, the device it is on, and the lock its forward runs under."""

    module: Any
    device: str
    lock: threading.Lock = field(default_factory=threading.Lock)


class ModelCache:
    """Built models by spec: at most ``size``, the least recently used dropped first, one build per spec."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._slots: OrderedDict[ModelSpec, Future[LoadedModel]] = OrderedDict()

    def __len__(self) -> int:
        """Models held (or being built)."""
        return len(self._slots)

    def get(self, spec: ModelSpec) -> LoadedModel:
        """The model of ``spec`` (a resolved device), built by the first thread to ask; a failed build is not kept."""
        with self._lock:
            slot = self._slots.get(spec)
            building = slot is None
            if slot is None:
                slot = self._slots[spec] = Future()
            self._slots.move_to_end(spec)
        if building:
            try:
                model = LoadedModel(_build(spec), spec.device)
            except BaseException as exc:
                with self._lock:
                    if self._slots.get(spec) is slot:
                        del self._slots[spec]
                slot.set_exception(exc)
                raise
            slot.set_result(model)
            with self._lock:  # the least recently used built ones go once a new model is in (holders keep theirs)
                built = [key for key, held in self._slots.items() if held.done()]
                for key in built[:max(0, len(self._slots) - self.size)]:
                    del self._slots[key]
        return slot.result()


MODELS = ModelCache(MAX_MODELS)


def load_model(name: str, frames: int, options: dict[str, Any], *, random_init: bool, weights_path: Path | None,
               device: str = DEFAULT_DEVICE) -> Any:
    """The backbone module in eval mode on ``device``, cached by its settings (see ``ModelSpec``)."""
    return ModelSpec.of(name, frames, options, random_init=random_init, weights_path=weights_path, device=device).build().module


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
        raise EmbedError(f"device {device!r}: not a torch device; use auto, cpu, cuda or cuda:N", param="device") from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise EmbedError(f"device {device}: no CUDA GPU is visible here; use --device cpu", param="device")
    if parsed.type not in ("cpu", "cuda"):
        raise EmbedError(f"device {device}: only cpu and cuda are supported", param="device")


def _build(spec: ModelSpec) -> Any:
    backbone = get_backbone(spec.backbone)
    options = json.loads(spec.options_json)
    precision = options.pop("precision", DEFAULT_PRECISION)
    model = backbone.build(frames=spec.frames, options=options, random_init=spec.random_init, weights_path=spec.weights_path)
    return with_precision(model.eval().to(spec.device), precision) if backbone.uses_torch else model
