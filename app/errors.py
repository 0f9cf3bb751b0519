"""Error kinds: what every front end maps without reading messages.

Each package below raises its own errors (``IngestError``, ``StoreError``, ``EmbedError``,
``AnalysisError``, ``DetectorError`` and their subclasses). An app job translates whatever escapes
into one of four kinds, keeping the one-line message and the original as ``__cause__``:

- ``NotFound``: an unknown set, clip, detector, backbone, label or weights file (HTTP 404);
- ``InvalidInput``: a bad value or a bad file (422);
- ``Conflict``: the store is busy or locked, its disk is full or it cannot be written, or it holds
  something that disagrees (409);
- ``Internal``: a bug, never presented as the user's mistake (500).

``param`` names the argument at fault (``set``, ``k``...) when the library knows it, so a front end
can add its own hint (a CLI flag, a form field) without the library naming either.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class ActionstoreError(Exception):
    """The base of every error an app job raises; ``kind`` says which of the four it is."""

    kind = "invalid_input"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.param = param


class NotFound(ActionstoreError):
    kind = "not_found"


class InvalidInput(ActionstoreError):
    kind = "invalid_input"


class Conflict(ActionstoreError):
    kind = "conflict"


class Internal(ActionstoreError):
    kind = "internal"


@functools.cache
def library_kinds() -> tuple[tuple[tuple[type[Exception], ...], type[ActionstoreError]], ...]:
    """Which kind each library error class is, most specific first (imported here, when first needed)."""
    from analysis.errors import AnalysisError
    from detector.errors import DetectorError, NoSuchDetector, TamperedDetector
    from embed.errors import EmbedError, UnknownBackbone, WeightsUnavailable
    from ingest.errors import IngestError
    from store.errors import NoSuchSet, NoSuchVideo, StoreBusy, StoreError, StoreFull, StoreLocked, StoreReadOnly

    return (
        ((NoSuchSet, NoSuchVideo, NoSuchDetector, UnknownBackbone, WeightsUnavailable), NotFound),
        ((StoreLocked, StoreBusy, StoreFull, StoreReadOnly, TamperedDetector), Conflict),
        ((IngestError, StoreError, EmbedError, AnalysisError, DetectorError), InvalidInput),
    )


def translate(exc: Exception) -> ActionstoreError:
    """The app error for any exception: library errors keep their message, anything else is Internal."""
    if isinstance(exc, ActionstoreError):
        return exc
    from store.errors import write_failure

    if isinstance(exc, OSError):  # a full disk or a read-only place met outside the store's own writes
        exc = write_failure(exc) or exc
    for types, kind in library_kinds():
        if isinstance(exc, types):
            return kind(str(exc), param=getattr(exc, "param", None))
    return Internal(f"{type(exc).__name__}: {exc}")


def job(fn: F) -> F:
    """Mark an app job: every exception it lets out is one of the four kinds (see ``translate``)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ActionstoreError:
            raise
        except Exception as exc:
            raise translate(exc) from exc

    return wrapper  # type: ignore[return-value]
