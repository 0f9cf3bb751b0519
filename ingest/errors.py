"""Errors raised by ingest: each message names the file or value and says what to do."""


class IngestError(Exception):
    """Base class of ingest errors; the message is one line meant for the user."""


class UnreadableVideo(IngestError):
    """A file that PyAV cannot open, probe or decode as a video."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
