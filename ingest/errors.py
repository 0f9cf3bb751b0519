"""Errors raised by ingest: each message names the file or value and says what to do."""


class IngestError(Exception):
    """Base class of ingest errors; the message is one line meant for the user."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param  # the argument at fault, as the caller named it (a front end adds its own hint)


class UnreadableVideo(IngestError):
    """A file that PyAV cannot open, probe or decode as a video."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
