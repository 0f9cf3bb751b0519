"""The Store: ``catalog.duckdb`` + Parquet embedding files + derived indexes, in one directory."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from store.errors import NoSuchSet, ReadOnlySQL, StoreBusy, StoreError
from store.locking import writer_lock
from store.parquet_parts import TMP_PREFIX, read_parts, write_part
from store.schema import DDL, ORIGINAL_VIEW, SCHEMA_VERSION, VIDEO_COLUMNS
from store.sql_views import create_views

DEFAULT_ROOT = "actionstore-data"
READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
SET_SETTINGS = ("backbone", "weights", "frames", "sampling", "input_size", "options")
ROW_COLUMNS = ("p.video_id", "p.view", "p.window", "p.t_start", "p.t_end", "v.label", "v.path")


@dataclass(frozen=True)
class EmbeddingSet:
    """One embedding set: a backbone with its weights and frame settings. ``set_id`` hashes the settings."""

    set_id: str
    name: str
    backbone: str
    weights: str
    frames: int
    sampling: str
    input_size: int
    options: dict[str, Any]
    dim: int
    num_vectors: int = 0

    @property
    def view_name(self) -> str:
        """The SQL view holding this set's vectors joined to ``videos``."""
        return f"emb_{self.name}"


@dataclass
class IngestSummary:
    """What recording one ingest did to the catalog."""

    new: int = 0
    moved: int = 0
    unchanged: int = 0
    changed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def set_id_for(settings: dict[str, Any]) -> str:
    """A stable id for a set's settings: 12 hex digits of the SHA-256 of their canonical JSON."""
    canonical = json.dumps({k: settings[k] for k in SET_SETTINGS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Store:
    """A store directory. Reads open the catalog read-only; writes hold the one-writer lock."""

    def __init__(self, root: str | Path = DEFAULT_ROOT, *, lock_timeout_s: float = 10.0) -> None:
        self.root = Path(root)
        self.lock_timeout_s = lock_timeout_s
        self._lock_depth = 0

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def embeddings_dir(self) -> Path:
        return self.root / "embeddings"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"

    def exists(self) -> bool:
        """True once the catalog has been created."""
        return self.catalog_path.is_file()

    # -- connections -----------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's writer lock (re-entrant within this object); creates the store on first use."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: exists and is not a directory; pass --store with a folder path")
        self.root.mkdir(parents=True, exist_ok=True)
        with writer_lock(self.root / ".writer.lock", self.lock_timeout_s):
            self._lock_depth = 1
            try:
                with self._connect(read_only=False) as con:
                    con.execute(DDL)
                    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
                yield
            finally:
                self._lock_depth = 0

    @contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the catalog; a read-only open retries briefly while a writer commits."""
        if read_only and not self.exists():
            raise StoreError(f"{self.root}: no store here yet; run `actionstore ingest DIR` first (or pass --store)")
        if not read_only and not self._lock_depth:
            raise StoreError("internal: catalog writes need the writer lock (use Store.writing())")
        deadline = time.monotonic() + self.lock_timeout_s
        while True:
            try:
                con = duckdb.connect(str(self.catalog_path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if time.monotonic() >= deadline:
                    raise StoreBusy(f"{self.catalog_path}: catalog is busy ({exc}); try again") from exc
                time.sleep(0.05)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A catalog connection for reading: read-only, or the writer's own while this object holds the lock."""
        with self._connect(read_only=not self._lock_depth) as con:
            yield con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A catalog connection under the writer lock whose statements commit together, or not at all."""
        with self.writing(), self._connect(read_only=False) as con:
            con.execute("BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read query on the catalog and return rows as dicts."""
        with self.reading() as con:
            cursor = con.execute(sql, list(params))
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]

    # -- videos and labels -----------------------------------------------------------------

    def record_ingest(self, videos: list[dict[str, Any]], errors: list[tuple[str, str]],
                      labels: list[dict[str, Any]] = ()) -> IngestSummary:
        """Record probed videos (dicts with VIDEO_COLUMNS), unreadable files and label names in one transaction.

        A known id at a new path is a move (path and label updated) when the old file is gone, and a
        duplicate (reported, not stored) when it is still there. A known path with a new id is a
        changed file (the old row is replaced). Files that now ingest cleanly leave ``ingest_errors``.
        """
        summary = IngestSummary(failed=list(errors))
        with self.transaction() as con:
            known = dict(con.execute("SELECT video_id, path FROM videos").fetchall())
            for video in videos:
                self._record_video(con, video, known.get(video["video_id"]), summary)
            self._insert_errors(con, summary.failed, "ingest")
            for row in labels:
                con.execute("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?)",
                            [row["label"], row["name_en"], row["name_it"], row["class_index"]])
        return summary

    @staticmethod
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
        values = [video[c] for c in VIDEO_COLUMNS] + [_now()]
        con.execute(
            f"INSERT INTO videos VALUES ({', '.join('?' * len(values))}) ON CONFLICT (video_id) DO UPDATE "
            "SET path = excluded.path, label = excluded.label",
            values,
        )
        con.execute("DELETE FROM ingest_errors WHERE path = ?", [video["path"]])

    def remove_videos(self, refs: Sequence[str | Path]) -> list[dict[str, Any]]:
        """Remove catalogued videos by id or path; their vectors stay on disk but leave every set's results.

        Raises StoreError naming the first ref that matches no video (nothing is removed then).
        """
        with self.writing():
            found = []
            for ref in refs:
                video = self.find_video(ref)
                if video is None:
                    raise StoreError(f"{ref}: no catalogued video has this id or path; see `actionstore sql \"SELECT video_id, path FROM videos\"`")
                found.append(video)
            with self._connect(read_only=False) as con:
                for video in found:
                    con.execute("DELETE FROM videos WHERE video_id = ?", [video["video_id"]])
        return found

    def missing_under(self, root: str | Path) -> list[str]:
        """Ids of catalogued videos below ``root`` whose files no longer exist."""
        prefix = str(Path(root).resolve()).rstrip("/") + "/"
        rows = self.query("SELECT video_id, path FROM videos WHERE starts_with(path, ?)", [prefix])
        return [r["video_id"] for r in rows if not Path(r["path"]).exists()]

    def record_errors(self, errors: list[tuple[str, str]], stage: str) -> None:
        """Record files that failed at ``stage`` (``ingest``, ``embed``...) with their one-line reasons."""
        if errors:
            with self.writing(), self._connect(read_only=False) as con:
                self._insert_errors(con, errors, stage)

    @staticmethod
    def _insert_errors(con: duckdb.DuckDBPyConnection, errors: list[tuple[str, str]], stage: str) -> None:
        for path, reason in errors:
            con.execute(
                "INSERT INTO ingest_errors VALUES (?, ?, ?, ?) ON CONFLICT (path) DO UPDATE "
                "SET stage = excluded.stage, reason = excluded.reason, failed_at = excluded.failed_at",
                [path, stage, reason, _now()],
            )

    def videos(self) -> list[dict[str, Any]]:
        """Every catalogued video, ordered by label then path."""
        return self.query("SELECT * FROM videos ORDER BY label, path")

    def errors(self) -> list[dict[str, Any]]:
        """Every recorded unreadable file."""
        return self.query("SELECT * FROM ingest_errors ORDER BY path")

    # -- embedding sets --------------------------------------------------------------------

    def ensure_set(self, *, backbone: str, weights: str, frames: int, sampling: str, input_size: int,
                   options: dict[str, Any], dim: int, name: str | None = None) -> EmbeddingSet:
        """Return the set with these settings, registering it on first use (``name``: its display name)."""
        settings = dict(backbone=backbone, weights=weights, frames=frames, sampling=sampling,
                        input_size=input_size, options=options)
        set_id = set_id_for(settings)
        with self.writing(), self._connect(read_only=False) as con:
            row = con.execute("SELECT dim FROM embedding_sets WHERE set_id = ?", [set_id]).fetchone()
            if row is None:
                name = name or f"{backbone}_f{frames}" + ("_random" if weights == "random-init" else "")
                if con.execute("SELECT 1 FROM embedding_sets WHERE name = ?", [name]).fetchone():
                    name = f"{name}_{set_id[:6]}"
                con.execute(
                    "INSERT INTO embedding_sets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [set_id, name, backbone, weights, frames, sampling, input_size,
                     json.dumps(options, sort_keys=True), dim, _now()],
                )
            elif row[0] != dim:
                raise StoreError(
                    f"set {set_id}: its vectors have dim {row[0]} but {backbone} now gives {dim}; "
                    "the backbone changed since the set was made: embed into a new store (--store)"
                )
        return self.get_set(set_id)

    def sets(self) -> list[EmbeddingSet]:
        """Every embedding set with its vector count."""
        rows = self.query(
            "SELECT s.*, coalesce(sum(f.num_rows), 0)::BIGINT AS num_vectors FROM embedding_sets s "
            "LEFT JOIN embedding_files f USING (set_id) GROUP BY ALL ORDER BY s.created_at"
        )
        return [
            EmbeddingSet(
                set_id=r["set_id"], name=r["name"], backbone=r["backbone"], weights=r["weights"],
                frames=r["frames"], sampling=r["sampling"], input_size=r["input_size"],
                options=json.loads(r["options"]), dim=r["dim"], num_vectors=int(r["num_vectors"]),
            )
            for r in rows
        ]

    def get_set(self, ref: str | None = None, *, default_backbone: str | None = None) -> EmbeddingSet:
        """Resolve a set by id, name or backbone name; with no ref, the only set, else the default backbone's."""
        sets = self.sets() if self.exists() else []
        if not sets:
            raise NoSuchSet(f"{self.root}: no embedding sets yet; run `actionstore embed` first")
        if ref is None:
            if len(sets) == 1:
                return sets[0]
            matches = [s for s in sets if s.backbone == default_backbone]
            if len(matches) == 1:
                return matches[0]
            raise NoSuchSet(f"several embedding sets ({', '.join(s.name for s in sets)}); choose one with --set")
        for key in ("set_id", "name", "backbone"):
            matches = [s for s in sets if getattr(s, key) == ref]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise NoSuchSet(f"--set {ref!r} names {len(matches)} sets ({', '.join(s.name for s in matches)}); pass a set name or id")
        raise NoSuchSet(f"--set {ref!r}: no such embedding set; known sets: {', '.join(s.name for s in sets)}")

    def set_files(self, set_id: str) -> list[Path]:
        """The committed Parquet files of a set, from the manifest (uncommitted files are never read)."""
        rows = self.query("SELECT file FROM embedding_files WHERE set_id = ? ORDER BY created_at, file", [set_id])
        files = [self.root / r["file"] for r in rows]
        for path in files:
            if not path.is_file():
                raise StoreError(f"{path}: listed in the store's manifest but missing; restore it from a backup "
                                 "(the store's files must not be moved or deleted by hand)")
        return files

    def embedded_keys(self, set_id: str) -> set[tuple[str, str, int]]:
        """The ``(video_id, view, window)`` keys a set already holds."""
        table = read_parts(self.set_files(set_id), columns=["video_id", "view", "window"])
        if table is None:
            return set()
        return set(zip(*(table.column(c).to_pylist() for c in ("video_id", "view", "window"))))

    def commit_embeddings(self, set_id: str, table: pa.Table) -> Path:
        """Write one batch as a Parquet file (atomic rename), then record it in the manifest.

        A batch whose vectors do not have the set's dimension is refused before anything is written.
        One catalog connection per batch: the embed runner commits often.
        """
        with self.writing(), self._connect(read_only=False) as con:
            found = con.execute("SELECT name, dim FROM embedding_sets WHERE set_id = ?", [set_id]).fetchone()
            if found is None:
                raise NoSuchSet(f"--set {set_id!r}: no such embedding set; run `actionstore sets` to list them")
            name, dim = found
            width = table.schema.field("vector").type.list_size
            if width != dim:
                raise StoreError(f"set {name} holds {dim}-d vectors; refusing a batch of {width}-d vectors")
            path = write_part(self.embeddings_dir / set_id, table)
            self._record_file(con, set_id, path.relative_to(self.root), table.num_rows)
        return path

    @staticmethod
    def _record_file(con: duckdb.DuckDBPyConnection, set_id: str, relative: Path, num_rows: int) -> None:
        """Enter a written Parquet file in the manifest: from here on readers see its rows."""
        con.execute("INSERT INTO embedding_files VALUES (?, ?, ?, ?)", [set_id, str(relative), num_rows, _now()])

    def record_views(self, set_id: str, views: list[dict[str, Any]]) -> None:
        """Record how augmented views were made (``video_id, view, seed, recipe, applied``; JSON strings),
        replacing earlier records of the same views. Written before the views' vectors are committed."""
        if not views:
            return
        with self.writing(), self._connect(read_only=False) as con:
            con.executemany("INSERT OR REPLACE INTO augment_views VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [[set_id, v["video_id"], v["view"], v["seed"], v["recipe"], v["applied"], _now()] for v in views])

    def view_records(self, set_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The recorded augmented views of a set, by ``(video_id, view)``."""
        rows = self.query("SELECT * FROM augment_views WHERE set_id = ?", [set_id])
        return {(r["video_id"], r["view"]): r for r in rows}

    @property
    def detectors_dir(self) -> Path:
        return self.root / "detectors"

    def record_detector(self, row: dict[str, Any], split: list[tuple[str, str, str]]) -> None:
        """Record a saved detector (its file already written) and its split ``(video_id, label, part)``, replacing one of the same name."""
        columns = ["name", "kind", "set_id", "set_version", "target", "config", "threshold_rule", "threshold",
                   "metrics", "file", "sha256"]
        with self.transaction() as con:
            con.execute("DELETE FROM detectors WHERE name = ?", [row["name"]])
            con.execute("DELETE FROM detector_splits WHERE detector = ?", [row["name"]])
            con.execute(f"INSERT INTO detectors VALUES ({', '.join('?' * (len(columns) + 1))})",
                        [row[c] for c in columns] + [_now()])
            con.executemany("INSERT INTO detector_splits VALUES (?, ?, ?, ?)", [[row["name"], *r] for r in split])

    def detector_rows(self, name: str | None = None) -> list[dict[str, Any]]:
        """Saved detectors (all, or the one named), newest first."""
        if not self.exists():
            return []
        where, params = ("WHERE name = ?", [name]) if name is not None else ("", [])
        try:
            return self.query(f"SELECT * FROM detectors {where} ORDER BY created_at DESC", params)
        except duckdb.CatalogException:  # a store made before detectors existed
            return []

    def detector_split(self, name: str) -> list[dict[str, Any]]:
        """A detector's split: ``video_id, label, part`` per video."""
        return self.query("SELECT video_id, label, part FROM detector_splits WHERE detector = ? ORDER BY part, label, video_id", [name])

    def clean_orphans(self) -> list[Path]:
        """Delete embedding files the manifest does not list (left by a crash); returns what was removed."""
        with self.writing():
            listed = {r["file"] for r in self.query("SELECT file FROM embedding_files")}
            removed = []
            if self.embeddings_dir.exists():
                for path in self.embeddings_dir.glob("*/*.parquet"):
                    if str(path.relative_to(self.root)) not in listed:
                        path.unlink()
                        removed.append(path)
            return removed

    def load_vectors(self, set_id: str, *, views: Sequence[str] | None = (ORIGINAL_VIEW,)) -> tuple[pa.Table, np.ndarray]:
        """A set's rows and their ``(rows, dim)`` float32 matrix, for the given views (None: all).

        Rows (``video_id, view, window, t_start, t_end, label, path``) are joined to ``videos``, so
        vectors of removed videos are left out; they are ordered by label, path, view, window.
        """
        files = self.set_files(set_id)
        if not files:
            return pa.table({c.split(".")[1]: [] for c in ROW_COLUMNS}), np.zeros((0, 0), np.float32)
        where = f"WHERE p.view IN ({', '.join('?' * len(views))})" if views is not None else ""
        with self.reading() as con:
            con.register("parts", read_parts(files))
            table = con.sql(
                f"SELECT {', '.join(ROW_COLUMNS)}, p.vector FROM parts p JOIN videos v USING (video_id) {where} "
                "ORDER BY v.label, v.path, p.view, p.window",
                params=list(views or []),
            ).to_arrow_table()
        vectors = table.column("vector").combine_chunks()
        matrix = vectors.values.to_numpy().reshape(len(table), -1) if len(table) else np.zeros((0, 0), np.float32)
        return table.drop_columns(["vector"]), np.ascontiguousarray(matrix, dtype=np.float32)

    def find_video(self, ref: str | Path) -> dict[str, Any] | None:
        """The catalogued video with this id or at this path (resolved), else None."""
        rows = self.query("SELECT * FROM videos WHERE video_id = ? OR path = ?", [str(ref), str(Path(ref).resolve())])
        return rows[0] if rows else None

    def stored_vector(self, set_id: str, video_id: str, view: str = ORIGINAL_VIEW, window: int = 0) -> np.ndarray | None:
        """One stored vector of a set, or None when the set does not hold it."""
        files = self.set_files(set_id)
        if not files:
            return None
        with self.reading() as con:
            row = con.execute(
                'SELECT vector FROM read_parquet(?) WHERE video_id = ? AND view = ? AND "window" = ? LIMIT 1',
                [[str(f) for f in files], video_id, view, window],
            ).fetchone()
        return None if row is None else np.asarray(row[0], dtype=np.float32)

    def dataset_rows(self) -> list[tuple[str, int, str, str]]:
        """Every catalogued clip as the original project's ``(CLASS, LABEL, PATH_VIDEO, ENG_CLASS)``.

        CLASS and ENG_CLASS come from the label names (the label itself where none were imported),
        LABEL is the imported class index, or the next free index in label order; PATH_VIDEO is
        ``<label>/<file name>``, the shape ``ingest --labels`` reads.
        """
        rows = self.query("SELECT v.label, v.path, l.name_en, l.name_it, l.class_index FROM videos v "
                          "LEFT JOIN labels l USING (label) ORDER BY v.label, v.path")
        index = {r["label"]: r["class_index"] for r in rows if r["class_index"] is not None}
        for label in sorted({r["label"] for r in rows} - set(index)):
            index[label] = max(index.values(), default=-1) + 1
        return [(r["name_it"] or r["label"], index[r["label"]], f"{r['label']}/{Path(r['path']).name}", r["name_en"] or r["label"])
                for r in rows]

    def video_labels(self, video_ids: pa.Array | list[str]) -> tuple[list[str | None], list[str | None]]:
        """Labels and paths aligned with ``video_ids`` (None for ids no longer catalogued)."""
        ids = pa.table({"video_id": pa.array(video_ids, pa.string()), "pos": pa.array(range(len(video_ids)), pa.int64())})
        with self.reading() as con:
            con.register("ids", ids)
            table = con.sql("SELECT v.label, v.path FROM ids LEFT JOIN videos v USING (video_id) ORDER BY ids.pos").to_arrow_table()
        return table.column("label").to_pylist(), table.column("path").to_pylist()

    def set_version(self, set_id: str) -> str:
        """A fingerprint of what a set holds now: its committed files and the catalogued videos
        (ids, labels and paths). Derived data (indexes, analysis runs) records it and is redone when it differs.
        """
        row = self.query(
            "SELECT (SELECT coalesce(string_agg(file, ',' ORDER BY file), '') FROM embedding_files WHERE set_id = ?) AS files, "
            "(SELECT md5(coalesce(string_agg(video_id || '|' || label || '|' || path, ',' ORDER BY video_id), '')) "
            "FROM videos) AS videos",
            [set_id],
        )[0]
        return hashlib.sha256(f"{row['files']}\n{row['videos']}".encode()).hexdigest()[:16]

    # -- SQL -------------------------------------------------------------------------------

    def sql(self, query: str, *, default_backbone: str | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run read-only SQL over the catalog and the views of ``store.sql_views`` (``emb_<set>``...).

        ``emb`` and ``centroids`` alias the set that ``get_set(None, default_backbone=...)`` picks.
        """
        sets = self.sets()
        try:
            default = self.get_set(None, default_backbone=default_backbone).name
        except NoSuchSet:
            default = None
        views = [(s.set_id, s.name, s.dim, self.set_files(s.set_id)) for s in sets]
        with self._connect(read_only=True) as con:
            try:
                statements = con.extract_statements(query)
            except duckdb.Error as exc:
                raise StoreError(f"SQL error: {_one_line(exc)}") from exc
            if not statements:
                raise StoreError("empty SQL; pass a SELECT statement")
            for statement in statements:
                if statement.type not in READ_STATEMENTS:
                    raise ReadOnlySQL(
                        f"refused: {statement.type.name} statement; `actionstore sql` only reads (use SELECT)"
                    )
            create_views(con, views, default)
            try:
                cursor = None
                for statement in statements:
                    cursor = con.execute(statement)
                assert cursor is not None
                columns = [d[0] for d in cursor.description] if cursor.description else []
                return columns, cursor.fetchall()
            except duckdb.Error as exc:
                raise StoreError(f"SQL error: {_one_line(exc)}") from exc

    def size_bytes(self) -> int:
        """Bytes on disk under the store directory."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
