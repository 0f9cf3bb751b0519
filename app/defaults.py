"""Defaults every front end shares, defined once (the library's own constants, re-exported)."""

from __future__ import annotations

from collections.abc import Sequence

from embed import DEFAULT_BACKBONE
from store import DEFAULT_ROOT, ORIGINAL_VIEW, EmbeddingSet, Store

DEFAULT_DEVICE = "auto"

ALL_VIEWS = "all"
DEFAULT_VIEWS = (ORIGINAL_VIEW,)
DEFAULT_METRIC = "l2"

__all__ = ["ALL_VIEWS", "DEFAULT_BACKBONE", "DEFAULT_DEVICE", "DEFAULT_METRIC", "DEFAULT_ROOT", "DEFAULT_VIEWS",
           "ORIGINAL_VIEW", "views_or_all"]


def views_or_all(views: Sequence[str]) -> tuple[str, ...] | None:
    """The views asked for; ``all`` among them means every view (None, as the library takes it)."""
    return None if ALL_VIEWS in views else tuple(views)


def resolve_set(store: Store, ref: str | None) -> EmbeddingSet:
    """The set ``ref`` names; with none, the only set, else the default backbone's."""
    return store.get_set(ref, default_backbone=DEFAULT_BACKBONE)
