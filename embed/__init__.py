"""Backbone registry, weight loading, planning what a set lacks, and the engines that fill the store.

The names below are imported on first use (``from embed import embed_store``), so importing a light
submodule such as ``embed.errors`` does not load the store, NumPy or the decoders.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "embed.errors": ("BadFrameCount", "EmbedError", "UnknownBackbone", "WeightsUnavailable"),
    "embed.model_cache": ("DEFAULT_DEVICE",),
    "embed.query": ("Neighbors", "RangeResult", "embed_clip", "neighbors", "query_vector", "range_query"),
    "embed.registry": ("DEFAULT_BACKBONE", "BackboneSpec", "backbones", "get_backbone"),
    "embed.report": ("EmbedReport",),
    "embed.runner": ("embed_store",),
    "embed.sets": ("resolve_set",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'embed' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value
