"""The weight-free motion backbone on clips with known motion, and on the real seed clips."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from embed import embed_store, get_backbone
from embed.backbones.flow_motion import FlowMotion
from ingest import decode_frames, probe, scan_folder
from store import Store
from tests.media import dot_tour, turning_bar

MOTION = FlowMotion(segments=8)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(MOTION(a) - MOTION(b)))


def test_turning_sense_is_far_and_shift_or_scale_is_near() -> None:
    clockwise = turning_bar(True)
    moved = turning_bar(True, centre=(52, 76))
    scaled = turning_bar(True, scale=0.75)
    anticlockwise = turning_bar(False)
    near = max(distance(clockwise, moved), distance(clockwise, scaled))
    assert distance(clockwise, anticlockwise) > 2 * near
    assert distance(moved, turning_bar(False, centre=(52, 76))) > 2 * near


def test_visiting_order_is_far() -> None:
    a, b = dot_tour("1234"), dot_tour("1432")
    assert distance(a, b) > 2 * distance(a, dot_tour("1234")[:, ::-1][:, ::-1])  # same tour: identical
    assert distance(a, b) > 1.0


def test_static_and_one_colour_clips_give_a_defined_vector() -> None:
    spec = get_backbone("flow_motion")
    for frames in (np.full((16, 64, 64, 3), 128, np.uint8), np.repeat(turning_bar(True)[:1], 16, axis=0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            vector = MOTION(frames)
        assert vector.shape == (spec.dim(16, {"segments": 8}),) and np.isfinite(vector).all()


def test_deterministic_and_registered_as_weight_free() -> None:
    spec = get_backbone("flow_motion")
    assert spec.resolve_weights(False, None) == "none:weight-free" and not spec.uses_torch
    clip = turning_bar(True)
    np.testing.assert_array_equal(MOTION(clip), FlowMotion(segments=8)(clip))


@pytest.mark.xfail(strict=True, reason="issue 6 open: on real footage the clip-wide turning sense is dominated by "
                   "the hand's own movement; a local (per-cell) curl near the tool is the next step")
def test_seed_screw_and_unscrew_turn_opposite_ways(seed_clips: list[Path]) -> None:
    by_name = {p.stem: p for p in seed_clips}
    turning = {}
    for name in ("screw", "unscrew"):
        path = by_name[name]
        frames = decode_frames(path, 32, num_frames=probe(path).num_frames, short_side=128)  # a GIF: no declared rate
        vector = MOTION(frames)
        per_segment = vector[:-1].reshape(8, -1)
        turning[name] = per_segment[:, -4]  # turning about the motion centre, per time segment
    assert np.sign(np.median(turning["screw"])) == -np.sign(np.median(turning["unscrew"]))


def test_embed_runs_flow_motion_into_the_store(store: Store, videos: Path) -> None:
    result = scan_folder(videos, progress=False)
    store.record_ingest(result.videos, result.errors)
    report = embed_store(store, backbone="flow_motion", progress=False)
    assert report.embedded == 20 and report.set.weights == "none:weight-free" and report.set.dim == 225
    _, matrix = store.load_vectors(report.set.set_id)
    assert np.isfinite(matrix).all() and len({tuple(v) for v in matrix.round(5)}) == 20
