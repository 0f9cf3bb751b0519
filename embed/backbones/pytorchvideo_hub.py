"""pytorchvideo's Kinetics-400 models: ``slow_r50``, ``slowfast_r50``, ``r2plus1d_r50``, ``x3d_s``, ``x3d_m``.

Each network is built by ``pytorchvideo.models.hub`` (never ``pytorchvideo.transforms``, which does
not import with this torchvision) and kept whole, so the published checkpoint (``{"model_state": ...}``
in a ``.pyth`` file) loads strictly; the classifier is simply never run. The embedding is the layer
before the classifier, averaged over the whole clip (time and space) instead of over the fixed
window the head was built for, so other frame counts work and at the default frames and size it is
exactly what the classifier sees:

- ResNet-style (``slow_r50``, ``r2plus1d_r50``): the 2048-d global average of the last stage;
- X3D: the head's projected pool, conv 192->432, BN, ReLU, global average, conv 432->2048, ReLU (2048-d);
- SlowFast: the global averages of the slow (2048) and fast (256) pathways, concatenated (2304-d).
  The two pathways are built inside ``forward`` from one 32-frame clip: fast = all 32 frames, slow = 8
  of them (alpha 4) at ``linspace(0, 31, 8)``, the way PySlowFast and pytorchvideo pack pathways.

Kinetics normalisation (mean 0.45, std 0.225 per channel), input sizes and frame counts as the model
zoo trained/evaluated them. Weights: ``--weights FILE``, else torch hub's cache
(``<torch.hub.get_dir()>/checkpoints/<FILE>.pyth``), else the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embed.registry import BackboneSpec, register
from embed.weight_sources import UrlCheckpoint

ZOO = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics"
KINETICS_MEAN = (0.45, 0.45, 0.45)
KINETICS_STD = (0.225, 0.225, 0.225)
SLOWFAST_FRAMES = 32
SLOWFAST_ALPHA = 4


def make_build(hub_name: str, kind: str, checkpoint: UrlCheckpoint) -> Any:
    """The ``build`` of one hub model; ``kind`` is ``resnet``, ``x3d`` or ``slowfast`` (how its head is skipped)."""

    def build(*, frames: int, options: dict[str, Any], random_init: bool, weights_path: Path | None) -> Any:
        import torch
        from pytorchvideo.models import hub

        class HubBackbone(torch.nn.Module):
            """(B, T, 3, S, S) -> (B, dim): the pooled features the classifier would read."""

            def __init__(self) -> None:
                super().__init__()
                with torch.random.fork_rng():
                    torch.manual_seed(0)
                    self.net = getattr(hub, hub_name)(pretrained=False)

            def forward(self, clips: torch.Tensor) -> torch.Tensor:
                x = clips.transpose(1, 2)  # (B, 3, T, S, S)
                blocks = self.net.blocks
                if kind == "slowfast":
                    slow = torch.index_select(x, 2, torch.linspace(0, x.shape[2] - 1, x.shape[2] // SLOWFAST_ALPHA, device=x.device).long())
                    paths = [slow, x]
                    for block in blocks[:-2]:  # the last two are the fixed-window pool and the classifier head
                        paths = block(paths)
                    return torch.cat([p.mean(dim=(2, 3, 4)) for p in paths], dim=1)
                for block in blocks[:-1]:
                    x = block(x)
                if kind == "x3d":
                    pool = blocks[-1].pool
                    x = pool.pre_act(pool.pre_norm(pool.pre_conv(x)))
                    x = pool.post_act(pool.post_conv(x.mean(dim=(2, 3, 4), keepdim=True)))
                    return x.flatten(1)
                return x.mean(dim=(2, 3, 4))

        model = HubBackbone()
        checkpoint.load(model.net, random_init, weights_path)
        return model

    return build


def register_hub(name: str, kind: str, file_name: str, *, summary: str, input_size: int, default_frames: int,
                 frame_rule: str, accepts: Any, dim: int) -> BackboneSpec:
    checkpoint = UrlCheckpoint(f"{ZOO}/{file_name}", name)
    return register(
        BackboneSpec(
            name=name,
            summary=summary,
            input_size=input_size,
            mean=KINETICS_MEAN,
            std=KINETICS_STD,
            default_frames=default_frames,
            frame_rule=frame_rule,
            accepts_frames=lambda frames, options: accepts(frames),
            dim=lambda frames, options: dim,
            build=make_build(name, kind, checkpoint),
            resolve_weights=checkpoint.provenance,
            default_options={"embedding": "global-avg-before-classifier"},
            weights_status=checkpoint.status,
        )
    )


SLOW_R50 = register_hub(
    "slow_r50", "resnet", "SLOW_8x8_R50.pyth",
    summary="pytorchvideo Slow R50 (the original's 'r3d'), Kinetics-400; 2048-d pooled features",
    input_size=224, default_frames=8, frame_rule="any count of at least 1 (trained on 8)",
    accepts=lambda frames: frames >= 1, dim=2048,
)
SLOWFAST_R50 = register_hub(
    "slowfast_r50", "slowfast", "SLOWFAST_8x8_R50.pyth",
    summary="pytorchvideo SlowFast R50 (alpha 4: 8 slow + 32 fast frames), Kinetics-400; slow+fast pooled",
    input_size=256, default_frames=SLOWFAST_FRAMES,
    frame_rule=f"exactly {SLOWFAST_FRAMES} frames (the fast pathway; the slow one takes 8 of them, alpha 4)",
    accepts=lambda frames: frames == SLOWFAST_FRAMES, dim=2048 + 256,
)
R2PLUS1D_R50 = register_hub(
    "r2plus1d_r50", "resnet", "R2PLUS1D_16x4_R50.pyth",
    summary="pytorchvideo R(2+1)D R50, Kinetics-400; 2048-d pooled features",
    input_size=224, default_frames=16, frame_rule="any count of at least 1 (trained on 16)",
    accepts=lambda frames: frames >= 1, dim=2048,
)
X3D_S = register_hub(
    "x3d_s", "x3d", "X3D_S.pyth",
    summary="pytorchvideo X3D-S, Kinetics-400; 2048-d projected pool",
    input_size=160, default_frames=13, frame_rule="any count of at least 1 (trained on 13)",
    accepts=lambda frames: frames >= 1, dim=2048,
)
X3D_M = register_hub(
    "x3d_m", "x3d", "X3D_M.pyth",
    summary="pytorchvideo X3D-M, Kinetics-400; 2048-d projected pool",
    input_size=224, default_frames=16, frame_rule="any count of at least 1 (trained on 16)",
    accepts=lambda frames: frames >= 1, dim=2048,
)
