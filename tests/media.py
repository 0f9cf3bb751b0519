"""Small media files made in tests with PyAV: indexed frames, rotated clips, audio-only files."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from ingest.demo_data import write_clip


def indexed_frames(count: int, width: int = 64, height: int = 48) -> np.ndarray:
    """Frames whose grey level encodes their index (index * 4), so a decoded frame names itself."""
    frames = np.zeros((count, height, width, 3), np.uint8)
    for i in range(count):
        frames[i] = min(255, i * 4)
    return frames


def marked_portrait(count: int = 6, width: int = 48, height: int = 64) -> np.ndarray:
    """Upright portrait frames, grey with a red band along the top edge."""
    frames = np.full((count, height, width, 3), 90, np.uint8)
    frames[:, :10, :, :] = (230, 20, 20)
    return frames


def write_indexed_clip(path: Path, count: int = 60) -> Path:
    write_clip(path, indexed_frames(count))
    return path


def write_audio_only(path: Path) -> Path:
    """An .mp4 holding one second of AAC audio and no video stream."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        samples = np.zeros((1, 1024), np.float32)
        for i in range(43):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = 44100
            frame.pts = i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def truncate(source: Path, target: Path, keep: float = 0.5) -> Path:
    """Copy the first ``keep`` fraction of a file's bytes."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def write_raw_h264(path: Path, count: int = 10) -> Path:
    """An Annex-B H.264 elementary stream (no container, no timestamps), whatever the file's name."""
    with av.open(str(path), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for frame in indexed_frames(count):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def turning_bar(clockwise: bool, centre: tuple[float, float] = (64, 64), scale: float = 1.0, count: int = 32,
                size: tuple[int, int] = (128, 128)) -> np.ndarray:
    """A white bar turning about ``centre`` on a grey textured background (RGB frames)."""
    import cv2

    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(60, 140, (size[1], size[0])).astype(np.uint8), (0, 0), 2)
    frames = np.empty((count, size[1], size[0], 3), np.uint8)
    for t in range(count):
        angle = (0.25 if clockwise else -0.25) * t  # image y points down: a growing angle turns clockwise
        tip = (centre[0] + 30 * scale * np.cos(angle), centre[1] + 30 * scale * np.sin(angle))
        canvas = background.copy()
        cv2.line(canvas, (int(centre[0]), int(centre[1])), (int(tip[0]), int(tip[1])), 255, max(2, int(5 * scale)))
        frames[t] = np.repeat(canvas[..., None], 3, axis=2)
    return frames


def dot_tour(order: str, count: int = 32, size: int = 128) -> np.ndarray:
    """A dot visiting the corners 1 top-left, 2 top-right, 3 bottom-right, 4 bottom-left in ``order``."""
    import cv2

    corners = {"1": (32, 32), "2": (96, 32), "3": (96, 96), "4": (32, 96)}
    stops = [np.array(corners[c], float) for c in order]
    frames = np.full((count, size, size, 3), 90, np.uint8)
    for t in range(count):
        position = t / (count - 1) * (len(stops) - 1)
        i = min(int(position), len(stops) - 2)
        point = stops[i] + (stops[i + 1] - stops[i]) * (position - i)
        cv2.circle(frames[t], (int(point[0]), int(point[1])), 8, (240, 240, 240), -1)
    return frames


def write_gop_clip(path: Path, count: int, keyint: int, codec: str = "libx264", size: tuple[int, int] = (96, 64)) -> Path:
    """A clip with a keyframe every ``keyint`` frames; frame i shows a bar at column i (a wrong frame shows)."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        params = f"keyint={keyint}:min-keyint={keyint}:scenecut=0"
        stream.options = {"x264-params": params} if codec == "libx264" else {"x265-params": params + ":log-level=error"}
        for i in range(count):
            frame = np.full((height, width, 3), 40, np.uint8)
            frame[:, i % width] = 255
            frame[: (i // width) % height + 1, :8] = 200
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_timed_clip(path: Path, stamps: list[int], rate: int = 30, size: int = 64, fmt: str | None = None,
                     options: dict[str, str] | None = None) -> Path:
    """An H.264 clip whose frame ``i`` has presentation timestamp ``stamps[i]`` (in 1/``rate`` s) and grey
    level ``4 * i``: a timestamp jump is a large step in ``stamps``. ``fmt``/``options``: the muxer's."""
    from fractions import Fraction

    with av.open(str(path), "w", format=fmt, options=options or {}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, rate)
        for frame_array, pts in zip(indexed_frames(len(stamps), size, size), stamps):
            frame = av.VideoFrame.from_ndarray(frame_array, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def remux_ts(source: Path, target: Path, drop_pts_every: int = 0) -> Path:
    """Copy a clip's video packets into MPEG-TS; with ``drop_pts_every`` k, every k-th packet loses its pts."""
    with av.open(str(source)) as src, av.open(str(target), "w", format="mpegts") as out:
        stream = src.streams.video[0]
        copy = out.add_stream_from_template(stream)
        for k, packet in enumerate(src.demux(stream)):
            if packet.dts is None:
                continue
            if drop_pts_every and k % drop_pts_every == 1:
                packet.pts = None
            packet.stream = copy
            out.mux(packet)
    return target


def write_png_as(path: Path, size: int = 32) -> Path:
    """A still PNG picture saved under ``path`` (a video's name)."""
    import cv2

    path.write_bytes(cv2.imencode(".png", np.full((size, size, 3), 128, np.uint8))[1].tobytes())
    return path


def write_textured_clip(path: Path, count: int = 100, keyint: int = 30, size: tuple[int, int] = (128, 96)) -> Path:
    """A clip of moving noise (many bytes a frame, so damaged bytes hit frames, not the container)."""
    width, height = size
    base = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0"}
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(np.roll(base, 2 * i, axis=1), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def damage_bytes(source: Path, target: Path, places: int, length: int, seed: int = 1) -> Path:
    """Copy a file, overwriting ``length`` bytes with seeded noise at ``places`` offsets spread over its
    middle (25% to 85%: the header, the first keyframe and the index stay whole, so it probes fine)."""
    data = bytearray(source.read_bytes())
    rng = np.random.default_rng(seed)
    for share in np.linspace(0.25, 0.85, places):
        offset = int(len(data) * share)
        data[offset: offset + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    target.write_bytes(bytes(data))
    return target
