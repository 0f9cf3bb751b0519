"""`preprocess transcode` and `preprocess crop` (issue 7): pixels land where they should, rotation is
applied, reruns skip, broken clips leave nothing behind, and every bad input says what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from ingest.decode import decode_frames
from ingest.demo_data import write_clip
from ingest.errors import IngestError
from ingest.prepare import crop, crop_box, motion_centre, transcode
from ingest.probe import probe
from tests.media import truncate
from tests.test_cli import assert_one_line_error


def run(runner: CliRunner, tmp_path: Path, *args: object):
    return runner.invoke(main, ["--store", str(tmp_path / "store"), "preprocess", *map(str, args)])


@pytest.fixture
def two_clips(demo_root: Path, tmp_path: Path) -> Path:
    """SRC with one landscape 128x128 .mp4 and one rotated portrait (112x144 upright) .MOV."""
    src = tmp_path / "src" / "screw"
    src.mkdir(parents=True)
    for name in ("IMG_5001.mp4", "IMG_5002.MOV"):
        shutil.copy(demo_root / "videos" / "screw" / name, src / name)
    return src.parent


def marker_frames(width: int, height: int, centre: tuple[int, int], count: int = 12, half: int = 6) -> np.ndarray:
    """Dark frames with a bright square of side ``2 * half`` centred on ``centre`` (x, y)."""
    frames = np.full((count, height, width, 3), 20, np.uint8)
    x, y = centre
    frames[:, y - half:y + half, x - half:x + half] = 235
    return frames


def bright_centroid(frame: np.ndarray) -> tuple[float, float]:
    """Centroid (x, y) of the bright pixels, in pixel-centre coordinates."""
    ys, xs = np.nonzero(frame.mean(axis=2) > 128)
    return float(xs.mean()) + 0.5, float(ys.mean()) + 0.5


def leftovers(folder: Path) -> list[Path]:
    """Hidden or temporary files left anywhere under ``folder``."""
    return [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


def test_crop_box() -> None:
    assert crop_box(1080, 1920, offset_y=-250) == (0, 170, 1080)
    assert crop_box(1280, 720) == (280, 0, 720)
    assert crop_box(720, 1280, offset_y=280) == (0, 560, 720)
    assert crop_box(100, 200, centre=(50, 10)) == (0, 0, 100)  # pushed back inside the frame
    assert crop_box(100, 200, centre=(50, 190)) == (0, 100, 100)
    assert crop_box(300, 100, centre=(120.4, 50)) == (70, 0, 100)
    with pytest.raises(IngestError, match=r"offset -900 moves the 720-px square outside the 1280-px-high frame; use an offset between -280 and 280"):
        crop_box(720, 1280, offset_y=-900)
    with pytest.raises(IngestError, match="use an offset of 0"):
        crop_box(1280, 720, offset_y=-250)


def test_motion_centre_ignores_noise_and_still_things() -> None:
    rng = np.random.default_rng(0)
    frames = np.full((10, 90, 120), 60.0) + rng.normal(0, 3, (10, 90, 120))
    frames[:, 10:30, 10:30] = 250  # bright but still
    for t in range(10):
        frames[t, 60:70, 95 + t % 2 * 4:105 + t % 2 * 4] = 200  # jitters around x 101, y 65
    x, y = motion_centre(np.clip(frames, 0, 255).astype(np.uint8))
    assert abs(x - 101) < 1.5 and abs(y - 65) < 1.5
    assert motion_centre(np.clip(frames[:1].repeat(5, axis=0), 0, 255).astype(np.uint8)) is None


def test_fixed_offset_moves_the_marker_in_upright_and_rotated_clips(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "mark").mkdir(parents=True)
    frames = marker_frames(96, 192, centre=(48, 40))  # portrait, marker near the top
    write_clip(src / "mark" / "upright.mp4", frames)
    write_clip(src / "mark" / "phone.MOV", frames, rotation=90)
    report = crop(src, dst, size=48, offset_y=-40, progress=False)
    assert (report.written, report.skipped, report.failed) == (2, 0, [])
    # square 96 px from y = 48 - 40 = 8: the marker sits at (48, 32) in it, at (24, 16) after halving
    for name in ("upright.mp4", "phone.mp4"):
        out = dst / "mark" / name
        info = probe(out)
        assert (info.width, info.height, info.rotation, info.num_frames, info.fps) == (48, 48, 0, 12, 10.0)
        x, y = bright_centroid(decode_frames(out, 1, num_frames=12)[0])
        assert abs(x - 24) <= 1.5 and abs(y - 16) <= 1.5, (name, x, y)


def test_auto_centre_follows_the_motion(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "move").mkdir(parents=True)
    rng = np.random.default_rng(1)
    frames = np.clip(30 + rng.normal(0, 3, (20, 96, 192, 3)), 0, 255).astype(np.uint8)  # landscape, noisy
    frames[:, 30:60, 10:40] = 230  # a bright thing that does not move
    for t in range(20):  # a blob circling about (130, 60): the only motion
        x, y = 130 + round(8 * np.cos(t * 0.6)), 60 + round(8 * np.sin(t * 0.6))
        frames[t, y - 5:y + 5, x - 5:x + 5] = 220
    write_clip(src / "move" / "clip.mp4", frames)
    write_clip(src / "move" / "phone.MOV", frames, rotation=-90)
    report = crop(src, dst, size=48, center="auto", progress=False)
    assert report.written == 2 and not report.failed
    for name in ("clip.mp4", "phone.mp4"):
        out = decode_frames(dst / "move" / name, 20, num_frames=20)
        assert out.shape == (20, 48, 48, 3)
        centroids = np.array([bright_centroid(frame) for frame in out])
        assert np.abs(centroids.mean(axis=0) - [24, 30]).max() <= 2, name  # centred on the motion (x0 = 82)
        assert out[:, :, :4].mean() < 60  # the still bright square (x 10..40) is left out


def test_transcode_applies_rotation_and_keeps_frames_and_rate(videos: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out"
    report = transcode(videos, dst, progress=False)
    assert (report.written, report.skipped, report.failed) == (20, 0, [])
    rotated = [p for p in sorted(videos.rglob("*.MOV")) if probe(p).rotation != 0]
    assert rotated
    for source in rotated[:2]:
        out = dst / source.parent.name / f"{source.stem}.mp4"
        before, after = probe(source), probe(out)
        assert after.rotation == 0 and after.codec == "h264"
        assert (after.width, after.height, after.num_frames, after.fps) == (before.width, before.height, before.num_frames, before.fps)
        upright = decode_frames(source, before.num_frames, num_frames=before.num_frames).astype(np.int16)
        written = decode_frames(out, before.num_frames, num_frames=before.num_frames).astype(np.int16)
        assert np.abs(upright - written).mean() < 3
    assert (dst / "screw" / "IMG_5001.mp4").exists() and not leftovers(dst)


def test_transcode_gif_takes_its_rate_from_timestamps(seed_clips: list[Path], tmp_path: Path) -> None:
    src = tmp_path / "src" / "screw"
    src.mkdir(parents=True)
    shutil.copy(seed_clips[0], src / seed_clips[0].name)
    assert transcode(src.parent, tmp_path / "dst", progress=False).written == 1
    before, after = probe(seed_clips[0]), probe(tmp_path / "dst" / "screw" / f"{seed_clips[0].stem}.mp4")
    assert (after.codec, after.fps, after.num_frames, after.width, after.height) == ("h264", before.fps, before.num_frames, before.width, before.height)
    assert abs(after.duration_s - before.duration_s) < 0.05


def test_second_run_writes_nothing(runner: CliRunner, two_clips: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dst"
    first = run(runner, tmp_path, "transcode", two_clips, dst)
    assert first.exit_code == 0, first.output
    assert f"transcoded 2 clips into {dst} (0 already there)" in first.stderr
    stamps = {p: p.stat().st_mtime_ns for p in dst.rglob("*.mp4")}
    second = run(runner, tmp_path, "transcode", two_clips, dst)
    assert second.exit_code == 0 and f"transcoded 0 clips into {dst} (2 already there)" in second.stderr
    assert {p: p.stat().st_mtime_ns for p in dst.rglob("*.mp4")} == stamps
    assert transcode(two_clips, dst, progress=False).skipped == 2


def test_broken_clips_are_listed_and_leave_no_file(runner: CliRunner, two_clips: Path, tmp_path: Path) -> None:
    good = two_clips / "screw" / "IMG_5001.mp4"
    truncate(good, two_clips / "screw" / "cut.mp4", keep=0.6)
    data = bytearray(good.read_bytes())  # damage the middle of the picture data: it probes, then fails part-way
    rng = np.random.default_rng(0)
    data[len(data) // 3:len(data) // 2] = rng.integers(0, 256, len(data) // 2 - len(data) // 3, dtype=np.uint8).tobytes()
    damaged = two_clips / "screw" / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    assert probe(damaged).num_frames == 40
    dst = tmp_path / "dst"
    for command in ("transcode", "crop"):
        result = run(runner, tmp_path, command, two_clips, dst / command, *(["--size", "64"] if command == "crop" else []))
        assert result.exit_code == 3, result.output
        assert f"skipped: {two_clips / 'screw' / 'cut.mp4'}: " in result.stderr
        assert f"skipped: {damaged}: cannot decode frame " in result.stderr
        assert "2 clip(s) that could not be" in result.stderr
        assert sorted(p.name for p in (dst / command).rglob("*.mp4")) == ["IMG_5001.mp4", "IMG_5002.mp4"]
        assert not leftovers(dst / command)


def test_bad_arguments_fail_up_front(runner: CliRunner, two_clips: Path, tmp_path: Path) -> None:
    dst = tmp_path / "dst"
    assert_one_line_error(run(runner, tmp_path, "crop", two_clips, dst, "--size", "0"), "size 0")
    assert_one_line_error(run(runner, tmp_path, "crop", two_clips, dst, "--size", "63"), "size 63", "even")
    assert_one_line_error(run(runner, tmp_path, "crop", two_clips, dst, "--center", "auto", "--offset-y", "-250"), "offset -250")
    for inside in (two_clips, two_clips / "cropped"):
        assert_one_line_error(run(runner, tmp_path, "transcode", two_clips, inside), "DST is inside SRC", "choose a folder outside it")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_one_line_error(run(runner, tmp_path, "transcode", two_clips, blocker), str(blocker), "is a file, not a folder")
    assert_one_line_error(run(runner, tmp_path, "transcode", two_clips, blocker / "out"), str(blocker / "out"), "cannot write there")
    assert_one_line_error(run(runner, tmp_path, "transcode", tmp_path / "missing", dst), "no such directory")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run(runner, tmp_path, "crop", tmp_path / "empty", dst), "no video files found")
    assert not dst.exists()
    with pytest.raises(IngestError, match="workers 0"):
        transcode(two_clips, dst, workers=0)
    assert_one_line_error(run(runner, tmp_path, "crop", two_clips, dst, "--preview", blocker / "sheet.png"), "is a file", "preview")
    assert_one_line_error(run(runner, tmp_path, "crop", two_clips, dst, "--preview", tmp_path), "is a folder", "crop-preview.png")


def test_size_and_offset_that_do_not_fit_fail_per_clip(runner: CliRunner, two_clips: Path, tmp_path: Path) -> None:
    portrait, landscape = two_clips / "screw" / "IMG_5002.MOV", two_clips / "screw" / "IMG_5001.mp4"
    too_big = run(runner, tmp_path, "crop", two_clips, tmp_path / "big", "--size", "120")
    assert too_big.exit_code == 3
    assert f"skipped: {portrait}: size 120 is larger than the clip's short side (112 px, 112x144); use a size of at most 112" in too_big.stderr
    assert (tmp_path / "big" / "screw" / "IMG_5001.mp4").exists()
    shifted = run(runner, tmp_path, "crop", two_clips, tmp_path / "shifted", "--size", "64", "--offset-y", "-20")
    assert shifted.exit_code == 3
    assert (f"skipped: {portrait}: offset -20 moves the 112-px square outside the 144-px-high frame; "
            "use an offset between -16 and 16") in shifted.stderr
    assert f"skipped: {landscape}: offset -20 moves the 128-px square outside the 128-px-high frame; use an offset of 0" in shifted.stderr
    assert not list((tmp_path / "shifted").rglob("*.mp4"))


def test_crop_writes_a_preview_contact_sheet(runner: CliRunner, two_clips: Path, tmp_path: Path) -> None:
    import matplotlib.image

    dst = tmp_path / "dst"
    result = run(runner, tmp_path, "crop", two_clips, dst, "--size", "64", "--center", "auto")
    assert result.exit_code == 0, result.output
    sheet = dst / "crop-preview.png"
    assert f"preview: {sheet}" in result.stderr and "cropped (64x64, centred on the motion) 2 clips" in result.stderr
    image = matplotlib.image.imread(sheet)
    assert image.ndim == 3 and image.shape[0] >= 150 and image.shape[1] >= 400 and image[..., :3].std() > 0.05
    again = run(runner, tmp_path, "crop", two_clips, dst, "--size", "64", "--center", "auto")
    assert "no preview: no clip was cropped in this run" in again.stderr
