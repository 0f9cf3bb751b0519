"""A set's committed Parquet parts: the manifest that lists them, committing a batch, orphans."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from store.atomic import sha256_file
from store.connection import Catalog
from store.errors import NoSuchSet, StoreError
from store.notes import insert_notes
from store.parquet_parts import read_parts, write_part
from store.schema import SCHEMA_VERSION, utc_now

EMBEDDINGS = "embeddings"


def embeddings_dir(catalog: Catalog) -> Path:
    """Where the sets' Parquet parts live: ``embeddings/<set_id>/part-*.parquet``."""
    return catalog.root / EMBEDDINGS


def set_files(catalog: Catalog, set_id: str) -> list[Path]:
    """The committed Parquet files of a set, from the manifest (uncommitted files are never read)."""
    rows = catalog.query("SELECT file FROM embedding_files WHERE set_id = ? ORDER BY created_at, file", [set_id])
    files = [catalog.root / r["file"] for r in rows]
    for path in files:
        if not path.is_file():
            raise StoreError(f"{path}: listed in the store's manifest but missing; restore it from a backup "
                             "(the store's files must not be moved or deleted by hand)")
    return files


def embedded_keys(catalog: Catalog, set_id: str) -> set[tuple[str, str, int]]:
    """The ``(video_id, view, window)`` keys a set already holds."""
    table = read_parts(set_files(catalog, set_id), columns=["video_id", "view", "window"])
    if table is None:
        return set()
    return set(zip(*(table.column(c).to_pylist() for c in ("video_id", "view", "window"))))


def commit_embeddings(catalog: Catalog, set_id: str, table: pa.Table,
                      notes: Sequence[tuple[str, str, int, str]] = ()) -> Path:
    """Write one batch as a Parquet file (atomic rename), then record it in the manifest, with the
    ``(video_id, view, window, note)`` notes of its rows in the same transaction (both or neither).

    A batch whose vectors do not have the set's dimension is refused before anything is written.
    The file's metadata carries the set's provenance (``parquet_parts.part_provenance`` reads it).
    One catalog connection per batch: the embed runner commits often.
    """
    with catalog.writing(), catalog.connect(read_only=False) as con:
        found = con.execute("SELECT name, backbone, weights, frames, dim FROM embedding_sets WHERE set_id = ?",
                            [set_id]).fetchone()
        if found is None:
            raise NoSuchSet(f"set {set_id!r}: no such embedding set; run `actionstore sets` to list them", param="set")
        name, backbone, weights, frames, dim = found
        width = table.schema.field("vector").type.list_size
        if width != dim:
            raise StoreError(f"set {name} holds {dim}-d vectors; refusing a batch of {width}-d vectors")
        provenance = dict(set_id=set_id, set_name=name, backbone=backbone, weights=weights, frames=frames, dim=dim,
                          schema_version=SCHEMA_VERSION)
        path = write_part(embeddings_dir(catalog) / set_id, table, provenance)
        con.execute("BEGIN")
        record_file(con, set_id, path.relative_to(catalog.root), table.num_rows, sha256_file(path))
        insert_notes(con, set_id, notes)
        con.execute("COMMIT")
    return path


def record_file(con: duckdb.DuckDBPyConnection, set_id: str, relative: Path, num_rows: int, sha256: str) -> None:
    """Enter a written Parquet file in the manifest, with its SHA-256 (``check`` compares it): from here
    on readers see its rows."""
    con.execute("INSERT INTO embedding_files (set_id, file, num_rows, created_at, sha256) VALUES (?, ?, ?, ?, ?)",
                [set_id, str(relative), num_rows, utc_now(), sha256])


def clean_orphans(catalog: Catalog) -> list[Path]:
    """Delete embedding files the manifest does not list (left by a crash); returns what was removed."""
    with catalog.writing():
        listed = {r["file"] for r in catalog.query("SELECT file FROM embedding_files")}
        removed = []
        folder = embeddings_dir(catalog)
        if folder.exists():
            for path in folder.glob("*/*.parquet"):
                if str(path.relative_to(catalog.root)) not in listed:
                    path.unlink()
                    removed.append(path)
        return removed
