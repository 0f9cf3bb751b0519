"""Read-only SQL over the catalog and the views of ``store.sql_views``."""

from __future__ import annotations

from typing import Any

import duckdb

from store.connection import Catalog, one_line
from store.errors import NoSuchSet, ReadOnlySQL, StoreError
from store.manifest import set_files
from store.sets import all_sets, get_set
from store.sql_views import create_views

READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def run_sql(catalog: Catalog, query: str, *, default_backbone: str | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run read-only SQL over the catalog and the views (``emb_<set>``...); returns columns and rows.

    ``emb`` and ``centroids`` alias the set that ``get_set(None, default_backbone=...)`` picks. The
    views are temporary, on this call's own connection.
    """
    sets = all_sets(catalog)
    try:
        default = get_set(catalog, None, default_backbone=default_backbone).name
    except NoSuchSet:
        default = None
    views = [(s.set_id, s.name, s.dim, set_files(catalog, s.set_id)) for s in sets]
    with catalog.connect(read_only=True) as con:
        try:
            statements = con.extract_statements(query)
        except duckdb.Error as exc:
            raise StoreError(f"SQL error: {one_line(exc)}") from exc
        if not statements:
            raise StoreError("empty SQL; pass a SELECT statement")
        for statement in statements:
            if statement.type not in READ_STATEMENTS:
                raise ReadOnlySQL(f"refused: {statement.type.name} statement; `actionstore sql` only reads (use SELECT)")
        create_views(con, views, default)
        try:
            cursor = None
            for statement in statements:
                cursor = con.execute(statement)
            assert cursor is not None
            columns = [d[0] for d in cursor.description] if cursor.description else []
            return columns, cursor.fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"SQL error: {one_line(exc)}") from exc
