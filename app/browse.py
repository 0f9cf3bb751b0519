"""Browsing the catalog: pages of stored clips, one clip by id, and what a new clip file is."""

from __future__ import annotations

import re
from pathlib import Path

from app.errors import InvalidInput, NotFound, job
from app.results import ClipProbe, VideoPage
from store import Store

VIDEO_ID = re.compile(r"[0-9a-f]{16}")
PAGE_LIMIT = 100  # clips a page holds by default
MAX_PAGE_LIMIT = 1000


@job
def list_videos(store: Store, *, label: str | None = None, limit: int = PAGE_LIMIT, offset: int = 0) -> VideoPage:
    """Catalogued clips ordered by label then path, ``limit`` from ``offset`` (optionally one label's), with the total."""
    if not 1 <= limit <= MAX_PAGE_LIMIT or offset < 0:
        raise InvalidInput(f"limit {limit} / offset {offset}: limit must be 1-{MAX_PAGE_LIMIT}, offset 0 or more", param="limit")
    where, params = ("WHERE label = ?", [label]) if label is not None else ("", [])
    total = store.query(f"SELECT count(*) AS n FROM videos {where}", params)[0]["n"]
    rows = store.query(f"SELECT * FROM videos {where} ORDER BY label, path LIMIT ? OFFSET ?", [*params, limit, offset])
    return VideoPage(total, limit, offset, rows)


@job
def get_video(store: Store, video_id: str) -> dict:
    """The catalogued clip with this id (16 hex digits; never a path, so no file is looked at)."""
    if not VIDEO_ID.fullmatch(video_id):
        raise InvalidInput(f"{video_id!r} is not a video id (16 lowercase hex digits, as `actionstore sql` shows)",
                           param="video")
    found = store.find_video(video_id)
    if found is None:
        raise NotFound(f"no stored clip has id {video_id}", param="video")
    return found


@job
def probe_clip(path: str | Path) -> ClipProbe:
    """Duration, frames and size of a clip file, proving it plays (a file that is not a video is InvalidInput)."""
    from ingest import probe

    info = probe(path)
    return ClipProbe(info.duration_s, info.fps, info.num_frames, info.width, info.height, info.size_bytes)
