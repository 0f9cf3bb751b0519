"""The synthetic demo dataset and the original project's labels CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest import IngestError, probe, read_labels_csv
from ingest.demo_data import DEMO_CLASSES, plan_for, render_clip, trajectory
from tests.conftest import SEED_DIR


def test_demo_dataset_has_ten_classes_of_real_clips_some_rotated(demo_root: Path) -> None:
    folders = sorted(p.name for p in (demo_root / "videos").iterdir() if p.is_dir())
    assert folders == sorted(DEMO_CLASSES)
    infos = [probe(p) for p in sorted((demo_root / "videos").glob("*/*.*")) if p.suffix != ".csv"]
    assert len(infos) == 20 and {i.codec for i in infos} == {"h264"}
    assert {i.num_frames for i in infos} == {40}
    rotated = [i for i in infos if i.rotation]
    assert rotated and all(i.path.endswith(".MOV") and (i.width, i.height) == (112, 144) for i in rotated)
    assert sorted(p.name for p in (demo_root / "new").iterdir()) == sorted(f"{c}.mp4" for c in DEMO_CLASSES)


def test_demo_clips_are_seeded_and_classes_differ() -> None:
    assert np.array_equal(render_clip("screw", 3), render_clip("screw", 3))
    assert not np.array_equal(render_clip("screw", 3), render_clip("screw", 4))



@pytest.mark.parametrize("label", ["screw_1234", "screw_1432", "screw_2413", "screw_1342"])
def test_order_classes_visit_the_screws_in_their_order(label: str) -> None:
    rng = np.random.default_rng(0)
    plan = plan_for(label, rng)
    screws = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    positions, angles = trajectory(plan, screws, 1.0, 2, rng)
    at_screw = [int(np.argmin(np.linalg.norm(screws - p, axis=1))) for p in positions
                if np.min(np.linalg.norm(screws - p, axis=1)) < 1e-9]
    visited = [s for i, s in enumerate(at_screw) if i == 0 or s != at_screw[i - 1]]
    assert "".join(str(s + 1) for s in visited) == label[-4:]
    assert np.all(np.diff(angles) >= 0)  # screwing turns clockwise (image y points down)


def test_turning_sense_of_screw_and_unscrew() -> None:
    rng = np.random.default_rng(0)
    for label, sign in (("screw", 1), ("unscrew", -1), ("screw_allenkey_1", 1), ("unscrew_allenkey_2", -1)):
        plan = plan_for(label, rng)
        _, angles = trajectory(plan, np.zeros((4, 2)), 1.0, 0, rng)
        assert np.all(np.sign(np.diff(angles)) == sign), label


def test_demo_labels_csv_has_the_original_shape(demo_root: Path) -> None:
    names = {n.label: n for n in read_labels_csv(demo_root / "videos" / "dataset_info.csv")}
    assert set(names) == set(DEMO_CLASSES)
    assert (names["unscrew"].name_it, names["unscrew"].name_en, names["unscrew"].class_index) == ("svitare", "unscrew", 3)


def test_original_labels_csv_imports() -> None:
    path = SEED_DIR / "dataset_info.csv"
    if not path.is_file():
        pytest.skip(f"{path} not present (only the project's CI and dev machines have ../shared)")
    names = {n.label: n for n in read_labels_csv(path)}
    assert len(names) == 10
    assert (names["avvitare_orario"].name_en, names["avvitare_orario"].class_index) == ("screw_1234", 8)


def test_bad_labels_csv(tmp_path: Path) -> None:
    bad = tmp_path / "labels.csv"
    bad.write_text("name,path\nx,y\n")
    with pytest.raises(IngestError, match="missing column.*CLASS"):
        read_labels_csv(bad)
    with pytest.raises(IngestError, match="no such labels file"):
        read_labels_csv(tmp_path / "none.csv")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\navvitare,7\n", "fewer than 4 fields"),
        ("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\navvitare,²,avvitare/a.mp4,screw\n", "LABEL '²' is not a class number"),
        ("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\navvitare,99999999999,avvitare/a.mp4,screw\n", "is not a class number"),
        ("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\navvitare,7,a.mp4,screw\n", "has no label folder"),
        ("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\n", "no rows"),
    ],
)
def test_malformed_labels_rows_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        read_labels_csv(path)


def test_labels_csv_saved_by_a_spreadsheet_in_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\nsvitare però,3,svitare/a.mp4,unscrew\n".encode("cp1252"))
    (names,) = read_labels_csv(path)
    assert (names.label, names.name_it, names.class_index) == ("svitare", "svitare però", 3)


@pytest.mark.parametrize("content, message", [
    ("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\navvitare,0,screw/a.mp4,screw\nsvitare,0,screw/b.mp4,screw\n",
     r"labels.csv:3: label 'screw' is named 'svitare'/'screw' \(LABEL 0\) here but 'avvitare'/'screw' \(LABEL 0\) on line 2"),
    ("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\nx,0,../../etc/a.mp4,x\n", r"labels.csv:2: PATH_VIDEO '../../etc/a.mp4' leaves the dataset"),
    ("CLASS,LABEL,PATH_VIDEO,ENG_CLASS\nx,0,/etc/a.mp4,x\n", r"labels.csv:2: PATH_VIDEO '/etc/a.mp4' leaves the dataset"),
])
def test_labels_csv_defects_are_refused_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(content)
    with pytest.raises(IngestError, match=message):
        read_labels_csv(path)


def test_formula_looking_names_go_out_as_text_and_come_back(tmp_path: Path) -> None:
    from ingest.labels import write_labels_csv

    path = tmp_path / "out.csv"
    write_labels_csv(path, [("=HYPERLINK(\"http://x\")", 0, "screw/a.mp4", "+screw"), ("svitare", 1, "unscrew/b.mp4", "unscrew")])
    lines = path.read_text().splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(") and ",'+screw" in lines[1]
    names = {n.label: n for n in read_labels_csv(path)}
    assert (names["screw"].name_it, names["screw"].name_en) == ("=HYPERLINK(\"http://x\")", "+screw")
