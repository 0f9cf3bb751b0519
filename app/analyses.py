"""Analysis jobs: one analysis of a set, the leaderboard of every set, the HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.defaults import DEFAULT_METRIC
from app.errors import InvalidInput, job
from app.results import CompareResult, ReportResult, RunResult, SetInfo
from store import EmbeddingSet, Store

KINDS = ("projection", "centroids", "hypersphere", "separability")


def run_result(result: Any, eset: EmbeddingSet) -> RunResult:
    """An analysis result (or a detector evaluation) of set ``eset`` as plain data: its tables as lists of rows."""
    return RunResult(result.run.run_id, result.run.kind, SetInfo.of(eset), result.reused, dict(result.run.params),
                     list(result.run.notes), [str(p) for p in result.run.artifacts],
                     {name: table.to_pylist() for name, table in result.tables.items()})


@job
def analyze(store: Store, kind: str, *, set_ref: str | None = None, force: bool = False, **params: Any) -> RunResult:
    """Run one analysis (projection, centroids, hypersphere, separability) of a set, or reuse the stored run
    for the same parameters on the unchanged set."""
    from analysis.runner import run_analysis

    if kind not in KINDS:
        raise InvalidInput(f"analysis {kind!r}: choose one of {', '.join(KINDS)}", param="kind")
    result = run_analysis(store, kind, set_ref=set_ref, force=force, **params)
    return run_result(result, result.set)


@job
def compare(store: Store, *, set_refs: Sequence[str] = (), k: int = 1, metric: str = DEFAULT_METRIC,
            force: bool = False) -> CompareResult:
    """The separability leaderboard: every set (or those named) by leave-one-out k-NN accuracy."""
    from analysis.runner import compare as leaderboard

    board, results, skipped = leaderboard(store, set_refs=list(set_refs) or None, k=k, metric=metric, force=force)
    notes = skipped + [f"{r.set.name}: {note}" for r in results for note in r.run.notes]
    return CompareResult(board.to_pylist() if board.num_rows else [], {r.set.name: r.run.run_id for r in results}, notes)


@job
def report(store: Store, *, set_ref: str | None = None, force: bool = False) -> ReportResult:
    """Write one static HTML page (plots and tables) for a set."""
    from analysis.report import write_report
    from embed import resolve_set

    path = write_report(store, set_ref=set_ref, force=force)
    return ReportResult(str(path), SetInfo.of(resolve_set(store, set_ref)))
