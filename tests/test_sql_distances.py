"""The README's distance questions, each one SQL line, checked against numpy on a real store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from store import Store
from tests.test_index import fill

# Kept identical to the README's examples.
CLOSER_TO_OTHER = (
    "SELECT e.path FROM emb e, centroids own, centroids other WHERE e.label = 'screw' AND own.label = 'screw' "
    "AND other.label = 'unscrew' AND array_distance(e.vector, other.centroid) < array_distance(e.vector, own.centroid) "
    "ORDER BY e.path"
)
NEAREST_TO_CLIP = (
    "SELECT b.label, b.path, array_distance(a.vector, b.vector) AS d FROM emb a JOIN emb b ON a.video_id <> b.video_id "
    "WHERE a.path LIKE '%{name}' ORDER BY d LIMIT 5"
)
NEAREST_CLASS = (
    "SELECT a.label, arg_min(b.label, array_distance(a.centroid, b.centroid)) AS nearest_class, "
    "min(array_distance(a.centroid, b.centroid)) AS d FROM centroids a JOIN centroids b ON a.label <> b.label "
    "GROUP BY a.label ORDER BY a.label"
)


@pytest.fixture
def filled(store: Store, videos: Path):
    eset, ids, vectors = fill(store, videos)
    rows = {v["video_id"]: v for v in store.videos()}
    labels = np.array([rows[i]["label"] for i in ids])
    paths = [rows[i]["path"] for i in ids]
    centroids = {label: vectors[labels == label].mean(axis=0) for label in sorted(set(labels))}
    return store, vectors, labels, paths, centroids


def test_centroids_view_matches_numpy(filled) -> None:
    store, _, _, _, centroids = filled
    columns, rows = store.sql("SELECT label, n, centroid FROM centroids ORDER BY label")
    assert [r[0] for r in rows] == list(centroids) and {r[1] for r in rows} == {2}
    for label, _, centroid in rows:
        np.testing.assert_allclose(centroid, centroids[label], rtol=1e-5, atol=1e-5)


def test_clips_closer_to_another_centroid(filled) -> None:
    store, vectors, labels, paths, c = filled
    expected = sorted(p for v, lab, p in zip(vectors, labels, paths)
                      if lab == "screw" and np.linalg.norm(v - c["unscrew"]) < np.linalg.norm(v - c["screw"]))
    assert [r[0] for r in store.sql(CLOSER_TO_OTHER)[1]] == expected


def test_five_nearest_to_a_clip(filled) -> None:
    store, vectors, labels, paths, _ = filled
    distances = np.linalg.norm(vectors - vectors[0], axis=1)
    order = [i for i in np.argsort(distances) if i != 0][:5]
    _, rows = store.sql(NEAREST_TO_CLIP.format(name=Path(paths[0]).name))
    assert [r[1] for r in rows] == [paths[i] for i in order]
    np.testing.assert_allclose([r[2] for r in rows], distances[order], rtol=1e-4)


def test_nearest_other_class_centroid(filled) -> None:
    store, _, _, _, c = filled
    _, rows = store.sql(NEAREST_CLASS)
    for label, nearest_class, d in rows:
        others = {other: np.linalg.norm(c[label] - c[other]) for other in c if other != label}
        assert nearest_class == min(others, key=others.get)
        assert d == pytest.approx(min(others.values()), rel=1e-4)
