"""Temporary names for atomic writes: write under one, then ``os.replace`` onto the real name.

A temporary name carries the writing process's id, so ``check --repair`` removes only those whose
process is gone (a crash or a kill) and never one a running writer is still filling.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

TMP_PREFIX = ".tmp-"


def temporary_path(path: Path) -> Path:
    """A sibling of ``path`` under a name no other writer (process or thread) uses."""
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}-{path.name}")


def writer_alive(temporary: Path) -> bool:
    """True when the process that named ``temporary`` still runs (it may still be writing it)."""
    pid = temporary.name[len(TMP_PREFIX):].split("-", 1)[0]
    if not pid.isdigit() or int(pid) <= 0:
        return False  # a name from before temporary names carried the process id
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes (read in chunks)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
