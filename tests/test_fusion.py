"""Fused sets: unit-length parts concatenated, built once, and used for new clips too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embed import EmbedError, embed_store, neighbors
from ingest import scan_folder
from store import Store, StoreError


@pytest.fixture
def two_sets(store: Store, videos: Path) -> Store:
    result = scan_folder(videos, progress=False)
    store.record_ingest(result.videos, result.errors)
    embed_store(store, backbone="tiny3d", frames=4, progress=False)
    embed_store(store, backbone="flow_motion", frames=16, progress=False)
    return store


def test_fused_vectors_are_unit_parts_side_by_side(two_sets: Store) -> None:
    report = embed_store(two_sets, backbone="fuse:tiny3d+flow_motion", progress=False)
    fused = report.set
    assert (report.embedded, report.files_written, fused.dim, fused.name) == (20, 1, 32 + 25, "fuse_tiny3d_f4_random_flow_motion_f16")
    assert fused.weights.startswith("fused:")
    rows, matrix = two_sets.load_vectors(fused.set_id)
    tiny = two_sets.get_set("tiny3d")
    video = rows.column("video_id")[0].as_py()
    part = two_sets.stored_vector(tiny.set_id, video)
    np.testing.assert_allclose(matrix[0, :32], part / np.linalg.norm(part), rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(matrix[:, :32], axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(matrix[:, 32:], axis=1), 1, rtol=1e-5)
    again = embed_store(two_sets, backbone="fuse:tiny3d+flow_motion", progress=False)
    assert (again.embedded, again.already, again.files_written) == (0, 20, 0)


def test_a_new_clip_is_embedded_by_each_part_and_fused(two_sets: Store, demo_root: Path, tmp_path: Path) -> None:
    fused = embed_store(two_sets, backbone="fuse:tiny3d+flow_motion", progress=False).set
    stored_clip = Path(two_sets.videos()[3]["path"])
    copy = tmp_path / "copy_with_other_bytes.mp4"
    copy.write_bytes(stored_clip.read_bytes() + b"\0")  # not byte-identical: embedded anew by both parts
    found = neighbors(two_sets, copy, set_ref=fused.set_id, k=1)
    assert found.embedded_now and found.hits[0].path == str(stored_clip.resolve())
    assert found.hits[0].distance < 0.05


def test_fusion_needs_two_embedded_sets(two_sets: Store) -> None:
    with pytest.raises(EmbedError, match="name at least two sets"):
        embed_store(two_sets, backbone="fuse:tiny3d", progress=False)
    with pytest.raises(StoreError, match="no such embedding set"):
        embed_store(two_sets, backbone="fuse:tiny3d+effnet_lite0_frames", progress=False)
    with pytest.raises(EmbedError, match="named twice"):
        embed_store(two_sets, backbone="fuse:tiny3d+tiny3d", progress=False)
