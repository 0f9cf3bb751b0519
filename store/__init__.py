"""The store: DuckDB catalog + Parquet embedding files + FAISS indexes. Imports no other package of ours."""

from store.errors import NoSuchSet, NoSuchVideo, ReadOnlySQL, StoreBusy, StoreError, StoreLocked
from store.index import METRICS, SetIndex, get_index
from store.search import Hit, centroid_of, counts_by_label, nearest, within
from store.schema import ORIGINAL_VIEW
from store.store import DEFAULT_ROOT, EmbeddingSet, IngestSummary, Store, set_id_for

__all__ = [
    "DEFAULT_ROOT", "ORIGINAL_VIEW", "EmbeddingSet", "Hit", "IngestSummary", "METRICS", "NoSuchSet", "NoSuchVideo",
    "ReadOnlySQL", "SetIndex", "Store", "StoreBusy", "StoreError", "StoreLocked", "centroid_of", "counts_by_label",
    "get_index", "nearest", "set_id_for", "within",
]
