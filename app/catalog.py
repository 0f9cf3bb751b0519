"""Jobs on the catalog: ingest, remove, list sets, backbones and errors, SQL, exports, check."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.defaults import DEFAULT_ROOT, SQL_ROW_LIMIT, SQL_TIME_LIMIT_S, views_or_all
from app.errors import InvalidInput, job
from app.results import (BackboneInfo, CheckResult, ClipNote, DatasetCsv, ErrorRow, FilesWritten, IngestResult, RemoveResult,
                         SetInfo, Skipped, SqlResult, VideoRef)
from embed import DEFAULT_BACKBONE, resolve_set
from ingest import read_labels_csv, scan_folder
from ingest.labels import dataset_rows, write_labels_csv
from store import ORIGINAL_VIEW, Store
from store.check import check_store
from store.export import export_set


def _refs(videos: Sequence[dict]) -> list[VideoRef]:
    return [VideoRef(v["video_id"], v["label"], v["path"]) for v in videos]


def open_store(root: str | Path = DEFAULT_ROOT, *, lock_timeout_s: float = 10.0) -> Store:
    """The store at ``root`` (created by the first job that writes to it)."""
    return Store(root, lock_timeout_s=lock_timeout_s)


@job
def ingest(store: Store, directory: str | Path, *, labels_csv: str | Path | None = None, prune: bool = False,
           progress: bool = True) -> IngestResult:
    """Probe, hash and catalogue every clip under ``directory/<label>/``, with optional label names;
    ``prune`` also removes catalogued clips under it whose files are gone."""
    names = read_labels_csv(labels_csv) if labels_csv else []
    scan = scan_folder(directory, progress=progress)
    summary = store.record_ingest(scan.videos, scan.errors, [vars(n) for n in names])
    pruned = store.remove_videos(store.missing_under(directory)) if prune else []
    return IngestResult(str(directory), len(scan.videos), summary.new, summary.moved, summary.changed, summary.unchanged,
                        len(names), _refs(pruned), [str(p) for p in scan.ignored],
                        [ClipNote(v["path"], v["timing"]) for v in scan.videos if v["timing"]], skipped=[Skipped(p, r) for p, r in summary.failed])


@job
def remove(store: Store, refs: Sequence[str]) -> RemoveResult:
    """Remove clips (video ids or paths) from the catalog; nothing is removed if one ref matches no clip."""
    return RemoveResult(_refs(store.remove_videos(list(refs))))


@job
def list_sets(store: Store) -> list[SetInfo]:
    """Every embedding set with its provenance and SQL view name."""
    return [SetInfo.of(s) for s in store.sets()]


@job
def list_backbones() -> list[BackboneInfo]:
    """The registered backbones with where their weights are (nothing is loaded)."""
    from embed.registry import backbones
    from embed.weight_sources import weights_status

    return [BackboneInfo(b.name, b.dim(b.default_frames, dict(b.default_options)), b.frame_rule, b.default_frames,
                         b.input_size, weights_status(b), b.summary) for b in backbones()]


@job
def list_errors(store: Store) -> list[ErrorRow]:
    """Files that could not be read, with the stage that failed and why; then the rows stored with a note
    (``embed_notes``: damaged frames below the limit), stage ``note: embed <set>``."""
    notes = [ErrorRow(r["path"] or r["video_id"], f"note: embed {r['set_name']}", _row_note(r), str(r["created_at"]))
             for r in store.notes()]
    return [ErrorRow(r["path"], r["stage"], r["reason"], str(r["failed_at"])) for r in store.errors()] + notes


def _row_note(row: dict) -> str:
    """A note, naming its row when that is not the clip's original one."""
    return row["note"] if row["view"] == ORIGINAL_VIEW else f"view {row['view']}, window {row['window']}: {row['note']}"


@job
def sql(store: Store, query: str, *, limit: int = SQL_ROW_LIMIT, timeout_s: float = SQL_TIME_LIMIT_S) -> SqlResult:
    """Read-only, sandboxed SQL over the catalog and the sets' views (``emb``/``centroids`` alias the
    default set): at most ``limit`` rows, interrupted after ``timeout_s`` seconds."""
    if limit < 1 or not timeout_s > 0:
        raise InvalidInput(f"limit {limit} / timeout {timeout_s}: both must be positive", param="limit")
    columns, rows = store.sql(query, default_backbone=DEFAULT_BACKBONE, limit=limit, timeout_s=timeout_s)
    return SqlResult(columns, [list(r) for r in rows[:limit]], limit, timeout_s, len(rows) > limit)


@job
def export(store: Store, target: str | Path, *, set_ref: str | None = None,
           views: Sequence[str] = (ORIGINAL_VIEW,)) -> FilesWritten:
    """A set's vectors with their labels to ``.parquet``, or ``.npy`` plus ``.rows.csv``."""
    eset = resolve_set(store, set_ref)
    files = export_set(store, eset.set_id, target, views=views_or_all(views))
    return FilesWritten([str(p) for p in files], eset.num_vectors)


@job
def dataset_export(store: Store, target: str | Path) -> DatasetCsv:
    """The catalogue as the original project's CSV (CLASS, LABEL, PATH_VIDEO, ENG_CLASS)."""
    rows = dataset_rows(store.clip_labels())
    write_labels_csv(Path(target), rows)
    return DatasetCsv(str(target), len(rows), len({row[1] for row in rows}))


@job
def check(store: Store, *, repair: bool = False) -> CheckResult:
    """Is the store consistent? The manifest against the Parquet parts (checksums), the saved indexes,
    strays and temporary files, and every detector file's checksum. ``repair`` removes strays and
    rebuilds stale or damaged indexes; it never deletes a committed row (``store.check``)."""
    from detector.saved import detector_file_problems

    report = check_store(store, repair=repair)
    checked = dict(report.checked)
    checked["detectors"], refused = detector_file_problems(store)
    problems = report.problems + refused
    return CheckResult(not problems, checked, problems, report.notes, report.repaired)
