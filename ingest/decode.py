"""Decode only the frames a backbone needs, upright, RGB, resized on the way out.

The measured choice (DESIGN.md section 8): threaded decoding, with only the chosen frames
converted and resized by ``frame.reformat``; the decoder stops after the last chosen frame. For a
long clip sampled sparsely, the keyframes are read from the packets (no decoding) and, when seeking
to the keyframe before each chosen frame decodes fewer frames than reading straight through, the
decoder seeks; every frame reached after a seek must carry the expected timestamp, else (an open-GOP
stream, say) the clip is decoded straight through instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.errors import UnreadableVideo
from ingest.probe import _short, open_video

if TYPE_CHECKING:  # PyAV is imported by the functions that decode
    import av
    from av.video.reformatter import VideoReformatter


def sample_indices(num_frames: int, n: int) -> np.ndarray:
    """``n`` frame indices spread uniformly over ``num_frames`` (the centre of ``n`` equal parts)."""
    if n <= 0:
        raise ValueError(f"frame count must be positive, got {n}")
    if num_frames <= 0:
        raise ValueError(f"clip has no frames (num_frames={num_frames})")
    return np.minimum(((np.arange(n) + 0.5) * num_frames / n).astype(np.int64), num_frames - 1)


def output_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """Width and height after scaling so the short side is ``short_side`` (even numbers; None keeps size)."""
    if short_side is None:
        return width, height
    scale = short_side / min(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


DAMAGE_LIMIT = 0.10  # the share of the frames read that may be damaged; above it the clip is refused for the set


@dataclass(frozen=True)
class Damage:
    """What went wrong decoding one sample of a clip: of ``read`` frames the decoder went through,
    ``failed`` would not decode, ``corrupt`` were flagged by FFmpeg as damaged, ``missing`` were counted
    by the catalog but not in the file. A pick on a frame that failed or is missing repeats the frame
    before it, and one flagged corrupt is used with its artefacts: ``DAMAGE_LIMIT`` bounds how many."""

    read: int
    failed: int = 0
    corrupt: int = 0
    missing: int = 0

    @property
    def bad(self) -> int:
        return self.failed + self.corrupt + self.missing

    @property
    def share(self) -> float:
        return self.bad / self.read if self.read else 0.0

    def note(self) -> str:
        """One line: the counts."""
        return (f"{self.bad} of the {self.read} frames read were damaged ({self.failed} failed to decode, "
                f"{self.corrupt} flagged corrupt, {self.missing} missing)")


class DamagedVideo(UnreadableVideo):
    """A clip with more than ``DAMAGE_LIMIT`` of its frames damaged, as found decoding a sample."""

    def __init__(self, path: object, damage: Damage) -> None:
        self.damage = damage
        super().__init__(path, f"{damage.note()}, more than the {DAMAGE_LIMIT:.0%} a set accepts; "
                               "re-copy or re-export the clip")


def decode_frames(path: str | Path, n: int, *, num_frames: int, short_side: int | None = None,
                  span: tuple[int, int] | None = None, threads: int = 0) -> np.ndarray:
    """``decode_clip``'s frames (raises DamagedVideo above ``DAMAGE_LIMIT``)."""
    return decode_clip(path, n, num_frames=num_frames, short_side=short_side, span=span, threads=threads)[0]


def decode_clip(path: str | Path, n: int, *, num_frames: int, short_side: int | None = None,
                span: tuple[int, int] | None = None, threads: int = 0) -> tuple[np.ndarray, Damage]:
    """Return ``n`` uniformly sampled frames as a ``(n, H, W, 3)`` uint8 RGB array, upright, with the damage
    met on the way; raise DamagedVideo when more than ``DAMAGE_LIMIT`` of the frames read were damaged.

    ``num_frames`` is the clip's frame count (from the catalog's probe). A packet that fails to decode
    takes a frame's place and decoding goes on; a pick that falls on it, or past the end of a file
    that yields fewer frames than counted, repeats the frame before. ``short_side`` resizes each
    chosen frame so its shorter side has that many pixels, keeping the aspect ratio. ``span``
    ``(first, end)`` samples only frames ``first <= i < end`` (a time window of the clip). ``threads``:
    the decoder's threads (0: FFmpeg's choice, one per core); when several clips decode at once, give
    each a share of the cores: a decoder's threads are started for every clip, which costs more than
    they win on a short one (demo clips, 4 at once on 2 cores: 197 clips/s with 1 thread each, 151 with 0).
    """
    first, end = span if span is not None else (0, num_frames)
    if not 0 <= first < end <= max(num_frames, 1):
        raise ValueError(f"frame span {span} is outside the clip's {num_frames} frames")
    wanted = (first + sample_indices(end - first, n)).tolist()
    found = None
    if num_frames >= SEEK_MIN_FRAMES and num_frames > 4 * n:
        found = _decode_by_seeking(path, wanted, short_side, threads)
    frames, damage = found or _decode_straight(path, wanted, short_side, threads)
    if damage.share > DAMAGE_LIMIT:
        raise DamagedVideo(path, damage)
    return frames, damage


def _decode_straight(path: str | Path, wanted: list[int], short_side: int | None, threads: int) -> tuple[np.ndarray, Damage]:
    """The wanted frames by decoding packet by packet from the start up to the last one, counting damage."""
    import av
    from av.video.reformatter import VideoReformatter

    wanted_set, last_wanted = set(wanted), wanted[-1]
    picks: dict[int, np.ndarray] = {}
    index, failed, corrupt, last_frame = 0, 0, 0, None
    container, stream = _open_threaded(path, threads)
    reformatter = VideoReformatter()
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:  # a damaged packet: it takes a frame's place, and decoding goes on
                failed += 1
                index += 1
                frames = []
            for frame in frames:
                last_frame, corrupt = frame, corrupt + frame.is_corrupt
                if index in wanted_set:
                    picks[index] = frame_to_rgb(frame, short_side, reformatter)
                index += 1
            if index > last_wanted:
                break
    except av.FFmpegError as exc:  # the container itself cannot be read on: what is left counts as missing
        if last_frame is None:
            raise UnreadableVideo(path, f"cannot decode ({_short(exc)}); the file may be truncated") from exc
    finally:
        container.close()
    if last_frame is None:
        raise UnreadableVideo(path, "no frame could be decoded; the file may be truncated")
    damage = Damage(read=last_wanted + 1, failed=failed, corrupt=corrupt, missing=max(0, last_wanted + 1 - index))
    fill = picks[min(picks)] if picks else frame_to_rgb(last_frame, short_side, reformatter)
    out = []
    for i in wanted:  # a pick on a damaged or missing frame repeats the one before (the first pick, at the start)
        fill = picks.get(i, fill)
        out.append(fill)
    return np.stack(out), damage


SEEK_MIN_FRAMES = 120  # shorter clips decode straight through: reading the packets would cost more than it saves
SEEK_GAIN = 0.6  # seek only when it decodes at most this share of the frames reading straight through would


def keyframe_plan(path: str | Path) -> tuple[list[int], list[int]] | None:
    """Every frame's pts in presentation order and the indices of keyframes, from the packets alone;
    None when the packets do not say (a missing or repeated pts) or an edit list hides some of them."""
    import av

    container, stream = open_video(path)
    try:
        packets = [(packet.pts, packet.is_keyframe, packet.is_discard) for packet in container.demux(stream) if packet.size]
    except av.FFmpegError:
        return None
    finally:
        container.close()
    if not packets or any(pts is None or hidden for pts, _, hidden in packets):
        return None
    order = sorted(pts for pts, _, _ in packets)
    index = {pts: i for i, pts in enumerate(order)}
    if len(index) < len(order):
        return None
    return order, sorted(index[pts] for pts, key, _ in packets if key)


def _decode_by_seeking(path: str | Path, wanted: list[int], short_side: int | None,
                       threads: int) -> tuple[np.ndarray, Damage] | None:
    """The wanted frames by seeking to the keyframe before each, with the frames decoded and those
    flagged corrupt; None when that would not pay, a packet fails, or a frame's timestamp is not the
    expected one (the caller then decodes straight through, which counts the damage)."""
    import av
    from av.video.reformatter import VideoReformatter

    plan = keyframe_plan(path)
    if plan is None:
        return None
    order, keys = plan
    if max(wanted) >= len(order):
        return None
    groups: dict[int, list[int]] = {}
    for index in sorted(set(wanted)):
        key = keys[max(0, np.searchsorted(keys, index, side="right") - 1)]
        groups.setdefault(key, []).append(index)
    cost = sum(max(group) - key + 1 for key, group in groups.items())
    if cost > SEEK_GAIN * (max(wanted) + 1):
        return None
    picks: dict[int, np.ndarray] = {}
    read = corrupt = 0
    container, stream = _open_threaded(path, threads)
    reformatter = VideoReformatter()
    try:
        for key, group in sorted(groups.items()):
            container.seek(order[key], stream=stream, backward=True, any_frame=False)
            targets = {order[i]: i for i in group}
            for frame in container.decode(stream):
                read, corrupt = read + 1, corrupt + frame.is_corrupt
                if frame.pts in targets:
                    picks[targets.pop(frame.pts)] = frame_to_rgb(frame, short_side, reformatter)
                if not targets or frame.pts is None or frame.pts > order[max(group)]:
                    break
            if targets:  # a frame was skipped or mislabelled after the seek: do not trust this stream
                return None
    except av.FFmpegError:
        return None
    finally:
        container.close()
    return np.stack([picks[index] for index in wanted]), Damage(read=read, corrupt=corrupt)


def _open_threaded(path: str | Path, threads: int) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    """``open_video`` with frame and slice threads for the decoder (``threads`` 0: one per core)."""
    container, stream = open_video(path)
    stream.thread_type = "AUTO"
    stream.codec_context.thread_count = threads
    return container, stream


def frame_to_rgb(frame: av.VideoFrame, short_side: int | None, reformatter: VideoReformatter) -> np.ndarray:
    """Convert one frame to upright RGB, resizing during the colour conversion.

    Pass one ``reformatter`` for all the frames of a clip: it keeps its scaler between frames, where
    ``frame.reformat`` builds a new one per frame (about three times the cost for a small frame)."""
    width, height = output_size(frame.width, frame.height, short_side)
    array = reformatter.reformat(frame, width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()
    turns = int(frame.rotation or 0) // 90
    return np.ascontiguousarray(np.rot90(array, k=turns)) if turns % 4 else array
