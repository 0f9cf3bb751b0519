"""The application layer: one function per user job, plain arguments in, plain results out.

The CLI and the HTTP service only translate: they parse, call one of these, and print or send the
result (``app.encode``). Every job raises only ``app.errors`` kinds. Heavy libraries are imported
inside the jobs that need them, so importing ``app`` stays cheap.
"""

from pathlib import Path

from app.analyses import analyze, compare, report
from app.catalog import check, dataset_export, export, ingest, list_backbones, list_errors, list_sets, remove, sql
from app.defaults import DEFAULT_ROOT
from app.detectors import evaluate, list_detectors, score, train
from app.embedding import augment, embed
from app.errors import ActionstoreError, Conflict, Internal, InvalidInput, NotFound
from app.preparing import crop, demo_data, transcode
from app.search import neighbors, within
from store import Store

__all__ = [
    "ActionstoreError", "Conflict", "DEFAULT_ROOT", "Internal", "InvalidInput", "NotFound", "Store", "analyze", "augment",
    "check", "compare", "crop", "dataset_export", "demo_data", "embed", "evaluate", "export", "ingest", "list_backbones",
    "list_detectors", "list_errors", "list_sets", "neighbors", "open_store", "remove", "report", "score", "sql", "train",
    "transcode", "within",
]


def open_store(root: str | Path = DEFAULT_ROOT, *, lock_timeout_s: float = 10.0) -> Store:
    """The store at ``root`` (created by the first job that writes to it)."""
    return Store(root, lock_timeout_s=lock_timeout_s)
