"""Records of how a set's augmented views were made (seed, recipe, what was applied)."""

from __future__ import annotations

from typing import Any

from store.connection import Catalog
from store.schema import utc_now


def record_views(catalog: Catalog, set_id: str, views: list[dict[str, Any]]) -> None:
    """Record augmented views (``video_id, view, seed, recipe, applied``; JSON strings), replacing earlier
    records of the same views. Written before the views' vectors are committed."""
    if not views:
        return
    with catalog.writing(), catalog.connect(read_only=False) as con:
        con.executemany("INSERT OR REPLACE INTO augment_views VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[set_id, v["video_id"], v["view"], v["seed"], v["recipe"], v["applied"], utc_now()] for v in views])


def view_records(catalog: Catalog, set_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The recorded augmented views of a set, by ``(video_id, view)``."""
    rows = catalog.query("SELECT * FROM augment_views WHERE set_id = ?", [set_id])
    return {(r["video_id"], r["view"]): r for r in rows}
