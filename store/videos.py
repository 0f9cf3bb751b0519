"""Catalogued videos, their labels and unreadable files: recording ingests, removing, looking up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from store.connection import Catalog
from store.errors import NoSuchVideo
from store.schema import VIDEO_COLUMNS, utc_now


@dataclass
class IngestSummary:
    """What recording one ingest did to the catalog."""

    new: int = 0
    moved: int = 0
    unchanged: int = 0
    changed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def record_ingest(catalog: Catalog, videos: list[dict[str, Any]], errors: list[tuple[str, str]],
                  labels: Sequence[dict[str, Any]] = ()) -> IngestSummary:
    """Record probed videos (dicts with VIDEO_COLUMNS), unreadable files and label names in one transaction.

    A known id at a new path is a move (path and label updated) when the old file is gone, and a
    duplicate (reported, not stored) when it is still there. A known path with a new id is a
    changed file (the old row is replaced). Files that now ingest cleanly leave ``ingest_errors`` (an
    embed's refusal of an unchanged file stays). A catalogued file that now fails (its bytes went bad, or
    no longer pass ingest) leaves ``videos``, its reason saying so: its vectors stay, and come back when it
    reads again.
    """
    summary = IngestSummary(failed=list(errors))
    with catalog.transaction() as con:
        known = dict(con.execute("SELECT video_id, path FROM videos").fetchall())
        for video in videos:
            _record_video(con, video, known.get(video["video_id"]), summary)
        summary.failed = [_uncatalogue(con, path, reason) for path, reason in summary.failed]
        insert_errors(con, summary.failed, "ingest")
        for row in labels:
            con.execute("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)",
                        [row["label"], row["name_en"], row["name_it"], row["class_index"]])
    return summary


def _record_video(con: duckdb.DuckDBPyConnection, video: dict[str, Any], old_path: str | None, summary: IngestSummary) -> None:
    if old_path is not None and old_path != video["path"] and Path(old_path).exists():
        summary.failed.append((video["path"], f"same bytes as {old_path}; a clip is stored once, delete the copy"))
        return
    replaced = con.execute(
        "DELETE FROM videos WHERE path = ? AND video_id <> ? RETURNING video_id", [video["path"], video["video_id"]]
    ).fetchall()
    if old_path is None:
        summary.changed += bool(replaced)
        summary.new += not replaced
    elif old_path != video["path"]:
        summary.moved += 1
    else:
        summary.unchanged += 1
    values = [video[c] for c in VIDEO_COLUMNS] + [utc_now()]
    con.execute(
        f"INSERT INTO videos VALUES ({', '.join('?' * len(values))}) ON CONFLICT (video_id) DO UPDATE "
        "SET path = excluded.path, label = excluded.label",
        values,
    )
    # it ingests now: its ingest error goes; a refusal by embed stays unless the file changed
    con.execute("DELETE FROM ingest_errors WHERE path = ? AND (stage = 'ingest' OR ?)", [video["path"], bool(replaced)])


def _uncatalogue(con: duckdb.DuckDBPyConnection, path: str, reason: str) -> tuple[str, str]:
    """Remove the catalogued row of a file that now fails; ``(path, reason)``, the reason saying so when one went."""
    gone = con.execute("DELETE FROM videos WHERE path = ? RETURNING video_id", [path]).fetchall()
    return path, reason + (f"; its catalogued clip {gone[0][0]} is left out until the file reads again" if gone else "")


def remove_videos(catalog: Catalog, refs: Sequence[str | Path]) -> list[dict[str, Any]]:
    """Remove catalogued videos by id or path; their vectors stay on disk but leave every set's results.

    Raises NoSuchVideo naming the first ref that matches no video (nothing is removed then).
    """
    with catalog.writing():
        found = []
        for ref in refs:
            video = find_video(catalog, ref)
            if video is None:
                raise NoSuchVideo(f"{ref}: no catalogued video has this id or path; "
                                  "see `actionstore sql \"SELECT video_id, path FROM videos\"`")
            found.append(video)
        with catalog.connect(read_only=False) as con:
            for video in found:
                con.execute("DELETE FROM videos WHERE video_id = ?", [video["video_id"]])
    return found


def missing_under(catalog: Catalog, root: str | Path) -> list[str]:
    """Ids of catalogued videos below ``root`` whose files no longer exist."""
    prefix = str(Path(root).resolve()).rstrip("/") + "/"
    rows = catalog.query("SELECT video_id, path FROM videos WHERE starts_with(path, ?)", [prefix])
    return [r["video_id"] for r in rows if not Path(r["path"]).exists()]


def record_errors(catalog: Catalog, errors: list[tuple[str, str]], stage: str) -> None:
    """Record files that failed at ``stage`` (``ingest``, ``embed``...) with their one-line reasons."""
    if errors:
        with catalog.writing(), catalog.connect(read_only=False) as con:
            insert_errors(con, errors, stage)


def insert_errors(con: duckdb.DuckDBPyConnection, errors: list[tuple[str, str]], stage: str) -> None:
    """Upsert ``(path, reason)`` rows of one ``stage`` into ``ingest_errors`` on an open read-write connection
    (a row per path and stage: two sets' refusals of one clip are both kept)."""
    for path, reason in errors:
        con.execute(
            "INSERT INTO ingest_errors VALUES (?, ?, ?, ?) ON CONFLICT (path, stage) DO UPDATE "
            "SET reason = excluded.reason, failed_at = excluded.failed_at",
            [path, stage, reason, utc_now()],
        )


def all_videos(catalog: Catalog) -> list[dict[str, Any]]:
    """Every catalogued video, ordered by label then path."""
    return catalog.query("SELECT * FROM videos ORDER BY label, path")


def ingest_errors(catalog: Catalog) -> list[dict[str, Any]]:
    """Every recorded unreadable file."""
    return catalog.query("SELECT * FROM ingest_errors ORDER BY path")


def find_video(catalog: Catalog, ref: str | Path) -> dict[str, Any] | None:
    """The catalogued video with this id or at this path (resolved), else None."""
    try:
        path = str(Path(ref).resolve())
    except (RuntimeError, OSError):  # a symbolic link loop: no catalogued path
        path = str(ref)
    rows = catalog.query("SELECT * FROM videos WHERE video_id = ? OR path = ?", [str(ref), path])
    return rows[0] if rows else None


def clip_labels(catalog: Catalog) -> list[dict[str, Any]]:
    """Every catalogued clip's ``label, path`` with its label's ``name_en, name_it, class_index`` (None when
    no names were imported), ordered by label then path."""
    return catalog.query("SELECT v.label, v.path, l.name_en, l.name_it, l.class_index FROM videos v "
                         "LEFT JOIN labels l USING (label) ORDER BY v.label, v.path")


def video_labels(catalog: Catalog, video_ids: pa.Array | list[str]) -> tuple[list[str | None], list[str | None]]:
    """Labels and paths aligned with ``video_ids`` (None for ids no longer catalogued)."""
    ids = pa.table({"video_id": pa.array(video_ids, pa.string()), "pos": pa.array(range(len(video_ids)), pa.int64())})
    with catalog.reading() as con:
        con.register("ids", ids)
        table = con.sql("SELECT v.label, v.path FROM ids LEFT JOIN videos v USING (video_id) ORDER BY ids.pos").to_arrow_table()
    return table.column("label").to_pylist(), table.column("path").to_pylist()
