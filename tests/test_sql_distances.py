"""The README's distance questions, each one SQL line, checked against numpy on a real store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from store import Store
from tests.test_index import fill

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_queries() -> list[str]:
    """The ``actionstore sql "..."`` examples of the README's distance section, in order."""
    text = README.read_text()
    section = text[text.index("### Distances in SQL"):]
    section = section[: section.index("\n### ", 5)]
    return [line.split('actionstore sql "', 1)[1].rstrip().rstrip('"') for line in section.splitlines()
            if line.startswith('actionstore sql "')]


CLOSER_TO_OTHER, NEAREST_TO_CLIP, NEAREST_CLASS = readme_queries()


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
    assert Path(paths[0]).name == "IMG_5001.mp4"  # the clip the README's example names
    _, rows = store.sql(NEAREST_TO_CLIP)
    assert [r[1] for r in rows] == [paths[i] for i in order]
    np.testing.assert_allclose([r[2] for r in rows], distances[order], rtol=1e-4)


def test_nearest_other_class_centroid(filled) -> None:
    store, _, _, _, c = filled
    _, rows = store.sql(NEAREST_CLASS)
    for label, nearest_class, d in rows:
        others = {other: np.linalg.norm(c[label] - c[other]) for other in c if other != label}
        assert nearest_class == min(others, key=others.get)
        assert d == pytest.approx(min(others.values()), rel=1e-4)
