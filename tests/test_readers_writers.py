"""Readers never break writers: a long `sql` query beside a running `embed` (real processes, real DuckDB).

The query works on a snapshot of the catalog, so the embed keeps committing a part per row while it runs.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LOCK_TIMEOUT_S = 10  # the CLI's default --lock-timeout: how long a writer waits for the catalog
QUERY = "SELECT (SELECT count(*) FROM videos) AS videos, count(*) AS n, sum(i % 7) AS s FROM range({n}) t(i)"


def cli(store: Path, *args: str, **popen: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "cli.py", "--store", str(store), *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def rows_for(seconds: float) -> int:
    """How many rows QUERY scans in about ``seconds`` here and now (timed under the sandbox's two threads,
    beside whatever else runs)."""
    n = 600_000_000
    with duckdb.connect(config={"threads": 2}) as con:
        start = time.monotonic()
        con.execute(QUERY.replace("(SELECT count(*) FROM videos)", "0").format(n=n)).fetchall()
        return int(n * seconds / max(time.monotonic() - start, 1e-3))


def expected_sum(n: int) -> int:
    return (n // 7) * 21 + sum(range(n % 7))


def ingested(tmp_path: Path, videos: Path) -> Path:
    store = tmp_path / "store"
    code, _, err = finish(cli(store, "ingest", str(videos)))
    assert code == 0, err
    return store


def sql_answer(out: str) -> list[int]:
    return [int(v) for v in out.strip().splitlines()[1].split(",")]


def committed_during(store: Path, start: float, end: float) -> list[float]:
    """Commit times (part mtimes) of the store's parts within ``[start, end]``, as fractions of that span."""
    times = sorted(p.stat().st_mtime for p in (store / "embeddings").glob("*/part-*.parquet"))
    return [(t - start) / (end - start) for t in times if start <= t <= end]


def test_a_query_longer_than_the_lock_timeout_does_not_fail_a_writer(tmp_path: Path, demo_root: Path) -> None:
    """The writer waits at most 1 s for the catalog; a 6-second query beside it costs it nothing."""
    store = ingested(tmp_path, demo_root / "videos")
    embed = cli(store, "--lock-timeout", "1", "embed", "--backbone", "flow_motion", "--batch-size", "1", "--windows", "1:0.5")
    n = rows_for(6)
    start = time.time()
    code, out, err = finish(cli(store, "sql", "--format", "csv", "--timeout", "120", QUERY.format(n=n)))
    end = time.time()
    assert code == 0, err
    assert sql_answer(out) == [20, n, expected_sum(n)]
    code, _, err = finish(embed)
    assert code == 0, err
    assert committed_during(store, start, end), "the embed committed nothing while the query ran"


def test_a_long_embed_survives_a_minute_long_sql_query_beside_it(tmp_path: Path, demo_root: Path) -> None:
    """Issue 15: an embed committing one part per row runs on, to the last clip, beside a 60-second query."""
    store = ingested(tmp_path, demo_root / "videos")
    embed = cli(store, "embed", "--backbone", "flow_motion", "--batch-size", "1", "--windows", "0.5:0.07")
    time.sleep(2)  # past its imports, into the commits
    n = rows_for(64)  # aim a little past a minute: the rate is timed before the query runs
    assert embed.poll() is None
    start = time.time()
    code, out, err = finish(cli(store, "sql", "--format", "csv", "--timeout", "300", QUERY.format(n=n)))
    end = time.time()
    assert code == 0, err
    assert sql_answer(out) == [20, n, expected_sum(n)]
    assert end - start > 30, f"the query ran {end - start:.0f} s, not about a minute"
    code, _, err = finish(embed)
    assert code == 0, err
    during = committed_during(store, start, end)
    gaps = np.diff([0.0, *during]) * (end - start)
    print(f"query {end - start:.0f} s; embed committed {len(during)} parts during it, to {during[-1]:.0%} of it, "
          f"at most {gaps.max():.1f} s apart")
    assert during[-1] > 0.5 and gaps.max() < LOCK_TIMEOUT_S, "the embed stopped committing while the query ran"
    listed = finish(cli(store, "sql", "--format", "csv", "SELECT count(*), count(DISTINCT (video_id, view, \"window\")) "
                               "FROM emb WHERE view = 'original'"))
    assert listed[0] == 0, listed[2]
    assert sql_answer(listed[1]) == [20, 20]
    replan = finish(cli(store, "embed", "--backbone", "flow_motion", "--batch-size", "1", "--windows", "0.5:0.07"))
    assert replan[0] == 0 and "nothing to embed" in replan[2], replan  # every clip and window is there
