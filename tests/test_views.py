"""Augmented views: one parameter draw per view, exact regeneration, never mirrored, idempotent in the store."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from embed import embed_store
from embed.backbones.flow_motion import FlowMotion
from embed.errors import EmbedError
from embed.views import augment_store
from ingest import IngestError, decode_frames, read_labels_csv, scan_folder
from ingest.augment import augment_frames, recipe_record, view_seed
from store import Store


def line_frames(count: int = 6, size: int = 96) -> np.ndarray:
    """Frames with one bright horizontal line, a little lower in each frame."""
    frames = np.full((count, size, size, 3), 40, np.uint8)
    for t in range(count):
        y = size // 2 - 6 + 2 * t
        cv2.line(frames[t], (12, y), (size - 12, y), (255, 255, 255), 2)
    return frames


def line_angle(frame: np.ndarray) -> float:
    """The angle (degrees) of the bright line in a frame, from the principal axis of its pixels."""
    ys, xs = np.nonzero(frame[..., 0] > 150)
    points = np.stack([xs, ys]).astype(float)
    points -= points.mean(axis=1, keepdims=True)
    _, vectors = np.linalg.eigh(points @ points.T)
    dx, dy = vectors[:, -1]
    return float(np.degrees(np.arctan2(dy, dx) if dx > 0 else np.arctan2(-dy, -dx)))


def rotation_only(p: float = 1.0) -> dict:
    recipe = recipe_record()
    recipe["transforms"] = [["Rotate", {"limit": 7, "border_mode": 0, "p": p}]]
    return recipe


def test_every_frame_of_a_view_gets_the_same_rotation() -> None:
    frames = line_frames()
    assert all(abs(line_angle(f)) < 0.5 for f in frames)
    angles_by_seed = []
    for seed in range(4):
        out, applied = augment_frames(frames, seed=seed, recipe=rotation_only())
        angles = [line_angle(f) for f in out]
        assert max(angles) - min(angles) < 0.6, angles  # one draw for the whole clip
        matrix = np.array(applied[0]["matrix"])
        recorded = np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0]))
        assert np.mean(angles) == pytest.approx(recorded, abs=0.6) and abs(recorded) <= 7.0
        angles_by_seed.append(np.mean(angles))
    assert np.ptp(angles_by_seed) > 1.0  # different seeds, different draws


def test_same_seed_same_frames_and_the_default_recipe_changes_pixels() -> None:
    frames = line_frames()
    a, applied = augment_frames(frames, seed=11)
    b, _ = augment_frames(frames, seed=11)
    c, _ = augment_frames(frames, seed=12)
    np.testing.assert_array_equal(a, b)
    assert a.shape == frames.shape and a.dtype == np.uint8
    assert not np.array_equal(a, c) and json.dumps(applied)  # the record is JSON-ready


def test_no_view_is_mirrored_and_flips_are_refused() -> None:
    frames = np.full((4, 64, 96, 3), 30, np.uint8)
    frames[:, :, :40] = 220  # the left side is bright
    for seed in range(25):
        out, _ = augment_frames(frames, seed=seed)
        assert out[:, :, :30].mean() > out[:, :, -30:].mean() + 60, seed
    assert not {"HorizontalFlip", "VerticalFlip", "Transpose"} & {name for name, _ in recipe_record()["transforms"]}
    flipping = recipe_record()
    flipping["transforms"] = [["HorizontalFlip", {"p": 1.0}]]
    with pytest.raises(IngestError, match="HorizontalFlip: a mirrored clip reverses the turning direction"):
        augment_frames(frames, seed=0, recipe=flipping)
    older = recipe_record()
    older["version"] = "0.0.1"
    with pytest.raises(IngestError, match="made with albumentations 0.0.1"):
        augment_frames(frames, seed=0, recipe=older)


@pytest.fixture
def small_store(store: Store, videos: Path) -> Store:
    """Six clips of three classes, embedded with flow_motion."""
    for folder in videos.iterdir():
        if folder.is_dir() and folder.name not in ("screw", "unscrew", "screw_1234"):
            shutil.rmtree(folder)
    result = scan_folder(videos, progress=False)
    store.record_ingest(result.videos, result.errors)
    embed_store(store, backbone="flow_motion", progress=False)
    return store


def test_views_are_stored_idempotent_and_regenerate_exactly(small_store: Store) -> None:
    from analysis.runner import run_analysis

    before = run_analysis(small_store, "separability").tables["separability"].to_pylist()[0]
    first = augment_store(small_store, views=2, seed=5, progress=False)
    assert (first.embedded, first.already) == (12, 0)
    again = augment_store(small_store, views=2, seed=5, progress=False)
    assert (again.embedded, again.already) == (0, 12)
    more = augment_store(small_store, views=3, seed=5, progress=False)
    assert (more.embedded, more.already) == (6, 12)
    rows, matrix = small_store.load_vectors(first.set.set_id, views=None)
    assert rows.num_rows == 6 * 4 and sorted(set(rows.column("view").to_pylist())) == ["aug-1", "aug-2", "aug-3", "original"]
    vectors = {(v, view): row for v, view, row in zip(rows.column("video_id").to_pylist(), rows.column("view").to_pylist(), matrix)}
    for (video_id, view), vector in vectors.items():
        if view != "original":
            assert not np.allclose(vector, vectors[(video_id, "original")], atol=1e-3)  # a view is not the clip again

    video = small_store.videos()[0]
    record = small_store.view_records(first.set.set_id)[(video["video_id"], "aug-2")]
    assert record["seed"] == view_seed(5, video["video_id"], 2)
    frames = decode_frames(video["path"], first.set.frames, num_frames=video["num_frames"], short_side=128)
    regenerated, _ = augment_frames(frames, seed=record["seed"], recipe=json.loads(record["recipe"]))
    stored = small_store.stored_vector(first.set.set_id, video["video_id"], "aug-2")
    np.testing.assert_allclose(FlowMotion(segments=8)(regenerated), stored, atol=1e-6)

    after = run_analysis(small_store, "separability")  # the set changed: computed again, on the originals
    assert not after.reused and after.tables["separability"].to_pylist()[0]["knn_accuracy"] == before["knn_accuracy"]

    with pytest.raises(EmbedError, match="already holds view aug-1 made with another --seed"):
        augment_store(small_store, views=1, seed=6, progress=False)
    with pytest.raises(EmbedError, match="views 0: must be at least 1"):
        augment_store(small_store, views=0, seed=5, progress=False)
    with pytest.raises(EmbedError, match="inside the store"):
        augment_store(small_store, views=1, seed=5, write_videos=small_store.root / "views", progress=False)


def test_cli_augment_writes_views_records_failures_and_exports_the_dataset(
        runner: CliRunner, small_store: Store, videos: Path, tmp_path: Path) -> None:
    broken = small_store.videos()[0]
    Path(broken["path"]).write_bytes(b"")  # the file broke after ingest
    args = ["--store", str(small_store.root), "augment", "--views", "1", "--seed", "3", "--write-videos", str(tmp_path / "out")]
    result = runner.invoke(main, args)
    assert result.exit_code == 3, result.output
    assert broken["path"] in result.stderr and "5 new view(s)" in result.stderr
    written = sorted((tmp_path / "out").rglob("*.aug-1.mp4"))
    assert len(written) == 5
    from ingest import probe

    assert probe(written[0]).num_frames == 32 and probe(written[0]).width == 128
    assert any(row["path"] == broken["path"] for row in small_store.errors())

    target = tmp_path / "dataset.csv"
    result = runner.invoke(main, ["--store", str(small_store.root), "dataset", "export", str(target)])
    assert result.exit_code == 0, result.output
    with open(target, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and {r["ENG_CLASS"] for r in rows} == {"screw", "unscrew", "screw_1234"}
    assert {r["PATH_VIDEO"].split("/")[0] for r in rows} == {"screw", "unscrew", "screw_1234"}
    names = {n.label: n for n in read_labels_csv(target)}
    assert names["screw"].class_index != names["unscrew"].class_index
    bad = runner.invoke(main, ["--store", str(small_store.root), "dataset", "export", str(tmp_path / "missing" / "x.csv")])
    assert bad.exit_code == 1 and "give FILE.csv in a folder that exists" in bad.stderr
