"""Saved detectors in the catalog: their rows (``detectors``) and splits (``detector_splits``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from store import Store
from store.schema import utc_now

COLUMNS = ("name", "kind", "set_id", "set_version", "target", "config", "threshold_rule", "threshold", "metrics",
           "file", "sha256")


def detectors_dir(store: Store) -> Path:
    """Where detector model files live."""
    return store.root / "detectors"


def record_detector(store: Store, row: dict[str, Any], split: list[tuple[str, str, str]]) -> None:
    """Record a saved detector (its file already written) and its split ``(video_id, label, part)``, replacing one of the same name."""
    with store.transaction() as con:
        con.execute("DELETE FROM detectors WHERE name = ?", [row["name"]])
        con.execute("DELETE FROM detector_splits WHERE detector = ?", [row["name"]])
        con.execute(f"INSERT INTO detectors VALUES ({', '.join('?' * (len(COLUMNS) + 1))})",
                    [row[c] for c in COLUMNS] + [utc_now()])
        con.executemany("INSERT INTO detector_splits VALUES (?, ?, ?, ?)", [[row["name"], *r] for r in split])


def detector_rows(store: Store, name: str | None = None) -> list[dict[str, Any]]:
    """Saved detectors (all, or the one named), newest first."""
    if not store.exists():
        return []
    where, params = ("WHERE name = ?", [name]) if name is not None else ("", [])
    try:
        return store.query(f"SELECT * FROM detectors {where} ORDER BY created_at DESC", params)
    except duckdb.CatalogException:  # a store made before detectors existed
        return []


def detector_split(store: Store, name: str) -> list[dict[str, Any]]:
    """A detector's split: ``video_id, label, part`` per video."""
    return store.query("SELECT video_id, label, part FROM detector_splits WHERE detector = ? "
                       "ORDER BY part, label, video_id", [name])
