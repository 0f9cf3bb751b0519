"""Detector errors: one line saying what is wrong and what to do."""

from __future__ import annotations


class DetectorError(Exception):
    """A detector cannot be trained, loaded or used as asked."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param  # the argument at fault, as the caller named it (a front end adds its own hint)


class TamperedDetector(DetectorError):
    """A saved detector file no longer matches the checksum recorded when it was trained."""


class NoSuchDetector(DetectorError):
    """A detector name the store has no record of."""
