"""Reading a set's vectors: all rows of some views as a matrix, or one stored vector.

The catalog is held only to read the manifest and the ``videos`` table; joining, sorting and reading
the Parquet parts happen on a private in-memory DuckDB, so a large set never holds off a writer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa

from store.connection import Catalog
from store.errors import DamagedPart
from store.manifest import set_files
from store.parquet_parts import read_parts
from store.schema import ORIGINAL_VIEW

ROW_COLUMNS = ("p.video_id", "p.view", "p.window", "p.t_start", "p.t_end", "v.label", "v.path")


def load_vectors(catalog: Catalog, set_id: str, *, views: Sequence[str] | None = (ORIGINAL_VIEW,)) -> tuple[pa.Table, np.ndarray]:
    """A set's rows and their ``(rows, dim)`` float32 matrix, for the given views (None: all).

    Rows (``video_id, view, window, t_start, t_end, label, path``) are joined to ``videos``, so
    vectors of removed videos are left out; they are ordered by label, path, view, window.
    """
    files = set_files(catalog, set_id)
    if not files:
        return pa.table({c.split(".")[1]: [] for c in ROW_COLUMNS}), np.zeros((0, 0), np.float32)
    where = f"WHERE p.view IN ({', '.join('?' * len(views))})" if views is not None else ""
    with catalog.reading() as con:
        videos = con.sql("SELECT video_id, label, path FROM videos").to_arrow_table()
    with duckdb.connect() as con:
        con.register("parts", read_parts(files))
        con.register("videos", videos)
        table = con.sql(
            f"SELECT {', '.join(ROW_COLUMNS)}, p.vector FROM parts p JOIN videos v USING (video_id) {where} "
            "ORDER BY v.label, v.path, p.view, p.window",
            params=list(views or []),
        ).to_arrow_table()
    vectors = table.column("vector").combine_chunks()
    matrix = vectors.values.to_numpy().reshape(len(table), -1) if len(table) else np.zeros((0, 0), np.float32)
    return table.drop_columns(["vector"]), np.ascontiguousarray(matrix, dtype=np.float32)


def stored_vector(catalog: Catalog, set_id: str, video_id: str, view: str = ORIGINAL_VIEW, window: int = 0) -> np.ndarray | None:
    """One stored vector of a set, or None when the set does not hold it."""
    files = set_files(catalog, set_id)
    if not files:
        return None
    with duckdb.connect() as con:
        try:
            row = con.execute(
                'SELECT vector FROM read_parquet(?) WHERE video_id = ? AND view = ? AND "window" = ? LIMIT 1',
                [[str(f) for f in files], video_id, view, window],
            ).fetchone()
        except duckdb.Error as exc:  # DuckDB names the part it could not read
            named = re.search(r"'([^']+\.parquet)'", str(exc))
            raise DamagedPart(named.group(1) if named else "a part of the set", str(exc)) from exc
    return None if row is None else np.asarray(row[0], dtype=np.float32)
