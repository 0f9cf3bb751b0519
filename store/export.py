"""Export a set's vectors with their labels, for any other tool to read."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from store.errors import StoreError
from store.store import Store

FORMATS = (".parquet", ".npy")


def export_set(store: Store, set_id: str, target: str | Path, *, views: Sequence[str] | None = ("original",)) -> list[Path]:
    """Write the set's rows and vectors to ``target`` and return the files written.

    ``.parquet``: one file with video_id, view, window, t_start, t_end, label, path, vector.
    ``.npy``: the ``(rows, dim)`` float32 matrix, plus ``<stem>.rows.csv`` with the rows in the same order.
    Files are written under temporary names and renamed, so a failed export leaves nothing half-written.
    """
    target = Path(target)
    if target.suffix.lower() not in FORMATS:
        raise StoreError(f"--to {target}: unknown format; end the file name with {' or '.join(FORMATS)}")
    if not target.parent.is_dir():
        raise StoreError(f"--to {target}: folder {target.parent} does not exist; create it first")
    rows, vectors = store.load_vectors(set_id, views=views)
    if rows.num_rows == 0:
        raise StoreError(f"set {set_id} has no vectors to export; run `actionstore embed` first")
    if target.suffix.lower() == ".parquet":
        flat = pa.array(vectors.reshape(-1), pa.float32())
        table = rows.append_column("vector", pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]))
        return [_atomic(target, lambda tmp: pq.write_table(table, tmp))]
    sidecar = target.with_name(f"{target.stem}.rows.csv")
    return [_atomic(target, lambda tmp: np.save(tmp, vectors)), _atomic(sidecar, lambda tmp: pacsv.write_csv(rows, tmp))]


def _atomic(path: Path, write) -> Path:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
