"""Reduced-precision forward passes (``embed --precision``): a set option, as the vectors differ.

Measured on an H100 (``benchmarks/gpu_backbones.py``): bfloat16 autocast runs the transformers
3-4x faster (timesformer 10.9 -> 3.1 ms a clip, videomae 9.9 -> 2.6) and the 3-D CNNs no faster;
its vectors are within 6e-3 of float32's, relative to their largest value.
"""

from __future__ import annotations

from typing import Any

from embed.errors import EmbedError
from embed.registry import BackboneSpec

PRECISIONS = {"fp32": None, "bf16": "bfloat16", "fp16": "float16"}  # name -> torch dtype under autocast
DEFAULT_PRECISION = "fp32"


def precision_options(precision: str, spec: BackboneSpec) -> dict[str, str]:
    """The set options that record ``precision`` (none for float32, so float32 set ids stay as they were)."""
    if precision not in PRECISIONS:
        raise EmbedError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}", param="precision")
    if precision == DEFAULT_PRECISION:
        return {}
    if not spec.uses_torch:
        raise EmbedError(f"precision {precision}: {spec.name} is not a torch model and computes in float32; "
                         "use --precision fp32", param="precision")
    return {"precision": precision}


def with_precision(model: Any, precision: str) -> Any:
    """``model`` whose forward runs under autocast to ``precision`` (itself for float32)."""
    dtype_name = PRECISIONS[precision]
    if dtype_name is None:
        return model
    import torch

    dtype = getattr(torch, dtype_name)

    class Autocast(torch.nn.Module):
        """Runs the wrapped backbone under ``torch.autocast`` on the input's device."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            with torch.autocast(clips.device.type, dtype=dtype):
                return self.inner(clips)

    return Autocast(model).eval()
