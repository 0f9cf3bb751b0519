"""The backbone registry: a name maps to a spec (builder, dim, input size, normalisation, frame rule)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embed.errors import BadFrameCount, UnknownBackbone

DEFAULT_BACKBONE = "flow_motion"
MIN_FRAMES = 2  # a clip of one frame is a picture: no backbone embeds it (a spec may ask for more)
MIN_SIDE = 16  # pixels on a clip's short side below which there is no action to see (a spec may ask for more)


@dataclass(frozen=True)
class BackboneSpec:
    """How to build and feed one backbone.

    ``build(frames=, options=, weights=)`` returns a module mapping ``(B, T, 3, S, S)`` normalised
    float frames to ``(B, dim)``; ``weights`` is None (random init) or a resolved weights source.
    ``resolve_weights(random_init, weights_path)`` returns the provenance string stored with the set
    (``pretrained:<id>``, ``file:<sha256>`` or ``random-init``) without building the model.
    """

    name: str
    summary: str
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    default_frames: int
    frame_rule: str  # shown to users
    accepts_frames: Callable[[int, dict[str, Any]], bool]
    dim: Callable[[int, dict[str, Any]], int]
    build: Callable[..., Any]
    resolve_weights: Callable[[bool, Path | None], str]
    default_options: dict[str, Any] = field(default_factory=dict)
    uses_torch: bool = True  # False: ``build`` returns a plain callable on uint8 frames (T, H, W, 3)
    weights_status: Callable[[], str] | None = None  # found/missing in the caches; see embed.weight_sources.weights_status
    min_frames: int = MIN_FRAMES  # the fewest frames a clip may have (fewer than asked are repeated, down to this)
    min_side: int = MIN_SIDE  # the fewest pixels on a clip's short side

    def check_frames(self, frames: int, options: dict[str, Any]) -> None:
        """Raise BadFrameCount unless this backbone takes ``frames`` frames."""
        if frames < 1 or not self.accepts_frames(frames, options):
            raise BadFrameCount(f"frames {frames}: {self.name} needs {self.frame_rule}; try --frames {self.default_frames}", param="frames")

    def clip_problem(self, num_frames: int, width: int | None, height: int | None) -> str | None:
        """Why this backbone cannot embed a clip of this size, naming the minimum (one line), or None."""
        if num_frames < self.min_frames:
            return (f"{num_frames} frame{'' if num_frames == 1 else 's'}; {self.name} needs at least {self.min_frames}; "
                    "remove the clip or export it whole")
        if width is not None and height is not None and min(width, height) < self.min_side:
            return (f"{width}x{height} pixels; {self.name} needs at least {self.min_side}x{self.min_side}; "
                    "remove the clip or export it at a larger size")
        return None


_REGISTRY: dict[str, BackboneSpec] = {}


def register(spec: BackboneSpec) -> BackboneSpec:
    """Add a spec to the registry (names are unique)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"backbone {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def get_backbone(name: str) -> BackboneSpec:
    """The spec registered under ``name``, or UnknownBackbone listing the known names."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownBackbone(f"backbone {name!r}: unknown backbone; choose one of {', '.join(sorted(_REGISTRY))}", param="backbone") from None


def backbones() -> list[BackboneSpec]:
    """Every registered spec, by name."""
    _load_builtin()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def _load_builtin() -> None:
    """Import the built-in backbone modules, which register themselves (torch stays unimported)."""
    import embed.backbones  # noqa: F401
