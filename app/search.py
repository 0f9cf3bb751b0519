"""Search jobs: the nearest stored clips to a clip, and every stored clip inside a sphere."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from app.defaults import DEFAULT_DEVICE, DEFAULT_K, DEFAULT_METRIC, DEFAULT_VIEWS, views_or_all
from app.errors import job
from app.results import LabelCount, Neighbor, NeighborsResult, SetInfo, WithinResult
from store import Store, counts_by_label

Notify = Callable[[str], None]


@job
def neighbors(store: Store, clip: str, *, set_ref: str | None = None, k: int = DEFAULT_K, metric: str = DEFAULT_METRIC,
              labels: Sequence[str] = (), views: Sequence[str] = DEFAULT_VIEWS, exclude_same_video: bool = False,
              index: str = "auto", weights_path: str | Path | None = None, device: str = DEFAULT_DEVICE,
              notify: Notify | None = None) -> NeighborsResult:
    """The ``k`` stored rows nearest to ``clip``: a stored clip's id or path (its stored vector), or a new file
    (embedded with the set's settings)."""
    from embed import neighbors as find

    found = find(store, clip, set_ref=set_ref, k=k, metric=metric, labels=list(labels) or None,
                 views=views_or_all(views), exclude_same_video=exclude_same_video, kind=index,
                 weights_path=Path(weights_path) if weights_path else None, device=device, notify=notify)
    return NeighborsResult(SetInfo.of(found.set), str(clip), found.query_video_id, found.embedded_now, metric,
                           Neighbor.ranked(found.hits))


@job
def within(store: Store, *, radius: float, clip: str | None = None, centroid: str | None = None,
           set_ref: str | None = None, metric: str = DEFAULT_METRIC, views: Sequence[str] = DEFAULT_VIEWS,
           weights_path: str | Path | None = None, device: str = DEFAULT_DEVICE,
           notify: Notify | None = None) -> WithinResult:
    """Every stored row within ``radius`` of ``clip`` or of label ``centroid``'s centroid (exact, inclusive)."""
    from embed import range_query

    found = range_query(store, radius=radius, clip=clip, centroid=centroid, set_ref=set_ref, metric=metric,
                        views=views_or_all(views), weights_path=Path(weights_path) if weights_path else None,
                        device=device, notify=notify)
    counts = [LabelCount(label, n) for label, n in counts_by_label(found.hits).items()]
    return WithinResult(SetInfo.of(found.set), found.centre, radius, metric, counts, Neighbor.ranked(found.hits))
