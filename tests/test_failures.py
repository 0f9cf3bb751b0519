"""Every user-facing failure is one line saying what to do, and leaves the store as it was (issue 15, item 7):
a full disk, a read-only store, a damaged Parquet part, a detector file of the wrong kind, a special file
where a file is expected. Real processes on real files; the small and read-only disks are real mounts."""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from detector.training import train_detector
from tests.test_detector import synthetic_store

ROOT = Path(__file__).resolve().parents[1]
EMBED = ("embed", "--backbone", "flow_motion", "--batch-size", "4")


def cli(store: Path, *args: object, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", "--store", str(store), *map(str, args)], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr
    return result


def one_line(result: subprocess.CompletedProcess) -> str:
    """The single error line of a failed command (progress bars aside); no traceback, exit code 1."""
    lines = [line for line in result.stderr.splitlines() if "error: " in line]
    assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in lines[0], lines[0]
    return lines[0][lines[0].index("error: "):]


def mount(*args: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small or read-only filesystem needs root")
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount {' '.join(args)} was refused here: {done.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk))
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk: Path, leave_kib: int) -> Path:
    """Fill ``disk`` but ``leave_kib`` KiB with one file (removing it frees the space)."""
    filler = disk / "filler"
    stat = os.statvfs(disk)
    with open(filler, "wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, stat.f_bavail * stat.f_frsize - leave_kib * 1024)
    return filler


def snapshot(store: Path) -> dict[str, object]:
    """What a store holds: its files (names and bytes' digests, the catalog aside) and the catalog's rows."""
    files = {str(p.relative_to(store)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(store.rglob("*"))
             if p.is_file() and not p.name.startswith("catalog.duckdb") and p.name not in (".writer.lock", ".catalog.gate")}
    with duckdb.connect(str(store / "catalog.duckdb"), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        rows = {t: sorted(map(str, con.execute(f"SELECT * EXCLUDE (created_at) FROM {t}" if t in (
            "embedding_files", "embedding_sets") else f"SELECT * FROM {t}").fetchall())) for t in tables}
    return {"files": files, "rows": rows}


def counts(store: Path) -> list[int]:
    """Videos, parts and embedded keys (each counted once) of a store, through `sql`."""
    query = ("SELECT (SELECT count(*) FROM videos), (SELECT count(*) FROM embedding_files), "
             "(SELECT count(DISTINCT (video_id, view, \"window\")) FROM embeddings), (SELECT count(*) FROM embeddings)")
    return [int(v) for v in ok(cli(store, "sql", "--format", "csv", query)).stdout.splitlines()[1].split(",")]


def vectors(store: Path) -> dict[str, list[float]]:
    tables = [pq.read_table(p) for p in sorted((store / "embeddings").glob("*/part-*.parquet"))]
    return {v: np.round(x, 6).tolist() for t in tables for v, x in zip(t["video_id"].to_pylist(), t["vector"].to_pylist())}


def test_embed_and_ingest_on_a_full_disk(small_disk: Path, tmp_path: Path, demo_root: Path) -> None:
    """One line naming the store; nothing half-written; after freeing space the same command completes."""
    videos, store = demo_root / "videos", small_disk / "store"
    filler = fill(small_disk, 0)  # not even the catalog's header fits
    line = one_line(cli(store, "ingest", videos))
    assert line.startswith(f"error: {store}: no space left on the disk; free some space"), line
    assert not (store / "catalog.duckdb").exists()  # no empty catalog left behind to be "not a valid DuckDB file"
    filler.unlink()
    ok(cli(store, "ingest", videos))
    before = snapshot(store)
    filler = fill(small_disk, 64)
    line = one_line(cli(store, *EMBED))
    assert line.startswith(f"error: {store}: no space left on the disk; free some space"), line
    filler.unlink()
    after = snapshot(store)
    after["rows"].pop("embedding_sets")  # the set's definition is recorded before its first part (as a kill leaves it)
    before["rows"].pop("embedding_sets")
    assert after == before  # no part, no manifest row, no temporary file
    ok(cli(store, *EMBED))
    checked = ok(cli(store, "check"))
    assert "consistent" in checked.stdout + checked.stderr
    clip, before = next((videos / "screw").iterdir()), snapshot(store)
    filler = fill(small_disk, 0)  # the first search saves the set's index
    assert one_line(cli(store, "neighbors", clip)).startswith("error: no space left on the disk; free some space")
    filler.unlink()
    assert snapshot(store) == before
    calm = tmp_path / "calm"
    ok(cli(calm, "ingest", videos))
    ok(cli(calm, *EMBED))
    assert counts(store) == counts(calm) and vectors(store) == vectors(calm)


def test_a_read_only_store_refuses_writers_in_one_line_and_still_answers_readers(tmp_path: Path, demo_root: Path) -> None:
    store, mounted = tmp_path / "store", tmp_path / "ro"
    ok(cli(store, "ingest", demo_root / "videos"))
    ok(cli(store, *EMBED))
    before = snapshot(store)
    mounted.mkdir()
    mount("--bind", str(store), str(mounted))
    try:
        mount("-o", "remount,ro,bind", str(mounted))
        for command in (("ingest", demo_root / "videos"), ("augment", "--views", "1")):
            line = one_line(cli(mounted, *command))
            assert line.startswith(f"error: {mounted}: cannot be written (read-only file system); use a store you can "
                                   "write (--store PATH)"), line
        assert "cannot be written" in one_line(cli(mounted / "new", "ingest", demo_root / "videos"))
        assert ok(cli(mounted, "sql", "--format", "csv", "SELECT count(*) FROM videos")).stdout.split() == ["count_star()", "20"]
        found = ok(cli(mounted, "neighbors", demo_root / "new" / "screw.mp4", "-k", "3", "--format", "csv"))
        assert len(found.stdout.splitlines()) == 4 and "cannot save the index (Read-only file system)" in found.stderr
    finally:
        subprocess.run(["umount", str(mounted)], check=True)
    assert snapshot(store) == before


def test_a_damaged_part_is_named_by_neighbors_embed_and_compare(tmp_path: Path, demo_root: Path) -> None:
    store = tmp_path / "store"
    ok(cli(store, "ingest", demo_root / "videos"))
    ok(cli(store, *EMBED))
    part = sorted((store / "embeddings").glob("*/part-*.parquet"))[2]
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    clip = next((demo_root / "videos" / "screw").iterdir())
    for command in (("neighbors", clip, "-k", "3"), EMBED):
        line = one_line(cli(store, *command))
        assert line.startswith(f"error: {part}: a damaged embedding part (") \
            and line.endswith("run `actionstore check` to list every damaged part, and restore them from a backup"), line
    compared = cli(store, "compare")
    notes = [line for line in compared.stderr.splitlines() if "left out" in line]
    assert compared.returncode == 0 and len(notes) == 1 and f"{part.name}: a damaged embedding part" in notes[0], compared.stderr
    assert "Traceback" not in compared.stderr


def test_a_detector_file_of_the_wrong_kind_is_one_line(tmp_path: Path) -> None:
    """A PNG, a pickle or another PyTorch file in a detector's place (its recorded checksum made to match, as a
    restore from the wrong backup would): each refused saying what it is; a changed file is refused by checksum."""
    import torch

    store = synthetic_store(tmp_path / "s")
    train_detector(store, "d", target="screw", kind="centroid", progress=False)
    video_id = store.videos()[0]["video_id"]
    path = store.root / "detectors" / "d.pt"
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    wrong = {"a PNG image, not a detector file": b"\x89PNG\r\n\x1a\n" + bytes(64),
             "a Python pickle, not a detector file": pickle.dumps({"kind": "centroid", "state": {"centre": [0.0]}}),
             "a PyTorch file holding no centroid detector": other.read_bytes()}
    path.write_bytes(wrong["a PNG image, not a detector file"])
    assert one_line(cli(store.root, "score", video_id, "--detector", "d")) == \
        f"error: {path}: the file changed since d was trained (checksum differs); it is refused, train it again"
    for said, data in wrong.items():
        path.write_bytes(data)
        with duckdb.connect(str(store.root / "catalog.duckdb")) as con:
            con.execute("UPDATE detectors SET sha256 = ? WHERE name = 'd'", [hashlib.sha256(data).hexdigest()])
        assert one_line(cli(store.root, "score", video_id, "--detector", "d")) == f"error: {path}: {said}; train d again"


def test_special_files_where_a_file_is_expected(tmp_path: Path, demo_root: Path) -> None:
    """A FIFO or a folder as a config, a clip or a labels file: one line each, and nothing blocks on the FIFO."""
    store = synthetic_store(tmp_path / "s")
    train_detector(store, "d", target="screw", kind="centroid", progress=False)
    store = store.root
    fifo, folder = tmp_path / "pipe.mp4", tmp_path / "folder.mp4"
    os.mkfifo(fifo)
    folder.mkdir()
    line = one_line(cli(store, "detector", "train", "d2", "--target", "screw", "--config", fifo, timeout=30))
    assert line == f"error: --config {fifo}: a special file (FIFO, socket or device), not a file; pass a YAML file", line
    for special in (fifo, folder):  # (click itself refuses a folder as --config)
        for command in (("neighbors", special), ("score", special, "--detector", "d")):
            line = one_line(cli(store, *command, timeout=30))
            assert line == f"error: {special}: {'a folder' if special.is_dir() else 'a special file (FIFO, socket or device)'}" \
                ", not a video file; pass a clip's path or a stored video id", line
        line = one_line(cli(tmp_path / "new", "ingest", demo_root / "videos", "--labels", special, timeout=30))
        assert str(special) in line and "labels" in line, line


def test_training_a_detector_on_a_full_disk(small_disk: Path) -> None:
    store = synthetic_store(small_disk / "store").root
    before = snapshot(store)
    filler = fill(small_disk, 0)
    line = one_line(cli(store, "detector", "train", "d", "--target", "screw", "--kind", "centroid"))
    assert line.startswith(f"error: {store / 'detectors' / 'd.pt'}: no space left on the disk; free some space"), line
    filler.unlink()
    assert snapshot(store) == before  # no model file, temporary file or record
    ok(cli(store, "detector", "train", "d", "--target", "screw", "--kind", "centroid"))
    assert [p.name for p in (store / "detectors").iterdir()] == ["d.pt"]
