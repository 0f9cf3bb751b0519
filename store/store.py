"""The Store: ``catalog.duckdb`` + Parquet embedding files + derived indexes, in one directory.

A thin facade: each method delegates to the module that holds that responsibility
(``connection``, ``videos``, ``sets``, ``manifest``, ``vectors``, ``augment_views``, ``notes``, ``sql``).
One Store may be shared by threads: see ``store.connection`` for how reads and the writer interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from store.augment_views import record_views, view_records
from store.connection import Catalog
from store.manifest import clean_orphans, commit_embeddings, embedded_keys, embeddings_dir, set_files
from store.notes import embed_notes
from store.schema import DEFAULT_ROOT, ORIGINAL_VIEW
from store.sets import EmbeddingSet, all_sets, ensure_set, get_set, set_id_for, set_version
from store.sql import run_sql
from store.vectors import load_vectors, stored_vector
from store.videos import (IngestSummary, all_videos, clip_labels, find_video, ingest_errors, missing_under,
                          record_errors, record_ingest, remove_videos, video_labels)


__all__ = ["DEFAULT_ROOT", "EmbeddingSet", "IngestSummary", "Store", "set_id_for"]


class Store:
    """A store directory. Reads open the catalog read-only; writes hold the one-writer lock.

    Each method is the same-named function of the module named in its section (its docs are there).
    """

    def __init__(self, root: str | Path = DEFAULT_ROOT, *, lock_timeout_s: float = 10.0) -> None:
        self.catalog = Catalog(Path(root), lock_timeout_s)

    @property
    def root(self) -> Path:
        return self.catalog.root

    @property
    def lock_timeout_s(self) -> float:
        return self.catalog.lock_timeout_s

    @property
    def catalog_path(self) -> Path:
        return self.catalog.path

    @property
    def embeddings_dir(self) -> Path:
        return embeddings_dir(self.catalog)

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"

    def exists(self) -> bool:
        """True once the catalog has been created."""
        return self.catalog.exists()

    def size_bytes(self) -> int:
        """Bytes on disk under the store directory."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    # -- connections (store.connection) ---------------------------------------------------------

    def writing(self) -> AbstractContextManager[None]:
        """Hold the writer lock (re-entrant within a thread); creates the store on first use."""
        return self.catalog.writing()

    def joined_writer(self) -> AbstractContextManager[None]:
        """In a helper thread: write under the lock another thread of this Store holds in ``writing()``."""
        return self.catalog.joined_writer()

    def reading(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A connection for reading: read-only, or read-write in a thread that holds the writer lock."""
        return self.catalog.reading()

    def transaction(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A connection under the writer lock whose statements commit together, or not at all."""
        return self.catalog.transaction()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read query on the catalog and return rows as dicts."""
        return self.catalog.query(sql, params)

    # -- videos and labels (store.videos) -------------------------------------------------------

    def record_ingest(self, videos: list[dict[str, Any]], errors: list[tuple[str, str]],
                      labels: Sequence[dict[str, Any]] = ()) -> IngestSummary:
        return record_ingest(self.catalog, videos, errors, labels)

    def remove_videos(self, refs: Sequence[str | Path]) -> list[dict[str, Any]]:
        return remove_videos(self.catalog, refs)

    def missing_under(self, root: str | Path) -> list[str]:
        return missing_under(self.catalog, root)

    def record_errors(self, errors: list[tuple[str, str]], stage: str) -> None:
        record_errors(self.catalog, errors, stage)

    def videos(self) -> list[dict[str, Any]]:
        return all_videos(self.catalog)

    def errors(self) -> list[dict[str, Any]]:
        return ingest_errors(self.catalog)

    def find_video(self, ref: str | Path) -> dict[str, Any] | None:
        return find_video(self.catalog, ref)

    def clip_labels(self) -> list[dict[str, Any]]:
        return clip_labels(self.catalog)

    def video_labels(self, video_ids: pa.Array | list[str]) -> tuple[list[str | None], list[str | None]]:
        return video_labels(self.catalog, video_ids)

    # -- embedding sets (store.sets, store.manifest, store.vectors, store.augment_views, store.notes)

    def ensure_set(self, *, backbone: str, weights: str, frames: int, sampling: str, input_size: int,
                   options: dict[str, Any], dim: int, name: str | None = None) -> EmbeddingSet:
        return ensure_set(self.catalog, backbone=backbone, weights=weights, frames=frames, sampling=sampling,
                          input_size=input_size, options=options, dim=dim, name=name)

    def sets(self) -> list[EmbeddingSet]:
        return all_sets(self.catalog)

    def get_set(self, ref: str | None = None, *, default_backbone: str | None = None) -> EmbeddingSet:
        return get_set(self.catalog, ref, default_backbone=default_backbone)

    def set_version(self, set_id: str) -> str:
        return set_version(self.catalog, set_id)

    def set_files(self, set_id: str) -> list[Path]:
        return set_files(self.catalog, set_id)

    def embedded_keys(self, set_id: str) -> set[tuple[str, str, int]]:
        return embedded_keys(self.catalog, set_id)

    def commit_embeddings(self, set_id: str, table: pa.Table, notes: Sequence[tuple[str, str, int, str]] = ()) -> Path:
        return commit_embeddings(self.catalog, set_id, table, notes)

    def clean_orphans(self) -> list[Path]:
        return clean_orphans(self.catalog)

    def load_vectors(self, set_id: str, *, views: Sequence[str] | None = (ORIGINAL_VIEW,)) -> tuple[pa.Table, np.ndarray]:
        return load_vectors(self.catalog, set_id, views=views)

    def stored_vector(self, set_id: str, video_id: str, view: str = ORIGINAL_VIEW, window: int = 0) -> np.ndarray | None:
        return stored_vector(self.catalog, set_id, video_id, view, window)

    def record_views(self, set_id: str, views: list[dict[str, Any]]) -> None:
        record_views(self.catalog, set_id, views)

    def view_records(self, set_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        return view_records(self.catalog, set_id)

    def notes(self) -> list[dict[str, Any]]:
        return embed_notes(self.catalog)

    # -- SQL (store.sql) ------------------------------------------------------------------------

    def sql(self, query: str, *, default_backbone: str | None = None, limit: int | None = None,
            timeout_s: float | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        return run_sql(self.catalog, query, default_backbone=default_backbone, limit=limit, timeout_s=timeout_s)
