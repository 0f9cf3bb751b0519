"""Backbone registry, weight loading, planning what a set lacks, and the engines that fill the store."""

from embed.errors import BadFrameCount, EmbedError, UnknownBackbone, WeightsUnavailable
from embed.model_cache import DEFAULT_DEVICE
from embed.query import Neighbors, RangeResult, embed_clip, neighbors, query_vector, range_query
from embed.registry import DEFAULT_BACKBONE, BackboneSpec, backbones, get_backbone
from embed.report import EmbedReport
from embed.runner import embed_store
from embed.sets import resolve_set

__all__ = [
    "BackboneSpec", "BadFrameCount", "DEFAULT_BACKBONE", "DEFAULT_DEVICE", "EmbedError", "EmbedReport", "Neighbors",
    "RangeResult", "UnknownBackbone", "WeightsUnavailable", "backbones", "embed_clip", "embed_store", "get_backbone",
    "neighbors", "query_vector", "range_query", "resolve_set",
]
