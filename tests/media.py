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
