"""Augmented views of a clip: one seeded draw of the original project's albumentations pipeline per view.

Why albumentations and not torchvision ``transforms.v2``: the original project used albumentations,
and torchvision has no grid distortion, CLAHE, pixel dropout or RGB shift. Albumentations 2 applies
one parameter draw to every frame of a clip (``images=``), takes a seed per pipeline, and reports the
parameters it applied, which is what a view needs: the same distortion on all its frames, and a way
to regenerate it exactly. There is no flip in the recipe, and recipes containing one are refused: a
mirrored clip turns clockwise into anticlockwise and would carry the wrong label.

A view is identified by ``(video_id, k)``; its seed is derived from the user's seed, the video id and
``k``, so a view does not depend on which other clips or views are augmented in the same run.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np

from ingest.errors import IngestError

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network check at import: this runs offline

# (transform, keyword arguments): the original project's pipeline, with its probabilities. Every view
# is rotated (by up to 7 degrees), so no view is a copy of the clip; the others apply by chance.
DEFAULT_RECIPE: list[tuple[str, dict[str, Any]]] = [
    ("GridDistortion", {"p": 0.5}),
    ("Rotate", {"limit": 7, "border_mode": 4, "p": 1.0}),  # border_mode 4: cv2.BORDER_REFLECT_101
    ("RGBShift", {"r_shift_limit": 15, "g_shift_limit": 15, "b_shift_limit": 15, "p": 0.5}),
    ("RandomBrightnessContrast", {"brightness_limit": 0.2, "contrast_limit": 0.2, "p": 0.5}),
    ("CLAHE", {"p": 0.3}),
    ("PixelDropout", {"dropout_prob": 0.01, "p": 0.3}),
    ("Blur", {"blur_limit": [3, 5], "p": 0.3}),
]
MIRRORING = ("HorizontalFlip", "VerticalFlip", "Transpose", "D4", "SquareSymmetry", "RandomRotate90")
SMALL_PARAM = 9  # arrays up to this size are recorded in full (a 3x3 matrix); larger ones by shape


def view_name(k: int) -> str:
    """The stored view name of augmented view ``k`` (1-based)."""
    return f"aug-{k}"


def view_seed(seed: int, video_id: str, k: int) -> int:
    """The seed of view ``k`` of one video: stable across runs, machines and the order of work."""
    digest = hashlib.sha256(f"{seed}:{video_id}:{k}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def recipe_record(recipe: list[tuple[str, dict[str, Any]]] = DEFAULT_RECIPE) -> dict[str, Any]:
    """The recipe with the albumentations version that runs it, as stored beside each view."""
    import albumentations

    return {"library": "albumentations", "version": albumentations.__version__,
            "transforms": [[name, dict(kwargs)] for name, kwargs in recipe]}


def augment_frames(frames: np.ndarray, *, seed: int, recipe: dict[str, Any] | None = None) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Apply one seeded draw of ``recipe`` (default: ``DEFAULT_RECIPE``) to every frame of ``(T, H, W, 3)`` uint8.

    Returns the augmented frames (same shape) and the transforms applied with their parameters
    (large arrays such as a dropout mask recorded by shape). The same frames, seed and recipe give
    the same output, bit for bit.
    """
    import albumentations

    recipe = recipe or recipe_record()
    if recipe.get("version") != albumentations.__version__:
        raise IngestError(f"this view was made with albumentations {recipe.get('version')}, this install has "
                          f"{albumentations.__version__}; install that version to regenerate it exactly")
    names = [name for name, _ in recipe["transforms"]]
    mirrored = sorted(set(names) & set(MIRRORING))
    if mirrored:
        raise IngestError(f"augmentation recipe contains {', '.join(mirrored)}: a mirrored clip reverses the turning "
                          "direction and would carry the wrong label; remove it")
    pipeline = albumentations.Compose([getattr(albumentations, name)(**kwargs) for name, kwargs in recipe["transforms"]],
                                      seed=seed, save_applied_params=True)
    result = pipeline(images=np.ascontiguousarray(frames))
    return np.asarray(result["images"], dtype=np.uint8), [_applied(name, params) for name, params in result["applied_transforms"]]


def _applied(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """One applied transform as JSON-ready values."""
    out: dict[str, Any] = {"transform": name}
    for key, value in params.items():
        if isinstance(value, np.ndarray):
            out[key] = value.round(6).tolist() if value.size <= SMALL_PARAM else f"array{list(value.shape)}"
        elif isinstance(value, (np.floating, np.integer)):
            out[key] = value.item()
        elif isinstance(value, tuple):
            out[key] = list(value)
        else:
            out[key] = value
    return out
