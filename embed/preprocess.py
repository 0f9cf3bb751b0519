"""Turn decoded uint8 frames into a backbone's normalised input tensor on its device."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from embed.registry import BackboneSpec


def centre_crop(frames: np.ndarray, size: int) -> np.ndarray:
    """``(T, H, W, 3)`` -> ``(T, size, size, 3)``, the middle of each frame (a view, no copy)."""
    height, width = frames.shape[1:3]
    top, left = (height - size) // 2, (width - size) // 2
    if top < 0 or left < 0:
        raise ValueError(f"frames of {width}x{height} are smaller than the {size}px input")
    return frames[:, top : top + size, left : left + size]


def to_input(clips: Sequence[np.ndarray], spec: BackboneSpec, device: str = "cpu") -> Any:
    """Clips of ``(T, H, W, 3)`` uint8 (short side already ``spec.input_size``) -> ``(N, T, 3, S, S)``
    float32 on ``device``, centre-cropped and normalised by the backbone's mean and std.

    The crops travel as uint8 (a quarter of the bytes of float32; to a GPU from pinned memory, queued
    without blocking the CPU) and are converted and normalised on the device itself."""
    import torch

    crops = torch.from_numpy(np.stack([centre_crop(frames, spec.input_size) for frames in clips]))
    if torch.device(device).type == "cuda":
        crops = crops.pin_memory()
    on_device = crops.to(device, non_blocking=True).permute(0, 1, 4, 2, 3).float().div_(255)
    mean, std = _mean_std(spec.mean, spec.std, str(on_device.device))
    return ((on_device - mean) / std).contiguous()


@lru_cache(maxsize=16)
def _mean_std(mean: tuple[float, ...], std: tuple[float, ...], device: str) -> tuple[Any, Any]:
    """The normalisation constants on ``device``, made once: a fresh copy per batch would block until
    the GPU had finished everything queued before it."""
    import torch

    return (torch.tensor(mean, device=device).view(1, 1, 3, 1, 1), torch.tensor(std, device=device).view(1, 1, 3, 1, 1))
