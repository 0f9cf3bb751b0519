"""A small synthetic dataset shaped like the original one: real H.264 files, ten action classes.

Each clip shows a grey box with four screw heads seen from above and a hand with a tool:
a screwdriver (handle seen end-on, with a stripe) or an Allen key (an L-shaped arm). ``screw``
turns clockwise, ``unscrew`` anticlockwise; ``screw_<order>`` visits the four screws in that order
(1 top-left, 2 top-right, 3 bottom-right, 4 bottom-left), turning clockwise at each;
the Allen-key classes use key 1 (short, dark) or key 2 (long, silver). Position, scale, lighting,
speed, start time and noise vary per clip from a seed. The second of every three clips is a portrait ``.MOV``
stored sideways with a rotation tag, as phones write them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from ingest.errors import IngestError
from ingest.labels import write_labels_csv

FPS = 10
NUM_FRAMES = 40
SQUARE = (128, 128)  # width, height of landscape clips
PORTRAIT = (112, 144)  # upright width, height of phone-style clips

# label -> (Italian folder name of the original project, its class index there)
DEMO_CLASSES: dict[str, tuple[str, int]] = {
    "screw": ("avvitare", 7),
    "unscrew": ("svitare", 3),
    "screw_1234": ("avvitare_orario", 8),
    "screw_1432": ("avvitare_antiorario", 2),
    "screw_2413": ("avvitare_incrociato_2413", 1),
    "screw_1342": ("avvitare_incrociato_1342", 0),
    "screw_allenkey_1": ("avvita_brugola_1", 9),
    "screw_allenkey_2": ("avvita_brugola_2", 5),
    "unscrew_allenkey_1": ("svita_brugola_1", 4),
    "unscrew_allenkey_2": ("svita_brugola_2", 6),
}
LABELS_FILE = "dataset_info.csv"


@dataclass(frozen=True)
class ClipPlan:
    """What one clip shows: the tool, the turning sense and the screws it visits (0-based)."""

    tool: str  # "driver", "key1" or "key2"
    clockwise: bool
    visits: tuple[int, ...]


def plan_for(label: str, rng: np.random.Generator) -> ClipPlan:
    """The clip plan of a demo label; single-screw classes pick their screw at random."""
    if label.startswith("screw_") and label[6:].isdigit():
        return ClipPlan("driver", True, tuple(int(c) - 1 for c in label[6:]))
    tool = {"1": "key1", "2": "key2"}[label[-1]] if "allenkey" in label else "driver"
    return ClipPlan(tool, not label.startswith("unscrew"), (int(rng.integers(4)),))


def render_clip(label: str, seed: int, size: tuple[int, int] = SQUARE) -> np.ndarray:
    """Render a clip of ``label`` as ``(NUM_FRAMES, H, W, 3)`` uint8 RGB, upright."""
    rng = np.random.default_rng(seed)
    plan = plan_for(label, rng)
    width, height = size
    scale = min(width, height) / 128 * rng.uniform(0.85, 1.15)
    centre = np.array([width / 2, height / 2]) + rng.uniform(-8, 8, 2) * scale
    half = 30 * scale
    screws = centre + half * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]])
    light = rng.uniform(0.75, 1.2)
    background = _background(rng, width, height, centre, half * 1.6, light)
    speed = rng.uniform(0.7, 1.3)
    delay = int(rng.integers(0, 5))
    positions, angles = trajectory(plan, screws, speed, delay, rng)
    noise = rng.uniform(2, 6)
    frames = np.empty((NUM_FRAMES, height, width, 3), np.uint8)
    for t in range(NUM_FRAMES):
        canvas = background.copy()
        for s, point in enumerate(screws):
            slot = angles[t] if np.allclose(point, positions[t]) else s * 0.7
            _screw_head(canvas, point, 5 * scale, slot, light)
        _tool(canvas, plan.tool, positions[t], angles[t], scale, light)
        canvas = canvas + rng.normal(0, noise, canvas.shape)
        frames[t] = np.clip(canvas, 0, 255).astype(np.uint8)
    return frames


def _background(rng: np.random.Generator, width: int, height: int, centre: np.ndarray, half: float, light: float) -> np.ndarray:
    """A table with a grey box on it, lit by ``light``."""
    texture = cv2.GaussianBlur(rng.normal(0, 12, (height, width)).astype(np.float32), (0, 0), 3)
    canvas = np.empty((height, width, 3), np.float32)
    canvas[:] = np.array([150, 140, 125], np.float32)
    canvas += texture[..., None]
    top_left = tuple(int(v) for v in centre - half)
    bottom_right = tuple(int(v) for v in centre + half)
    cv2.rectangle(canvas, top_left, bottom_right, (110, 112, 116), -1)
    return canvas * light


def trajectory(plan: ClipPlan, screws: np.ndarray, speed: float, delay: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Tool position and turning angle at every frame."""
    sign = 1.0 if plan.clockwise else -1.0  # image y points down: a growing angle turns clockwise
    omega = sign * 0.45 * speed
    phase = rng.uniform(0, 2 * math.pi)
    positions = np.empty((NUM_FRAMES, 2))
    angles = np.empty(NUM_FRAMES)
    if len(plan.visits) == 1:
        positions[:] = screws[plan.visits[0]]
        for t in range(NUM_FRAMES):
            angles[t] = phase + omega * max(0, t - delay)
        return positions, angles
    segment = (NUM_FRAMES - delay) / len(plan.visits)  # every visit fits in the clip; speed sets the turning rate
    travel = max(2.0, segment * 0.35)
    angle = phase
    for t in range(NUM_FRAMES):
        local = max(0.0, (t - delay) / segment)
        visit = min(int(local), len(plan.visits) - 1)
        within = (local - visit) * segment
        here = screws[plan.visits[visit]]
        if visit > 0 and within < travel:  # moving to the next screw, not turning
            before = screws[plan.visits[visit - 1]]
            positions[t] = before + (here - before) * (within / travel)
        else:
            positions[t] = here
            angle += omega if t > delay else 0.0
        angles[t] = angle
    return positions, angles


def _screw_head(canvas: np.ndarray, point: np.ndarray, radius: float, slot: float, light: float) -> None:
    """A round screw head with a slot."""
    centre = tuple(int(v) for v in point)
    cv2.circle(canvas, centre, max(2, int(radius)), (185 * light, 185 * light, 190 * light), -1)
    dx, dy = radius * math.cos(slot), radius * math.sin(slot)
    cv2.line(canvas, (int(point[0] - dx), int(point[1] - dy)), (int(point[0] + dx), int(point[1] + dy)), (60, 60, 60), 1)


def _tool(canvas: np.ndarray, tool: str, point: np.ndarray, angle: float, scale: float, light: float) -> None:
    """The hand and the tool, turned by ``angle`` about ``point``."""
    skin = (224 * light, 172 * light, 140 * light)
    direction = np.array([math.cos(angle), math.sin(angle)])
    if tool == "driver":
        hand = point + direction * 9 * scale
        cv2.ellipse(canvas, _pt(hand), (int(11 * scale), int(7 * scale)), math.degrees(angle), 0, 360, skin, -1)
        cv2.circle(canvas, _pt(point), int(8 * scale), (200 * light, 40 * light, 30 * light), -1)
        tip = point + direction * 8 * scale
        cv2.line(canvas, _pt(point), _pt(tip), (250, 250, 250), max(1, int(2 * scale)))
        return
    length, colour = (22, (45, 45, 50)) if tool == "key1" else (34, (170, 185, 205))
    end = point + direction * length * scale
    cv2.line(canvas, _pt(point), _pt(end), tuple(c * light for c in colour), max(2, int(3 * scale)))
    cv2.circle(canvas, _pt(end), int(8 * scale), skin, -1)


def _pt(point: np.ndarray) -> tuple[int, int]:
    return int(round(point[0])), int(round(point[1]))


def write_clip(path: str | Path, frames: np.ndarray, rotation: int = 0, *, fps: int = FPS) -> None:
    """Encode upright RGB frames as H.264 at ``fps``; with ``rotation`` the pixels are stored sideways and
    tagged, so a reader that turns each frame counterclockwise by the tag's angle gets them upright."""
    stored = np.ascontiguousarray(np.rot90(frames, k=-(rotation // 90), axes=(1, 2))) if rotation else frames
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    with av.open(str(tmp), "w", format="mov" if Path(path).suffix.lower() == ".mov" else "mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = stored.shape[2], stored.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        if rotation:
            stream.set_display_rotation(rotation)
        for frame in stored:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    tmp.replace(path)


def make_demo_dataset(root: str | Path, *, clips_per_class: int = 6, seed: int = 0, holdout: str | Path | None = None) -> list[Path]:
    """Write ``root/<label>/IMG_*.{mp4,MOV}`` for the ten demo classes and ``root/dataset_info.csv``.

    With ``holdout``, one more clip per class (unseen seeds) goes into that folder, named
    ``<label>.mp4``, for trying ``neighbors`` and detectors on clips the store does not hold.
    Returns the paths written. Existing files are overwritten (same seed, same bytes).
    """
    if clips_per_class < 1:
        raise IngestError(f"clips-per-class {clips_per_class}: must be at least 1", param="clips_per_class")
    root = Path(root)
    written: list[Path] = []
    rows: list[tuple[str, int, str, str]] = []
    number = 5000
    for class_pos, (label, (italian, index)) in enumerate(DEMO_CLASSES.items()):
        (root / label).mkdir(parents=True, exist_ok=True)
        for k in range(clips_per_class):
            number += 1
            portrait = k % 3 == 1
            path = root / label / (f"IMG_{number}.MOV" if portrait else f"IMG_{number}.mp4")
            clip_seed = seed * 100_003 + class_pos * 1000 + k
            frames = render_clip(label, clip_seed, PORTRAIT if portrait else SQUARE)
            write_clip(path, frames, rotation=(90 if k % 2 else -90) if portrait else 0)
            rows.append((italian, index, f"{label}/{path.name}", label))
            written.append(path)
    write_labels_csv(root / LABELS_FILE, rows)
    if holdout is not None:
        holdout = Path(holdout)
        holdout.mkdir(parents=True, exist_ok=True)
        for class_pos, label in enumerate(DEMO_CLASSES):
            path = holdout / f"{label}.mp4"
            write_clip(path, render_clip(label, seed * 100_003 + class_pos * 1000 + 999, SQUARE))
            written.append(path)
    return written
