"""Defaults every front end shares, defined once (the library's own constants, re-exported)."""

from __future__ import annotations

from collections.abc import Sequence

from embed.model_cache import DEFAULT_DEVICE
from embed.registry import DEFAULT_BACKBONE
from store.schema import DEFAULT_K, DEFAULT_ROOT, ORIGINAL_VIEW

ALL_VIEWS = "all"
DEFAULT_VIEWS = (ORIGINAL_VIEW,)
DEFAULT_METRIC = "l2"
SQL_ROW_LIMIT = 10_000  # rows a query returns at most
SQL_TIME_LIMIT_S = 30.0  # seconds a query may run
MAX_UPLOAD_MB = 64.0  # the largest clip the service accepts
MAX_CLIP_S = 60.0  # the longest clip the service accepts

__all__ = ["ALL_VIEWS", "DEFAULT_BACKBONE", "DEFAULT_DEVICE", "DEFAULT_K", "MAX_CLIP_S", "MAX_UPLOAD_MB", "DEFAULT_METRIC", "DEFAULT_ROOT", "DEFAULT_VIEWS", "SQL_ROW_LIMIT", "SQL_TIME_LIMIT_S",
           "ORIGINAL_VIEW", "views_or_all"]


def views_or_all(views: Sequence[str]) -> tuple[str, ...] | None:
    """The views asked for; ``all`` among them means every view (None, as the library takes it)."""
    return None if ALL_VIEWS in views else tuple(views)
