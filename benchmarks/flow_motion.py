"""Where ``flow_motion``'s time goes, and how it compares with ``effnet_lite0_frames`` per clip.

    .venv/bin/python benchmarks/flow_motion.py [--clips-per-class 6] [--effnet-clips 20]

For the demo clips and for one 15 s 1080x1920 phone-style clip (30 fps, rotation tag), times per
clip: decoding the frames the backbone asks for, optical flow (with the change mask), and pooling the
flow into the vector; then EfficientNet-Lite0's decode plus forward on the same clips. One run on a
noisy machine: read the shares and ratios, not the absolute seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from embed import get_backbone
from embed.backbones.flow_motion import describe, flows
from embed.model_cache import load_model
from embed.forward import embed_frames
from ingest import decode_frames, probe
from ingest.demo_data import make_demo_dataset, write_clip

FLOW = get_backbone("flow_motion")
EFFNET = get_backbone("effnet_lite0_frames")


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def flow_stages(path: Path) -> tuple[float, float, float]:
    """Seconds to decode, run flow, and pool one clip with flow_motion's default settings."""
    frames = FLOW.default_frames
    t_decode, decoded = timed(lambda: decode_frames(path, frames, num_frames=probe(path).num_frames, short_side=FLOW.input_size))
    t_flow, (flow, mask) = timed(lambda: flows(decoded))
    t_pool, _ = timed(lambda: describe(flow, mask, FLOW.default_options["segments"]))
    return t_decode, t_flow, t_pool


def effnet_seconds(path: Path, model: object) -> float:
    """Seconds to decode and embed one clip with effnet_lite0_frames's default settings."""
    start = time.perf_counter()
    decoded = decode_frames(path, EFFNET.default_frames, num_frames=probe(path).num_frames, short_side=EFFNET.input_size)
    embed_frames(model, EFFNET, decoded)
    return time.perf_counter() - start


def phone_clip(path: Path, seconds: int = 15, fps: int = 30) -> Path:
    """A 1080x1920 portrait clip stored sideways with a rotation tag: a hand-sized bar turning on a textured table."""
    rng = np.random.default_rng(0)
    table = cv2.GaussianBlur(rng.integers(70, 170, (1920, 1080)).astype(np.uint8), (0, 0), 6)
    frames = np.empty((seconds * fps, 1920, 1080, 3), np.uint8)
    for t in range(len(frames)):
        canvas = table.copy()
        angle = 0.15 * t
        tip = (540 + 300 * np.cos(angle), 960 + 300 * np.sin(angle))
        cv2.line(canvas, (540, 960), (int(tip[0]), int(tip[1])), 240, 40)
        frames[t] = canvas[..., None]
    write_clip(path, frames, rotation=90, fps=fps)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips-per-class", type=int, default=6)
    parser.add_argument("--effnet-clips", type=int, default=20, help="demo clips to time effnet on (it is slow)")
    args = parser.parse_args()
    effnet = load_model(EFFNET.name, EFFNET.default_frames, dict(EFFNET.default_options), random_init=False,
                        weights_path=None, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_demo_dataset(Path(tmp) / "videos", clips_per_class=args.clips_per_class)
        phone = phone_clip(Path(tmp) / "phone.MOV")
        demo = np.array([flow_stages(p) for p in clips])
        demo_effnet = np.array([effnet_seconds(p, effnet) for p in clips[:: max(1, len(clips) // args.effnet_clips)]])
        big = np.array(flow_stages(phone))
        big_effnet = effnet_seconds(phone, effnet)
    print(f"{'clips':28} {'n':>4} {'decode s':>9} {'flow s':>8} {'pool s':>8} {'flow_motion s':>14} {'effnet s':>9} "
          f"{'clips/s':>8} {'speedup':>8}")
    for name, stages, eff in (("demo (128x128 / 112x144)", demo, demo_effnet), ("15 s 1080x1920 phone", big[None], np.array([big_effnet]))):
        per_clip = stages.sum(axis=1).mean()
        decode, flow, pool = stages.mean(axis=0)
        print(f"{name:28} {len(stages):>4} {decode:9.3f} {flow:8.3f} {pool:8.3f} {per_clip:14.3f} {eff.mean():9.3f} "
              f"{1 / per_clip:8.2f} {eff.mean() / per_clip:7.1f}x")
        print(f"{'':28} {'share':>4} {decode / per_clip:9.0%} {flow / per_clip:8.0%} {pool / per_clip:8.0%}")
    print("\nspeedup: effnet_lite0_frames seconds per clip / flow_motion seconds per clip (both decode included)")


if __name__ == "__main__":
    main()
