"""Temporary names for atomic writes: write under one, then ``os.replace`` onto the real name."""

from __future__ import annotations

import uuid
from pathlib import Path

TMP_PREFIX = ".tmp-"


def temporary_path(path: Path) -> Path:
    """A sibling of ``path`` under a name no other writer (process or thread) uses."""
    return path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}-{path.name}")
