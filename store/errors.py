"""Errors raised by the store: one line each, saying what to do."""


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
