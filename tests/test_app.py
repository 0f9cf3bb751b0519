"""The application layer: error kinds through real bad calls, plain results, one JSON document per command, check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import app
from app.encode import plain, to_json
from cli import main
from store import Store

ROOT = Path(__file__).resolve().parents[1]


def run(runner: CliRunner, store: Store, *args: str, lock_timeout: float = 10.0):
    return runner.invoke(main, ["--store", str(store.root), "--lock-timeout", str(lock_timeout), *map(str, args)])


@pytest.fixture
def scored_store(store: Store, videos: Path, demo_root: Path) -> Store:
    """Tiny vectors of the demo clips, one augmented view each, and a k-NN screw detector."""
    (videos / "screw" / "extra.mp4").write_bytes((demo_root / "new" / "screw.mp4").read_bytes())
    app.ingest(store, videos, labels_csv=videos / "dataset_info.csv", progress=False)
    app.embed(store, backbone="tiny3d", frames=4, random_init=True, progress=False)
    app.augment(store, views=1, progress=False)
    app.train(store, "screw-knn", target="screw", kind="knn", progress=False)
    return store


def error_line(result) -> str:
    """The one message line of a failed command (progress bars aside)."""
    lines = [line for line in result.stderr.strip().splitlines() if "error: " in line]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    return lines[0]


def test_each_error_kind_from_a_real_bad_call(runner: CliRunner, scored_store: Store) -> None:
    store = scored_store
    with pytest.raises(app.NotFound) as missing:
        app.neighbors(store, store.videos()[0]["video_id"], set_ref="nope")
    assert missing.value.kind == "not_found" and missing.value.param == "set"
    assert str(missing.value).startswith("set 'nope': no such embedding set") and "--" not in str(missing.value)
    line = error_line(run(runner, store, "neighbors", store.videos()[0]["video_id"], "--set", "nope"))
    assert line.startswith("error: --set 'nope': no such embedding set")  # the CLI names its own flag
    assert "no such detector" in error_line(run(runner, store, "score", store.videos()[0]["path"], "--detector", "nope"))
    with pytest.raises(app.InvalidInput) as refused:
        app.sql(store, "DELETE FROM videos")
    assert refused.value.kind == "invalid_input"
    assert "only reads" in error_line(run(runner, store, "sql", "DELETE FROM videos"))
    with pytest.raises(app.InvalidInput) as both:
        app.within(store, radius=1.0, clip="x", centroid="screw")
    assert both.value.param == "centroid"


def test_a_locked_store_is_a_conflict(runner: CliRunner, scored_store: Store, videos: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom store import Store\nwith Store(sys.argv[1]).writing():\n"
         "    print('locked', flush=True); time.sleep(30)", str(scored_store.root)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(app.Conflict) as locked:
            app.ingest(Store(scored_store.root, lock_timeout_s=0.2), videos, progress=False)
        assert locked.value.kind == "conflict"
        line = error_line(run(runner, scored_store, "ingest", videos, lock_timeout=0.2))
        assert line.startswith("error: ") and "another actionstore process is writing" in line
    finally:
        holder.kill()
        holder.wait()


def test_a_bug_is_internal_not_the_users_fault(runner: CliRunner, scored_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Store) -> list:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Store, "sets", broken)
    with pytest.raises(app.Internal) as bug:
        app.list_sets(scored_store)
    assert bug.value.kind == "internal" and isinstance(bug.value.__cause__, ZeroDivisionError)
    line = error_line(run(runner, scored_store, "sets"))
    assert line.startswith("internal error: ZeroDivisionError") and "a bug" in line and "Traceback" not in line


def test_results_are_plain_data(scored_store: Store, demo_root: Path) -> None:
    store = scored_store
    clip = demo_root / "new" / "unscrew.mp4"
    results = [app.list_sets(store), app.neighbors(store, clip, k=3), app.within(store, radius=1e9, centroid="screw"),
               app.score(store, clip, "screw-knn"), app.list_detectors(store), app.sql(store, "SELECT now() AS t, 1.5 AS x"),
               app.analyze(store, "hypersphere"), app.compare(store), app.check(store)]
    for result in results:
        assert json.loads(to_json(result)) == plain(result)


def test_json_output_is_one_document_with_ids(runner: CliRunner, scored_store: Store, demo_root: Path) -> None:
    store = scored_store
    scored = run(runner, store, "score", demo_root / "new" / "unscrew.mp4", "--detector", "screw-knn", "--format", "json")
    assert scored.exit_code == 0, scored.output
    doc = json.loads(scored.stdout)
    assert doc["verdict"] in ("IS screw", "is NOT screw") and doc["is_target"] == (doc["score"] <= doc["threshold"])
    assert doc["threshold_rule"] == "percentile:99" and doc["detector"]["name"] == "screw-knn"
    assert doc["set"]["set_id"] == store.sets()[0].set_id and len(doc["neighbors"]) == 5
    known = {v["video_id"] for v in store.videos()}
    assert all(n["video_id"] in known for n in doc["neighbors"])
    found = json.loads(run(runner, store, "neighbors", demo_root / "new" / "unscrew.mp4", "--format", "json").stdout)
    assert all(n["video_id"] in known for n in found["neighbors"]) and found["embedded_now"]
    embedded = json.loads(run(runner, store, "embed", "--backbone", "tiny3d", "--frames", "4", "--random-init",
                              "--format", "json").stdout)
    assert embedded["model_ran"] is False and embedded["already"] == len(known)
    ingested = json.loads(run(runner, store, "ingest", Path(store.videos()[0]["path"]).parents[1], "--format", "json").stdout)
    assert ingested["unchanged"] == len(known) and ingested["skipped"] == []


def test_check_finds_a_damaged_part_and_a_changed_detector(runner: CliRunner, scored_store: Store) -> None:
    store = scored_store
    result = run(runner, store, "check")
    assert result.exit_code == 0 and "consistent" in result.stderr, result.output
    part = store.set_files(store.sets()[0].set_id)[0]
    part.write_bytes(part.read_bytes()[:100])
    detector_file = next((store.root / "detectors").glob("*.pt"))
    detector_file.write_bytes(detector_file.read_bytes() + b"x")
    result = run(runner, store, "check", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert not doc["ok"] and len(doc["problems"]) == 2
    assert any(str(part) in p and "cannot be read" in p for p in doc["problems"])
    assert any("changed since screw-knn was trained" in p for p in doc["problems"])


def test_sql_tables_keep_the_cells_as_duckdb_gives_them(runner: CliRunner, scored_store: Store) -> None:
    query = "SELECT TIMESTAMP '2024-01-01 10:00:00' AS t, 'nan'::DOUBLE AS x, 1 AS a, 2 AS a"
    assert run(runner, scored_store, "sql", query, "--format", "csv").stdout.splitlines() == [
        "t,x,a,a", "2024-01-01 10:00:00,nan,1,2"]
    assert json.loads(run(runner, scored_store, "sql", query, "--format", "json").stdout) == [
        {"t": "2024-01-01T10:00:00", "x": None, "a": 2}]


def test_a_store_whose_gate_cannot_be_written_is_still_readable(runner: CliRunner, scored_store: Store) -> None:
    gate = scored_store.root / ".catalog.gate"
    gate.unlink()
    gate.mkdir()  # opens read-only only, as on a read-only mount or another user's store
    result = run(runner, scored_store, "sql", "SELECT count(*) AS n FROM videos", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": len(scored_store.videos())}]


def test_bad_values_through_the_app_are_user_errors(scored_store: Store, tmp_path: Path) -> None:
    with pytest.raises(app.InvalidInput, match="analysis 'bogus'"):
        app.analyze(scored_store, "bogus")
    with pytest.raises(app.InvalidInput, match="metric 'bogus'"):
        app.compare(scored_store, metric="bogus")
    with pytest.raises(app.InvalidInput, match="k 0: must be at least 1"):
        app.compare(scored_store, k=0)
    with pytest.raises(app.InvalidInput, match="clips-per-class 0"):
        app.demo_data(tmp_path / "demo", clips_per_class=0)
    binary = tmp_path / "config.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(app.InvalidInput, match="not a text file"):
        app.train(scored_store, "x", target="screw", kind="knn", config_path=binary)
