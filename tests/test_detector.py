"""One-class detectors: honest splits and thresholds, the original configs, baselines checked against brute force."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from detector.baselines import CentroidDetector, KnnDetector, MahalanobisDetector, PcaDetector
from detector.config import load_config
from detector.errors import DetectorError, TamperedDetector
from detector.evaluation import evaluate_detector
from detector.records import detector_rows, detector_split, detectors_dir
from detector.saved import load_detector
from detector.splits import make_split, parse_ratios
from detector.thresholds import best_f1_threshold, check_rule
from detector.training import train_detector
from store import Store
from store.parquet_parts import embedding_table
from tests.conftest import SEED_DIR

CLASSES = ("screw", "unscrew", "screw_1234")
VIEWS = ("original", "aug-1", "aug-2")


def synthetic_store(root: Path, *, videos_per_class: int = 10, dim: int = 12, seed: int = 0,
                    test_shift: dict[str, float] | None = None) -> Store:
    """A store of Gaussian class clusters (every video with two views), no video files needed.

    ``test_shift`` moves the vectors of the named videos by that much (to change test clips' scores).
    """
    rng = np.random.default_rng(seed)
    store = Store(root)
    centres = {c: rng.normal(0, 1, dim) * 4 for c in CLASSES}
    videos, ids, views, vectors = [], [], [], []
    for label in CLASSES:
        for i in range(videos_per_class):
            video_id = f"{label[:6]}{i:02d}".ljust(16, "0")[:16]
            videos.append({"video_id": video_id, "path": str(root / "clips" / label / f"{i}.mp4"), "label": label,
                           "duration_s": 4.0, "fps": 10.0, "num_frames": 40, "width": 128, "height": 128, "rotation": 0,
                           "codec": "h264", "size_bytes": 1000})
            base = centres[label] + rng.normal(0, 1, dim)
            for view in VIEWS:
                ids.append(video_id)
                views.append(view)
                vectors.append(base + rng.normal(0, 0.3, dim) + (test_shift or {}).get(video_id, 0.0))
    store.record_ingest(videos, [])
    eset = store.ensure_set(backbone="synthetic", weights="random-init", frames=8, sampling="uniform", input_size=32,
                            options={}, dim=dim)
    table = embedding_table(ids, views, [0] * len(ids), [0.0] * len(ids), [4.0] * len(ids), np.array(vectors))
    store.commit_embeddings(eset.set_id, table)
    return store


FAST_AE = "hidden: [16, 8]\nepochs: 30\nbatch_size: 8\nmilestones: [20]\npatience: 30\nlearning_rate: 0.01\n"


@pytest.fixture
def fast_config(tmp_path: Path) -> Path:
    path = tmp_path / "ae.yaml"
    path.write_text(FAST_AE)
    return path


def test_split_keeps_every_video_and_its_views_on_one_side() -> None:
    labels = {f"s{i}": "screw" for i in range(10)} | {f"u{i}": "unscrew" for i in range(6)}
    split = make_split(labels, "screw", ratios=(0.5, 0.2, 0.1, 0.2), seed=3, calibration_others=True)
    assert set(split.parts) == set(labels)  # every video exactly once (a dict: one part per video)
    assert split.counts() == {"train": {"target": 5, "other": 0}, "val": {"target": 2, "other": 0},
                              "calib": {"target": 1, "other": 3}, "test": {"target": 2, "other": 3}}
    assert split == make_split(labels, "screw", ratios=(0.5, 0.2, 0.1, 0.2), seed=3, calibration_others=True)
    assert split.parts != make_split(labels, "screw", ratios=(0.5, 0.2, 0.1, 0.2), seed=4, calibration_others=True).parts
    small = make_split({"a": "screw", "b": "screw", "c": "screw", "u": "unscrew"}, "screw")
    assert sorted(small.parts[v] for v in "abc") == ["calib", "test", "train"]
    with pytest.raises(DetectorError, match="only 2 video"):
        make_split({"a": "screw", "b": "screw", "u": "unscrew"}, "screw")
    with pytest.raises(DetectorError, match="no such class in the set; choose one of screw, unscrew"):
        make_split(labels, "screwdriver")
    with pytest.raises(DetectorError, match="sum to 1"):
        parse_ratios("0.5,0.5,0.5,0.5")


def test_the_stored_split_and_training_rows_follow_source_videos(tmp_path: Path, fast_config: Path) -> None:
    store = synthetic_store(tmp_path / "s")
    report = train_detector(store, "d", target="screw", kind="ae", config_path=fast_config, progress=False)
    split = detector_split(store, "d")
    assert len({r["video_id"] for r in split}) == len(split) == 30
    assert {r["part"] for r in split if r["label"] != "screw"} == {"test"}  # other classes only in test here
    assert report.rows["train"] == 3 * report.split.counts()["train"]["target"]  # every view of a train video, no other
    history = report.detector.model.history
    assert history[-1]["train_loss"] < history[0]["train_loss"] and report.detector.metrics["best_epoch"] >= 1


@pytest.mark.parametrize("rule", ["percentile:95", "f1"])
@pytest.mark.parametrize("kind", ["ae", "knn", "mahalanobis"])
def test_no_test_clip_influences_the_threshold(tmp_path: Path, fast_config: Path, kind: str, rule: str) -> None:
    """Moving every test clip far away changes test scores and metrics, never the threshold."""
    plain = synthetic_store(tmp_path / "a")
    args = dict(target="screw", kind=kind, config_path=fast_config, threshold=rule, calibration_others=True, progress=False)
    first = train_detector(plain, "d", **args)
    test_videos = first.split.videos("test")
    moved = synthetic_store(tmp_path / "b", test_shift={v: 25.0 for v in test_videos})
    second = train_detector(moved, "d", **args)
    assert second.split.parts == first.split.parts
    assert second.detector.threshold == pytest.approx(first.detector.threshold, rel=1e-9)
    assert second.detector.metrics["test_accuracy"] != first.detector.metrics["test_accuracy"] or \
        second.detector.metrics["test_auroc_mean"] != first.detector.metrics["test_auroc_mean"]


def test_threshold_rules() -> None:
    assert best_f1_threshold(np.array([1.0, 2.0, 3.0]), np.array([2.5, 5.0, 6.0])) == 3.0
    assert check_rule("manual:0.5") == "manual:0.5"
    for bad in ("percentile:0", "percentile:abc", "median", "manual:"):
        with pytest.raises(DetectorError, match="use percentile:P"):
            check_rule(bad)


def test_f1_without_calibration_clips_is_refused_and_nothing_is_saved(tmp_path: Path) -> None:
    store = synthetic_store(tmp_path / "s")
    with pytest.raises(DetectorError, match="threshold f1: no labelled calibration clips of other classes"):
        train_detector(store, "d", target="screw", kind="centroid", threshold="f1", progress=False)
    with pytest.raises(DetectorError, match="no held-out calibration videos"):
        train_detector(store, "d", target="screw", kind="centroid", ratios=(0.6, 0.2, 0.0, 0.2), progress=False)
    assert detector_rows(store) == [] and not list(detectors_dir(store).glob("*.pt"))


def test_baselines_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    mixing = rng.normal(0, 1, (3, 8))  # rows near a 3-D subspace of 8-D, so PCA drops some directions
    train = rng.normal(0, 1, (40, 3)) @ mixing + rng.normal(0, 0.05, (40, 8))
    queries = rng.normal(0, 1, (7, 8))
    groups = [f"v{i // 4}" for i in range(40)]
    centroid = CentroidDetector()
    centroid.fit(train, groups)
    np.testing.assert_allclose(centroid.score(queries), np.linalg.norm(queries - train.mean(0), axis=1))
    knn = KnnDetector(k=3)
    knn.fit(train, groups)
    own = ["v2"] * 7
    brute = []
    for q in queries:
        d = np.linalg.norm(train - q, axis=1)
        d[np.array(groups) == "v2"] = np.inf
        brute.append(np.sort(d)[:3].mean())
    np.testing.assert_allclose(knn.score(queries, own), brute)
    maha = MahalanobisDetector()
    maha.fit(train, groups)
    from scipy.spatial.distance import mahalanobis

    np.testing.assert_allclose(maha.score(queries), [mahalanobis(q, maha.location, maha.precision) for q in queries])
    pca = PcaDetector()
    pca.fit(train, groups)
    from sklearn.decomposition import PCA

    reference = PCA(n_components=0.95, svd_solver="full").fit(train)
    rebuilt = reference.inverse_transform(reference.transform(queries))
    assert 0 < pca.components.shape[0] < 8
    np.testing.assert_allclose(pca.score(queries), np.linalg.norm(queries - rebuilt, axis=1), rtol=1e-6)


def test_original_project_configs_are_accepted() -> None:
    if not SEED_DIR.is_dir():
        pytest.skip(f"{SEED_DIR} is absent (shared/ is not in a user's clone)")
    configs = [load_config(p) for p in sorted(SEED_DIR.glob("autoencoder_screw_*.yaml"))]
    assert len(configs) == 2 and {c.target for c in configs} == {"screw"}
    hidden = sorted(c.config.hidden for c in configs)
    assert hidden == [(256, 128), (512, 256, 128)]
    assert {c.config.epochs for c in configs} == {35, 50} and {c.config.dropout for c in configs} == {0.3}
    for loaded in configs:
        assert "dataset.dataset_path" in loaded.ignored and "model.name_time_model" in loaded.ignored
        assert loaded.config.learning_rate == 0.005 and loaded.config.lr_factor == 0.1
    assert any("num_autoencoder_layers is 2 but dim_autoencoder_layers lists 3" in n for c in configs for n in c.notes)


def test_mistyped_and_unknown_config_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("hidden: [8]\nleraning_rate: 0.1\n")
    with pytest.raises(DetectorError, match="unknown key 'leraning_rate' .*did you mean 'learning_rate'"):
        load_config(path)
    path.write_text("model:\n  num_epochs: 3\n")
    with pytest.raises(DetectorError, match="unknown key 'model.num_epochs' .*did you mean 'model.num_epoch'"):
        load_config(path)
    path.write_text("epochs: many\n")
    with pytest.raises(DetectorError, match="epochs = 'many' is not a int"):
        load_config(path)


def test_saved_detector_round_trip_tamper_and_set_change(tmp_path: Path, fast_config: Path) -> None:
    store = synthetic_store(tmp_path / "s")
    report = train_detector(store, "d", target="screw", kind="ae", config_path=fast_config, progress=False)
    loaded, notes = load_detector(store, "d")
    vectors = store.load_vectors(report.detector.set_id)[1]
    np.testing.assert_allclose(loaded.model.score(vectors.astype(np.float64)),
                               report.detector.model.score(vectors.astype(np.float64)), rtol=1e-6)
    assert notes == [] and loaded.threshold == report.detector.threshold
    with pytest.raises(DetectorError, match="exists; pass --force"):
        train_detector(store, "d", target="screw", kind="centroid", progress=False)
    extra = embedding_table(["screw0000000000000"[:16]], ["aug-3"], [0], [0.0], [4.0], np.zeros((1, 12)))
    store.commit_embeddings(report.detector.set_id, extra)
    assert "changed since it was trained" in load_detector(store, "d")[1][0]
    path = detectors_dir(store) / "d.pt"
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(TamperedDetector, match="the file changed since d was trained"):
        load_detector(store, "d")


def test_evaluation_tables_and_plots(tmp_path: Path, fast_config: Path) -> None:
    store = synthetic_store(tmp_path / "s")
    train_detector(store, "d", target="screw", kind="ae", config_path=fast_config, progress=False)
    ev = evaluate_detector(store, "d", vs="unscrew")
    scores = ev.tables["detector_scores"].to_pylist()
    assert len(scores) == 30 and {r["part"] for r in scores} == {"train", "val", "calib", "test"}
    auroc = {r["vs_class"]: r["auroc"] for r in ev.tables["detector_auroc"].to_pylist()}
    assert set(auroc) == {"unscrew", "screw_1234"} and min(auroc.values()) > 0.9  # separated clusters
    kinds = {r["kind"]: r for r in ev.tables["detector_comparison"].to_pylist()}
    assert set(kinds) == {"ae", "centroid", "knn", "pca", "mahalanobis"} and kinds["ae"]["saved"]
    assert {r["class"] for r in ev.tables["detector_report"].to_pylist()} == {"screw", "unscrew"}
    confusion = ev.tables["detector_confusion"].to_pylist()
    assert sum(r["clips"] for r in confusion) == sum(1 for r in scores if r["part"] == "test" and r["label"] in ("screw", "unscrew"))
    assert all(Path(a).stat().st_size > 10_000 for a in ev.run.artifacts) and len(ev.run.artifacts) == 2
    again = evaluate_detector(store, "d", vs="unscrew")
    assert again.reused and again.tables["detector_auroc"].to_pylist() == ev.tables["detector_auroc"].to_pylist()
    with pytest.raises(DetectorError, match="vs 'sideways': no such other class"):
        evaluate_detector(store, "d", vs="sideways")
    from analysis.report import write_report

    page = write_report(store).read_text()
    assert "<h2>Detector d</h2>" in page and "mean_auroc" in page


def test_cli_train_evaluate_list_and_score_a_new_clip(runner: CliRunner, store: Store, videos: Path, demo_root: Path) -> None:
    def run(*args: str):
        return runner.invoke(main, ["--store", str(store.root), *map(str, args)])

    assert run("ingest", videos).exit_code == 0 and run("embed").exit_code == 0
    missing = run("detector", "train", "x", "--target", "screw")  # two videos of screw in this small set
    assert missing.exit_code == 1 and "only 2 video(s)" in missing.stderr
    assert run("detector", "list").stdout.count("\n") <= 2  # nothing was saved
    (videos / "screw" / "extra.mp4").write_bytes((demo_root / "new" / "screw.mp4").read_bytes())
    assert run("ingest", videos).exit_code == 0 and run("embed").exit_code == 0
    assert run("augment", "--views", "1").exit_code == 0
    trained = run("detector", "train", "screw-knn", "--target", "screw", "--kind", "knn")
    assert trained.exit_code == 0, trained.output
    assert "split by video" in trained.stderr and "threshold" in trained.stderr
    evaluated = run("detector", "evaluate", "screw-knn", "--vs", "unscrew", "--format", "csv")
    assert evaluated.exit_code == 0, evaluated.output
    assert "vs_class,auroc" in evaluated.stdout and "kind,saved,threshold" in evaluated.stdout
    listed = run("detector", "list", "--format", "json")
    assert '"screw-knn"' in listed.stdout
    scored = run("score", demo_root / "new" / "unscrew.mp4", "--detector", "screw-knn")
    assert scored.exit_code == 0, scored.output
    first = scored.stdout.splitlines()[0]
    assert "unscrew.mp4: " in first and ("IS screw" in first or "is NOT screw" in first) and "embedded now" in first
    assert len([line for line in scored.stdout.splitlines() if line[:1].isdigit()]) == 5
    unknown = run("score", demo_root / "new" / "unscrew.mp4", "--detector", "nope")
    assert unknown.exit_code == 1 and "no such detector (saved: screw-knn)" in unknown.stderr
