"""A corpus of bad (and awkward but good) inputs for ``actionstore ingest``, generated, never committed.

``make_corpus(root)`` writes ``root/videos/<label>/...`` (one file, link or folder per kind), a small
``root/labelled/`` dataset and one labels CSV per defect under ``root/labels/``, and returns one
``Case`` per kind with the outcome a careful user expects:

- ``catalogued``: a row in ``videos`` whose columns match ``facts`` (``fps`` as a ``(low, high)`` range),
  then embedded; with ``keywords``, ingest notes one of them (odd timestamps);
- ``error``: a row in ``ingest_errors`` whose one-line reason holds one of ``keywords``;
- ``ignored``: listed by ingest as ignored (for a folder or link, what it holds is); ``hidden``: skipped
  without a word (dot-names);
- ``refused``: catalogued, then refused by ``embed`` with one of ``keywords`` and a number (the minimum, the share);
- ``noted``: catalogued and embedded, with a note in ``embed_notes`` holding one of ``keywords``;
- ``labels_ok`` / ``labels_error``: ``ingest --labels`` of that CSV over ``root/labelled`` succeeds with
  ``facts`` as ``{label: (name_en, name_it)}``, or fails with one line holding one of ``keywords``.

Run as a script to write a corpus and print the table: ``python tests/bad_corpus.py OUT_DIR``.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.demo_data import write_clip  # noqa: E402

FRAMES = 20  # frames of a good clip: more than the 16 the corpus test embeds with
SIZE = (64, 48)  # width, height
FPS = 10
TEN_HOURS = 36_000 * FPS  # in frame ticks (time base 1/FPS)
NAME_MAX = 255
FASTSTART = {"movflags": "faststart"}  # the MP4 index (moov) before the data


@dataclass(frozen=True)
class Case:
    """One kind of input, the file(s) it wrote and what should become of it."""

    kind: str
    files: tuple[Path, ...]
    outcome: str  # catalogued | noted | refused | error | ignored | hidden | labels_ok | labels_error
    keywords: tuple[str, ...] = ()  # one of them (lower case) appears in the reason
    facts: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # what the kind is, for the table


# ---------------------------------------------------------------------------------------------- media

def moving_frames(count: int = FRAMES, size: tuple[int, int] = SIZE, seed: int = 0) -> np.ndarray:
    """Textured frames with a bright bar moving right: real motion, and packets of real size."""
    width, height = size
    rng = np.random.default_rng(seed)
    texture = rng.integers(40, 120, (height, width * 2, 3), dtype=np.uint8)
    frames = np.empty((count, height, width, 3), np.uint8)
    for i in range(count):
        frames[i] = texture[:, i % width: i % width + width]
        frames[i, :, (3 * i) % width] = 240
    return frames


def encode(path: Path, *, count: int = FRAMES, size: tuple[int, int] = SIZE, codec: str = "libx264",
           fmt: str | None = None, pix_fmt: str = "yuv420p", pts: list[int] | None = None, time_base: Fraction = Fraction(1, FPS),
           container_options: dict[str, str] | None = None, audio: bool = False) -> None:
    """Encode ``moving_frames`` with PyAV; ``pts`` (in ``time_base`` ticks) overrides the frame times.
    The texture is seeded by the file's folder and name, so no two clips of the corpus have the same bytes."""
    frames = moving_frames(count, size, seed=_seed(path))
    with av.open(str(path), "w", format=fmt, options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], pix_fmt
        stream.codec_context.time_base = time_base
        if codec == "libx265":
            stream.options = {"x265-params": "log-level=error"}
        sound = container.add_stream("aac", rate=8000) if audio else None
        for i, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts, frame.time_base = (pts[i] if pts else i), time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
        if sound is not None:
            _mux_silence(container, sound, seconds=count / FPS)


def _seed(path: Path) -> int:
    return zlib.crc32(os.fsencode(Path(path.parent.name, path.name)))


def _mux_silence(container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float) -> None:
    samples = np.zeros((1, 1024), np.float32)
    for i in range(int(seconds * stream.rate / 1024) + 1):
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate, frame.pts = stream.rate, i * 1024
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def audio_only(path: Path, *, codec: str = "aac", fmt: str | None = None) -> None:
    """One second of silence and no video stream."""
    with av.open(str(path), "w", format=fmt) as container:
        _mux_silence(container, container.add_stream(codec, rate=48000 if codec == "libopus" else 8000), 1.0)


def image(path: Path, fmt: str) -> None:
    """A still picture (PNG or JPEG) under whatever name ``path`` has."""
    from PIL import Image

    Image.fromarray(moving_frames(1, seed=_seed(path))[0]).save(path, format=fmt)


def cut(keep: float, **options: Any) -> Callable[[Path], None]:
    """A writer: the clip ``encode(**options)`` writes, cut after ``keep`` of its bytes."""
    def write(path: Path) -> None:
        encode(path, **options)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
    return write


def corrupt(first: int, end: int) -> Callable[[Path], None]:
    """A writer: a 40-frame MPEG-4 clip whose packets ``first`` to ``end - 1`` are overwritten in place with random
    bytes (the first frame stays intact, so it probes)."""
    def write(path: Path) -> None:
        encode(path, count=40, codec="mpeg4", fmt="mp4")
        with av.open(str(path)) as container:
            spans = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size and p.pos is not None]
        data = bytearray(path.read_bytes())
        rng = np.random.default_rng(first)
        for pos, size in spans[first:end]:
            data[pos: pos + size] = rng.bytes(size)
        path.write_bytes(bytes(data))
    return write


def huge_declared_mp4(path: Path) -> None:
    """An MP4 whose track and sample headers claim 65535x65535 (the coded picture is 64x48)."""
    encode(path)
    data = bytearray(path.read_bytes())
    tkhd = data.find(b"tkhd")
    end = tkhd - 4 + struct.unpack(">I", data[tkhd - 4: tkhd])[0]
    data[end - 8: end] = struct.pack(">II", 65535 << 16, 65535 << 16)
    avc1 = data.find(b"avc1")
    data[avc1 + 28: avc1 + 32] = struct.pack(">HH", 65535, 65535)
    path.write_bytes(bytes(data))


def huge_declared_mjpeg(path: Path) -> None:
    """An MJPEG AVI whose every JPEG frame header (SOF0) claims 65535x65535: decoding must not try to allocate it."""
    encode(path, codec="mjpeg", pix_fmt="yuvj420p", fmt="avi")
    data = bytearray(path.read_bytes())
    at = data.find(b"\xff\xc0")
    while at >= 0:
        data[at + 5: at + 9] = struct.pack(">HH", 65535, 65535)
        at = data.find(b"\xff\xc0", at + 2)
    path.write_bytes(bytes(data))


def ts_concat(path: Path, offset: int) -> None:
    """Two MPEG-TS recordings joined byte for byte; the second starts ``offset`` ticks after the first's start
    (0: its timestamps go back to the start, as when segments are concatenated)."""
    first, second = path.with_name(".a.ts"), path.with_name(".b.ts")
    encode(first, fmt="mpegts")
    encode(second, fmt="mpegts", pts=[offset + i for i in range(FRAMES)])
    path.write_bytes(first.read_bytes() + second.read_bytes())
    first.unlink()
    second.unlink()


def no_frames(path: Path) -> None:
    """A Matroska file with a video stream's header and not one frame."""
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        container.start_encoding()


def put_bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def random_bytes(seed: int) -> Callable[[Path], None]:
    return put_bytes(np.random.default_rng(seed).bytes(4096))


def copy_of(relative: str) -> Callable[[Path], None]:
    """A byte-for-byte copy of another case's file (written earlier)."""
    return lambda path: shutil.copyfile(path.parents[2] / relative, path)


def link_to(target: str) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(target)


def outside_clip(path: Path) -> None:
    """A link to a good clip kept outside the dataset folder."""
    target = path.parents[2] / "outside" / "target.mp4"
    target.parent.mkdir(exist_ok=True)
    encode(target)
    path.symlink_to(target)


def unix_socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays


def rotated(rotation: int) -> Callable[[Path], None]:
    """A portrait clip stored sideways with a rotation tag, as phones write them."""
    return lambda path: write_clip(path, moving_frames(FRAMES, (SIZE[1], SIZE[0]), _seed(path)), rotation=rotation, fps=FPS)


def with_options(**options: Any) -> Callable[[Path], None]:
    return lambda path: encode(path, **options)


# ------------------------------------------------------------------------------------------ the kinds

GOOD = {"width": SIZE[0], "height": SIZE[1], "num_frames": FRAMES, "fps": (FPS - 0.5, FPS + 0.5)}
PORTRAIT = GOOD | {"width": SIZE[1], "height": SIZE[0]}
SANE_FPS = {"fps": (FPS - 1, FPS + 1)}
NOT_READABLE = ("not a readable", "cannot decode", "truncated", "no frame")
TRUNCATED = ("truncated",)
NO_VIDEO = ("no video stream",)
LONG_NAME = "x" * (NAME_MAX - len(".mp4")) + ".mp4"

Spec = tuple[str, str, Callable[[Path], None], str, tuple[str, ...], dict[str, Any], str]
# (kind, path under videos/, writer, outcome, keywords, facts, note)

def truncations(where: str, options: dict[str, str] | None, keeps: tuple[float, ...]) -> list[Spec]:
    """30-frame MP4s with the index at the ``where`` (end or front), cut after each share of their bytes."""
    return [(f"truncated_{where}_{round(k * 100):02d}", f"truncated/{where}_{round(k * 100):02d}.mp4",
             cut(k, count=30, container_options=options), "error", NOT_READABLE, {}, f"index at the {where}, cut at {k:.0%}")
            for k in keeps]


VIDEO_SPECS: list[Spec] = [
    ("mp4_h264", "good/plain.mp4", with_options(), "catalogued", (), GOOD | {"label": "good"}, "H.264 in MP4"),
    ("mov_upper_ext", "good/IMG_0001.MOV", with_options(fmt="mov"), "catalogued", (), GOOD, "QuickTime, upper-case extension"),
    ("ext_mixed_case", "good/mixed.Mp4", with_options(), "catalogued", (), GOOD, "extension .Mp4"),
    ("mp4_faststart", "good/faststart.mp4", with_options(container_options=FASTSTART), "catalogued", (), GOOD,
     "index (moov) at the front"),
    ("mp4_with_audio", "good/with_audio.mp4", with_options(audio=True), "catalogued", (), GOOD, "video and AAC audio"),
    ("mkv_h264", "formats/clip.mkv", with_options(fmt="matroska"), "catalogued", (), GOOD, "H.264 in Matroska"),
    ("webm_vp9", "formats/vp9.webm", with_options(codec="libvpx-vp9", fmt="webm"), "catalogued", (), GOOD, "VP9 in WebM"),
    ("webm_vp8", "formats/vp8.webm", with_options(codec="libvpx", fmt="webm"), "catalogued", (), GOOD, "VP8 in WebM"),
    ("avi_mpeg4", "formats/clip.avi", with_options(codec="mpeg4", fmt="avi"), "catalogued", (), GOOD, "MPEG-4 part 2 in AVI"),
    ("avi_mjpeg", "formats/mjpeg.avi", with_options(codec="mjpeg", pix_fmt="yuvj420p", fmt="avi"), "catalogued", (), GOOD,
     "Motion JPEG in AVI"),
    ("mp4_hevc", "formats/hevc.mp4", with_options(codec="libx265"), "catalogued", (), GOOD, "HEVC in MP4"),
    ("ts_h264", "formats/clip.ts", with_options(fmt="mpegts"), "catalogued", (), GOOD, "H.264 in MPEG-TS"),
    ("mpg_mpeg2", "formats/clip.mpg", with_options(codec="mpeg2video", fmt="mpeg"), "catalogued", (),
     {"width": SIZE[0], "height": SIZE[1]} | SANE_FPS, "MPEG-2 program stream"),
    ("m4v_mpeg4", "formats/clip.m4v", with_options(codec="mpeg4", fmt="mp4"), "catalogued", (), GOOD, "MPEG-4 in .m4v"),
    ("flv", "formats/clip.flv", with_options(codec="flv", fmt="flv"), "catalogued", (), GOOD | SANE_FPS, "Sorenson H.263 in FLV"),
    ("wmv", "formats/clip.wmv", with_options(codec="wmv2", fmt="asf"), "catalogued", (), GOOD | SANE_FPS, "WMV2 in ASF"),
    ("gif", "formats/clip.gif", with_options(codec="gif", pix_fmt="rgb8", fmt="gif"), "catalogued", (), GOOD, "animated GIF"),
    ("hevc_10bit", "formats/hevc10.mp4", with_options(codec="libx265", pix_fmt="yuv420p10le"), "catalogued", (), GOOD,
     "10-bit HEVC, as HDR phones record"),
    ("h264_10bit", "formats/h264_10.mp4", with_options(pix_fmt="yuv420p10le"), "catalogued", (), GOOD, "10-bit H.264"),
    ("mkv_named_mp4", "formats/matroska.mp4", with_options(fmt="matroska"), "catalogued", (), GOOD, "Matroska under .mp4"),
    ("odd_size", "sizes/odd.avi", with_options(size=(65, 49), codec="mjpeg", pix_fmt="yuvj444p", fmt="avi"), "catalogued", (),
     GOOD | {"width": 65, "height": 49}, "65x49 pixels"),
    ("rotation_90", "rotation/r90.mp4", rotated(90), "catalogued", (), PORTRAIT | {"rotation": 90}, "portrait, tagged 90"),
    ("rotation_180", "rotation/r180.mp4", rotated(180), "catalogued", (), PORTRAIT | {"rotation": 180}, "tagged 180"),
    ("rotation_270", "rotation/r270.mp4", rotated(270), "catalogued", (), PORTRAIT | {"rotation": 270}, "portrait, tagged 270"),
    ("huge_declared_mp4", "sizes/huge_header.mp4", huge_declared_mp4, "catalogued", (), GOOD,
     "headers claim 65535x65535; the picture is 64x48"),
    ("huge_declared_mjpeg", "sizes/huge_frames.avi", huge_declared_mjpeg, "error", NOT_READABLE, {},
     "every JPEG frame claims 65535x65535"),
    ("vfr", "timing/vfr.mkv", with_options(fmt="matroska", time_base=Fraction(1, 1000),
                                            pts=[100 * i if i < 10 else 1000 + 50 * (i - 10) for i in range(FRAMES)]),
     "catalogued", (), {"num_frames": FRAMES, "fps": (FPS - 0.5, 2 * FPS + 0.5)}, "variable rate: 10 then 20 fps"),
    ("negative_ts_mp4", "timing/negative.mp4", with_options(pts=[i - 6 for i in range(FRAMES)],
                                                            container_options={"avoid_negative_ts": "disabled"}),
     "catalogued", (), GOOD | {"num_frames": FRAMES - 6}, "timestamps from -0.6 s; its edit list hides those 6 frames"),
    ("negative_ts_mpegts", "timing/negative.ts", with_options(fmt="mpegts", pts=[i - 6 for i in range(FRAMES)],
                                                              container_options={"avoid_negative_ts": "disabled"}),
     "catalogued", (), GOOD, "timestamps start at -0.6 s"),
    ("missing_ts_raw_h264", "timing/raw_h264.mp4", with_options(fmt="h264"), "catalogued", (), {"num_frames": FRAMES, "width": SIZE[0]},
     "raw H.264 (no container, no timestamps) named .mp4"),
    ("missing_ts_mkv", "timing/missing_pts.mkv", with_options(fmt="matroska", pts=[i - 6 for i in range(FRAMES)],
                                                              container_options={"avoid_negative_ts": "disabled"}),
     "catalogued", ("without a timestamp",), {"num_frames": FRAMES} | SANE_FPS, "six frames lose their timestamps"),
    ("non_monotonic_ts", "timing/concat_reset.ts", lambda p: ts_concat(p, 0), "catalogued", ("repeated timestamp",),
     {"num_frames": 2 * FRAMES} | SANE_FPS, "two recordings joined: time goes back to 0"),
    ("ten_hour_jump_mp4", "timing/jump.mp4", with_options(pts=[i if i < 6 else i + TEN_HOURS for i in range(FRAMES)]),
     "catalogued", ("jump",), {"num_frames": FRAMES} | SANE_FPS, "one timestamp jump of ten hours"),
    ("ten_hour_jump_mpegts", "timing/jump.ts", lambda p: ts_concat(p, TEN_HOURS), "catalogued", ("jump",),
     {"num_frames": 2 * FRAMES} | SANE_FPS, "second recording ten hours later"),
    ("long_name", f"names/{LONG_NAME}", with_options(), "catalogued", (), GOOD, f"a {NAME_MAX}-byte name (NAME_MAX)"),
    ("unicode_name", "names/perché ü 日本.mp4", with_options(), "catalogued", (), GOOD, "accents, CJK, spaces"),
    ("colon_name", "names/step:1.mp4", with_options(), "catalogued", (), GOOD, "looks like a protocol"),
    ("quote_name", "names/it's \"a\" clip.mp4", with_options(), "catalogued", (), GOOD, "quotes in the name"),
    ("dash_name", "names/-rf.mp4", with_options(), "catalogued", (), GOOD, "starts with a dash"),
    ("nested_folder", "names/sub/dir/deep.mp4", with_options(), "catalogued", (), GOOD | {"label": "names"},
     "two folders below its label"),
    ("unicode_label", "überprüfen ✓/clip.mp4", with_options(), "catalogued", (), GOOD | {"label": "überprüfen ✓"},
     "a label folder with accents and a symbol"),
    ("sql_label", "x'); DROP TABLE videos; --/clip.mp4", with_options(), "catalogued", (),
     GOOD | {"label": "x'); DROP TABLE videos; --"}, "a label folder that reads as SQL"),
    ("link_outside", "names/link.mp4", outside_clip, "catalogued", (), GOOD,
     "a link to a clip outside the folder"),
    ("truncated_ts_half", "truncated/half.ts", cut(0.5, fmt="mpegts"), "catalogued", (),
     {"width": SIZE[0], "height": SIZE[1]}, "MPEG-TS cut in half: a playable prefix"),
    *truncations("end", None, (0.02, 0.1, 0.3, 0.5, 0.7, 0.9)),
    *truncations("front", FASTSTART, (0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99)),
    ("truncated_mkv_half", "truncated/half.mkv", cut(0.5, fmt="matroska", count=30), "error", TRUNCATED, {},
     "Matroska cut in half"),
    ("corrupt_middle", "corrupt/middle.mp4", corrupt(12, 28), "refused", ("damaged", "decode", "corrupt"), {"num_frames": 40},
     "frames 12-27 of 40 overwritten"),
    ("corrupt_one_frame", "corrupt/one_frame.mp4", corrupt(20, 21), "noted", ("damaged", "decode", "corrupt"),
     {"num_frames": 40}, "frame 20 of 40 overwritten: below the share a set accepts"),
    ("one_frame", "degenerate/one_frame.mp4", with_options(count=1), "refused", ("frame",), {"num_frames": 1}, "a single frame"),
    ("tiny_2x2", "degenerate/tiny_2x2.mp4", with_options(size=(2, 2)), "refused", ("small", "pixel", "size"),
     {"width": 2, "height": 2}, "2x2 pixels"),
    ("png_as_mp4", "images/photo.mp4", lambda p: image(p, "PNG"), "error", ("image", "picture", "still"), {}, "a PNG renamed .mp4"),
    ("jpeg_as_mov", "images/photo.mov", lambda p: image(p, "JPEG"), "error", ("image", "picture", "still"), {}, "a JPEG renamed .mov"),
    ("zero_byte_mp4", "broken/empty.mp4", put_bytes(b""), "error", ("empty", "0 bytes"), {}, "zero bytes"),
    ("zero_byte_mkv", "broken/empty.mkv", put_bytes(b""), "error", ("empty", "0 bytes"), {}, "zero bytes"),
    *[(f"random_bytes_{ext}", f"broken/random.{ext}", random_bytes(seed), "error", NOT_READABLE, {}, f"4 KiB of noise as .{ext}")
      for seed, ext in enumerate(("mp4", "mov", "mkv", "avi", "webm", "ts", "mpg", "flv", "wmv", "3gp", "gif", "m4v"))],
    ("html_as_mp4", "broken/download.mp4", put_bytes(b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n"), "error",
     NOT_READABLE, {}, "an error page saved as a clip"),
    ("text_as_mp4", "broken/notes.mp4", put_bytes(b"hello\n"), "error", NOT_READABLE, {}, "a text file named .mp4"),
    ("ftyp_only_mp4", "broken/ftyp_only.mp4", cut(0.01), "error", NOT_READABLE, {},
     "only the first bytes of an MP4"),
    ("no_frames_mkv", "broken/no_frames.mkv", no_frames, "error", NOT_READABLE, {}, "a video stream with no frame"),
    ("audio_only_mp4", "audio/sound.mp4", audio_only, "error", NO_VIDEO, {}, "AAC audio, no video"),
    ("audio_only_mkv", "audio/sound.mkv", lambda p: audio_only(p, codec="flac", fmt="matroska"), "error", NO_VIDEO, {},
     "FLAC audio, no video"),
    ("audio_only_webm", "audio/sound.webm", lambda p: audio_only(p, codec="libopus", fmt="webm"), "error", NO_VIDEO, {},
     "Opus audio, no video"),
    ("duplicate_bytes", "special/copy.mp4", copy_of("videos/good/plain.mp4"), "error", ("same bytes",), {},
     "a copy of good/plain.mp4"),
    ("non_utf8_name", "special/clip\udcff.mp4", with_options(), "error", ("utf-8",), {}, "a name byte 0xff"),
    ("non_utf8_label", "lab\udce9l/clip.mp4", with_options(), "error", ("utf-8",), {},
     "a label folder in Latin-1"),
    ("fifo", "special/pipe.mp4", os.mkfifo, "error", ("named pipe", "fifo"), {}, "a named pipe"),
    ("unix_socket", "special/socket.mp4", unix_socket, "error", ("socket",), {}, "a UNIX socket"),
    ("symlink_loop", "special/loop.mp4", link_to("loop.mp4"), "error", ("loop",), {}, "a link to itself"),
    ("dangling_link", "special/dangling.mp4", link_to("gone.mp4"), "error", ("link to nothing",), {}, "a link to nothing"),
    ("dir_link_loop", "special/up", link_to(".."), "hidden", (), {}, "a folder link to its parent (not followed)"),
    ("dir_named_like_clip", "special/folder.mp4", os.mkdir, "ignored", (), {}, "an empty folder named .mp4"),
    ("text_file", "special/notes.txt", put_bytes(b"notes\n"), "ignored", (), {}, "not a video extension"),
    ("thumbs_db", "special/Thumbs.db", put_bytes(b"\0" * 64), "ignored", (), {}, "Windows thumbnail cache"),
    ("no_extension", "special/clip", with_options(fmt="mp4"), "ignored", (), {}, "a clip with no extension"),
    ("unknown_extension", "special/clip.mp5", with_options(fmt="mp4"), "ignored", (), {}, "extension .mp5"),
    ("label_folder_link", "alias", link_to("good"), "ignored", (), {},
     "a label folder linking to another: its clips are catalogued once, under the real folder"),
    ("top_level_fifo", "pipe.mp4", os.mkfifo, "ignored", (), {}, "a named pipe beside the label folders (never opened)"),
    ("top_level_dangling", "gone", link_to("nowhere"), "ignored", (), {}, "a broken link beside the label folders"),
    ("top_level_clip", "top.mp4", with_options(), "ignored", (), {}, "not inside a label folder"),
    ("appledouble", "good/._IMG_0001.MOV", put_bytes(b"\0\x05\x16\x07" + b"\0" * 60), "hidden", (), {},
     "macOS resource fork (dot-name)"),
    ("hidden_folder", "good/.thumbnails/thumb.mp4", with_options(), "hidden", (), {}, "inside a dot-folder"),
]

HEADER = "CLASS,LABEL,PATH_VIDEO,ENG_CLASS\r\n"
ROWS = "avvitare,7,screw/a.mp4,screw\r\nsvitare,3,unscrew/b.mp4,unscrew\r\n"
NAMES = {"screw": ("screw", "avvitare"), "unscrew": ("unscrew", "svitare")}
FORMULA = '=HYPERLINK("http://x.example/","click")'

LabelSpec = tuple[str, bytes | None, str, tuple[str, ...], dict[str, Any], str]
# (kind, the CSV's bytes (None: no file), outcome, keywords, facts, note)

LABEL_SPECS: list[LabelSpec] = [
    ("labels_valid", (HEADER + ROWS).encode(), "labels_ok", (), NAMES, "the original project's shape"),
    ("labels_bom", (HEADER + ROWS).encode("utf-8-sig"), "labels_ok", (), NAMES, "UTF-8 with a byte-order mark"),
    ("labels_cp1252", (HEADER + ROWS.replace("avvitare", "perché")).encode("cp1252"), "labels_ok", (),
     NAMES | {"screw": ("screw", "perché")}, "saved by a spreadsheet as Windows-1252"),
    ("labels_backslash", (HEADER + ROWS.replace("screw/a", "screw\\a")).encode(), "labels_ok", (), NAMES, "PATH_VIDEO with \\"),
    ("labels_formula", (HEADER + ROWS.replace(",screw\r", f',"{FORMULA.replace(chr(34), chr(34) * 2)}"\r')).encode(),
     "labels_ok", (), NAMES | {"screw": (FORMULA, "avvitare")}, "a formula-looking name (kept as text)"),
    ("labels_same_row_twice", (HEADER + ROWS + ROWS).encode(), "labels_ok", (), NAMES, "identical rows repeated"),
    ("labels_missing_file", None, "labels_error", ("no such",), {}, "the CSV does not exist"),
    ("labels_empty", b"", "labels_error", ("empty",), {}, "zero bytes"),
    ("labels_header_only", HEADER.encode(), "labels_error", ("no rows",), {}, "a header and no rows"),
    ("labels_wrong_header", ("path,label\r\n" + ROWS).encode(), "labels_error", ("missing column",), {}, "other column names"),
    ("labels_semicolons", (HEADER + ROWS).replace(",", ";").encode(), "labels_error", ("semicolon", "';'"), {},
     "separated by ';' (a European spreadsheet)"),
    ("labels_utf16", (HEADER + ROWS).encode("utf-16"), "labels_error", ("utf-16",), {}, "saved as UTF-16"),
    ("labels_undecodable", (HEADER + ROWS).encode().replace(b"svitare", b"svit\x81re"), "labels_error", ("utf-8",), {},
     "a byte that is neither UTF-8 nor Windows-1252"),
    ("labels_conflicting_rows", (HEADER + ROWS + "girare,7,screw/c.mp4,turn\r\n").encode(), "labels_error",
     ("line 2",), {}, "one label given two names"),
    ("labels_dotdot_path", (HEADER + ROWS + "x,1,../../etc/passwd,x\r\n").encode(), "labels_error", ("leaves the dataset",), {},
     "PATH_VIDEO with ../.."),
    ("labels_absolute_path", (HEADER + ROWS + "x,1,/etc/passwd,x\r\n").encode(), "labels_error", ("leaves the dataset",), {},
     "an absolute PATH_VIDEO"),
    ("labels_no_folder", (HEADER + ROWS + "x,1,clip.mp4,x\r\n").encode(), "labels_error", ("no label folder",), {},
     "PATH_VIDEO without a label folder"),
    ("labels_short_row", (HEADER + ROWS + "x,1\r\n").encode(), "labels_error", ("fewer than",), {}, "a row of two fields"),
    ("labels_bad_index", (HEADER + ROWS.replace(",7,", ",seven,")).encode(), "labels_error", ("not a class number",), {},
     "LABEL is not a number"),
    ("labels_nul_byte", (HEADER + ROWS).encode().replace(b"svitare", b"svi\0are"), "labels_error", ("nul", "not a valid csv"), {},
     "a NUL byte in a cell"),
    ("labels_huge_field", (HEADER + ROWS + f"{'x' * 200_000},1,screw/d.mp4,x\r\n").encode(), "labels_error",
     ("not a valid csv", "field"), {}, "a 200,000-character cell"),
    ("labels_directory", None, "labels_error", ("a folder", "not a file"), {}, "a folder named .csv"),
]


def make_corpus(root: str | Path) -> list[Case]:
    """Write every kind under ``root`` (which must not exist or be empty) and return the cases, in order."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cases = []
    for kind, relative, writer, outcome, keywords, facts, note in VIDEO_SPECS:
        path = root / "videos" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        writer(path)
        cases.append(Case(kind, (path,), outcome, keywords, facts, note))
    for label, name in (("screw", "a.mp4"), ("unscrew", "b.mp4")):
        (root / "labelled" / label).mkdir(parents=True, exist_ok=True)
        encode(root / "labelled" / label / name)
    (root / "labels").mkdir(exist_ok=True)
    for kind, data, outcome, keywords, facts, note in LABEL_SPECS:
        path = root / "labels" / f"{kind}.csv"
        if kind == "labels_directory":
            path.mkdir()
        elif data is not None:
            path.write_bytes(data)
        cases.append(Case(kind, (path,), outcome, keywords, facts, note))
    return cases


def table(cases: list[Case], observed: dict[str, str] | None = None) -> str:
    """The kinds as a markdown table: kind, what it is, the expected outcome (and what was observed)."""
    head = ["kind", "input", "expected"] + (["observed"] if observed is not None else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in cases:
        expected = case.outcome + (f" ({' / '.join(case.keywords)})" if case.keywords else "")
        cells = [case.kind, case.note.replace("|", "\\|"), expected] + ([observed.get(case.kind, "")] if observed is not None else [])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/bad_corpus.py OUT_DIR  (writes the corpus there and prints its kinds)")
    written = make_corpus(sys.argv[1])
    print(table(written))
    print(f"\n{len(written)} kinds in {sys.argv[1]}: try `actionstore ingest {sys.argv[1]}/videos`, and "
          f"`actionstore ingest {sys.argv[1]}/labelled --labels {sys.argv[1]}/labels/<kind>.csv`", file=sys.stderr)
