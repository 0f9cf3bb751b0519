"""Parquet embedding files: the row schema, the atomic write (temporary name, then rename), provenance.

Each part's file metadata names the set it belongs to (``PROVENANCE`` keys), so a part found alone
says what it is: ``part_provenance(path)``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from store.atomic import temporary_path
from store.errors import DamagedPart

PROVENANCE = {"set_id": str, "set_name": str, "backbone": str, "weights": str, "frames": int, "dim": int,
              "schema_version": int}


def embedding_schema(dim: int) -> pa.Schema:
    """Columns of an embedding file: the key ``(video_id, view, window)``, the time span, the vector."""
    return pa.schema(
        [
            ("video_id", pa.string()),
            ("view", pa.string()),
            ("window", pa.int32()),
            ("t_start", pa.float32()),
            ("t_end", pa.float32()),
            ("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def embedding_table(
    video_ids: list[str], views: list[str], windows: list[int], t_start: list[float], t_end: list[float], vectors: np.ndarray
) -> pa.Table:
    """Build an embedding table from columns; ``vectors`` is ``(rows, dim)``."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(video_ids):
        raise ValueError(f"vectors of shape {vectors.shape} do not match {len(video_ids)} rows")
    dim = vectors.shape[1]
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    return pa.table(
        [
            pa.array(video_ids, pa.string()),
            pa.array(views, pa.string()),
            pa.array(windows, pa.int32()),
            pa.array(t_start, pa.float32()),
            pa.array(t_end, pa.float32()),
            pa.FixedSizeListArray.from_arrays(flat, dim),
        ],
        schema=embedding_schema(dim),
    )


def write_part(folder: Path, table: pa.Table, provenance: dict[str, Any]) -> Path:
    """Write ``table`` as a new ``part-*.parquet`` in ``folder`` atomically and durably, with ``provenance``
    (the ``PROVENANCE`` keys) in its file metadata; return its path."""
    if set(provenance) != set(PROVENANCE):
        raise ValueError(f"provenance needs exactly {', '.join(PROVENANCE)}")
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"part-{uuid.uuid4().hex}.parquet"
    tmp = temporary_path(final)
    metadata = (table.schema.metadata or {}) | {k.encode(): str(v).encode() for k, v in provenance.items()}
    try:
        pq.write_table(table.replace_schema_metadata(metadata), tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    finally:  # a failed write (a full disk) leaves no temporary file behind
        tmp.unlink(missing_ok=True)
    return final


def read_parts(paths: list[Path], columns: list[str] | None = None) -> pa.Table | None:
    """Concatenate committed parts (None when there are none); a part that cannot be read raises
    ``DamagedPart`` naming it."""
    if not paths:
        return None
    return pa.concat_tables([read_part(p, columns) for p in paths])


def read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    """One committed part, whole (``DamagedPart`` when it cannot be read)."""
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise DamagedPart(path, str(exc)) from exc


def part_provenance(path: Path) -> dict[str, Any]:
    """The set a part belongs to, from its file metadata (``PROVENANCE`` keys, typed); {} for a part
    written before parts carried it."""
    metadata = pq.read_schema(path).metadata or {}
    return {k: kind(metadata[k.encode()].decode()) for k, kind in PROVENANCE.items() if k.encode() in metadata}
