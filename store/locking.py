"""The one-writer rule: an exclusive advisory lock on a file in the store directory."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.errors import StoreLocked


@contextmanager
def writer_lock(path: Path, timeout_s: float) -> Iterator[None]:
    """Hold an exclusive lock on ``path``; wait up to ``timeout_s`` for another writer, then fail."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreLocked(
                        f"{path.parent}: another actionstore process is writing to this store; "
                        "wait for it to finish (or stop it) and run the command again"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
