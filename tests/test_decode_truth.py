"""Decoding tells the truth (issue 15): sanitised timestamps, stills refused, damaged and degenerate
clips counted and refused for a set, and window bombs refused, on files made here with PyAV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from embed.windows import MAX_WINDOWS
from ingest import DAMAGE_LIMIT, DamagedVideo, UnreadableVideo, decode_clip, probe
from ingest.demo_data import write_clip
from store import Store
from tests.media import (damage_bytes, indexed_frames, remux_ts, turning_bar, write_indexed_clip, write_png_as,
                         write_textured_clip, write_timed_clip)

TEN_HOURS = 10 * 3600 * 30  # in 1/30 s


def run(runner: CliRunner, store: Store, *args: object):
    return runner.invoke(main, ["--store", str(store.root), *map(str, args)])


def test_a_ten_hour_timestamp_jump_is_not_time(tmp_path: Path) -> None:
    clip = write_timed_clip(tmp_path / "jump.mp4", [i + (TEN_HOURS if i >= 30 else 0) for i in range(60)])
    info = probe(clip)
    assert info.num_frames == 60
    assert info.fps == pytest.approx(30.0, abs=0.01)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)  # frames x interval, not 36,002 s


def test_variable_frame_rate_keeps_its_true_duration(tmp_path: Path) -> None:
    stamps = list(range(0, 60)) + list(range(60, 60 + 3 * 30, 3))  # 2 s at 30 fps, then 3 s at 10 fps
    info = probe(write_timed_clip(tmp_path / "vfr.mp4", stamps))
    assert info.num_frames == 90
    assert info.duration_s == pytest.approx(5.0, abs=0.1)
    assert info.fps == pytest.approx(90 / 5.0, rel=0.03)  # the mean rate over the true duration


def test_missing_and_restarting_timestamps(tmp_path: Path) -> None:
    source = write_indexed_clip(tmp_path / "clean.mp4", count=60)  # 10 fps, 6 s
    missing = probe(remux_ts(source, tmp_path / "missing.ts", drop_pts_every=3))  # a third of the frames have no pts
    assert missing.num_frames == 60
    assert missing.duration_s == pytest.approx(6.0, rel=0.05) and missing.fps == pytest.approx(10.0, rel=0.05)
    once = remux_ts(source, tmp_path / "once.ts")
    twice = tmp_path / "twice.ts"
    twice.write_bytes(once.read_bytes() * 2)  # concatenated: the timestamps go back to the start half-way
    info = probe(twice)
    assert info.num_frames == 120
    assert info.duration_s == pytest.approx(12.0, rel=0.05) and info.fps == pytest.approx(10.0, rel=0.05)


def test_negative_timestamps_and_frames_without_one(tmp_path: Path) -> None:
    negative = write_timed_clip(tmp_path / "negative.ts", list(range(-30, 30)), fmt="mpegts",
                                options={"avoid_negative_ts": "disabled"})  # MPEG-TS has no edit list: all 60 show
    info = probe(negative)
    assert info.num_frames == 60 and info.duration_s == pytest.approx(2.0, abs=0.05)
    assert decode_clip(negative, 60, num_frames=60)[1].bad == 0
    kept = write_timed_clip(tmp_path / "unstamped.mkv", list(range(-6, 54)), fmt="matroska",
                            options={"avoid_negative_ts": "disabled"})  # Matroska drops the 6 negative ones
    info = probe(kept)
    assert info.num_frames == 60 and info.fps == pytest.approx(30.0, abs=0.1) and info.duration_s == pytest.approx(2.0, abs=0.05)


def test_frames_an_edit_list_hides_are_not_frames_of_the_clip(tmp_path: Path) -> None:
    clip = write_timed_clip(tmp_path / "edited.mp4", list(range(-6, 24)), options={"avoid_negative_ts": "disabled"})
    info = probe(clip)  # the muxer writes an edit list starting at 0: the 6 frames before it are never shown
    assert (info.num_frames, info.duration_s) == (24, pytest.approx(0.8, abs=0.01))
    frames, damage = decode_clip(clip, 24, num_frames=info.num_frames)
    assert damage.bad == 0 and [round(f.mean() / 4) for f in frames[:3]] == [6, 7, 8]  # grey 4 * i: frame 6 first


def test_truncated_files_say_so(tmp_path: Path) -> None:
    from tests.media import truncate

    clip = write_timed_clip(tmp_path / "whole.mkv", list(range(60)), fmt="matroska")
    with pytest.raises(UnreadableVideo, match=r"truncated: 0\.\d+ s of the 2\.00 s it declares present"):
        probe(truncate(clip, tmp_path / "half.mkv", keep=0.5))
    mp4 = write_textured_clip(tmp_path / "whole.mp4", count=30)  # its index is at the end: a cut loses it
    for keep in (0.3, 0.6, 0.9, 0.95, 0.99):
        with pytest.raises(UnreadableVideo, match="truncated"):
            probe(truncate(mp4, tmp_path / f"cut{keep}.mp4", keep=keep))


def test_a_picture_named_like_a_video_is_refused_at_ingest(runner: CliRunner, store: Store, tmp_path: Path) -> None:
    picture = write_png_as(tmp_path / "still.mp4")
    with pytest.raises(UnreadableVideo, match=r"an image \(PNG\), not a video"):
        probe(picture)
    root = tmp_path / "videos"
    (root / "screw").mkdir(parents=True)
    write_png_as(root / "screw" / "still.mp4")
    write_timed_clip(root / "screw" / "jump.mp4", [i + (TEN_HOURS if i >= 30 else 0) for i in range(60)])
    result = run(runner, store, "ingest", root)
    assert result.exit_code == 3, result.output
    assert "still.mp4" in result.stderr and "an image (PNG), not a video" in result.stderr
    assert "note: 1 clip(s) have odd timestamps" in result.stderr
    assert "jump.mp4: 1 timestamp jump(s) not counted as time; taken as 2.00 s at 30.00 fps" in result.stderr
    errors = json.loads(run(runner, store, "errors", "--format", "json").stdout)
    assert [(Path(e["path"]).name, e["stage"]) for e in errors] == [("still.mp4", "ingest")]
    rows = json.loads(run(runner, store, "sql", "SELECT fps, duration_s FROM videos", "--format", "json").stdout)
    assert rows == [{"fps": pytest.approx(30.0, abs=0.01), "duration_s": pytest.approx(2.0, abs=0.05)}]


def test_degenerate_clips_and_a_window_bomb_are_refused_for_the_set(runner: CliRunner, store: Store, tmp_path: Path) -> None:
    root = tmp_path / "videos" / "turn"
    root.mkdir(parents=True)
    write_clip(root / "ok.mp4", turning_bar(True, count=24))
    write_clip(root / "one.mp4", turning_bar(True, count=1))
    write_clip(root / "tiny.mp4", indexed_frames(12, 2, 2))
    write_timed_clip(root / "bomb.mp4", [i * 2 * 3600 * 30 for i in range(5)])  # 5 frames 2 h apart: 10 hours, no jump
    assert run(runner, store, "ingest", root.parent).exit_code == 0  # all play: each is refused by the set it cannot feed
    result = run(runner, store, "embed", "--backbone", "flow_motion", "--frames", "16")
    assert result.exit_code == 3, result.output
    assert "one.mp4: 1 frame; flow_motion needs at least 4" in result.stderr
    assert "tiny.mp4: 2x2 pixels; flow_motion needs at least 16x16" in result.stderr
    assert store.get_set("flow_motion_f16").num_vectors == 2  # ok and bomb (no windows asked)
    query = run(runner, store, "neighbors", root / "one.mp4", "--set", "flow_motion_f16")  # not stored: embedded now, refused
    assert query.exit_code == 1 and query.stderr.count("\n") == 1 and "1 frame; flow_motion needs at least 4" in query.stderr
    windowed = run(runner, store, "embed", "--backbone", "tiny3d", "--frames", "4", "--windows", "1:1", "--format", "json")
    assert windowed.exit_code == 3, windowed.output
    skipped = {Path(s["path"]).name: s["reason"] for s in json.loads(windowed.stdout)["skipped"]}
    assert sorted(skipped) == ["bomb.mp4", "one.mp4", "tiny.mp4"]
    assert skipped["bomb.mp4"].startswith(f"windows 1:1: 36000 windows") and f"the {MAX_WINDOWS}" in skipped["bomb.mp4"]
    assert skipped["one.mp4"].startswith("1 frame; tiny3d needs at least 2")
    rows = json.loads(run(runner, store, "sql", "SELECT view, count(*) AS n FROM emb_tiny3d_f4_w1s1_random GROUP BY view "
                                              "ORDER BY view", "--format", "json").stdout)
    assert rows == [{"view": "original", "n": 1}, {"view": "window", "n": 2}]  # ok.mp4: 24 frames at 10 fps
    errors = {(Path(e["path"]).name, e["stage"]) for e in json.loads(run(runner, store, "errors", "--format", "json").stdout)}
    assert errors == {("bomb.mp4", "embed tiny3d_f4_w1s1_random"), ("one.mp4", "embed tiny3d_f4_w1s1_random"),
                      ("tiny.mp4", "embed tiny3d_f4_w1s1_random"),  # each set's refusal is kept beside the other's
                      ("one.mp4", "embed flow_motion_f16"), ("tiny.mp4", "embed flow_motion_f16")}


@pytest.mark.parametrize("seek", [False, True])
def test_damaged_frames_are_counted_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seek: bool) -> None:
    import ingest.decode as decode

    monkeypatch.setattr(decode, "SEEK_MIN_FRAMES", 1 if seek else 10**9)
    clean = write_textured_clip(tmp_path / "clean.mp4", count=150)
    light = damage_bytes(clean, tmp_path / "light.mp4", places=4, length=200)
    heavy = damage_bytes(clean, tmp_path / "heavy.mp4", places=17, length=1500)
    assert probe(light).num_frames == probe(heavy).num_frames == 150  # the damage is in the middle: they probe fine
    frames, damage = decode_clip(clean, 8, num_frames=150)
    assert frames.shape == (8, 96, 128, 3) and damage.bad == 0
    with pytest.raises(DamagedVideo, match=r"frames read were damaged \(\d+ failed to decode.*more than the 10% a set accepts"):
        decode_clip(heavy, 8, num_frames=150)
    if not seek:  # straight through, every frame up to the last pick is read: a few damaged ones are counted
        frames, damage = decode_clip(light, 8, num_frames=150)
        assert 0 < damage.share <= DAMAGE_LIMIT and damage.read == 150 - 9 and frames.shape[0] == 8


def test_a_damaged_middle_is_refused_for_the_set_or_stored_with_a_note(runner: CliRunner, store: Store, tmp_path: Path) -> None:
    root = tmp_path / "videos" / "noise"
    root.mkdir(parents=True)
    clean = write_textured_clip(root / "clean.mp4")
    damage_bytes(clean, root / "light.mp4", places=4, length=200, seed=1)
    damage_bytes(clean, root / "heavy.mp4", places=17, length=1500, seed=2)
    assert run(runner, store, "ingest", root.parent).exit_code == 0
    result = run(runner, store, "embed", "--backbone", "flow_motion", "--frames", "16")
    assert result.exit_code == 3, result.output
    assert "skipped: " in result.stderr and "heavy.mp4: " in result.stderr and "more than the 10% a set accepts" in result.stderr
    assert "note: 1 clip(s) stored with damaged frames" in result.stderr and "light.mp4: " in result.stderr
    assert store.get_set("flow_motion_f16").num_vectors == 2
    errors = {Path(e["path"]).name: (e["stage"], e["reason"]) for e in json.loads(run(runner, store, "errors", "--format", "json").stdout)}
    assert errors["heavy.mp4"][0] == "embed flow_motion_f16" and "frames read were damaged" in errors["heavy.mp4"][1]
    assert errors["light.mp4"][0] == "note: embed flow_motion_f16" and "flagged corrupt" in errors["light.mp4"][1]
    assert "clean.mp4" not in errors
    rows = json.loads(run(runner, store, "sql", "SELECT v.path, n.view, n.window, n.note FROM embed_notes n JOIN videos v "
                                              "USING (video_id)", "--format", "json").stdout)
    assert [(Path(r["path"]).name, r["view"], r["window"]) for r in rows] == [("light.mp4", "original", 0)]
    again = run(runner, store, "embed", "--backbone", "flow_motion", "--frames", "16")
    assert again.exit_code == 3 and "note:" not in again.stderr  # the stored row is not embedded again; heavy is refused again
