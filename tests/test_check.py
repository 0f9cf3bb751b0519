"""``actionstore check [--repair]`` on a real store: each kind of damage found in one line, derived
things repaired, committed rows never deleted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import faiss
import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import app
from cli import main
from store import Store
from store.index import forget_open_indexes, index_paths

TINY = dict(backbone="tiny3d", frames=4, random_init=True, progress=False)


@pytest.fixture(scope="module")
def built(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the 20 demo clips (tiny3d, parts of 4 rows) whose l2 index is stale (a clip was added
    after it was built) and whose cosine index is current."""
    root = tmp_path_factory.mktemp("check")
    shutil.copytree(demo_root / "videos", root / "videos")
    store = Store(root / "store")
    app.ingest(store, root / "videos", progress=False)
    app.embed(store, batch_size=4, **TINY)
    clip = store.videos()[0]["video_id"]
    app.neighbors(store, clip)
    shutil.copy(demo_root / "new" / "screw.mp4", root / "videos" / "screw" / "extra.mp4")
    app.ingest(store, root / "videos", progress=False)
    app.embed(store, batch_size=4, **TINY)
    app.neighbors(store, clip, metric="cosine")
    return root


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Store:
    """A private copy of the built store (its clips stay where they are)."""
    shutil.copytree(built / "store", tmp_path / "store")
    forget_open_indexes()
    return Store(tmp_path / "store")


def check(store: Store, *args: str) -> tuple[int, list[str], list[str], list[str]]:
    """Exit code, and the problem, note and repaired lines of ``actionstore check``."""
    result = CliRunner().invoke(main, ["--store", str(store.root), "check", *args])
    lines = result.stderr.splitlines()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return (result.exit_code, *([line.split(": ", 1)[1] for line in lines if line.startswith(f"{kind}: ")]
                                for kind in ("problem", "note", "repaired")))


def committed(store: Store) -> list[tuple[str, int, str]]:
    """The manifest: (file, rows, checksum) of every committed part."""
    return [(r["file"], r["num_rows"], r["sha256"]) for r in store.query("SELECT * FROM embedding_files ORDER BY file")]


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def flip_silently(part: Path) -> None:
    """Flip one byte of a part's vector data such that it still reads (its footer whole), with other vectors."""
    column = pq.ParquetFile(part).metadata.row_group(0).column(5)
    start = column.dictionary_page_offset or column.data_page_offset
    data, original = part.read_bytes(), pq.read_table(part).column("vector")
    for offset in range(start + column.total_compressed_size - 1, start, -1):
        part.write_bytes(data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1:])
        try:
            if pq.read_table(part).column("vector") != original:
                return
        except OSError:
            pass
    raise AssertionError(f"{part}: no byte of its vectors flips silently")


def test_a_consistent_store_passes_and_a_stale_index_is_only_a_note(store: Store) -> None:
    code, problems, notes, repaired = check(store)
    assert (code, problems, repaired) == (0, [], [])
    assert [n for n in notes if "l2-auto-original.faiss: the set changed since it was built" in n] == notes[:1]
    assert all(sha for _, _, sha in committed(store)) and len(committed(store)) == 6


def test_repair_fixes_what_is_derived_and_keeps_every_committed_row(store: Store) -> None:
    set_id = store.sets()[0].set_id
    clip = store.videos()[0]["video_id"]
    answer = app.neighbors(store, clip, metric="cosine").neighbors
    before, rows = committed(store), store.sql("SELECT count(*) FROM embeddings")[1]
    parts = store.set_files(set_id)
    cosine = index_paths(store, set_id, "cosine", ("original",), "auto")
    other = np.random.default_rng(0).normal(size=(21, store.sets()[0].dim)).astype(np.float32)
    index = faiss.IndexFlatIP(other.shape[1])
    index.add(other)
    faiss.write_index(index, str(cosine["index"]))  # same size and row count, other vectors
    orphan = parts[0].with_name("part-0123456789abcdef.parquet")
    shutil.copy(parts[1], orphan)
    leftover = cosine["index"].with_name("cosine-flat-original.faiss")
    shutil.copy(cosine["index"], leftover)
    gone = [parts[0].with_name(".tmp-0a1b2c3d4e5f-part-x.parquet"),  # a name from before temp names had a pid
            cosine["index"].with_name(f".tmp-{dead_pid()}-0a1b2c3d4e5f-x.faiss")]
    live = parts[0].with_name(f".tmp-{os.getpid()}-0a1b2c3d4e5f-part-y.parquet")  # this process: a writer still running
    for path in [*gone, live]:
        path.write_bytes(b"half a write")

    code, problems, notes, repaired = check(store)
    assert code == 1 and len(problems) == 4, problems
    assert any(str(cosine["index"]) in p and "check --repair rebuilds it" in p for p in problems)
    assert any(p.startswith("1 part file(s) the manifest does not list") and str(orphan) in p for p in problems)
    assert any(p.startswith("2 temporary file(s) of an interrupted write") for p in problems)
    assert any(p.startswith("1 index file(s) with no record") and str(leftover) in p for p in problems)
    assert any(str(live) in n and "running writer" in n for n in notes)

    code, problems, notes, repaired = check(store, "--repair")
    assert (code, problems) == (0, []), problems
    assert sorted(r for r in repaired if r.startswith("removed ")) == sorted(f"removed {p}" for p in (orphan, leftover, *gone))
    rebuilt = [r for r in repaired if r.startswith("rebuilt index")]
    assert len(rebuilt) == 2 and any("the set changed" in r for r in rebuilt) and any("checksum" in r for r in rebuilt)
    assert len(repaired) == 4 + 2
    assert committed(store) == before and store.sql("SELECT count(*) FROM embeddings")[1] == rows
    assert all(p.is_file() for p in parts) and live.exists() and not any(p.exists() for p in (orphan, leftover, *gone))
    forget_open_indexes()
    assert app.neighbors(store, clip, metric="cosine").neighbors == answer

    code, problems, notes, repaired = check(store)
    assert (code, problems, repaired) == (0, [], []) and not any("changed since it was built" in n for n in notes)


def test_a_damaged_committed_part_is_reported_never_deleted(store: Store, tmp_path: Path) -> None:
    parts = store.set_files(store.sets()[0].set_id)
    backup = tmp_path / "backup"
    backup.mkdir()
    for part in parts:
        shutil.copy(part, backup / part.name)
    before = committed(store)
    parts[0].write_bytes(parts[0].read_bytes()[:-100])  # truncated: no footer
    flip_silently(parts[1])
    parts[2].unlink()
    damaged = [p.read_bytes() if p.exists() else None for p in parts[:3]]

    for args in ((), ("--repair",)):
        code, problems, notes, repaired = check(store, *args)
        assert code == 1
        part_lines = [p for p in problems if p.startswith(str(store.embeddings_dir))]
        assert len(part_lines) == 3 and all("restore it from a backup" in p for p in part_lines), problems
        assert part_lines[0].startswith(str(parts[0])) and "cannot be read" in part_lines[0]
        assert part_lines[1].startswith(str(parts[1])) and "changed since it was committed (SHA-256)" in part_lines[1]
        assert part_lines[2].startswith(str(parts[2])) and "is missing" in part_lines[2]
        assert committed(store) == before and [p.read_bytes() if p.exists() else None for p in parts[:3]] == damaged
    assert any("cannot be rebuilt" in p for p in problems)  # the stale index needs the damaged parts

    for part in parts[:3]:
        shutil.copy(backup / part.name, part)
    assert check(store, "--repair")[:2] == (0, [])
    assert check(store)[:2] == (0, [])


def test_parts_committed_before_checksums_are_noted_and_new_ones_get_one(store: Store, demo_root: Path) -> None:
    with duckdb.connect(str(store.catalog_path)) as con:  # a catalog from before the column existed
        con.execute("ALTER TABLE embedding_files DROP COLUMN sha256")
    code, problems, notes, _ = check(store)
    assert (code, problems) == (0, []) and "6 part(s) committed before checksums were recorded" in notes[-1]
    videos = Path(store.videos()[0]["path"]).parents[1]
    shutil.copy(demo_root / "new" / "unscrew.mp4", videos / "unscrew" / "extra.mp4")
    app.ingest(store, videos, progress=False)
    app.embed(store, batch_size=4, **TINY)
    sums = [sha for _, _, sha in committed(store)]
    assert sums.count(None) == 6 and len(sums) == 7
    code, problems, notes, _ = check(store)
    assert (code, problems) == (0, []) and "6 part(s) committed before checksums" in notes[-1]


def test_a_check_beside_a_running_embed_finds_nothing_wrong(store: Store) -> None:
    """Parts committed while ``check`` reads are never taken for strays, nor a running writer's temporary files."""
    root = Path(__file__).resolve().parents[1]
    writer = subprocess.Popen([sys.executable, "cli.py", "--store", str(store.root), "embed", "--backbone", "flow_motion",
                               "--frames", "16", "--batch-size", "1"], cwd=root, stderr=subprocess.PIPE, text=True)
    results = []
    while writer.poll() is None:
        results.append(app.check(store))
    assert writer.wait() == 0, writer.stderr.read()
    assert len(results) > 1 and all(r.ok for r in results), [r.problems for r in results if not r.ok]
    assert sum(r.checked["parts"] for r in results[1:]) > 6 * (len(results) - 1)  # it saw the new parts come in
