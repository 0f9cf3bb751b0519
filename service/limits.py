"""What one service accepts: upload size, clip length, embedding concurrency, SQL bounds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.defaults import SQL_ROW_LIMIT, SQL_TIME_LIMIT_S

MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 64 * MB
    max_duration_s: float = 60.0
    embed_workers: int = 2  # new clips embedded at once
    embed_waiting: int = 32  # more uploads that may wait for a worker; beyond that, 503
    retry_after_s: int = 5
    sql_rows: int = SQL_ROW_LIMIT  # the most a request may ask for (and the default)
    sql_seconds: float = SQL_TIME_LIMIT_S
    upload_dir: Path | None = None  # where uploads are kept while they are served (default: the system's temp dir)
