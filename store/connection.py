"""Opening the catalog: the one-writer lock, read-only readers, transactions. Shared safely by threads.

The writer lock is an advisory file lock (``store.locking``) held by one thread of one process.
Its re-entrancy depth is per thread: while one thread writes, the others read through read-only
connections, and another thread may write only by joining it (``Catalog.joined_writer``).
DuckDB refuses, in one process and across processes, a connection whose mode differs from one
already open; both refusals count as "busy" and are retried, with backoff, until the lock timeout.
Readers hold the file briefly: each connection is opened for one read, and the SQL sandbox works on
a snapshot (``connect(sandbox=...)``), so a long reader never makes a writer give up. So that busy
readers cannot starve a writer, connections are opened through a turnstile (``.catalog.gate``): a
read-write open holds it exclusively until it gets in, which holds off new readers meanwhile.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from store.errors import StoreBusy, StoreError, StoreLocked, write_failure
from store.locking import writer_lock
from store.schema import DDL, SCHEMA_VERSION, migrate

# another process; another mode in this process; a sandboxed reader (``sandbox=``) holding the file in this process
BUSY = (duckdb.IOException, duckdb.ConnectionException, duckdb.ResourceInUseException)
RETRY_S = 0.02  # the first wait before trying a busy catalog again; it doubles up to RETRY_MAX_S
RETRY_MAX_S = 0.25


class Catalog:
    """``catalog.duckdb`` in a store directory, and the lock that guards writing to it."""

    def __init__(self, root: Path, lock_timeout_s: float) -> None:
        self.root = root
        self.lock_timeout_s = lock_timeout_s
        self._local = threading.local()  # .depth: writer-lock depth; .open: connections open, in this thread
        self._owner = threading.Condition()  # guards _holder and _joined
        self._holder: int | None = None  # the thread that took the file lock
        self._joined = 0  # other threads inside joined_writer()
        self._one_thread = threading.Lock()  # one thread of this object takes the file lock at a time

    @property
    def path(self) -> Path:
        return self.root / "catalog.duckdb"

    def exists(self) -> bool:
        """True once the catalog has been created."""
        return self.path.is_file()

    @property
    def holds_lock(self) -> bool:
        """True in a thread that holds the writer lock, or has joined the thread that does."""
        return getattr(self._local, "depth", 0) > 0

    @contextmanager
    def _depth(self) -> Iterator[None]:
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock (re-entrant within a thread); creates the store on first use."""
        if self.holds_lock:
            with self._depth():
                yield
            return
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: exists and is not a directory; pass --store with a folder path")
        try:
            with self._holding():
                yield
        except (OSError, duckdb.Error) as exc:  # a full disk or a read-only store: one line naming it
            failure = write_failure(exc, self.root)
            if failure is None:
                raise
            raise failure from exc

    @contextmanager
    def _holding(self) -> Iterator[None]:
        """Take the writer lock (``writing`` outside any lock of this thread)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._one_thread.acquire(timeout=self.lock_timeout_s):
            raise StoreLocked(f"{self.root}: another thread of this process is writing to this store; "
                              "wait for it to finish and try again")
        try:
            with writer_lock(self.root / ".writer.lock", self.lock_timeout_s), self._depth():
                with self._owner:
                    self._holder = threading.get_ident()
                try:
                    self._create_or_migrate()
                    yield
                finally:
                    with self._owner:
                        self._owner.wait_for(lambda: self._joined == 0)  # helpers finish before the lock goes
                        self._holder = None
        finally:
            self._one_thread.release()

    def _create_or_migrate(self) -> None:
        """Create the catalog's tables or bring them to this schema. A catalog file of 0 bytes is a
        creation that never got its header written (a full disk, a kill): it is removed, before and
        after, so the store stays creatable rather than "not a valid DuckDB database file"."""
        self._drop_if_empty()
        try:
            with self.connect(read_only=False) as con:
                con.execute(DDL)
                migrate(con)
                con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        except BaseException:
            self._drop_if_empty()
            raise

    def _drop_if_empty(self) -> None:
        if self.path.is_file() and self.path.stat().st_size == 0 and not self.path.with_name(self.path.name + ".wal").exists():
            self.path.unlink()

    @contextmanager
    def joined_writer(self) -> Iterator[None]:
        """Write from this thread under the lock another thread of this object holds (a helper thread).

        The holder's ``writing()`` block waits for joined threads to leave before it lets go.
        """
        if self.holds_lock:
            with self._depth():
                yield
            return
        with self._owner:
            if self._holder is None:
                raise StoreError("internal: joined_writer() needs another thread to hold Store.writing()")
            self._joined += 1
        try:
            with self._depth():
                yield
        finally:
            with self._owner:
                self._joined -= 1
                self._owner.notify_all()

    @contextmanager
    def connect(self, *, read_only: bool, sandbox: dict[str, Any] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the catalog; retries while it is busy (a writer commits, or readers finish).

        ``sandbox``: a private in-memory DuckDB made with that config, holding a snapshot of the
        catalog's tables as its default database ``catalog``, so settings its caller locks down stay
        on it alone, and the catalog file is held only while the snapshot is copied: a long query
        on it never shuts a writer out."""
        if read_only and not self.exists():
            raise StoreError(f"{self.root}: no store here yet; run `actionstore ingest DIR` first (or pass --store)")
        if not read_only and not self.holds_lock:
            raise StoreError("internal: catalog writes need the writer lock (use Store.writing())")
        deadline = time.monotonic() + self.lock_timeout_s
        opened = getattr(self._local, "open", 0)
        with self._turnstile(fcntl.LOCK_SH if read_only else fcntl.LOCK_EX, deadline, skip=opened > 0 and read_only):
            delay = RETRY_S
            while True:
                try:
                    con = self._open(read_only, sandbox)
                    break
                except BUSY as exc:
                    if write_failure(exc) is not None:  # a full disk or a read-only file: waiting will not help
                        raise
                    if time.monotonic() >= deadline:
                        raise StoreBusy(f"{self.path}: catalog is busy ({one_line(exc)}); try again") from exc
                    time.sleep(delay)
                    delay = min(2 * delay, RETRY_MAX_S)
        self._local.open = opened + 1
        try:
            yield con
        finally:
            con.close()
            self._local.open -= 1

    def _open(self, read_only: bool, sandbox: dict[str, Any] | None) -> duckdb.DuckDBPyConnection:
        if sandbox is None:
            return duckdb.connect(str(self.path), read_only=read_only)
        con = duckdb.connect(":memory:", config=sandbox)
        try:
            con.execute("ATTACH '{}' AS source (READ_ONLY)".format(str(self.path).replace("'", "''")))
            con.execute("ATTACH ':memory:' AS catalog")
            con.execute("COPY FROM DATABASE source TO catalog")
            con.execute("DETACH source")
            con.execute("USE catalog")
        except BaseException:
            con.close()
            raise
        return con

    @contextmanager
    def _turnstile(self, mode: int, deadline: float, *, skip: bool) -> Iterator[None]:
        """Hold the gate file in ``mode`` while opening a connection (``skip``: a nested read, whose
        thread already has the catalog open, goes straight in)."""
        fd = None if skip else self._open_gate(shared=mode == fcntl.LOCK_SH)
        if fd is None:
            yield
            return
        try:
            while True:
                try:
                    fcntl.flock(fd, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusy(f"{self.path}: catalog is busy (a writer is committing); try again") from None
                    time.sleep(RETRY_S / 4)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _open_gate(self, *, shared: bool) -> int | None:
        """The gate file's descriptor. A reader of a store it may not write (a read-only mount, another
        user's store) opens it read-only, or goes in without it: it can hold off no writer there anyway."""
        gate = self.root / ".catalog.gate"
        try:
            return os.open(gate, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            if not shared:
                raise
        try:
            return os.open(gate, os.O_RDONLY)
        except OSError:
            return None

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for reading: read-only, or read-write in a thread that holds the writer lock."""
        with self.connect(read_only=not self.holds_lock) as con:
            yield con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection under the writer lock whose statements commit together, or not at all."""
        with self.writing(), self.connect(read_only=False) as con:
            con.execute("BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read query and return rows as dicts."""
        with self.reading() as con:
            cursor = con.execute(sql, list(params))
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]


def one_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split())
