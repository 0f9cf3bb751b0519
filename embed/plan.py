"""Planning an ``embed`` run: the settings of the set, and what it lacks as plain, picklable tasks.

Planning reads the catalog and the set's manifest only: it builds no model and imports no torch, so
a run with nothing to do ends here. An engine (``embed.engine``) runs the tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embed.errors import EmbedError, TooManyWindows
from embed.precision import DEFAULT_PRECISION, precision_options
from embed.registry import BackboneSpec, get_backbone
from embed.windows import WINDOW_VIEW, Window, clip_windows, window_spec
from store import ORIGINAL_VIEW, Store, set_id_for

SAMPLING = "uniform"
SHORT_CLIPS = ("repeat", "refuse")


@dataclass(frozen=True)
class EmbedTask:
    """One row a set lacks: a catalogued clip, its view, and its window (None: the whole clip)."""

    video_id: str
    path: str
    label: str
    num_frames: int
    duration_s: float
    view: str = ORIGINAL_VIEW
    window: Window | None = None

    @classmethod
    def of(cls, video: dict[str, Any], view: str = ORIGINAL_VIEW, window: Window | None = None) -> EmbedTask:
        """The task of a catalog row (``store.videos()``)."""
        return cls(video["video_id"], video["path"], video["label"], video["num_frames"], float(video["duration_s"] or 0.0),
                   view, window)

    @property
    def key(self) -> tuple[str, str, int]:
        """``(video_id, view, window)``: the row's key in the set's manifest."""
        return self.video_id, self.view, self.window.k if self.window else 0

    @property
    def span_s(self) -> tuple[float, float]:
        """Seconds of the clip the row covers."""
        return (self.window.t_start, self.window.t_end) if self.window else (0.0, self.duration_s)


@dataclass(frozen=True)
class EmbedPlan:
    """What an ``embed`` run will do: the set's settings and name, the tasks, and what it leaves out."""

    settings: dict[str, Any]  # the arguments of ``store.ensure_set`` (less the name)
    name: str | None  # the set's name (None: the store's default)
    tasks: list[EmbedTask]
    already: int  # clips whose rows are all in the set
    refused: list[tuple[str, str]]  # (path, reason): clips left out (too many windows, under the backbone's minimum,
    #                                 short under ``short_clips="refuse"``)
    short: list[tuple[str, int]]  # (path, frames it has): short clips to embed with repeated frames


def set_settings(spec: BackboneSpec, frames: int | None, *, random_init: bool, weights_path: Path | None,
                 windows: str | None = None, precision: str = DEFAULT_PRECISION) -> dict[str, Any]:
    """The settings that identify a set (and its id) for this backbone, checked, without building it."""
    frames = spec.default_frames if frames is None else frames
    options = dict(spec.default_options)
    spec.check_frames(frames, options)
    if windows is not None:
        options["windows"] = window_spec(windows)
    options |= precision_options(precision, spec)
    return dict(
        backbone=spec.name, weights=spec.resolve_weights(random_init, weights_path), frames=frames,
        sampling=SAMPLING, input_size=spec.input_size, options=options, dim=spec.dim(frames, options),
    )


def plan_embed(store: Store, settings: dict[str, Any], *, short_clips: str = "repeat") -> EmbedPlan:
    """The tasks that fill the set of ``settings`` with every catalogued clip (call it holding the writer lock).

    ``short_clips``: ``repeat`` (a clip with fewer frames than asked is embedded with repeated frames,
    and listed in ``short``) or ``refuse`` (it is left out, and listed in ``refused``). A clip whose
    windows would outnumber ``embed.windows.MAX_WINDOWS``, or with fewer frames or pixels than the
    backbone's minimum (``BackboneSpec.clip_problem``), is left out and listed in ``refused``.
    """
    if short_clips not in SHORT_CLIPS:
        raise EmbedError(f"short-clips {short_clips!r}: use repeat or refuse", param="short_clips")
    videos = store.videos()
    if not videos:
        raise EmbedError(f"{store.root}: the store has no videos; run `actionstore ingest DIR` first")
    done = store.embedded_keys(set_id_for(settings))
    frames = settings["frames"]
    refused: list[tuple[str, str]] = []
    lacking: list[list[EmbedTask]] = []
    spec = get_backbone(settings["backbone"])
    for video in videos:
        try:
            tasks = [t for t in tasks_for(video, settings["options"]) if t.key not in done]
        except TooManyWindows as exc:
            refused.append((video["path"], str(exc)))
            continue
        problem = spec.clip_problem(video["num_frames"], video["width"], video["height"]) if tasks else None
        if problem:
            refused.append((video["path"], problem))
        elif tasks:
            lacking.append(tasks)
    short = [tasks[0] for tasks in lacking if tasks[0].num_frames < frames]
    if short_clips == "refuse":
        refused += [(t.path, f"has {t.num_frames} frames, fewer than the {frames} asked; "
                     "pass --short-clips repeat to embed it with repeated frames") for t in short]
        lacking = [tasks for tasks in lacking if tasks[0].num_frames >= frames]
        short = []
    return EmbedPlan(settings=settings, name=set_name(settings), tasks=[t for tasks in lacking for t in tasks],
                     already=len(videos) - len(lacking) - len(refused), refused=refused,
                     short=[(t.path, t.num_frames) for t in short if t.window is None])


def tasks_for(video: dict[str, Any], options: dict[str, Any]) -> list[EmbedTask]:
    """A clip's rows in a set: the whole clip, and its sliding windows when the set has them."""
    tasks = [EmbedTask.of(video)]
    if options.get("windows"):
        tasks += [EmbedTask.of(video, WINDOW_VIEW, w)
                  for w in clip_windows(video["duration_s"] or 0.0, video["num_frames"], options["windows"])]
    return tasks


def set_name(settings: dict[str, Any]) -> str | None:
    """``<backbone>_f<frames>[_w<len>s<stride>][_<precision>][_random]`` for sets with windows or a reduced
    precision (None: the store's default name)."""
    options = settings["options"]
    if "windows" not in options and "precision" not in options:
        return None
    window = "_w{}s{}".format(*options["windows"].split(":")) if "windows" in options else ""
    precision = f"_{options['precision']}" if "precision" in options else ""
    suffix = "_random" if settings["weights"] == "random-init" else ""
    return f"{settings['backbone']}_f{settings['frames']}{window}{precision}{suffix}".replace(".", "p")
