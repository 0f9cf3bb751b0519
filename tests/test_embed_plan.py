"""Planning an embed run (what a set lacks, as picklable tasks) and choosing the engine that runs it."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from embed import EmbedError, embed_store, get_backbone
from embed.plan import EmbedTask, plan_embed, set_settings
from embed.windows import WINDOW_VIEW
from ingest import scan_folder
from store import ORIGINAL_VIEW, Store


def ingest(store: Store, folder: Path) -> None:
    result = scan_folder(folder, progress=False)
    store.record_ingest(result.videos, result.errors)


def tiny(frames: int = 4, windows: str | None = None) -> dict:
    return set_settings(get_backbone("tiny3d"), frames, random_init=True, weights_path=None, windows=windows)


def test_a_plan_lists_what_the_set_lacks_as_picklable_tasks(store: Store, videos: Path) -> None:
    ingest(store, videos)
    plan = plan_embed(store, tiny())
    assert (len(plan.tasks), plan.already, plan.refused, plan.short) == (20, 0, [], [])
    assert {t.view for t in plan.tasks} == {ORIGINAL_VIEW} and all(t.window is None for t in plan.tasks)
    assert {t.video_id for t in plan.tasks} == {v["video_id"] for v in store.videos()}
    assert pickle.loads(pickle.dumps(plan.tasks)) == plan.tasks  # an engine may send them to other processes
    embed_store(store, backbone="tiny3d", frames=4, random_init=True, progress=False)
    again = plan_embed(store, tiny())
    assert (again.tasks, again.already) == ([], 20)


def test_a_plan_with_windows_lists_every_window_and_only_the_missing_ones(store: Store, videos: Path) -> None:
    ingest(store, videos)
    plan = plan_embed(store, tiny(windows="2:1"))
    windows = [t for t in plan.tasks if t.view == WINDOW_VIEW]
    assert len(plan.tasks) == 20 * 4 and len(windows) == 20 * 3  # the demo clips last 4 s: windows at 0, 1 and 2 s
    assert {t.span_s for t in windows} == {(0.0, 2.0), (1.0, 3.0), (2.0, 4.0)}
    assert isinstance(pickle.loads(pickle.dumps(windows[0])), EmbedTask)
    embed_store(store, backbone="tiny3d", frames=4, random_init=True, windows="2:1", progress=False)
    assert plan_embed(store, tiny(windows="2:1")).tasks == []


def test_short_clips_are_planned_repeated_or_refused(store: Store, videos: Path) -> None:
    ingest(store, videos)
    frames = max(v["num_frames"] for v in store.videos()) + 1  # more frames than any demo clip has
    paths = {v["path"] for v in store.videos()}
    repeat = plan_embed(store, tiny(frames))
    assert {path for path, _ in repeat.short} == paths and len(repeat.tasks) == 20
    refuse = plan_embed(store, tiny(frames), short_clips="refuse")
    assert {path for path, _ in refuse.refused} == paths and refuse.short == []
    assert (refuse.tasks, refuse.already) == ([], 0)
    assert all("--short-clips repeat" in reason for _, reason in refuse.refused)
    with pytest.raises(EmbedError, match="short-clips 'maybe': use repeat or refuse"):
        plan_embed(store, tiny(), short_clips="maybe")


def test_an_unknown_engine_is_a_one_line_error_and_writes_nothing(store: Store, videos: Path) -> None:
    ingest(store, videos)
    with pytest.raises(EmbedError, match="engine 'ray': unknown engine; choose one of local"):
        embed_store(store, backbone="tiny3d", frames=4, engine="ray", progress=False)
    assert store.sets() == []
    report = embed_store(store, backbone="tiny3d", frames=4, engine="local", progress=False)
    assert report.embedded == 20
