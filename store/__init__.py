"""The store: DuckDB catalog + Parquet embedding files + FAISS indexes. Imports no other package of ours."""

from store.errors import NoSuchSet, ReadOnlySQL, StoreError, StoreLocked
from store.search import knn
from store.store import DEFAULT_ROOT, EmbeddingSet, IngestSummary, Store, set_id_for

__all__ = [
    "DEFAULT_ROOT", "EmbeddingSet", "IngestSummary", "NoSuchSet", "ReadOnlySQL", "Store",
    "StoreError", "StoreLocked", "knn", "set_id_for",
]
