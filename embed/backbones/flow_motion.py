"""``flow_motion``: a deterministic, weight-free clip embedding from dense optical flow.

Frames are decoded small (short side 128), turned grey, and OpenCV's DIS optical flow runs
between consecutive distinct frames. Motion is located relative to the action, not the frame:
the clip's motion centre and spread (magnitude-weighted mean and standard deviation of pixel
positions over the whole clip) define normalised coordinates, so the same action shifted or
scaled in the frame lands on nearby vectors. The clip is cut into ``segments`` equal parts in
time and each part keeps, every block scaled to unit length:

- ``where``: a 4x4 grid of motion magnitude in the normalised coordinates (visiting order);
- ``direction``: an 8-bin histogram of flow directions weighted by magnitude;
- ``rotation``: the magnitude-weighted sense of turning about the motion centre (r x v) and
  the mean curl, each in [-1, 1] (clockwise versus anticlockwise flips both);
- ``expansion``: the mean divergence in [-1, 1], and the speed relative to the spread.

A last block holds the spread relative to the frame (log), so a long tool differs from a short
one. A clip without motion gives a well-defined vector of zeros where direction is undefined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from embed.registry import BackboneSpec, register
from embed.weights import RANDOM_INIT

GRID = 4
DIRECTIONS = 8
SCALARS = 4  # turning about the centre, curl, divergence, speed
EPS = 1e-6


def segment_dim() -> int:
    return GRID * GRID + DIRECTIONS + SCALARS


def flows(frames: np.ndarray) -> np.ndarray:
    """Dense flow ``(pairs, H, W, 2)`` between consecutive distinct grey frames (repeats skipped)."""
    import cv2

    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    distinct = [grey[0]] + [g for prev, g in zip(grey, grey[1:]) if not np.array_equal(prev, g)]
    height, width = grey[0].shape
    if len(distinct) < 2:
        return np.zeros((1, height, width, 2), np.float32)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    return np.stack([dis.calc(a, b, None) for a, b in zip(distinct, distinct[1:])]).astype(np.float32)


def describe(flow: np.ndarray, segments: int) -> np.ndarray:
    """The clip vector from its flow fields (see the module docstring for the layout)."""
    pairs, height, width, _ = flow.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    magnitude = np.linalg.norm(flow, axis=-1)
    weight = magnitude.sum(axis=0)
    total = weight.sum()
    if total > EPS:
        cx, cy = (weight * xs).sum() / total, (weight * ys).sum() / total
        spread = float(np.sqrt((weight * ((xs - cx) ** 2 + (ys - cy) ** 2)).sum() / total)) + EPS
    else:
        cx, cy, spread = width / 2, height / 2, min(width, height) / 4
    u, v = (xs - cx) / spread, (ys - cy) / spread
    cells = (np.clip(((v + 2) / 4 * GRID).astype(int), 0, GRID - 1) * GRID + np.clip(((u + 2) / 4 * GRID).astype(int), 0, GRID - 1))
    blocks = []
    for part in np.array_split(np.arange(pairs), segments):
        part = part if part.size else np.array([pairs - 1])
        f, m = flow[part], magnitude[part]
        where = np.bincount(cells.ravel(), weights=m.sum(axis=0).ravel(), minlength=GRID * GRID)
        angles = np.arctan2(f[..., 1], f[..., 0])
        bins = ((angles + np.pi) / (2 * np.pi) * DIRECTIONS).astype(int) % DIRECTIONS
        direction = np.bincount(bins.ravel(), weights=m.ravel(), minlength=DIRECTIONS)
        scalars = _scalars(f, m, u, v, spread)
        blocks += [_unit(where), _unit(direction), scalars]
    blocks.append(np.array([np.log(spread / min(width, height))], np.float32))
    return np.concatenate(blocks).astype(np.float32)


def _scalars(f: np.ndarray, m: np.ndarray, u: np.ndarray, v: np.ndarray, spread: float) -> np.ndarray:
    """Turning about the centre, curl and divergence (each in [-1, 1]) and relative speed."""
    mass = m.sum()
    if mass <= EPS:
        return np.zeros(SCALARS, np.float32)
    radius = np.sqrt(u**2 + v**2) + EPS
    turning = ((u * f[..., 1] - v * f[..., 0]) / radius).sum() / mass  # image y points down: > 0 is clockwise
    dvy_dx = np.gradient(f[..., 1], axis=2)
    dvx_dy = np.gradient(f[..., 0], axis=1)
    curl = dvy_dx - dvx_dy
    divergence = np.gradient(f[..., 0], axis=2) + np.gradient(f[..., 1], axis=1)
    curl_sense = curl.sum() / (np.abs(curl).sum() + EPS)
    expansion = divergence.sum() / (np.abs(divergence).sum() + EPS)
    speed = np.log1p(mass / m.size / spread * 100)
    return np.array([turning, curl_sense, expansion, speed], np.float32)


def _unit(values: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(values)
    return (values / norm if norm > EPS else np.zeros_like(values)).astype(np.float32)


class FlowMotion:
    """The embedder: ``(T, H, W, 3)`` uint8 frames -> vector. No weights, no randomness."""

    def __init__(self, segments: int) -> None:
        self.segments = segments

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return describe(flows(frames), self.segments)


def build(*, frames: int, options: dict[str, Any], random_init: bool, weights_path: Path | None) -> FlowMotion:
    return FlowMotion(int(options["segments"]))


SPEC = register(
    BackboneSpec(
        name="flow_motion",
        summary="weight-free optical-flow motion descriptor (where, direction, turning sense per time segment)",
        input_size=128,
        mean=(0.0, 0.0, 0.0),
        std=(1.0, 1.0, 1.0),
        default_frames=32,
        frame_rule="at least two frames per time segment (default 8 segments)",
        accepts_frames=lambda frames, options: frames >= 2 * int(options["segments"]),
        dim=lambda frames, options: segment_dim() * int(options["segments"]) + 1,
        build=build,
        resolve_weights=lambda random_init, weights_path: RANDOM_INIT if random_init else "none:weight-free",
        default_options={"segments": 8},
        uses_torch=False,
    )
)
