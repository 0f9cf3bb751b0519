"""Hugging Face video transformers: ``timesformer`` and ``videomae`` (Kinetics-400 fine-tuned).

- ``timesformer`` (facebook/timesformer-base-finetuned-k400, ``TimesformerModel``): the embedding is
  the CLS token of the last layer after the final layer norm, which is exactly what the Kinetics
  classifier reads (``TimesformerForVideoClassification`` uses ``last_hidden_state[:, 0]``). Trained on
  8 frames; a multiple of 8 also works: the model is told the frame count (``config.num_frames``) and
  its 8 learned time embeddings are stretched by nearest interpolation, each covering frames/8 frames.
- ``videomae`` (MCG-NJU/videomae-base-finetuned-kinetics, ``VideoMAEModel`` inside
  ``VideoMAEForVideoClassification``): the embedding is the mean of all patch tokens of the last layer
  followed by the fine-tuned ``fc_norm`` layer norm, again exactly what the classifier reads (the
  model has no CLS token and was fine-tuned with mean pooling). Exactly 16 frames: tubelets of 2
  frames x 16x16 pixels get fixed sinusoidal positions for 8 x 14 x 14 tokens, which fix the count.

Both take 224x224 crops; mean/std are the values of each repo's ``preprocessor_config.json``
(VideoMAEImageProcessor), hard-coded so no processor needs downloading. Weights: ``--weights DIR``
(a ``save_pretrained`` folder) or a state dict file, else the Hugging Face cache, else the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embed.registry import BackboneSpec, register
from embed.weight_sources import HubRepo

HIDDEN = 768
TIMESFORMER_FRAMES = 8
VIDEOMAE_FRAMES = 16

TIMESFORMER = HubRepo(
    repo_id="facebook/timesformer-base-finetuned-k400",
    backbone="timesformer",
    model_type="timesformer",
    config=(("image_size", 224), ("patch_size", 16), ("num_channels", 3), ("num_frames", TIMESFORMER_FRAMES),
            ("hidden_size", HIDDEN), ("num_hidden_layers", 12), ("num_attention_heads", 12), ("intermediate_size", 3072),
            ("hidden_act", "gelu"), ("layer_norm_eps", 1e-6), ("qkv_bias", True), ("attention_type", "divided_space_time")),
    checked=("image_size", "patch_size", "num_channels", "num_frames", "hidden_size", "attention_type"),
)
VIDEOMAE = HubRepo(
    repo_id="MCG-NJU/videomae-base-finetuned-kinetics",
    backbone="videomae",
    model_type="videomae",
    config=(("image_size", 224), ("patch_size", 16), ("num_channels", 3), ("num_frames", VIDEOMAE_FRAMES), ("tubelet_size", 2),
            ("hidden_size", HIDDEN), ("num_hidden_layers", 12), ("num_attention_heads", 12), ("intermediate_size", 3072),
            ("hidden_act", "gelu"), ("layer_norm_eps", 1e-12), ("qkv_bias", True), ("use_mean_pooling", True),
            ("num_labels", 400)),
    checked=("image_size", "patch_size", "num_channels", "num_frames", "tubelet_size", "hidden_size", "use_mean_pooling"),
)


def build_timesformer(*, frames: int, options: dict[str, Any], random_init: bool, weights_path: Path | None) -> Any:
    """TimeSformer returning the last layer's CLS token (768-d)."""
    import torch
    from transformers import TimesformerConfig, TimesformerModel

    class TimeSformerCLS(torch.nn.Module):
        """(B, T, 3, 224, 224) -> (B, 768)."""

        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net
            self.net.config.num_frames = frames  # the layers split tokens by this count; time embeddings stretch

        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            return self.net(pixel_values=clips).last_hidden_state[:, 0]

    return TimeSformerCLS(TIMESFORMER.load(TimesformerModel, TimesformerConfig, random_init, weights_path))


def build_videomae(*, frames: int, options: dict[str, Any], random_init: bool, weights_path: Path | None) -> Any:
    """VideoMAE returning ``fc_norm(mean of the last layer's tokens)`` (768-d); the classifier is never run."""
    import torch
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    class VideoMAEMean(torch.nn.Module):
        """(B, 16, 3, 224, 224) -> (B, 768)."""

        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            tokens = self.net.videomae(pixel_values=clips).last_hidden_state
            return self.net.fc_norm(tokens.mean(dim=1))

    net = VIDEOMAE.load(VideoMAEForVideoClassification, VideoMAEConfig, random_init, weights_path,
                        optional_missing=("classifier.",))
    return VideoMAEMean(net)


SPEC_TIMESFORMER = register(
    BackboneSpec(
        name="timesformer",
        summary="TimeSformer-base (HF facebook/timesformer-base-finetuned-k400); last-layer CLS token",
        input_size=224,
        mean=(0.45, 0.45, 0.45),  # facebook/timesformer-base-finetuned-k400 preprocessor_config.json
        std=(0.225, 0.225, 0.225),
        default_frames=TIMESFORMER_FRAMES,
        frame_rule="a multiple of 8 (8, 16, 24, ...; trained on 8)",
        accepts_frames=lambda frames, options: frames % TIMESFORMER_FRAMES == 0,
        dim=lambda frames, options: HIDDEN,
        build=build_timesformer,
        resolve_weights=TIMESFORMER.provenance,
        default_options={"embedding": "cls-last-layer"},
        weights_status=TIMESFORMER.status,
    )
)
SPEC_VIDEOMAE = register(
    BackboneSpec(
        name="videomae",
        summary="VideoMAE-base (HF MCG-NJU/videomae-base-finetuned-kinetics); mean of tokens + fc_norm",
        input_size=224,
        mean=(0.485, 0.456, 0.406),  # MCG-NJU/videomae-base-finetuned-kinetics preprocessor_config.json (ImageNet)
        std=(0.229, 0.224, 0.225),
        default_frames=VIDEOMAE_FRAMES,
        frame_rule="exactly 16 frames (8 tubelets of 2; fixed position table)",
        accepts_frames=lambda frames, options: frames == VIDEOMAE_FRAMES,
        dim=lambda frames, options: HIDDEN,
        build=build_videomae,
        resolve_weights=VIDEOMAE.provenance,
        default_options={"embedding": "token-mean-fc_norm"},
        weights_status=VIDEOMAE.status,
    )
)
