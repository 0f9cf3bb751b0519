"""CUDA paths (skipped where torch sees no GPU, as on CI): the same vectors and a detector on the GPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to torch (CI has none)")

from embed import embed_store  # noqa: E402
from ingest import scan_folder  # noqa: E402
from store import Store  # noqa: E402


@pytest.mark.parametrize("backbone", ["tiny3d", "r2plus1d_18"])
def test_embedding_on_cuda_matches_cpu(videos: Path, tmp_path: Path, backbone: str) -> None:
    result = scan_folder(videos, progress=False)
    matrices = []
    for device in ("cpu", "cuda"):
        store = Store(tmp_path / device)
        store.record_ingest(result.videos, result.errors)
        report = embed_store(store, backbone=backbone, frames=8, random_init=True, device=device, progress=False)
        matrices.append(store.load_vectors(report.set.set_id)[1])
    cpu, cuda = matrices
    assert np.abs(cpu - cuda).max() <= 2e-3 * np.abs(cpu).max()  # TF32 convolutions on the GPU
    half = embed_store(store, backbone=backbone, frames=8, random_init=True, device="cuda", precision="bf16", progress=False)
    bf16 = store.load_vectors(half.set.set_id)[1]
    assert np.abs(cpu - bf16).max() <= 2e-2 * np.abs(cpu).max()  # measured within 6e-3 on an H100


def test_detector_trains_and_scores_on_cuda(tmp_path: Path) -> None:
    from detector.saved import load_detector
    from detector.training import train_detector
    from tests.test_detector import synthetic_store

    store = synthetic_store(tmp_path / "s")
    report = train_detector(store, "gpu", target="screw", kind="ae", device="cuda", progress=False)
    assert np.isfinite(report.detector.threshold) and report.detector.metrics["test_auroc_mean"] > 0.9
    loaded, _ = load_detector(store, "gpu", device="cuda")
    vectors = store.load_vectors(report.detector.set_id)[1].astype(np.float64)
    np.testing.assert_allclose(loaded.model.score(vectors), report.detector.model.score(vectors), rtol=1e-4)
