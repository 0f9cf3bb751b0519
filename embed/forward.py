"""Forward passes on the model's device: launched without waiting, their vectors read when needed.

On CUDA a launched batch runs on the GPU while the CPU decodes, stacks and queues the next one; its
vectors come back through pinned memory and are read only when the next batch has been launched. On the
CPU (and for backbones that are not torch models) a launch simply computes the vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embed.preprocess import to_input
from embed.registry import BackboneSpec

Launched = Any  # an ``np.ndarray`` already computed, or a (pinned host tensor, CUDA event) still on its way


def launch(model: Any, spec: BackboneSpec, clips: list[np.ndarray], device: str = "cpu") -> Launched:
    """Start embedding several clips' decoded frames in one forward pass; ``collect`` gives the vectors."""
    if not spec.uses_torch:
        return np.stack([np.asarray(model(frames), dtype=np.float32) for frames in clips])
    import torch

    with torch.inference_mode():
        out = model(to_input(clips, spec, device)).float()
        if not out.is_cuda:
            return out.numpy()
        host = torch.empty(out.shape, dtype=out.dtype, pin_memory=True)
        host.copy_(out, non_blocking=True)
        done = torch.cuda.Event(blocking=True)  # collect() sleeps on it rather than spinning a core the decoders want
        done.record(torch.cuda.current_stream(out.device))  # the stream of the model's GPU, which may not be cuda:0
        return host, done


def collect(launched: Launched) -> np.ndarray:
    """The ``(clips, dim)`` float32 vectors of a launched batch, waiting for the device if it must."""
    if isinstance(launched, np.ndarray):
        return launched
    host, done = launched
    done.synchronize()
    return host.numpy()


def embed_batch(model: Any, spec: BackboneSpec, clips: list[np.ndarray], device: str = "cpu") -> np.ndarray:
    """Several clips' decoded frames -> ``(clips, dim)`` float32, in one forward pass for torch backbones."""
    return collect(launch(model, spec, clips, device))


def embed_frames(model: Any, spec: BackboneSpec, frames: np.ndarray, device: str = "cpu") -> np.ndarray:
    """One clip's decoded frames -> its embedding vector (float32)."""
    return embed_batch(model, spec, [frames], device)[0]
