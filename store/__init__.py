"""The store: DuckDB catalog + Parquet embedding files + FAISS indexes. Imports no other package of ours.

Names are imported on first use (``store.lazy``): ``store.schema`` or ``store.errors`` alone load no
DuckDB, Arrow or NumPy.
"""

from store.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "store.errors": ("NoSuchSet", "NoSuchVideo", "ReadOnlySQL", "StoreBusy", "StoreError", "StoreLocked"),
    "store.index": ("METRICS", "SetIndex", "get_index"),
    "store.search": ("Hit", "centroid_of", "counts_by_label", "nearest", "within"),
    "store.schema": ("DEFAULT_ROOT", "ORIGINAL_VIEW"),
    "store.store": ("EmbeddingSet", "IngestSummary", "Store", "set_id_for"),
})
