"""Turn decoded uint8 frames into a backbone's normalised input tensor."""

from __future__ import annotations

from typing import Any

import numpy as np

from embed.registry import BackboneSpec


def to_input(frames: np.ndarray, spec: BackboneSpec) -> Any:
    """``(T, H, W, 3)`` uint8 (short side already ``spec.input_size``) -> ``(T, 3, S, S)`` float, centre-cropped."""
    import torch

    size = spec.input_size
    height, width = frames.shape[1:3]
    top, left = (height - size) // 2, (width - size) // 2
    if top < 0 or left < 0:
        raise ValueError(f"frames of {width}x{height} are smaller than the {size}px input")
    crop = frames[:, top : top + size, left : left + size]
    tensor = torch.from_numpy(np.ascontiguousarray(crop)).permute(0, 3, 1, 2).float().div_(255)
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1)
    std = torch.tensor(spec.std).view(1, 3, 1, 1)
    return (tensor - mean) / std
