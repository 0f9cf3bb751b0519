"""Errors raised by embedding: one line each, saying what to do."""


class EmbedError(Exception):
    """Base class of embedding errors."""


class UnknownBackbone(EmbedError):
    """A backbone name the registry does not have."""


class BadFrameCount(EmbedError):
    """A frame count the backbone cannot take."""


class WeightsUnavailable(EmbedError):
    """Pretrained weights that cannot be found or loaded (offline, missing file, wrong file)."""
