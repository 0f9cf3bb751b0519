"""``check``: is a store consistent? The manifest against the Parquet parts on disk.

Read-only: problems are reported, never repaired here. Files the manifest does not list (left by a
crash before their commit) are noted, not counted as problems: no reader ever sees them, and the
next write removes them.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from store.atomic import TMP_PREFIX
from store.store import Store

KEY = ("video_id", "view", "window")


def check_store(store: Store) -> tuple[dict[str, int], list[str], list[str]]:
    """``(counts checked, problems, notes)``: every listed part exists, reads, has the set's dimension,
    holds the rows the manifest says, and no key ``(video_id, view, window)`` is stored twice."""
    problems: list[str] = []
    checked = Counter(sets=0, parts=0, vectors=0)
    listed = {r["file"]: r for r in store.query("SELECT set_id, file, num_rows FROM embedding_files")}
    for eset in store.sets():
        checked["sets"] += 1
        keys: Counter[tuple[str, str, int]] = Counter()
        for row in (r for r in listed.values() if r["set_id"] == eset.set_id):
            path = store.root / row["file"]
            checked["parts"] += 1
            try:
                table = pq.read_table(path)
            except (OSError, pa.ArrowException) as exc:
                problems.append(f"{path}: set {eset.name}'s part cannot be read ({' '.join(str(exc).split())[:120]}); "
                                "restore it from a backup")
                continue
            vector = table.schema.field("vector").type if "vector" in table.schema.names else None
            if getattr(vector, "list_size", None) != eset.dim:
                problems.append(f"{path}: holds vectors of type {vector}, but set {eset.name} is {eset.dim}-d")
            if table.num_rows != row["num_rows"]:
                problems.append(f"{path}: {table.num_rows} rows, but the manifest says {row['num_rows']}")
            keys.update(zip(*(table.column(c).to_pylist() for c in KEY)) if set(KEY) <= set(table.schema.names) else [])
            checked["vectors"] += table.num_rows
        doubled = [k for k, n in keys.items() if n > 1]
        if doubled:
            problems.append(f"set {eset.name}: {len(doubled)} row key(s) stored more than once, e.g. {doubled[0]}")
    on_disk = {str(p.relative_to(store.root)) for p in store.embeddings_dir.glob("*/*.parquet")} if store.embeddings_dir.exists() else set()
    unlisted = sorted(on_disk - set(listed))
    notes = [f"{len(unlisted)} unlisted part file(s) (an interrupted write, e.g. {unlisted[0]}): never read, "
             "removed by the next write"] if unlisted else []
    temps = [p for p in store.root.rglob(f"{TMP_PREFIX}*")] if store.root.exists() else []
    if temps:
        notes.append(f"{len(temps)} temporary file(s) from an interrupted write, e.g. {temps[0]}")
    return dict(checked), problems, notes
