"""Embed notes: a row stored despite a problem worth knowing (damaged frames), one line per row of a set.

``embed_notes`` is a catalog table, so SQL sees it (``SELECT * FROM embed_notes``) and ``actionstore
errors`` lists it beside the files that could not be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from store.connection import Catalog
from store.schema import utc_now


def insert_notes(con: duckdb.DuckDBPyConnection, set_id: str, notes: Sequence[tuple[str, str, int, str]]) -> None:
    """Upsert ``(video_id, view, window, note)`` rows of set ``set_id`` on an open read-write connection
    (``manifest.commit_embeddings`` records them with their part)."""
    for video_id, view, window, note in notes:
        con.execute('INSERT INTO embed_notes VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (set_id, video_id, view, "window") '
                    "DO UPDATE SET note = excluded.note, created_at = excluded.created_at",
                    [set_id, video_id, view, window, note, utc_now()])


def embed_notes(catalog: Catalog) -> list[dict[str, Any]]:
    """Every note with its set's name and its clip's path (None for a clip removed since)."""
    try:
        return catalog.query('SELECT s.name AS set_name, n.set_id, v.path, n.video_id, n.view, n."window", n.note, '
                             "n.created_at FROM embed_notes n LEFT JOIN embedding_sets s USING (set_id) "
                             'LEFT JOIN videos v USING (video_id) ORDER BY v.path, s.name, n.view, n."window"')
    except duckdb.CatalogException:  # a store made before the table, not written to since
        return []
