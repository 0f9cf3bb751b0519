"""``tiny3d``: a tiny random-init 3-D conv backbone for tests and honest baselines (dim 32, 32 px)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embed.registry import BackboneSpec, register
from embed.weights import RANDOM_INIT, file_provenance, load_into

DIM = 32


def resolve_weights(random_init: bool, weights_path: Path | None) -> str:
    """Random-init unless a weights file is given (there are no published weights)."""
    return file_provenance(weights_path) if weights_path is not None and not random_init else RANDOM_INIT


def build(*, frames: int, options: dict[str, Any], random_init: bool, weights_path: Path | None) -> Any:
    """Two strided 3-D convolutions and a global average; the init is seeded, so it is reproducible."""
    import torch
    from torch import nn

    class Tiny3D(nn.Module):
        """(B, T, 3, S, S) -> (B, 32)."""

        def __init__(self) -> None:
            super().__init__()
            with torch.random.fork_rng():
                torch.manual_seed(0)
                self.net = nn.Sequential(
                    nn.Conv3d(3, 16, kernel_size=3, stride=(1, 2, 2), padding=1), nn.ReLU(),
                    nn.Conv3d(16, DIM, kernel_size=3, stride=2, padding=1), nn.ReLU(),
                    nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                )

        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            return self.net(clips.transpose(1, 2))

    model = Tiny3D()
    if weights_path is not None and not random_init:
        load_into(model, weights_path)
    return model


SPEC = register(
    BackboneSpec(
        name="tiny3d",
        summary="tiny random-init 3-D CNN, for tests and baselines",
        input_size=32,
        mean=(0.5, 0.5, 0.5),
        std=(0.25, 0.25, 0.25),
        default_frames=8,
        frame_rule="any frame count of at least 1",
        accepts_frames=lambda frames, options: frames >= 1,
        dim=lambda frames, options: DIM,
        build=build,
        resolve_weights=resolve_weights,
    )
)
