"""Prepare a clip folder before ingesting: transcode to MP4, or crop a square and resize it.

Both read ``SRC/<label>/<clip>`` and write ``DST/<label>/<clip stem>.mp4`` (sub-folders kept): H.264,
upright (a rotation tag is applied to the pixels and the output carries none), at the source's frame
rate, without audio. Clips are decoded and encoded frame by frame, several files at once. Each output
is written to a hidden temporary file in its folder and renamed when complete, so an output that
exists is a finished one and is skipped on the next run; a clip that fails leaves no file behind and
is reported with the reason, and the others go on.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import closing
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from ingest.decode import decode_frames, frame_to_rgb, output_size
from ingest.discover import discover
from ingest.errors import IngestError, UnreadableVideo
from ingest.probe import VideoInfo, _short, open_video, probe
from ingest.progress import progress as progress_bar

ENCODE_OPTIONS = {"crf": "18", "preset": "veryfast"}  # near-transparent quality, fast
PREVIEW_CLIPS = 6
MOTION_SIDE = 128  # motion is measured on grey frames scaled to this short side
MOTION_BLUR_SIGMA = 1.0
NOISE_FLOOR = 8.0  # grey levels: frame differences below this (or below 3x the frame's median) are noise

Centre = Literal["fixed", "auto"]


@dataclass
class PrepareReport:
    """What a transcode or crop run did: clips written, clips skipped (output already there), failures."""

    written: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source path, one-line reason)
    seconds: float = 0.0
    preview: Path | None = None  # the contact sheet, when one was written


@dataclass(frozen=True)
class _Sample:
    """One clip of the crop preview: its middle frame, the crop box on it, and the cropped output frame."""

    name: str
    frame: np.ndarray
    box: tuple[int, int, int]
    crop: np.ndarray


_Work = Callable[[Path, Path, bool], _Sample | None]


def transcode(src_dir: str | Path, dst_dir: str | Path, *, workers: int = 2, progress: bool = True) -> PrepareReport:
    """Re-encode every readable clip under ``src_dir/<label>/`` as ``dst_dir/<label>/<stem>.mp4``.

    The output is H.264 at the source's frame rate (GIFs: measured from their timestamps), upright
    with no rotation tag (a phone's rotation is applied to the pixels), and has no audio. A source
    with an odd width or height loses its last pixel column or row (H.264 4:2:0 needs even sides).
    """
    return _prepare(src_dir, dst_dir, _transcode_clip, workers=workers, progress=progress, desc="transcoding")


def crop(src_dir: str | Path, dst_dir: str | Path, *, size: int = 256, offset_y: int | None = None,
         center: Centre = "fixed", workers: int = 2, progress: bool = True, preview: str | Path | None = None) -> PrepareReport:
    """Crop the largest square out of every clip's upright frames and resize it to ``size`` x ``size``.

    ``center="fixed"`` centres the square on the frame centre moved down by ``offset_y`` pixels of the
    upright source (negative: up; the original project used -250 on 1080x1920 phone clips);
    ``center="auto"`` centres it on where the clip moves (see ``motion_centre``; the frame centre
    when nothing moves), pushed back inside the frame if needed. Output as for ``transcode``. A clip whose short side is below ``size``
    (crops are never upscaled) or whose offset moves the square out of the frame is reported as
    failed. With ``preview``, a PNG contact sheet of up to six clips written in this run shows
    each one's middle frame with the crop box beside the cropped frame.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % 2:
        raise IngestError(f"size {size!r} is not a positive even number of pixels (H.264 needs even sides); use e.g. 256")
    if center not in ("fixed", "auto"):
        raise IngestError(f"center {center!r} is not 'fixed' or 'auto'")
    if center == "auto" and offset_y:
        raise IngestError(f"offset {offset_y} only applies to a fixed centre; the automatic centre finds the motion itself, so drop one")
    work = partial(_crop_clip, size=size, offset_y=offset_y or 0, auto=center == "auto")
    return _prepare(src_dir, dst_dir, work, workers=workers, progress=progress, desc="cropping",
                    preview=Path(preview) if preview is not None else None)


def crop_box(width: int, height: int, *, offset_y: int = 0, centre: tuple[float, float] | None = None) -> tuple[int, int, int]:
    """The largest square in an upright ``width`` x ``height`` frame, as ``(x0, y0, side)``.

    Centred on ``centre`` (x, y in pixels), moved back inside the frame where it would stick out; or,
    without ``centre``, on the frame centre moved down by ``offset_y`` (negative: up), raising
    IngestError when that puts the square outside the frame.
    """
    side = min(width, height)
    if centre is not None:
        x0 = min(max(round(centre[0] - side / 2), 0), width - side)
        y0 = min(max(round(centre[1] - side / 2), 0), height - side)
        return x0, y0, side
    up, down = (height - side) // 2, height - side - (height - side) // 2
    if not -up <= offset_y <= down:
        allowed = f"between {-up} and {down} (negative is up)" if down else "of 0 (the square already fills the frame's height)"
        raise IngestError(f"offset {offset_y} moves the {side}-px square outside the {height}-px-high frame; "
                          f"use an offset {allowed}, or centre on the motion")
    return (width - side) // 2, up + offset_y, side


def motion_centre(grey_frames: Iterable[np.ndarray]) -> tuple[float, float] | None:
    """Where a clip moves: the centroid ``(x, y)`` in pixels of the absolute differences between
    consecutive grey frames (lightly blurred), weighted by their size, with differences at noise
    level dropped. None when nothing moves."""
    total: np.ndarray | None = None
    previous: np.ndarray | None = None
    for grey in grey_frames:
        current = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), MOTION_BLUR_SIGMA)
        if previous is not None:
            diff = np.abs(current - previous)
            diff[diff < max(NOISE_FLOOR, 3 * float(np.median(diff)))] = 0
            total = diff if total is None else total + diff
        previous = current
    if total is None or not total.any():
        return None
    mass = float(total.sum())
    x = float(total.sum(axis=0) @ (np.arange(total.shape[1]) + 0.5)) / mass  # pixel i covers [i, i + 1)
    y = float(total.sum(axis=1) @ (np.arange(total.shape[0]) + 0.5)) / mass
    return x, y


def _prepare(src_dir: str | Path, dst_dir: str | Path, work: _Work, *, workers: int, progress: bool, desc: str,
             preview: Path | None = None) -> PrepareReport:
    """Check the folders, skip finished outputs, run ``work(src, out, want_sample)`` on the rest in parallel."""
    started = time.perf_counter()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise IngestError(f"workers {workers!r} is not a positive number of clips processed at once; use e.g. 2")
    src, dst = Path(src_dir), Path(dst_dir)
    found = discover(src)
    if dst.resolve() == src.resolve() or src.resolve() in dst.resolve().parents:
        raise IngestError(f"{dst}: DST is inside SRC ({src}); choose a folder outside it")
    _check_writable(dst, "destination folder")
    if preview is not None:
        if preview.is_dir():
            raise IngestError(f"{preview}: is a folder; give the preview a file name, e.g. {preview / 'crop-preview.png'}")
        _check_writable(preview.parent, "folder for the preview PNG")
    report = PrepareReport()
    jobs: list[tuple[Path, Path]] = []
    claimed: dict[Path, Path] = {}
    for _, path in found.videos:
        out = dst / path.relative_to(src).with_suffix(".mp4")
        if out in claimed:
            report.failed.append((str(path), f"its output {out} is also {claimed[out].name}'s; rename one of them"))
        elif out.exists():
            report.skipped += 1
        else:
            jobs.append((path, out))
        claimed.setdefault(out, path)
    chosen = set(np.linspace(0, len(jobs) - 1, min(PREVIEW_CLIPS, len(jobs))).round().astype(int).tolist()) if preview else set()
    samples: list[tuple[int, _Sample]] = []
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        with progress_bar(total=len(jobs), desc=desc, unit="clip", enabled=progress) as bar:
            futures = {pool.submit(work, path, out, i in chosen): (i, path, out) for i, (path, out) in enumerate(jobs)}
            for future in as_completed(futures):
                i, path, out = futures[future]
                try:
                    sample = future.result()
                except UnreadableVideo as exc:
                    report.failed.append((str(path), exc.reason))
                except IngestError as exc:
                    report.failed.append((str(path), str(exc)))
                except (av.FFmpegError, OSError) as exc:
                    report.failed.append((str(path), f"cannot encode or write {out} ({_short(exc)})"))
                else:
                    report.written += 1
                    if sample is not None:
                        samples.append((i, sample))
                bar.update()
    finally:
        pool.shutdown(cancel_futures=True)  # after an interrupt, clips not yet started are dropped
    report.failed.sort()
    if preview and samples:
        report.preview = _write_preview(preview, [s for _, s in sorted(samples, key=lambda pair: pair[0])])
    report.seconds = time.perf_counter() - started
    return report


def _check_writable(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and prove a file can be written there, or raise IngestError saying why."""
    if folder.exists() and not folder.is_dir():
        raise IngestError(f"{folder}: is a file, not a folder; choose another {what}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise IngestError(f"{folder}: cannot write there ({_short(exc)}); choose another {what}") from exc


def _transcode_clip(src: Path, out: Path, want_sample: bool) -> None:
    """Re-encode one clip upright (odd sides trimmed to even)."""
    info = probe(src)
    width, height = info.width - info.width % 2, info.height - info.height % 2
    _rewrite(src, out, info, width, height, lambda rgb: rgb[:height, :width])


def _crop_clip(src: Path, out: Path, want_sample: bool, *, size: int, offset_y: int, auto: bool) -> _Sample | None:
    """Crop, resize and encode one clip; return its preview sample when asked."""
    info = probe(src)
    side = min(info.width, info.height)
    if size > side:
        raise IngestError(f"size {size} is larger than the clip's short side ({side} px, {info.width}x{info.height}); "
                          f"use a size of at most {side} (crops are never upscaled)")
    centre = _clip_motion_centre(src, info) if auto else None
    x0, y0, side = crop_box(info.width, info.height, offset_y=offset_y, centre=centre)

    def cut(rgb: np.ndarray) -> np.ndarray:
        square = rgb[y0:y0 + side, x0:x0 + side]
        return square if side == size else cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)

    _rewrite(src, out, info, size, size, cut)
    if not want_sample:
        return None
    middle = decode_frames(src, 1, num_frames=info.num_frames)[0]
    result = decode_frames(out, 1, num_frames=info.num_frames)[0]
    return _Sample(f"{src.parent.name}/{src.name}", middle, (x0, y0, side), result)


def _clip_motion_centre(src: Path, info: VideoInfo) -> tuple[float, float] | None:
    """The motion centre of a clip in upright source pixels, measured on small grey frames."""
    width, height = output_size(info.width, info.height, MOTION_SIDE)
    reformatter = VideoReformatter()

    def grey(frame: av.VideoFrame) -> np.ndarray:
        stored = (height, width) if int(frame.rotation or 0) % 180 else (width, height)
        array = reformatter.reformat(frame, width=stored[0], height=stored[1], format="gray", interpolation="AREA").to_ndarray()
        return np.rot90(array, k=int(frame.rotation or 0) // 90)

    with closing(_decoded(src, grey)) as frames:
        found = motion_centre(frames)
    return None if found is None else (found[0] * info.width / width, found[1] * info.height / height)


def _decoded(path: Path, convert: Callable[[av.VideoFrame], np.ndarray]) -> Iterator[np.ndarray]:
    """Yield ``convert(frame)`` for every frame of a clip, decoding as it goes; a decode error becomes UnreadableVideo."""
    container, stream = open_video(path)
    stream.thread_type = "AUTO"
    count = 0
    try:
        for count, frame in enumerate(container.decode(stream), 1):
            yield convert(frame)
    except av.FFmpegError as exc:
        raise UnreadableVideo(path, f"cannot decode frame {count + 1} ({_short(exc)}); the file may be damaged or truncated") from exc
    finally:
        container.close()


def _rewrite(src: Path, out: Path, info: VideoInfo, width: int, height: int, convert: Callable[[np.ndarray], np.ndarray]) -> None:
    """Encode ``convert(upright RGB frame)`` for every frame of ``src`` as ``width`` x ``height`` H.264 at the
    source's frame rate, into a hidden temporary file beside ``out`` that becomes ``out`` when complete."""
    if info.fps <= 0:
        raise UnreadableVideo(src, "its frame rate cannot be measured (a single frame?); it is not a clip")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")  # hidden: a later discover() passes it by
    try:
        with av.open(str(tmp), "w", format="mp4") as container, closing(_decoded(src, partial(frame_to_rgb, short_side=None, reformatter=VideoReformatter()))) as frames:
            stream = container.add_stream("libx264", rate=Fraction(info.fps).limit_denominator(1001))
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = ENCODE_OPTIONS
            for rgb in frames:
                picture = np.ascontiguousarray(convert(rgb))
                container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
            container.mux(stream.encode())
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_preview(path: Path, samples: list[_Sample]) -> Path:
    """A PNG contact sheet: for each clip, its middle frame with the crop box, beside the cropped frame."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    per_row = min(3, len(samples))
    rows = -(-len(samples) // per_row)
    figure = Figure(figsize=(4.4 * per_row, 2.6 * rows), dpi=100)
    FigureCanvasAgg(figure)
    margins = {"left": 0.01, "right": 0.99, "bottom": 0.02, "top": 1 - 0.1 / rows, "wspace": 0.05, "hspace": 0.15}
    axes = figure.subplots(rows, 2 * per_row, squeeze=False, gridspec_kw=margins).ravel()
    for ax in axes:
        ax.set_axis_off()
    for i, sample in enumerate(samples):
        source, result = axes[2 * i], axes[2 * i + 1]
        x0, y0, side = sample.box
        source.imshow(sample.frame)
        source.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), side, side, fill=False, edgecolor="yellow", linewidth=1.5))
        source.set_title(sample.name, fontsize=8)
        result.imshow(sample.crop)
        result.set_title(f"{sample.crop.shape[1]}x{sample.crop.shape[0]} from x={x0}, y={y0}, side {side}", fontsize=8)
    figure.savefig(path, format="png")
    return path
