"""Backbone registry, weight loading, and the batched runner that fills the store."""

from embed.errors import BadFrameCount, EmbedError, UnknownBackbone, WeightsUnavailable
from embed.query import Neighbors, RangeResult, embed_clip, neighbors, query_vector, range_query
from embed.registry import DEFAULT_BACKBONE, BackboneSpec, backbones, get_backbone
from embed.runner import EmbedReport, embed_store

__all__ = [
    "BackboneSpec", "BadFrameCount", "DEFAULT_BACKBONE", "EmbedError", "EmbedReport", "Neighbors", "RangeResult",
    "UnknownBackbone", "WeightsUnavailable", "backbones", "embed_clip", "embed_store", "get_backbone", "neighbors",
    "query_vector", "range_query",
]
