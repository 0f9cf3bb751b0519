"""Models shared across threads: one build per settings, one forward at a time, a bounded cache."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import embed.model_cache
from embed import WeightsUnavailable, embed_clip, embed_store
from embed.model_cache import ModelCache, ModelSpec
from embed.query import model_for_set
from ingest import scan_folder
from store import Store

THREADS = 8


def test_threads_asking_for_a_new_clip_share_one_build_and_get_the_serial_vector(
        store: Store, videos: Path, demo_root: Path, monkeypatch) -> None:
    result = scan_folder(videos, progress=False)
    store.record_ingest(result.videos, result.errors)
    eset = embed_store(store, backbone="tiny3d", frames=4, random_init=True, device="cpu", progress=False).set
    clip = demo_root / "new" / "screw.mp4"  # not in the store: every thread runs the model
    serial = embed_clip(clip, eset, device="cpu")

    monkeypatch.setattr(embed.model_cache, "MODELS", ModelCache(4))  # a cold cache
    builds, build = [], embed.model_cache._build

    def slow_build(spec: ModelSpec):
        builds.append(spec)
        time.sleep(0.3)  # every thread asks while the first build is still running
        return build(spec)

    monkeypatch.setattr(embed.model_cache, "_build", slow_build)
    active, most = [0], [0]

    def enter(module, inputs) -> None:
        active[0] += 1
        most[0] = max(most[0], active[0])
        time.sleep(0.02)  # a slow forward: threads would overlap here without the model's lock

    def leave(module, inputs, output) -> None:
        active[0] -= 1

    start = threading.Barrier(THREADS)

    def query(_: int) -> np.ndarray:
        start.wait()
        return embed_clip(clip, eset, device="cpu")

    with ThreadPoolExecutor(THREADS) as pool:
        first = pool.submit(query, 0)
        others = [pool.submit(query, i) for i in range(1, THREADS)]
        module = model_for_set(eset, device="cpu").module  # waits for the one build, then hooks its forward
        vectors = [first.result()] + [f.result() for f in others]
    assert len(builds) == 1
    for vector in vectors:
        np.testing.assert_allclose(vector, serial, rtol=1e-6, atol=1e-7)

    module.register_forward_pre_hook(enter)
    module.register_forward_hook(leave)
    with ThreadPoolExecutor(THREADS) as pool:
        again = list(pool.map(lambda _: embed_clip(clip, eset, device="cpu"), range(THREADS)))
    assert most[0] == 1 and len(builds) == 1
    for vector in again:
        np.testing.assert_allclose(vector, serial, rtol=1e-6, atol=1e-7)


def test_the_cache_is_bounded_and_keeps_no_failed_build() -> None:
    cache = ModelCache(2)
    specs = [ModelSpec.of("tiny3d", frames, {}, random_init=True, weights_path=None, device="cpu") for frames in (1, 2, 3)]
    models = [cache.get(spec) for spec in specs]
    assert len(cache) == 2 and cache.get(specs[2]) is models[2]  # the oldest was dropped; the newest is reused
    assert cache.get(specs[0]) is not models[0]  # dropped, so built again
    missing = ModelSpec.of("tiny3d", 4, {}, random_init=False, weights_path=Path("/nonexistent/tiny.pth"), device="cpu")
    with pytest.raises(WeightsUnavailable, match="not a loadable weights file"):
        cache.get(missing)
    assert len(cache) == 2 and missing not in cache._slots
