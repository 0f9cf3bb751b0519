"""The application layer: one function per user job, plain arguments in, plain results out.

The CLI and the HTTP service only translate: they parse, call one of these, and print or send the
result (``app.encode``). Every job raises only ``app.errors`` kinds. Names are imported on first use
(``store.lazy``), so ``import app`` costs nothing until a job runs.
"""

from store.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "app.analyses": ("analyze", "compare", "report"),
    "app.browse": ("get_video", "list_videos", "probe_clip"),
    "app.catalog": ("check", "dataset_export", "export", "ingest", "list_backbones", "list_errors", "list_sets",
                    "open_store", "remove", "sql"),
    "app.detectors": ("evaluate", "list_detectors", "score", "train"),
    "app.embedding": ("augment", "embed"),
    "app.errors": ("ActionstoreError", "Conflict", "Internal", "InvalidInput", "NotFound"),
    "app.preparing": ("crop", "demo_data", "transcode"),
    "app.search": ("neighbors", "within"),
    "store.store": ("Store",),
})
