"""Hypersphere membership per class (DESIGN.md section 6), on the store's exact range search.

For class c with centroid m_c: ``r_far`` is the distance from m_c to c's farthest member, and the
sphere of that radius (inclusive) shows who intrudes; ``r_near`` is the distance from m_c to the
nearest embedding of another class, and the open sphere of that radius (strictly inside) shows how
much of c is clean: no other class is inside it by construction.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from analysis import plots
from analysis.data import Embeddings, centroids, resolve_views
from store import EmbeddingSet, Store, nearest, within

TOLERANCE = 1e-6


def compute(store: Store, eset: EmbeddingSet, data: Embeddings, params: dict[str, Any],
            outdir: Path) -> tuple[dict[str, pa.Table], list[Path], list[str]]:
    """Table ``hypersphere``: class, sphere, radius, label, count; and a bar-chart grid per sphere."""
    classes, centres = centroids(data)
    views, metric = resolve_views(params["views"]), params["metric"]
    rows: dict[str, list[Any]] = {"class": [], "sphere": [], "radius": [], "label": [], "count": []}
    counts: dict[str, dict[str, dict[str, int]]] = {"r_far": {}, "r_near": {}}
    radii: dict[str, dict[str, float]] = {"r_far": {}, "r_near": {}}
    notes = []
    for label, centre in zip(classes, centres):
        members = data.vectors[data.labels == label]
        if metric == "l2":
            member_distances = np.linalg.norm(members - centre, axis=1)
        else:
            unit = centre / max(np.linalg.norm(centre), 1e-12)
            member_distances = 1 - (members / np.maximum(np.linalg.norm(members, axis=1, keepdims=True), 1e-12)) @ unit
        r_far = float(member_distances.max())
        if len(members) == 1:
            notes.append(f"class {label} has one clip: its centroid is that clip and r_far is 0")
        others = [c for c in classes if c != label]
        r_near = nearest(store, eset.set_id, centre[None, :], 1, metric=metric, views=views, labels=others,
                         kind="flat")[0][0].distance  # exact: an approximate r_near could let another class in
        hits = within(store, eset.set_id, centre, max(r_far, r_near), metric=metric, views=views)
        inside = {
            "r_far": Counter(h.label for h in hits if h.distance <= r_far * (1 + TOLERANCE) + TOLERANCE),
            "r_near": Counter(h.label for h in hits if h.distance < r_near * (1 - TOLERANCE)),
        }
        for sphere, radius in (("r_far", r_far), ("r_near", r_near)):
            found = dict(inside[sphere]) or {label: 0}
            counts[sphere][label], radii[sphere][label] = found, radius
            for name, count in sorted(found.items()):
                for key, value in zip(rows, (label, sphere, radius, name, count)):
                    rows[key].append(value)
    artifacts = [plots.sphere_counts(outdir / f"hypersphere_{sphere}.png", counts[sphere], radii[sphere], sphere)
                 for sphere in ("r_far", "r_near")]
    return {"hypersphere": pa.table(rows)}, artifacts, notes
