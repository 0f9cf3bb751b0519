"""Probe a video with PyAV and hash its bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ingest.errors import UnreadableVideo

if TYPE_CHECKING:  # PyAV is imported by the functions that open files: `--help` and `sql` start without it
    import av

HASH_CHUNK = 1 << 20
TRUNCATED_SHARE = 0.9  # a Matroska file whose packets span less than this share of its declared duration is cut short
JUMP_FACTOR = 50  # a gap between consecutive frames of over this many median intervals is a timestamp jump, not time


@dataclass(frozen=True)
class VideoInfo:
    """Facts about one video file. ``width``/``height`` are of the upright picture (rotation applied)."""

    path: str
    duration_s: float
    fps: float
    num_frames: int
    width: int
    height: int
    rotation: int
    codec: str
    size_bytes: int
    timing: str = ""  # what was made of odd timestamps (jumps, repeats, frames without one), when there were any


def content_hash(path: str | Path) -> str:
    """The video's id: the first 16 hex digits of the SHA-256 of its bytes (a moved file keeps it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def open_video(path: str | Path) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    """Open a file and return it with its first video stream, or raise UnreadableVideo saying why."""
    import av

    path = Path(path)
    if not path.exists():
        raise UnreadableVideo(path, "no such file; check the path")
    if path.stat().st_size == 0:
        raise UnreadableVideo(path, "empty file (0 bytes); re-copy or re-export the clip")
    if path.is_dir():
        raise UnreadableVideo(path, "is a directory, not a video file")
    try:
        container = av.open(str(path.resolve()))  # absolute: a name like "step:1.mp4" is not a protocol
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise UnreadableVideo(path, f"not a readable video ({_short(exc)}): truncated, damaged or not a video; "
                              "re-copy it or re-export it as MP4/MOV") from exc
    if not container.streams.video:
        audio = bool(container.streams.audio)
        container.close()
        raise UnreadableVideo(path, "no video stream (audio only); remove it from the dataset" if audio else
                              "no video stream found: the file is truncated (an MP4 cut before its index, say) or not a "
                              "video; re-copy or re-export it")
    return container, container.streams.video[0]


def probe(path: str | Path) -> VideoInfo:
    """Read duration, frame rate, frame count, size, rotation and codec; decode one frame to prove it plays.

    Frame count, rate and duration come from the packets' timestamps (``frame_timing``), so files
    without a declared rate or duration (GIF) are measured too, and a timestamp jump does not stretch
    a clip to hours. Raises UnreadableVideo for truncated or undecodable files, and for a still
    image under a video's name.
    """
    import av

    path = Path(path)
    container, stream = open_video(path)
    try:
        if _is_image(container.format.name):
            raise UnreadableVideo(path, f"an image ({stream.codec_context.name.upper()}), not a video; "
                                  "remove it from the dataset (a still picture has no motion to embed)")
        first = next(container.decode(stream), None)
        if first is None:
            raise UnreadableVideo(path, "no frame could be decoded; the file may be truncated or empty")
        rotation = int(first.rotation or 0) % 360  # as a phone's tag says it: 0, 90, 180 or 270
    except av.FFmpegError as exc:
        raise UnreadableVideo(path, f"cannot decode its first frame ({_short(exc)}); the file is damaged or truncated; "
                              "re-copy or re-export it") from exc
    finally:
        container.close()
    container, stream = open_video(path)  # reopened rather than seeking: raw streams cannot seek
    try:
        packets = _count_packets(path, container, stream)
        # read while the container is open: a stream's fields are freed with it (read after, they are
        # garbage, and a crash when threads probe at once)
        declared, rate, codec = stream.frames, stream.average_rate or stream.guessed_rate, stream.codec_context.name
        time_base = stream.time_base
        declared_s = container.duration / 1e6 if container.duration and "matroska" in container.format.name else None
    finally:
        container.close()
    num_frames, stamps = packets.count, packets.stamps
    if num_frames == 0:
        raise UnreadableVideo(path, "no video packets; the file may be truncated")
    if declared and packets.total < declared:
        raise UnreadableVideo(path, f"truncated: {packets.total} of {declared} frames present; re-copy the file")
    if packets.cut:
        raise UnreadableVideo(path, f"truncated: the file ends inside its last frame ({num_frames} of them); re-copy the file")
    duration, fps, timing = frame_timing(stamps, time_base, num_frames, float(rate or 0))
    if declared_s and stamps and time_base and fps:  # Matroska declares its duration (an MP4 its frames, above)
        span = float((max(stamps) - min(stamps)) * time_base) + 1 / fps
        if span + 2 / fps < TRUNCATED_SHARE * declared_s:
            raise UnreadableVideo(path, f"truncated: {span:.2f} s of the {declared_s:.2f} s it declares present; re-copy the file")
    width, height = first.width, first.height
    if rotation % 180:
        width, height = height, width
    return VideoInfo(
        path=str(path),
        duration_s=duration,
        fps=fps,
        num_frames=num_frames,
        width=width,
        height=height,
        rotation=rotation,
        codec=codec,
        size_bytes=path.stat().st_size,
        timing=timing,
    )


def frame_timing(stamps: list[int], time_base: Fraction | None, num_frames: int, rate: float) -> tuple[float, float, str]:
    """``(duration_s, fps, note)`` of a clip from its packets' presentation timestamps, in any order.

    The median interval between distinct timestamps tells time from a jump: a gap of over
    ``JUMP_FACTOR`` medians (a recorder's clock jumping ten hours) is not time. The other gaps are
    time, shared by the frame steps they span; fps is one over that mean interval (so a millisecond
    time base still gives 30.0, not 30.3, and a variable frame rate gives its mean rate, the duration
    staying true). Frames without a timestamp fill the holes between stamped ones (gaps of several
    typical intervals); those left over, the last frame, each jump and each repeated timestamp (a
    concatenation restarting at 0) add one interval each: a clip with a ten-hour jump lasts about
    frames x interval. With fewer than two distinct timestamps the declared ``rate`` is used. The note
    says what was odd ("" when nothing was).
    """
    distinct = sorted(set(stamps))
    if len(distinct) < 2 or not time_base:
        return (round(num_frames / rate, 4), round(rate, 4), "") if rate > 0 else (0.0, 0.0, "")
    gaps = [b - a for a, b in zip(distinct, distinct[1:])]
    median = sorted(gaps)[len(gaps) // 2]
    kept = [gap for gap in gaps if gap <= JUMP_FACTOR * median]
    unstamped, repeated, jumps = max(0, num_frames - len(stamps)), len(stamps) - len(distinct), len(gaps) - len(kept)
    inside = 0
    if unstamped:  # how many of them sit in holes: the span over the typical (smallest) interval, less the stamped steps
        typical = [gap for gap in kept if gap <= 1.5 * min(kept)]
        inside = min(unstamped, max(0, round(sum(kept) * len(typical) / sum(typical)) - len(kept)))
    interval = float(sum(kept) * time_base) / (len(kept) + inside)
    duration = interval * (len(kept) + 1 + unstamped + jumps + repeated)
    odd = [f"{count} {what}" for count, what in ((jumps, "timestamp jump(s) not counted as time"),
                                                 (repeated, "repeated timestamp(s)"), (unstamped, "frame(s) without a timestamp")) if count]
    note = f"{', '.join(odd)}; taken as {duration:.2f} s at {1 / interval:.2f} fps" if odd else ""
    return round(duration, 4), round(1 / interval, 4), note


class _Packets(NamedTuple):
    """What the packets of a video stream say: the frames presented, the timestamps of those that
    carry one, all the packets (an edit list can hide some), and whether the file ends inside the last."""

    count: int
    stamps: list[int]
    total: int
    cut: bool


def _count_packets(path: Path, container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> _Packets:
    """Count the stream's packets; those the container hides (``is_discard``: before an MP4 edit list's
    start) are not frames of the clip. The demuxer flags a packet the file ends inside as corrupt."""
    import av

    count, stamps, total, cut = 0, [], 0, False
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            total, cut = total + 1, packet.is_corrupt
            if packet.is_discard:
                continue
            count += 1
            if packet.pts is not None:
                stamps.append(packet.pts)
    except av.FFmpegError as exc:
        raise UnreadableVideo(path, f"cannot read its packets ({_short(exc)}); the file may be truncated") from exc
    return _Packets(count, stamps, total, cut)


def _is_image(format_name: str) -> bool:
    """True for FFmpeg's still-image demuxers (``png_pipe``, ``jpeg_pipe``, ``image2``...); GIF is a clip."""
    return format_name == "image2" or format_name.endswith("_pipe")


def _short(exc: BaseException) -> str:
    """One line of an exception's message (FFmpeg's own words, without the errno and file name)."""
    strerror = getattr(exc, "strerror", None)
    if strerror:
        return str(strerror)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
