"""Recorded analysis runs: parameters, set and set version, result tables in the catalog, artifacts.

A run's id hashes its kind, set, parameters and the set's version, so the same request on an
unchanged set finds the stored result. Result tables are named ``analysis_<name>`` and carry a
``run_id`` column; a forced re-run replaces its own rows in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from store.errors import StoreError
from store.store import Store

TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Run:
    """A stored analysis run."""

    run_id: str
    kind: str
    set_id: str
    params: dict[str, Any]
    artifacts: list[str]
    notes: list[str]


def run_id_for(kind: str, set_id: str, params: dict[str, Any], version: str) -> str:
    """Stable id of a run request on a given set version."""
    canonical = json.dumps([kind, set_id, params, version], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def find_run(store: Store, kind: str, set_id: str, params: dict[str, Any]) -> Run | None:
    """The stored run for this request on the set as it is now, if any."""
    run_id = run_id_for(kind, set_id, params, store.set_version(set_id))
    rows = store.query("SELECT * FROM analysis_runs WHERE run_id = ?", [run_id])
    if not rows:
        return None
    row = rows[0]
    return Run(row["run_id"], row["kind"], row["set_id"], json.loads(row["params"]), json.loads(row["artifacts"]),
               json.loads(row["notes"]))


def record_run(store: Store, kind: str, set_id: str, params: dict[str, Any], tables: dict[str, pa.Table],
               artifacts: list[str], notes: list[str], *, version: str) -> Run:
    """Store a run and its result tables (replacing a previous run with the same id) in one transaction.

    ``version`` is the set version the results were computed from; if the set changed since, nothing
    is stored and StoreError asks for a re-run.
    """
    for name in tables:
        if not TABLE_NAME.match(name):
            raise StoreError(f"internal: bad result table name {name!r}")
    run_id = run_id_for(kind, set_id, params, version)
    with store.writing():
        if store.set_version(set_id) != version:
            raise StoreError(f"set {set_id} changed while the {kind} analysis ran; run it again")
        with store.transaction() as con:
            con.execute("DELETE FROM analysis_runs WHERE run_id = ?", [run_id])
            con.execute(
                "INSERT INTO analysis_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, kind, set_id, json.dumps(params, sort_keys=True, default=str), version, json.dumps(artifacts),
                 json.dumps(notes), datetime.now(timezone.utc).replace(tzinfo=None)],
            )
            for name, table in tables.items():
                full = f"analysis_{name}"
                table = table.add_column(0, "run_id", pa.array([run_id] * table.num_rows, pa.string()))
                con.register("result", table)
                con.execute(f"CREATE TABLE IF NOT EXISTS {full} AS SELECT * FROM result LIMIT 0")
                con.execute(f"DELETE FROM {full} WHERE run_id = ?", [run_id])
                con.execute(f"INSERT INTO {full} BY NAME SELECT * FROM result")
                con.unregister("result")
    return Run(run_id, kind, set_id, params, artifacts, notes)


def run_table(store: Store, name: str, run_id: str) -> pa.Table:
    """A run's rows of ``analysis_<name>`` (without the run_id column)."""
    if not TABLE_NAME.match(name):
        raise StoreError(f"internal: bad result table name {name!r}")
    with store.reading() as con:
        table = con.sql(f"SELECT * FROM analysis_{name} WHERE run_id = ?", params=[run_id]).to_arrow_table()
    return table.drop_columns(["run_id"])
