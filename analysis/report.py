"""A static, self-contained HTML report of one set: leaderboard row, plots and tables."""

from __future__ import annotations

import base64
import html
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from analysis.runner import AnalysisResult, run_analysis
from embed.sets import resolve_set
from store import Store
from store.runs import run_table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; display: block; overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f3f3f3; }
td.text { text-align: left; min-width: 8em; } img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #8a5a00; } .meta { color: #555; }
"""


def write_report(store: Store, *, set_ref: str | None = None, force: bool = False) -> Path:
    """Run (or reuse) every analysis of the set and write ``artifacts/report-<set>.html``; return its path."""
    eset = resolve_set(store, set_ref)
    runs = {kind: run_analysis(store, kind, set_ref=eset.set_id, force=force)
            for kind in ("separability", "projection", "centroids", "hypersphere")}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"<h1>actionstore report: {_e(eset.name)}</h1>",
        f"<p class='meta'>set {_e(eset.set_id)} &middot; backbone {_e(eset.backbone)} &middot; weights "
        f"<b>{_e(eset.weights)}</b> &middot; {eset.frames} frames &middot; dim {eset.dim} &middot; "
        f"{eset.num_vectors} vectors &middot; written {stamp}</p>",
        "<h2>Separability</h2>", _table(runs["separability"].tables["separability"].drop_columns(["set_id", "name"])),
        "<h2>Map</h2>", *_images(runs["projection"]),
        "<h2>Centroids</h2>", *_images(runs["centroids"]), _matrix(runs["centroids"].tables["centroid_matrix"]),
        "<h2>Hyperspheres</h2>", *_images(runs["hypersphere"]), _table(runs["hypersphere"].tables["hypersphere"]),
    ]
    parts += _detector_sections(store, eset.set_id)
    notes = [note for run in runs.values() for note in run.run.notes]
    if notes:
        parts += ["<h2>Notes</h2>", "<ul>", *(f"<li class='note'>{_e(n)}</li>" for n in notes), "</ul>"]
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>actionstore: {_e(eset.name)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
    path = store.artifacts_dir / f"report-{eset.name}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def _detector_sections(store: Store, set_id: str) -> list[str]:
    """The latest evaluation of every detector trained on the set (``actionstore detector evaluate``)."""
    rows = store.query("SELECT run_id, params, artifacts FROM analysis_runs WHERE kind = 'detector_evaluation' "
                       "AND set_id = ? ORDER BY created_at DESC", [set_id])
    latest: dict[str, dict] = {}
    for row in rows:
        latest.setdefault(json.loads(row["params"])["detector"], row)
    parts = []
    for name, row in sorted(latest.items()):
        images = [Path(a) for a in json.loads(row["artifacts"]) if Path(a).is_file()]
        parts += [f"<h2>Detector {_e(name)}</h2>",
                  "<h3>Every detector kind on its split (test videos only)</h3>", _table(run_table(store, "detector_comparison", row["run_id"])),
                  "<h3>AUROC of the target against each class</h3>", _table(run_table(store, "detector_auroc", row["run_id"])),
                  *(_img(p) for p in images)]
    return parts


def _e(value: object) -> str:
    return html.escape(str(value))


def _images(result: AnalysisResult) -> list[str]:
    """The run's PNGs inlined as data URIs, so the page stands alone."""
    return [_img(p) for p in result.artifacts]


def _img(path: Path) -> str:
    """A PNG inlined as a data URI."""
    return f"<img alt='{_e(path.stem)}' src='data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}'>"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"<td>{value:.4g}</td>"
    if isinstance(value, int):
        return f"<td>{value}</td>"
    return f"<td class='text'>{_e('' if value is None else value)}</td>"


def _table(table: pa.Table) -> str:
    """An HTML table; a single row is shown as field/value pairs, which reads better."""
    if table.num_rows == 1:
        row = table.to_pylist()[0]
        body = "".join(f"<tr><th>{_e(name)}</th>{_cell(value)}</tr>" for name, value in row.items())
        return f"<table>{body}</table>"
    head = "".join(f"<th>{_e(c)}</th>" for c in table.column_names)
    rows = "".join(f"<tr>{''.join(_cell(v) for v in row.values())}</tr>" for row in table.to_pylist())
    return f"<table><tr>{head}</tr>{rows}</table>"


def _matrix(table: pa.Table) -> str:
    """The long centroid-distance table as a square one."""
    labels = sorted(set(table.column("label_a").to_pylist()))
    values = {(r["label_a"], r["label_b"]): r["distance"] for r in table.to_pylist()}
    square = pa.table({"": labels} | {b: [values[(a, b)] for a in labels] for b in labels})
    return _table(square)
