"""Detector errors: one line saying what is wrong and what to do."""

from __future__ import annotations


class DetectorError(Exception):
    """A detector cannot be trained, loaded or used as asked."""


class TamperedDetector(DetectorError):
    """A saved detector file no longer matches the checksum recorded when it was trained."""


class NoSuchDetector(DetectorError):
    """A detector name the store has no record of."""
