"""Decoding 16 frames of a 15 s 1080x1920 phone-like clip: three ways, checked against each other.

    .venv/bin/python benchmarks/decode.py [--seconds 15] [--frames 16]

Clips: H.264 with a keyframe every 30 and every 250 frames, and HEVC (x265 defaults: open GOPs).
Ways: decode and convert every frame then keep the chosen ones (the naive baseline); actionstore's
``decode_frames`` (threaded, converts only the chosen frames, seeks when the keyframes make it
cheaper); and seeking forced for every chosen frame. Each way's frames are compared with the
baseline's (``frames ok``). One run: read the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

import ingest.decode as decode
from ingest import probe


def phone_clip(path: Path, seconds: int, codec: str, keyint: int | None) -> Path:
    """1080x1920 frames of a moving bar on a gradient (the frame index is drawn as the bar's place)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = 1080, 1920, "yuv420p"
        options = {"preset": "ultrafast"}
        if keyint is not None:
            options["x264-params"] = f"keyint={keyint}:min-keyint={keyint}:scenecut=0"
        if codec == "libx265":
            options["x265-params"] = "log-level=error"
        stream.options = options
        base = np.tile(np.linspace(30, 200, 1080, dtype=np.uint8), (1920, 1))
        for i in range(seconds * 30):
            grey = base.copy()
            grey[:, (i * 7) % 1000: (i * 7) % 1000 + 40] = 255
            frame = np.repeat(grey[..., None], 3, axis=2)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def convert_every_frame(path: Path, indices: list[int], short_side: int) -> np.ndarray:
    """The naive baseline: decode and convert every frame (resized), keep the chosen ones."""
    reformatter = VideoReformatter()
    with av.open(str(path)) as container:
        frames = [decode.frame_to_rgb(f, short_side, reformatter) for f in container.decode(video=0)]
    return np.stack([frames[i] for i in indices])


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--frames", type=int, default=16)
    args = parser.parse_args()
    print(f"{'clip':24} {'way':34} {'seconds':>8} {'vs naive':>9} {'frames ok':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, codec, keyint in (("h264 keyint 30", "libx264", 30), ("h264 keyint 250", "libx264", 250),
                                    ("hevc (open GOP)", "libx265", None)):
            path = phone_clip(Path(tmp) / f"{codec}-{keyint}.mp4", args.seconds, codec, keyint)
            n = probe(path).num_frames
            indices = decode.sample_indices(n, args.frames).tolist()
            t_naive, naive = timed(lambda: convert_every_frame(path, indices, 224))
            t_ours, ours = timed(lambda: decode.decode_frames(path, args.frames, num_frames=n, short_side=224))
            gain, decode.SEEK_GAIN = decode.SEEK_GAIN, 10.0  # force the seek path
            t_seek, found = timed(lambda: decode._decode_by_seeking(path, indices, 224, 0))
            decode.SEEK_GAIN = gain
            sought = None if found is None else found[0]
            rows = [("decode all, convert all", t_naive, True), ("decode_frames (actionstore)", t_ours, np.array_equal(ours, naive)),
                    ("seek to every chosen frame", t_seek, sought is not None and np.array_equal(sought, naive))]
            for way, seconds, ok in rows:
                note = "" if not (way.startswith("seek") and sought is None) else " (declined: timestamps)"
                print(f"{name:24} {way:34} {seconds:8.2f} {t_naive / seconds:8.1f}x {str(ok):>10}{note}")


if __name__ == "__main__":
    main()
