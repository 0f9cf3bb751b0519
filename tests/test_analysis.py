"""Analyses on hand-made vector sets whose answers are known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.errors import AnalysisError
from analysis.runner import compare, run_analysis
from ingest import scan_folder
from store import Store
from store.parquet_parts import embedding_table


def labelled_store(store: Store, demo_root: Path, tmp_path: Path, vectors: dict[str, np.ndarray]) -> Store:
    """A store whose clips carry the given labels and exactly the given vectors (one row per clip)."""
    sources = sorted((demo_root / "videos").glob("*/*.*"))
    sources = [p for p in sources if p.suffix != ".csv"]
    folder = tmp_path / "labelled"
    order = []
    for label, rows in vectors.items():
        (folder / label).mkdir(parents=True)
        for i in range(len(rows)):
            target = folder / label / f"c{i:02d}{sources[len(order)].suffix}"
            target.write_bytes(sources[len(order)].read_bytes())
            order.append((str(target.resolve()), rows[i]))
    result = scan_folder(folder, progress=False)
    store.record_ingest(result.videos, result.errors)
    ids = {v["path"]: v["video_id"] for v in store.videos()}
    dim = len(order[0][1])
    eset = store.ensure_set(backbone="hand", weights="random-init", frames=1, sampling="uniform", input_size=1, options={}, dim=dim)
    n = len(order)
    store.commit_embeddings(eset.set_id, embedding_table(
        [ids[p] for p, _ in order], ["original"] * n, [0] * n, [0.0] * n, [1.0] * n, np.array([v for _, v in order], np.float32)))
    return store


def blobs(n: int, dim: int, seed: int = 0, gap: float = 20.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(size=(n, dim)), "b": rng.normal(size=(n, dim)) + gap}


def png_ok(path: Path, min_size: tuple[int, int] = (300, 200)) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] >= min_size[0] and image.size[1] >= min_size[1]
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 5  # drawn content, not a blank canvas


def test_hypersphere_counts_by_construction(store: Store, demo_root: Path, tmp_path: Path) -> None:
    a = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [0, 0]], float)  # centroid at the origin, r_far = 1
    b = np.array([[0.5, 0], [0.6, 0.8], [10, 0], [10, 1], [11, 0]], float)  # an intruder; a point exactly at r = 1
    labelled_store(store, demo_root, tmp_path, {"a": a, "b": b})
    result = run_analysis(store, "hypersphere")
    rows = result.tables["hypersphere"].to_pylist()
    inside = {(r["class"], r["sphere"], r["label"]): r["count"] for r in rows}
    radius = {(r["class"], r["sphere"]): r["radius"] for r in rows}
    assert radius[("a", "r_far")] == pytest.approx(1.0, abs=1e-6)
    assert radius[("a", "r_near")] == pytest.approx(0.5, abs=1e-6)
    assert inside[("a", "r_far", "a")] == 5 and inside[("a", "r_far", "b")] == 2  # boundary point included
    assert inside[("a", "r_near", "a")] == 1 and ("a", "r_near", "b") not in inside  # only (0,0) strictly inside
    centre_b = b.mean(axis=0)
    r_far_b = np.linalg.norm(b - centre_b, axis=1).max()
    everything = np.vstack([a, b])
    assert inside[("b", "r_far", "a")] == int((np.linalg.norm(a - centre_b, axis=1) <= r_far_b + 1e-6).sum())
    assert radius[("b", "r_near")] == pytest.approx(np.linalg.norm(a - centre_b, axis=1).min(), rel=1e-5)
    assert sum(inside[("b", "r_far", x)] for x in "ab" if ("b", "r_far", x) in inside) == int(
        (np.linalg.norm(everything - centre_b, axis=1) <= r_far_b + 1e-6).sum())
    for path in result.artifacts:
        png_ok(path)
    columns, sql_rows = store.sql(f"SELECT count(*) FROM analysis_hypersphere WHERE run_id = '{result.run.run_id}'")
    assert sql_rows == [(len(rows),)]


def test_centroid_distances_match_numpy(store: Store, demo_root: Path, tmp_path: Path) -> None:
    vectors = blobs(4, 6)
    labelled_store(store, demo_root, tmp_path, vectors)
    result = run_analysis(store, "centroids", target="b")
    centres = {k: v.mean(axis=0) for k, v in vectors.items()}
    table = result.tables["centroid_distances"]
    assert table.num_rows == 8 * 2
    matrix = {(r["label_a"], r["label_b"]): r["distance"] for r in result.tables["centroid_matrix"].to_pylist()}
    assert matrix[("a", "a")] == pytest.approx(0, abs=1e-9)
    assert matrix[("a", "b")] == pytest.approx(np.linalg.norm(centres["a"] - centres["b"]), rel=1e-5) == matrix[("b", "a")]
    to_b = sorted(r["distance"] for r in table.to_pylist() if r["centroid_label"] == "b" and r["label"] == "a")
    assert to_b == pytest.approx(sorted(np.linalg.norm(vectors["a"] - centres["b"], axis=1)), rel=1e-5)
    assert [p.name for p in result.artifacts] == ["centroid_matrix.png", "distances_to_b.png"]
    for path in result.artifacts:
        png_ok(path)


def test_tsne_keeps_separated_classes_apart(store: Store, demo_root: Path, tmp_path: Path) -> None:
    labelled_store(store, demo_root, tmp_path, blobs(10, 16))
    result = run_analysis(store, "projection", perplexity=40)
    assert any("perplexity 40 is too large for 20 points" in n for n in result.run.notes)
    table = result.tables["projection"]
    xy = np.column_stack([table.column("x").to_numpy(), table.column("y").to_numpy()])
    labels = np.array(table.column("label").to_pylist())
    distances = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert (labels[distances.argmin(axis=1)] == labels).mean() == 1.0  # 1-NN in 2-D, leave-one-out
    png_ok(result.artifacts[0])
    pca = run_analysis(store, "projection", method="pca", classes=["a"])
    assert set(pca.tables["projection"].column("label").to_pylist()) == {"a"}


def test_separability_separated_versus_mixed(store: Store, demo_root: Path, tmp_path: Path) -> None:
    labelled_store(store, demo_root, tmp_path, blobs(10, 8))
    board, _, _ = compare(store)
    row = board.to_pylist()[0]
    assert row["knn_accuracy"] == 1.0 and row["silhouette"] > 0.8 and row["mean_margin"] > 0 and row["confused"] == ""
    assert row["chance"] == 0.5 and row["clips"] == 20


def test_separability_of_mixed_classes_is_near_chance(tmp_path: Path, demo_root: Path) -> None:
    store = labelled_store(Store(tmp_path / "mixed"), demo_root, tmp_path, blobs(10, 8, gap=0.0))
    row = compare(store)[0].to_pylist()[0]
    assert row["knn_accuracy"] < 0.8 and row["silhouette"] < 0.2 and row["mean_margin"] < 0 and "->" in row["confused"]


def test_runs_are_reused_unless_forced_or_the_set_changed(store: Store, demo_root: Path, tmp_path: Path) -> None:
    labelled_store(store, demo_root, tmp_path, blobs(4, 6))
    first = run_analysis(store, "centroids")
    again = run_analysis(store, "centroids")
    assert again.reused and again.run.run_id == first.run.run_id
    assert again.tables["centroid_matrix"].equals(first.tables["centroid_matrix"])
    forced = run_analysis(store, "centroids", force=True)
    assert not forced.reused
    assert store.sql("SELECT count(*) FROM analysis_centroid_matrix")[1] == [(4,)]  # replaced, not duplicated
    store.remove_videos([store.videos()[0]["video_id"]])
    changed = run_analysis(store, "centroids")
    assert not changed.reused and changed.run.run_id != first.run.run_id


def test_bad_analysis_input(store: Store, demo_root: Path, tmp_path: Path) -> None:
    labelled_store(store, demo_root, tmp_path, {"a": np.zeros((1, 3)) + 1, "b": np.ones((3, 3)) * 5 + np.eye(3)})
    result = run_analysis(store, "hypersphere")
    assert any("class a has one clip" in n and "r_far is 0" in n for n in result.run.notes)
    radius = {(r["class"], r["sphere"]): r["radius"] for r in result.tables["hypersphere"].to_pylist()}
    assert radius[("a", "r_far")] == 0
    before = store.sql("SELECT count(*) FROM analysis_runs")[1]
    with pytest.raises(AnalysisError, match="classes zzz: not in set"):
        run_analysis(store, "projection", classes=["zzz"])
    with pytest.raises(AnalysisError, match="only 1 embeddings: a 2-D map needs at least 4"):
        run_analysis(store, "projection", classes=["a"], method="pca")
    with pytest.raises(AnalysisError, match="perplexity -1.0: must be positive"):
        run_analysis(store, "projection", perplexity=-1)
    assert store.sql("SELECT count(*) FROM analysis_runs")[1] == before


def test_a_set_with_one_class_is_refused(tmp_path: Path, demo_root: Path) -> None:
    store = labelled_store(Store(tmp_path / "one"), demo_root, tmp_path, {"a": np.eye(4)})
    for kind in ("hypersphere", "separability"):
        with pytest.raises(AnalysisError, match="has 1 class"):
            run_analysis(store, kind)


def test_report_is_one_self_contained_page(store: Store, demo_root: Path, tmp_path: Path) -> None:
    import base64
    import io
    import re
    from html.parser import HTMLParser

    from analysis.report import write_report

    labelled_store(store, demo_root, tmp_path, blobs(6, 8))
    path = write_report(store)
    assert path.parent == store.artifacts_dir and path.name == "report-hand_f1_random.html"
    page = path.read_text()

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.images: list[str] = []
            self.headings: list[str] = []
            self._in_h2 = False

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.images.append(dict(attrs)["src"])
            self._in_h2 = tag == "h2"

        def handle_data(self, data):
            if self._in_h2:
                self.headings.append(data)
                self._in_h2 = False

    parser = Collect()
    parser.feed(page)
    assert parser.headings[:4] == ["Separability", "Map", "Centroids", "Hyperspheres"]
    assert len(parser.images) == 5 and all(src.startswith("data:image/png;base64,") for src in parser.images)
    for src in parser.images:
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as image:
            assert image.size[0] > 300
    assert "random-init" in page and re.search(r"<td>1</td>", page)  # the k-NN accuracy of two far blobs


def test_report_renders_in_a_headless_browser_without_errors(store: Store, demo_root: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless Chromium on this machine (apt-get install chromium)")
    from analysis.report import write_report

    labelled_store(store, demo_root, tmp_path, blobs(6, 8))
    page = write_report(store)
    shot = tmp_path / "report.png"
    result = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line or "ERR_FILE" in line]
    assert console == [], console
    png_ok(shot, min_size=(1200, 2000))


def test_leaderboard_survives_a_set_without_silhouette_and_skips_unscorable_sets(store: Store, demo_root: Path, tmp_path: Path) -> None:
    labelled_store(store, demo_root, tmp_path, {"a": np.zeros((1, 3)), "b": np.ones((1, 3))})  # 2 clips: no silhouette
    ids = [v["video_id"] for v in store.videos()]
    good = store.ensure_set(backbone="other", weights="random-init", frames=1, sampling="uniform", input_size=1, options={}, dim=2)
    store.commit_embeddings(good.set_id, embedding_table(ids, ["original"] * 2, [0, 0], [0.0] * 2, [1.0] * 2, np.eye(2, dtype=np.float32)))
    store.commit_embeddings(good.set_id, embedding_table(ids, ["aug-1"] * 2, [0, 0], [0.0] * 2, [1.0] * 2, np.eye(2, dtype=np.float32)))
    lonely = store.ensure_set(backbone="lonely", weights="random-init", frames=1, sampling="uniform", input_size=1, options={}, dim=2)
    store.commit_embeddings(lonely.set_id, embedding_table(ids[:1], ["original"], [0], [0.0], [1.0], np.ones((1, 2), np.float32)))
    board, results, skipped = compare(store)
    rows = {r["name"]: r for r in board.to_pylist()}
    assert rows["hand_f1_random"]["silhouette"] is None and set(rows) == {"hand_f1_random", "other_f1_random"}
    assert rows["other_f1_random"]["clips"] == 2 and rows["other_f1_random"]["chance"] == 0.5  # views do not count twice
    assert len(skipped) == 1 and "lonely_f1_random left out" in skipped[0] and "has 1 class" in skipped[0]
    with pytest.raises(AnalysisError, match="has 1 class"):
        compare(store, set_refs=["lonely_f1_random"])


def test_a_run_is_not_recorded_against_a_set_that_changed(store: Store, demo_root: Path, tmp_path: Path) -> None:
    from store import StoreError
    from store.runs import record_run

    labelled_store(store, demo_root, tmp_path, blobs(2, 3))
    eset = store.get_set()
    with pytest.raises(StoreError, match="changed while the centroids analysis ran"):
        record_run(store, "centroids", eset.set_id, {}, {}, [], [], version="stale")
    assert store.sql("SELECT count(*) FROM analysis_runs")[1] == [(0,)]


def test_views_all_is_its_own_run_and_bad_perplexity_is_refused(store: Store, demo_root: Path, tmp_path: Path) -> None:
    labelled_store(store, demo_root, tmp_path, blobs(3, 4))
    original = run_analysis(store, "hypersphere")
    every = run_analysis(store, "hypersphere", views=["all"])
    assert not every.reused and every.run.run_id != original.run.run_id and every.run.params["views"] == ["all"]
    with pytest.raises(AnalysisError, match="perplexity nan: must be positive"):
        run_analysis(store, "projection", perplexity=float("nan"))
