"""The plain result objects app jobs return: what the CLI prints and the service sends as JSON.

Every field is plain data (``app.encode.plain`` needs no special case for any of them). Ids a
program needs travel with every row: ``video_id`` on clips, ``set_id`` on sets, ``run_id`` on runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from store import EmbeddingSet, Hit


@dataclass
class Skipped:
    """An input left out of a job, with the one-line reason."""

    path: str
    reason: str


@dataclass
class SetInfo:
    """An embedding set and its provenance."""

    set_id: str
    name: str
    backbone: str
    weights: str
    frames: int
    dim: int
    vectors: int
    sql_view: str
    options: dict[str, Any]

    @classmethod
    def of(cls, eset: EmbeddingSet) -> SetInfo:
        return cls(eset.set_id, eset.name, eset.backbone, eset.weights, eset.frames, eset.dim, eset.num_vectors,
                   eset.view_name, dict(eset.options))


@dataclass
class Neighbor:
    """One stored row found near a query, nearest first."""

    rank: int
    video_id: str
    label: str
    distance: float
    view: str
    window: int
    path: str

    @classmethod
    def ranked(cls, hits: list[Hit]) -> list[Neighbor]:
        return [cls(i + 1, h.video_id, h.label, float(h.distance), h.view, h.window, h.path) for i, h in enumerate(hits)]


@dataclass
class VideoRef:
    video_id: str
    label: str
    path: str


@dataclass
class Partial:
    """A job that can leave inputs out: ``skipped`` lists them; ``recorded`` when the store keeps them too."""

    skipped: list[Skipped] = field(default_factory=list, kw_only=True)
    recorded: bool = field(default=True, kw_only=True)


@dataclass
class ClipNote:
    """A clip taken with a note: odd timestamps at ingest; damaged frames below the limit at embed (a row
    stored with a note, which ``actionstore errors`` lists too)."""

    path: str
    note: str


@dataclass
class IngestResult(Partial):
    directory: str
    clips: int
    new: int
    moved: int
    changed: int
    unchanged: int
    label_names: int
    pruned: list[VideoRef]
    ignored: list[str]
    notes: list[ClipNote]


@dataclass
class RemoveResult:
    removed: list[VideoRef]


@dataclass
class ShortClip:
    path: str
    frames: int


@dataclass
class EmbedResult(Partial):
    set: SetInfo
    embedded: int
    already: int
    forwards: int
    files_written: int
    seconds: float
    model_ran: bool
    short: list[ShortClip]
    noted: list[ClipNote]


@dataclass
class AugmentResult(Partial):
    set: SetInfo
    views: int
    seed: int
    embedded: int
    already: int
    seconds: float
    videos_written: list[str]


@dataclass
class PrepareResult(Partial):
    destination: str
    written: int
    already: int
    seconds: float
    preview: str | None


@dataclass
class DemoDataResult:
    directory: str
    clips: int
    classes: int
    labels_csv: str
    holdout: str | None


@dataclass
class SqlResult:
    columns: list[str]
    rows: list[list[Any]]
    row_limit: int
    time_limit_s: float
    truncated: bool  # more rows than row_limit: only the first row_limit are here

    def records(self) -> list[dict[str, Any]]:
        """The rows as ``{column: value}`` (a repeated column name keeps its last value)."""
        return [dict(zip(self.columns, row)) for row in self.rows]


@dataclass
class BackboneInfo:
    name: str
    dim: int
    frames: str
    default_frames: int
    input_size: int
    weights: str
    summary: str


@dataclass
class ErrorRow:
    path: str
    stage: str
    reason: str
    failed_at: str


@dataclass
class FilesWritten:
    files: list[str]
    rows: int


@dataclass
class DatasetCsv:
    path: str
    clips: int
    classes: int


@dataclass
class NeighborsResult:
    set: SetInfo
    query: str
    query_video_id: str | None
    embedded_now: bool
    metric: str
    neighbors: list[Neighbor]


@dataclass
class LabelCount:
    label: str
    count: int


@dataclass
class WithinResult:
    set: SetInfo
    centre: str
    radius: float
    metric: str
    counts: list[LabelCount]
    rows: list[Neighbor]


@dataclass
class RunResult:
    """An analysis (or detector evaluation) run: its tables as rows, notes and plots."""

    run_id: str
    kind: str
    set: SetInfo
    reused: bool
    params: dict[str, Any]
    notes: list[str]
    artifacts: list[str]
    tables: dict[str, list[dict[str, Any]]]


@dataclass
class CompareResult:
    leaderboard: list[dict[str, Any]]
    run_ids: dict[str, str]
    notes: list[str]


@dataclass
class ReportResult:
    path: str
    set: SetInfo


@dataclass
class DetectorInfo:
    name: str
    kind: str
    target: str
    set_id: str
    threshold_rule: str
    threshold: float
    test_auroc_mean: float | None
    metrics: dict[str, Any]
    created_at: str | None = None


@dataclass
class TrainResult:
    detector: DetectorInfo
    split: dict[str, dict[str, int]]
    rows: dict[str, int]
    seconds: float
    ignored_config: list[str]
    notes: list[str]


@dataclass
class EvaluationResult:
    detector: DetectorInfo
    vs: str
    run: RunResult


@dataclass
class ScoreResult:
    clip: str
    verdict: str
    is_target: bool
    score: float
    threshold: float
    threshold_rule: str
    detector: DetectorInfo
    set: SetInfo
    query_video_id: str | None
    embedded_now: bool
    neighbors: list[Neighbor]
    notes: list[str]


@dataclass
class CheckResult:
    """What ``check`` looked at, every problem left (none: the store is consistent), and what it repaired."""

    ok: bool
    checked: dict[str, int]
    problems: list[str]
    notes: list[str]
    repaired: list[str]


@dataclass
class VideoPage:
    """A page of catalogued clips (rows of the ``videos`` table) and how many there are in all."""

    total: int
    limit: int
    offset: int
    videos: list[dict[str, Any]]


@dataclass
class ClipProbe:
    """What a new clip file is, read before it is embedded."""

    duration_s: float
    fps: float
    num_frames: int
    width: int
    height: int
    size_bytes: int
