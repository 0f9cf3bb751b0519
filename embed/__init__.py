"""Backbone registry, weight loading, planning what a set lacks, and the engines that fill the store.

The names below are imported on first use (``from embed import embed_store``), so importing a light
submodule such as ``embed.errors`` does not load the store, NumPy or the decoders.
"""

from store.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "embed.errors": ("BadFrameCount", "EmbedError", "UnknownBackbone", "WeightsUnavailable"),
    "embed.model_cache": ("DEFAULT_DEVICE",),
    "embed.query": ("Neighbors", "RangeResult", "embed_clip", "neighbors", "query_vector", "range_query"),
    "embed.registry": ("DEFAULT_BACKBONE", "BackboneSpec", "backbones", "get_backbone"),
    "embed.report": ("EmbedReport",),
    "embed.runner": ("embed_store",),
    "embed.sets": ("resolve_set",),
})
