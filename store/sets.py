"""Embedding sets: their settings and ids, registering and resolving them, and their version."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from store.connection import Catalog
from store.errors import NoSuchSet, StoreError
from store.schema import utc_now

SET_SETTINGS = ("backbone", "weights", "frames", "sampling", "input_size", "options")


@dataclass(frozen=True)
class EmbeddingSet:
    """One embedding set: a backbone with its weights and frame settings. ``set_id`` hashes the settings."""

    set_id: str
    name: str
    backbone: str
    weights: str
    frames: int
    sampling: str
    input_size: int
    options: dict[str, Any]
    dim: int
    num_vectors: int = 0

    @property
    def view_name(self) -> str:
        """The SQL view holding this set's vectors joined to ``videos``."""
        return f"emb_{self.name}"


def set_id_for(settings: dict[str, Any]) -> str:
    """A stable id for a set's settings: 12 hex digits of the SHA-256 of their canonical JSON."""
    canonical = json.dumps({k: settings[k] for k in SET_SETTINGS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def ensure_set(catalog: Catalog, *, backbone: str, weights: str, frames: int, sampling: str, input_size: int,
               options: dict[str, Any], dim: int, name: str | None = None) -> EmbeddingSet:
    """Return the set with these settings, registering it on first use (``name``: its display name)."""
    settings = dict(backbone=backbone, weights=weights, frames=frames, sampling=sampling,
                    input_size=input_size, options=options)
    set_id = set_id_for(settings)
    with catalog.writing(), catalog.connect(read_only=False) as con:
        row = con.execute("SELECT dim FROM embedding_sets WHERE set_id = ?", [set_id]).fetchone()
        if row is None:
            name = name or f"{backbone}_f{frames}" + ("_random" if weights == "random-init" else "")
            if con.execute("SELECT 1 FROM embedding_sets WHERE name = ?", [name]).fetchone():
                name = f"{name}_{set_id[:6]}"
            con.execute(
                "INSERT INTO embedding_sets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [set_id, name, backbone, weights, frames, sampling, input_size,
                 json.dumps(options, sort_keys=True), dim, utc_now()],
            )
        elif row[0] != dim:
            raise StoreError(
                f"set {set_id}: its vectors have dim {row[0]} but {backbone} now gives {dim}; "
                "the backbone changed since the set was made: embed into a new store (--store)"
            )
    return get_set(catalog, set_id)


def all_sets(catalog: Catalog) -> list[EmbeddingSet]:
    """Every embedding set with its vector count, oldest first."""
    rows = catalog.query(
        "SELECT s.*, coalesce(sum(f.num_rows), 0)::BIGINT AS num_vectors FROM embedding_sets s "
        "LEFT JOIN embedding_files f USING (set_id) GROUP BY ALL ORDER BY s.created_at"
    )
    return [
        EmbeddingSet(
            set_id=r["set_id"], name=r["name"], backbone=r["backbone"], weights=r["weights"],
            frames=r["frames"], sampling=r["sampling"], input_size=r["input_size"],
            options=json.loads(r["options"]), dim=r["dim"], num_vectors=int(r["num_vectors"]),
        )
        for r in rows
    ]


def get_set(catalog: Catalog, ref: str | None = None, *, default_backbone: str | None = None) -> EmbeddingSet:
    """Resolve a set by id, name or backbone name; with no ref, the only set, else the default backbone's."""
    sets = all_sets(catalog) if catalog.exists() else []
    if not sets:
        raise NoSuchSet(f"{catalog.root}: no embedding sets yet; run `actionstore embed` first")
    if ref is None:
        if len(sets) == 1:
            return sets[0]
        matches = [s for s in sets if s.backbone == default_backbone]
        if len(matches) == 1:
            return matches[0]
        raise NoSuchSet(f"several embedding sets ({', '.join(s.name for s in sets)}); choose one with --set")
    for key in ("set_id", "name", "backbone"):
        matches = [s for s in sets if getattr(s, key) == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NoSuchSet(f"set {ref!r} names {len(matches)} sets ({', '.join(s.name for s in matches)}); pass a set name or id", param="set")
    raise NoSuchSet(f"set {ref!r}: no such embedding set; known sets: {', '.join(s.name for s in sets)}", param="set")


def set_version(catalog: Catalog, set_id: str) -> str:
    """A fingerprint of what a set holds now: its committed files and the catalogued videos
    (ids, labels and paths). Derived data (indexes, analysis runs) records it and is redone when it differs.
    """
    row = catalog.query(
        "SELECT (SELECT coalesce(string_agg(file, ',' ORDER BY file), '') FROM embedding_files WHERE set_id = ?) AS files, "
        "(SELECT md5(coalesce(string_agg(video_id || '|' || label || '|' || path, ',' ORDER BY video_id), '')) "
        "FROM videos) AS videos",
        [set_id],
    )[0]
    return hashlib.sha256(f"{row['files']}\n{row['videos']}".encode()).hexdigest()[:16]
