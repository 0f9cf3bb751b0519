"""Export a set's vectors with their labels, for any other tool to read."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from store.schema import ORIGINAL_VIEW
from store.atomic import temporary_path
from store.errors import StoreError
from store.store import Store

FORMATS = (".parquet", ".npy")


def export_set(store: Store, set_id: str, target: str | Path, *, views: Sequence[str] | None = (ORIGINAL_VIEW,)) -> list[Path]:
    """Write the set's rows and vectors to ``target`` and return the files written.

    ``.parquet``: one file with video_id, view, window, t_start, t_end, label, path, vector.
    ``.npy``: the ``(rows, dim)`` float32 matrix, plus ``<stem>.rows.csv`` with the rows in the same order.
    Files are written under temporary names and renamed, so a failed export leaves nothing half-written.
    """
    target = Path(target)
    if target.suffix.lower() not in FORMATS:
        raise StoreError(f"to {target}: unknown format; end the file name with {' or '.join(FORMATS)}", param="to")
    if not target.parent.is_dir():
        raise StoreError(f"to {target}: folder {target.parent} does not exist; create it first", param="to")
    if target.is_dir():
        raise StoreError(f"to {target}: is a folder; give a file name", param="to")
    if target.resolve().is_relative_to(store.root.resolve()):
        raise StoreError(f"to {target}: inside the store; export to a folder outside {store.root}", param="to")
    rows, vectors = store.load_vectors(set_id, views=views)
    if rows.num_rows == 0:
        raise StoreError(f"set {set_id} has no vectors to export; run `actionstore embed` first")
    if target.suffix.lower() == ".parquet":
        flat = pa.array(vectors.reshape(-1), pa.float32())
        table = rows.append_column("vector", pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]))
        return _atomic({target: lambda handle: pq.write_table(table, handle)})
    sidecar = target.with_name(f"{target.stem}.rows.csv")
    return _atomic({target: lambda handle: np.save(handle, vectors), sidecar: lambda handle: pacsv.write_csv(rows, handle)})


def _atomic(writers: dict[Path, Callable[[BinaryIO], None]]) -> list[Path]:
    """Write every file under a temporary name first, then rename them all; on failure nothing changes."""
    temporary = {path: temporary_path(path) for path in writers}
    try:
        for path, write in writers.items():
            with open(temporary[path], "wb") as handle:
                write(handle)
        for path, tmp in temporary.items():
            os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(f"to {next(iter(writers))}: cannot write ({exc.strerror or exc}); choose a writable place", param="to") from exc
    finally:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)
    return list(writers)
