"""The index layer against brute force, staleness, persistence, filters and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from store import Store, StoreError, counts_by_label, get_index, nearest, within
from store.index import build_index, factory_string, forget_open_indexes, index_paths, prepare, to_distance
from store.parquet_parts import embedding_table
from tests.test_store import ingest

DIM = 24


def clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, n // 50), DIM)).astype(np.float32)
    return centres[rng.integers(len(centres), size=n)] + rng.normal(scale=0.3, size=(n, DIM)).astype(np.float32)


def brute(data: np.ndarray, queries: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    if metric == "cosine":
        data, queries = prepare(data, metric), prepare(queries, metric)
        distances = 1.0 - queries @ data.T
    else:
        distances = np.sqrt(((queries[:, None, :] - data[None, :, :]) ** 2).sum(-1))
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(distances, order, axis=1), order


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize(("kind", "floor"), [("flat", 1.0), ("ivf", 0.9), ("hnsw", 0.9), ("IVF16,SQ8", 0.8)])
def test_every_index_kind_against_brute_force(kind: str, floor: float, metric: str) -> None:
    data = clustered(3000)
    queries = data[::75] + np.random.default_rng(1).normal(scale=0.3, size=(40, DIM)).astype(np.float32)
    index = build_index(data, metric, factory_string(kind, len(data)))
    raw, found = index.search(prepare(queries, metric), 10)
    exact_d, exact = brute(data, queries, 10, metric)
    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)])
    assert recall >= floor
    if floor == 1.0:
        np.testing.assert_allclose(to_distance(raw, metric), exact_d, rtol=1e-4, atol=1e-4)


def test_a_bad_factory_string_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="index 'IVFzz': not a FAISS index factory string"):
        build_index(clustered(100), "l2", "IVFzz")


def test_auto_kind_is_flat_for_small_sets_and_hnsw_for_large() -> None:
    assert factory_string("auto", 1000) == "Flat"
    assert factory_string("auto", 10_000_000) == "HNSW32"
    assert factory_string("ivf", 1_000_000) == "IVF4000,Flat"
    assert factory_string("OPQ16,IVF64,PQ16", 100) == "OPQ16,IVF64,PQ16"


def fill(store: Store, videos: Path, vectors: np.ndarray | None = None):
    """Ingest the demo videos and store one seeded vector per clip in a set; returns (set, ids, vectors)."""
    ingest(store, videos)
    ids = [v["video_id"] for v in store.videos()]
    eset = store.ensure_set(backbone="bb", weights="random-init", frames=4, sampling="uniform", input_size=32, options={}, dim=DIM)
    vectors = clustered(len(ids), seed=3) if vectors is None else vectors
    n = len(ids)
    store.commit_embeddings(eset.set_id, embedding_table(ids, ["original"] * n, [0] * n, [0.0] * n, [1.0] * n, vectors))
    return eset, ids, vectors


def test_nearest_matches_brute_force_through_the_store(store: Store, videos: Path) -> None:
    eset, ids, vectors = fill(store, videos)
    queries = clustered(5, seed=9)
    hits = nearest(store, eset.set_id, queries, 4)
    _, exact = brute(vectors, queries, 4, "l2")
    assert [[h.video_id for h in row] for row in hits] == [[ids[i] for i in row] for row in exact]
    labels = {v["video_id"]: v["label"] for v in store.videos()}
    assert all(h.label == labels[h.video_id] for row in hits for h in row)


def test_staleness_is_impossible(store: Store, videos: Path, demo_root: Path) -> None:
    eset, ids, vectors = fill(store, videos)
    messages: list[str] = []
    first = nearest(store, eset.set_id, vectors[:1], 20, notify=messages.append)
    assert len(first[0]) == 20 and get_index(store, eset.set_id).size == 20
    # delete a clip: the next query never returns it
    gone = first[0][1].video_id
    Path(first[0][1].path).unlink()  # the user deletes the file, then prunes the catalog
    assert store.missing_under(videos) == [gone]
    store.remove_videos(store.missing_under(videos))
    after_delete = nearest(store, eset.set_id, vectors[:1], 19, notify=messages.append)
    assert gone not in {h.video_id for h in after_delete[0]} and len(after_delete[0]) == 19
    assert any("changed since it was built" in m for m in messages)
    # add a clip: the next query finds it
    (videos / "screw" / "new.mp4").write_bytes((demo_root / "new" / "screw.mp4").read_bytes())
    ingest(store, videos)
    new_id = store.find_video(videos / "screw" / "new.mp4")["video_id"]
    target = np.full((1, DIM), 50.0, np.float32)
    store.commit_embeddings(eset.set_id, embedding_table([new_id], ["original"], [0], [0.0], [1.0], target))
    assert nearest(store, eset.set_id, target, 1)[0][0].video_id == new_id
    assert get_index(store, eset.set_id).size == 20


def test_saved_index_is_reused_and_a_corrupt_one_rebuilt(store: Store, videos: Path) -> None:
    eset, _, vectors = fill(store, videos)
    messages: list[str] = []
    expected = nearest(store, eset.set_id, vectors[:3], 5)
    paths = index_paths(store, eset.set_id, "l2", ("original",), "auto")
    assert all(p.exists() for p in paths.values())
    stamp = paths["index"].stat().st_mtime_ns
    assert nearest(store, eset.set_id, vectors[:3], 5, notify=messages.append) == expected
    assert paths["index"].stat().st_mtime_ns == stamp and messages == []  # loaded, not rebuilt
    forget_open_indexes()  # as a new process: read from disk
    assert nearest(store, eset.set_id, vectors[:3], 5, notify=messages.append) == expected
    assert paths["index"].stat().st_mtime_ns == stamp and messages == []
    paths["index"].write_bytes(b"garbage")
    forget_open_indexes()
    assert nearest(store, eset.set_id, vectors[:3], 5, notify=messages.append) == expected
    assert any("changed since it was built" in m and "rebuilding" in m for m in messages)
    paths["rows"].unlink()
    forget_open_indexes()
    assert nearest(store, eset.set_id, vectors[:3], 5) == expected


@pytest.mark.parametrize("swap", ["altered vectors", "another dimension"])
def test_an_altered_or_swapped_index_file_is_rebuilt_not_used(store: Store, videos: Path, swap: str) -> None:
    import faiss

    eset, _, vectors = fill(store, videos)
    expected = nearest(store, eset.set_id, vectors[:3], 5)
    paths = index_paths(store, eset.set_id, "l2", ("original",), "auto")
    dim = DIM if swap == "altered vectors" else DIM + 3
    faiss.write_index(build_index(clustered(len(vectors), seed=9)[:, :DIM].repeat(2, axis=1)[:, :dim], "l2", "Flat"),
                      str(paths["index"]))  # same row count, other vectors
    forget_open_indexes()
    messages: list[str] = []
    assert nearest(store, eset.set_id, vectors[:3], 5, notify=messages.append) == expected
    assert any("changed since it was built (checksum); rebuilding" in m for m in messages)
    forget_open_indexes()
    again: list[str] = []
    assert nearest(store, eset.set_id, vectors[:3], 5, notify=again.append) == expected and again == []  # whole again


def test_filters_by_label_and_own_video(store: Store, videos: Path) -> None:
    eset, ids, vectors = fill(store, videos)
    hits = nearest(store, eset.set_id, vectors[:1], 3, labels=["unscrew", "screw"])
    assert {h.label for h in hits[0]} <= {"unscrew", "screw"} and len(hits[0]) == 3
    own = nearest(store, eset.set_id, vectors[:2], 3)
    assert own[0][0].video_id == ids[0] and own[0][0].distance == pytest.approx(0, abs=1e-5)
    others = nearest(store, eset.set_id, vectors[:2], 3, exclude_videos=[ids[0], ids[1]])
    assert ids[0] not in {h.video_id for h in others[0]} and ids[1] not in {h.video_id for h in others[1]}
    assert [h.video_id for h in others[0]] == [h.video_id for h in own[0][1:]] + [others[0][2].video_id]


def test_within_matches_brute_force_and_counts_by_label(store: Store, videos: Path) -> None:
    eset, ids, vectors = fill(store, videos)
    for metric in ("l2", "cosine"):
        distances, _ = brute(vectors, vectors[:1], len(ids), metric)
        radius = float(np.median(distances))
        hits = within(store, eset.set_id, vectors[0], radius, metric=metric)
        assert len(hits) == int((distances[0] <= radius + 1e-6).sum())
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)
        assert sum(counts_by_label(hits).values()) == len(hits)
    assert within(store, eset.set_id, vectors[0], 0.0)[0].video_id == ids[0]


def test_bad_search_input(store: Store, videos: Path) -> None:
    eset, ids, vectors = fill(store, videos)
    with pytest.raises(StoreError, match="dimension 5 does not match the set's dimension 24"):
        nearest(store, eset.set_id, np.zeros((1, 5)), 3)
    with pytest.raises(StoreError, match="k 21: larger than the set, which holds 20"):
        nearest(store, eset.set_id, vectors[:1], 21)
    with pytest.raises(StoreError, match="radius -1.0: must be zero or positive"):
        within(store, eset.set_id, vectors[0], -1.0)
    with pytest.raises(StoreError, match="metric 'manhattan'"):
        nearest(store, eset.set_id, vectors[:1], 3, metric="manhattan")
    with pytest.raises(StoreError, match="no stored vectors with that label"):
        nearest(store, eset.set_id, vectors[:1], 3, labels=["nope"])
    empty = store.ensure_set(backbone="bb", weights="random-init", frames=8, sampling="uniform", input_size=32, options={}, dim=DIM)
    with pytest.raises(StoreError, match="has no vectors"):
        nearest(store, empty.set_id, vectors[:1], 3)


def test_gpu_index_returns_the_same_neighbours() -> None:
    import faiss

    if faiss.get_num_gpus() == 0:
        pytest.skip("no GPU visible to FAISS (faiss-gpu and a GPU are needed; CI has none)")
    from store.index import to_gpu

    data, queries = clustered(3000), clustered(20, seed=1)
    cpu = build_index(data, "l2", "Flat")
    _, on_cpu = cpu.search(prepare(queries, "l2"), 10)
    _, on_gpu = to_gpu(cpu).search(prepare(queries, "l2"), 10)
    assert (on_cpu == on_gpu).mean() > 0.99


def test_an_index_that_cannot_be_trained_and_a_malformed_record(store: Store, videos: Path) -> None:
    with pytest.raises(StoreError, match="index 'IVF4096,Flat': cannot be built on 50 vectors"):
        build_index(clustered(50), "l2", "IVF4096,Flat")
    eset, _, vectors = fill(store, videos)
    expected = nearest(store, eset.set_id, vectors[:2], 3)
    paths = index_paths(store, eset.set_id, "l2", ("original",), "auto")
    paths["record"].write_text("[1]")
    forget_open_indexes()
    messages: list[str] = []
    assert nearest(store, eset.set_id, vectors[:2], 3, notify=messages.append) == expected
    assert any("rebuilding" in m for m in messages)
