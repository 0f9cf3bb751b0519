"""Find the videos of a dataset laid out as ``root/<label>/<file>``."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import IngestError

VIDEO_EXTENSIONS = frozenset(
    {".mov", ".mp4", ".m4v", ".mkv", ".avi", ".webm", ".gif", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts"}
)


@dataclass(frozen=True)
class Discovered:
    """What a walk of a dataset folder found."""

    videos: list[tuple[str, Path]]  # (label, path), sorted, label folders that are links last
    ignored: list[Path]  # not clips: other files, entries beside the label folders, folders named like clips
    unreadable: list[tuple[Path, str]] = field(default_factory=list)  # video names that are no regular file, and why


def is_video_name(path: Path) -> bool:
    """True when the file's extension is a video extension (case-insensitive)."""
    return path.suffix.lower() in VIDEO_EXTENSIONS


def discover(root: str | Path) -> Discovered:
    """Walk ``root/<label>/<file>``; labels are folder names, extensions match case-insensitively.

    Hidden files and folders are skipped. Raises IngestError for a missing root or one with no videos.
    """
    root = Path(root)
    if not root.exists():
        raise IngestError(f"{root}: no such directory; pass the folder that holds one sub-folder per action label")
    if not root.is_dir():
        raise IngestError(f"{root}: not a directory; pass the folder that holds one sub-folder per action label")
    videos: list[tuple[str, Path]] = []
    ignored: list[Path] = []
    unreadable: list[tuple[Path, str]] = []
    for entry in sorted(root.iterdir(), key=lambda e: (e.is_symlink(), e.name)):  # real label folders first
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():  # a file, link or special file beside the label folders
            ignored.append(entry)
            continue
        for path in sorted(entry.rglob("*")):
            if any(part.startswith(".") for part in path.relative_to(entry).parts):
                continue
            if not path.is_file():
                reason = not_a_file(path) if is_video_name(path) else None
                if reason:
                    unreadable.append((path, reason))
                elif is_video_name(path):  # a folder named like a clip: listed, and the walk goes on inside it
                    ignored.append(path)
                continue
            (videos.append((entry.name, path)) if is_video_name(path) else ignored.append(path))
    if not videos and not unreadable:
        raise IngestError(
            f"{root}: no video files found; expected {root}/<label>/<clip>.mp4 (or .mov, .mkv, .avi, .webm, .gif ...)"
        )
    return Discovered(videos=videos, ignored=ignored, unreadable=unreadable)


def not_a_file(path: Path) -> str | None:
    """Why ``path`` (named like a video) is no file to read: a broken or looping link, or a special file;
    None for a folder."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop; point the link at a clip or remove it"
        return f"a symbolic link to nothing ({os.readlink(path)} is gone); fix or remove the link" if path.is_symlink() \
            else f"cannot be read ({exc.strerror}); check its permissions"
    if stat.S_ISDIR(mode):
        return None
    kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device or special file"
    return f"{kind}, not a file; remove it from the dataset"
