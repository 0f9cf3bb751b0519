"""Temporary SQL views that let ad-hoc SQL reach vectors, centroids and distances.

For each set with vectors: ``emb_<name>`` (rows joined to ``videos``, ``vector`` as ``FLOAT[dim]``,
so DuckDB's ``array_distance`` / ``array_cosine_distance`` apply) and ``centroids_<name>``
(``label, n, centroid FLOAT[dim]`` over the original views). ``embeddings`` unions every set
(``vector`` as ``FLOAT[]``). ``emb`` and ``centroids`` alias the default set when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_views(con: duckdb.DuckDBPyConnection, sets: Sequence[tuple[str, str, int, list[Path]]], default: str | None) -> None:
    """Create the views for ``(set_id, name, dim, files)`` sets; ``default`` names the aliased set."""
    parts = []
    for set_id, name, dim, files in sets:
        if not files:
            continue
        listing = ", ".join(_quote(str(f)) for f in files)
        select = (f"SELECT {_quote(set_id)} AS set_id, {_quote(name)} AS set_name, p.video_id, v.label, v.path, "
                  f"p.view, p.window, p.t_start, p.t_end, p.vector::FLOAT[{dim}] AS vector "
                  f"FROM read_parquet([{listing}]) p JOIN videos v USING (video_id)")
        con.execute(f'CREATE TEMP VIEW "emb_{name}" AS {select}')
        con.execute(
            f'CREATE TEMP VIEW "centroids_{name}" AS '
            f"SELECT label, max(n) AS n, array_agg(x ORDER BY i)::FLOAT[{dim}] AS centroid FROM ("
            f"  SELECT label, i, avg(x) AS x, count(*) AS n FROM ("
            f'    SELECT label, unnest(vector::FLOAT[]) AS x, generate_subscripts(vector::FLOAT[], 1) AS i FROM "emb_{name}"'
            f"    WHERE view = 'original') GROUP BY label, i"
            f") GROUP BY label"
        )
        if name == default:
            con.execute(f'CREATE TEMP VIEW emb AS SELECT * FROM "emb_{name}"')
            con.execute(f'CREATE TEMP VIEW centroids AS SELECT * FROM "centroids_{name}"')
        parts.append(select.replace(f"::FLOAT[{dim}] AS vector", "::FLOAT[] AS vector"))
    if parts:
        con.execute(f"CREATE TEMP VIEW embeddings AS {' UNION ALL '.join(parts)}")
