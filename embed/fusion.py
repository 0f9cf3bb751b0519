"""Fused sets: per-set unit-length vectors of existing sets, concatenated (``fuse:a+b``).

A fused set runs no model: it combines what its part sets already hold, so appearance
(``effnet_lite0_frames``) and motion (``flow_motion``) weigh equally. Its settings name the part
sets, so its id changes when a part's settings do; a new clip is embedded by each part's
backbone and fused the same way.
"""

from __future__ import annotations


import numpy as np
import pyarrow as pa

from embed.errors import EmbedError
from store import EmbeddingSet, Store
from store.parquet_parts import embedding_table

PREFIX = "fuse:"
BATCH = 4096


def is_fused(name: str) -> bool:
    return name.startswith(PREFIX)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def part_sets(store: Store, spec: str) -> list[EmbeddingSet]:
    """The sets named in ``fuse:a+b`` (each a set id, name or backbone with one set)."""
    names = [n for n in spec[len(PREFIX):].split("+") if n]
    if len(names) < 2:
        raise EmbedError(f"backbone {spec!r}: name at least two sets, e.g. fuse:effnet_lite0_frames+flow_motion", param="backbone")
    sets = [store.get_set(name) for name in names]
    if len({s.set_id for s in sets}) != len(sets):
        raise EmbedError(f"backbone {spec!r}: a set is named twice", param="backbone")
    return sets


def fuse_sets(store: Store, spec: str) -> tuple[EmbeddingSet, int, int, int]:
    """Create or extend the fused set; returns ``(set, rows added, rows already there, files written)``."""
    if not store.exists():
        raise EmbedError(f"{store.root}: no store here yet; run `actionstore ingest DIR` first (or pass --store)")
    with store.writing():
        parts = part_sets(store, spec)
        loaded = [store.load_vectors(p.set_id, views=None) for p in parts]
        keyed = [{k: i for i, k in enumerate(zip(*(rows.column(c).to_pylist() for c in ("video_id", "view", "window"))))}
                 for rows, _ in loaded]
        common = [k for k in keyed[0] if all(k in other for other in keyed[1:])]
        if not common:
            raise EmbedError(f"backbone {spec!r}: the sets share no embedded clips; embed each of them first", param="backbone")
        eset = store.ensure_set(
            backbone=PREFIX + "+".join(p.name for p in parts), weights="fused:" + "+".join(p.set_id for p in parts),
            frames=0, sampling="fused", input_size=0, options={"parts": [p.set_id for p in parts]},
            dim=sum(p.dim for p in parts), name="fuse_" + "_".join(p.name for p in parts),
        )
        done = store.embedded_keys(eset.set_id)
        todo = [k for k in common if k not in done]
        first_rows = loaded[0][0]
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            fused = np.hstack([unit_rows(vectors[[index[k] for k in batch]]) for (_, vectors), index in zip(loaded, keyed)])
            positions = [keyed[0][k] for k in batch]
            store.commit_embeddings(eset.set_id, embedding_table(
                [k[0] for k in batch], [k[1] for k in batch], [k[2] for k in batch],
                first_rows.column("t_start").take(pa.array(positions)).to_pylist(),
                first_rows.column("t_end").take(pa.array(positions)).to_pylist(), fused))
        return store.get_set(eset.set_id), len(todo), len(common) - len(todo), -(-len(todo) // BATCH)
