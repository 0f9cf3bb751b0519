"""Errors raised by the store: one line each, saying what to do."""

import errno
import os


class StoreError(Exception):
    """Base class of store errors."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param  # the argument at fault, as the caller named it (a front end adds its own hint)


class StoreLocked(StoreError):
    """Another process is writing to the store."""


class NoSuchSet(StoreError):
    """An embedding set reference that names no set, or more than one."""


class ReadOnlySQL(StoreError):
    """A SQL statement that would write, sent where only reading is allowed."""


class StoreBusy(StoreError):
    """The catalog stayed busy (another process had it open) for longer than the store waits."""


class NoSuchVideo(StoreError):
    """A video reference (id or path) that names no catalogued video."""


class DamagedPart(StoreError):
    """A committed Parquet part that cannot be read (truncated, overwritten, not Parquet)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        reason = " ".join(reason.split())
        reason = reason.split(f"{path}'")[-1].strip(" :.") or reason.replace(f" '{path}'", "")  # the path is said once
        super().__init__(f"{path}: a damaged embedding part ({reason[:160]}); run `actionstore check` to list every "
                         "damaged part, and restore them from a backup")


class StoreFull(StoreError):
    """The disk under the store (or a file being written) has no space left."""


class StoreReadOnly(StoreError):
    """The store (or a file being written) cannot be written: a read-only mount, or no permission."""


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def write_failure(exc: BaseException, where: str | os.PathLike[str] | None = None) -> StoreError | None:
    """The one-line error for a write that failed because the disk is full or the place is read-only
    (an ``OSError``, or DuckDB's I/O error saying so); None for any other error.

    It names ``where`` (the store), else the file the error names, if any."""
    code, text = getattr(exc, "errno", None), str(exc)
    where = where or getattr(exc, "filename", None)
    named = f"{where}: " if where else ""
    if code in DISK_FULL or "No space left on device" in text or "Disk quota exceeded" in text:
        return StoreFull(f"{named}no space left on the disk; free some space and run the command again "
                         "(what was committed is kept, nothing half-written is)")
    if code in NOT_WRITABLE or "Read-only file system" in text or "Permission denied" in text:
        why = os.strerror(code) if code in NOT_WRITABLE else "read-only file system" if "Read-only" in text else "permission denied"
        return StoreReadOnly(f"{named}cannot be written ({why.lower()}); use a store you can write "
                             "(--store PATH), or make this place writable")
    return None
