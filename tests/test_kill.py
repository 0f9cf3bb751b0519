"""Kill harness: ``embed --windows``, ``augment`` and an index build, SIGKILLed at seeded random moments
and resumed with the same command, end as an uninterrupted run does.

Each command runs in a subprocess (``sys.executable cli.py``) with ``--batch-size 1``, so every row is
a commit point; a kill moment is drawn by a seeded RNG over the measured length of an uninterrupted
run, counted in the parts it writes (robust to a machine busier or idler than when it was measured),
so kills land in start-up, between and inside commits, and after the last one. Afterwards: every key is stored
exactly once and equals the uninterrupted run's vector, SQL sees no orphan row, and ``check`` passes
(after ``check --repair`` when the kill left strays, which are allowed but never read).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import app
from store import Store

ROOT = Path(__file__).resolve().parents[1]
FLOW = ["--backbone", "flow_motion", "--frames", "16"]
CLIPS = 4  # 2 labels x 2 clips
KILLS = {"embed": range(10), "augment": range(7), "index": range(5)}  # seeds: one test id each, 22 in all
REPAIRABLE = ("check --repair removes them", "check --repair rebuilds it (a search would too)")


@dataclass
class Scenario:
    """A command, the store it starts from, and what its uninterrupted run left: the part files it wrote,
    ``startup`` seconds until its first one (its whole run, ``seconds``, when it writes none)."""

    args: list[str]
    start: Path
    seconds: float
    startup: float
    new_parts: int
    vectors: dict[tuple[str, str, str, int], np.ndarray]
    views: dict[tuple[str, str], tuple[int, str]]
    stdout: str


def cli(store: Path, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "cli.py", "--store", str(store), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> str:
    """Wait for a command to end; its stdout."""
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0 and not err.count("Traceback"), err
    return out


def parts(store: Path) -> int:
    """Part files on disk (committed or not)."""
    return len(list(store.glob("embeddings/*/part-*.parquet")))


def until_parts(process: subprocess.Popen, store: Path, count: int, deadline: float = math.inf) -> bool:
    """Wait until ``count`` part files are on disk or ``deadline`` (monotonic) passes (True), or the command ends."""
    while process.poll() is None:
        if parts(store) >= count or time.monotonic() >= deadline:
            return True
        time.sleep(0.005)
    return False


def stored(store: Store) -> tuple[dict[tuple[str, str, str, int], np.ndarray], dict[tuple[str, str], tuple[int, str]]]:
    """Every committed row by ``(set_id, video_id, view, window)`` (each key exactly once), and the view records."""
    from store.parquet_parts import read_parts

    vectors, views = {}, {}
    for eset in store.sets():
        table = read_parts(store.set_files(eset.set_id))
        keys = list(zip(*(table.column(c).to_pylist() for c in ("video_id", "view", "window"))))
        assert len(keys) == len(set(keys)), f"set {eset.name}: a key stored twice"
        vectors |= {(eset.set_id, *k): v for k, v in zip(keys, table.column("vector").to_numpy(zero_copy_only=False))}
        views |= {(r["video_id"], r["view"]): (r["seed"], r["recipe"]) for r in store.view_records(eset.set_id).values()}
    return vectors, views


@pytest.fixture(scope="module")
def scenarios(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scenario]:
    """The three commands with their start stores, each run once uninterrupted (timed)."""
    root = tmp_path_factory.mktemp("kill")
    for label in ("screw", "unscrew"):
        shutil.copytree(demo_root / "videos" / label, root / "videos" / label)
    assert len(list((root / "videos").glob("*/*"))) == CLIPS
    ingested, embedded = root / "ingested", root / "embedded"
    app.ingest(Store(ingested), root / "videos", progress=False)
    shutil.copytree(ingested, embedded)
    finish(cli(embedded, ["embed", *FLOW]))
    clip = Store(embedded).videos()[0]["path"]
    neighbors = ["neighbors", clip, "-k", "4", "--format", "json"]
    stale = root / "stale-index"  # an index saved, then a clip added: the killed search rebuilds over the old files
    shutil.copytree(embedded, stale)
    finish(cli(stale, neighbors))
    (root / "more" / "screw").mkdir(parents=True)
    shutil.copy(demo_root / "new" / "screw.mp4", root / "more" / "screw" / "extra.mp4")
    app.ingest(Store(stale), root / "more", progress=False)
    finish(cli(stale, ["embed", *FLOW]))
    commands = {"embed": (["embed", *FLOW, "--windows", "1:1", "--batch-size", "1"], ingested),
                "augment": (["augment", "--views", "2", "--batch-size", "1"], embedded),
                "index": (neighbors, stale)}
    found = {}
    for name, (args, start) in commands.items():
        target = root / f"reference-{name}"
        shutil.copytree(start, target)
        began, before, process = time.monotonic(), parts(target), cli(target, args)
        first = time.monotonic() - began if until_parts(process, target, before + 1) else None
        out = finish(process)
        took = time.monotonic() - began
        found[name] = Scenario(args, start, took, first or took, parts(target) - before, *stored(Store(target)), out)
    return found


def kill(scenario: Scenario, store: Path, seed: int) -> list[str]:
    """Start the command and SIGKILL it at a seeded moment (every third seed: kill its rerun too); how far
    each kill that landed had got (a run that ended first was not killed).

    The moment is drawn over the uninterrupted run, measured in the parts it writes: after ``k`` of them
    (0 to all; a few ms later, so some kills land inside the next commit), and for ``k = 0`` at a random
    point of its start-up. A command that writes no part is killed at a random point of its measured length."""
    rng = random.Random(seed)
    landed, first = [], parts(store)
    for _ in range(1 + (seed % 3 == 1)):
        before = parts(store)
        left = scenario.new_parts - (before - first)
        process = cli(store, scenario.args)
        k = rng.randint(0, left) if left > 0 else None
        if k is None:
            time.sleep(rng.uniform(0.0, 0.8 * scenario.seconds))
        elif k == 0:
            until_parts(process, store, before + 1, time.monotonic() + rng.uniform(0.0, scenario.startup))
        elif until_parts(process, store, before + k):
            time.sleep(rng.uniform(0.0, 0.02))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            landed.append(f"{parts(store) - before} of {left} parts")
        process.communicate()
    return landed


def visible_rows(store: Store) -> int:
    """Rows SQL sees: exactly the manifest's (no orphan's), each key once."""
    listed = app.sql(store, "SELECT coalesce(sum(num_rows), 0) FROM embedding_files").rows[0][0]
    if listed:
        query = 'SELECT count(*), count(DISTINCT (set_id, video_id, view, "window")) FROM embeddings'
        assert app.sql(store, query).rows == [[listed, listed]]
    return listed


def repairable(store: Store) -> bool:
    """Whether ``check`` finds problems, all of them strays or indexes that ``--repair`` fixes."""
    checked = app.check(store)
    assert all(p.endswith(REPAIRABLE) for p in checked.problems), checked.problems
    return not checked.ok


@pytest.mark.parametrize(("name", "seed"), [(name, seed) for name, seeds in KILLS.items() for seed in seeds])
def test_killed_and_resumed_equals_an_uninterrupted_run(scenarios: dict[str, Scenario], name: str, seed: int,
                                                         tmp_path: Path) -> None:
    scenario = scenarios[name]
    shutil.copytree(scenario.start, tmp_path / "store")
    landed = kill(scenario, tmp_path / "store", seed)
    store = Store(tmp_path / "store")
    committed, strays = visible_rows(store), repairable(store)
    out = finish(cli(store.root, scenario.args))  # resumed as the user would: the same command
    if name == "index":
        assert json.loads(out)["neighbors"] == json.loads(scenario.stdout)["neighbors"]
    vectors, views = stored(store)
    assert vectors.keys() == scenario.vectors.keys() and views == scenario.views
    for key, vector in vectors.items():
        np.testing.assert_allclose(vector, scenario.vectors[key], rtol=1e-5, atol=1e-6, err_msg=str(key))
    assert visible_rows(store) == len(vectors)
    if repairable(store):  # strays a kill left: never read, removed by --repair
        assert app.check(store, repair=True).ok and app.check(store).ok
        assert stored(store)[0].keys() == vectors.keys()
    print(f"{name} seed {seed}: killed at {landed or 'none (the run ended first)'} "
          f"({committed} rows committed; strays: {strays})")
