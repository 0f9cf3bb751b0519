"""Which embedding set a command means: the one rule above the store for a missing ``--set``."""

from __future__ import annotations

from embed.registry import DEFAULT_BACKBONE
from store import EmbeddingSet, Store


def resolve_set(store: Store, ref: str | None = None) -> EmbeddingSet:
    """The set ``ref`` names (a set id, a name, or a backbone with one set); None: the only set, else the
    default backbone's. Raises the store's NoSuchSet saying which refs exist."""
    return store.get_set(ref, default_backbone=DEFAULT_BACKBONE)
