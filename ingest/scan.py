"""Scan a dataset folder: discover, probe and hash every clip; unreadable files become errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest.discover import discover
from ingest.errors import UnreadableVideo
from ingest.probe import content_hash, probe
from ingest.progress import progress as progress_bar


@dataclass
class ScanResult:
    """Catalog rows for the readable clips, ``(path, reason)`` for the rest, and the paths ignored (not clips, or
    reached twice)."""

    videos: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)


def scan_folder(root: str | Path, *, progress: bool = True) -> ScanResult:
    """Probe every video under ``root/<label>/``; one bad file never stops the others.

    A second file with the same bytes as one already found is reported as an error (stored once); a file
    reached again through a link (a label folder linking to another) is probed once, and listed as ignored.
    """
    found = discover(root)
    result = ScanResult(ignored=found.ignored, errors=[(_printable(str(p.absolute())), _printable(why)) for p, why in found.unreadable])
    seen: dict[str, str] = {}
    reached: set[str] = set()
    for label, path in progress_bar(found.videos, desc="probing", unit="clip", enabled=progress):
        resolved = str(path.resolve())
        if resolved in reached:
            result.ignored.append(path)
            continue
        reached.add(resolved)
        if not _utf8(resolved):
            result.errors.append((_printable(resolved), "the file or folder name is not valid UTF-8; rename it (the catalog "
                                  "stores names as text), then ingest again"))
            continue
        try:
            info = probe(path)
        except UnreadableVideo as exc:
            result.errors.append((resolved, exc.reason))
            continue
        video_id = content_hash(path)
        if video_id in seen:
            result.errors.append((resolved, f"same bytes as {seen[video_id]}; a clip is stored once, delete the copy"))
            continue
        seen[video_id] = resolved
        result.videos.append(asdict(info) | {"path": resolved, "label": label, "video_id": video_id})
    return result


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a name of undecodable bytes, carried as surrogates (PEP 383)
        return False
    return True


def _printable(path: str) -> str:
    """A path with its undecodable bytes shown as ``\\xNN``, so it can be stored and shown as text."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
