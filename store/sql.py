"""Read-only, sandboxed SQL over the catalog and the views of ``store.sql_views``.

Each query runs on a private in-memory DuckDB holding a snapshot of the catalog's tables (``Catalog.connect``
with ``sandbox``): the catalog file is released before the query runs, so a long query never holds
off a writer, and it answers from the store as it was when it started. Once the views are made, the connection is locked down: no file outside the
store's embeddings is readable, no external access, no extension install or load, and no setting
can change (``lock_configuration``); memory and threads are bounded. A query that runs past its time
limit is interrupted; at most ``limit + 1`` rows are fetched, so the caller can say a limit was hit.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from store.connection import Catalog, one_line
from store.errors import NoSuchSet, ReadOnlySQL, StoreError
from store.manifest import embeddings_dir, set_files
from store.sets import all_sets, get_set
from store.sql_views import create_views

READ_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
SANDBOX = {"autoinstall_known_extensions": False, "autoload_known_extensions": False, "allow_community_extensions": False,
           "memory_limit": "2GB", "threads": 2}


def run_sql(catalog: Catalog, query: str, *, default_backbone: str | None = None, limit: int | None = None,
            timeout_s: float | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run read-only SQL over the catalog and the views (``emb_<set>``...); returns columns and rows
    (at most ``limit + 1`` of them when ``limit`` is given). ``timeout_s`` interrupts a longer query.

    ``emb`` and ``centroids`` alias the set that ``get_set(None, default_backbone=...)`` picks.
    """
    sets = all_sets(catalog)
    try:
        default = get_set(catalog, None, default_backbone=default_backbone).name
    except NoSuchSet:
        default = None
    views = [(s.set_id, s.name, s.dim, set_files(catalog, s.set_id)) for s in sets]
    with catalog.connect(read_only=True, sandbox=SANDBOX) as con:
        statements = _read_statements(con, query)
        create_views(con, views, default)
        _lock_down(con, catalog)
        timer = threading.Timer(timeout_s, con.interrupt) if timeout_s else None
        try:
            if timer is not None:
                timer.start()
            cursor = None
            for statement in statements:
                cursor = con.execute(statement)
            assert cursor is not None
            columns = [d[0] for d in cursor.description] if cursor.description else []
            return columns, cursor.fetchall() if limit is None else cursor.fetchmany(limit + 1)
        except duckdb.InterruptException as exc:
            raise StoreError(f"SQL stopped at its time limit of {timeout_s:g} s; narrow the query or allow more time",
                             param="timeout") from exc
        except duckdb.PermissionException as exc:
            raise ReadOnlySQL(f"refused: {one_line(exc).split(' - ')[0]}; SQL reads only the store's own tables and views")
        except duckdb.Error as exc:
            raise StoreError(f"SQL error: {one_line(exc)}") from exc
        finally:
            if timer is not None:
                timer.cancel()


def _read_statements(con: duckdb.DuckDBPyConnection, query: str) -> list[Any]:
    """The statements of ``query``, refused unless every one only reads."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise StoreError(f"SQL error: {one_line(exc)}") from exc
    if not statements:
        raise StoreError("empty SQL; pass a SELECT statement")
    for statement in statements:
        if statement.type not in READ_STATEMENTS:
            raise ReadOnlySQL(f"refused: {statement.type.name} statement; `actionstore sql` only reads (use SELECT)")
    return statements


def _lock_down(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> None:
    """From here on the connection reads the store's embeddings and nothing else on disk, and keeps its settings."""
    allowed = str(embeddings_dir(catalog)).replace("'", "''").rstrip("/") + "/"
    con.execute(f"SET allowed_directories = ['{allowed}']")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
