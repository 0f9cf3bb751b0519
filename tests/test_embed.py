"""Embedding into a real store: tiny random-init model, the real EfficientNet-Lite0 weights, Once, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

import embed.local_engine
import embed.model_cache
from embed import BadFrameCount, EmbedError, UnknownBackbone, WeightsUnavailable, embed_clip, embed_store, get_backbone, neighbors
from ingest import decode_frames, probe, scan_folder
from store import Store, manifest


def ingest(store: Store, folder: Path) -> None:
    result = scan_folder(folder, progress=False)
    store.record_ingest(result.videos, result.errors)


def test_embed_fills_the_store_and_a_second_run_runs_no_model(store: Store, videos: Path, monkeypatch) -> None:
    ingest(store, videos)
    report = embed_store(store, backbone="tiny3d", frames=4, batch_size=8, progress=False)
    assert (report.embedded, report.forwards, report.files_written) == (20, 20, 3)
    assert report.set.weights == "random-init" and report.set.dim == 32 and report.set.num_vectors == 20
    rows, matrix = store.load_vectors(report.set.set_id)
    assert matrix.shape == (20, 32) and np.isfinite(matrix).all()
    assert len({tuple(v) for v in matrix.round(6)}) == 20  # different clips, different vectors

    def no_model(*args, **kwargs):
        raise AssertionError("the model was built on a second run over unchanged data")

    monkeypatch.setattr(embed.model_cache.ModelSpec, "build", no_model)
    again = embed_store(store, backbone="tiny3d", frames=4, progress=False)
    assert (again.forwards, again.embedded, again.already) == (0, 0, 20)
    assert len(list((store.embeddings_dir / report.set.set_id).glob("*.parquet"))) == 3


def test_every_stored_vector_is_its_own_clips_across_overlapped_forwards_and_commits(store: Store, videos: Path) -> None:
    ingest(store, videos)  # 20 clips: forwards of 8, 8, 4, each read one forward late, each committed in the writer thread
    report = embed_store(store, backbone="tiny3d", frames=4, batch_size=3, progress=False)
    assert (report.embedded, report.files_written) == (20, 7)  # parts of --batch-size rows, not of the forward batch
    assert sorted(pq.read_metadata(p).num_rows for p in store.set_files(report.set.set_id)) == [2] + [3] * 6
    for video in store.videos():
        np.testing.assert_allclose(store.stored_vector(report.set.set_id, video["video_id"]),
                                   embed_clip(video["path"], report.set), atol=1e-5)


def test_a_non_finite_vector_is_recorded_as_failed_not_stored(store: Store, videos: Path, monkeypatch) -> None:
    ingest(store, videos)
    collect = embed.local_engine.collect

    def first_row_overflows(launched):
        vectors = collect(launched).copy()
        vectors[0, 3] = np.inf
        return vectors

    monkeypatch.setattr(embed.local_engine, "collect", first_row_overflows)
    report = embed_store(store, backbone="tiny3d", frames=4, progress=False)
    assert report.embedded == 20 - 3 and len(report.failed) == 3  # forwards of 8, 8, 4: one bad row each
    assert all("non-finite values" in reason and "--precision bf16 or fp32" in reason for _, reason in report.failed)
    assert np.isfinite(store.load_vectors(report.set.set_id)[1]).all()
    assert {e["path"] for e in store.errors()} == {path for path, _ in report.failed}


def test_a_failed_commit_stops_the_run_and_keeps_whole_batches(store: Store, videos: Path, monkeypatch) -> None:
    ingest(store, videos)
    record, calls = manifest.record_file, []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return record(*args, **kwargs)

    monkeypatch.setattr(manifest, "record_file", second_fails)
    with pytest.raises(OSError, match="disk full"):
        embed_store(store, backbone="tiny3d", frames=4, batch_size=8, progress=False)
    monkeypatch.undo()
    eset = store.get_set("tiny3d")
    assert eset.num_vectors == 8  # the first batch, whole; nothing of the failed one is visible
    again = embed_store(store, backbone="tiny3d", frames=4, progress=False)
    assert (again.already, again.embedded, again.set.num_vectors) == (8, 12, 20)


def test_embed_only_new_clips_after_more_are_ingested(store: Store, videos: Path, demo_root: Path) -> None:
    ingest(store, videos)
    embed_store(store, backbone="tiny3d", frames=4, progress=False)
    (videos / "screw" / "new.mp4").write_bytes((demo_root / "new" / "screw.mp4").read_bytes())
    ingest(store, videos)
    report = embed_store(store, backbone="tiny3d", frames=4, progress=False)
    assert (report.forwards, report.already, report.set.num_vectors) == (1, 20, 21)


def test_random_init_is_reproducible_so_queries_match_stored_vectors(store: Store, videos: Path) -> None:
    ingest(store, videos)
    report = embed_store(store, backbone="tiny3d", frames=4, progress=False)
    clip = next((videos / "unscrew").glob("*.mp4"))
    stored = store.stored_vector(report.set.set_id, store.find_video(clip)["video_id"])
    np.testing.assert_allclose(embed_clip(clip, report.set), stored, atol=1e-5)
    found = neighbors(store, clip, k=3)
    assert not found.embedded_now  # a stored clip is looked up, not re-embedded
    assert found.hits[0].path == str(clip.resolve()) and found.hits[0].distance == pytest.approx(0.0, abs=1e-5)
    assert found.set.set_id == report.set.set_id


def test_a_clip_that_vanished_after_ingest_is_recorded_and_the_rest_embed(store: Store, videos: Path) -> None:
    ingest(store, videos)
    gone = next((videos / "screw").glob("*.mp4"))
    gone.unlink()
    report = embed_store(store, backbone="tiny3d", frames=4, progress=False)
    assert report.embedded == 19
    assert [(Path(p).name, "no such file" in r) for p, r in report.failed] == [(gone.name, True)]
    assert [(e["stage"], Path(e["path"]).name) for e in store.errors()] == [(f"embed {report.set.name}", gone.name)]


def test_real_efficientnet_lite0_weights_on_real_seed_clips(store: Store, seed_clips: list[Path], tmp_path: Path) -> None:
    """The pretrained ImageNet backbone on real footage: each seed GIF's nearest stored clip is itself."""
    folder = tmp_path / "seed"
    for clip in seed_clips:
        (folder / clip.stem).mkdir(parents=True)
        (folder / clip.stem / clip.name).write_bytes(clip.read_bytes())
    ingest(store, folder)
    report = embed_store(store, backbone="effnet_lite0_frames", frames=4, progress=False)
    assert report.set.weights == "pretrained:efficientnet-lite0-57934424"
    assert report.set.dim == 1280 * 4 and report.embedded == len(seed_clips)
    _, matrix = store.load_vectors(report.set.set_id)
    assert matrix.min() >= 0  # pooled activations of a trained net (ReLU6/swish features) ...
    assert matrix.std() > 0.05  # ... that differ between clips
    fresh = embed_clip(seed_clips[3], report.set)  # the model run again on the original file
    found = neighbors(store, seed_clips[3], k=2, set_ref="effnet_lite0_frames")  # same bytes as a stored clip: its stored vector
    assert found.query_video_id is not None and not found.embedded_now
    assert found.hits[0].label == seed_clips[3].stem and found.hits[0].distance == pytest.approx(0.0, abs=1e-4)
    assert found.hits[1].distance > 1.0
    np.testing.assert_allclose(fresh, store.stored_vector(report.set.set_id, found.query_video_id), atol=1e-3)


def test_untrained_and_pretrained_effnet_differ(videos: Path) -> None:
    from embed.model_cache import load_model
    from embed.forward import embed_frames
    from ingest import decode_frames

    spec = get_backbone("effnet_lite0_frames")
    clip = next((videos / "screw").glob("*.mp4"))
    frames = decode_frames(clip, 4, num_frames=40, short_side=224)
    trained = embed_frames(load_model(spec.name, 4, {"segments": 4}, random_init=False, weights_path=None), spec, frames)
    untrained = embed_frames(load_model(spec.name, 4, {"segments": 4}, random_init=True, weights_path=None), spec, frames)
    assert trained.shape == untrained.shape == (5120,)
    assert not np.allclose(trained, untrained, atol=1e-2)


def test_bad_backbone_frames_and_weights(store: Store, videos: Path, tmp_path: Path) -> None:
    ingest(store, videos)
    with pytest.raises(UnknownBackbone, match="choose one of .*effnet_lite0_frames"):
        embed_store(store, backbone="resnet9000", progress=False)
    with pytest.raises(BadFrameCount, match="frames 0"):
        embed_store(store, backbone="tiny3d", frames=0, progress=False)
    with pytest.raises(BadFrameCount, match="frames 2: effnet_lite0_frames needs"):
        embed_store(store, backbone="effnet_lite0_frames", frames=2, progress=False)
    with pytest.raises(BadFrameCount, match="frames 8: flow_motion needs .*; try --frames 32"):
        embed_store(store, frames=8, progress=False)  # the default backbone
    with pytest.raises(WeightsUnavailable, match="no such file"):
        embed_store(store, backbone="tiny3d", weights_path=tmp_path / "missing.pth", progress=False)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsUnavailable, match="not a loadable weights file"):
        embed_store(store, backbone="tiny3d", weights_path=junk, progress=False)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(WeightsUnavailable, match="not a loadable weights file"):
        embed_store(store, backbone="tiny3d", weights_path=empty, progress=False)
    with pytest.raises(EmbedError, match="device 'toaster': not a torch device"):
        embed_store(store, backbone="tiny3d", device="toaster", progress=False)
    if not torch.cuda.is_available():
        with pytest.raises(EmbedError, match="no CUDA GPU"):
            embed_store(store, backbone="tiny3d", device="cuda", progress=False)
    assert store.sets() == []  # a failed run registers no set, so later commands still find the right one


def test_a_file_changed_after_ingest_is_not_embedded_under_its_old_id(store: Store, videos: Path) -> None:
    ingest(store, videos)
    target = next((videos / "screw").glob("*.mp4"))
    target.write_bytes(next((videos / "unscrew").glob("*.mp4")).read_bytes())
    report = embed_store(store, backbone="tiny3d", frames=4, progress=False)
    assert report.embedded == 19
    assert [(Path(p).name, "changed since it was ingested" in r) for p, r in report.failed] == [(target.name, True)]


def test_embed_on_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(EmbedError, match="no store here yet"):
        embed_store(Store(tmp_path / "nowhere"), backbone="tiny3d", progress=False)
    assert not (tmp_path / "nowhere").exists()


def test_weights_file_provenance_and_strict_loading(store: Store, videos: Path, tmp_path: Path) -> None:
    import torch

    from embed.model_cache import load_model

    ingest(store, videos)
    model = load_model("tiny3d", 4, {}, random_init=True, weights_path=None)
    good = tmp_path / "tiny.pth"
    torch.save({k: v * 2 for k, v in model.state_dict().items()}, good)
    report = embed_store(store, backbone="tiny3d", frames=4, weights_path=good, progress=False)
    assert report.set.weights.startswith("file:") and report.embedded == 20
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(WeightsUnavailable, match="does not fit this backbone"):
        embed_store(store, backbone="tiny3d", frames=4, weights_path=wrong, progress=False)


def test_batched_forward_equals_one_clip_at_a_time_and_auto_device(videos: Path) -> None:
    from embed.model_cache import load_model, resolve_device
    from embed.forward import embed_batch, embed_frames

    spec = get_backbone("tiny3d")
    clips = sorted(videos.rglob("*.mp4"))[:3]
    frames = [decode_frames(p, 8, num_frames=probe(p).num_frames, short_side=spec.input_size) for p in clips]
    model = load_model("tiny3d", 8, {}, random_init=True, weights_path=None, device="auto")
    together = embed_batch(model, spec, frames, resolve_device("auto"))
    one_by_one = np.stack([embed_frames(model, spec, f, resolve_device("auto")) for f in frames])
    assert together.shape == (3, 32)
    np.testing.assert_allclose(together, one_by_one, rtol=1e-5, atol=1e-6)
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


def test_reduced_precision_is_a_set_of_its_own_and_queries_use_it(store: Store, videos: Path, runner) -> None:
    from cli import main

    ingest(store, videos)
    plain = embed_store(store, backbone="tiny3d", frames=4, random_init=True, progress=False)
    result = runner.invoke(main, ["--store", str(store.root), "embed", "--backbone", "tiny3d", "--frames", "4",
                                  "--random-init", "--precision", "bf16", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    half = store.get_set("tiny3d_f4_bf16_random")
    assert half.set_id != plain.set.set_id and half.options == {"precision": "bf16"}
    assert plain.set.options == {}  # float32 sets keep the ids they always had
    _, low = store.load_vectors(half.set_id)
    _, full = store.load_vectors(plain.set.set_id)
    assert not np.array_equal(low, full)  # bfloat16 really ran
    np.testing.assert_allclose(low, full, atol=0.02 * np.abs(full).max())
    clip = next((videos / "screw").glob("*.mp4"))
    stored = store.stored_vector(half.set_id, store.find_video(clip)["video_id"])
    np.testing.assert_allclose(embed_clip(clip, half), stored, atol=1e-6)  # a query is embedded as the set was
    refused = runner.invoke(main, ["--store", str(store.root), "embed", "--backbone", "flow_motion", "--precision", "fp16"])
    assert refused.exit_code != 0
    assert "--precision fp16: flow_motion is not a torch model and computes in float32; use --precision fp32" in refused.output


def test_sliding_windows_are_stored_beside_the_clip_vector(store: Store, videos: Path, runner) -> None:
    from cli import main
    from embed.windows import clip_windows

    assert [tuple(w)[:3] for w in clip_windows(4.0, 40, "1.5:1")] == [(1, 0.0, 1.5), (2, 1.0, 2.5), (3, 2.0, 3.5)]
    assert [(w.first, w.end) for w in clip_windows(4.0, 40, "1.5:1")] == [(0, 15), (10, 25), (20, 35)]
    assert [tuple(w)[:3] for w in clip_windows(2.0, 20, "3:1")] == [(1, 0.0, 2.0)]  # shorter than a window: one
    ingest(store, videos)
    plain = embed_store(store, backbone="tiny3d", frames=4, random_init=True, progress=False)
    result = runner.invoke(main, ["--store", str(store.root), "embed", "--backbone", "tiny3d", "--frames", "4",
                                  "--random-init", "--windows", "2:1"])
    assert result.exit_code == 0, result.output
    windowed = store.get_set("tiny3d_f4_w2s1_random")
    assert windowed.set_id != plain.set.set_id
    rows, matrix = store.load_vectors(windowed.set_id, views=None)
    by_view = {}
    for video_id, view, window, t0, t1 in zip(*(rows.column(c).to_pylist() for c in ("video_id", "view", "window", "t_start", "t_end"))):
        by_view.setdefault(view, []).append((video_id, window, t0, t1))
    assert len(by_view["original"]) == 20 and {w for _, w, _, _ in by_view["original"]} == {0}
    assert len(by_view["window"]) == 20 * 3 and {(w, t0, t1) for _, w, t0, t1 in by_view["window"]} == {(1, 0.0, 2.0), (2, 1.0, 3.0), (3, 2.0, 4.0)}
    _, plain_matrix = store.load_vectors(plain.set.set_id)
    np.testing.assert_allclose(store.load_vectors(windowed.set_id)[1], plain_matrix, atol=1e-6)  # same clip vectors
    assert len({tuple(v) for v in matrix.round(5)}) > 20  # windows see different frames
    again = embed_store(store, backbone="tiny3d", frames=4, random_init=True, windows="2:1", progress=False)
    assert again.forwards == 0 and again.already == 20
    with pytest.raises(EmbedError, match="windows '2x1': use LEN:STRIDE in seconds"):
        embed_store(store, backbone="tiny3d", frames=4, random_init=True, windows="2x1", progress=False)
