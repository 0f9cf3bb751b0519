"""The bad-input corpus (tests/bad_corpus.py) through the CLI, as a user would meet it.

One run (module fixture) writes the corpus and calls real ``actionstore`` processes: ``ingest``, ``embed``
(flow_motion, 16 frames), ``ingest`` again with ``--format json``, ``embed`` again, ``check``. Then every kind
is checked against its expected outcome, and every labels CSV defect is ingested on its own.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ingest import read_labels_csv
from ingest.labels import FORMULA_START
from store import Store
from tests.bad_corpus import LABEL_SPECS, VIDEO_SPECS, Case, make_corpus

ROOT = Path(__file__).resolve().parents[1]
EMBED = ("embed", "--backbone", "flow_motion", "--frames", "16", "--batch-size", "8")

def actionstore(store: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", "--store", str(store), *args], cwd=ROOT, capture_output=True,
                          encoding="utf-8", timeout=300)


def printable(path: str) -> str:
    """A path as the catalog stores it: undecodable bytes as ``\\xNN``."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass
class Run:
    """The corpus and what the CLI made of it."""

    root: Path
    store: Path
    cases: dict[str, Case]
    ingest: subprocess.CompletedProcess
    embed: subprocess.CompletedProcess
    again: subprocess.CompletedProcess
    embed_again: subprocess.CompletedProcess
    check: subprocess.CompletedProcess
    catalogs: list[tuple[list, list]]  # (videos, errors) after each ingest and embed
    embedded: list[str]  # the video id of every original-view row in the set's parts
    notes: dict[str, str]  # video id: its note in embed_notes

    def rows(self, case: Case) -> dict[str, dict[str, Any]]:
        """The case's file's rows at the end, by table: ``videos`` and ``errors`` (either may be missing)."""
        path = case.files[0]
        keys = {printable(os.path.abspath(path)), printable(os.path.realpath(path))}
        videos, errors = self.catalogs[-1]
        return {table: row for table, rows in (("videos", videos), ("errors", errors)) for row in rows if row["path"] in keys}

    def refusal(self, path: str) -> str | None:
        return next((s["reason"] for s in json.loads(self.embed.stdout)["skipped"] if s["path"] == path), None)


def catalog_of(store: Path) -> tuple[list, list]:
    """Every catalogued video, and every recorded error's path, stage and reason."""
    catalog = Store(store)
    videos = [dict(r) for r in catalog.videos()]
    return videos, [{k: r[k] for k in ("path", "stage", "reason")} for r in catalog.errors()]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("bad")
    cases = {case.kind: case for case in make_corpus(root / "corpus")}
    store = root / "store"
    ingest = actionstore(store, "ingest", str(root / "corpus" / "videos"))
    catalogs = [catalog_of(store)]
    embed = actionstore(store, *EMBED, "--format", "json")
    catalogs.append(catalog_of(store))
    again = actionstore(store, "ingest", str(root / "corpus" / "videos"), "--format", "json")
    catalogs.append(catalog_of(store))
    embed_again = actionstore(store, *EMBED, "--format", "json")
    check = actionstore(store, "check")
    catalogs.append(catalog_of(store))
    set_id = json.loads(embed.stdout)["set"]["set_id"]
    embedded = Store(store).load_vectors(set_id)[0].column("video_id").to_pylist()
    notes = {n["video_id"]: n["note"] for n in Store(store).notes()}
    return Run(root / "corpus", store, cases, ingest, embed, again, embed_again, check, catalogs, embedded, notes)


def test_ingest_lists_every_bad_file_in_one_line_and_goes_on(run: Run) -> None:
    assert run.ingest.returncode == 3, run.ingest.stderr
    assert "Traceback" not in run.ingest.stderr
    skipped = [line for line in run.ingest.stderr.splitlines() if line.startswith("skipped: ")]
    videos, errors = run.catalogs[0]
    assert sorted(skipped) == sorted(f"skipped: {e['path']}: {e['reason']}" for e in errors)
    assert len(videos) >= 40 and len(errors) >= 40
    shown = json.loads(actionstore(run.store, "errors", "--format", "json").stdout)
    notes = [e for e in shown if e["stage"].startswith("note: ")]
    assert [{k: e[k] for k in ("path", "stage", "reason")} for e in shown if e not in notes] == run.catalogs[-1][1]
    assert sorted(e["reason"] for e in notes) == sorted(run.notes.values())


def test_a_second_ingest_and_embed_change_nothing(run: Run) -> None:
    """Nor does the second ingest drop the refusals the embed between them recorded."""
    assert run.again.returncode == 3, run.again.stderr
    result = json.loads(run.again.stdout)
    assert (result["new"], result["moved"], result["changed"]) == (0, 0, 0)
    assert result["unchanged"] == result["clips"] == len(run.catalogs[0][0])
    embedded, *later = run.catalogs[1:]
    for videos, errors in later:
        assert [(v["video_id"], v["path"], v["ingested_at"]) for v in videos] == \
            [(v["video_id"], v["path"], v["ingested_at"]) for v in embedded[0]]
        assert errors == embedded[1]


def test_embed_embeds_every_clip_once_and_a_second_embed_runs_no_model(run: Run) -> None:
    result = json.loads(run.embed.stdout)
    assert run.embed.returncode == (3 if result["skipped"] else 0), run.embed.stderr
    assert "Traceback" not in run.embed.stderr + run.embed_again.stderr
    refused = {s["path"] for s in result["skipped"]}
    assert len(run.embedded) == len(set(run.embedded)), "a clip was embedded twice"
    assert set(run.embedded) == {v["video_id"] for v in run.catalogs[-1][0] if v["path"] not in refused}
    again = json.loads(run.embed_again.stdout)
    assert (again["embedded"], again["forwards"], again["already"]) == (0, 0, len(run.embedded))
    assert run.embed_again.returncode == run.embed.returncode


def test_check_passes(run: Run) -> None:
    assert run.check.returncode == 0, run.check.stdout + run.check.stderr
    assert "consistent" in run.check.stderr


def _matches(row: dict[str, Any], facts: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The facts a catalogue row gets wrong, as ``{column: (expected, stored)}``."""
    wrong = {}
    for column, want in facts.items():
        have = row[column]
        ok = want[0] <= have <= want[1] if isinstance(want, tuple) else have == want
        if not ok:
            wrong[column] = (want, have)
    return wrong


def _one_line_with(reason: str, keywords: tuple[str, ...]) -> bool:
    return "\n" not in reason and "Traceback" not in reason and any(k in reason.lower() for k in keywords)


@pytest.mark.parametrize("kind", [spec[0] for spec in VIDEO_SPECS])
def test_kind_has_its_expected_outcome(run: Run, kind: str) -> None:
    case = run.cases[kind]
    rows = run.rows(case)
    path, again = case.files[0].as_posix(), json.loads(run.again.stdout)
    ignored = any(p == path or p.startswith(path + "/") for p in again["ignored"])
    ingest_notes = {n["path"]: n["note"] for n in again["notes"]}
    if case.outcome in ("catalogued", "noted", "refused"):
        assert "videos" in rows, f"{kind}: expected catalogued, got {rows}"
        row, error = rows["videos"], rows.get("errors")
        assert not _matches(row, case.facts), f"{kind}: wrong facts {_matches(row, case.facts)}"
        refusal = run.refusal(row["path"])
        if case.outcome != "refused":
            assert row["video_id"] in run.embedded and (refusal, error) == (None, None), f"{kind}: not embedded: {refusal}"
            note = run.notes.get(row["video_id"]) if case.outcome == "noted" else ingest_notes.get(row["path"])
            assert (note is not None) == bool(case.keywords), f"{kind}: note {note!r}"
            assert note is None or _one_line_with(note, case.keywords), note
        else:
            assert refusal is not None and row["video_id"] not in run.embedded, f"{kind}: embedded, not refused"
            assert _one_line_with(refusal, case.keywords) and re.search(r"\d", refusal), f"{kind}: {refusal}"
            assert error is not None and error["stage"].startswith("embed") and error["reason"] == refusal, error
    elif case.outcome == "error":
        assert list(rows) == ["errors"], f"{kind}: expected an ingest error, got {rows}"
        row = rows["errors"]
        assert row["stage"] == "ingest" and _one_line_with(row["reason"], case.keywords), f"{kind}: {row['reason']}"
    else:
        assert (rows, ignored) == ({}, case.outcome == "ignored"), f"{kind}: expected {case.outcome}, got {rows}"


@pytest.mark.parametrize("kind", [spec[0] for spec in LABEL_SPECS])
def test_labels_csv_kind(run: Run, kind: str, tmp_path: Path) -> None:
    """Each defect is one line naming the CSV, and nothing is stored; a good CSV gives each label its names."""
    case = run.cases[kind]
    store = tmp_path / "store"
    result = CliRunner().invoke(main, ["--store", str(store), "ingest", str(run.root / "labelled"), "--labels", str(case.files[0])])
    if case.outcome == "labels_error":
        lines = [line for line in result.stderr.splitlines() if "probing" not in line]
        assert result.exit_code == 1 and len(lines) == 1, result.stderr
        reason = lines[0].removeprefix(f"error: {case.files[0]}")  # the file's name holds its kind's words
        assert reason != lines[0] and _one_line_with(reason, case.keywords), lines[0]
        assert not (store / "catalog.duckdb").exists() or not Store(store).videos()
    else:
        assert result.exit_code == 0, result.output
        names = {r["label"]: (r["name_en"], r["name_it"]) for r in Store(store).query("SELECT * FROM labels")}
        assert names == case.facts
        exported = CliRunner().invoke(main, ["--store", str(store), "dataset", "export", str(tmp_path / "out.csv")])
        assert exported.exit_code == 0, exported.output
        with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:  # a spreadsheet runs no cell as a formula
            assert not [cell for row in csv.reader(handle) for cell in row if cell.startswith(FORMULA_START)]
        assert {n.label: (n.name_en, n.name_it) for n in read_labels_csv(tmp_path / "out.csv")} == case.facts


def test_a_clip_that_turns_bad_leaves_the_catalogue_and_comes_back_when_restored(run: Run, tmp_path: Path) -> None:
    """Its vectors stay: restored, the clip is catalogued under its old id and embed runs no model."""
    dataset = tmp_path / "videos"
    shutil.copytree(run.root / "labelled", dataset)
    clip = (dataset / "screw" / "a.mp4").resolve()
    good = clip.read_bytes()

    def cli(*args: str) -> Any:
        return CliRunner().invoke(main, ["--store", str(tmp_path / "store"), *args])

    assert cli("ingest", str(dataset)).exit_code == 0 and cli(*EMBED).exit_code == 0
    clip.write_bytes(good[: len(good) // 3])
    bad = cli("ingest", str(dataset))
    assert bad.exit_code == 3 and f"skipped: {clip}: " in bad.stderr and "left out until the file reads again" in bad.stderr
    assert [v["path"] for v in Store(tmp_path / "store").videos()] == [str(dataset.resolve() / "unscrew" / "b.mp4")]
    clip.write_bytes(good)
    assert cli("ingest", str(dataset)).exit_code == 0
    again = cli(*EMBED, "--format", "json")
    assert (again.exit_code, json.loads(again.stdout)["forwards"]) == (0, 0)
    assert not Store(tmp_path / "store").errors()
