"""``r2plus1d_18``: torchvision's R(2+1)D-18 with its Kinetics-400 weights (the original project's best).

The embedding is the 512-d global average of the last residual stage, the input of the classifier
``fc`` (which is kept, so the published checkpoint loads strictly, but never run). The network
halves time three times (8x in all), so the frame count is a multiple of 8; it was trained on
16-frame clips of 112x112 crops, normalised with torchvision's Kinetics mean and std
(``R2Plus1D_18_Weights.KINETICS400_V1.transforms()``). Weights: ``--weights FILE``, else torch hub's
cache (``<torch.hub.get_dir()>/checkpoints/r2plus1d_18-91a641e6.pth``), else the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embed.registry import BackboneSpec, register
from embed.weight_sources import UrlCheckpoint

DIM = 512
CHECKPOINT = UrlCheckpoint("https://download.pytorch.org/models/r2plus1d_18-91a641e6.pth", "r2plus1d_18")


def build(*, frames: int, options: dict[str, Any], random_init: bool, weights_path: Path | None) -> Any:
    """R(2+1)D-18 returning its pooled 512-d features; the untrained init is seeded."""
    import torch
    from torchvision.models.video import r2plus1d_18

    class R2Plus1D18(torch.nn.Module):
        """(B, T, 3, 112, 112) -> (B, 512)."""

        def __init__(self) -> None:
            super().__init__()
            with torch.random.fork_rng():
                torch.manual_seed(0)
                self.net = r2plus1d_18(weights=None)

        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            net, x = self.net, clips.transpose(1, 2)  # (B, 3, T, S, S)
            x = net.layer4(net.layer3(net.layer2(net.layer1(net.stem(x)))))
            return net.avgpool(x).flatten(1)

    model = R2Plus1D18()
    CHECKPOINT.load(model.net, random_init, weights_path)
    return model


SPEC = register(
    BackboneSpec(
        name="r2plus1d_18",
        summary="torchvision R(2+1)D-18, Kinetics-400; pooled features before the classifier",
        input_size=112,
        mean=(0.43216, 0.394666, 0.37645),  # torchvision KINETICS400_V1 transforms
        std=(0.22803, 0.22145, 0.216989),
        default_frames=16,
        frame_rule="a multiple of 8 (8, 16, 24, ...; trained on 16)",
        accepts_frames=lambda frames, options: frames % 8 == 0,
        dim=lambda frames, options: DIM,
        build=build,
        resolve_weights=CHECKPOINT.provenance,
        default_options={"embedding": "avgpool"},
        weights_status=CHECKPOINT.status,
    )
)
