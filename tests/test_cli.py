"""The CLI through CliRunner: the main flow, output formats, exit codes, and every bad input of issue 3."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from store import Store
from ingest.demo_data import write_clip
from tests.media import truncate, turning_bar, write_audio_only
from tests.test_store import snapshot


def run(runner: CliRunner, store: Store, *args: str):
    return runner.invoke(main, ["--store", str(store.root), *map(str, args)])


@pytest.fixture
def embedded(runner: CliRunner, store: Store, videos: Path) -> Store:
    assert run(runner, store, "ingest", videos, "--labels", videos / "dataset_info.csv").exit_code == 0
    assert run(runner, store, "embed", "--backbone", "tiny3d", "--frames", "4").exit_code == 0
    return store


def assert_one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_main_flow_and_formats(runner: CliRunner, embedded: Store, demo_root: Path) -> None:
    result = run(runner, embedded, "sql", "SELECT label, count(*) AS n FROM videos GROUP BY label ORDER BY label", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 10 and {r["n"] for r in rows} == {"2"}
    result = run(runner, embedded, "sql", "SELECT l.name_it FROM labels l WHERE label = 'screw_1234'", "--format", "json")
    assert json.loads(result.stdout) == [{"name_it": "avvitare_orario"}]
    result = run(runner, embedded, "sets", "--format", "json")
    (only,) = json.loads(result.stdout)
    assert (only["weights"], only["vectors"], only["sql_view"]) == ("random-init", 20, "emb_tiny3d_f4_random")
    result = run(runner, embedded, "neighbors", demo_root / "new" / "screw.mp4", "-k", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["neighbors"]
    assert [r["rank"] for r in found] == [1, 2, 3]
    assert found[0]["distance"] <= found[1]["distance"] <= found[2]["distance"]
    assert "random-init" in result.stderr
    nan = run(runner, embedded, "sql", "SELECT 'nan'::DOUBLE AS x, 'inf'::DOUBLE AS y", "--format", "json")
    assert json.loads(nan.stdout) == [{"x": None, "y": None}]
    table = run(runner, embedded, "sql", "SELECT 1 AS one")
    assert table.stdout.splitlines()[0].strip() == "one"


def test_second_embed_says_nothing_to_do(runner: CliRunner, embedded: Store) -> None:
    result = run(runner, embedded, "embed", "--backbone", "tiny3d", "--frames", "4")
    assert result.exit_code == 0
    assert "nothing to embed" in result.stderr and "no model was run" in result.stderr


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    for command in ("demo-data", "ingest", "embed", "sql", "neighbors", "sets", "errors", "backbones"):
        assert command in result.output


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_ingest_missing_or_empty_directory(runner: CliRunner, embedded: Store, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / kind
    if kind == "empty":
        folder.mkdir()
    before = snapshot(embedded)
    assert_one_line_error(run(runner, embedded, "ingest", folder), str(folder))
    assert snapshot(embedded) == before


@pytest.mark.parametrize("kind", ["zero-byte", "text", "truncated", "audio-only"])
def test_unreadable_files_are_recorded_and_the_rest_goes_on(runner: CliRunner, embedded: Store, videos: Path, kind: str) -> None:
    bad = videos / "screw" / f"bad-{kind}.mp4"
    if kind == "zero-byte":
        bad.write_bytes(b"")
    elif kind == "text":
        bad.write_text("not a video\n")
    elif kind == "truncated":
        truncate(next((videos / "unscrew").glob("*.mp4")), bad, keep=0.6)
    else:
        write_audio_only(bad)
    before = snapshot(embedded)
    result = run(runner, embedded, "ingest", videos)
    assert result.exit_code == 3, result.output
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 1 and str(bad.resolve()) in skipped[0]
    assert "20 unchanged" in result.stderr
    videos_before, _, sets_before, vectors_before = before
    videos_after, errors_after, sets_after, vectors_after = snapshot(embedded)
    assert (videos_after, sets_after, vectors_after) == (videos_before, sets_before, vectors_before)
    assert [e["path"] for e in errors_after] == [str(bad.resolve())]
    listed = run(runner, embedded, "errors", "--format", "json")
    assert json.loads(listed.stdout)[0]["reason"] == errors_after[0]["reason"]


def test_bad_embed_arguments(runner: CliRunner, embedded: Store) -> None:
    before = snapshot(embedded)
    assert_one_line_error(run(runner, embedded, "embed", "--backbone", "nope"), "'nope'", "unknown backbone")
    assert_one_line_error(run(runner, embedded, "embed", "--backbone", "tiny3d", "--frames", "0"), "--frames 0")
    assert snapshot(embedded) == before


def test_sql_errors(runner: CliRunner, embedded: Store) -> None:
    before = snapshot(embedded)
    assert_one_line_error(run(runner, embedded, "sql", "SELEC label FROM videos"), "SQL error", "SELEC")
    assert_one_line_error(run(runner, embedded, "sql", "DELETE FROM videos"), "DELETE", "only reads")
    assert snapshot(embedded) == before


def test_neighbors_of_a_missing_clip(runner: CliRunner, embedded: Store, tmp_path: Path) -> None:
    assert_one_line_error(run(runner, embedded, "neighbors", tmp_path / "nope.mp4"), "nope.mp4", "no such file")


def test_commands_on_an_empty_store_say_what_to_do(runner: CliRunner, store: Store) -> None:
    assert_one_line_error(run(runner, store, "sql", "SELECT 1"), "actionstore ingest")
    assert_one_line_error(run(runner, store, "embed"), "actionstore ingest")


def test_neighbors_of_a_stored_clip_by_id_and_path_with_filters(runner: CliRunner, embedded: Store) -> None:
    video = embedded.videos()[0]
    by_id = run(runner, embedded, "neighbors", video["video_id"], "-k", "3", "--format", "json")
    assert by_id.exit_code == 0, by_id.output
    assert "stored clip" in by_id.stderr
    rows = json.loads(by_id.stdout)["neighbors"]
    assert rows[0]["path"] == video["path"] and rows[0]["distance"] == pytest.approx(0, abs=1e-5)
    excluded = json.loads(run(runner, embedded, "neighbors", video["path"], "-k", "3", "--exclude-same-video",
                              "--format", "json").stdout)["neighbors"]
    assert video["path"] not in [r["path"] for r in excluded]
    labelled = json.loads(run(runner, embedded, "neighbors", video["path"], "-k", "2", "--label", "unscrew",
                              "--metric", "cosine", "--format", "json").stdout)["neighbors"]
    assert {r["label"] for r in labelled} == {"unscrew"}
    assert_one_line_error(run(runner, embedded, "neighbors", video["path"], "-k", "99"), "-k 99", "holds 20")


def test_within_counts_by_label(runner: CliRunner, embedded: Store) -> None:
    result = run(runner, embedded, "within", "--centroid", "screw", "--radius", "1000", "--format", "json")
    assert result.exit_code == 0, result.output
    counts = {r["label"]: r["count"] for r in json.loads(result.stdout)["counts"]}
    assert sum(counts.values()) == 20 and counts["screw"] == 2
    listed = run(runner, embedded, "within", embedded.videos()[0]["video_id"], "--radius", "0", "--list", "--format", "json")
    assert [r["path"] for r in json.loads(listed.stdout)["rows"]] == [embedded.videos()[0]["path"]]
    assert_one_line_error(run(runner, embedded, "within", "--centroid", "screw", "--radius", "-1"), "--radius -1.0")
    assert_one_line_error(run(runner, embedded, "within", "--centroid", "nope", "--radius", "1"), "'nope'")


def test_export_parquet_and_npy(runner: CliRunner, embedded: Store, tmp_path: Path) -> None:
    import numpy as np
    import pyarrow.parquet as pq

    assert run(runner, embedded, "export", "--to", tmp_path / "v.parquet").exit_code == 0
    table = pq.read_table(tmp_path / "v.parquet")
    assert table.num_rows == 20 and {"label", "path", "vector"} <= set(table.column_names)
    assert run(runner, embedded, "export", "--to", tmp_path / "v.npy").exit_code == 0
    matrix = np.load(tmp_path / "v.npy")
    rows = list(csv.DictReader(open(tmp_path / "v.rows.csv")))
    assert matrix.shape == (20, 32) and len(rows) == 20
    np.testing.assert_allclose(matrix[0], np.array(table.column("vector")[0].as_py()), rtol=1e-6)
    assert rows[0]["video_id"] == table.column("video_id")[0].as_py()
    assert_one_line_error(run(runner, embedded, "export", "--to", tmp_path / "v.txt"), "unknown format")
    assert_one_line_error(run(runner, embedded, "export", "--set", "nope", "--to", tmp_path / "x.npy"), "'nope'")


def test_remove_and_prune(runner: CliRunner, embedded: Store, videos: Path) -> None:
    first, second = embedded.videos()[:2]
    assert run(runner, embedded, "remove", first["video_id"]).exit_code == 0
    Path(second["path"]).unlink()
    result = run(runner, embedded, "ingest", videos, "--prune")
    assert "pruned 1 clip(s)" in result.stderr
    remaining = {v["video_id"] for v in embedded.videos()}
    assert second["video_id"] not in remaining and first["video_id"] in remaining  # re-ingested: its file is there
    assert_one_line_error(run(runner, embedded, "remove", "nope"), "nope", "no catalogued video")


def test_analyses_from_the_cli_are_stored_and_queryable(runner: CliRunner, embedded: Store) -> None:
    tsne = run(runner, embedded, "analyze", "tsne", "--perplexity", "5", "--format", "json")
    assert tsne.exit_code == 0, tsne.output
    assert len(json.loads(tsne.stdout)["tables"]["projection"]) == 20 and "plot: " in tsne.stderr
    again = run(runner, embedded, "analyze", "tsne", "--perplexity", "5", "--format", "csv")
    assert "reused stored run" in again.stderr
    centroids = run(runner, embedded, "analyze", "centroids", "--target", "unscrew", "--format", "json")
    assert len(json.loads(centroids.stdout)["tables"]["centroid_matrix"]) == 100
    sphere = run(runner, embedded, "analyze", "hypersphere", "--format", "json")
    assert {r["sphere"] for r in json.loads(sphere.stdout)["tables"]["hypersphere"]} == {"r_far", "r_near"}
    board = run(runner, embedded, "compare", "--format", "json")
    (row,) = json.loads(board.stdout)["leaderboard"]
    assert row["name"] == "tiny3d_f4_random" and 0 <= row["knn_accuracy"] <= 1 and row["clips"] == 20
    counts = run(runner, embedded, "sql", "SELECT kind, count(*) AS n FROM analysis_runs GROUP BY kind ORDER BY kind", "--format", "json")
    assert {r["kind"]: r["n"] for r in json.loads(counts.stdout)} == {
        "centroids": 1, "hypersphere": 1, "projection": 1, "separability": 1}
    assert_one_line_error(run(runner, embedded, "analyze", "tsne", "--classes", "screw,nope"), "--classes nope")
    assert_one_line_error(run(runner, embedded, "analyze", "centroids", "--target", "nope"), "--target 'nope'")


def test_export_refuses_bad_targets_and_writes_uppercase_npy(runner: CliRunner, embedded: Store, tmp_path: Path) -> None:
    (tmp_path / "folder.npy").mkdir()
    assert_one_line_error(run(runner, embedded, "export", "--to", tmp_path / "folder.npy"), "is a folder")
    assert_one_line_error(run(runner, embedded, "export", "--to", embedded.root / "x.parquet"), "inside the store")
    assert run(runner, embedded, "export", "--to", tmp_path / "UPPER.NPY").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["UPPER.NPY", "UPPER.rows.csv"]


def test_embed_says_when_clips_have_fewer_frames_than_asked(runner: CliRunner, store: Store, tmp_path: Path) -> None:
    (tmp_path / "clips" / "turn").mkdir(parents=True)
    write_clip(tmp_path / "clips" / "turn" / "short.mp4", turning_bar(True, count=12))
    write_clip(tmp_path / "clips" / "turn" / "long.mp4", turning_bar(True, count=40))
    assert run(runner, store, "ingest", tmp_path / "clips").exit_code == 0
    result = run(runner, store, "embed")  # the default backbone asks for 32 frames
    assert result.exit_code == 0, result.output
    assert "note: 1 clip(s) have fewer frames than the 32 asked" in result.stderr and "short.mp4: 12" in result.stderr
    _, matrix = store.load_vectors(store.get_set("flow_motion").set_id)
    assert matrix.shape[0] == 2 and np.isfinite(matrix).all()
    refused = run(runner, store, "embed", "--backbone", "flow_motion", "--frames", "24", "--short-clips", "refuse")
    assert refused.exit_code == 3 and "short.mp4: has 12 frames, fewer than the 24 asked" in refused.stderr
    assert store.get_set("flow_motion_f24").num_vectors == 1


def test_names_that_are_not_utf8_are_listed_and_the_rest_is_ingested(runner: CliRunner, store: Store, videos: Path) -> None:
    import os
    import shutil

    clip = next(videos.glob("screw/*.mp4"))
    folder = os.path.join(os.fsencode(videos), b"bad\xff")
    os.mkdir(folder)
    shutil.copy(os.fsencode(next(videos.glob("unscrew/*.mp4"))), os.path.join(folder, b"x.mp4"))
    shutil.move(os.fsencode(clip), os.fsencode(clip.with_name("name")) + b"\xfe.mp4")
    result = run(runner, store, "ingest", videos)
    assert result.exit_code == 3, result.output
    assert len(store.videos()) == 19  # 20 clips, one renamed to bytes that are not UTF-8; the copy is refused too
    errors = {e["path"]: e["reason"] for e in store.errors()}
    assert set(errors) == {f"{videos.resolve()}/bad\\xff/x.mp4", f"{clip.parent.resolve()}/name\\xfe.mp4"}
    assert all("not valid UTF-8; rename it" in reason for reason in errors.values())


def test_links_and_special_files_are_listed_not_dropped(runner: CliRunner, store: Store, videos: Path) -> None:
    import os

    folder = videos / "screw"
    (folder / "loop.mp4").symlink_to("loop.mp4")
    (folder / "dangling.mp4").symlink_to(videos / "gone.mp4")
    os.mkfifo(folder / "pipe.mp4")
    (folder / "folder.mp4").mkdir()
    result = run(runner, store, "ingest", videos)
    assert result.exit_code == 3, result.output
    assert len(store.videos()) == 20
    reasons = {Path(e["path"]).name: e["reason"] for e in store.errors()}
    assert set(reasons) == {"loop.mp4", "dangling.mp4", "pipe.mp4"}
    assert "symbolic link loop" in reasons["loop.mp4"] and "link to nothing" in reasons["dangling.mp4"]
    assert "named pipe (FIFO)" in reasons["pipe.mp4"]
    assert run(runner, store, "embed", "--backbone", "tiny3d", "--frames", "4").exit_code == 0
    assert_one_line_error(run(runner, store, "neighbors", folder / "loop.mp4"), "loop.mp4", "no such file")
