"""The weight-free motion backbone on clips with known motion, and on the real seed clips."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from embed import embed_store, get_backbone
from embed.backbones.flow_motion import PER_SEGMENT, SPREAD_WEIGHT, FlowMotion
from ingest import decode_frames, probe, scan_folder
from store import Store
from tests.media import dot_tour, turning_bar

MOTION = FlowMotion(segments=8)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(MOTION(a) - MOTION(b)))


def test_turning_sense_is_far_shift_is_near_and_zoom_moves_only_the_reach() -> None:
    clockwise, anticlockwise = MOTION(turning_bar(True)), MOTION(turning_bar(False))
    moved, zoomed = MOTION(turning_bar(True, centre=(52, 76))), MOTION(turning_bar(True, scale=0.75))
    mirror = float(np.linalg.norm(clockwise - anticlockwise))
    assert mirror > 1.0 and float(np.linalg.norm(clockwise - moved)) < 0.25 * mirror
    moved_mirror = MOTION(turning_bar(False, centre=(52, 76)))
    assert float(np.linalg.norm(moved - moved_mirror)) > 4 * float(np.linalg.norm(clockwise - moved))
    # Everything but the last value (the reach) ignores the zoom; the reach moves by its log.
    assert float(np.linalg.norm(clockwise[:-1] - zoomed[:-1])) < 0.25 * mirror
    assert zoomed[-1] - clockwise[-1] == pytest.approx(SPREAD_WEIGHT * np.log(0.75), abs=0.15 * SPREAD_WEIGHT)
    turning = clockwise[:-1].reshape(8, PER_SEGMENT)[:, 2]
    assert (turning > 0).all() and (anticlockwise[:-1].reshape(8, PER_SEGMENT)[:, 2] < 0).all()


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


@pytest.mark.xfail(strict=True, reason="the seed GIFs film the screwdriver side-on: its axis is vertical in the picture, "
                   "so the turn shows as fingers sliding sideways, not as rotation in the image plane; median "
                   "in-plane turning is -0.01 (screw) and -0.05 (unscrew)")
def test_seed_screw_and_unscrew_turn_opposite_ways(seed_clips: list[Path]) -> None:
    by_name = {p.stem: p for p in seed_clips}
    turning = {}
    for name in ("screw", "unscrew"):
        path = by_name[name]
        frames = decode_frames(path, 32, num_frames=probe(path).num_frames, short_side=128)  # a GIF: no declared rate
        vector = MOTION(frames)
        turning[name] = vector[:-1].reshape(8, PER_SEGMENT)[:, 2]  # turning sense per time segment
    assert np.sign(np.median(turning["screw"])) == -np.sign(np.median(turning["unscrew"]))


def test_embed_runs_flow_motion_into_the_store(store: Store, videos: Path) -> None:
    result = scan_folder(videos, progress=False)
    store.record_ingest(result.videos, result.errors)
    report = embed_store(store, backbone="flow_motion", progress=False)
    assert report.embedded == 20 and report.set.weights == "none:weight-free" and report.set.dim == 25
    _, matrix = store.load_vectors(report.set.set_id)
    assert np.isfinite(matrix).all() and len({tuple(v) for v in matrix.round(5)}) == 20


def test_real_seed_gifs_without_a_declared_rate_give_distinct_finite_vectors(seed_clips: list[Path]) -> None:
    import av

    with av.open(str(seed_clips[0])) as container:
        assert container.streams.video[0].average_rate is None  # GIFs declare no frame rate
    vectors = []
    for path in seed_clips:
        info = probe(path)
        assert info.fps and info.num_frames >= 32  # the rate came from the frame timestamps
        vectors.append(MOTION(decode_frames(path, 32, num_frames=info.num_frames, short_side=128)))
    matrix = np.stack(vectors)
    assert np.isfinite(matrix).all()
    distances = np.linalg.norm(matrix[:, None] - matrix[None], axis=-1)
    assert distances[~np.eye(len(matrix), dtype=bool)].min() > 0.05


def test_demo_dataset_separates_with_the_default_backbone(tmp_path: Path) -> None:
    """Issue 6's acceptance: leave-one-out 1-NN on the `make demo` dataset is at least 0.9 with the
    default backbone, and no clip is taken for its mirror action (screw <-> unscrew)."""
    from analysis.runner import run_analysis
    from embed import DEFAULT_BACKBONE
    from ingest.demo_data import make_demo_dataset

    make_demo_dataset(tmp_path / "videos")  # the same arguments as `make demo`
    store = Store(tmp_path / "store")
    result = scan_folder(tmp_path / "videos", progress=False)
    store.record_ingest(result.videos, result.errors)
    embed_store(store, backbone=DEFAULT_BACKBONE, progress=False)
    row = run_analysis(store, "separability").tables["separability"].to_pylist()[0]
    assert row["backbone"] == DEFAULT_BACKBONE and row["clips"] == 60 and row["knn_accuracy"] >= 0.9
    mirrors = {("screw", "unscrew"), ("screw_allenkey_1", "unscrew_allenkey_1"), ("screw_allenkey_2", "unscrew_allenkey_2")}
    confused = {tuple(sorted(pair.split(" (")[0].split("->"))) for pair in row["confused"].split("; ") if pair}
    assert not confused & mirrors, row["confused"]
