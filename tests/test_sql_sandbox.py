"""Hostile SQL (issue 15, item 6): only the store's own tables, views and files are readable; rows and time are bounded."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from store import Store
from tests.test_cli import assert_one_line_error, embedded, run  # noqa: F401 - the fixture
from tests.test_store import snapshot


@pytest.fixture
def outside(tmp_path: Path) -> dict[str, Path]:
    """Files beside the store that SQL must not reach."""
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\nroot,hunter2\n")
    table = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), table)
    return {"csv": secret, "parquet": table, "folder": tmp_path}


HOSTILE = [
    "SELECT * FROM read_csv('{csv}')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('{csv}')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('{folder}/**')",
    "SELECT * FROM read_parquet('{parquet}')",
    "SELECT * FROM '{csv}'",
    "SELECT * FROM read_json('https://example.com/x.json')",
    "SET enable_external_access = true",
    "SET autoinstall_known_extensions = true",
    "INSTALL httpfs",
    "LOAD httpfs",
    "INSTALL vss FROM 'http://example.com'",
    "ATTACH '{folder}/x.db' AS x",
    "COPY (SELECT 1) TO '{folder}/out.csv'",
    "PRAGMA memory_limit='100GB'",
]


@pytest.mark.parametrize("statement", HOSTILE)
def test_hostile_sql_is_refused_in_one_line(runner: CliRunner, embedded: Store, outside: dict[str, Path],  # noqa: F811
                                             statement: str) -> None:
    before = snapshot(embedded)
    result = run(runner, embedded, "sql", statement.format(**outside))
    assert_one_line_error(result)
    assert "hunter2" not in result.output and "root:" not in result.output
    assert snapshot(embedded) == before
    assert not (outside["folder"] / "out.csv").exists() and not (outside["folder"] / "x.db").exists()


def test_the_stores_own_views_and_parts_stay_readable(runner: CliRunner, embedded: Store) -> None:  # noqa: F811
    eset = embedded.sets()[0]
    part = embedded.set_files(eset.set_id)[0]
    result = run(runner, embedded, "sql", f"SELECT count(*) AS n FROM read_parquet('{part}')", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert int(result.stdout.splitlines()[1]) == pq.read_metadata(part).num_rows
    views = run(runner, embedded, "sql", "SELECT count(*) AS n FROM emb JOIN centroids USING (label)", "--format", "csv")
    assert views.exit_code == 0 and views.stdout.splitlines()[1] == "20"


def test_rows_and_time_are_bounded_and_said(runner: CliRunner, embedded: Store) -> None:  # noqa: F811
    capped = run(runner, embedded, "sql", "SELECT * FROM range(100000)", "--limit", "7", "--format", "csv")
    assert capped.exit_code == 0 and len(capped.stdout.splitlines()) == 1 + 7
    assert "stopped at the row limit of 7 rows" in capped.stderr
    whole = run(runner, embedded, "sql", "SELECT * FROM range(5)", "--limit", "7")
    assert "row limit" not in whole.stderr
    slow = run(runner, embedded, "sql", "SELECT sum(a.range * b.range) FROM range(300000) a, range(300000) b", "--timeout", "0.5")
    assert_one_line_error(slow, "time limit of 0.5 s")
