"""Progress bars on stderr: live on a terminal, a line every few seconds in logs."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

LOG_INTERVAL_S = 10.0


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str, unit: str, enabled: bool = True) -> tqdm:
    """A tqdm bar; when stderr is not a terminal it redraws at most every 10 s so logs stay short."""
    interactive = sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled, file=sys.stderr,
                mininterval=0.1 if interactive else LOG_INTERVAL_S, dynamic_ncols=interactive)
