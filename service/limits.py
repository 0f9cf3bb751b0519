"""What one service accepts: upload size, clip length, embedding concurrency, SQL bounds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.defaults import MAX_CLIP_S, MAX_UPLOAD_MB, SQL_ROW_LIMIT, SQL_TIME_LIMIT_S

MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = int(MAX_UPLOAD_MB * MB)
    max_duration_s: float = MAX_CLIP_S
    embed_workers: int = 2  # new clips embedded at once
    embed_waiting: int = 32  # more uploads that may wait for a worker; beyond that, 503
    retry_after_s: int = 5
    sql_rows: int = SQL_ROW_LIMIT  # the most a request may ask for (and the default)
    sql_seconds: float = SQL_TIME_LIMIT_S
    upload_dir: Path | None = None  # where uploads are kept while they are served (default: the system's temp dir)
