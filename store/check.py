"""``check``: is a store consistent? The manifest against its Parquet parts, the saved indexes, strays.

Looked at: every listed part exists, reads whole (a part can have a valid footer but damaged pages),
has the set's dimension, the manifest's row count and the SHA-256 recorded at its commit (parts
committed before checksums were recorded are noted), and no key ``(video_id, view, window)`` is
stored twice; every saved index is whole (record, checksum, rows, dimension) and current; files no
manifest lists (parts, index files) and temporary files left by an interrupted write.

``repair`` (under the writer lock) removes strays and the temporary files of writers that are gone,
and rebuilds stale or damaged indexes. It never deletes a committed row: a damaged or missing part is
reported with what to do. A stale index is a note, not a problem: the next search rebuilds it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from store.atomic import TMP_PREFIX, writer_alive
from store.errors import StoreError
from store.index import IndexDamaged, IndexStale, read_saved, rebuild_saved, saved_indexes
from store.sets import EmbeddingSet
from store.store import Store

KEY = ("video_id", "view", "window")
RESTORE = "restore it from a backup (check --repair never deletes committed rows)"


@dataclass
class CheckReport:
    """What was looked at (counts), problems (each one line, saying what to do), notes, and what was repaired."""

    checked: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def check_store(store: Store, *, repair: bool = False) -> CheckReport:
    """Check the store (see the module's doc); with ``repair``, also fix what is derived or stray."""
    if not store.exists():  # before ``writing()``, which would create one
        raise StoreError(f"{store.root}: no store here yet; pass --store with the store to check")
    report = CheckReport()
    report.checked.update(sets=0, parts=0, vectors=0, indexes=0)
    with store.writing() if repair else nullcontext():  # repairing: no commit happens meanwhile
        # a part is renamed into place, then listed: the files are seen before the manifest is read, so a
        # commit in between (a writer beside a read-only check) does not make a committed part look stray
        on_disk = sorted(store.embeddings_dir.glob("*/part-*.parquet"))
        listed = {r["file"]: r for r in store.query("SELECT * FROM embedding_files")}
        sets = {s.set_id: s for s in store.sets()}
        for eset in sets.values():
            _check_set(store, eset, [r for r in listed.values() if r["set_id"] == eset.set_id], report)
        _check_strays(store, [p for p in on_disk if str(p.relative_to(store.root)) not in listed], report, repair)
        _check_indexes(store, sets, report, repair)
    unsummed = sum(1 for r in listed.values() if not r.get("sha256"))
    if unsummed:
        report.notes.append(f"{unsummed} part(s) committed before checksums were recorded: their existence, row "
                            "count and readability are checked, their bytes are not")
    return report


def _check_set(store: Store, eset: EmbeddingSet, rows: list[dict], report: CheckReport) -> None:
    """One set's listed parts: present, readable whole, the recorded checksum, dimension and rows; keys once."""
    report.checked["sets"] += 1
    keys: Counter[tuple[str, str, int]] = Counter()
    for row in rows:
        path = store.root / row["file"]
        report.checked["parts"] += 1
        if not path.is_file():
            report.problems.append(f"{path}: set {eset.name}'s part ({row['num_rows']} rows) is missing; {RESTORE}")
            continue
        try:
            data = path.read_bytes()  # read once: hashed, then parsed whole
            table = pq.read_table(pa.BufferReader(data))
        except (OSError, pa.ArrowException) as exc:
            report.problems.append(f"{path}: set {eset.name}'s part cannot be read "
                                   f"({' '.join(str(exc).split())[:120]}); {RESTORE}")
            continue
        if row.get("sha256") and hashlib.sha256(data).hexdigest() != row["sha256"]:
            report.problems.append(f"{path}: set {eset.name}'s part changed since it was committed (SHA-256); {RESTORE}")
        vector = table.schema.field("vector").type if "vector" in table.schema.names else None
        if getattr(vector, "list_size", None) != eset.dim:
            report.problems.append(f"{path}: holds vectors of type {vector}, but set {eset.name} is {eset.dim}-d")
        if table.num_rows != row["num_rows"]:
            report.problems.append(f"{path}: {table.num_rows} rows, but the manifest says {row['num_rows']}")
        if set(KEY) <= set(table.schema.names):
            keys.update(zip(*(table.column(c).to_pylist() for c in KEY)))
        report.checked["vectors"] += table.num_rows
    doubled = [k for k, n in keys.items() if n > 1]
    if doubled:
        report.problems.append(f"set {eset.name}: {len(doubled)} row key(s) stored more than once, e.g. {doubled[0]}")


def _check_strays(store: Store, unlisted: list[Path], report: CheckReport, repair: bool) -> None:
    """Parts no manifest lists (a crash between write and commit) and temporary files of gone writers."""
    temps = sorted(store.root.rglob(f"{TMP_PREFIX}*"))
    live = [p for p in temps if writer_alive(p)]
    if live:
        report.notes.append(f"{len(live)} temporary file(s) of a running writer, e.g. {live[0]}: left alone")
    _strays(unlisted, "part file(s) the manifest does not list (an interrupted write; never read)", report, repair)
    _strays([p for p in temps if p not in live], "temporary file(s) of an interrupted write", report, repair)


def _check_indexes(store: Store, sets: dict[str, EmbeddingSet], report: CheckReport, repair: bool) -> None:
    """Each saved index: of a known set, whole and current; a damaged or stale one is rebuilt by ``repair``."""
    saved = saved_indexes(store)
    indexed = {p for _, paths in saved for p in paths.values()}
    folder = store.root / "indexes"
    leftover = [p for p in folder.glob("*/*") if p not in indexed and not p.name.startswith(TMP_PREFIX)] \
        if folder.is_dir() else []
    _strays(sorted(leftover), "index file(s) with no record (an interrupted build, or of no set)", report, repair)
    for set_id, paths in saved:
        report.checked["indexes"] += 1
        if set_id not in sets:
            _strays(sorted(p for p in paths.values() if p.exists()), f"index file(s) of no set ({set_id})", report, repair)
            continue
        try:
            read_saved(paths, store.set_version(set_id), sets[set_id].dim)
        except IndexStale as exc:
            found: StoreError = exc
            if not repair:
                report.notes.append(f"{exc}: the next search rebuilds it (or check --repair)")
        except IndexDamaged as exc:
            found = exc
            if not repair:
                report.problems.append(f"{exc}; check --repair rebuilds it (a search would too)")
        else:
            continue
        if repair:
            _rebuild(store, set_id, paths, str(found), report)


def _rebuild(store: Store, set_id: str, paths: dict[str, Path], why: str, report: CheckReport) -> None:
    """Rebuild a saved index in place; one whose record is unreadable is removed (a search builds it anew)."""
    try:
        rebuild_saved(store, set_id, paths)
    except IndexDamaged:
        _strays(sorted(p for p in paths.values() if p.exists()), "", report, repair=True)
        return
    except (StoreError, OSError, RuntimeError, pa.ArrowException) as exc:
        report.problems.append(f"index {paths['index']}: cannot be rebuilt ({' '.join(str(exc).split())[:160]}); "
                               "fix the problems above, then run check --repair again")
        return
    report.repaired.append(f"rebuilt {why}")


def _strays(paths: list[Path], what: str, report: CheckReport, repair: bool) -> None:
    """Files nothing reads: one problem line for them all, or (``repair``) removed, one line each."""
    if not paths:
        return
    if not repair:
        report.problems.append(f"{len(paths)} {what}, e.g. {paths[0]}; check --repair removes them")
        return
    for path in paths:
        path.unlink(missing_ok=True)
        report.repaired.append(f"removed {path}")
