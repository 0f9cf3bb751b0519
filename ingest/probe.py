"""Probe a video with PyAV and hash its bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import UnreadableVideo

if TYPE_CHECKING:  # PyAV is imported by the functions that open files: `--help` and `sql` start without it
    import av

HASH_CHUNK = 1 << 20


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
        raise UnreadableVideo(path, f"not a readable video ({_short(exc)}); re-export it as MP4/MOV") from exc
    if not container.streams.video:
        container.close()
        raise UnreadableVideo(path, "no video stream (audio-only or not a video); remove it from the dataset")
    return container, container.streams.video[0]


def probe(path: str | Path) -> VideoInfo:
    """Read duration, frame rate, frame count, size, rotation and codec; decode one frame to prove it plays.

    Frame count and duration come from the packets' timestamps, so files without a declared rate
    or duration (GIF) are measured too. Raises UnreadableVideo for truncated or undecodable files.
    """
    import av

    path = Path(path)
    container, stream = open_video(path)
    try:
        first = next(container.decode(stream), None)
        if first is None:
            raise UnreadableVideo(path, "no frame could be decoded; the file may be truncated or empty")
        rotation = int(first.rotation or 0)
    except av.FFmpegError as exc:
        raise UnreadableVideo(path, f"cannot decode its first frame ({_short(exc)}); the file may be truncated") from exc
    finally:
        container.close()
    container, stream = open_video(path)  # reopened rather than seeking: raw streams cannot seek
    try:
        num_frames, span = _count_packets(path, container, stream)
        # read while the container is open: a stream's fields are freed with it (read after, they are
        # garbage, and a crash when threads probe at once)
        declared, rate, codec = stream.frames, stream.average_rate or stream.guessed_rate, stream.codec_context.name
    finally:
        container.close()
    if num_frames == 0:
        raise UnreadableVideo(path, "no video packets; the file may be truncated")
    if declared and num_frames < declared:
        raise UnreadableVideo(path, f"truncated: {num_frames} of {declared} frames present; re-copy the file")
    duration = float(span) if span else (num_frames / float(rate) if rate else 0.0)
    fps = num_frames / duration if duration > 0 else float(rate or 0)
    width, height = first.width, first.height
    if rotation % 180:
        width, height = height, width
    return VideoInfo(
        path=str(path),
        duration_s=round(duration, 4),
        fps=round(fps, 4),
        num_frames=num_frames,
        width=width,
        height=height,
        rotation=rotation,
        codec=codec,
        size_bytes=path.stat().st_size,
    )


def _count_packets(path: Path, container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> tuple[int, Fraction | None]:
    """Count the stream's packets and the time span they cover (first pts to last pts + duration)."""
    import av

    count, first_pts, end_pts = 0, None, None
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            count += 1
            if packet.pts is not None:
                first_pts = packet.pts if first_pts is None else min(first_pts, packet.pts)
                end = packet.pts + (packet.duration or 0)
                end_pts = end if end_pts is None else max(end_pts, end)
    except av.FFmpegError as exc:
        raise UnreadableVideo(path, f"cannot read its packets ({_short(exc)}); the file may be truncated") from exc
    if first_pts is None or end_pts is None or stream.time_base is None:
        return count, None
    return count, (end_pts - first_pts) * stream.time_base


def _short(exc: BaseException) -> str:
    """One line of an exception's message (FFmpeg's own words, without the errno and file name)."""
    strerror = getattr(exc, "strerror", None)
    if strerror:
        return str(strerror)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
