"""Errors raised by analyses: one line each, saying what to do."""


class AnalysisError(Exception):
    """An analysis that cannot run on the given set or parameters."""
