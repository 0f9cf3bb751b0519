"""Errors raised by embedding: one line each, saying what to do."""


class EmbedError(Exception):
    """Base class of embedding errors."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param  # the argument at fault, as the caller named it (a front end adds its own hint)


class UnknownBackbone(EmbedError):
    """A backbone name the registry does not have."""


class BadFrameCount(EmbedError):
    """A frame count the backbone cannot take."""


class WeightsUnavailable(EmbedError):
    """Pretrained weights that cannot be found or loaded (offline, missing file, wrong file)."""


class TooManyWindows(EmbedError):
    """A clip whose sliding windows would outnumber ``embed.windows.MAX_WINDOWS``."""
