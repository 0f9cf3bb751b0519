"""What one ``embed`` run did (filled in by the planner, the engine that ran the tasks, and ``embed_store``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from store import EmbeddingSet


@dataclass
class EmbedReport:
    """What one ``embed`` run did."""

    set: EmbeddingSet
    embedded: int = 0
    already: int = 0
    forwards: int = 0
    files_written: int = 0
    seconds: float = 0.0
    failed: list[tuple[str, str]] = field(default_factory=list)
    short: list[tuple[str, int]] = field(default_factory=list)  # (path, frames it has) for clips under the frames asked
    notes: dict[tuple[str, str, int], str] = field(default_factory=dict)  # row key -> note, decoded and not yet committed
    noted: list[tuple[str, str]] = field(default_factory=list)  # (path, note) of rows committed with a note
