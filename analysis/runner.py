"""Run an analysis on a set, or reuse the stored run for the same parameters on the unchanged set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from analysis import centroid_distances, hypersphere, projection, separability
from analysis.data import load_embeddings, resolve_views
from analysis.errors import AnalysisError
from embed.sets import resolve_set
from store import METRICS, ORIGINAL_VIEW, EmbeddingSet, Store, StoreError
from store.runs import Run, find_run, record_run, run_id_for, run_table

TABLES = {
    "projection": ("projection",),
    "centroids": ("centroid_distances", "centroid_matrix"),
    "hypersphere": ("hypersphere",),
    "separability": ("separability",),
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "projection": {"method": "tsne", "perplexity": 40.0, "seed": 0, "classes": None, "views": [ORIGINAL_VIEW]},
    "centroids": {"metric": "l2", "target": None, "classes": None, "views": [ORIGINAL_VIEW]},
    "hypersphere": {"metric": "l2", "views": [ORIGINAL_VIEW]},
    "separability": {"metric": "l2", "k": 1, "views": [ORIGINAL_VIEW]},
}


@dataclass
class AnalysisResult:
    """A run with its tables and PNGs; ``reused`` when it came from the store."""

    set: EmbeddingSet
    run: Run
    tables: dict[str, pa.Table]
    reused: bool

    @property
    def artifacts(self) -> list[Path]:
        return [Path(p) for p in self.run.artifacts]


def run_analysis(store: Store, kind: str, *, set_ref: str | None = None, force: bool = False, **options: Any) -> AnalysisResult:
    """Run ``kind`` (projection, centroids, hypersphere, separability) with ``options`` over DEFAULTS."""
    eset = resolve_set(store, set_ref)
    params = DEFAULTS[kind] | {k: v for k, v in options.items() if v is not None}
    stored = None if force else find_run(store, kind, eset.set_id, params)
    if stored is not None and all(Path(p).exists() for p in stored.artifacts):
        return AnalysisResult(eset, stored, {name: run_table(store, name, stored.run_id) for name in TABLES[kind]}, True)
    version = store.set_version(eset.set_id)
    data = load_embeddings(store, eset, views=resolve_views(params.get("views")), classes=params.get("classes"),
                           min_classes=2 if kind in ("hypersphere", "separability") else 1)
    run_id = run_id_for(kind, eset.set_id, params, version)
    outdir = store.artifacts_dir / "analyses" / f"{kind}-{eset.name}-{run_id}"
    if kind == "projection":
        tables, artifacts, notes = projection.compute(data, params, outdir)
    elif kind == "centroids":
        tables, artifacts, notes = centroid_distances.compute(data, params, outdir)
    elif kind == "hypersphere":
        tables, artifacts, notes = hypersphere.compute(store, eset, data, params, outdir)
    else:
        (tables, notes), artifacts = separability.compute(store, eset, data, params), []
    run = record_run(store, kind, eset.set_id, params, tables, [str(p) for p in artifacts], notes, version=version)
    return AnalysisResult(eset, run, tables, False)


def compare(store: Store, *, set_refs: Sequence[str] | None = None, k: int = 1, metric: str = "l2",
            force: bool = False) -> tuple[pa.Table, list[AnalysisResult], list[str]]:
    """The separability leaderboard: one row per set, best leave-one-out k-NN accuracy first.

    Without ``set_refs``, sets that cannot be scored (one class, no vectors) are left out and named
    in the returned notes; a set asked for by name that cannot be scored is an error.
    """
    if metric not in METRICS:
        raise AnalysisError(f"metric {metric!r}: choose one of {', '.join(METRICS)}", param="metric")
    if k < 1:
        raise AnalysisError(f"k {k}: must be at least 1", param="k")
    sets = [store.get_set(ref) for ref in set_refs] if set_refs else [s for s in store.sets() if s.num_vectors]
    results, skipped = [], []
    for s in sets:
        try:
            results.append(run_analysis(store, "separability", set_ref=s.set_id, force=force, k=k, metric=metric))
        except (AnalysisError, StoreError) as exc:
            if set_refs:  # asked for by name: its problem is the answer
                raise
            skipped.append(f"set {s.name} left out: {exc}")
    board = pa.concat_tables([r.tables["separability"] for r in results]) if results else pa.table({})
    if board.num_rows:
        board = board.sort_by([("knn_accuracy", "descending"), ("name", "ascending")])
    return board, results, skipped
