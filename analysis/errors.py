"""Errors raised by analyses: one line each, saying what to do."""


class AnalysisError(Exception):
    """An analysis that cannot run on the given set or parameters."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param  # the argument at fault, as the caller named it (a front end adds its own hint)
