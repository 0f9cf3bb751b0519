"""Sliding windows over a clip: one embedding per window, stored as ``window`` rows beside the clip's own.

A set made with ``--windows LEN:STRIDE`` (seconds) holds, for every clip, the clip-level vector
(view ``original``, window 0, as any set) and one vector per window (view ``window``, window
1..K, with its ``t_start``/``t_end``). Analyses use the ``original`` rows unless asked otherwise.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from embed.errors import EmbedError, TooManyWindows

WINDOW_VIEW = "window"
MAX_WINDOWS = 1000  # windows one clip may have in a set (10 min at a 0.6 s stride); more is a mistaken --windows or a bad duration


class Window(NamedTuple):
    """Window ``k`` of a clip: seconds ``[t_start, t_end)`` and frames ``[first, end)``."""

    k: int
    t_start: float
    t_end: float
    first: int
    end: int


def parse_windows(text: str) -> tuple[float, float]:
    """``"2:1"`` -> (length 2.0 s, stride 1.0 s)."""
    try:
        length, stride = (float(x) for x in text.split(":"))
    except ValueError:
        raise EmbedError(f"windows {text!r}: use LEN:STRIDE in seconds, e.g. 2:1", param="windows") from None
    if not (length > 0 and stride > 0 and math.isfinite(length) and math.isfinite(stride)):
        raise EmbedError(f"windows {text!r}: the length and the stride must be positive seconds, e.g. 2:1", param="windows")
    return length, stride


def window_spec(text: str) -> str:
    """The canonical spelling stored in a set's options (``2:1`` for ``2.0:1``)."""
    length, stride = parse_windows(text)
    return f"{length:g}:{stride:g}"


def clip_windows(duration_s: float, num_frames: int, spec: str) -> list[Window]:
    """The windows of a clip: start at 0 and every stride while the window fits; a clip shorter than
    one window gets one window over all of it. Frame ranges follow the clip's mean frame rate.

    Raises TooManyWindows, before making any, when there would be more than ``MAX_WINDOWS``."""
    length, stride = parse_windows(spec)
    duration = duration_s if duration_s and duration_s > 0 else float(num_frames)
    fps = num_frames / duration
    count = int(math.floor((duration - length) / stride + 1e-9)) + 1 if duration >= length else 1
    if count > MAX_WINDOWS:
        raise TooManyWindows(f"windows {spec}: {count} windows over its {duration:g} s, more than the {MAX_WINDOWS} a clip "
                             "may have; embed it with a longer stride, or check its duration", param="windows")
    starts = [i * stride for i in range(count)]
    windows = []
    for k, t0 in enumerate(starts, start=1):
        t1 = min(t0 + length, duration)
        first = min(int(math.floor(t0 * fps + 1e-9)), num_frames - 1)
        end = max(first + 1, min(num_frames, int(math.ceil(t1 * fps - 1e-9))))
        windows.append(Window(k, t0, t1, first, end))
    return windows
